/** Shared helpers of the scenario tests: run a scenario (a file of scenarios/ or an object) and read its trace. */

import { expect } from "chai";
import { readFileSync } from "node:fs";
import { parseScenarioText, validateScenario } from "../../src/scenario/load.ts";
import { runScenario, type RunResult } from "../../src/scenario/run.ts";
import { MemorySink, parseTrace, type TraceEvent } from "../../src/sim/trace.ts";

const ROOT = new URL("../..", import.meta.url);
export const S = 1_000_000;

export interface Run {
  result: RunResult;
  events: TraceEvent[];
}

export type Spec = Record<string, unknown>;

/** A scenario file of scenarios/ as a plain object, to run as it is or with changes. */
export function scenarioFile(name: string): Spec {
  return parseScenarioText(readFileSync(new URL(`scenarios/${name}.json`, ROOT), "utf8"), `${name}.json`) as Spec;
}

export function run(spec: Spec, seed?: number): Run {
  const scenario = validateScenario(spec, `${String(spec.name)}.json`);
  const sink = new MemorySink();
  const result = runScenario(scenario, seed === undefined ? { sinks: [sink] } : { sinks: [sink], seed });
  expect(result.error, "model error").to.equal(undefined);
  return { result, events: parseTrace(sink.lines.join("\n")).events };
}

/** `spec` with cluster.config / cluster.compat entries replaced (other keys kept). */
export function withCluster(spec: Spec, changes: { version?: string; config?: Spec; compat?: Spec }): Spec {
  const cluster = { ...(spec.cluster as Spec) };
  if (changes.version !== undefined) cluster.version = changes.version;
  if (changes.config !== undefined) cluster.config = { ...(cluster.config as Spec | undefined), ...changes.config };
  if (changes.compat !== undefined) cluster.compat = { ...(cluster.compat as Spec | undefined), ...changes.compat };
  return { ...spec, cluster };
}

const memo = new Map<string, Run>();
/** Runs each distinct spec once per test file. */
export function runOnce(key: string, spec: () => Spec): Run {
  let entry = memo.get(key);
  if (entry === undefined) {
    entry = run(spec());
    memo.set(key, entry);
  }
  return entry;
}

export function kinds(events: TraceEvent[], kind: string, where: (e: TraceEvent) => boolean = () => true): TraceEvent[] {
  return events.filter((e) => e.kind === kind && where(e));
}

export function ops(events: TraceEvent[], type: string, where: (e: TraceEvent) => boolean = () => true): TraceEvent[] {
  return kinds(events, "op", (e) => e.type === type && where(e));
}

export function violationNames(r: Run): string[] {
  return [...new Set(r.result.violations.map((v) => v.name))];
}

