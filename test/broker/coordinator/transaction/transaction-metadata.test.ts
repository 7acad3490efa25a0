// TransactionMetadata alone: Kafka's validPreviousStates on every prepared transition, the pending-state staging
// (one pending transition at a time, applied only by completeTransitionTo), KIP-360's expected epoch and the fence.
import { expect } from "chai";
import {
  ALL_TRANSACTION_STATES,
  TransactionMetadata,
  VALID_PREVIOUS_TXN_STATES,
  type TransactionState,
} from "../../../../src/broker/coordinator/transaction/transaction-metadata.ts";
import { ModelAssertionError } from "../../../../src/sim/assert.ts";

function metadataIn(state: TransactionState, partitions: string[] = state === "Ongoing" || state.startsWith("Prepare") ? ["t-0"] : []): TransactionMetadata {
  const start = state === "Empty" ? -1 : 10;
  return new TransactionMetadata("tx", 7, -1, 3, -1, 60_000, state, partitions, start, 10);
}

/** Prepare a transition to `to` through the method Kafka uses for it. */
function prepare(m: TransactionMetadata, to: TransactionState): void {
  switch (to) {
    case "Empty": m.prepareIncrementProducerEpoch(60_000, null, 20); return;
    case "Ongoing": m.prepareAddPartitions(["t-1"], 20); return;
    case "PrepareCommit":
    case "PrepareAbort": m.prepareAbortOrCommit(to, 20); return;
    case "CompleteCommit":
    case "CompleteAbort": m.prepareComplete(20); return;
    case "Dead": m.prepareDead(); return;
    case "PrepareEpochFence": m.prepareFenceProducerEpoch(); return;
  }
}

describe("TransactionMetadata", () => {
  it("allows exactly Kafka's validPreviousStates and asserts the rest", () => {
    for (const from of ALL_TRANSACTION_STATES) {
      for (const to of ALL_TRANSACTION_STATES) {
        if (to === "CompleteCommit" || to === "CompleteAbort") continue; // prepareComplete chooses its target
        const m = metadataIn(from);
        if (VALID_PREVIOUS_TXN_STATES[to].includes(from)) {
          prepare(m, to);
          expect(m.pendingState, `${from} → ${to}`).to.equal(to);
        } else {
          expect(() => prepare(m, to), `${from} → ${to}`).to.throw(ModelAssertionError);
        }
      }
    }
    for (const from of ALL_TRANSACTION_STATES) {
      const m = metadataIn(from);
      const target = from === "PrepareCommit" ? "CompleteCommit" : "CompleteAbort";
      if (VALID_PREVIOUS_TXN_STATES[target].includes(from)) {
        m.prepareComplete(20);
        expect(m.pendingState, from).to.equal(target);
      } else {
        expect(() => m.prepareComplete(20), from).to.throw(ModelAssertionError);
      }
    }
    expect(VALID_PREVIOUS_TXN_STATES.PrepareAbort).to.deep.equal(["Ongoing", "PrepareEpochFence"]);
    expect(VALID_PREVIOUS_TXN_STATES.CompleteCommit).to.deep.equal(["PrepareCommit"]);
  });

  it("stages one pending transition at a time and applies it only on completeTransitionTo", () => {
    const m = metadataIn("Empty");
    const transit = m.prepareAddPartitions(["t-0", "u-1"], 50);
    expect(m.state).to.equal("Empty");
    expect(m.topicPartitions).to.deep.equal([]);
    expect(() => m.prepareAddPartitions(["t-2"], 51)).to.throw(ModelAssertionError);
    m.completeTransitionTo(transit);
    expect(m.state).to.equal("Ongoing");
    expect(m.pendingState).to.equal(null);
    expect(m.topicPartitions).to.deep.equal(["t-0", "u-1"]);
    expect(m.txnStartTimestamp).to.equal(50);
    // A later add keeps the start timestamp.
    m.completeTransitionTo(m.prepareAddPartitions(["t-2"], 60));
    expect(m.txnStartTimestamp).to.equal(50);
    expect(m.txnLastUpdateTimestamp).to.equal(60);
    m.completeTransitionTo(m.prepareAbortOrCommit("PrepareCommit", 70));
    expect(m.topicPartitions).to.have.length(3);
    m.removePartition("t-0");
    m.completeTransitionTo(m.prepareComplete(80));
    expect(m.state).to.equal("CompleteCommit");
    expect(m.topicPartitions).to.deep.equal([]);
  });

  it("asserts a completion that does not match the pending state", () => {
    const m = metadataIn("Ongoing");
    const commit = m.prepareAbortOrCommit("PrepareCommit", 20);
    expect(() => m.completeTransitionTo({ ...commit, txnState: "PrepareAbort" })).to.throw(ModelAssertionError);
    expect(() => metadataIn("Ongoing").completeTransitionTo(commit)).to.throw(ModelAssertionError);
    expect(() => m.completeTransitionTo({ ...commit, producerEpoch: 9 })).to.throw(ModelAssertionError);
  });

  it("bumps the epoch per KIP-360's expected epoch, answers a retry without bumping, fences a stale one", () => {
    const fresh = TransactionMetadata.create("tx", 7, -1, 60_000, 0);
    const first = fresh.prepareIncrementProducerEpoch(60_000, null, 1);
    expect(first).to.include({ producerEpoch: 0, lastProducerEpoch: -1 });
    const m = metadataIn("Empty"); // epoch 3
    const bump = m.prepareIncrementProducerEpoch(60_000, 3, 20);
    expect(bump).to.include({ producerEpoch: 4, lastProducerEpoch: 3 });
    if (bump === "PRODUCER_FENCED") throw new Error("unexpected");
    m.completeTransitionTo(bump);
    const retry = m.prepareIncrementProducerEpoch(60_000, 3, 21);
    expect(retry).to.include({ producerEpoch: 4, lastProducerEpoch: 3 });
    m.pendingState = null;
    expect(m.prepareIncrementProducerEpoch(60_000, 1, 22)).to.equal("PRODUCER_FENCED");
    expect(m.pendingState).to.equal(null);
  });

  it("fences an ongoing transaction with a bumped epoch, not bumped again after a failed fence", () => {
    const m = metadataIn("Ongoing");
    expect(m.prepareFenceProducerEpoch()).to.include({ txnState: "PrepareEpochFence", producerEpoch: 4, lastProducerEpoch: -1 });
    m.pendingState = null;
    m.hasFailedEpochFence = true;
    expect(m.prepareFenceProducerEpoch()).to.include({ producerEpoch: 3 });
  });

  it("rotates the producer id to a new one at epoch 0 (epoch exhausted)", () => {
    const m = new TransactionMetadata("tx", 7, -1, 32766, -1, 60_000, "CompleteCommit", [], 10, 10);
    expect(m.isProducerEpochExhausted).to.equal(true);
    expect(() => m.prepareIncrementProducerEpoch(60_000, null, 20)).to.throw(ModelAssertionError);
    const rotation = m.prepareProducerIdRotation(8, 60_000, 20, true);
    m.completeTransitionTo(rotation);
    expect(m).to.include({ producerId: 8, lastProducerId: 7, producerEpoch: 0, lastProducerEpoch: 32766, state: "Empty" });
  });
});
