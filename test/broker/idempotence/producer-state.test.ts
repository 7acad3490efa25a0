// The per-partition producer state machine (ProducerStateEntry / ProducerAppendInfo checks, Kafka 3.x): in-sequence
// appends, duplicates of each of the last five batches, out-of-order sequences, epoch bumps, fenced epochs,
// sequence wrap-around, unknown producers, follower appends, truncation and rebuild.
import { expect } from "chai";
import {
  decrementSequence,
  incrementSequence,
  INT32_MAX,
  lastSequence,
  NUM_BATCHES_TO_RETAIN,
} from "../../../src/broker/idempotence/producer-state-entry.ts";
import { ProducerStateManager } from "../../../src/broker/idempotence/producer-state-manager.ts";
import { lastOffset, makeBatch, nextOffset, type RecordBatch } from "../../../src/broker/log/records.ts";

const PID = 4000;

/** A fake log: an array of batches the manager is kept in step with. */
class FakeLog {
  readonly batches: RecordBatch[] = [];
  logStartOffset = 0;
  readonly state = new ProducerStateManager("t-0", this);

  get logEndOffset(): number {
    return this.batches.length === 0 ? this.logStartOffset : nextOffset(this.batches[this.batches.length - 1]);
  }

  *batchesFrom(offset: number): Generator<RecordBatch> {
    for (const batch of this.batches) if (lastOffset(batch) >= offset) yield batch;
  }

  /** A client batch through the leader: checked, then appended at the log end when accepted. */
  produce(epoch: number, baseSequence: number, records = 1, producerId = PID) {
    const batch = idempotentBatch(this.logEndOffset, producerId, epoch, baseSequence, records);
    const check = this.state.checkLeaderAppend(batch);
    if (check.kind === "append") this.append(batch);
    return { check, baseOffset: batch.baseOffset };
  }

  /** An append without checks (a follower copying, or the leader after its check). */
  append(batch: RecordBatch): void {
    this.batches.push(batch);
    this.state.onBatchAppended(batch);
  }

  truncateTo(offset: number): void {
    while (this.batches.length > 0 && lastOffset(this.batches[this.batches.length - 1]) >= offset) this.batches.pop();
    this.state.onTruncate(offset);
  }
}

function idempotentBatch(baseOffset: number, producerId: number, producerEpoch: number, baseSequence: number, records = 1): RecordBatch {
  return makeBatch({
    baseOffset,
    partitionLeaderEpoch: 0,
    producerId,
    producerEpoch,
    baseSequence,
    records: Array.from({ length: records }, (_, i) => ({ key: null, value: `v${baseSequence}-${i}`, timestamp: 0 })),
  });
}

describe("idempotence: sequence arithmetic (DefaultRecordBatch)", () => {
  it("increments and decrements with wrap-around at Int.MAX", () => {
    expect(incrementSequence(5, 3)).to.equal(8);
    expect(incrementSequence(INT32_MAX, 1)).to.equal(0);
    expect(incrementSequence(INT32_MAX - 1, 3)).to.equal(1);
    expect(decrementSequence(1, 3)).to.equal(INT32_MAX - 1);
    expect(decrementSequence(8, 3)).to.equal(5);
    expect(lastSequence(idempotentBatch(0, PID, 0, INT32_MAX - 1, 3))).to.equal(0);
    expect(lastSequence(idempotentBatch(0, PID, 0, INT32_MAX - 1, 4))).to.equal(1);
  });
});

describe("idempotence: ProducerStateManager", () => {
  it("accepts in-sequence batches and remembers the last five", () => {
    const log = new FakeLog();
    let seq = 0;
    for (let i = 0; i < 8; i++) {
      expect(log.produce(0, seq, 2).check.kind).to.equal("append");
      seq += 2;
    }
    const entry = log.state.lastEntry(PID)!;
    expect(entry.producerEpoch).to.equal(0);
    expect(entry.batchMetadata).to.have.length(NUM_BATCHES_TO_RETAIN);
    expect(entry.batchMetadata.map((m) => m.firstSeq)).to.deep.equal([6, 8, 10, 12, 14]);
    expect(entry.lastSeq).to.equal(15);
    expect(log.logEndOffset).to.equal(16);
  });

  it("a retry of each of the last five batches is a duplicate answered with the original offsets", () => {
    const log = new FakeLog();
    const original: number[] = [];
    for (let seq = 0; seq < 7; seq++) original.push(log.produce(0, seq).baseOffset);
    const end = log.logEndOffset;
    for (let seq = 2; seq < 7; seq++) {
      const { check } = log.produce(0, seq);
      expect(check, `seq ${seq}`).to.deep.equal({ kind: "duplicate", firstOffset: original[seq], lastOffset: original[seq] });
    }
    expect(log.logEndOffset, "nothing appended").to.equal(end);
    // The sixth-newest batch is forgotten: its retry is out of order, not a duplicate.
    expect(log.produce(0, 1).check).to.deep.equal({ kind: "error", error: "OUT_OF_ORDER_SEQUENCE_NUMBER" });
  });

  it("a duplicate must match the whole sequence range and the epoch", () => {
    const log = new FakeLog();
    log.produce(0, 0, 3);
    log.produce(0, 3, 3);
    expect(log.produce(0, 3, 3).check.kind).to.equal("duplicate");
    expect(log.produce(0, 3, 2).check).to.deep.equal({ kind: "error", error: "OUT_OF_ORDER_SEQUENCE_NUMBER" });
    expect(log.produce(0, 4, 2).check).to.deep.equal({ kind: "error", error: "OUT_OF_ORDER_SEQUENCE_NUMBER" });
  });

  it("rejects a gap or a rewind in the sequence with OUT_OF_ORDER_SEQUENCE_NUMBER and changes nothing", () => {
    const log = new FakeLog();
    log.produce(0, 0);
    log.produce(0, 1);
    expect(log.produce(0, 3).check).to.deep.equal({ kind: "error", error: "OUT_OF_ORDER_SEQUENCE_NUMBER" });
    expect(log.produce(0, 0, 2).check).to.deep.equal({ kind: "error", error: "OUT_OF_ORDER_SEQUENCE_NUMBER" });
    expect(log.state.lastEntry(PID)!.lastSeq).to.equal(1);
    expect(log.produce(0, 2).check.kind).to.equal("append");
  });

  it("a higher epoch must start at sequence 0 and forgets the old epoch's batches", () => {
    const log = new FakeLog();
    log.produce(0, 0);
    log.produce(0, 1);
    expect(log.produce(1, 2).check).to.deep.equal({ kind: "error", error: "OUT_OF_ORDER_SEQUENCE_NUMBER" });
    expect(log.produce(1, 0).check.kind).to.equal("append");
    const entry = log.state.lastEntry(PID)!;
    expect(entry.producerEpoch).to.equal(1);
    expect(entry.batchMetadata).to.have.length(1);
    expect(log.produce(1, 1).check.kind).to.equal("append");
    expect(log.produce(1, 0).check.kind, "the new epoch's own retry").to.equal("duplicate");
  });

  it("fences a lower epoch with INVALID_PRODUCER_EPOCH, even for a retry of its own batch", () => {
    const log = new FakeLog();
    log.produce(0, 0);
    log.produce(1, 0);
    expect(log.produce(0, 0).check).to.deep.equal({ kind: "error", error: "INVALID_PRODUCER_EPOCH" });
    expect(log.produce(0, 1).check).to.deep.equal({ kind: "error", error: "INVALID_PRODUCER_EPOCH" });
  });

  it("sequences wrap from Int.MAX to 0", () => {
    const log = new FakeLog();
    // An unknown producer may start anywhere (3.x), so start near the top.
    expect(log.produce(0, INT32_MAX - 2, 2).check.kind).to.equal("append");
    expect(log.produce(0, INT32_MAX, 1).check.kind).to.equal("append");
    expect(log.state.lastEntry(PID)!.lastSeq).to.equal(INT32_MAX);
    expect(log.produce(0, 1).check.kind, "skipping 0 after the wrap").to.equal("error");
    expect(log.produce(0, 0, 3).check.kind).to.equal("append");
    expect(log.produce(0, 3).check.kind).to.equal("append");
    // A batch straddling the wrap, then its retry.
    const log2 = new FakeLog();
    log2.produce(0, INT32_MAX - 1, 3);
    expect(log2.state.lastEntry(PID)!.lastSeq).to.equal(0);
    expect(log2.produce(0, INT32_MAX - 1, 3).check.kind).to.equal("duplicate");
    expect(log2.produce(0, 1).check.kind).to.equal("append");
  });

  it("accepts an unknown producer at any sequence (Kafka 2.5+: no UNKNOWN_PRODUCER_ID) and tracks producers apart", () => {
    const log = new FakeLog();
    expect(log.produce(0, 42).check.kind).to.equal("append");
    expect(log.produce(3, 0, 1, PID + 1).check.kind).to.equal("append");
    expect(log.produce(0, 43).check.kind).to.equal("append");
    expect(log.produce(3, 1, 1, PID + 1).check.kind).to.equal("append");
    expect([...log.state.producers.keys()]).to.deep.equal([PID, PID + 1]);
  });

  it("ignores batches without a producer id", () => {
    const log = new FakeLog();
    const plain = makeBatch({ baseOffset: 0, partitionLeaderEpoch: 0, records: [{ key: null, value: "x", timestamp: 0 }] });
    expect(log.state.checkLeaderAppend(plain).kind).to.equal("append");
    log.append(plain);
    expect(log.state.producers.size).to.equal(0);
  });

  it("a follower's appends are not validated: the state follows the leader's log", () => {
    const log = new FakeLog();
    log.append(idempotentBatch(0, PID, 2, 0));
    log.append(idempotentBatch(1, PID, 2, 7)); // out of order: a leader would refuse, a follower copies
    log.append(idempotentBatch(2, PID, 1, 0)); // lower epoch: copied as well (Kafka only warns)
    const entry = log.state.lastEntry(PID)!;
    expect(entry.producerEpoch).to.equal(1);
    expect(entry.batchMetadata.map((m) => m.firstOffset)).to.deep.equal([2]);
  });

  it("truncation rebuilds from what remains: an epoch bump above the truncation point is undone", () => {
    const log = new FakeLog();
    log.produce(0, 0);
    log.produce(0, 1);
    log.produce(0, 2);
    log.produce(1, 0);
    log.truncateTo(3);
    const entry = log.state.lastEntry(PID)!;
    expect(entry.producerEpoch).to.equal(0);
    expect(entry.batchMetadata.map((m) => m.firstSeq)).to.deep.equal([0, 1, 2]);
    expect(log.produce(0, 2).check.kind, "the old epoch's retry is a duplicate again").to.equal("duplicate");
    expect(log.produce(0, 3).check.kind).to.equal("append");
    log.truncateTo(0);
    expect(log.state.producers.size).to.equal(0);
  });

  it("truncation past every producer batch changes nothing; an emptied log empties the state", () => {
    const log = new FakeLog();
    log.produce(0, 0);
    log.append(makeBatch({ baseOffset: 1, partitionLeaderEpoch: 0, records: [{ key: null, value: "x", timestamp: 0 }] }));
    log.truncateTo(1);
    expect(log.state.lastEntry(PID)!.lastSeq).to.equal(0);
    // truncateFullyAndStartAt(10): the log is empty, the state too.
    log.batches.length = 0;
    log.logStartOffset = 10;
    log.state.onTruncate(10);
    expect(log.state.producers.size).to.equal(0);
  });

  it("rebuild replays the log into the same state as the appends made", () => {
    const log = new FakeLog();
    for (let seq = 0; seq < 6; seq++) log.produce(0, seq);
    log.produce(1, 0, 4);
    log.produce(0, 0, 1, PID + 7);
    const rebuilt = new ProducerStateManager("t-0", log);
    rebuilt.rebuild(log.batchesFrom(0));
    expect([...rebuilt.producers.entries()]).to.deep.equal([...log.state.producers.entries()]);
    expect(rebuilt.checkLeaderAppend(idempotentBatch(99, PID, 1, 0, 4)).kind).to.equal("duplicate");
  });
});
