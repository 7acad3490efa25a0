// The leaders' side of transactions over the network (ReplicaCluster harness): WriteTxnMarkers appended as
// acks=all control batches with per-partition errors (KafkaApis.handleWriteTxnMarkersRequest), the LSO following
// the markers, read_committed Fetch bounded by the LSO with abortedTransactions, ListOffsets LATEST = LSO.
import { expect } from "chai";
import { makeBatch } from "../../../src/broker/log/records.ts";
import { brokerHost, LATEST_TIMESTAMP, type FetchRequest, type FetchResponse, type ListOffsetsRequest, type ListOffsetsResponse, type ProduceRequest } from "../../../src/protocol/kafka.ts";
import type { WriteTxnMarkersRequest, WriteTxnMarkersResponse } from "../../../src/protocol/transaction.ts";
import type { Message } from "../../../src/sim/host.ts";
import { ReplicaCluster, TOPIC } from "./harness.ts";

let correlationIds = 70_000;

function started(): ReplicaCluster {
  // No transaction coordinator in this harness: the log side without KIP-890 verification (kip890.test.ts has it).
  const cluster = new ReplicaCluster({ compat: { transactionVerification: false } });
  cluster.updateMetadata();
  cluster.runFor(20);
  cluster.leaderAndIsr({ leader: 1, leaderEpoch: 1, isr: cluster.brokerIds });
  cluster.runFor(50);
  return cluster;
}

function received<T extends Message>(cluster: ReplicaCluster, type: string, correlationId: number, limitMs = 10_000): T {
  const find = () => cluster.producer.received.find((m) => m.type === type && (m as unknown as { correlationId: number }).correlationId === correlationId) as T | undefined;
  expect(cluster.runUntil(() => find() !== undefined, limitMs), `${type} ${correlationId}`).to.equal(true);
  return find()!;
}

/** A transactional single-record batch from producer `producerId` (acks=all); returns its offset. */
function produce(cluster: ReplicaCluster, producerId: number, sequence: number, value: string, isTransactional = true): number {
  const batch = makeBatch({ baseOffset: 0, partitionLeaderEpoch: -1, producerId, producerEpoch: 0, baseSequence: sequence, isTransactional, records: [{ key: null, value, timestamp: 0 }] });
  const correlationId = ++correlationIds;
  const request: ProduceRequest = { type: "Produce", correlationId, acks: -1, timeoutMs: 30_000, transactionalId: "tx", partitions: [{ topic: TOPIC, partition: 0, batch }] };
  cluster.producer.context.send(brokerHost(1), request);
  expect(cluster.runUntil(() => cluster.producer.responses.has(correlationId), 10_000)).to.equal(true);
  const answer = cluster.producer.responses.get(correlationId)!.partitions[0];
  expect(answer.error).to.equal("NONE");
  return answer.baseOffset;
}

function writeMarkers(cluster: ReplicaCluster, to: number, producerId: number, commit: boolean, coordinatorEpoch = 0, partitions = [{ topic: TOPIC, partition: 0 }]): WriteTxnMarkersResponse {
  const correlationId = ++correlationIds;
  const request: WriteTxnMarkersRequest = {
    type: "WriteTxnMarkers",
    correlationId,
    markers: [{ producerId, producerEpoch: 0, transactionResult: commit, coordinatorEpoch, partitions }],
  };
  cluster.producer.context.send(brokerHost(to), request);
  return received<WriteTxnMarkersResponse>(cluster, "WriteTxnMarkersResponse", correlationId);
}

function fetch(cluster: ReplicaCluster, isolationLevel: 0 | 1, fetchOffset = 0): FetchResponse["partitions"][number] {
  const correlationId = ++correlationIds;
  const request: FetchRequest = {
    type: "Fetch",
    correlationId,
    replicaId: -1,
    replicaEpoch: -1,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel,
    partitions: [{ topic: TOPIC, partition: 0, currentLeaderEpoch: -1, fetchOffset, logStartOffset: -1, partitionMaxBytes: 1 << 20, lastFetchedEpoch: -1 }],
  };
  cluster.producer.context.send(brokerHost(1), request);
  return received<FetchResponse>(cluster, "FetchResponse", correlationId).partitions[0];
}

function latest(cluster: ReplicaCluster, isolationLevel: 0 | 1): number {
  const correlationId = ++correlationIds;
  const request: ListOffsetsRequest = {
    type: "ListOffsets",
    correlationId,
    replicaId: -1,
    isolationLevel,
    partitions: [{ topic: TOPIC, partition: 0, currentLeaderEpoch: -1, timestamp: LATEST_TIMESTAMP }],
  };
  cluster.producer.context.send(brokerHost(1), request);
  return received<ListOffsetsResponse>(cluster, "ListOffsetsResponse", correlationId).partitions[0].offset;
}

describe("replica: WriteTxnMarkers, the LSO and read_committed reads", () => {
  it("the leader appends a marker with acks=all; every replica holds it; the LSO moves past it", () => {
    const cluster = started();
    expect(produce(cluster, 500, 0, "a")).to.equal(0);
    expect(produce(cluster, 500, 1, "b")).to.equal(1);
    expect(cluster.partition(1)!.log.highWatermark).to.equal(2);
    expect(cluster.partition(1)!.log.lastStableOffset).to.equal(0);
    const response = writeMarkers(cluster, 1, 500, true, 3);
    expect(response.markers).to.deep.equal([{ producerId: 500, partitions: [{ topic: TOPIC, partition: 0, error: "NONE" }] }]);
    // acks=all: answered once the followers have the marker, so the HW is past it.
    for (const id of [1, 2, 3]) expect(cluster.partition(id)!.log.logEndOffset).to.equal(3);
    expect(cluster.partition(1)!.log.lastStableOffset).to.equal(3);
    const written = cluster.eventsOf("txn-marker-written", "broker-1");
    expect(written).to.have.length(1);
    expect(written[0]).to.include({ topic: TOPIC, partition: 0, producerId: 500, producerEpoch: 0, result: "COMMIT", offset: 2, coordinatorEpoch: 3 });
    const lso = cluster.eventsOf("txn-lso", "broker-1").map((e) => e.lastStableOffset);
    expect(lso[lso.length - 1]).to.equal(3);
  });

  it("per-partition errors: a stale coordinator epoch is fenced, a follower is not the leader, an unknown partition", () => {
    const cluster = started();
    produce(cluster, 500, 0, "a");
    expect(writeMarkers(cluster, 1, 500, false, 5).markers[0].partitions[0].error).to.equal("NONE");
    produce(cluster, 500, 1, "b");
    expect(writeMarkers(cluster, 1, 500, true, 4).markers[0].partitions[0].error).to.equal("TRANSACTION_COORDINATOR_FENCED");
    expect(writeMarkers(cluster, 2, 500, true, 5).markers[0].partitions[0].error).to.equal("NOT_LEADER_OR_FOLLOWER");
    const mixed = writeMarkers(cluster, 1, 500, true, 5, [{ topic: "nope", partition: 0 }, { topic: TOPIC, partition: 0 }]);
    expect(mixed.markers[0].partitions.map((p) => p.error)).to.deep.equal(["UNKNOWN_TOPIC_OR_PARTITION", "NONE"]);
  });

  it("read_committed Fetch stops at the LSO and lists aborted transactions; ListOffsets LATEST is the LSO", () => {
    const cluster = started();
    produce(cluster, 500, 0, "plain", false); // 0
    produce(cluster, 600, 0, "aborted"); // 1
    produce(cluster, 700, 0, "open"); // 2
    writeMarkers(cluster, 1, 600, false); // 3
    expect(cluster.partition(1)!.log.highWatermark).to.equal(4);
    const committed = fetch(cluster, 1);
    expect(committed.lastStableOffset).to.equal(2);
    expect(committed.batches.map((b) => b.baseOffset)).to.deep.equal([0, 1]);
    expect(committed.abortedTransactions).to.deep.equal([{ producerId: 600, firstOffset: 1 }]);
    expect(latest(cluster, 1)).to.equal(2);
    const uncommitted = fetch(cluster, 0);
    expect(uncommitted.batches.map((b) => b.baseOffset)).to.deep.equal([0, 1, 2, 3]);
    expect(uncommitted.abortedTransactions).to.equal(undefined);
    expect(latest(cluster, 0)).to.equal(4);
    writeMarkers(cluster, 1, 700, true); // 4
    expect(latest(cluster, 1)).to.equal(5);
    // The aborted transaction's marker (3) lies in the range read from 2: still listed, as Kafka's index lookup does.
    expect(fetch(cluster, 1, 2).abortedTransactions).to.deep.equal([{ producerId: 600, firstOffset: 1 }]);
    expect(fetch(cluster, 1, 4).abortedTransactions).to.deep.equal([]);
  });
});
