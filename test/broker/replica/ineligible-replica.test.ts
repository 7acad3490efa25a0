import { expect } from "chai";
import { brokerHost, type AlterIsrRequest, type AlterIsrResponse, type UpdateMetadataRequest } from "../../../src/protocol/kafka.ts";
import { CONTROLLER_ID, ReplicaCluster } from "./harness.ts";

/**
 * The leader's side of KIP-841 (Kafka 3.3.0, KAFKA-14140 af40e119784; compat.ineligibleReplicaCheck with AlterIsr):
 * Partition.canAddReplicaToIsr asks isReplicaIsrEligible, in ZooKeeper mode `zkMetadataCache.hasAliveBroker`, so a
 * follower its metadata cache does not list alive is not proposed for the ISR (3.2.0 has no such check); and
 * Partition.handleAlterPartitionError answers INELIGIBLE_REPLICA (like OPERATION_NOT_ATTEMPTED) by going back to
 * the last committed ISR, without resending the request.
 */

/** Broker 1 leads t-0 at epoch 1 with ISR [1, 2]; broker 3, empty, is caught up at once. */
function leaderWithFollowerOutsideIsr(ineligibleReplicaCheck: boolean, followerAliveInLeaderCache: boolean): ReplicaCluster {
  const cluster = new ReplicaCluster({ brokers: 3, compat: { isrUpdate: "alter-isr", ineligibleReplicaCheck } });
  cluster.updateMetadata();
  cluster.runFor(20);
  if (!followerAliveInLeaderCache) {
    const request: UpdateMetadataRequest = {
      type: "UpdateMetadata",
      correlationId: 500,
      controllerId: CONTROLLER_ID,
      controllerEpoch: 1,
      brokerEpoch: -1,
      partitionStates: [],
      liveBrokers: [1, 2, CONTROLLER_ID].map((id) => ({ id, host: brokerHost(id) })),
    };
    cluster.controller.context.send(brokerHost(1), request);
    cluster.runFor(20);
    expect(cluster.broker(1).metadataCache.aliveBrokers.has(3)).to.equal(false);
  }
  cluster.leaderAndIsr({ leader: 1, leaderEpoch: 1, isr: [1, 2] });
  return cluster;
}

const proposalsWith3 = (cluster: ReplicaCluster) =>
  cluster.controller.received.filter((r) => r.message.type === "AlterIsr" && (r.message as AlterIsrRequest).partitions.some((p) => p.newIsr.includes(3)));

describe("leader side of KIP-841 (compat.ineligibleReplicaCheck)", () => {
  it("on (3.3+): a caught-up follower the metadata cache does not list alive is not proposed for the ISR", () => {
    const cluster = leaderWithFollowerOutsideIsr(true, false);
    cluster.runFor(2000);
    expect(proposalsWith3(cluster)).to.have.length(0);
    expect(cluster.partition(1)!.isr).to.deep.equal([1, 2]);
  });

  it("off (2.7 to 3.2): the same follower is proposed and joins the ISR", () => {
    const cluster = leaderWithFollowerOutsideIsr(false, false);
    expect(cluster.runUntil(() => cluster.partition(1)?.isr.includes(3) === true, 2000)).to.equal(true);
  });

  it("on: a follower listed alive joins the ISR", () => {
    const cluster = leaderWithFollowerOutsideIsr(true, true);
    expect(cluster.runUntil(() => cluster.partition(1)?.isr.includes(3) === true, 2000)).to.equal(true);
  });

  it("INELIGIBLE_REPLICA: the leader goes back to the committed ISR and does not resend the proposal", () => {
    const cluster = leaderWithFollowerOutsideIsr(true, true);
    cluster.controller.acceptAlterIsr = false;
    expect(cluster.runUntil(() => proposalsWith3(cluster).length === 1, 2000)).to.equal(true);
    const partition = cluster.partition(1)!;
    const pending = partition.pendingIsr;
    expect(pending).to.deep.include({ kind: "expand", proposedIsr: [1, 2, 3] });
    const request = proposalsWith3(cluster)[0].message as AlterIsrRequest;
    const p = request.partitions[0];
    const response: AlterIsrResponse = {
      type: "AlterIsrResponse",
      correlationId: request.correlationId,
      error: "NONE",
      partitions: [{ topic: p.topic, partition: p.partition, error: "INELIGIBLE_REPLICA", leaderId: -1, leaderEpoch: -1, isr: [], partitionEpoch: -1 }],
    };
    cluster.controller.context.send(brokerHost(1), response);
    expect(cluster.runUntil(() => cluster.eventsOf("isr-update-failed", brokerHost(1)).length > 0, 100)).to.equal(true);
    expect(cluster.eventsOf("isr-update-failed", brokerHost(1))[0]).to.deep.include({ reason: "INELIGIBLE_REPLICA" });
    expect(partition.pendingIsr).to.not.equal(pending);
    expect(partition.isr).to.deep.equal([1, 2]);
    expect(proposalsWith3(cluster)).to.have.length(1);
  });
});
