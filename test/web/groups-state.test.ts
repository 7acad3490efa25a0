/**
 * The state timeline's consumer groups (web/src/state/group-timeline.ts) over the synthetic trace of
 * test/web/fixtures/group-trace.ts: the coordinator's view at an index, members and their assignments,
 * committed offsets, the coordinator moving, crashed consumers owning nothing, lag from the metrics samples.
 */

import { expect } from "chai";
import { readFileSync } from "node:fs";
import type { TraceEvent } from "../../src/sim/trace.ts";
import { entersRebalance, GroupStatusTracker, nextAssignment, Timeline, type GroupView } from "../../web/src/state/index.ts";
import { groupTrace, M1, M2, M3 } from "./fixtures/group-trace.ts";

const { header, events, text } = groupTrace();
const timeline = Timeline.build(header, events);
const S = 1_000_000;

function groupAt(t: number, group = "g1"): GroupView {
  const view = timeline.stateAt(timeline.indexAtTime(t)).groups.find((g) => g.group === group);
  if (view === undefined) throw new Error(`no group ${group} at ${t}`);
  return view;
}

const assignments = (g: GroupView) => Object.fromEntries(g.members.map((m) => [m.client ?? m.memberId, m.assignment.join(",")]));

describe("viewer state: consumer groups", () => {
  it("groups.jsonl is the generator's output (rerun npx tsx test/web/fixtures/group-trace.ts)", () => {
    expect(readFileSync(new URL("./fixtures/groups.jsonl", import.meta.url), "utf8")).to.equal(text);
  });

  it("knows no group before the first group event, and none in traces without groups", () => {
    expect(timeline.stateAt(-1).groups).to.deep.equal([]);
    expect(timeline.stateAt(timeline.indexAtTime(0.9 * S)).groups).to.deep.equal([]);
  });

  it("follows the group state, generation, protocol and leader at an index", () => {
    const g = groupAt(2 * S);
    expect(g.state).to.equal("PreparingRebalance");
    expect(g.generation).to.equal(0);
    expect(g.protocol).to.equal("range");
    expect(g.leader).to.equal(null);
    expect(g.coordinator).to.equal("broker-1");
    expect(g.partition).to.equal(7);
    expect(groupAt(4.15 * S).state).to.equal("CompletingRebalance");
    expect(groupAt(4.15 * S).leader).to.equal(M1);
    expect(groupAt(5 * S).state).to.equal("Stable");
    expect(groupAt(5 * S).generation).to.equal(1);
    expect(groupAt(9 * S).generation).to.equal(2);
    expect(groupAt(37 * S).generation).to.equal(4);
    // The exact event: the group-state that makes generation 2 Stable.
    const i = events.findIndex((e) => e.kind === "group-state" && e.group === "g1" && e.state === "Stable" && e.generation === 2);
    expect(timeline.stateAt(i).groups[0].state).to.equal("Stable");
    expect(timeline.stateAt(i - 1).groups[0].state).to.equal("CompletingRebalance");
    expect(timeline.stateAt(i).groups[0].since).to.equal(i);
  });

  it("lists the members with their instance ids, the leader, and what each client owns", () => {
    const g = groupAt(9 * S);
    expect(g.members.map((m) => [m.memberId, m.instanceId, m.client, m.leader])).to.deep.equal([
      [M1, null, "c1", true],
      [M2, null, "c2", false],
      [M3, "i-3", "c3", false],
    ]);
    expect(assignments(g)).to.deep.equal({ c1: "t-0", c2: "t-1", c3: "t-2" });
    expect(g.members.every((m) => m.inGroup && m.assignmentGeneration === 2)).to.equal(true);
  });

  it("empties an EAGER member's assignment on revoke, before the next generation assigns", () => {
    expect(assignments(groupAt(8.65 * S))).to.deep.equal({ c1: "", c2: "", c3: "" });
    expect(assignments(groupAt(14.5 * S))).to.deep.equal({ c1: "t-0,t-1", c3: "t-2" });
  });

  it("drops partitions-lost partitions and the member that left", () => {
    const g = groupAt(14.2 * S);
    expect(g.members.map((m) => m.memberId)).to.deep.equal([M1, M3]);
    expect(g.state).to.equal("PreparingRebalance");
  });

  it("shows a crashed consumer owning nothing while its member stays until the session times out", () => {
    const g = groupAt(30 * S);
    expect(g.members.map((m) => m.memberId)).to.deep.equal([M1, M3]);
    expect(g.members[1].assignment).to.deep.equal([]);
    expect(groupAt(37 * S).members.map((m) => m.memberId)).to.deep.equal([M1]);
    expect(assignments(groupAt(37 * S))).to.deep.equal({ c1: "t-0,t-1,t-2" });
  });

  it("adds COOPERATIVE assignments to what the member owns and removes revoked ones", () => {
    expect(assignments(groupAt(6 * S, "reports"))).to.deep.equal({ c4: "t-0,t-1,t-2" });
    const g = groupAt(21 * S, "reports");
    expect(g.state).to.equal("Empty");
    expect(g.generation).to.equal(2);
    expect(g.members).to.deep.equal([]);
    expect(g.protocol).to.equal("cooperative-sticky");
  });

  it("keeps the last committed offset per partition as the coordinators announced it", () => {
    const offsets = (g: GroupView) => Object.fromEntries(g.committed.map((c) => [c.topicPartition, c.offset]));
    expect(groupAt(5 * S).committed).to.deep.equal([]);
    expect(offsets(groupAt(7 * S))).to.deep.equal({ "t-0": 5, "t-1": 3, "t-2": 4 });
    expect(offsets(groupAt(15.5 * S))).to.deep.equal({ "t-0": 12, "t-1": 20, "t-2": 7 });
    // Committed through broker-2 while it was the coordinator; kept across the unload and broker-1's load.
    expect(offsets(groupAt(18.5 * S))).to.deep.equal({ "t-0": 15, "t-1": 20, "t-2": 7 });
    expect(offsets(groupAt(23 * S))).to.deep.equal({ "t-0": 15, "t-1": 20, "t-2": 7 });
    expect(offsets(groupAt(37 * S))).to.deep.equal({ "t-0": 18, "t-1": 22, "t-2": 9 });
    const c = groupAt(37 * S).committed[0];
    expect([c.member, c.generation]).to.deep.equal([M1, 4]);
    // Groups keep their own offsets.
    expect(offsets(groupAt(37 * S, "reports"))).to.deep.equal({ "t-0": 30, "t-1": 30, "t-2": 30 });
  });

  it("follows the coordinator: down with its host, loading and active on the new one, unloaded on emigration", () => {
    expect([groupAt(16.2 * S).coordinator, groupAt(16.2 * S).coordinatorStatus]).to.deep.equal(["broker-1", "down"]);
    expect([groupAt(16.85 * S).coordinator, groupAt(16.85 * S).coordinatorStatus]).to.deep.equal(["broker-2", "loading"]);
    expect([groupAt(17 * S).coordinator, groupAt(17 * S).coordinatorStatus]).to.deep.equal(["broker-2", "active"]);
    expect([groupAt(22.1 * S).coordinator, groupAt(22.1 * S).coordinatorStatus]).to.deep.equal(["broker-2", "unloaded"]);
    expect([groupAt(22.25 * S).coordinator, groupAt(22.25 * S).coordinatorStatus]).to.deep.equal(["broker-1", "loading"]);
    expect([groupAt(23 * S).coordinator, groupAt(23 * S).coordinatorStatus]).to.deep.equal(["broker-1", "active"]);
    // The other group's coordinator is untouched.
    expect(groupAt(16.5 * S, "reports").coordinatorStatus).to.equal("active");
  });

  it("counts rebalances (transitions into PreparingRebalance)", () => {
    expect(groupAt(5 * S).rebalances).to.equal(1);
    expect(groupAt(9 * S).rebalances).to.equal(2);
    expect(groupAt(37 * S).rebalances).to.equal(4);
    expect(groupAt(37 * S, "reports").rebalances).to.equal(2);
  });

  it("reads each member's lag from its client's last metrics sample", () => {
    const c1 = groupAt(7.5 * S).members.find((m) => m.client === "c1")!;
    expect(c1.lagMax).to.equal(6);
    expect(c1.lag).to.deep.equal([
      { topicPartition: "t-0", lag: 2 },
      { topicPartition: "t-1", lag: 6 },
    ]);
    expect(groupAt(5 * S).members[0].lag).to.deep.equal([]);
    expect(groupAt(5 * S).members[0].lagMax).to.equal(null);
    // A crashed client's sample is gone with it.
    expect(groupAt(30 * S).members.find((m) => m.client === "c3")!.lagMax).to.equal(null);
  });

  it("shows a consumer that still owns partitions outside the coordinator's member list", () => {
    // c2 revoked nothing and the coordinator removed it: a zombie owner, flagged inGroup false.
    const zombie = events.filter((e) => !(e.kind === "partitions-lost" && e.process === "c2"));
    const t = Timeline.build(header, zombie);
    const g = t.stateAt(t.indexAtTime(14.5 * S)).groups.find((x) => x.group === "g1")!;
    const c2 = g.members.find((m) => m.client === "c2")!;
    expect(c2.inGroup).to.equal(false);
    expect(c2.assignment).to.deep.equal(["t-1"]);
  });

  it("shows a commit (an op with f commit) with its mode and offsets, open until its answer", () => {
    const invoke = events.findIndex((e) => e.kind === "op" && e.f === "commit" && e.type === "invoke");
    const ok = events.findIndex((e) => e.kind === "op" && e.f === "commit" && e.type === "ok" && e.opId === events[invoke].opId && e.process === events[invoke].process);
    const open = timeline.stateAt(invoke).ops.open.find((o) => o.f === "commit")!;
    const offsets = (events[invoke].offsets as { topic: string; partition: number; offset: number }[]).map((o) => `${o.topic}-${o.partition}@${o.offset}`).join(" ");
    expect([open.process, open.type, open.value]).to.deep.equal([events[invoke].process, "invoke", `sync ${offsets}`]);
    const done = timeline.stateAt(ok).ops.recent.filter((o) => o.f === "commit").pop()!;
    expect([done.type, done.value, done.opId]).to.deep.equal(["ok", `sync ${offsets}`, events[invoke].opId]);
  });

  it("is pure: the same trace gives the same views, and stateAt does not depend on earlier calls", () => {
    const again = Timeline.build(header, events);
    for (const t of [3, 9, 16.5, 22.1, 37]) {
      expect(again.stateAt(again.indexAtTime(t * S)).groups).to.deep.equal(timeline.stateAt(timeline.indexAtTime(t * S)).groups);
    }
  });
});

describe("viewer state: group reducers", () => {
  const e = (kind: string, fields: Record<string, unknown>, node = "broker-1"): TraceEvent => ({ t: 0, seq: 0, node, kind, ...fields });

  it("GroupStatusTracker moves only the groups on the emigrating partition", () => {
    const tracker = new GroupStatusTracker();
    tracker.apply(0, e("group-state", { group: "a", state: "Stable", generation: 1, members: [], partition: 1 }));
    tracker.apply(1, e("group-state", { group: "b", state: "Stable", generation: 1, members: [], partition: 2 }));
    const changed = tracker.apply(2, e("group-coordinator-unloaded", { partition: 1, groups: 1 }));
    expect(changed.map((s) => [s.group, s.coordinatorStatus])).to.deep.equal([["a", "unloaded"]]);
    expect(tracker.current.get("b")!.coordinatorStatus).to.equal("active");
    // A named list wins over the partition.
    expect(tracker.apply(3, e("group-coordinator-unloaded", { partition: 9, groups: ["b"] })).map((s) => s.group)).to.deep.equal(["b"]);
    // An unloaded group is not "down" when its old host crashes.
    expect(tracker.apply(4, e("host-crash", {}))).to.deep.equal([]);
  });

  it("nextAssignment: EAGER replaces, COOPERATIVE adds, revoke and lost remove, sorted by partition number", () => {
    const a = nextAssignment(undefined, "c", e("partitions-assigned", { group: "g", member: "m", generation: 1, partitions: ["t-10", "t-9"], protocol: "COOPERATIVE" }, "c"))!;
    expect(a.partitions).to.deep.equal(["t-9", "t-10"]);
    const b = nextAssignment(a, "c", e("partitions-assigned", { group: "g", member: "m", generation: 2, partitions: ["t-1"], protocol: "COOPERATIVE" }, "c"))!;
    expect(b.partitions).to.deep.equal(["t-1", "t-9", "t-10"]);
    const c = nextAssignment(b, "c", e("partitions-assigned", { group: "g", member: "m", generation: 3, partitions: ["t-2"], protocol: "EAGER" }, "c"))!;
    expect(c.partitions).to.deep.equal(["t-2"]);
    expect(nextAssignment(b, "c", e("partitions-lost", { group: "g", partitions: ["t-9"] }, "c"))!.partitions).to.deep.equal(["t-1", "t-10"]);
    expect(nextAssignment(b, "c", e("consumer-poll-timeout", { group: "g" }, "c"))).to.equal(null);
  });

  it("nextAssignment: consumer-group-joined's protocol is the assignor, its rebalanceProtocol EAGER / COOPERATIVE", () => {
    const joined = nextAssignment(undefined, "c", e("consumer-group-joined", { group: "g", member: "m", generation: 1, leader: true, protocol: "range", rebalanceProtocol: "EAGER" }, "c"))!;
    expect(joined.protocol).to.equal("EAGER");
    const cooperative = nextAssignment(undefined, "c", e("consumer-group-joined", { group: "g", member: "m", generation: 1, leader: true, protocol: "cooperative-sticky", rebalanceProtocol: "COOPERATIVE" }, "c"))!;
    expect(cooperative.protocol).to.equal("COOPERATIVE");
    // A trace without rebalanceProtocol that put it in protocol.
    expect(nextAssignment(undefined, "c", e("consumer-group-joined", { group: "g", member: "m", generation: 1, protocol: "COOPERATIVE" }, "c"))!.protocol).to.equal("COOPERATIVE");
  });

  it("entersRebalance: by the event's previousState; a load (previousState null) by the state before", () => {
    const prep = (previousState: string | null) => e("group-state", { group: "g", state: "PreparingRebalance", previousState, generation: 1, members: [] });
    expect(entersRebalance(prep("Stable"), { state: "PreparingRebalance" })).to.equal(true);
    expect(entersRebalance(prep("PreparingRebalance"), { state: "Stable" })).to.equal(false);
    expect(entersRebalance(prep(null), { state: "Stable" })).to.equal(true);
    expect(entersRebalance(prep(null), undefined)).to.equal(true);
    expect(entersRebalance(e("group-state", { group: "g", state: "Stable", previousState: "CompletingRebalance" }), null)).to.equal(false);
  });

  it("GroupStatusTracker: a replaced static member takes its new id (from its consumer-group-joined), as leader too", () => {
    const tracker = new GroupStatusTracker();
    const old = "i1-b38f8ad5-f330-79a0-488c-f55d7072445b";
    const fresh = "i1-0042f368-66ad-fdd5-a00e-51dbceb54c99";
    const other = { memberId: "c2-d20d7661-3e4e-a391-5063-8fb782e1c6f8", instanceId: null };
    tracker.apply(0, e("group-state", { group: "g", state: "Stable", previousState: "CompletingRebalance", generation: 1, leader: old, members: [{ memberId: old, instanceId: "i1" }, other], partition: 0 }));
    expect(tracker.apply(1, e("group-member-removed", { group: "g", member: old, instanceId: "i1", reason: "static-member-replaced" }))).to.deep.equal([]);
    // Another member's join changes nothing.
    expect(tracker.apply(2, e("consumer-group-joined", { process: "c2", group: "g", member: other.memberId, generation: 1 }, "c2"))).to.deep.equal([]);
    const [status] = tracker.apply(3, e("consumer-group-joined", { process: "c1", group: "g", member: fresh, generation: 1, leader: true }, "c1"));
    expect(status.members).to.deep.equal([{ memberId: fresh, instanceId: "i1" }, other]);
    expect([status.leader, status.state, status.generation, status.seq]).to.deep.equal([fresh, "Stable", 1, 3]);
    // Once only.
    expect(tracker.apply(4, e("consumer-group-joined", { process: "c1", group: "g", member: fresh, generation: 1 }, "c1"))).to.deep.equal([]);
  });
});
