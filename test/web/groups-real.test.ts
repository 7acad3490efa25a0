/**
 * The viewer on real consumer-group traces: every scenarios/group-*.json at its own seed, traced, read by the
 * viewer's parser and loaded into the state timeline (web/src/state) and the drawing index
 * (web/src/ui/trace-index.ts). At the end of each trace the group lanes and the inspector agree with the
 * trace's own last word: the last group-state per group, the transitions into PreparingRebalance, and (for
 * group-rebalance-tour, EAGER) each member's last partitions-assigned.
 */

import { expect } from "chai";
import { readdirSync } from "node:fs";
import { shortMemberId } from "../../src/cli/timeline-groups.ts";
import type { TraceEvent } from "../../src/sim/trace.ts";
import { MemorySink } from "../../src/sim/trace.ts";
import { runScenario } from "../../src/scenario/run.ts";
import { validateScenario } from "../../src/scenario/load.ts";
import { Timeline } from "../../web/src/state/index.ts";
import { describeGroupSpan, indexTrace, parseTraceText } from "../../web/src/ui/trace-index.ts";
import { scenarioFile } from "../scenario/helpers.ts";

const SCENARIOS = readdirSync(new URL("../../scenarios/", import.meta.url))
  .filter((name) => name.startsWith("group-") && name.endsWith(".json"))
  .map((name) => name.slice(0, -".json".length))
  .sort();

/** The traces the last tests read again (the others are not kept: they are large). */
const kept = new Map<string, string>();
const KEEP = new Set(["group-rebalance-tour", "group-static-restart", "group-coordinator-failover"]);

function traceOf(name: string): string {
  const cached = kept.get(name);
  if (cached !== undefined) return cached;
  const text = runTrace(name);
  if (KEEP.has(name)) kept.set(name, text);
  return text;
}

function runTrace(name: string): string {
  const spec = scenarioFile(name);
  const sink = new MemorySink();
  const result = runScenario(validateScenario(spec, `${name}.json`), { sinks: [sink] });
  expect(result.error, "model error").to.equal(undefined);
  return sink.lines.join("\n") + "\n";
}

function lastGroupStates(events: readonly TraceEvent[]): Map<string, TraceEvent> {
  const last = new Map<string, TraceEvent>();
  for (const e of events) if (e.kind === "group-state") last.set(String(e.group), e);
  return last;
}

describe("viewer on the real consumer-group scenarios", function () {
  this.timeout(120_000);

  it("there are group scenarios to check", () => {
    expect(SCENARIOS.length).to.be.at.least(11);
  });

  for (const name of SCENARIOS) {
    it(`${name}: loads; the lanes, the inspector and the rebalance counts end where the trace does`, () => {
      const { header, events } = parseTraceText(traceOf(name));
      const timeline = Timeline.build(header, events);
      const index = indexTrace(header, events);
      const end = timeline.stateAt(events.length - 1);
      const last = lastGroupStates(events);
      expect(last.size, "the scenario has a group").to.be.greaterThan(0);
      expect([...index.groupLanes.keys()].sort()).to.deep.equal([...last.keys()].sort());

      for (const [group, e] of last) {
        const spans = index.groupSpans.filter((s) => s.group === group);
        const lane = spans[spans.length - 1];
        expect(`${lane.state}/${lane.generation}`, `${group}'s lane at the end`).to.equal(`${String(e.state)}/${String(e.generation)}`);
        expect(lane.toT).to.equal(index.endT);
        expect(describeGroupSpan(lane)).to.contain(`group ${group}: ${String(e.state)}`);
        const view = end.groups.find((g) => g.group === group)!;
        expect(`${view.state}/${view.generation}`, `${group} in the inspector at the end`).to.equal(`${String(e.state)}/${String(e.generation)}`);

        const rebalances = events.filter((x) => x.kind === "group-state" && x.group === group && x.state === "PreparingRebalance" && typeof x.previousState === "string" && x.previousState !== "PreparingRebalance").length;
        expect(view.rebalances, `${group}'s rebalances in the inspector`).to.equal(rebalances);
        const chart = index.groupRebalances.find((s) => s.node === group)!;
        expect(chart.v[chart.v.length - 1], `${group}'s rebalances chart`).to.equal(rebalances);
      }
      // Every group key event has a glyph or a lane mark, on a lane that exists.
      expect(index.marks.every((m) => m.lane >= 0 && m.lane < index.lanes.length)).to.equal(true);
    });
  }

  it("group-rebalance-tour: at the end each member owns what its last partitions-assigned gave it", () => {
    const { header, events } = parseTraceText(traceOf("group-rebalance-tour"));
    const timeline = Timeline.build(header, events);
    const g1 = timeline.stateAt(events.length - 1).groups.find((g) => g.group === "g1")!;
    const lastState = lastGroupStates(events).get("g1")!;
    const lastAssigned = new Map<string, TraceEvent>();
    for (const e of events) if (e.kind === "partitions-assigned" && e.group === "g1") lastAssigned.set(String(e.member), e);
    const listed = (lastState.members as { memberId: string }[]).map((m) => m.memberId);

    expect(g1.members.map((m) => m.memberId)).to.deep.equal(listed);
    expect(g1.leader).to.equal(lastState.leader);
    for (const member of g1.members) {
      const assigned = lastAssigned.get(member.memberId)!;
      expect(assigned.protocol).to.equal("EAGER");
      expect(member.inGroup).to.equal(true);
      expect(member.client, member.memberId).to.equal(assigned.process);
      expect(member.assignment, `${member.client}'s assignment`).to.deep.equal(assigned.partitions);
      expect(member.assignmentGeneration).to.equal(assigned.generation);
    }
    // Together they own every partition of the topic once.
    expect(g1.members.flatMap((m) => m.assignment).sort()).to.deep.equal(["t-0", "t-1", "t-2", "t-3", "t-4", "t-5"]);
  });

  it("group-static-restart: a restarted static member is listed under its new member id, with its partitions", () => {
    const { header, events } = parseTraceText(traceOf("group-static-restart"));
    const timeline = Timeline.build(header, events);
    const index = indexTrace(header, events);
    const replaced = events.find((e) => e.kind === "group-member-removed" && e.reason === "static-member-replaced")!;
    const rejoined = events.find((e) => e.kind === "consumer-group-joined" && e.seq > replaced.seq && String(e.member).startsWith(`${String(replaced.instanceId)}-`))!;
    expect(rejoined.member).to.not.equal(replaced.member);
    const g1 = timeline.stateAt(events.length - 1).groups.find((g) => g.group === "g1")!;
    expect(g1.members.map((m) => m.memberId)).to.include(rejoined.member);
    expect(g1.members.map((m) => m.memberId)).to.not.include(replaced.member);
    expect(g1.members.every((m) => m.inGroup)).to.equal(true);
    const member = g1.members.find((m) => m.memberId === rejoined.member)!;
    expect([member.client, member.instanceId, member.assignment.join(",")]).to.deep.equal([rejoined.process, replaced.instanceId, "t-0,t-1"]);
    if (rejoined.leader === true) expect(g1.leader).to.equal(rejoined.member);
    // The lane's box after the rejoin names the new leader id, short.
    const span = index.groupSpans.filter((s) => s.group === "g1").pop()!;
    expect(span.leader).to.equal(g1.leader);
    expect(describeGroupSpan(span)).to.contain(`leader ${shortMemberId(g1.leader!)}`);
  });

  it("group-coordinator-failover: a member whose join its crashed coordinator never answered is matched to its client by its id", () => {
    const { header, events } = parseTraceText(traceOf("group-coordinator-failover"));
    const timeline = Timeline.build(header, events);
    const crash = events.find((e) => e.kind === "host-crash" && e.node === "broker-1")!;
    const g1 = timeline.stateAt(crash.seq).groups.find((g) => g.group === "g1")!;
    // The client events that tie a member id to its client (the viewer reads these).
    const tying = new Set(["consumer-group-joined", "partitions-assigned", "partitions-revoked", "partitions-lost"]);
    const named = new Set(events.filter((e) => tying.has(e.kind)).map((e) => String(e.member)));
    const unanswered = g1.members.filter((m) => !named.has(m.memberId));
    expect(unanswered.map((m) => shortMemberId(m.memberId).split("-")[0])).to.deep.equal(["c3"]);
    expect(unanswered[0].client).to.equal("c3");
    expect(g1.members.map((m) => m.client)).to.deep.equal(["c1", "c2", "c3"]);
  });
});
