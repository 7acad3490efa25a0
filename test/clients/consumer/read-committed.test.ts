// The consumer's read_committed filter (CompletedFetch.nextFetchedBatch, Kafka 3.6): aborted transactional batches
// are skipped from the transaction's first offset to its ABORT marker; other producers' and later batches are kept.
import { expect } from "chai";
import { makeBatch, makeEndTxnMarker, withBaseOffset, type ControlType, type RecordBatch } from "../../../src/broker/log/records.ts";
import { readCommittedBatches } from "../../../src/clients/consumer/fetcher.ts";

function data(baseOffset: number, producerId: number, value: string, isTransactional = true): RecordBatch {
  return makeBatch({ baseOffset, partitionLeaderEpoch: 0, producerId, producerEpoch: 0, baseSequence: 0, isTransactional, records: [{ key: null, value, timestamp: 0 }] });
}

function marker(baseOffset: number, producerId: number, controlType: ControlType): RecordBatch {
  return withBaseOffset(makeEndTxnMarker({ producerId, producerEpoch: 0, coordinatorEpoch: 0, controlType, timestamp: 0 }), baseOffset);
}

const values = (batches: RecordBatch[]) => batches.flatMap((b) => (b.isControl ? [] : b.records.map((r) => r.value)));

describe("consumer: read_committed filtering", () => {
  it("skips an aborted producer's batches up to its ABORT marker and keeps everything else", () => {
    const batches = [
      data(0, -1, "plain", false),
      data(1, 7, "aborted-1"),
      data(2, 8, "committed"),
      data(3, 7, "aborted-2"),
      marker(4, 7, "ABORT"),
      marker(5, 8, "COMMIT"),
      data(6, 7, "next-txn"),
    ];
    const filtered = readCommittedBatches(batches, [{ producerId: 7, firstOffset: 1 }]);
    expect(values(filtered)).to.deep.equal(["plain", "committed", "next-txn"]);
    // Every batch stays (emptied when aborted), so the position moves past all of them.
    expect(filtered.map((b) => b.baseOffset)).to.deep.equal([0, 1, 2, 3, 4, 5, 6]);
  });

  it("an aborted transaction starting after a batch does not skip it", () => {
    const filtered = readCommittedBatches([data(0, 7, "earlier-committed"), marker(1, 7, "COMMIT"), data(2, 7, "aborted"), marker(3, 7, "ABORT")], [{ producerId: 7, firstOffset: 2 }]);
    expect(values(filtered)).to.deep.equal(["earlier-committed"]);
  });

  it("without aborted transactions nothing is skipped", () => {
    expect(values(readCommittedBatches([data(0, 7, "a"), marker(1, 7, "COMMIT")], []))).to.deep.equal(["a"]);
  });
});
