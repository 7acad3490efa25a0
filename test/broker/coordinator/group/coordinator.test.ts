// GroupCoordinator's handlers over a fake offsets storage (harness.ts): join paths and their errors, the
// compat switches, SyncGroup / Heartbeat by state, offset commit validation, DelayedSync, loading, store errors.
import { expect } from "chai";
import { CoordinatorHarness, GROUP } from "./harness.ts";

describe("GroupCoordinator handlers", () => {
  it("JoinGroup errors: INVALID_SESSION_TIMEOUT, UNKNOWN_MEMBER_ID for an unknown group, INCONSISTENT_GROUP_PROTOCOL, GROUP_MAX_SIZE_REACHED", () => {
    const h = new CoordinatorHarness({ "group.max.size": 1 });
    expect(h.join("", { sessionTimeoutMs: 5999 }).result!.error).to.equal("INVALID_SESSION_TIMEOUT");
    expect(h.join("", { sessionTimeoutMs: 1_800_001 }).result!.error).to.equal("INVALID_SESSION_TIMEOUT");
    expect(h.join("someone").result!.error).to.equal("UNKNOWN_MEMBER_ID");
    expect(h.join("", { protocols: [] }).result!.error).to.equal("INCONSISTENT_GROUP_PROTOCOL");
    const a = h.join("", { clientId: "a" }).result!.memberId;
    h.join(a);
    h.run(1);
    expect(h.group!.currentState).to.equal("CompletingRebalance");
    // group.max.size is checked before the protocols.
    expect(h.join("", { clientId: "b", protocols: ["sticky"] }).result!.error).to.equal("GROUP_MAX_SIZE_REACHED");
    expect(h.join(a, { protocols: ["sticky"] }).result!.error).to.equal("INCONSISTENT_GROUP_PROTOCOL");
  });

  it("memberIdRequired (KIP-394): a dynamic member first gets MEMBER_ID_REQUIRED and a pending id that expires after its session", () => {
    const h = new CoordinatorHarness();
    const first = h.join("", { clientId: "a", sessionTimeoutMs: 6000 }).result!;
    expect(first.error).to.equal("MEMBER_ID_REQUIRED");
    expect(h.group!.isPendingMember(first.memberId)).to.equal(true);
    h.run(6001);
    expect(h.group!.isPendingMember(first.memberId)).to.equal(false);
    expect(h.join(first.memberId).result!.error, "an expired pending id is unknown").to.equal("UNKNOWN_MEMBER_ID");
  });

  it("without memberIdRequired (before 2.2) the first JoinGroup adds the member at once", () => {
    const h = new CoordinatorHarness({}, { memberIdRequired: false });
    const join = h.join("", { clientId: "a" });
    h.run(1);
    expect(join.result).to.include({ error: "NONE", generationId: 1 });
    expect(join.result!.leaderId).to.equal(join.result!.memberId);
  });

  it("without staticMembership (before 2.3) a JoinGroup with an instance id gets UNSUPPORTED_VERSION", () => {
    const h = new CoordinatorHarness({}, { staticMembership: false });
    expect(h.join("", { instanceId: "i1" }).result!.error).to.equal("UNSUPPORTED_VERSION");
  });

  it("InitialDelayedJoin waits group.initial.rebalance.delay.ms, extended by another delay when a member joined meanwhile", () => {
    const h = new CoordinatorHarness({ "group.initial.rebalance.delay.ms": 3000 }, { memberIdRequired: false });
    const a = h.join("", { clientId: "a" });
    h.run(2000);
    const b = h.join("", { clientId: "b" });
    h.run(3999);
    expect(a.result, "the second member extended the delay to 3 s + 3 s").to.equal(null);
    h.run(1);
    expect(a.result).to.include({ error: "NONE", generationId: 1 });
    expect(b.result).to.include({ error: "NONE", generationId: 1 });
    expect(a.result!.members).to.have.length(2);
  });

  it("SyncGroup: the leader's assignment is stored, then every member gets its own; the group is Stable", () => {
    const h = new CoordinatorHarness();
    const { a, b } = h.twoMembersJoined();
    const sb = h.sync(b, 1);
    expect(sb.result).to.equal(null);
    const sa = h.sync(a, 1, [{ memberId: a, partitions: [0] }]);
    expect(h.appended).to.have.length(1);
    h.run(2);
    expect(sa.result!.assignment.assignedPartitions).to.deep.equal([{ topic: "t", partition: 0 }]);
    expect(sb.result!.assignment.assignedPartitions, "a member the leader left out gets an empty assignment").to.deep.equal([]);
    expect(h.group!.currentState).to.equal("Stable");
    expect(h.sync(b, 0).result!.error).to.equal("ILLEGAL_GENERATION");
    expect(h.sync("x", 1).result!.error).to.equal("UNKNOWN_MEMBER_ID");
    expect(h.sync(b, 1).result!.error).to.equal("NONE");
  });

  it("a storeGroup timeout answers the parked SyncGroups REBALANCE_IN_PROGRESS and rebalances", () => {
    const h = new CoordinatorHarness();
    const { a, b } = h.twoMembersJoined();
    const sb = h.sync(b, 1);
    h.appendError = "REQUEST_TIMED_OUT";
    const sa = h.sync(a, 1, [{ memberId: a, partitions: [0] }]);
    h.run(2);
    expect(sa.result!.error).to.equal("REBALANCE_IN_PROGRESS");
    expect(sb.result!.error).to.equal("REBALANCE_IN_PROGRESS");
    expect(h.group!.currentState).to.equal("PreparingRebalance");
  });

  it("Heartbeat while CompletingRebalance: REBALANCE_IN_PROGRESS up to 2.5 (compat), NONE after", () => {
    for (const [flag, expected] of [[true, "REBALANCE_IN_PROGRESS"], [false, "NONE"]] as const) {
      const h = new CoordinatorHarness({}, { rebalanceInProgressOnSyncHeartbeat: flag });
      const { a } = h.twoMembersJoined();
      expect(h.heartbeat(a, 1)).to.equal(expected);
      expect(h.heartbeat(a, 2)).to.equal("ILLEGAL_GENERATION");
      expect(h.heartbeat("x", 1)).to.equal("UNKNOWN_MEMBER_ID");
    }
  });

  it("DelayedSync (3.0+): a member that heartbeats but sends no SyncGroup within the rebalance timeout is removed; not before 3.0", () => {
    for (const pendingSyncTimeout of [true, false]) {
      const h = new CoordinatorHarness({}, { pendingSyncTimeout });
      const { a, b } = h.twoMembersJoined();
      const sa = h.sync(a, 1, [{ memberId: a, partitions: [0] }, { memberId: b, partitions: [1] }]);
      h.run(2);
      expect(sa.result!.error).to.equal("NONE");
      // Both heartbeat every second (the rebalance timeout is 20 s); b never syncs.
      for (let i = 0; i < 19; i++) {
        h.run(1000);
        h.heartbeat(a, 1);
        h.heartbeat(b, 1);
      }
      expect(h.group!.has(b)).to.equal(true);
      h.run(1000);
      expect(h.group!.has(b), `pendingSyncTimeout ${pendingSyncTimeout}`).to.equal(!pendingSyncTimeout);
      expect(h.group!.currentState).to.equal(pendingSyncTimeout ? "PreparingRebalance" : "Stable");
    }
  });

  it("OffsetCommit validation: generation -1 on an unknown group is accepted (created Empty); members and generation are checked; CompletingRebalance → REBALANCE_IN_PROGRESS", () => {
    const h = new CoordinatorHarness();
    const standalone = h.commit("", -1, 5);
    h.run(2);
    expect(standalone.errors).to.deep.equal(["NONE"]);
    expect(h.group!.currentState).to.equal("Empty");
    expect(h.coordinator.groupManager.getOffsets(GROUP, false, [{ topic: "t", partition: 0 }])[0].committedOffset).to.equal(5);
    const { a } = h.twoMembersJoined();
    expect(h.commit(a, 1, 6).errors).to.deep.equal(["REBALANCE_IN_PROGRESS"]);
    expect(h.commit(a, 0, 6).errors).to.deep.equal(["ILLEGAL_GENERATION"]);
    expect(h.commit("", -1, 6).errors, "a non-member on a group with members").to.deep.equal(["UNKNOWN_MEMBER_ID"]);
    expect(h.commit("x", 1, 6).errors).to.deep.equal(["UNKNOWN_MEMBER_ID"]);
    expect(h.commit(a, 1, 6, "i9").errors).to.deep.equal(["UNKNOWN_MEMBER_ID"]);
  });

  it("an offset commit is answered only when its append completes, with the converted append error", () => {
    const h = new CoordinatorHarness();
    h.appendDelayMs = 50;
    const pending = h.commit("", -1, 5);
    h.run(10);
    expect(pending.errors).to.equal(null);
    expect(h.coordinator.groupManager.getOffsets(GROUP, true, [{ topic: "t", partition: 0 }])[0].error).to.equal("UNSTABLE_OFFSET_COMMIT");
    h.run(50);
    expect(pending.errors).to.deep.equal(["NONE"]);
    for (const [appendError, answer] of [["NOT_LEADER_OR_FOLLOWER", "NOT_COORDINATOR"], ["NOT_ENOUGH_REPLICAS", "COORDINATOR_NOT_AVAILABLE"], ["REQUEST_TIMED_OUT", "REQUEST_TIMED_OUT"], ["MESSAGE_TOO_LARGE", "INVALID_COMMIT_OFFSET_SIZE"]] as const) {
      h.appendError = appendError;
      const failed = h.commit("", -1, 9);
      h.run(60);
      expect(failed.errors, appendError).to.deep.equal([answer]);
    }
    expect(h.coordinator.groupManager.getOffsets(GROUP, false, [{ topic: "t", partition: 0 }])[0].committedOffset, "failed commits change nothing").to.equal(5);
  });

  it("while a partition loads: JoinGroup and OffsetFetch COORDINATOR_LOAD_IN_PROGRESS, SyncGroup REBALANCE_IN_PROGRESS, Heartbeat NONE; after resignation NOT_COORDINATOR and parked joins answered", () => {
    const h = new CoordinatorHarness();
    const a = h.join("", { clientId: "a" }).result!.memberId;
    const parked = h.join(a, { rebalanceTimeoutMs: 60_000 });
    h.join("", { clientId: "b" });
    // b is pending: the join stays parked until the delayed join expires.
    h.coordinator.onResignation(0, 2);
    expect(parked.result!.error).to.equal("NOT_COORDINATOR");
    expect(h.join("").result!.error).to.equal("NOT_COORDINATOR");
    h.coordinator.groupManager.storage.log = () => ({ sizeInBytes: 100_000, logStartOffset: 0, logEndOffset: 0 }) as never;
    h.coordinator.onElection(0, 3);
    expect(h.join("").result!.error).to.equal("COORDINATOR_LOAD_IN_PROGRESS");
    expect(h.sync(a, 1).result!.error).to.equal("REBALANCE_IN_PROGRESS");
    expect(h.heartbeat(a, 1)).to.equal("NONE");
    expect(h.coordinator.validateGroupStatus(GROUP, "OffsetFetch")).to.equal("COORDINATOR_LOAD_IN_PROGRESS");
    h.run(10);
    expect(h.coordinator.validateGroupStatus(GROUP, "OffsetFetch"), "100 kB load in 10 ms").to.equal(null);
    expect(h.coordinator.validateGroupStatus("", "JoinGroup")).to.equal("INVALID_GROUP_ID");
  });
});
