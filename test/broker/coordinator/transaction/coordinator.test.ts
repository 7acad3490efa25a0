// TransactionCoordinator over a fake transaction log: InitProducerId (KIP-360, fencing an ongoing transaction),
// AddPartitionsToTxn (incl. verifyOnly), AddOffsetsToTxn, EndTxn with Kafka's errors, the marker channel (retries,
// then CompleteX), the timeout abort, and loading a partition left in PrepareCommit.
import { expect } from "chai";
import { readTransactionLogValue } from "../../../../src/broker/coordinator/transaction/transaction-log.ts";
import { TxnCoordinatorHarness, TXN } from "./harness.ts";

const T0 = { topic: "t", partition: 0 };
const U1 = { topic: "u", partition: 1 };

/** A harness with TXN initialised (producer 1000, epoch 0) and, when given, partitions added. */
function ready(partitions: { topic: string; partition: number }[] = []): TxnCoordinatorHarness {
  const h = new TxnCoordinatorHarness();
  const init = h.initProducerId();
  h.run(5);
  expect(init.result).to.deep.equal({ error: "NONE", producerId: 1000, producerEpoch: 0 });
  if (partitions.length > 0) {
    const add = h.addPartitions(1000, 0, partitions);
    h.run(5);
    expect(add.error).to.equal("NONE");
  }
  return h;
}

describe("TransactionCoordinator", () => {
  it("InitProducerId: a new transactional id gets a producer id at epoch 0, written to the log", () => {
    const h = ready();
    expect(h.state()).to.equal("Empty");
    const records = h.logOf(0);
    expect(records).to.have.length(1);
    expect(readTransactionLogValue(records[0].value!)).to.include({ producerId: 1000, producerEpoch: 0, txnState: "Empty", txnTimeoutMs: 60_000 });
  });

  it("InitProducerId: bumps the epoch; KIP-360's expected epoch; a stale one is PRODUCER_FENCED", () => {
    const h = ready();
    const again = h.initProducerId();
    h.run(5);
    expect(again.result).to.deep.equal({ error: "NONE", producerId: 1000, producerEpoch: 1 });
    const withExpected = h.initProducerId({ expected: { producerId: 1000, producerEpoch: 1 } });
    h.run(5);
    expect(withExpected.result).to.deep.equal({ error: "NONE", producerId: 1000, producerEpoch: 2 });
    const wrongId = h.initProducerId({ expected: { producerId: 999, producerEpoch: 2 } });
    expect(wrongId.result?.error).to.equal("PRODUCER_FENCED");
    const staleEpoch = h.initProducerId({ expected: { producerId: 1000, producerEpoch: 0 } });
    expect(staleEpoch.result?.error).to.equal("PRODUCER_FENCED");
  });

  it("InitProducerId: rejects a bad timeout and answers CONCURRENT_TRANSACTIONS while a transition is pending", () => {
    const h = ready();
    expect(h.initProducerId({ timeoutMs: 900_001 }).result?.error).to.equal("INVALID_TRANSACTION_TIMEOUT");
    expect(h.initProducerId({ timeoutMs: 0 }).result?.error).to.equal("INVALID_TRANSACTION_TIMEOUT");
    const first = h.initProducerId();
    const second = h.initProducerId();
    expect(second.result?.error).to.equal("CONCURRENT_TRANSACTIONS");
    h.run(5);
    expect(first.result?.error).to.equal("NONE");
  });

  it("AddPartitionsToTxn: Ongoing with the partitions; errors for a wrong id, a stale epoch, an unknown id", () => {
    const h = ready([T0, U1]);
    expect(h.state()).to.equal("Ongoing");
    expect(h.addPartitions(1001, 0, [T0]).error).to.equal("INVALID_PRODUCER_ID_MAPPING");
    expect(h.addPartitions(1000, 1, [T0]).error).to.equal("PRODUCER_FENCED");
    // Already in the transaction: answered at once, nothing appended.
    const before = h.logOf(0).length;
    expect(h.addPartitions(1000, 0, [T0]).error).to.equal("NONE");
    expect(h.logOf(0)).to.have.length(before);
    let unknown = null as string | null;
    h.coordinator.handleAddPartitionsToTransaction("other", 1000, 0, [T0], (e) => (unknown = e));
    expect(unknown).to.equal("INVALID_PRODUCER_ID_MAPPING");
  });

  it("AddPartitionsToTxn verifyOnly: NONE for partitions in the transaction, INVALID_TXN_STATE for others", () => {
    const h = ready([T0]);
    expect(h.coordinator.handleVerifyPartitionsInTransaction(TXN, 1000, 0, [T0, U1])).to.deep.equal(["NONE", "INVALID_TXN_STATE"]);
    expect(h.coordinator.handleVerifyPartitionsInTransaction(TXN, 1000, 1, [T0])).to.deep.equal(["PRODUCER_FENCED"]);
    expect(h.coordinator.handleVerifyPartitionsInTransaction(TXN, 7, 0, [T0])).to.deep.equal(["INVALID_PRODUCER_ID_MAPPING"]);
  });

  it("AddOffsetsToTxn adds the group's __consumer_offsets partition", () => {
    const h = ready();
    let error = null as string | null;
    h.coordinator.handleAddOffsetsToTransaction(TXN, 1000, 0, "g", (e) => (error = e));
    h.run(5);
    expect(error).to.equal("NONE");
    const s = h.coordinator.txnManager.getTransactionState(TXN);
    expect(s !== null && "transactionMetadata" in s ? s.transactionMetadata.topicPartitions : []).to.have.length(1);
    expect(s !== null && "transactionMetadata" in s ? s.transactionMetadata.topicPartitions[0] : "").to.match(/^__consumer_offsets-\d+$/);
  });

  it("EndTxn commit: PrepareCommit, markers to the leaders, CompleteCommit once every marker is written", () => {
    const h = ready([T0, U1]);
    const end = h.endTxn(1000, 0, true);
    h.run(5);
    expect(end.error).to.equal("NONE");
    expect(h.state()).to.equal("PrepareCommit");
    expect(h.markers).to.have.length(1);
    expect(h.markers[0].brokerId).to.equal(2);
    expect(h.markers[0].request.markers[0]).to.deep.include({ producerId: 1000, producerEpoch: 0, transactionResult: true, coordinatorEpoch: 1 });
    // While the markers are sent, CompleteCommit is pending: any EndTxn is CONCURRENT_TRANSACTIONS.
    expect(h.endTxn(1000, 0, true).error).to.equal("CONCURRENT_TRANSACTIONS");
    expect(h.endTxn(1000, 0, false).error).to.equal("CONCURRENT_TRANSACTIONS");
    h.answerMarkers(0);
    h.run(5);
    expect(h.state()).to.equal("CompleteCommit");
    expect(readTransactionLogValue(h.logOf(0).at(-1)!.value!)).to.include({ txnState: "CompleteCommit" });
    expect(h.endTxn(1000, 0, true).error).to.equal("NONE");
    expect(h.endTxn(1000, 0, false).error).to.equal("INVALID_TXN_STATE");
  });

  it("EndTxn: INVALID_TXN_STATE from Empty, PRODUCER_FENCED with a stale epoch, INVALID_PRODUCER_ID_MAPPING with another id", () => {
    const h = ready();
    expect(h.endTxn(1000, 0, true).error).to.equal("INVALID_TXN_STATE");
    expect(h.endTxn(1000, 3, true).error).to.equal("PRODUCER_FENCED");
    expect(h.endTxn(42, 0, true).error).to.equal("INVALID_PRODUCER_ID_MAPPING");
  });

  it("the marker channel retries NOT_LEADER_OR_FOLLOWER / NOT_ENOUGH_REPLICAS partitions, then completes", () => {
    const h = ready([T0, U1]);
    h.endTxn(1000, 0, false);
    h.run(5);
    h.answerMarkers(0, (topic) => (topic === "t" ? "NOT_LEADER_OR_FOLLOWER" : "NONE"));
    h.run(5);
    expect(h.state()).to.equal("PrepareAbort");
    expect(h.markers).to.have.length(2);
    expect(h.markers[1].request.markers[0].partitions).to.deep.equal([T0]);
    h.answerMarkers(1, "NOT_ENOUGH_REPLICAS");
    h.run(5);
    expect(h.markers).to.have.length(3);
    h.answerMarkers(2);
    h.run(5);
    expect(h.state()).to.equal("CompleteAbort");
  });

  it("a WriteTxnMarkers unanswered for request.timeout.ms is sent again", () => {
    const h = ready([T0]);
    h.endTxn(1000, 0, true);
    h.run(5);
    expect(h.markers).to.have.length(1);
    h.run(30_000);
    expect(h.markers).to.have.length(2);
    h.answerMarkers(0); // the late answer to the first request is ignored
    expect(h.state()).to.equal("PrepareCommit");
    h.answerMarkers(1);
    h.run(5);
    expect(h.state()).to.equal("CompleteCommit");
  });

  it("InitProducerId during an ongoing transaction fences it: aborted with the bumped epoch, then a new epoch", () => {
    const h = ready([T0]);
    const init = h.initProducerId();
    h.run(5);
    expect(init.result?.error).to.equal("CONCURRENT_TRANSACTIONS");
    expect(h.state()).to.equal("PrepareAbort");
    expect(h.markers[0].request.markers[0]).to.deep.include({ producerEpoch: 1, transactionResult: false });
    // The old producer is fenced.
    expect(h.endTxn(1000, 0, true).error).to.equal("PRODUCER_FENCED");
    h.answerMarkers(0);
    h.run(5);
    expect(h.state()).to.equal("CompleteAbort");
    const retry = h.initProducerId();
    h.run(5);
    expect(retry.result).to.deep.equal({ error: "NONE", producerId: 1000, producerEpoch: 2 });
  });

  it("aborts a transaction open longer than its timeout (abortTimedOutTransactions)", () => {
    const h = new TxnCoordinatorHarness();
    const init = h.initProducerId({ timeoutMs: 15_000 });
    h.run(5);
    expect(init.result?.producerEpoch).to.equal(0);
    h.addPartitions(1000, 0, [T0]);
    h.run(20_000);
    expect(h.state()).to.equal("PrepareAbort");
    expect(h.markers[0].request.markers[0]).to.deep.include({ producerEpoch: 1, transactionResult: false });
    h.answerMarkers(0);
    h.run(5);
    expect(h.state()).to.equal("CompleteAbort");
  });

  it("a failed append resets the pending state and answers the converted error", () => {
    const h = ready();
    h.appendError = "NOT_ENOUGH_REPLICAS";
    const add = h.addPartitions(1000, 0, [T0]);
    h.run(5);
    expect(add.error).to.equal("COORDINATOR_NOT_AVAILABLE");
    expect(h.state()).to.equal("Empty");
    h.appendError = "NOT_LEADER_OR_FOLLOWER";
    const again = h.addPartitions(1000, 0, [T0]);
    h.run(5);
    expect(again.error).to.equal("NOT_COORDINATOR");
    h.appendError = "NONE";
    const ok = h.addPartitions(1000, 0, [T0]);
    h.run(5);
    expect(ok.error).to.equal("NONE");
  });

  it("a new coordinator epoch reloads the log and resends the markers of a PrepareCommit transaction", () => {
    const h = ready([T0]);
    h.endTxn(1000, 0, true);
    h.run(5);
    h.coordinator.onResignation(0, 2);
    expect(h.coordinator.txnManager.getTransactionState(TXN)).to.deep.equal({ error: "NOT_COORDINATOR" });
    expect(h.coordinator.markerChannel.pendingTransactionalIds).to.deep.equal([]);
    h.coordinator.onElection(0, 3);
    expect(h.coordinator.txnManager.getTransactionState(TXN)).to.deep.equal({ error: "COORDINATOR_LOAD_IN_PROGRESS" });
    h.run(5);
    expect(h.state()).to.equal("PrepareCommit");
    expect(h.markers).to.have.length(2);
    expect(h.markers[1].request.markers[0]).to.deep.include({ coordinatorEpoch: 3, transactionResult: true });
    // The old epoch's answer is ignored.
    h.answerMarkers(0);
    expect(h.state()).to.equal("PrepareCommit");
    h.answerMarkers(1);
    h.run(5);
    expect(h.state()).to.equal("CompleteCommit");
  });
});
