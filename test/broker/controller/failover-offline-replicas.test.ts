/**
 * KAFKA-3143 (2.3.0): on failover the new controller moves the replicas of brokers that are not registered to
 * OfflineReplica (ReplicaStateMachine.startup), which removes them from their ISRs. The dead broker here is the
 * old controller, so no controller ever saw it die: without the fix (compat.offlineReplicasOnFailover false, 2.2
 * and before) it stays in the ISR of a partition it follows.
 */
import { expect } from "chai";
import type { LeaderAndIsrRequest } from "../../../src/protocol/kafka.ts";
import { Cluster, clusterWithTopic } from "./harness.ts";

/** Topic t with replicas [a, c, b]: a leads, the controller c follows. The controller's host then crashes. */
function controllerFollowerDies(compat: { offlineReplicasOnFailover?: boolean } = {}): { cluster: Cluster; a: number; b: number; c: number; since: number } {
  const { cluster, a, b, c } = clusterWithTopic({ compat }, (a, b, c) => [a, c, b]);
  cluster.ensemble.world.host(`broker-${c}`).crash();
  const since = cluster.ensemble.world.now;
  cluster.runUntil(() => cluster.activeControllers().length === 1 && cluster.controller().brokerId !== c, 30_000);
  cluster.settle();
  cluster.run(1000);
  return { cluster, a, b, c, since };
}

describe("controller: failover moves dead replicas offline (KAFKA-3143)", () => {
  it("removes the dead old controller from the ISR it followed; the leader stays, leader epoch + 1", () => {
    const { cluster, a, b, c } = controllerFollowerDies();
    const state = cluster.state("t", 0)!;
    expect(state.isr).to.not.include(c);
    expect(state.isr).to.have.members([a, b]);
    expect(state).to.include({ leader: a, leaderEpoch: 1, controllerEpoch: 2 });
  });

  it("traces the shrink as the controller's and tells the live replicas the new ISR", () => {
    const { cluster, a, b, c, since } = controllerFollowerDies();
    const shrink = cluster.trace("isr-shrink").filter((e) => e.by === "controller");
    expect(shrink).to.have.length(1);
    expect(shrink[0]).to.deep.include({ topicPartition: "t-0", previousIsr: [a, c, b], leader: a });
    for (const id of [a, b]) {
      const last = (cluster.received(id, "LeaderAndIsr", since) as LeaderAndIsrRequest[]).at(-1)!;
      expect(last.partitionStates[0].isr, `broker-${id}`).to.have.members([a, b]);
    }
  });

  it("2.2 and before (offlineReplicasOnFailover false): the dead broker stays in the ISR", () => {
    const { cluster, a, b, c } = controllerFollowerDies({ offlineReplicasOnFailover: false });
    const state = cluster.state("t", 0)!;
    expect(state.isr).to.have.members([a, b, c]);
    expect(state).to.include({ leader: a, leaderEpoch: 0 });
    expect(cluster.trace("isr-shrink")).to.have.length(0);
  });
});
