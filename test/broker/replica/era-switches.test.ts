import { expect } from "chai";
import type { Compat } from "../../../src/broker/config.ts";
import { brokerHost, type OffsetsForLeaderEpochRequest, type OffsetsForLeaderEpochResponse } from "../../../src/protocol/kafka.ts";
import { ReplicaCluster, TOPIC } from "./harness.ts";

/**
 * The replication switches of Kafka 2.1.0 (compat.epochCacheOnElection KAFKA-7415, caughtUpFollowerStaysInSync
 * KAFKA-7152, isrJoinNeedsEpochStart KAFKA-7128): each test shows the 2.1+ behaviour with the switch on and the
 * 2.0.0 behaviour with it off, so it fails if the model ignores the switch.
 */

/** A cluster with t-0 led by broker 1 at epoch 1 (ISR: every broker). */
function started(compat: Partial<Compat>, brokers = 2, config: Record<string, number> = {}): ReplicaCluster {
  const cluster = new ReplicaCluster({ brokers, compat, config });
  cluster.updateMetadata();
  cluster.runFor(20);
  cluster.leaderAndIsr({ leader: 1, leaderEpoch: 1, isr: cluster.brokerIds });
  cluster.runFor(50);
  return cluster;
}

function produceAll(cluster: ReplicaCluster, values: string[], acks: -1 | 1): void {
  const ids = values.map((v) => cluster.producer.produce(1, v, acks));
  expect(cluster.runUntil(() => ids.every((id) => cluster.producer.responses.has(id)), 5000)).to.equal(true);
  expect(ids.map((id) => cluster.producer.error(id))).to.deep.equal(values.map(() => "NONE"));
}

/** OffsetsForLeaderEpoch(leaderEpoch) sent to broker 1 by the producer host; its answer (leaderEpoch, endOffset). */
function askEndOffset(cluster: ReplicaCluster, leaderEpoch: number): { leaderEpoch: number; endOffset: number } {
  const correlationId = 77_000 + leaderEpoch;
  const request: OffsetsForLeaderEpochRequest = {
    type: "OffsetsForLeaderEpoch",
    correlationId,
    replicaId: 2,
    partitions: [{ topic: TOPIC, partition: 0, currentLeaderEpoch: -1, leaderEpoch }],
  };
  cluster.producer.context.send(brokerHost(1), request);
  const answered = () => cluster.producer.received.find((m) => m.type === "OffsetsForLeaderEpochResponse" && (m as OffsetsForLeaderEpochResponse).correlationId === correlationId);
  expect(cluster.runUntil(() => answered() !== undefined, 1000)).to.equal(true);
  const { leaderEpoch: epoch, endOffset } = (answered() as OffsetsForLeaderEpochResponse).partitions[0];
  return { leaderEpoch: epoch, endOffset };
}

describe("Kafka 2.1 replication switches", () => {
  describe("compat.epochCacheOnElection (KAFKA-7415)", () => {
    /** Broker 1 leads epoch 1 (a0), then is re-elected at epoch 2 and appends nothing. */
    function reElected(epochCacheOnElection: boolean): ReplicaCluster {
      const cluster = started({ truncation: "kip-279", epochCacheOnElection });
      produceAll(cluster, ["a0"], -1);
      cluster.leaderAndIsr({ leader: 1, leaderEpoch: 2, isr: [1, 2] });
      cluster.runFor(50);
      return cluster;
    }

    it("on (2.1+): the new leader writes (epoch, log end offset) into its epoch cache at election", () => {
      const cluster = reElected(true);
      expect(cluster.partition(1)!.log.leaderEpochCache.entries()).to.deep.equal([{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 1 }]);
    });

    it("off (2.0.0): the epoch reaches the cache only with the leader's first append in it", () => {
      const cluster = reElected(false);
      expect(cluster.partition(1)!.log.leaderEpochCache.entries()).to.deep.equal([{ epoch: 1, startOffset: 0 }]);
      produceAll(cluster, ["b1"], -1);
      expect(cluster.partition(1)!.log.leaderEpochCache.entries()).to.deep.equal([{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 1 }]);
    });

    /** Broker 1 first leads at epoch 3 and writes x0: its cache is [(3, 0)]; a follower asks about epoch 1. */
    function askBelowFirst(epochCacheOnElection: boolean): { leaderEpoch: number; endOffset: number } {
      const cluster = new ReplicaCluster({ brokers: 2, compat: { truncation: "kip-279", epochCacheOnElection } });
      cluster.updateMetadata();
      cluster.runFor(20);
      cluster.leaderAndIsr({ leader: 1, leaderEpoch: 3, isr: [1, 2] });
      cluster.runFor(50);
      produceAll(cluster, ["x0"], -1);
      expect(cluster.partition(1)!.log.leaderEpochCache.entries()).to.deep.equal([{ epoch: 3, startOffset: 0 }]);
      return askEndOffset(cluster, 1);
    }

    it("on (2.1+): OffsetsForLeaderEpoch for an epoch below every cached one answers (that epoch, the first start offset)", () => {
      expect(askBelowFirst(true)).to.deep.equal({ leaderEpoch: 1, endOffset: 0 });
    });

    it("off (2.0.0): OffsetsForLeaderEpoch for an epoch below every cached one answers UNDEFINED", () => {
      expect(askBelowFirst(false)).to.deep.equal({ leaderEpoch: -1, endOffset: -1 });
    });
  });

  describe("compat.caughtUpFollowerStaysInSync (KAFKA-7152)", () => {
    /** Three brokers, one record everywhere, then broker 3 is cut off while nothing is written for 3 s (lag 1 s). */
    function idleCutOff(caughtUpFollowerStaysInSync: boolean): ReplicaCluster {
      const cluster = started({ caughtUpFollowerStaysInSync }, 3, { "replica.lag.time.max.ms": 1000 });
      produceAll(cluster, ["a0"], -1);
      cluster.runFor(500);
      expect(cluster.partition(1)!.remoteReplicas.get(3)!.logEndOffset).to.equal(1);
      cluster.network.partition([["broker-3"], ["broker-1", "broker-2", "producer", "broker-9"]]);
      cluster.runFor(3000);
      return cluster;
    }

    it("on (2.1+): an idle follower holding every record stays in the ISR", () => {
      const cluster = idleCutOff(true);
      expect(cluster.partition(1)!.isr).to.deep.equal([1, 2, 3]);
    });

    it("off (2.0.0): it is shrunk once replica.lag.time.max.ms passes without a completed fetch", () => {
      const cluster = idleCutOff(false);
      expect(cluster.partition(1)!.isr).to.deep.equal([1, 2]);
    });
  });

  describe("compat.isrJoinNeedsEpochStart (KAFKA-7128)", () => {
    /**
     * The ticket's case: a new leader whose HW is below its log end offset. Broker 3 is cut off; broker 1 appends
     * a0, a1 with acks=1 and broker 2 fetches them, but the HW stays 0 (broker 3 is still in the ISR). Broker 1 is
     * cut off too and broker 2 is elected at epoch 2 with ISR [2, 1]: its epoch starts at offset 2, its HW is 0.
     * Broker 3's first fetch from it would be at offset 0: at the HW, below the epoch start.
     */
    function behindEpochStart(isrJoinNeedsEpochStart: boolean): boolean {
      const cluster = started({ isrJoinNeedsEpochStart }, 3);
      cluster.network.partition([["broker-3"], ["broker-1", "broker-2", "producer", "broker-9"]]);
      produceAll(cluster, ["a0", "a1"], 1);
      expect(cluster.runUntil(() => cluster.partition(2)!.log.logEndOffset === 2, 2000)).to.equal(true);
      cluster.network.partition([["broker-3"], ["broker-1"], ["broker-2", "producer", "broker-9"]]);
      cluster.leaderAndIsr({ leader: 2, leaderEpoch: 2, isr: [2, 1] }, [2]);
      cluster.runFor(50);
      const partition = cluster.partition(2)!;
      expect(partition.isLeader).to.equal(true);
      expect(partition.log.highWatermark).to.equal(0);
      expect(partition.leaderEpochStartOffset).to.equal(2);
      partition.remoteReplicas.get(3)!.logEndOffset = 0;
      return partition.canJoinIsr(3);
    }

    it("on (2.1+): a follower at the HW but below the leader's epoch start offset cannot rejoin the ISR", () => {
      expect(behindEpochStart(true)).to.equal(false);
    });

    it("off (2.0.0): log end offset >= HW is enough", () => {
      expect(behindEpochStart(false)).to.equal(true);
    });
  });
});
