// KIP-890 part 1's verification state in the producer state (ProducerStateManager.verificationStates,
// VerificationStateEntry): created before a producer's first transactional append on a partition, cleared by any
// transactional batch or marker, so a verification answered before a marker no longer matches (the ABA case).
import { expect } from "chai";
import { ProducerStateManager } from "../../../src/broker/idempotence/producer-state-manager.ts";
import { makeBatch, makeEndTxnMarker, withBaseOffset, type RecordBatch } from "../../../src/broker/log/records.ts";

const PID = 7;

function manager(): ProducerStateManager {
  return new ProducerStateManager("t-0", { logStartOffset: 0, batchesFrom: (): RecordBatch[] => [] });
}

function data(baseOffset: number, sequence: number, epoch = 0): RecordBatch {
  return makeBatch({ baseOffset, partitionLeaderEpoch: 0, producerId: PID, producerEpoch: epoch, baseSequence: sequence, isTransactional: true, records: [{ key: null, value: `v${sequence}`, timestamp: 0 }] });
}

describe("KIP-890 part 1: the verification guard in the producer state", () => {
  it("a producer without an open transaction gets a guard; the same pending verification keeps it", () => {
    const state = manager();
    const guard = state.maybeStartTransactionVerification(PID, 0, 0, 0);
    expect(guard).to.not.equal(null);
    expect(state.maybeStartTransactionVerification(PID, 0, 0, 1)).to.equal(guard);
    expect(state.verificationGuard(PID)).to.equal(guard);
  });

  it("an open transaction needs no verification", () => {
    const state = manager();
    state.onBatchAppended(data(0, 0));
    expect(state.maybeStartTransactionVerification(PID, 1, 0, 0)).to.equal(null);
  });

  it("a marker clears the guard: a verification answered before it no longer matches, a new one gets a new guard", () => {
    const state = manager();
    const guard = state.maybeStartTransactionVerification(PID, 0, 0, 0);
    state.onBatchAppended(withBaseOffset(makeEndTxnMarker({ producerId: PID, producerEpoch: 0, coordinatorEpoch: 0, controlType: "ABORT", timestamp: 0 }), 0));
    expect(state.verificationGuard(PID)).to.equal(null);
    const next = state.maybeStartTransactionVerification(PID, 0, 0, 0);
    expect(next).to.not.equal(guard);
  });

  it("the first data batch of the transaction clears the guard", () => {
    const state = manager();
    state.maybeStartTransactionVerification(PID, 0, 0, 0);
    state.onBatchAppended(data(0, 0));
    expect(state.verificationGuard(PID)).to.equal(null);
  });

  it("while verifying, a sequence above the lowest one seen is OUT_OF_ORDER_SEQUENCE_NUMBER", () => {
    const state = manager();
    state.maybeStartTransactionVerification(PID, 3, 0, 0);
    state.maybeStartTransactionVerification(PID, 2, 0, 0);
    expect(state.checkLeaderAppend(data(0, 3))).to.deep.equal({ kind: "error", error: "OUT_OF_ORDER_SEQUENCE_NUMBER" });
    expect(state.checkLeaderAppend(data(0, 2)).kind).to.equal("append");
  });
});
