import { expect } from "chai";
import fc from "fast-check";
import {
  classifyBatchError,
  classifyTxnError,
  isTransitionValid,
  TransactionStateMachine,
  type TransactionState,
} from "../../../src/clients/producer/transaction-state.ts";

const STATES: TransactionState[] = [
  "UNINITIALIZED",
  "INITIALIZING",
  "READY",
  "IN_TRANSACTION",
  "COMMITTING_TRANSACTION",
  "ABORTING_TRANSACTION",
  "ABORTABLE_ERROR",
  "FATAL_ERROR",
];

describe("producer TransactionManager: state machine and error classification", () => {
  it("allows exactly Kafka 3.6's State.isTransitionValid edges", () => {
    const valid = new Set([
      "READY>UNINITIALIZED", "ABORTABLE_ERROR>UNINITIALIZED",
      "UNINITIALIZED>INITIALIZING", "ABORTING_TRANSACTION>INITIALIZING",
      "INITIALIZING>READY", "COMMITTING_TRANSACTION>READY", "ABORTING_TRANSACTION>READY",
      "READY>IN_TRANSACTION",
      "IN_TRANSACTION>COMMITTING_TRANSACTION",
      "IN_TRANSACTION>ABORTING_TRANSACTION", "ABORTABLE_ERROR>ABORTING_TRANSACTION",
      "IN_TRANSACTION>ABORTABLE_ERROR", "COMMITTING_TRANSACTION>ABORTABLE_ERROR", "ABORTABLE_ERROR>ABORTABLE_ERROR", "INITIALIZING>ABORTABLE_ERROR",
    ]);
    for (const source of STATES) {
      for (const target of STATES) {
        const expected = target === "FATAL_ERROR" || valid.has(`${source}>${target}`);
        expect(isTransitionValid(source, target), `${source} -> ${target}`).to.equal(expected);
      }
    }
  });

  it("asserts on an invalid transition and on an error state without an error", () => {
    const machine = new TransactionStateMachine();
    expect(() => machine.transitionTo("IN_TRANSACTION")).to.throw(/Invalid transition attempted from state UNINITIALIZED to state IN_TRANSACTION/);
    machine.transitionTo("INITIALIZING");
    expect(() => machine.transitionTo("ABORTABLE_ERROR")).to.throw(/null error/);
    machine.transitionTo("ABORTABLE_ERROR", "TRANSACTIONAL_ID_AUTHORIZATION_FAILED");
    expect(machine.lastError).to.equal("TRANSACTIONAL_ID_AUTHORIZATION_FAILED");
  });

  it("never leaves FATAL_ERROR except to FATAL_ERROR, whatever the walk", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...STATES), { maxLength: 30 }), (targets) => {
        const machine = new TransactionStateMachine();
        for (const target of targets) {
          const before = machine.state;
          if (!isTransitionValid(before, target)) {
            expect(() => machine.transitionTo(target, "X")).to.throw();
            expect(machine.state).to.equal(before);
            continue;
          }
          machine.transitionTo(target, "X");
          if (before === "FATAL_ERROR") expect(target).to.equal("FATAL_ERROR");
        }
      }),
    );
  });

  it("classifies coordinator errors as the Java handlers do", () => {
    expect(classifyTxnError("InitProducerId", "NOT_COORDINATOR")).to.deep.equal({ action: "lookup-coordinator" });
    expect(classifyTxnError("InitProducerId", "COORDINATOR_LOAD_IN_PROGRESS")).to.deep.equal({ action: "retry" });
    expect(classifyTxnError("InitProducerId", "CONCURRENT_TRANSACTIONS")).to.deep.equal({ action: "retry" });
    expect(classifyTxnError("InitProducerId", "INVALID_PRODUCER_EPOCH")).to.deep.equal({ action: "fatal", error: "PRODUCER_FENCED" });
    expect(classifyTxnError("InitProducerId", "TRANSACTIONAL_ID_AUTHORIZATION_FAILED").action).to.equal("abortable");
    expect(classifyTxnError("InitProducerId", "INVALID_TRANSACTION_TIMEOUT").action).to.equal("fatal");
    expect(classifyTxnError("AddPartitionsToTxn", "CONCURRENT_TRANSACTIONS")).to.deep.equal({ action: "retry" });
    expect(classifyTxnError("AddPartitionsToTxn", "COORDINATOR_NOT_AVAILABLE")).to.deep.equal({ action: "lookup-coordinator" });
    expect(classifyTxnError("AddPartitionsToTxn", "INVALID_TXN_STATE").action).to.equal("fatal");
    expect(classifyTxnError("AddPartitionsToTxn", "PRODUCER_FENCED")).to.deep.equal({ action: "fatal", error: "PRODUCER_FENCED" });
    expect(classifyTxnError("AddPartitionsToTxn", "UNKNOWN_PRODUCER_ID").action).to.equal("abortable-bump");
    expect(classifyTxnError("AddPartitionsToTxn", "INVALID_PRODUCER_ID_MAPPING").action).to.equal("abortable-bump");
    expect(classifyTxnError("AddPartitionsToTxn", "OPERATION_NOT_ATTEMPTED").action).to.equal("abortable");
    expect(classifyTxnError("EndTxn", "CONCURRENT_TRANSACTIONS")).to.deep.equal({ action: "retry" });
    expect(classifyTxnError("EndTxn", "INVALID_TXN_STATE").action).to.equal("fatal");
    expect(classifyTxnError("EndTxn", "INVALID_PRODUCER_ID_MAPPING").action).to.equal("abortable-bump");
    expect(classifyTxnError("EndTxn", "GROUP_AUTHORIZATION_FAILED").action).to.equal("fatal");
    expect(classifyTxnError("AddOffsetsToTxn", "GROUP_AUTHORIZATION_FAILED").action).to.equal("abortable");
    expect(classifyTxnError("TxnOffsetCommit", "REQUEST_TIMED_OUT")).to.deep.equal({ action: "lookup-coordinator" });
    expect(classifyTxnError("TxnOffsetCommit", "COORDINATOR_LOAD_IN_PROGRESS")).to.deep.equal({ action: "retry" });
    expect(classifyTxnError("TxnOffsetCommit", "ILLEGAL_GENERATION").action).to.equal("abortable");
    expect(classifyTxnError("TxnOffsetCommit", "UNKNOWN_MEMBER_ID").action).to.equal("abortable");
    expect(classifyTxnError("TxnOffsetCommit", "PRODUCER_FENCED").action).to.equal("fatal");
    expect(classifyTxnError("FindCoordinator", "COORDINATOR_NOT_AVAILABLE")).to.deep.equal({ action: "retry" });
    expect(classifyTxnError("FindCoordinator", "GROUP_AUTHORIZATION_FAILED").action).to.equal("abortable");
  });

  it("classifies failed produce batches: fenced is fatal, everything else abortable", () => {
    expect(classifyBatchError("PRODUCER_FENCED")).to.equal("fatal");
    expect(classifyBatchError("TRANSACTIONAL_ID_AUTHORIZATION_FAILED")).to.equal("fatal");
    expect(classifyBatchError("INVALID_PRODUCER_EPOCH")).to.equal("abortable");
    expect(classifyBatchError("DELIVERY_TIMEOUT")).to.equal("abortable");
    expect(classifyBatchError("OUT_OF_ORDER_SEQUENCE_NUMBER")).to.equal("abortable");
  });
});
