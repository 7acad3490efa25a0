/**
 * Shrinking a failing run into a small scenario that replays it. The run's fault schedule becomes an explicit
 * fault list — `at` ranges pinned to the times the seed drew, selectors replaced by the nodes they picked,
 * `until` turned into `for`, the nemesis's faults written out and the nemesis removed — and is then minimised
 * while the same violation still appears with the same seed: faults are deleted (ddmin: halves, then smaller
 * chunks, then single faults), each remaining fault is moved earlier and made shorter (binary search on `at`
 * and `for`), and `duration` is cut. Every candidate is a real run; the number of runs is bounded.
 * Pure: no file system; the CLI (src/cli/shrink-command.ts) reads and writes the files.
 */

import { Rng } from "../sim/rng.ts";
import { ms, parseDuration, type Micros } from "../sim/time.ts";
import { parseTrace, type TraceEvent, type TraceSink } from "../sim/trace.ts";
import { validateScenario } from "./load.ts";
import { runScenario, type RunResult } from "./run.ts";
import type { Fault, NodeRef, Scenario, ViolationName } from "./spec.ts";

export const DEFAULT_MAX_RUNS = 200;
/** Binary searches on times stop at this resolution. */
const RESOLUTION_US = 50_000;

export type ShrinkPhase = "record" | "explicit" | "delete" | "earlier" | "shorter" | "duration" | "verify";

export interface ShrinkProgress {
  phase: ShrinkPhase;
  runs: number;
  maxRuns: number;
  faults: number;
}

export interface ShrinkOptions {
  seed: number | string;
  /** The scenario's file name, for validation errors and the description. */
  file: string;
  /** The violation to keep (default: the first the scenario expects that the run shows, else the first it shows). */
  violation?: ViolationName;
  maxRuns?: number;
  onProgress?(progress: ShrinkProgress): void;
}

export interface ShrinkCounts {
  /** Faults of the file's fixed list. */
  listed: number;
  /** Faults the nemesis generated and fired. */
  nemesis: number;
  /** The explicit list (fired faults only: skipped and never-fired ones are dropped). */
  explicit: number;
  /** The shrunk list. */
  shrunk: number;
}

export type ShrinkResult =
  | { status: "no-violation"; runs: number; violations: ViolationName[] }
  | { status: "not-reproduced"; runs: number; violation: ViolationName; reason: string }
  | {
      status: "shrunk";
      runs: number;
      violation: ViolationName;
      /** The scenario document (JSON-ready) that replays the violation with `seed`. */
      scenario: Record<string, unknown>;
      counts: ShrinkCounts;
      durationUs: { before: Micros; after: Micros };
      /** True when the run budget ran out before minimisation finished. */
      exhausted: boolean;
    };

/** One fault of the explicit list: its settings without timing, a start time and a length (null = until settle). */
export interface TimedFault {
  base: Record<string, unknown>;
  atUs: Micros;
  forUs: Micros | null;
}

/** Fault types that take no `for`/`until` (they act once). */
const INSTANT = new Set(["restart", "heal", "corrupt", "create-topic", "delete-topic", "reassign", "preferred-election"]);

/** "5s", "250ms" or "4123456us": whole units, so the file says exactly the time the run used. */
export function formatDurationUs(us: Micros): string {
  if (us % 1_000_000 === 0) return `${us / 1_000_000}s`;
  if (us % 1000 === 0) return `${us / 1000}ms`;
  return `${us}us`;
}

export function toFault(item: TimedFault): Record<string, unknown> {
  const fault: Record<string, unknown> = { at: formatDurationUs(item.atUs), ...item.base };
  if (item.forUs !== null) fault.for = formatDurationUs(item.forUs);
  return fault;
}

/** Keeps the nemesis lane of the trace (faults, skips, ends, settle) and nothing else. */
class NemesisLaneSink implements TraceSink {
  readonly lines: string[] = [];
  private header = true;
  write(line: string): void {
    if (this.header || line.includes('"node":"nemesis"')) this.lines.push(line);
    this.header = false;
  }
  events(): TraceEvent[] {
    return parseTrace(this.lines.join("\n")).events;
  }
}

/**
 * The fault schedule a run actually carried out, as an explicit list in scheduling order (the fixed list's
 * order, then the nemesis's), each with the time it fired and the nodes its selectors resolved to.
 */
export function explicitSchedule(scenario: Scenario, seed: number | string, events: readonly TraceEvent[]): TimedFault[] {
  const drawn = pinnedTimes(scenario.faults, seed);
  const firingOrder = scenario.faults.map((_, i) => i).sort((a, b) => drawn[a] - drawn[b] || a - b);
  const fixed: (TimedFault | null)[] = scenario.faults.map(() => null);
  const nemesis: TimedFault[] = [];
  let next = 0;
  let nemesisOwnsNext = false;
  for (const event of events) {
    if (event.kind === "nemesis-fault") {
      nemesis.push(fromNemesis(event.fault as Fault));
      nemesisOwnsNext = true;
      continue;
    }
    if (event.kind !== "fault" && event.kind !== "fault-skipped") continue;
    if (event.nemesis === true) continue; // a nemesis fault skipped before it reached the injector
    if (nemesisOwnsNext) {
      nemesisOwnsNext = false;
      continue;
    }
    if (next >= firingOrder.length) throw new Error(`shrink: a ${String(event.type)} fault in the trace matches no listed fault`);
    const index = firingOrder[next++];
    const fault = scenario.faults[index];
    if (event.type !== fault.type) throw new Error(`shrink: the trace's ${String(event.type)} fault does not match faults[${index}] (${fault.type})`);
    if (event.t !== drawn[index]) throw new Error(`shrink: faults[${index}] fired at ${event.t}µs, not at its drawn ${drawn[index]}µs`);
    if (event.kind === "fault") fixed[index] = resolved(fault, drawn[index], event);
  }
  return [...fixed.filter((item): item is TimedFault => item !== null), ...nemesis];
}

/** The times the fault injector draws for `at` ranges (its "faults" stream, in list order). */
function pinnedTimes(faults: readonly Fault[], seed: number | string): Micros[] {
  const rng = Rng.fromSeed(seed).fork("faults");
  return faults.map((fault) => {
    if (!Array.isArray(fault.at)) return parseDuration(fault.at)!;
    const from = parseDuration(fault.at[0])!;
    const to = parseDuration(fault.at[1])!;
    return rng.int(Math.min(from, to), Math.max(from, to));
  });
}

function fromNemesis(fault: Fault): TimedFault {
  const { at, for: length, ...base } = fault as Fault & { for?: number };
  return { base, atUs: ms(at as number), forUs: length === undefined ? null : ms(length) };
}

/** A listed fault with the nodes it hit in place of its selectors, and `until` as a length. */
function resolved(fault: Fault, atUs: Micros, event: TraceEvent): TimedFault {
  const { at: _at, until, for: length, ...rest } = fault as Fault & { until?: string | number; for?: string | number };
  const base: Record<string, unknown> = { ...rest };
  const nodes = (event.nodes as string[] | undefined) ?? [];
  if ("node" in fault && fault.node !== undefined) base.node = nodes[0];
  if ("nodes" in fault && fault.nodes !== undefined) base.nodes = nodes;
  if (fault.type === "partition") {
    if (fault.groups !== undefined) {
      const groups = event.groups as string[][];
      base.groups = fault.groups.map((group, g) => (group === "rest" ? "rest" : groups[g]));
    } else {
      base.from = event.from;
      base.to = event.to;
    }
  } else if ("from" in fault || "to" in fault) {
    const links = fault as { from?: NodeRef[]; to?: NodeRef[] };
    const fromCount = links.from?.length ?? 0;
    if (links.from !== undefined) base.from = nodes.slice(0, fromCount);
    if (links.to !== undefined) base.to = nodes.slice(fromCount);
  }
  let forUs: Micros | null = null;
  if (length !== undefined) forUs = parseDuration(length)!;
  else if (until !== undefined) forUs = Math.max(0, parseDuration(until)! - atUs);
  return { base, atUs, forUs };
}

/** The scenario document with an explicit fault list, a duration, and no nemesis. */
function withSchedule(raw: Record<string, unknown>, faults: readonly TimedFault[], durationUs: Micros): Record<string, unknown> {
  const { nemesis: _nemesis, ...rest } = raw;
  return { ...rest, duration: formatDurationUs(durationUs), faults: faults.map(toFault) };
}

/** Runs the shrink. Throws ScenarioError when the document is not a valid scenario. */
export function shrinkScenario(raw: Record<string, unknown>, options: ShrinkOptions): ShrinkResult {
  const maxRuns = options.maxRuns ?? DEFAULT_MAX_RUNS;
  const scenario = validateScenario(raw, options.file);
  let runs = 0;
  const report = (phase: ShrinkPhase, faults: number): void => options.onProgress?.({ phase, runs, maxRuns, faults });

  // 1. The original run, with its fault lane recorded.
  report("record", scenario.faults.length);
  const lane = new NemesisLaneSink();
  const original = runScenario(scenario, { seed: options.seed, sinks: [lane], hash: false });
  runs++;
  const found = [...new Set(original.violations.map((v) => v.name))];
  // The violation to keep: the one asked for, else the first the scenario expects that the run shows, else the first shown.
  const expected = (scenario.expect?.violations ?? []).find((name) => found.includes(name));
  const target = options.violation ?? expected ?? original.violations[0]?.name;
  if (target === undefined || !found.includes(target)) return { status: "no-violation", runs, violations: found };

  // 2. The explicit schedule must still show the violation.
  const explicit = explicitSchedule(scenario, options.seed, lane.events());
  const nemesisCount = lane.events().filter((event) => event.kind === "nemesis-fault").length;
  const durationBefore = parseDuration(scenario.duration)!;
  let exhausted = false;
  const fails = (faults: readonly TimedFault[], durationUs: Micros): boolean => {
    if (runs >= maxRuns) {
      exhausted = true;
      return false;
    }
    runs++;
    const candidate = validateScenario(withSchedule(raw, faults, durationUs), options.file);
    const result = runScenario(candidate, { seed: options.seed, hash: false });
    return result.error === undefined && result.violations.some((v) => v.name === target);
  };
  report("explicit", explicit.length);
  if (!fails(explicit, durationBefore)) {
    const reason = exhausted ? "the run budget is spent" : "the explicit fault list no longer shows it";
    return { status: "not-reproduced", runs, violation: target, reason };
  }

  // 3. Fewer faults, then earlier and shorter ones, then a shorter run.
  let faults = deleteFaults(explicit, (candidate) => fails(candidate, durationBefore), (n) => report("delete", n));
  for (let i = 0; i < faults.length; i++) {
    report("earlier", faults.length);
    const atUs = smallestFailing(0, faults[i].atUs, (t) => fails(replace(faults, i, { ...faults[i], atUs: t }), durationBefore));
    faults = replace(faults, i, { ...faults[i], atUs });
    if (INSTANT.has(faults[i].base.type as string)) continue;
    report("shorter", faults.length);
    const current = faults[i].forUs ?? Math.max(0, durationBefore - faults[i].atUs);
    const forUs = smallestFailing(0, current, (t) => fails(replace(faults, i, { ...faults[i], forUs: t }), durationBefore));
    if (faults[i].forUs !== null || forUs < current) faults = replace(faults, i, { ...faults[i], forUs });
  }
  report("duration", faults.length);
  const lastStart = Math.max(0, ...faults.map((f) => f.atUs + 1000));
  const durationUs = lastStart >= durationBefore ? durationBefore : smallestFailing(lastStart, durationBefore, (d) => fails(faults, d));

  // 4. The replay: its other violations are allowed, the target is expected.
  report("verify", faults.length);
  const document = withSchedule(raw, withMovedNotes(faults, explicit), durationUs);
  const replay: RunResult = runScenario(validateScenario(document, options.file), { seed: options.seed, hash: false });
  runs++;
  const others = [...new Set(replay.violations.map((v) => v.name))].filter((name) => name !== target);
  if (!replay.violations.some((v) => v.name === target)) {
    return { status: "not-reproduced", runs, violation: target, reason: "the shrunk scenario does not replay it" };
  }
  const counts: ShrinkCounts = { listed: scenario.faults.length, nemesis: nemesisCount, explicit: explicit.length, shrunk: faults.length };
  const scenarioDocument = finish(document, raw, options, target, others, counts, runs);
  return { status: "shrunk", runs, violation: target, scenario: scenarioDocument, counts, durationUs: { before: durationBefore, after: durationUs }, exhausted };
}

/**
 * A fault the shrink moved or shortened keeps its note, prefixed with what changed ("shrunk: at 3.2s, was 5s"):
 * a note written for the original time ("broker-2 crashes before the ISR shrinks") may no longer hold as written.
 */
export function withMovedNotes(faults: readonly TimedFault[], original: readonly TimedFault[]): TimedFault[] {
  return faults.map((fault) => {
    const before = original.find((item) => item.base === fault.base);
    const note = fault.base.note;
    if (before === undefined || typeof note !== "string") return fault;
    const changes: string[] = [];
    if (before.atUs !== fault.atUs) changes.push(`at ${formatDurationUs(fault.atUs)}, was ${formatDurationUs(before.atUs)}`);
    if (before.forUs !== fault.forUs && fault.forUs !== null) changes.push(`for ${formatDurationUs(fault.forUs)}, was ${before.forUs === null ? "until the end" : formatDurationUs(before.forUs)}`);
    if (changes.length === 0) return fault;
    return { ...fault, base: { ...fault.base, note: `(shrunk: ${changes.join("; ")}) ${note}` } };
  });
}

function replace(faults: readonly TimedFault[], index: number, item: TimedFault): TimedFault[] {
  return faults.map((fault, i) => (i === index ? item : fault));
}

/**
 * Deletes faults while `fails` holds: chunks of half the list, then halving the chunk size down to single
 * faults, retrying a size after any deletion. Ends with every single fault needed (1-minimal) or the budget.
 */
export function deleteFaults<T>(items: readonly T[], fails: (candidate: T[]) => boolean, progress: (count: number) => void = () => {}): T[] {
  let current = [...items];
  let chunk = Math.max(1, Math.ceil(current.length / 2));
  while (current.length > 0) {
    let removed = false;
    for (let start = 0; start < current.length; ) {
      const candidate = [...current.slice(0, start), ...current.slice(start + chunk)];
      if (fails(candidate)) {
        current = candidate;
        removed = true;
        progress(current.length);
      } else {
        start += chunk;
      }
    }
    if (chunk === 1 && !removed) break;
    if (!removed) chunk = Math.max(1, Math.ceil(chunk / 2));
    chunk = Math.min(chunk, Math.max(1, Math.ceil(current.length / 2)));
  }
  return current;
}

/**
 * Binary search for the smallest value in [low, high] (rounded to whole milliseconds) for which `fails`
 * holds, given that it holds at `high`; stops at RESOLUTION_US. Not every property is monotone in time: the
 * result is a value that fails, not necessarily the least one.
 */
export function smallestFailing(low: Micros, high: Micros, fails: (value: Micros) => boolean): Micros {
  if (low < high && fails(low)) return low;
  let lo = low;
  let hi = high;
  while (hi - lo > RESOLUTION_US) {
    const mid = Math.round((lo + hi) / 2 / 1000) * 1000;
    if (mid <= lo || mid >= hi) break;
    if (fails(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

function finish(
  document: Record<string, unknown>,
  raw: Record<string, unknown>,
  options: ShrinkOptions,
  target: ViolationName,
  others: ViolationName[],
  counts: ShrinkCounts,
  runs: number,
): Record<string, unknown> {
  const from = counts.nemesis > 0 ? `${counts.explicit} (${counts.listed} listed, ${counts.nemesis} from the nemesis)` : `${counts.explicit}`;
  const description =
    `Shrunk by kafkasim shrink from ${options.file} (scenario ${String(raw.name)}) with seed ${options.seed}: ${target} ` +
    `with ${counts.shrunk} fault${counts.shrunk === 1 ? "" : "s"} instead of ${from}, in ${runs} runs.`;
  const { $schema, name, description: _d, seed: _s, faults, expect: _e, ...rest } = document;
  const out: Record<string, unknown> = {};
  if ($schema !== undefined) out.$schema = $schema;
  out.name = `${String(name)}-shrunk`;
  out.description = description;
  out.seed = options.seed;
  Object.assign(out, rest);
  out.faults = faults;
  out.expect = others.length > 0 ? { violations: [target], allow: others } : { violations: [target] };
  return out;
}
