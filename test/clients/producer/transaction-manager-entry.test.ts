import { expect } from "chai";
import { ProducerBatch, type PendingRecord } from "../../../src/clients/producer/batch.ts";
import { TransactionManager } from "../../../src/clients/producer/transaction-manager.ts";

/**
 * TransactionManager keeps the partition entry it looked up last (issue 18): a partition whose entry was
 * dropped (UNKNOWN_PRODUCER_ID, resetSequenceNumbers) must start again at sequence 0, not from the kept entry.
 */

function batch(partition: number): ProducerBatch {
  const record: PendingRecord = { key: null, value: "v", keyLength: -1, valueLength: 1, timestamp: 0, callback: () => {} };
  const b = new ProducerBatch("t", partition, 0, 16_384, 16_384);
  b.tryAppend(record);
  return b;
}

describe("TransactionManager's last partition entry", () => {
  it("is forgotten when UNKNOWN_PRODUCER_ID drops the partition's entry", () => {
    const tm = new TransactionManager();
    tm.onProducerId(7, 0);
    const first = batch(0);
    tm.assignSequence(first);
    expect(tm.sequenceNumber("t-0")).to.equal(1);
    tm.handleFailedBatch(first, "UNKNOWN_PRODUCER_ID", false);
    expect(tm.sequenceNumber("t-0")).to.equal(0);
  });

  it("is forgotten when resetSequenceNumbers drops every entry", () => {
    const tm = new TransactionManager();
    tm.onProducerId(7, 0);
    tm.assignSequence(batch(1));
    expect(tm.sequenceNumber("t-1")).to.equal(1);
    tm.resetSequenceNumbers();
    expect(tm.sequenceNumber("t-1")).to.equal(0);
  });

  it("answers for the partition asked, across partitions", () => {
    const tm = new TransactionManager();
    tm.onProducerId(7, 0);
    tm.assignSequence(batch(0));
    tm.assignSequence(batch(0));
    tm.assignSequence(batch(1));
    expect(tm.sequenceNumber("t-0")).to.equal(2);
    expect(tm.sequenceNumber("t-1")).to.equal(1);
    expect(tm.sequenceNumber("t-0")).to.equal(2);
  });
});
