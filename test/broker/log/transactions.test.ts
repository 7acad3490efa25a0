// The log side of transactions (ProducerStateManager / ProducerAppendInfo / UnifiedLog.lastStableOffset, Kafka
// 3.6): transactional batches open a transaction, markers (one offset, coordinator-epoch fenced) close it, the
// LSO stays at the first unstable offset until the marker is below the high watermark, aborts go to the index.
import { expect } from "chai";
import type { Log } from "../../../src/broker/log/log.ts";
import { makeBatch, makeEndTxnMarker, markerCoordinatorEpoch, withBaseOffset, type ControlType, type RecordBatch } from "../../../src/broker/log/records.ts";
import type { LeaderAppendCheck } from "../../../src/broker/log/producer-state.ts";
import { makeBroker } from "./helpers.ts";

function txnBatch(producerId: number, producerEpoch: number, baseSequence: number, values: string[], isTransactional = true): RecordBatch {
  return makeBatch({
    baseOffset: 0,
    partitionLeaderEpoch: 0,
    producerId,
    producerEpoch,
    baseSequence,
    isTransactional,
    records: values.map((value) => ({ key: null, value, timestamp: 0 })),
  });
}

function marker(producerId: number, producerEpoch: number, controlType: ControlType, coordinatorEpoch = 0): RecordBatch {
  return makeEndTxnMarker({ producerId, producerEpoch, controlType, coordinatorEpoch, timestamp: 0 });
}

/** The leader's path: the producer-state check, then appendAsLeader when accepted. */
function leaderAppend(log: Log, batch: RecordBatch): LeaderAppendCheck | number {
  const check = log.producerState.checkLeaderAppend(batch);
  if (check.kind !== "append") return check;
  const appended = log.appendAsLeader(batch, 0);
  if (appended.error !== null) throw new Error(appended.error);
  return appended.firstOffset;
}

function newLog(): Log {
  const rig = makeBroker();
  return rig.manager().getOrCreateLog("t", 0) as Log;
}

describe("log: transactions, LSO and the aborted-transaction index", () => {
  it("a marker is one control record with Kafka's key and value sizes, carrying the coordinator epoch", () => {
    const m = marker(7, 0, "COMMIT", 300_000);
    expect(m.records.length).to.equal(1);
    expect(m.lastOffsetDelta).to.equal(0);
    expect(m.isControl && m.isTransactional).to.equal(true);
    expect(m.records[0].key?.length).to.equal(4);
    expect(m.records[0].value?.length).to.equal(6);
    expect(markerCoordinatorEpoch(m)).to.equal(300_000);
  });

  it("an ongoing transaction holds the LSO at its first offset; the marker frees it once below the HW", () => {
    const log = newLog();
    expect(leaderAppend(log, txnBatch(-1, -1, -1, ["plain"], false))).to.equal(0);
    expect(leaderAppend(log, txnBatch(1, 0, 0, ["a", "b"]))).to.equal(1);
    expect(leaderAppend(log, txnBatch(1, 0, 2, ["c"]))).to.equal(3);
    log.updateHighWatermark(log.logEndOffset);
    expect(log.highWatermark).to.equal(4);
    expect(log.lastStableOffset).to.equal(1);
    expect(leaderAppend(log, marker(1, 0, "COMMIT"))).to.equal(4);
    expect(log.logEndOffset).to.equal(5);
    // The marker (offset 4) is not below the HW yet: the transaction is still unstable.
    expect(log.lastStableOffset).to.equal(1);
    log.updateHighWatermark(5);
    expect(log.lastStableOffset).to.equal(5);
    expect(log.producerState.collectAbortedTransactions(0, 5)).to.deep.equal([]);
  });

  it("the LSO is min(firstUnstableOffset, HW)", () => {
    const log = newLog();
    leaderAppend(log, txnBatch(-1, -1, -1, ["x", "y", "z"], false));
    leaderAppend(log, txnBatch(1, 0, 0, ["a"]));
    log.updateHighWatermark(2);
    expect(log.lastStableOffset).to.equal(2);
    log.updateHighWatermark(4);
    expect(log.lastStableOffset).to.equal(3);
  });

  it("an abort is indexed as AbortedTxn(pid, first, last, lastStableOffset)", () => {
    const log = newLog();
    leaderAppend(log, txnBatch(1, 0, 0, ["a1"])); // 0
    leaderAppend(log, txnBatch(2, 0, 0, ["b1"])); // 1
    leaderAppend(log, marker(1, 0, "ABORT")); // 2
    leaderAppend(log, marker(2, 0, "ABORT")); // 3
    expect(log.producerState.collectAbortedTransactions(0, 4)).to.deep.equal([
      // Producer 2's transaction was still open at 1 when 1's abort was written.
      { producerId: 1, firstOffset: 0, lastOffset: 2, lastStableOffset: 1 },
      { producerId: 2, firstOffset: 1, lastOffset: 3, lastStableOffset: 4 },
    ]);
    expect(log.producerState.collectAbortedTransactions(3, 4).map((t) => t.producerId)).to.deep.equal([2]);
    expect(log.producerState.collectAbortedTransactions(0, 1).map((t) => t.producerId)).to.deep.equal([1]);
  });

  it("a marker from an older coordinator epoch is TRANSACTION_COORDINATOR_FENCED", () => {
    const log = newLog();
    leaderAppend(log, txnBatch(1, 0, 0, ["a"]));
    expect(leaderAppend(log, marker(1, 0, "COMMIT", 5))).to.equal(1);
    leaderAppend(log, txnBatch(1, 0, 1, ["b"]));
    expect(leaderAppend(log, marker(1, 0, "ABORT", 4))).to.deep.equal({ kind: "error", error: "TRANSACTION_COORDINATOR_FENCED" });
    expect(leaderAppend(log, marker(1, 0, "ABORT", 5))).to.equal(3);
  });

  it("a marker with an older producer epoch is INVALID_PRODUCER_EPOCH", () => {
    const log = newLog();
    leaderAppend(log, txnBatch(1, 3, 0, ["a"]));
    expect(leaderAppend(log, marker(1, 2, "ABORT"))).to.deep.equal({ kind: "error", error: "INVALID_PRODUCER_EPOCH" });
  });

  it("a non-transactional write inside the producer's open transaction is INVALID_TXN_STATE", () => {
    const log = newLog();
    leaderAppend(log, txnBatch(1, 0, 0, ["a"]));
    expect(leaderAppend(log, txnBatch(1, 0, 1, ["b"], false))).to.deep.equal({ kind: "error", error: "INVALID_TXN_STATE" });
  });

  it("a marker with no transaction open completes nothing and leaves the LSO at the HW", () => {
    const log = newLog();
    expect(leaderAppend(log, marker(9, 0, "ABORT"))).to.equal(0);
    log.updateHighWatermark(1);
    expect(log.lastStableOffset).to.equal(1);
    expect(log.producerState.collectAbortedTransactions(0, 1)).to.deep.equal([]);
  });

  it("truncation below a marker reopens the transaction; reloading rebuilds the index", () => {
    const log = newLog();
    leaderAppend(log, txnBatch(1, 0, 0, ["a"])); // 0
    leaderAppend(log, marker(1, 0, "ABORT")); // 1
    log.updateHighWatermark(2);
    expect(log.lastStableOffset).to.equal(2);
    log.truncateTo(1);
    log.updateHighWatermark(1);
    expect(log.lastStableOffset).to.equal(0);
    expect(log.producerState.collectAbortedTransactions(0, 1)).to.deep.equal([]);
    const follower = log.appendAsFollower(withBaseOffset(marker(1, 0, "ABORT"), 1));
    expect(follower.error).to.equal(null);
    expect(log.producerState.collectAbortedTransactions(0, 2)).to.have.length(1);
  });

  it("a log that never held a transactional batch reports no transactions and LSO = HW", () => {
    const log = newLog();
    leaderAppend(log, txnBatch(1, 0, 0, ["a"], false));
    log.updateHighWatermark(1);
    expect(log.producerState.hasTransactions).to.equal(false);
    expect(log.lastStableOffset).to.equal(1);
  });
});
