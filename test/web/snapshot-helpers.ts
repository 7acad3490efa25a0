// Runs a scenario with snapshots on and compares the viewer's reconstruction with every snapshot event.
import { loadScenario } from "../../src/scenario/load.ts";
import { runScenario, type RunResult } from "../../src/scenario/run.ts";
import { MemorySink, parseTrace, type TraceEvent, type TraceHeader } from "../../src/sim/trace.ts";
import { readFileSync } from "node:fs";
import { Timeline } from "../../web/src/state/timeline.ts";
import { normalizeSnapshot, projectSnapshot, type ProjectedSnapshot } from "../../web/src/state/projection.ts";

export interface TracedRun {
  header: TraceHeader;
  events: TraceEvent[];
  lines: string[];
  result: RunResult;
}

export function runTraced(name: string, options: { seed?: number | string; snapshotIntervalMs?: number; untilUs?: number } = {}): TracedRun {
  const file = name.includes("/") ? name : `scenarios/${name}.json`;
  const scenario = loadScenario(readFileSync(file, "utf8"), file);
  const sink = new MemorySink();
  const result = runScenario(scenario, { ...options, sinks: [sink] });
  const { header, events } = parseTrace(sink.lines.join("\n"));
  return { header, events, lines: sink.lines.slice(1), result };
}

export interface Mismatch {
  index: number;
  t: number;
  path: string;
  expected: unknown;
  actual: unknown;
}

/** The first difference between two JSON-like values, as a path. */
export function firstDifference(expected: unknown, actual: unknown, path = ""): { path: string; expected: unknown; actual: unknown } | null {
  if (Object.is(expected, actual)) return null;
  if (typeof expected !== "object" || typeof actual !== "object" || expected === null || actual === null || Array.isArray(expected) !== Array.isArray(actual)) {
    return { path, expected, actual };
  }
  if (Array.isArray(expected) && Array.isArray(actual)) {
    for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
      const found = firstDifference(expected[i], actual[i], `${path}[${i}]`);
      if (found !== null) return found;
    }
    return null;
  }
  const e = expected as Record<string, unknown>;
  const a = actual as Record<string, unknown>;
  for (const key of new Set([...Object.keys(e), ...Object.keys(a)])) {
    const found = firstDifference(e[key], a[key], `${path}.${key}`);
    if (found !== null) return found;
  }
  return null;
}

/** Compares every snapshot event with the projected reconstruction; returns the count checked and the first mismatch. */
export function compareSnapshots(run: { header: TraceHeader; events: TraceEvent[] }): { checked: number; mismatch: Mismatch | null; timeline: Timeline } {
  const timeline = Timeline.build(run.header, run.events);
  let checked = 0;
  for (let index = 0; index < run.events.length; index++) {
    const event = run.events[index];
    if (event.kind !== "snapshot") continue;
    checked++;
    const expected = normalizeSnapshot(event as unknown as ProjectedSnapshot);
    const actual = projectSnapshot(timeline.stateAt(index));
    const difference = firstDifference(
      { hosts: expected.hosts, zkLeader: expected.zkLeader, controllers: expected.controllers, replicas: expected.replicas, zk: expected.zk },
      actual,
    );
    if (difference !== null) return { checked, mismatch: { index, t: event.t, ...difference }, timeline };
  }
  return { checked, mismatch: null, timeline };
}

export function describeMismatch(name: string, mismatch: Mismatch): string {
  return `${name}: snapshot at index ${mismatch.index} (t=${mismatch.t / 1e6}s) differs at ${mismatch.path}: model ${JSON.stringify(mismatch.expected)}, reconstruction ${JSON.stringify(mismatch.actual)}`;
}
