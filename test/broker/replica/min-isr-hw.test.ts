import { expect } from "chai";
import type { Compat } from "../../../src/broker/config.ts";
import { ReplicaCluster } from "./harness.ts";

/**
 * KAFKA-15583 (3.7.0, commit edc7e10a745, compat.hwNeedsMinIsr): Partition.maybeIncrementLeaderHW does not move
 * the high watermark while the committed ISR is below Partition.effectiveMinIsr = min(min.insync.replicas, the
 * replica count), and the acks=all checks use that capped value. Broker 1 leads t-0 (replicas [1,2,3]).
 */
describe("Partition.maybeIncrementLeaderHW under min.insync.replicas (KAFKA-15583)", () => {
  /** Broker 1 alone leads t-0 with ISR [1] (its followers never hear of the partition), min.insync.replicas 2. */
  function loneLeader(compat: Partial<Compat>): ReplicaCluster {
    const cluster = new ReplicaCluster({ compat, topicConfig: { "min.insync.replicas": 2 } });
    cluster.updateMetadata();
    cluster.runFor(20);
    cluster.leaderAndIsr({ leader: 1, leaderEpoch: 1, isr: [1] }, [1]);
    cluster.runFor(20);
    for (let i = 0; i < 3; i++) cluster.producer.produce(1, `v${i}`, 1);
    cluster.runFor(100);
    return cluster;
  }

  it("3.7+: a leader whose ISR is below min.insync.replicas appends acks=1 records but keeps its HW", () => {
    const cluster = loneLeader({ hwNeedsMinIsr: true });
    const partition = cluster.partition(1)!;
    expect(partition.log.logEndOffset, "log end").to.equal(3);
    expect(partition.isUnderMinIsr, "under min ISR").to.equal(true);
    expect(partition.log.highWatermark, "HW").to.equal(0);
  });

  it("up to 3.6: the HW of a leader under min.insync.replicas advances to its log end", () => {
    const cluster = loneLeader({ hwNeedsMinIsr: false });
    const partition = cluster.partition(1)!;
    expect(partition.log.logEndOffset, "log end").to.equal(3);
    expect(partition.log.highWatermark, "HW").to.equal(3);
  });

  it("3.7+: once the committed ISR reaches min.insync.replicas the HW moves", () => {
    const cluster = loneLeader({ hwNeedsMinIsr: true });
    const partition = cluster.partition(1)!;
    const now = cluster.broker(1).nowMs();
    partition.isr = [1, 2];
    partition.updateFollowerFetchState(2, 3, now, 3);
    expect(partition.maybeIncrementLeaderHighWatermark(now, 10_000), "HW incremented").to.equal(true);
    expect(partition.log.highWatermark, "HW").to.equal(3);
  });

  it("3.7+: a pending ISR expansion (the maximal ISR) does not count for min.insync.replicas", () => {
    const cluster = loneLeader({ hwNeedsMinIsr: true });
    const partition = cluster.partition(1)!;
    const now = cluster.broker(1).nowMs();
    partition.pendingIsr = { kind: "expand", proposedIsr: [1, 2], maximalIsr: [1, 2], leaderEpoch: 1 };
    partition.updateFollowerFetchState(2, 3, now, 3);
    expect(partition.maybeIncrementLeaderHighWatermark(now, 10_000), "HW incremented").to.equal(false);
    expect(partition.log.highWatermark, "HW").to.equal(0);
  });

  /** Every replica in the ISR, min.insync.replicas 4 with 3 replicas; one acks=all produce. */
  function minIsrAboveReplicas(compat: Partial<Compat>): { cluster: ReplicaCluster; correlationId: number } {
    const cluster = new ReplicaCluster({ compat, topicConfig: { "min.insync.replicas": 4 } });
    cluster.updateMetadata();
    cluster.runFor(20);
    cluster.leaderAndIsr({ leader: 1, leaderEpoch: 1, isr: [1, 2, 3] });
    cluster.runFor(100);
    const correlationId = cluster.producer.produce(1, "v", -1);
    cluster.runFor(2000);
    return { cluster, correlationId };
  }

  it("3.7+: min.insync.replicas above the replica count is capped at it (effectiveMinIsr)", () => {
    const { cluster, correlationId } = minIsrAboveReplicas({ hwNeedsMinIsr: true });
    expect(cluster.partition(1)!.effectiveMinIsr, "effective min ISR").to.equal(3);
    expect(cluster.producer.error(correlationId), "acks=all produce").to.equal("NONE");
    expect(cluster.partition(1)!.log.highWatermark, "HW").to.equal(1);
  });

  it("up to 3.6: min.insync.replicas above the replica count refuses every acks=all produce", () => {
    const { cluster, correlationId } = minIsrAboveReplicas({ hwNeedsMinIsr: false });
    expect(cluster.producer.error(correlationId), "acks=all produce").to.equal("NOT_ENOUGH_REPLICAS");
  });
});
