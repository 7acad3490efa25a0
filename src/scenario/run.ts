/**
 * The run loop of a scenario: build the world, schedule the faults, run `duration`, settle (heal all,
 * restart all, run `settle` more), then judge the run against `expect`. Every run is bounded by the
 * scenario's event limit and its virtual end time, and ends with a verdict.
 */

import { FaultInjector } from "./faults.ts";
import { NemesisRunner } from "./nemesis.ts";
import { MetricsSampler } from "./metrics.ts";
import type { KafkaVersion } from "../broker/config.ts";
import { buildWorld, type BuiltWorld } from "./build.ts";
import { OnlineCheckers } from "./checkers.ts";
import type { Scenario } from "./spec.ts";
import type { Violation } from "../check/violation.ts";
import { parseDuration, type Micros } from "../sim/time.ts";
import { TRACE_FORMAT, TRACE_FORMAT_VERSION, type Trace, type TraceSink } from "../sim/trace.ts";
import type { Verdict, VerdictReason } from "../sim/kernel.ts";
import { assert, ModelAssertionError } from "../sim/assert.ts";
import { checkDeterminism, type DeterminismReport } from "../sim/determinism.ts";
import { VERSION } from "../version.ts";
import { SnapshotRecorder } from "./snapshot.ts";
import type { World } from "../sim/world.ts";

export interface RunOptions {
  /** Overrides the scenario's seed. */
  seed?: number | string;
  /** Ends the run at this virtual time (before settling, when earlier than `duration`). */
  untilUs?: Micros;
  /** Consumers of the trace's JSON lines (a file, memory, the determinism check). */
  sinks?: readonly TraceSink[];
  /** Compute the running trace hash (default true; an untraced run without it skips tracing entirely). */
  hash?: boolean;
  /** JMX `metrics` events every this many ms of virtual time when the run writes trace lines (default 1000; 0 = off). */
  metricsIntervalMs?: number;
  /** Records a `snapshot` trace event every this many virtual ms (0 or absent: none). */
  snapshotIntervalMs?: number;
  /** Run the online and history checkers (default true; false for benchmarks of the model alone). */
  checkers?: boolean;
  /**
   * Called between kernel slices every `progressEveryUs` of virtual time with the virtual time reached (the
   * CLI's hook for progress lines and memory samples; the model stays clock-free). It cannot change the run:
   * the kernel is only paused and resumed at those times. Returning false stops the run there (verdict
   * `stopped`), e.g. at a wall-time bound.
   */
  onProgress?: (simulatedUs: Micros) => boolean | void;
  /** Virtual time between two `onProgress` calls (default one simulated second). */
  progressEveryUs?: Micros;
  /**
   * Asked every `guardEveryEvents` events (and at every progress call) whether the run must end now, e.g. at the
   * CLI's wall-time or memory bound; a non-null answer ends the run with that verdict and partial statistics. It
   * cannot change the run otherwise: the kernel is only paused and resumed.
   */
  guard?: (simulatedUs: Micros) => { reason: "wall-limit" | "memory-limit"; detail: string } | null;
  /** Events between two guard calls (default 200,000). */
  guardEveryEvents?: number;
}

export type { Violation } from "../check/violation.ts";

export interface RunResult {
  scenario: string;
  seed: number | string;
  verdict: VerdictReason;
  /** The model error's message, for a `model-error` verdict. */
  error?: string;
  /** Why the run ended early, for `stalled`, `wall-limit`, `memory-limit` and `stopped` verdicts. */
  detail?: string;
  violations: Violation[];
  expectationMet: boolean;
  /** Why the expectation was not met, one line each. */
  expectationProblems: string[];
  stats: {
    events: number;
    simulatedMs: number;
    faults: number;
    messages: { sent: number; delivered: number; dropped: number };
    traceEvents: number;
    traceHash: string;
    /** Records a consumer group processed more than once (at-least-once, not a violation); only in runs with a group. */
    duplicateDeliveries?: number;
  };
  hosts: { name: string; state: string; incarnation: number }[];
}

export function runScenario(scenario: Scenario, options: RunOptions = {}): RunResult {
  const seed = options.seed ?? scenario.seed;
  let built: BuiltWorld;
  try {
    built = buildWorld(scenario, seed);
  } catch (error) {
    // A value the loader accepted must never escape as an exception: the run ends with a model-error verdict.
    return unbuiltResult(scenario.name, seed, error);
  }
  const { world, network } = built;
  const trace = world.trace;
  for (const sink of options.sinks ?? []) trace.addSink(sink);
  if (options.hash ?? true) trace.enableHash();
  trace.writeHeader({
    format: TRACE_FORMAT,
    formatVersion: TRACE_FORMAT_VERSION,
    kafkasim: VERSION,
    scenario: scenario.name,
    seed,
    nodes: built.nodes,
    description: scenario.description ?? "",
  });

  const injector = new FaultInjector({ world, network, disks: built.disks, groups: built.groups, special: built.special, admin: built.admin });
  const violations: Violation[] = [];
  const checkers = (options.checkers ?? true) ? new OnlineCheckers(built, violations) : null;
  const eventCounts = countExpectedEvents(scenario, trace);
  let sampler: MetricsSampler | null = null;
  let verdict: Verdict;
  try {
    checkers?.start();
    injector.schedule(scenario.faults);
    if (scenario.nemesis !== undefined) new NemesisRunner(scenario, { world, injector, special: built.special }).start();
    for (const host of world.hosts) host.start();
    // Metrics only where trace lines are written: the explore fast path (no sinks, no hash) never samples.
    const metricsIntervalMs = options.metricsIntervalMs ?? 1000;
    sampler = (options.sinks ?? []).length > 0 || (options.hash ?? true)
      ? metricsIntervalMs > 0 ? new MetricsSampler(world, Math.round(metricsIntervalMs * 1000), scenario.cluster.version as KafkaVersion) : null
      : null;
    sampler?.resume();
    if ((options.snapshotIntervalMs ?? 0) > 0 && trace.on) new SnapshotRecorder(built, Math.round(options.snapshotIntervalMs! * 1000)).start();
    verdict = runPhases(scenario, world, injector, sampler, options);
  } catch (error) {
    verdict = { reason: "model-error", events: 0, now: world.now, error: asError(error) };
  }
  // Reaching the planned end is the normal outcome of a scenario run.
  const finished = verdict.reason === "time-limit" || verdict.reason === "quiescent";

  try {
    checkers?.finish();
  } catch (error) {
    if (verdict.error === undefined) verdict = { reason: "model-error", events: verdict.events, now: world.now, error: asError(error) };
  }
  const problems = judge(scenario, violations, eventCounts);
  if (!finished) problems.unshift(runProblem(verdict));

  const result: RunResult = {
    scenario: scenario.name,
    seed,
    verdict: verdict.reason,
    violations,
    expectationMet: problems.length === 0,
    expectationProblems: problems,
    stats: {
      events: world.kernel.dispatched - (sampler?.samples ?? 0),
      simulatedMs: world.now / 1000,
      faults: injector.fired,
      messages: { ...network.stats },
      traceEvents: trace.count,
      traceHash: trace.hash(),
    },
    hosts: world.hosts.map((host) => ({ name: host.name, state: host.state, incarnation: host.incarnation })),
  };
  const duplicateDeliveries = checkers?.duplicateDeliveries ?? null;
  if (duplicateDeliveries !== null) result.stats.duplicateDeliveries = duplicateDeliveries;
  if (verdict.error !== undefined) result.error = verdict.error.stack ?? verdict.error.message;
  if (verdict.detail !== undefined) result.detail = verdict.detail;
  return result;
}

/** `duration`, then the settle phase (every fault healed, every node restarted), within the event budget. */
function runPhases(scenario: Scenario, world: World, injector: FaultInjector, sampler: MetricsSampler | null, options: RunOptions): Verdict {
  const runPhase = phaseRunner(world, sampler, options, scenario.limits.maxEventsPerInstant);
  const duration = parseDuration(scenario.duration)!;
  const settle = parseDuration(scenario.settle)!;
  const end = Math.min(options.untilUs ?? Infinity, duration + settle);
  let eventsLeft = scenario.limits.maxEvents;
  let verdict = runPhase(Math.min(end, duration), eventsLeft);
  eventsLeft -= verdict.events;
  if ((verdict.reason === "time-limit" || verdict.reason === "quiescent") && end > duration) {
    injector.settle();
    sampler?.resume();
    verdict = runPhase(end, eventsLeft);
  }
  return verdict;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** The result of a run that never got going: its world could not be built, or its worker died. */
export function unbuiltResult(scenario: string, seed: number | string, error: unknown, problem?: string): RunResult {
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return {
    scenario,
    seed,
    verdict: "model-error",
    error: text,
    violations: [],
    expectationMet: false,
    expectationProblems: [problem ?? describeModelError(asError(error))],
    stats: { events: 0, simulatedMs: 0, faults: 0, messages: { sent: 0, delivered: 0, dropped: 0 }, traceEvents: 0, traceHash: "" },
    hosts: [],
  };
}

/**
 * Runs the kernel up to a time with an event budget. The metrics sampler's events do not count against the
 * model's budget: a run hitting the limit runs on for as many events as the sampler took, so the model gets
 * exactly maxEvents with or without metrics. With a progress hook the kernel runs in slices ending at each
 * progress time (also with a guard, so it is asked at least every progress interval), and with a guard in
 * slices of at most `guardEveryEvents` events; events at a slice's end time still run
 * in that slice, and an event-limit pause resumes where it stopped, so the order of events, and the trace, is the
 * same as in one run. The hook returning false, or the guard answering, stops the run.
 */
function phaseRunner(world: World, sampler: MetricsSampler | null, options: RunOptions, maxEventsPerInstant: number): (untilUs: Micros, maxEvents: number) => Verdict {
  const { onProgress, guard } = options;
  const progressEveryUs = options.progressEveryUs ?? 1_000_000;
  const guardEveryEvents = guard === undefined ? Infinity : (options.guardEveryEvents ?? 200_000);
  assert(progressEveryUs > 0, "progressEveryUs must be positive");
  assert(guardEveryEvents > 0, "guardEveryEvents must be positive");
  let nextProgressUs = progressEveryUs;
  return (untilUs, maxEvents) => {
    let modelEvents = 0;
    for (;;) {
      const sliceUs = onProgress === undefined && guard === undefined ? untilUs : Math.min(untilUs, nextProgressUs);
      const sliceEvents = Math.min(maxEvents - modelEvents, guardEveryEvents);
      const before = sampler?.samples ?? 0;
      const verdict = world.kernel.run({ untilUs: sliceUs, maxEvents: sliceEvents, maxEventsPerInstant });
      modelEvents += verdict.events - ((sampler?.samples ?? 0) - before);
      const sliceDone = verdict.reason === "time-limit" || verdict.reason === "quiescent";
      if (verdict.reason === "event-limit" || sliceDone) {
        const stop = guard?.(world.now) ?? null;
        if (stop !== null) return { reason: stop.reason, events: modelEvents, now: world.now, detail: stop.detail };
      }
      if (sliceDone && sliceUs === nextProgressUs) {
        nextProgressUs += progressEveryUs;
        if (onProgress?.(world.now) === false) return { reason: "stopped", events: modelEvents, now: world.now, detail: "stopped by the progress hook" };
      }
      if (sliceDone && sliceUs < untilUs) continue;
      if (verdict.reason !== "event-limit" || modelEvents >= maxEvents) return { ...verdict, events: modelEvents };
    }
  };
}

/** A failed model assertion, or another exception thrown by model code (a bug: named by its class). */
function describeModelError(error: Error | undefined): string {
  if (error === undefined) return "the model failed: unknown error";
  if (error instanceof ModelAssertionError) return `the model failed an assertion: ${error.message}`;
  return `the model threw ${error.name}: ${error.message}`;
}

function runProblem(verdict: Verdict): string {
  switch (verdict.reason) {
    case "model-error":
      return describeModelError(verdict.error);
    case "event-limit":
      return "the run hit its event limit (limits.maxEvents) before its end time";
    case "stalled":
      return `the run stalled (limits.maxEventsPerInstant): ${verdict.detail ?? ""}`;
    case "wall-limit":
    case "memory-limit":
      return `the run was stopped at its ${verdict.reason === "wall-limit" ? "wall-time" : "memory"} bound: ${verdict.detail ?? ""}`;
    default:
      return `the run ended early (${verdict.reason}${verdict.detail !== undefined ? `: ${verdict.detail}` : ""})`;
  }
}

/**
 * Compares the run with `expect`: expected violations must appear, others must be allowed, and each expected
 * event count (`eventCounts`, parallel to expect.events) must lie within its bounds.
 */
export function judge(scenario: Scenario, violations: readonly Violation[], eventCounts: readonly number[] = []): string[] {
  const expected = scenario.expect?.violations ?? [];
  const allowed = new Set([...expected, ...(scenario.expect?.allow ?? [])]);
  const found = new Set(violations.map((v) => v.name));
  const problems: string[] = [];
  for (const name of expected) if (!found.has(name)) problems.push(`expected violation ${name} did not appear`);
  for (const name of found) if (!allowed.has(name)) problems.push(`unexpected violation ${name}`);
  (scenario.expect?.events ?? []).forEach((event, i) => {
    const count = eventCounts[i] ?? 0;
    const min = event.min ?? (event.max === undefined ? 1 : 0);
    const what = `"${event.kind}" event${event.where === undefined ? "" : ` with ${JSON.stringify(event.where)}`}`;
    if (count < min) problems.push(`expected at least ${min} ${what}, found ${count}`);
    if (event.max !== undefined && count > event.max) problems.push(`expected at most ${event.max} ${what}, found ${count}`);
  });
  return problems;
}

/** Counts, per expect.events entry, the trace events that match it (an observer of only those kinds). */
function countExpectedEvents(scenario: Scenario, trace: Trace): number[] {
  const expected = scenario.expect?.events ?? [];
  const counts = expected.map(() => 0);
  if (expected.length === 0) return counts;
  trace.observe(
    (event) => {
      const fields = event as unknown as Record<string, unknown>;
      expected.forEach((e, i) => {
        if (e.kind !== event.kind) return;
        if (e.where !== undefined && Object.entries(e.where).some(([key, value]) => fields[key] !== value)) return;
        counts[i]++;
      });
    },
    expected.map((e) => e.kind),
  );
  return counts;
}

/** Runs the scenario twice (thrice on a mismatch) and compares the traces line by line. */
export function checkScenarioDeterminism(scenario: Scenario, options: RunOptions = {}): DeterminismReport {
  return checkDeterminism((sink) => {
    runScenario(scenario, { ...options, sinks: [sink], hash: false });
  });
}
