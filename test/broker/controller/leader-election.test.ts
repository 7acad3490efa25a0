import { expect } from "chai";
import type { LeaderAndIsrRequest } from "../../../src/protocol/kafka.ts";
import {
  controlledShutdownPartitionLeaderElection,
  offlinePartitionLeaderElection,
  preferredReplicaPartitionLeaderElection,
  reassignPartitionLeaderElection,
} from "../../../src/broker/controller/election.ts";
import { clusterWithTopic } from "./harness.ts";


describe("controller: leader election algorithms", () => {
  const live = (...ids: number[]) => new Set(ids);
  it("offline: first live ISR replica in assignment order; unclean only when enabled", () => {
    expect(offlinePartitionLeaderElection([1, 2, 3], [3, 2], live(2, 3), false)).to.deep.equal({ leader: 2, isr: [3, 2], unclean: false });
    expect(offlinePartitionLeaderElection([1, 2, 3], [1, 3], live(2, 3), false)).to.deep.equal({ leader: 3, isr: [3], unclean: false });
    expect(offlinePartitionLeaderElection([1, 2, 3], [1], live(2, 3), false)).to.equal(null);
    expect(offlinePartitionLeaderElection([1, 2, 3], [1], live(3, 2), true)).to.deep.equal({ leader: 2, isr: [2], unclean: true });
  });
  it("reassign, preferred and controlled shutdown strategies", () => {
    expect(reassignPartitionLeaderElection([4, 2], [1, 2, 4], live(2, 4))).to.deep.equal({ leader: 4, isr: [1, 2, 4], unclean: false });
    expect(preferredReplicaPartitionLeaderElection([1, 2], [2], live(1, 2))).to.equal(null);
    expect(preferredReplicaPartitionLeaderElection([1, 2], [2, 1], live(1, 2))!.leader).to.equal(1);
    expect(controlledShutdownPartitionLeaderElection([1, 2, 3], [1, 2, 3], live(1, 2, 3), new Set([1]))).to.deep.equal({ leader: 2, isr: [2, 3], unclean: false });
  });
});

describe("controller: leader election on broker failure", () => {
  it("clean election picks the first live replica that is in the ISR", () => {
    const { cluster, c, a, b } = clusterWithTopic();
    expect(cluster.state("t", 0)).to.include({ leader: a, leaderEpoch: 0 });
    // The leader shrank the ISR to [a, c] (as a zk-direct leader would): b is live but out of sync.
    cluster.setState("t", 0, { isr: [a, c] });
    cluster.ensemble.world.host(`broker-${a}`).crash();
    expect(cluster.runUntil(() => cluster.state("t", 0)!.leader !== a, 30_000)).to.equal(true);
    cluster.settle();
    const state = cluster.state("t", 0)!;
    expect(state).to.include({ leader: c, leaderEpoch: 1, controllerEpoch: 1 });
    expect(state.isr).to.deep.equal([c]);
    const elected = cluster.trace("leader-elected").at(-1)!;
    expect(elected).to.include({ topicPartition: "t-0", leader: c, leaderEpoch: 1, unclean: false, reason: "offline" });
    cluster.run(1000);
    for (const id of [b, c]) {
      const last = (cluster.received(id, "LeaderAndIsr") as LeaderAndIsrRequest[]).at(-1)!;
      expect(last.partitionStates[0]).to.include({ leader: c, leaderEpoch: 1 });
    }
  });

  it("no leader when every ISR member is dead and unclean election is off", () => {
    const { cluster, a } = clusterWithTopic();
    cluster.setState("t", 0, { isr: [a] });
    cluster.ensemble.world.host(`broker-${a}`).crash();
    expect(cluster.runUntil(() => cluster.state("t", 0)!.leader !== a, 30_000)).to.equal(true);
    cluster.settle();
    // ReplicaStateMachine.removeReplicasFromIsr: NoLeader, the last ISR member stays, leader epoch bumped.
    expect(cluster.state("t", 0)).to.deep.include({ leader: -1, isr: [a], leaderEpoch: 1 });
    expect(cluster.trace("leader-elected").filter((e) => e.reason === "offline" && e.leader !== -1)).to.have.length(0);
    expect(cluster.controller().controller.context.partitionStates.get("t-0")).to.equal("OfflinePartition");
  });

  it("unclean election (topic override) picks the first live replica with ISR = [leader]", () => {
    const { cluster, a, b } = clusterWithTopic();
    cluster.topicConfigs.set("t", { "unclean.leader.election.enable": true });
    cluster.setState("t", 0, { isr: [a] });
    cluster.ensemble.world.host(`broker-${a}`).crash();
    expect(cluster.runUntil(() => cluster.state("t", 0)!.leader !== a, 30_000)).to.equal(true);
    cluster.settle();
    expect(cluster.state("t", 0)).to.deep.include({ leader: b, isr: [b], leaderEpoch: 1 });
    expect(cluster.trace("leader-elected").at(-1)).to.include({ leader: b, unclean: true, reason: "offline" });
  });

  it("an offline partition comes back when its last ISR member restarts", () => {
    const { cluster, a } = clusterWithTopic();
    cluster.setState("t", 0, { isr: [a] });
    const host = cluster.ensemble.world.host(`broker-${a}`);
    host.crash();
    cluster.runUntil(() => cluster.state("t", 0)!.leader === -1, 30_000);
    host.start();
    expect(cluster.runUntil(() => cluster.state("t", 0)!.leader === a, 30_000)).to.equal(true);
    expect(cluster.state("t", 0)).to.deep.include({ isr: [a], leaderEpoch: 2 });
  });

  it("a new topic's ISR holds only the live replicas", () => {
    const { cluster, a, b, c } = clusterWithTopic();
    cluster.ensemble.world.host(`broker-${a}`).crash();
    cluster.runUntil(() => !cluster.controller().controller.context.liveBrokers.has(a), 30_000);
    cluster.createTopic("u", [[a, b, c]]);
    expect(cluster.runUntil(() => cluster.state("u", 0) !== null)).to.equal(true);
    expect(cluster.state("u", 0)).to.deep.include({ leader: b, isr: [b, c], leaderEpoch: 0 });
  });

  it("a bounced broker (new registration czxid) is handled as a failure then a start-up", () => {
    const { cluster, a, b } = clusterWithTopic();
    // Replace a's registration in one transaction: the controller sees the same ids with a new broker epoch.
    const path = `/brokers/ids/${a}`;
    const data = cluster.zk((zk, done) => zk.getData(path, false, done)).data!;
    const reply = cluster.zk((zk, done) =>
      zk.multi([{ op: "delete", path, version: -1 }, { op: "create", path, data, ephemeral: true, sequential: false }], done),
    );
    expect(reply.code).to.equal("OK");
    const since = cluster.ensemble.world.now;
    expect(cluster.runUntil(() => cluster.state("t", 0)!.leader === b, 30_000)).to.equal(true);
    cluster.settle();
    cluster.run(500);
    const newEpoch = cluster.zk((zk, done) => zk.exists(path, false, done)).stat!.czxid;
    expect(cluster.controller().controller.context.liveBrokers.get(a)!.epoch).to.equal(newEpoch);
    const toA = cluster.received(a, "LeaderAndIsr", since) as LeaderAndIsrRequest[];
    expect(toA.at(-1)!.partitionStates[0]).to.include({ leader: b, leaderEpoch: 1 });
    expect(toA.at(-1)!.brokerEpoch).to.equal(newEpoch);
  });
});
