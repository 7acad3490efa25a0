/**
 * The drawing index's consumer groups (web/src/ui/trace-index.ts) over the synthetic trace of
 * test/web/fixtures/group-trace.ts: one lane per group after the clients, state spans with generation and
 * leader, the coordinator gone while its host is down, glyphs for the group key events, the group protocol's
 * colours, and the derived rebalances chart.
 */

import { expect } from "chai";
import { chartLines, CHARTS } from "../../web/src/ui/metrics-view.ts";
import { groupMessageColour, messageColour } from "../../web/src/ui/timeline-view.ts";
import { indexTrace, parseTraceText } from "../../web/src/ui/trace-index.ts";
import { groupTrace, M1 } from "./fixtures/group-trace.ts";

const S = 1_000_000;

describe("viewer trace index: consumer groups", () => {
  const { text } = groupTrace();
  const { header, events } = parseTraceText(text);
  const index = indexTrace(header, events);

  it("adds one lane per group, by id, after the clients; nodes keep their lanes", () => {
    expect(index.lanes.map((l) => `${l.name}:${l.group}`)).to.deep.equal([
      "zk-1:zookeeper",
      "broker-1:broker",
      "broker-2:broker",
      "broker-3:broker",
      "p1:client",
      "c1:client",
      "c2:client",
      "c3:client",
      "c4:client",
      "group g1:group",
      "group reports:group",
    ]);
    expect([...index.groupLanes]).to.deep.equal([
      ["g1", 9],
      ["reports", 10],
    ]);
    expect(index.laneOf.has("group g1")).to.equal(false);
  });

  it("spans each group's states in time order, each ending where the next begins", () => {
    const g1 = index.groupSpans.filter((s) => s.group === "g1");
    expect(g1.slice(0, 4).map((s) => `${s.state}/${s.generation}`)).to.deep.equal(["PreparingRebalance/0", "PreparingRebalance/0", "CompletingRebalance/1", "Stable/1"]);
    for (let k = 1; k < g1.length; k++) expect(g1[k - 1].toT, `span ${k - 1} ends where ${k} begins`).to.equal(g1[k].fromT);
    expect(g1[g1.length - 1].toT).to.equal(index.endT);
    const stable1 = g1[3];
    expect([stable1.leader, stable1.members, stable1.protocol, stable1.coordinator]).to.deep.equal([M1, 2, "range", "broker-1"]);
  });

  it("marks the group's coordinator down with its host, then loading and active on broker-2", () => {
    const at = (t: number) => index.groupSpans.filter((s) => s.group === "g1" && s.fromT <= t).pop()!;
    expect([at(16.5 * S).coordinator, at(16.5 * S).coordinatorStatus, at(16.5 * S).state]).to.deep.equal(["broker-1", "down", "Stable"]);
    expect([at(16.85 * S).coordinator, at(16.85 * S).coordinatorStatus]).to.deep.equal(["broker-2", "loading"]);
    expect([at(17 * S).coordinator, at(17 * S).coordinatorStatus]).to.deep.equal(["broker-2", "active"]);
    expect(at(22.1 * S).coordinatorStatus).to.equal("unloaded");
  });

  it("draws glyphs for the group key events on the right lanes", () => {
    const marks = (glyph: string) => index.marks.filter((m) => m.glyph === glyph).map((m) => `${index.lanes[m.lane].name}@${m.t / S}`);
    expect(marks("⊕")).to.include("c1@4.203001");
    expect(marks("⊖")).to.include("c2@8.6");
    expect(marks("⊗")).to.deep.equal(["c2@14"]);
    expect(marks("⌛")).to.deep.equal(["c2@14"]);
    expect(marks("⏏")).to.deep.equal(["broker-1@14.0015", "group g1@14.0015", "broker-3@20.0015", "group reports@20.0015", "broker-1@33", "group g1@33"]);
    expect(marks("◔")).to.include("broker-2@16.8");
    expect(marks("●")).to.include("broker-2@16.9");
    expect(marks("○")).to.deep.equal(["broker-2@22"]);
    const removed = index.marks.find((m) => m.glyph === "⏏" && m.t === 33 * S)!;
    expect(removed.label).to.equal("group g1 member i-3-c07e removed: session timeout");
    expect(removed.category).to.equal("group");
  });

  it("makes group state changes key events (shift+→ stops at them) without a glyph", () => {
    const i = events.findIndex((e) => e.kind === "group-state" && e.state === "Stable" && e.generation === 2);
    expect([...index.keyIndexes]).to.include(i);
    expect(index.marks.filter((m) => m.seq === events[i].seq).map((m) => m.glyph)).to.deep.equal([""]);
  });

  it("colours the group protocol's requests and responses in their own family, the others as before", () => {
    for (const type of ["FindCoordinator", "JoinGroup", "SyncGroup", "Heartbeat", "LeaveGroup", "OffsetCommit", "OffsetFetch"]) {
      expect(groupMessageColour(type), type).to.match(/^#/);
      expect(messageColour(`${type}Response`), `${type}Response`).to.equal(messageColour(type));
    }
    expect(messageColour("Fetch")).to.equal("#3b7dd8");
    expect(messageColour("OffsetsForLeaderEpoch")).to.equal("#c04080");
    expect(messageColour("LeaderAndIsr")).to.equal("#e07b00");
    expect(groupMessageColour("Produce")).to.equal(null);
  });

  it("derives a rebalances chart per group from group-state, as steps to the end of the trace", () => {
    const spec = CHARTS.find((c) => c.derived === "group-rebalances")!;
    const lines = chartLines(index, spec);
    expect(lines.map((l) => l.node)).to.deep.equal(["g1", "reports"]);
    const g1 = lines[0];
    expect(g1.v[g1.v.length - 1]).to.equal(4);
    expect(g1.t[g1.t.length - 1]).to.equal(index.endT);
    // A step: the count holds until the transition's time, then rises by one.
    const k = g1.t.indexOf(8.1 * S + 1500);
    expect([g1.v[k], g1.v[k + 1]]).to.deep.equal([1, 2]);
  });

  it("adds nothing for traces without groups", () => {
    const plain = indexTrace({ ...header, nodes: ["broker-1"] }, [{ t: 0, seq: 0, node: "broker-1", kind: "host-start", incarnation: 1 }]);
    expect(plain.lanes.map((l) => l.name)).to.deep.equal(["broker-1"]);
    expect(plain.groupSpans).to.deep.equal([]);
    expect(plain.groupRebalances).to.deep.equal([]);
  });
});
