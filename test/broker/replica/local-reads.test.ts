import { expect } from "chai";
import { CachedPartition, FetchSession, IncrementalFetchContext } from "../../../src/broker/replica/fetch-session.ts";
import { LocalReads, readFromLocalLog } from "../../../src/broker/replica/local-reads.ts";
import { topicPartitionKey, type FetchRequest } from "../../../src/protocol/kafka.ts";
import { ReplicaCluster, TOPIC } from "./harness.ts";

/**
 * The leader's reads for an incremental fetch session (local-reads.ts): a quiet session partition (nothing to
 * read, HW and log start offset as last sent) reads as null, and the session's answer is the one a read of every
 * partition gives.
 */

/** Broker 1 leads t-0 to t-4 (broker 2 follows); t-1 and t-3 hold one record each. */
function started() {
  const cluster = new ReplicaCluster({ brokers: 2 });
  cluster.updateMetadata();
  cluster.runFor(20);
  for (let partition = 0; partition < 5; partition++) cluster.leaderAndIsr({ leader: 1, leaderEpoch: 1, isr: [1, 2], partition });
  cluster.runFor(1000);
  for (const partition of [1, 3]) {
    const id = cluster.producer.produce(1, "a", -1, 30_000, partition);
    expect(cluster.runUntil(() => cluster.producer.responses.has(id), 5000)).to.equal(true);
  }
  return cluster;
}

const request: FetchRequest = {
  type: "Fetch",
  correlationId: 1,
  replicaId: 2,
  replicaEpoch: -1,
  maxWaitMs: 500,
  minBytes: 1,
  maxBytes: 1 << 20,
  isolationLevel: 0,
  partitions: [],
  sizeBytes: 0,
};

/** A session partition fetching at `fetchOffset`, with the HW and log start offset last sent. */
function cached(partition: number, fetchOffset: number, highWatermark: number, logStartOffset = 0): CachedPartition {
  const entry = new CachedPartition(TOPIC, partition, topicPartitionKey(TOPIC, partition), 1, fetchOffset, 0, 1 << 20, -1);
  entry.highWatermark = highWatermark;
  entry.localLogStartOffset = logStartOffset;
  return entry;
}

/** The incremental answer of a session of `entries`, reading quiet partitions as null or reading every one. */
function answer(cluster: ReplicaCluster, entries: () => CachedPartition[], changedOnly: boolean) {
  const session = new FetchSession(7, true, new Map(entries().map((e) => [e.key, e])), 0, 0, 2);
  const context = new IncrementalFetchContext(session, 1);
  const reads = new LocalReads();
  const partitions = readFromLocalLog(cluster.broker(1).replicaManager, request, context.fetches, reads, changedOnly);
  return { partitions, response: context.response(1, partitions, reads), order: session.partitions.map((p) => p.key) };
}

describe("leader reads of an incremental fetch session (local-reads.ts)", () => {
  it("a quiet partition reads as null; one with records, a new HW or a new log start offset is read", () => {
    const cluster = started();
    const leaderLog = cluster.broker(1).replicaManager.partition(TOPIC, 1)!.log;
    expect(leaderLog.highWatermark).to.equal(1);
    // Quiet (t-0 empty, t-1 fetched up to its end), records (t-3), a new HW (t-2), a new log start (t-4).
    const { partitions } = answer(cluster, () => [cached(0, 0, 0), cached(1, 1, 1), cached(3, 0, 1), cached(2, 0, 5), cached(4, 0, 0, 3)], true);
    expect(partitions.map((p) => p === null)).to.deep.equal([true, true, false, false, false]);
  });

  it("the answer, its size and the session order are those of a read of every partition", () => {
    const cluster = started();
    for (const entries of [
      () => [cached(0, 0, 0), cached(1, 1, 1)],
      () => [cached(0, 0, 0), cached(1, 0, 1), cached(2, 0, 0), cached(3, 0, 1)],
      () => [cached(1, 0, 0), cached(0, 0, 0), cached(3, 1, 1), cached(4, 0, 0, 3)],
      () => [cached(0, 0, -1), cached(1, 1, 0), cached(2, 1, 0)],
    ]) {
      const quietSkipped = answer(cluster, entries, true);
      const everyRead = answer(cluster, entries, false);
      expect(quietSkipped.response).to.deep.equal(everyRead.response);
      expect(quietSkipped.order).to.deep.equal(everyRead.order);
    }
  });
});
