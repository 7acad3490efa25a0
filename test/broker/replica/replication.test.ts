import { expect } from "chai";
import { ReplicaCluster } from "./harness.ts";

/** A 3-broker cluster with t-0 led by broker 1 (epoch 1, ISR [1,2,3]). */
function started(options: ConstructorParameters<typeof ReplicaCluster>[0] = {}): ReplicaCluster {
  const cluster = new ReplicaCluster(options);
  cluster.updateMetadata();
  cluster.runFor(20);
  cluster.leaderAndIsr({ leader: 1, leaderEpoch: 1, isr: cluster.brokerIds });
  cluster.runFor(50);
  return cluster;
}

describe("ReplicaManager: replication", () => {
  it("followers copy the leader's log; the HW advances on the leader, then on the followers", () => {
    const cluster = started();
    const ids = ["a", "b", "c"].map((v) => cluster.producer.produce(1, v));
    expect(cluster.runUntil(() => ids.every((id) => cluster.producer.responses.has(id)), 5000)).to.equal(true);
    expect(ids.map((id) => cluster.producer.error(id))).to.deep.equal(["NONE", "NONE", "NONE"]);
    expect(cluster.partition(1)!.log.highWatermark).to.equal(3);
    // Followers learn the HW on their next fetch (within replica.fetch.wait.max.ms).
    expect(cluster.runUntil(() => [2, 3].every((id) => cluster.partition(id)!.log.highWatermark === 3), 2000)).to.equal(true);
    for (const id of [1, 2, 3]) expect(cluster.values(id)).to.deep.equal(["a", "b", "c"]);
    const leaderHwm = cluster.eventsOf("hwm", "broker-1").map((e) => e.highWatermark as number);
    expect(leaderHwm.at(-1)).to.equal(3);
    expect(leaderHwm.every((hw, i) => i === 0 || hw > leaderHwm[i - 1])).to.equal(true);
    const followerHwm = cluster.eventsOf("hwm", "broker-2");
    expect(followerHwm.at(-1)).to.include({ highWatermark: 3, role: "follower" });
    expect(cluster.eventsOf("fetch", "broker-2").reduce((n, e) => n + (e.records as number), 0)).to.equal(3);
    expect(cluster.eventsOf("become-leader", "broker-1")).to.have.length(1);
    expect(cluster.eventsOf("become-follower", "broker-3")[0]).to.include({ leader: 1, leaderEpoch: 1 });
  });

  it("acks=all completes only once every ISR member has the record (acks=1 at once)", () => {
    const cluster = started();
    const cut = cluster.network.partition([["broker-3"], ["broker-1", "broker-2"]]);
    const all = cluster.producer.produce(1, "x", -1);
    const one = cluster.producer.produce(1, "y", 1);
    cluster.runFor(2000);
    expect(cluster.producer.error(one)).to.equal("NONE");
    expect(cluster.producer.responses.has(all)).to.equal(false);
    expect(cluster.partition(1)!.log.highWatermark).to.equal(0);
    expect(cluster.partition(2)!.log.logEndOffset).to.equal(2);
    // Broker 3 falls out of the ISR after replica.lag.time.max.ms (checked every lag/2): then the write commits.
    expect(cluster.runUntil(() => cluster.producer.responses.has(all), 20_000)).to.equal(true);
    expect(cluster.producer.error(all)).to.equal("NONE");
    expect(cluster.partition(1)!.isr).to.deep.equal([1, 2]);
    const shrink = cluster.eventsOf("isr-shrink", "broker-1");
    expect(shrink).to.have.length(1);
    expect(shrink[0]).to.deep.include({ isr: [1, 2], previousIsr: [1, 2, 3] });
    expect(cluster.eventsOf("purgatory-complete", "broker-1")[0]).to.include({ requiredOffset: 1, error: "NONE" });
    // Heal: once its lost fetch times out (replica.socket.timeout.ms), broker 3 catches up and rejoins.
    cluster.network.removeRule(cut);
    expect(cluster.runUntil(() => cluster.partition(1)!.isr.length === 3, 40_000)).to.equal(true);
    expect(cluster.eventsOf("isr-expand", "broker-1")[0]).to.deep.include({ isr: [1, 2, 3] });
    expect(cluster.values(3)).to.deep.equal(["x", "y"]);
  });

  it("acks=all times out with REQUEST_TIMED_OUT when the ISR does not catch up in time", () => {
    const cluster = started();
    cluster.network.partition([["broker-3"], ["broker-1", "broker-2"]]);
    const id = cluster.producer.produce(1, "x", -1, 1000);
    expect(cluster.runUntil(() => cluster.producer.responses.has(id), 3000)).to.equal(true);
    expect(cluster.producer.error(id)).to.equal("REQUEST_TIMED_OUT");
    expect(cluster.eventsOf("purgatory-timeout", "broker-1")[0]).to.include({ requiredOffset: 1, error: "REQUEST_TIMED_OUT" });
  });

  it("NOT_ENOUGH_REPLICAS when the ISR is smaller than min.insync.replicas: nothing is appended", () => {
    const cluster = new ReplicaCluster({ topicConfig: { "min.insync.replicas": 2 } });
    cluster.updateMetadata();
    cluster.runFor(20);
    const cut = cluster.network.partition([["broker-1"], ["broker-2", "broker-3"]]);
    cluster.leaderAndIsr({ leader: 1, leaderEpoch: 1, isr: [1] });
    cluster.runFor(50);
    const all = cluster.producer.produce(1, "x", -1);
    const one = cluster.producer.produce(1, "y", 1);
    cluster.runFor(100);
    expect(cluster.producer.error(all)).to.equal("NOT_ENOUGH_REPLICAS");
    expect(cluster.producer.error(one)).to.equal("NONE");
    expect(cluster.values(1)).to.deep.equal(["y"]);
    // The followers catch up and join; acks=all then succeeds.
    cluster.network.removeRule(cut);
    expect(cluster.runUntil(() => cluster.partition(1)!.isr.length === 3, 40_000)).to.equal(true);
    const again = cluster.producer.produce(1, "z", -1);
    expect(cluster.runUntil(() => cluster.producer.responses.has(again), 5000)).to.equal(true);
    expect(cluster.producer.error(again)).to.equal("NONE");
  });

  it("a crashed follower leaves the ISR and rejoins after restarting and catching up", () => {
    const cluster = started();
    cluster.producer.produce(1, "a");
    cluster.runFor(1000);
    cluster.world.host("broker-2").crash();
    const during = cluster.producer.produce(1, "b", 1);
    expect(cluster.runUntil(() => cluster.partition(1)!.isr.length === 2, 20_000)).to.equal(true);
    expect(cluster.partition(1)!.isr).to.deep.equal([1, 3]);
    expect(cluster.producer.error(during)).to.equal("NONE");
    cluster.world.host("broker-2").start();
    cluster.updateMetadata();
    cluster.runFor(20);
    cluster.leaderAndIsr({ leader: 1, leaderEpoch: 1, isr: [1, 3], zkVersion: 2 }, [2]);
    expect(cluster.runUntil(() => cluster.partition(1)!.isr.length === 3, 10_000)).to.equal(true);
    expect(cluster.values(2)).to.deep.equal(["a", "b"]);
    expect(cluster.partition(1)!.zkVersion).to.be.greaterThan(1);
  });

  it("a follower hears its leader's process crash at once: the fetch fails and is retried after replica.fetch.backoff.ms", () => {
    const cluster = started();
    cluster.producer.produce(1, "a");
    cluster.runFor(1000);
    cluster.world.host("broker-1").crash();
    const crashedAt = cluster.world.kernel.now;
    cluster.runFor(3500);
    // Each retry meets the reset at once; without the reset the fetch in flight would wait replica.socket.timeout.ms (30 s).
    const refetches = cluster.events.filter((e) => e.kind === "drop" && e.node === "broker-2" && e.to === "broker-1" && e.type === "Fetch" && e.t > crashedAt);
    expect(refetches.length).to.be.within(3, 4);
    expect(refetches[0].t - crashedAt).to.be.within(1_000_000, 1_100_000);
  });

  it("a paused leader that comes back is fenced by epoch: LeaderAndIsr with older epochs are refused", () => {
    const cluster = started();
    const first = cluster.leaderAndIsr({ leader: 2, leaderEpoch: 2, isr: [1, 2, 3] }, undefined, 2);
    cluster.runFor(50);
    expect(cluster.partition(2)!.isLeader).to.equal(true);
    // A stale controller (epoch 1) and a stale leader epoch (2 again, then 1) change nothing.
    const staleController = cluster.leaderAndIsr({ leader: 1, leaderEpoch: 3, isr: [1] }, [1, 2, 3], 1);
    const staleEpoch = cluster.leaderAndIsr({ leader: 3, leaderEpoch: 2, isr: [3] }, [1, 2, 3], 2);
    cluster.runFor(50);
    const byCorrelation = (id: number) => cluster.responses<{ type: string; error: string; partitionErrors: { error: string }[] }>("LeaderAndIsrResponse", id);
    expect(byCorrelation(first).every((r) => r.message.error === "NONE" && r.message.partitionErrors[0].error === "NONE")).to.equal(true);
    expect(byCorrelation(staleController).map((r) => r.message.error)).to.deep.equal(["STALE_CONTROLLER_EPOCH", "STALE_CONTROLLER_EPOCH", "STALE_CONTROLLER_EPOCH"]);
    expect(byCorrelation(staleEpoch).map((r) => r.message.partitionErrors[0].error)).to.deep.equal(["STALE_CONTROLLER_EPOCH", "STALE_CONTROLLER_EPOCH", "STALE_CONTROLLER_EPOCH"]);
    for (const id of [1, 2, 3]) expect(cluster.partition(id)).to.include({ leaderId: 2, leaderEpoch: 2 });
    expect(cluster.broker(1).replicaManager.controllerEpoch).to.equal(2);
    // The former leader answers produce with NOT_LEADER_OR_FOLLOWER.
    const id = cluster.producer.produce(1, "x", 1);
    cluster.runFor(50);
    expect(cluster.producer.error(id)).to.equal("NOT_LEADER_OR_FOLLOWER");
  });

  /** A LeaderAndIsr to broker-2 from controller 9 at epoch 5 for broker epoch 50 (not broker-2's): its answer's error. */
  function leaderAndIsrFromAnotherRegistration(cluster: ReturnType<typeof started>): string {
    cluster.controller.context.send("broker-2", {
      type: "LeaderAndIsr",
      correlationId: 88,
      controllerId: 9,
      controllerEpoch: 5,
      brokerEpoch: 50,
      partitionStates: [],
      liveLeaders: [],
    } as never);
    cluster.runFor(50);
    return cluster.responses<{ type: string; error: string }>("LeaderAndIsrResponse", 88)[0].message.error;
  }

  it("requests for an earlier registration of the broker are STALE_BROKER_EPOCH (KIP-380)", () => {
    const cluster = started();
    expect(leaderAndIsrFromAnotherRegistration(cluster)).to.equal("STALE_BROKER_EPOCH");
    expect(cluster.broker(2).replicaManager.controllerEpoch).to.equal(1);
  });

  it("a broker without broker epochs (compat.brokerEpochs off, Kafka 2.1) does not check them", () => {
    const cluster = started({ compat: { brokerEpochs: false } });
    expect(leaderAndIsrFromAnotherRegistration(cluster)).to.equal("NONE");
    expect(cluster.broker(2).replicaManager.controllerEpoch).to.equal(5);
  });

  it("a partition not assigned to the broker is UNKNOWN_TOPIC_OR_PARTITION; StopReplica with delete drops it", () => {
    const cluster = started();
    const id = cluster.leaderAndIsr({ leader: 1, leaderEpoch: 1, isr: [1], replicas: [1], partition: 1 }, [2]);
    cluster.runFor(50);
    const response = cluster.responses<{ type: string; partitionErrors: { error: string }[] }>("LeaderAndIsrResponse", id)[0];
    expect(response.message.partitionErrors[0].error).to.equal("UNKNOWN_TOPIC_OR_PARTITION");
    expect(cluster.partition(2, 1)).to.equal(undefined);
    cluster.controller.context.send("broker-3", {
      type: "StopReplica",
      correlationId: 77,
      controllerId: 9,
      controllerEpoch: 1,
      brokerEpoch: -1,
      partitions: [{ topic: "t", partition: 0, leaderEpoch: -2, deletePartition: true }],
    } as never);
    cluster.runFor(50);
    expect(cluster.partition(3)).to.equal(undefined);
    expect(cluster.broker(3).logManager.getLog("t", 0)).to.equal(undefined);
    expect(cluster.eventsOf("stop-replica", "broker-3")[0]).to.include({ topicPartition: "t-0", deletePartition: true });
  });
});
