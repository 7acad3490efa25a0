// Transactional offset commits on the group coordinator (KIP-98 / KIP-447, Kafka 3.6's GroupCoordinator
// handleTxnCommitOffsets, GroupMetadataManager.storeOffsets with a producer id, handleTxnCompletion and the
// loader): pending offsets are invisible to OffsetFetch until the producer's COMMIT marker, dropped on ABORT,
// UNSTABLE_OFFSET_COMMIT under requireStable, and ordered against consumer commits by their log position.
import { expect } from "chai";
import { handleFetchOffsets, handleTxnCommitOffsets } from "../../../../src/broker/coordinator/group/offset-commits.ts";
import type { OffsetFetchPartition } from "../../../../src/protocol/group.ts";
import type { KafkaError } from "../../../../src/protocol/kafka.ts";
import { CoordinatorHarness, GROUP } from "./harness.ts";

const PID = 4000;
const EPOCH = 3;

function txnCommit(
  h: CoordinatorHarness,
  offset: number,
  options: { producerId?: number; producerEpoch?: number; memberId?: string; generationId?: number; instanceId?: string | null; groupId?: string; partition?: number } = {},
): { errors: KafkaError[] | null } {
  const box: { errors: KafkaError[] | null } = { errors: null };
  handleTxnCommitOffsets(
    h.coordinator,
    {
      groupId: options.groupId ?? GROUP,
      producerId: options.producerId ?? PID,
      producerEpoch: options.producerEpoch ?? EPOCH,
      memberId: options.memberId ?? "",
      generationId: options.generationId ?? -1,
      groupInstanceId: options.instanceId ?? null,
      partitions: [{ topic: "t", partition: options.partition ?? 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: null }],
    },
    (errors) => (box.errors = errors),
  );
  return box;
}

function fetch(h: CoordinatorHarness, requireStable = false): OffsetFetchPartition {
  const { error, partitions } = handleFetchOffsets(h.coordinator, { groupId: GROUP, partitions: [{ topic: "t", partition: 0 }], requireStable });
  expect(error).to.equal("NONE");
  return partitions[0];
}

/** The marker is written: the completion the WriteTxnMarkers handler schedules, then its zero-delay run. */
function complete(h: CoordinatorHarness, result: "COMMIT" | "ABORT", producerId = PID): void {
  h.writeMarker(producerId, EPOCH, result);
  h.coordinator.scheduleHandleTxnCompletion(producerId, [0], result);
  h.run(1);
}

/** The offsets partition moves away and back: the group is unloaded, then loaded again from the log. */
function reload(h: CoordinatorHarness): void {
  h.coordinator.onResignation(0, 2);
  expect(h.group).to.equal(null);
  h.coordinator.onElection(0, 3);
  h.run(5);
  expect(h.coordinator.groupManager.isPartitionOwned(0)).to.equal(true);
}

describe("group coordinator: transactional offset commits", () => {
  it("appends one transactional batch of the producer, traced as txn-offset-commit", () => {
    const h = new CoordinatorHarness();
    const commit = txnCommit(h, 42);
    h.run(2);
    expect(commit.errors).to.deep.equal(["NONE"]);
    expect(h.appended).to.have.length(1);
    expect(h.appended[0].producer).to.deep.equal({ producerId: PID, producerEpoch: EPOCH });
    expect(h.batches[0].isTransactional).to.equal(true);
    expect(h.coordinator.groupManager.isGroupOpenForProducer(PID, GROUP)).to.equal(true);
  });

  it("a pending offset is invisible to OffsetFetch until the COMMIT marker, then it is the committed offset", () => {
    const h = new CoordinatorHarness();
    txnCommit(h, 42);
    h.run(2);
    expect(fetch(h).committedOffset).to.equal(-1);
    expect(h.group!.pendingTxnOffsetCommit(PID, "t", 0)?.appendedBatchOffset).to.equal(0);
    complete(h, "COMMIT");
    expect(fetch(h).committedOffset).to.equal(42);
    expect(h.group!.hasPendingOffsetCommitsFromProducer(PID)).to.equal(false);
    expect(h.coordinator.groupManager.isGroupOpenForProducer(PID, GROUP)).to.equal(false);
  });

  it("an ABORT marker drops the pending offset; the earlier committed offset stays", () => {
    const h = new CoordinatorHarness();
    h.commit("", -1, 10);
    h.run(2);
    txnCommit(h, 42);
    h.run(2);
    complete(h, "ABORT");
    expect(fetch(h).committedOffset).to.equal(10);
    expect(h.group!.hasPendingOffsetCommitsFromProducer(PID)).to.equal(false);
  });

  it("requireStable answers UNSTABLE_OFFSET_COMMIT while a transactional offset is pending (KIP-447)", () => {
    const h = new CoordinatorHarness();
    txnCommit(h, 42);
    h.run(2);
    expect(fetch(h, true).error).to.equal("UNSTABLE_OFFSET_COMMIT");
    expect(fetch(h, false).error).to.equal("NONE");
    complete(h, "COMMIT");
    expect(fetch(h, true)).to.deep.include({ error: "NONE", committedOffset: 42 });
  });

  it("a completion for another producer or another offsets partition leaves the pending offset", () => {
    const h = new CoordinatorHarness();
    txnCommit(h, 42);
    h.run(2);
    h.coordinator.scheduleHandleTxnCompletion(PID + 1, [0], "COMMIT");
    h.coordinator.scheduleHandleTxnCompletion(PID, [7], "COMMIT");
    h.run(1);
    expect(fetch(h, true).error).to.equal("UNSTABLE_OFFSET_COMMIT");
  });

  it("a consumer commit appended after the transactional one wins when the COMMIT marker comes", () => {
    const h = new CoordinatorHarness();
    txnCommit(h, 42);
    h.run(2);
    h.commit("", -1, 50);
    h.run(2);
    expect(fetch(h).committedOffset).to.equal(50);
    complete(h, "COMMIT");
    // The transactional record is older in the log than the consumer's: it is not materialised.
    expect(fetch(h).committedOffset).to.equal(50);
  });

  it("a transactional offset appended after a consumer commit replaces it on COMMIT", () => {
    const h = new CoordinatorHarness();
    h.commit("", -1, 50);
    h.run(2);
    txnCommit(h, 42);
    h.run(2);
    complete(h, "COMMIT");
    expect(fetch(h).committedOffset).to.equal(42);
  });

  it("a failed append un-stages the pending offset and answers the converted error", () => {
    const h = new CoordinatorHarness();
    h.appendError = "NOT_LEADER_OR_FOLLOWER";
    const commit = txnCommit(h, 42);
    h.run(2);
    expect(commit.errors).to.deep.equal(["NOT_COORDINATOR"]);
    expect(h.group!.hasPendingOffsetCommitsFromProducer(PID)).to.equal(false);
    expect(fetch(h, true).error).to.equal("NONE");
  });

  describe("validation (validateGroupStatus, validateOffsetCommit with isTransactional)", () => {
    it("an unknown group is created Empty and the commit accepted", () => {
      const h = new CoordinatorHarness();
      expect(h.group).to.equal(null);
      const commit = txnCommit(h, 1, { generationId: 5, memberId: "" });
      // Created, then checked as a member commit: no such member.
      expect(commit.errors).to.deep.equal(["UNKNOWN_MEMBER_ID"]);
      expect(h.group!.currentState).to.equal("Empty");
    });

    it("without member fields it is accepted in a group with members (pre-KIP-447 producers), where OffsetCommit is not", () => {
      const h = new CoordinatorHarness();
      h.twoMembersJoined();
      expect(h.commit("", -1, 1).errors).to.deep.equal(["UNKNOWN_MEMBER_ID"]);
      const commit = txnCommit(h, 1);
      h.run(2);
      expect(commit.errors).to.deep.equal(["NONE"]);
    });

    it("KIP-447 member fields: ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID; the current member in CompletingRebalance passes", () => {
      const h = new CoordinatorHarness();
      const { a } = h.twoMembersJoined();
      expect(h.group!.currentState).to.equal("CompletingRebalance");
      expect(txnCommit(h, 1, { memberId: a, generationId: 0 }).errors).to.deep.equal(["ILLEGAL_GENERATION"]);
      expect(txnCommit(h, 1, { memberId: "nobody", generationId: 1 }).errors).to.deep.equal(["UNKNOWN_MEMBER_ID"]);
      const ok = txnCommit(h, 1, { memberId: a, generationId: 1 });
      h.run(2);
      expect(ok.errors).to.deep.equal(["NONE"]);
    });

    it("a static member's instance id mapped to another member id is FENCED_INSTANCE_ID", () => {
      const h = new CoordinatorHarness();
      const join = h.join("", { instanceId: "i1" });
      h.run(1);
      expect(join.result?.error).to.equal("NONE");
      const memberId = join.result!.memberId;
      expect(txnCommit(h, 1, { memberId: "old-id", generationId: 1, instanceId: "i1" }).errors).to.deep.equal(["FENCED_INSTANCE_ID"]);
      const ok = txnCommit(h, 1, { memberId, generationId: 1, instanceId: "i1" });
      h.run(2);
      expect(ok.errors).to.deep.equal(["NONE"]);
    });

    it("the empty group id is INVALID_GROUP_ID; a group of an offsets partition not owned is NOT_COORDINATOR", () => {
      const h = new CoordinatorHarness({ "offsets.topic.num.partitions": 2 });
      expect(txnCommit(h, 1, { groupId: "" }).errors).to.deep.equal(["INVALID_GROUP_ID"]);
      h.coordinator.onResignation(h.coordinator.groupManager.partitionFor(GROUP), 2);
      expect(txnCommit(h, 1).errors).to.deep.equal(["NOT_COORDINATOR"]);
    });

    it("while the group's offsets partition loads: COORDINATOR_LOAD_IN_PROGRESS", () => {
      const h = new CoordinatorHarness();
      txnCommit(h, 1);
      h.run(2);
      h.coordinator.onResignation(0, 2);
      h.coordinator.onElection(0, 3);
      expect(txnCommit(h, 2).errors).to.deep.equal(["COORDINATOR_LOAD_IN_PROGRESS"]);
    });
  });

  describe("loading (doLoadGroupsAndOffsets)", () => {
    it("a transactional offset batch followed by its COMMIT marker loads as the committed offset", () => {
      const h = new CoordinatorHarness();
      txnCommit(h, 42);
      h.run(2);
      h.writeMarker(PID, EPOCH, "COMMIT");
      reload(h);
      expect(fetch(h, true)).to.deep.include({ error: "NONE", committedOffset: 42 });
      expect(h.coordinator.groupManager.isGroupOpenForProducer(PID, GROUP)).to.equal(false);
    });

    it("a transactional offset batch followed by its ABORT marker loads as nothing", () => {
      const h = new CoordinatorHarness();
      h.commit("", -1, 10);
      h.run(2);
      txnCommit(h, 42);
      h.run(2);
      h.writeMarker(PID, EPOCH, "ABORT");
      reload(h);
      expect(fetch(h, true)).to.deep.include({ error: "NONE", committedOffset: 10 });
    });

    it("one without its marker stays pending for the producer, and its marker then commits it", () => {
      const h = new CoordinatorHarness();
      txnCommit(h, 42);
      h.run(2);
      reload(h);
      expect(fetch(h, true).error).to.equal("UNSTABLE_OFFSET_COMMIT");
      expect(fetch(h).committedOffset).to.equal(-1);
      expect(h.coordinator.groupManager.isGroupOpenForProducer(PID, GROUP)).to.equal(true);
      complete(h, "COMMIT");
      expect(fetch(h, true)).to.deep.include({ error: "NONE", committedOffset: 42 });
    });

    it("a consumer commit after a transactional one keeps its place when the COMMIT marker follows in the log", () => {
      const h = new CoordinatorHarness();
      txnCommit(h, 42);
      h.run(2);
      h.commit("", -1, 50);
      h.run(2);
      h.writeMarker(PID, EPOCH, "COMMIT");
      reload(h);
      expect(fetch(h).committedOffset).to.equal(50);
    });
  });
});
