// Offsets in transactions on a simulated cluster: a test client acting as a transactional producer runs
// InitProducerId, AddOffsetsToTxn, TxnOffsetCommit (to the group coordinator) and EndTxn(commit); the group's
// offset becomes visible to OffsetFetch only once the transaction coordinator's COMMIT marker is written to the
// group's __consumer_offsets partition (WriteTxnMarkers → scheduleHandleTxnCompletion).
import { expect } from "chai";
import type { FindCoordinatorResponse, OffsetFetchResponse } from "../../../../src/protocol/group.ts";
import type { InitProducerIdResponse } from "../../../../src/protocol/kafka.ts";
import type { AddOffsetsToTxnResponse, EndTxnResponse, TxnOffsetCommitResponse } from "../../../../src/protocol/transaction.ts";
import { GROUP, GroupCluster } from "../group/cluster.ts";

const TXN = "tx-offsets";

function find(cluster: GroupCluster, key: string, keyType: 0 | 1): string {
  let found: FindCoordinatorResponse | undefined;
  const ok = cluster.run(60_000, () => {
    found = cluster.request<FindCoordinatorResponse>("broker-1", { type: "FindCoordinator", key, keyType }, 1000);
    if (found?.error === "NONE") return true;
    cluster.run(100);
    return false;
  });
  expect(ok, `a coordinator for ${key}`).to.equal(true);
  return found!.host;
}

function initProducerId(cluster: GroupCluster, coordinator: string): InitProducerIdResponse {
  let answer: InitProducerIdResponse | undefined;
  cluster.run(30_000, () => {
    answer = cluster.request<InitProducerIdResponse>(coordinator, { type: "InitProducerId", transactionalId: TXN, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 }, 2000);
    if (answer !== undefined && answer.error !== "COORDINATOR_LOAD_IN_PROGRESS" && answer.error !== "CONCURRENT_TRANSACTIONS") return true;
    cluster.run(100);
    return false;
  });
  return answer!;
}

function fetchOffset(cluster: GroupCluster, groupCoordinator: string, requireStable: boolean): { error: string; offset: number } {
  const answer = cluster.request<OffsetFetchResponse>(groupCoordinator, { type: "OffsetFetch", groupId: GROUP, partitions: [{ topic: "t", partition: 0 }], requireStable }, 2000);
  expect(answer?.error).to.equal("NONE");
  return { error: answer!.partitions[0].error, offset: answer!.partitions[0].committedOffset };
}

describe("transactional offset commits: on a simulated cluster", function () {
  this.timeout(120_000);

  for (const result of ["commit", "abort"] as const) {
    it(`AddOffsetsToTxn + TxnOffsetCommit + EndTxn(${result}): the offsets are ${result === "commit" ? "visible only after the marker" : "never visible"}`, () => {
      const cluster = new GroupCluster({ "transaction.state.log.num.partitions": 3 });
      const groupCoordinator = cluster.findCoordinator();
      const txnCoordinator = find(cluster, TXN, 1);
      const init = initProducerId(cluster, txnCoordinator);
      expect(init.error).to.equal("NONE");
      const { producerId, producerEpoch } = init;

      const add = cluster.request<AddOffsetsToTxnResponse>(txnCoordinator, { type: "AddOffsetsToTxn", transactionalId: TXN, producerId, producerEpoch, groupId: GROUP });
      expect(add?.error).to.equal("NONE");
      const commit = cluster.request<TxnOffsetCommitResponse>(groupCoordinator, {
        type: "TxnOffsetCommit",
        transactionalId: TXN,
        groupId: GROUP,
        producerId,
        producerEpoch,
        generationId: -1,
        memberId: "",
        groupInstanceId: null,
        partitions: [
          { topic: "t", partition: 0, committedOffset: 17, committedLeaderEpoch: -1, committedMetadata: null },
          { topic: "nope", partition: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: null },
        ],
      });
      expect(commit?.partitions).to.deep.equal([
        { topic: "t", partition: 0, error: "NONE" },
        { topic: "nope", partition: 0, error: "UNKNOWN_TOPIC_OR_PARTITION" },
      ]);
      const appended = cluster.events("txn-offset-commit");
      expect(appended).to.have.length(1);
      expect(appended[0]).to.deep.include({ node: groupCoordinator, groupId: GROUP, producerId, producerEpoch });
      expect(appended[0].offsets).to.deep.equal([{ topic: "t", partition: 0, offset: 17 }]);

      // A second commit in the same transaction is a second batch at sequence 0 (a coordinator's write is not
      // checked for duplicates or sequence): it is appended, and its offset is the one the marker materialises.
      const again = cluster.request<TxnOffsetCommitResponse>(groupCoordinator, {
        type: "TxnOffsetCommit",
        transactionalId: TXN,
        groupId: GROUP,
        producerId,
        producerEpoch,
        generationId: -1,
        memberId: "",
        groupInstanceId: null,
        partitions: [{ topic: "t", partition: 0, committedOffset: 18, committedLeaderEpoch: -1, committedMetadata: null }],
      });
      expect(again?.partitions).to.deep.equal([{ topic: "t", partition: 0, error: "NONE" }]);
      expect(cluster.events("txn-offset-commit")).to.have.length(2);
      const broker = cluster.broker(groupCoordinator);
      const log = broker.replicaManager.partition("__consumer_offsets", broker.groupCoordinator.groupManager.partitionFor(GROUP))!.log;
      const read = log.read(log.logStartOffset, 1 << 30, log.logEndOffset, true);
      expect(read.error).to.equal(null);
      const batches = "batches" in read ? read.batches.filter((b) => b.producerId === producerId) : [];
      expect(batches.map((b) => [b.isTransactional, b.baseSequence])).to.deep.equal([
        [true, 0],
        [true, 0],
      ]);

      // Pending: invisible, and unstable for a requireStable fetch.
      expect(fetchOffset(cluster, groupCoordinator, false)).to.deep.equal({ error: "NONE", offset: -1 });
      expect(fetchOffset(cluster, groupCoordinator, true).error).to.equal("UNSTABLE_OFFSET_COMMIT");

      const end = cluster.request<EndTxnResponse>(txnCoordinator, { type: "EndTxn", transactionalId: TXN, producerId, producerEpoch, committed: result === "commit" });
      expect(end?.error).to.equal("NONE");
      const completed = cluster.run(10_000, () => cluster.events("txn-offset-complete").length > 0);
      expect(completed, "txn-offset-complete").to.equal(true);
      const completion = cluster.events("txn-offset-complete")[0];
      expect(completion).to.deep.include({ node: groupCoordinator, groupId: GROUP, producerId, result: result === "commit" ? "COMMIT" : "ABORT" });
      // The marker in __consumer_offsets came first.
      const marker = cluster.events("txn-marker-written").find((e) => e.topic === "__consumer_offsets");
      expect(marker, "a marker in __consumer_offsets").to.not.equal(undefined);
      expect(marker!.t).to.be.at.most(completion.t);

      expect(fetchOffset(cluster, groupCoordinator, true)).to.deep.equal({ error: "NONE", offset: result === "commit" ? 18 : -1 });
    });
  }
});
