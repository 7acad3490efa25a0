// KIP-890 on a simulated cluster (GroupCluster: ZooKeeper, three brokers, the transaction coordinator), driven by
// raw requests from a test client. Part 1 (compat.transactionVerification): a transactional Produce for a
// partition not in the transaction, or arriving after the ABORT markers, is refused INVALID_TXN_STATE and nothing
// is appended; without verification the late Produce opens a transaction nobody closes (KAFKA-14402, the LSO
// stays stuck). Part 2 (compat.epochBumpPerTransaction): EndTxn returns epoch + 1, the markers carry it, and a
// delayed batch of the old epoch is fenced; without it the batch lands in the next transaction (KAFKA-17754).
import { expect } from "chai";
import type { Partition } from "../../../../src/broker/replica/partition.ts";
import { ProducerStateManager } from "../../../../src/broker/idempotence/producer-state-manager.ts";
import { makeBatch } from "../../../../src/broker/log/records.ts";
import type { FindCoordinatorResponse } from "../../../../src/protocol/group.ts";
import type { InitProducerIdResponse, ProduceResponse } from "../../../../src/protocol/kafka.ts";
import type { AddPartitionsToTxnResponse, EndTxnResponse } from "../../../../src/protocol/transaction.ts";
import { GroupCluster } from "../group/cluster.ts";

const TXN = "tx-kip890";

interface Setup {
  cluster: GroupCluster;
  coordinator: string;
  producerId: number;
}

function setUp(compat: Record<string, unknown>): Setup {
  const cluster = new GroupCluster({ "transaction.state.log.num.partitions": 3 }, { compat });
  let found: FindCoordinatorResponse | undefined;
  expect(
    cluster.run(60_000, () => {
      found = cluster.request<FindCoordinatorResponse>("broker-1", { type: "FindCoordinator", key: TXN, keyType: 1 }, 1000);
      if (found?.error === "NONE") return true;
      cluster.run(100);
      return false;
    }),
    "a transaction coordinator",
  ).to.equal(true);
  const coordinator = found!.host;
  let init: InitProducerIdResponse | undefined;
  cluster.run(30_000, () => {
    init = cluster.request<InitProducerIdResponse>(coordinator, { type: "InitProducerId", transactionalId: TXN, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 }, 2000);
    if (init !== undefined && init.error !== "COORDINATOR_LOAD_IN_PROGRESS" && init.error !== "CONCURRENT_TRANSACTIONS") return true;
    cluster.run(100);
    return false;
  });
  expect(init?.error).to.equal("NONE");
  expect(init?.producerEpoch).to.equal(0);
  return { cluster, coordinator, producerId: init!.producerId };
}

function leaderOf(cluster: GroupCluster, partition: number): { host: string; partition: Partition } {
  for (const host of ["broker-1", "broker-2", "broker-3"]) {
    const p = cluster.broker(host).replicaManager.partition("t", partition);
    if (p?.isLeader) return { host, partition: p };
  }
  throw new Error(`no leader for t-${partition}`);
}

function addPartitions(s: Setup, epoch: number, partitions: number[]): void {
  const add = s.cluster.request<AddPartitionsToTxnResponse>(s.coordinator, {
    type: "AddPartitionsToTxn",
    transactionalId: TXN,
    producerId: s.producerId,
    producerEpoch: epoch,
    verifyOnly: false,
    partitions: partitions.map((partition) => ({ topic: "t", partition })),
  });
  expect(add?.partitions.map((p) => p.error)).to.deep.equal(partitions.map(() => "NONE"));
}

function produce(s: Setup, partition: number, epoch: number, sequence: number, value: string): { error: string; baseOffset: number } {
  const batch = makeBatch({ baseOffset: 0, partitionLeaderEpoch: -1, producerId: s.producerId, producerEpoch: epoch, baseSequence: sequence, isTransactional: true, records: [{ key: null, value, timestamp: 0 }] });
  const answer = s.cluster.request<ProduceResponse>(leaderOf(s.cluster, partition).host, { type: "Produce", acks: -1, timeoutMs: 30_000, transactionalId: TXN, partitions: [{ topic: "t", partition, batch }] });
  expect(answer, `Produce ${value}`).to.not.equal(undefined);
  return answer!.partitions[0];
}

function endTxn(s: Setup, epoch: number, committed: boolean): EndTxnResponse {
  const end = s.cluster.request<EndTxnResponse>(s.coordinator, { type: "EndTxn", transactionalId: TXN, producerId: s.producerId, producerEpoch: epoch, committed });
  expect(end?.error).to.equal("NONE");
  // The markers are written (the coordinator answers before sending them).
  const written = () => s.cluster.events("txn-state").some((e) => e.transactionalId === TXN && e.state === (committed ? "CompleteCommit" : "CompleteAbort") && e.producerEpoch === (end!.producerEpoch >= 0 ? end!.producerEpoch : epoch));
  expect(s.cluster.run(10_000, written), "transaction completed").to.equal(true);
  return end!;
}

function producerState(partition: Partition): ProducerStateManager {
  const state = partition.log.producerState;
  expect(state).to.be.instanceOf(ProducerStateManager);
  return state as ProducerStateManager;
}

describe("KIP-890 part 1: transaction verification on the partition leader", function () {
  this.timeout(120_000);

  it("verified: a Produce for a partition in the transaction is appended (one txn-verification 'verified')", () => {
    const s = setUp({ transactionVerification: true });
    addPartitions(s, 0, [0]);
    expect(produce(s, 0, 0, 0, "a").error).to.equal("NONE");
    const verifications = s.cluster.events("txn-verification");
    expect(verifications).to.have.length(1);
    expect(verifications[0]).to.deep.include({ topic: "t", partition: 0, producerId: s.producerId, producerEpoch: 0, transactionalId: TXN, result: "verified" });
    // The next batch of the open transaction needs no verification.
    expect(produce(s, 0, 0, 1, "b").error).to.equal("NONE");
    expect(s.cluster.events("txn-verification")).to.have.length(1);
  });

  it("a transactional Produce for a partition not added to the transaction is refused INVALID_TXN_STATE, nothing appended", () => {
    const s = setUp({ transactionVerification: true });
    addPartitions(s, 0, [0]);
    const { partition } = leaderOf(s.cluster, 1);
    const endBefore = partition.log.logEndOffset;
    const answer = produce(s, 1, 0, 0, "stray");
    expect(answer.error).to.equal("INVALID_TXN_STATE");
    expect(partition.log.logEndOffset).to.equal(endBefore);
    expect(producerState(partition).hasOngoingTransaction(s.producerId)).to.equal(false);
    expect(s.cluster.events("txn-verification").map((e) => e.result)).to.deep.equal(["INVALID_TXN_STATE"]);
  });

  it("a late Produce after the ABORT marker is refused: no open transaction is left, the LSO is not stuck", () => {
    const s = setUp({ transactionVerification: true });
    addPartitions(s, 0, [0]);
    expect(produce(s, 0, 0, 0, "t1").error).to.equal("NONE");
    endTxn(s, 0, false);
    const { partition } = leaderOf(s.cluster, 0);
    const endBefore = partition.log.logEndOffset;
    const late = produce(s, 0, 0, 1, "late");
    expect(late.error).to.equal("INVALID_TXN_STATE");
    expect(partition.log.logEndOffset).to.equal(endBefore);
    expect(producerState(partition).hasOngoingTransaction(s.producerId)).to.equal(false);
    s.cluster.run(1000);
    expect(partition.log.lastStableOffset).to.equal(partition.log.highWatermark);
  });

  it("without verification (before 3.6) the same late Produce IS appended and the LSO stays stuck (KAFKA-14402)", () => {
    const s = setUp({ transactionVerification: false });
    addPartitions(s, 0, [0]);
    expect(produce(s, 0, 0, 0, "t1").error).to.equal("NONE");
    endTxn(s, 0, false);
    const { partition } = leaderOf(s.cluster, 0);
    const late = produce(s, 0, 0, 1, "late");
    expect(late.error).to.equal("NONE");
    expect(producerState(partition).hasOngoingTransaction(s.producerId)).to.equal(true);
    expect(s.cluster.events("txn-verification")).to.have.length(0);
    // The coordinator's transaction is complete: nothing will ever write a marker, not even the timeout abort.
    s.cluster.run(70_000);
    expect(partition.log.highWatermark).to.be.greaterThan(late.baseOffset);
    expect(partition.log.lastStableOffset).to.equal(late.baseOffset);
  });

  it("the 2.x presets have no verification; 3.x has it", () => {
    expect(new GroupCluster({}, { version: "2.4" }).broker("broker-1").compat.transactionVerification).to.equal(false);
    expect(new GroupCluster({}, { version: "3.x" }).broker("broker-1").compat.transactionVerification).to.equal(true);
  });
});

describe("KIP-890 part 2: an epoch bump per transaction", function () {
  this.timeout(120_000);

  it("on: EndTxn returns epoch + 1, the marker carries it, a delayed old-epoch batch is fenced", () => {
    const s = setUp({ transactionVerification: false, epochBumpPerTransaction: true });
    addPartitions(s, 0, [0]);
    expect(produce(s, 0, 0, 0, "t1").error).to.equal("NONE");
    const end = endTxn(s, 0, true);
    expect(end.producerId).to.equal(s.producerId);
    expect(end.producerEpoch).to.equal(1);
    const markers = s.cluster.events("txn-marker-written").filter((e) => e.producerId === s.producerId);
    expect(markers.map((m) => m.producerEpoch)).to.deep.equal([1]);
    const { partition } = leaderOf(s.cluster, 0);
    const endBefore = partition.log.logEndOffset;
    const late = produce(s, 0, 0, 1, "late");
    expect(late.error).to.equal("INVALID_PRODUCER_EPOCH");
    expect(partition.log.logEndOffset).to.equal(endBefore);
    // The next transaction runs at the new epoch from sequence 0.
    addPartitions(s, 1, [0]);
    expect(produce(s, 0, 1, 0, "t2").error).to.equal("NONE");
  });

  it("off: EndTxn returns -1 and the delayed batch of T1 lands in T2, whose commit commits it", () => {
    const s = setUp({ transactionVerification: false, epochBumpPerTransaction: false });
    addPartitions(s, 0, [0]);
    expect(produce(s, 0, 0, 0, "t1").error).to.equal("NONE");
    const end = endTxn(s, 0, false);
    expect(end.producerId).to.equal(-1);
    expect(end.producerEpoch).to.equal(-1);
    addPartitions(s, 0, [0]);
    const late = produce(s, 0, 0, 1, "late-t1");
    expect(late.error).to.equal("NONE");
    endTxn(s, 0, true);
    const { partition } = leaderOf(s.cluster, 0);
    const aborted = producerState(partition).abortedTxns;
    expect(aborted.some((a) => a.firstOffset <= late.baseOffset && late.baseOffset <= a.lastOffset), "T1's late record is not aborted").to.equal(false);
    expect(producerState(partition).hasOngoingTransaction(s.producerId)).to.equal(false);
  });
});
