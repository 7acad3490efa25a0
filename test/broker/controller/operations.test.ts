import { expect } from "chai";
import type { AlterIsrResponse, ControlledShutdownResponse, LeaderAndIsrRequest, StopReplicaRequest, UpdateMetadataRequest } from "../../../src/protocol/kafka.ts";
import { decodeTopicAssignment, encodePartitionList, encodeReassignment } from "../../../src/broker/zk-data.ts";
import { Cluster } from "./harness.ts";

function setup(assignment: (c: number, a: number, b: number) => number[][], options: ConstructorParameters<typeof Cluster>[0] = {}) {
  const cluster = new Cluster({ brokers: 3, ...options }).start();
  cluster.settle();
  const c = cluster.controller().brokerId;
  const [a, b] = cluster.brokerIds.filter((id) => id !== c);
  cluster.createTopic("t", assignment(c, a, b));
  cluster.runUntil(() => cluster.state("t", 0) !== null);
  cluster.settle();
  cluster.run(500);
  return { cluster, c, a, b };
}

describe("controller: controlled shutdown", () => {
  it("moves leadership off the broker and takes it out of the ISRs it follows", () => {
    const { cluster, c, a, b } = setup((c, a, b) => [[a, b, c], [b, a, c]]);
    cluster.broker(a).sendControlledShutdown(c);
    expect(cluster.runUntil(() => cluster.broker(a).replies.some((r) => r.type === "ControlledShutdownResponse"))).to.equal(true);
    const response = cluster.broker(a).replies.find((r) => r.type === "ControlledShutdownResponse") as ControlledShutdownResponse;
    expect(response.error).to.equal("NONE");
    expect(response.remainingPartitions).to.deep.equal([]);
    expect(cluster.state("t", 0)).to.deep.include({ leader: b, leaderEpoch: 1, isr: [b, c] });
    expect(cluster.state("t", 1)).to.deep.include({ leader: b, leaderEpoch: 1, isr: [b, c] });
    expect(cluster.trace("leader-elected").at(-1)).to.include({ reason: "controlled-shutdown", leader: b });
    const stops = cluster.received(a, "StopReplica") as StopReplicaRequest[];
    expect(stops.flatMap((s) => s.partitions).map((p) => [p.partition, p.deletePartition])).to.deep.include([1, false]);
  });

  it("answers NOT_CONTROLLER from a broker that is not the controller, and STALE_BROKER_EPOCH for an old epoch", () => {
    const { cluster, c, a, b } = setup((c, a, b) => [[a, b, c]]);
    cluster.broker(a).sendControlledShutdown(b);
    cluster.runUntil(() => cluster.broker(a).replies.length > 0);
    expect((cluster.broker(a).replies[0] as ControlledShutdownResponse).error).to.equal("NOT_CONTROLLER");
    const stale = { type: "ControlledShutdown", correlationId: 99, brokerId: a, brokerEpoch: 1 };
    cluster.broker(a).sendToBroker(c, stale);
    cluster.runUntil(() => cluster.broker(a).replies.length > 1);
    expect((cluster.broker(a).replies[1] as ControlledShutdownResponse).error).to.equal("STALE_BROKER_EPOCH");
  });
});

describe("controller: preferred leader election", () => {
  it("moves leadership back to the preferred replica once it is in the ISR, then deletes the znode", () => {
    const { cluster, c, a, b } = setup((c, a, b) => [[a, b, c]]);
    const host = cluster.ensemble.world.host(`broker-${a}`);
    host.crash(); // leadership moves to b, a leaves the ISR
    cluster.runUntil(() => cluster.state("t", 0)!.leader === b);
    host.start();
    cluster.runUntil(() => cluster.controller().controller.context.liveBrokers.has(a));
    cluster.settle();
    cluster.run(500);
    // b (the leader) lets a back into the ISR through AlterIsr.
    cluster.broker(b).sendAlterIsr(c, "t", 0, [b, c, a]);
    expect(cluster.runUntil(() => cluster.state("t", 0)!.isr.length === 3)).to.equal(true);
    const afterAlter = cluster.state("t", 0)!;
    expect(afterAlter).to.include({ leader: b, leaderEpoch: 1 }); // AlterIsr does not bump the leader epoch
    cluster.run(500);
    const alter = cluster.broker(b).replies.find((r) => r.type === "AlterIsrResponse") as AlterIsrResponse;
    expect(alter.partitions[0]).to.deep.include({ error: "NONE", isr: [b, c, a], partitionEpoch: afterAlter.zkVersion });
    cluster.zk((zk, done) => zk.create("/admin/preferred_replica_election", encodePartitionList([{ topic: "t", partition: 0 }]), {}, done));
    expect(cluster.runUntil(() => cluster.state("t", 0)!.leader === a)).to.equal(true);
    expect(cluster.state("t", 0)).to.include({ leaderEpoch: 2 });
    expect(cluster.trace("leader-elected").at(-1)).to.include({ reason: "preferred", leader: a });
    expect(cluster.runUntil(() => !cluster.exists("/admin/preferred_replica_election"))).to.equal(true);
  });

  it("auto rebalance elects preferred leaders when the imbalance is above the percentage", () => {
    const { cluster, c, a, b } = setup((c, a, b) => [[a, b, c]], { config: { "auto.leader.rebalance.enable": true, "leader.imbalance.check.interval.seconds": 5 } });
    cluster.broker(a).sendControlledShutdown(c);
    cluster.runUntil(() => cluster.state("t", 0)!.leader === b);
    cluster.settle();
    // a restarts (a new broker epoch: no longer shutting down); the leader then lets it back into the ISR.
    const host = cluster.ensemble.world.host(`broker-${a}`);
    host.crash();
    cluster.run(10_000);
    host.start();
    cluster.runUntil(() => cluster.controller().controller.context.liveBrokers.has(a));
    cluster.settle();
    cluster.run(500);
    cluster.broker(b).sendAlterIsr(c, "t", 0, [b, c, a]);
    expect(cluster.runUntil(() => cluster.state("t", 0)!.leader === a, 20_000)).to.equal(true);
    expect(cluster.trace("leader-elected").at(-1)).to.include({ reason: "preferred", leader: a });
  });
});

describe("controller: AlterIsr and ISR change notifications", () => {
  it("rejects a stale partition epoch and a stale leader epoch", () => {
    const { cluster, c, a } = setup((c, a, b) => [[a, b, c]]);
    const leader = cluster.broker(a);
    const state = leader.partitions.get("t-0")!;
    leader.partitions.set("t-0", { ...state, zkVersion: state.zkVersion + 5 });
    leader.sendAlterIsr(c, "t", 0, [a]);
    cluster.runUntil(() => leader.replies.length === 1);
    expect((leader.replies[0] as AlterIsrResponse).partitions[0].error).to.equal("INVALID_UPDATE_VERSION");
    leader.partitions.set("t-0", { ...state, leaderEpoch: -1 });
    leader.sendAlterIsr(c, "t", 0, [a]);
    cluster.runUntil(() => leader.replies.length === 2);
    expect((leader.replies[1] as AlterIsrResponse).partitions[0].error).to.equal("FENCED_LEADER_EPOCH");
    leader.partitions.set("t-0", state);
    leader.sendAlterIsr(c, "t", 0, [a]);
    cluster.runUntil(() => leader.replies.length === 3);
    expect((leader.replies[2] as AlterIsrResponse).partitions[0]).to.deep.include({ error: "NONE", isr: [a], leaderEpoch: 0 });
    expect(cluster.state("t", 0)).to.deep.include({ isr: [a], leaderEpoch: 0 });
  });

  it("zk-direct: reads the partitions named in /isr_change_notification and tells every broker", () => {
    const { cluster, a, b } = setup((c, a, b) => [[a, b, c]], { compat: { isrUpdate: "zk-direct" } });
    cluster.setState("t", 0, { isr: [a] });
    const since = cluster.ensemble.world.now;
    cluster.zk((zk, done) =>
      zk.create("/isr_change_notification/isr_change_", encodePartitionList([{ topic: "t", partition: 0 }]), { sequential: true }, done),
    );
    expect(
      cluster.runUntil(() =>
        (cluster.received(b, "UpdateMetadata", since) as UpdateMetadataRequest[]).some((r) => r.partitionStates.some((s) => s.isr.length === 1)),
      ),
    ).to.equal(true);
    cluster.run(500);
    const children = cluster.zk((zk, done) => zk.getChildren("/isr_change_notification", false, done)).children;
    expect(children).to.deep.equal([]);
    expect(cluster.controller().controller.context.leadership.get("t-0")!.isr).to.deep.equal([a]);
  });
});

describe("controller: partition reassignment", () => {
  it("adds the target replicas, waits for them to join the ISR, moves leadership and removes the old ones", () => {
    // 4 brokers: t-0 on [a, b] moves to [b, d].
    const cluster = new Cluster({ brokers: 4 }).start();
    cluster.settle();
    const c = cluster.controller().brokerId;
    const [a, b, d] = cluster.brokerIds.filter((id) => id !== c);
    cluster.createTopic("t", [[a, b]]);
    cluster.runUntil(() => cluster.state("t", 0) !== null);
    cluster.settle();
    cluster.zk((zk, done) => zk.create("/admin/reassign_partitions", encodeReassignment([{ topic: "t", partition: 0, replicas: [b, d] }]), {}, done));
    // Phase A: RS = TRS ∪ ORS with adding/removing in the topic znode; LeaderAndIsr to d with a leader epoch bump.
    expect(cluster.runUntil(() => cluster.received(d, "LeaderAndIsr").length > 0)).to.equal(true);
    const phaseA = decodeTopicAssignment(cluster.zk((zk, done) => zk.getData("/brokers/topics/t", false, done)).data!)!;
    expect(phaseA.partitions.get(0)).to.deep.equal([b, d, a]);
    expect(phaseA.addingReplicas.get(0)).to.deep.equal([d]);
    expect(phaseA.removingReplicas.get(0)).to.deep.equal([a]);
    const toD = (cluster.received(d, "LeaderAndIsr") as LeaderAndIsrRequest[])[0].partitionStates[0];
    expect(toD).to.deep.include({ leader: a, leaderEpoch: 1, replicas: [b, d, a], addingReplicas: [d], removingReplicas: [a] });
    cluster.settle();
    cluster.run(2000);
    expect(cluster.exists("/admin/reassign_partitions")).to.equal(true);
    // d caught up: the leader a adds it to the ISR.
    cluster.broker(a).sendAlterIsr(c, "t", 0, [a, b, d]);
    expect(cluster.runUntil(() => !cluster.exists("/admin/reassign_partitions"), 20_000)).to.equal(true);
    const final = cluster.state("t", 0)!;
    expect(final.leader).to.equal(b);
    expect(final.isr).to.have.members([b, d]);
    const assignment = decodeTopicAssignment(cluster.zk((zk, done) => zk.getData("/brokers/topics/t", false, done)).data!)!;
    expect(assignment.partitions.get(0)).to.deep.equal([b, d]);
    expect(assignment.addingReplicas.size + assignment.removingReplicas.size).to.equal(0);
    cluster.run(1000);
    const stops = (cluster.received(a, "StopReplica") as StopReplicaRequest[]).flatMap((s) => s.partitions);
    expect(stops.some((p) => p.deletePartition)).to.equal(true);
    expect(cluster.trace("leader-elected").some((e) => e.reason === "reassign" && e.leader === b)).to.equal(true);
    expect(cluster.trace("reassignment-completed")).to.have.length(1);
  });
});

describe("controller: topic deletion", () => {
  it("stops and deletes the replicas, then removes the topic's znodes", () => {
    const { cluster, c, a, b } = setup((c, a, b) => [[a, b, c], [b, c, a]]);
    cluster.zk((zk, done) => zk.create("/admin/delete_topics/t", "", {}, done));
    expect(cluster.runUntil(() => !cluster.exists("/brokers/topics/t"), 20_000)).to.equal(true);
    expect(cluster.runUntil(() => !cluster.exists("/admin/delete_topics/t"), 20_000)).to.equal(true);
    for (const id of [a, b, c]) {
      const deleted = (cluster.received(id, "StopReplica") as StopReplicaRequest[]).flatMap((s) => s.partitions).filter((p) => p.deletePartition);
      expect(deleted.map((p) => p.partition)).to.have.members([0, 1]);
    }
    cluster.settle();
    expect(cluster.controller().controller.context.assignments.has("t")).to.equal(false);
    expect(cluster.trace("topic-deleted")).to.have.length(1);
  });

  it("with delete.topic.enable false only the admin znode goes", () => {
    const { cluster } = setup((c, a, b) => [[a, b, c]], { config: { "delete.topic.enable": false } });
    cluster.zk((zk, done) => zk.create("/admin/delete_topics/t", "", {}, done));
    expect(cluster.runUntil(() => !cluster.exists("/admin/delete_topics/t"), 20_000)).to.equal(true);
    expect(cluster.exists("/brokers/topics/t")).to.equal(true);
  });
});
