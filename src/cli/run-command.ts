/** `kafkasim run FILE`: runs one scenario, prints a coloured summary (or --json), exits 0/1/2. */

import { KAFKA_VERSIONS } from "../broker/config.ts";
import { parseScenarioText, validateScenario } from "../scenario/load.ts";
import { checkScenarioDeterminism, runScenario, type RunResult } from "../scenario/run.ts";
import type { Scenario } from "../scenario/spec.ts";
import { formatTime, parseDuration } from "../sim/time.ts";
import type { TraceEvent, TraceSink } from "../sim/trace.ts";
import type { Violation } from "../check/violation.ts";
import { EXIT_EXPECTATION_FAILED, EXIT_OK, UsageError, exitCodeOf, parseSeed } from "./errors.ts";
import { parseMaxMemory, parseMaxWall, progressReporter, runGuard } from "./run-guards.ts";
import { AtomicLineFile, readInput } from "./files.ts";
import { chalk } from "./style.ts";
import { describeGroupEvent, GROUP_KEY_KINDS } from "./timeline-groups.ts";
import { describeTransactionEvent, TRANSACTION_KEY_KINDS } from "./timeline-transactions.ts";

export interface RunCommandOptions {
  seed?: string;
  trace?: string;
  history?: string;
  until?: string;
  metricsInterval?: string;
  json?: boolean;
  checkDeterminism?: boolean;
  snapshotInterval?: string;
  maxWall?: string;
  maxMemory?: string;
  /** Runs the scenario under another Kafka era preset than its cluster.version. */
  versionPreset?: string;
}

/**
 * A scenario file, under `versionPreset` when given (cluster.version replaced before validation, so the era's own
 * rules apply: transactions need 0.11+, …). Bad presets and clusters without brokers are usage errors.
 */
export function loadWithPreset(file: string, versionPreset: string | undefined): Scenario {
  const value = parseScenarioText(readInput(file), file);
  if (versionPreset === undefined) return validateScenario(value, file);
  if (!(KAFKA_VERSIONS as readonly string[]).includes(versionPreset)) {
    throw new UsageError(`--version-preset: expected one of ${KAFKA_VERSIONS.map((v) => `"${v}"`).join(", ")}, found "${versionPreset}"`);
  }
  const cluster = typeof value === "object" && value !== null ? (value as { cluster?: unknown }).cluster : undefined;
  if (typeof cluster !== "object" || cluster === null || typeof (cluster as { brokers?: unknown }).brokers !== "number") {
    throw new UsageError(`--version-preset: ${file} has no Kafka brokers (cluster.brokers) to run under a Kafka version`);
  }
  return validateScenario({ ...(value as object), cluster: { ...cluster, version: versionPreset } }, file);
}

const KEY_KINDS = new Set([
  "fault",
  "fault-end",
  "fault-skipped",
  "settle",
  "host-crash",
  "host-power-loss",
  "host-machine-crash",
  "host-pause",
  "host-resume",
  "host-shutdown",
  "host-start",
  "disk-power-loss",
  "log-recovered",
  "zk-serving",
  "zk-leader-abandon",
  "zk-session-expiring",
  "zk-session-lost",
  "zk-registered",
  "zk-fatal",
  "broker-registered",
  "controller-elected",
  "controller-resigned",
  "leader-elected",
  "isr-shrink",
  "isr-expand",
  "replica-truncate",
  "zk-session-expired",
  "broker-halted",
  "controlled-shutdown-complete",
  "controlled-shutdown-failed",
  "admin-op",
  "reassignment-completed",
  "topic-deleted",
  "violation",
  // Consumer groups (timeline-groups.ts): state transitions, removals, assignments, coordinator moves.
  ...GROUP_KEY_KINDS,
  // Transactions (timeline-transactions.ts): ending transitions, timeouts, coordinator moves, fatal producers.
  ...TRANSACTION_KEY_KINDS,
]);
const KEY_EVENTS_SHOWN = 60;
/** Group and transaction key events are counted apart, so a cluster's start-up does not crowd their stories out. */
const GROUP_EVENTS_SHOWN = 60;
const TRANSACTION_EVENTS_SHOWN = 60;

export function runCommand(file: string, options: RunCommandOptions, wallClock: () => number): number {
  const scenario = loadWithPreset(file, options.versionPreset);
  const seed = options.seed !== undefined ? parseSeed(options.seed) : scenario.seed;
  let untilUs: number | undefined;
  if (options.until !== undefined) {
    const parsed = parseDuration(/^\d+(\.\d+)?$/.test(options.until) ? Number(options.until) : options.until);
    if (parsed === null) throw new UsageError(`--until: expected a duration like "10s", found "${options.until}"`);
    untilUs = parsed;
  }

  let metricsIntervalMs: number | undefined;
  if (options.metricsInterval !== undefined) {
    metricsIntervalMs = Number(options.metricsInterval);
    if (!/^\d+(\.\d+)?$/.test(options.metricsInterval) || !Number.isFinite(metricsIntervalMs) || (metricsIntervalMs > 0 && metricsIntervalMs < 0.001)) {
      throw new UsageError(`--metrics-interval: expected milliseconds (a number ≥ 0; 0 turns metrics off), found "${options.metricsInterval}"`);
    }
  }
  const snapshotIntervalMs = parseSnapshotInterval(options.snapshotInterval);
  const bounds = { maxWallMs: parseMaxWall(options.maxWall), maxHeapBytes: parseMaxMemory(options.maxMemory) };

  if (options.checkDeterminism) return determinismCommand(scenario, seed, untilUs, options.json === true, metricsIntervalMs);

  const sinks: TraceSink[] = [];
  const traceFile = options.trace !== undefined ? new AtomicLineFile(options.trace) : null;
  if (traceFile !== null) sinks.push(traceFile);
  const historyFile = options.history !== undefined ? new AtomicLineFile(options.history) : null;
  if (historyFile !== null) sinks.push(historySink(historyFile));
  const keyEvents = new KeyEventSink();
  if (!options.json) sinks.push(keyEvents);

  const started = wallClock();
  const endUs = Math.min(untilUs ?? Infinity, parseDuration(scenario.duration)! + parseDuration(scenario.settle)!);
  const progress = progressReporter(scenario.name, endUs, process.stderr.isTTY === true);
  let result: RunResult;
  try {
    const guard = runGuard(bounds, wallClock, started, progress.check);
    result = runScenario(scenario, { seed, untilUs, sinks, metricsIntervalMs, snapshotIntervalMs, guard });
  } catch (error) {
    traceFile?.abort();
    historyFile?.abort();
    throw error;
  } finally {
    progress.stop();
  }
  traceFile?.commit();
  historyFile?.commit();
  const wallMs = Math.round(wallClock() - started);

  if (options.json) {
    process.stdout.write(JSON.stringify({ ...result, stats: { ...result.stats, wallMs } }) + "\n");
  } else {
    printSummary(result, wallMs, keyEvents.events, keyEvents.seen, scenario.expect, options.trace);
  }
  return exitCodeOf(result);
}

/**
 * The trace sink that keeps the summary's key events: the first KEY_EVENTS_SHOWN of the cluster's and, counted
 * apart, the first GROUP_EVENTS_SHOWN of the consumer groups', in trace order; `seen` counts them all.
 */
export class KeyEventSink implements TraceSink {
  readonly events: TraceEvent[] = [];
  seen = 0;
  private groupEvents = 0;
  private transactionEvents = 0;
  /** Violations appear once per name among the key events (the summary below counts them all). */
  private readonly violationNames = new Set<string>();

  write(line: string): void {
    // Only lines of key kinds are parsed; the rest are skipped by a cheap substring test.
    const match = /"kind":"([^"]+)"/.exec(line);
    if (match === null || !KEY_KINDS.has(match[1])) return;
    const event = JSON.parse(line) as TraceEvent;
    if (event.kind === "host-start" && event.incarnation === 1) return;
    if (event.kind === "log-recovered" && event.truncated === 0) return;
    if (event.kind === "zk-serving" && event.role !== "LEADING") return;
    if (event.kind === "violation") {
      if (this.violationNames.has(String(event.name))) return;
      this.violationNames.add(String(event.name));
    }
    const transaction = TRANSACTION_KEY_KINDS.has(event.kind);
    if (transaction && describeTransactionEvent(event) === null) return;
    this.seen++;
    if (GROUP_KEY_KINDS.has(event.kind)) {
      if (this.groupEvents >= GROUP_EVENTS_SHOWN) return;
      this.groupEvents++;
    } else if (transaction) {
      if (this.transactionEvents >= TRANSACTION_EVENTS_SHOWN) return;
      this.transactionEvents++;
    } else if (this.events.length - this.groupEvents - this.transactionEvents >= KEY_EVENTS_SHOWN) {
      return;
    }
    this.events.push(event);
  }
}

/** --snapshot-interval: a positive number of virtual milliseconds (absent: no snapshots). */
function parseSnapshotInterval(value: string | undefined): number {
  if (value === undefined) return 0;
  const parsed = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!(parsed > 0) || !Number.isInteger(Math.round(parsed * 1000)) || Math.round(parsed * 1000) < 1) {
    throw new UsageError(`--snapshot-interval: expected a positive number of milliseconds, found "${value}"`);
  }
  return parsed;
}

function determinismCommand(scenario: Scenario, seed: number | string, untilUs: number | undefined, json: boolean, metricsIntervalMs?: number): number {
  const report = checkScenarioDeterminism(scenario, { seed, untilUs, metricsIntervalMs });
  if (json) {
    process.stdout.write(JSON.stringify({ scenario: scenario.name, seed, ...report }) + "\n");
  } else if (report.identical) {
    process.stdout.write(`${chalk.green("deterministic")}: two runs of ${scenario.name} (seed ${seed}) gave ${report.lines} identical trace lines\n`);
  } else {
    const divergence = report.firstDivergence!;
    process.stdout.write(
      `${chalk.red("NOT deterministic")}: ${scenario.name} (seed ${seed}) diverges at trace line ${divergence.line}\n` +
        `  first run:  ${divergence.first ?? "(trace ended)"}\n  second run: ${divergence.second ?? "(trace ended)"}\n`,
    );
  }
  return report.identical ? EXIT_OK : EXIT_EXPECTATION_FAILED;
}

/** The history file: the trace's header, then only the client history (`op`) and `client-config` events. */
function historySink(file: AtomicLineFile): TraceSink {
  let header = true;
  return {
    write(line: string) {
      if (header) {
        header = false;
        file.write(line);
        return;
      }
      const match = /^\{"t":\d+,"seq":\d+,"node":"(?:[^"\\]|\\.)*","kind":"(op|client-config)"/.exec(line);
      if (match !== null) file.write(line);
    },
  };
}

/**
 * The violations grouped by name, in order of first appearance: a red line per name with its count, when and where
 * it first appeared, and that first one's evidence on one shortened line (all of them: --json, or the trace).
 */
export function violationLines(violations: readonly Violation[]): string[] {
  if (violations.length === 0) return [`${chalk.bold("violations")}  none`];
  const byName = new Map<string, Violation[]>();
  for (const violation of violations) {
    const list = byName.get(violation.name);
    if (list === undefined) byName.set(violation.name, [violation]);
    else list.push(violation);
  }
  const out = [`${chalk.bold("violations")}  ${violations.length} in all, ${byName.size} ${byName.size === 1 ? "kind" : "kinds"}`];
  for (const [name, list] of byName) {
    const first = list[0];
    const count = list.length === 1 ? "" : ` ×${list.length}`;
    out.push(`  ${chalk.red.bold(`✗ ${name}${count}`)}  ${list.length === 1 ? "at" : "first at"} ${formatTime(first.time)} on ${first.nodes.join(", ")}`);
    out.push(chalk.dim(`      ${evidenceLine(first.evidence)}`));
  }
  if (violations.length > byName.size) out.push(chalk.dim("  (every one, with its full evidence: --json, or the trace's violation events)"));
  return out;
}

const EVIDENCE_MAX = 160;

/** A violation's evidence on one line: its top-level fields as key=value, nested ones shortened, cut at EVIDENCE_MAX. */
export function evidenceLine(evidence: unknown): string {
  if (typeof evidence !== "object" || evidence === null) return String(evidence);
  const parts = Object.entries(evidence as Record<string, unknown>).map(([key, value]) => {
    if (value === null || typeof value !== "object") return `${key}=${String(value)}`;
    const json = JSON.stringify(value);
    return `${key}=${json.length <= 40 ? json : Array.isArray(value) ? `[${value.length} items]` : "{…}"}`;
  });
  const line = parts.join(" ");
  return line.length <= EVIDENCE_MAX ? line : `${line.slice(0, EVIDENCE_MAX - 1)}…`;
}

/**
 * Why "expectation met" after a violation is not a contradiction: the scenario replays a known failure, so the
 * violation is what it expects (its `expect.violations`); a scenario expecting none met it by showing none.
 */
export function expectationNote(expect: Scenario["expect"]): string {
  const expected = expect?.violations ?? [];
  if (expected.length > 0) return `: this scenario replays a known failure and expects ${expected.join(" and ")}`;
  const mustShow = (expect?.events ?? []).filter((event) => (event.min ?? 1) >= 1 && event.max === undefined);
  if (mustShow.length > 0) return `: the events it expects appeared${expect?.allow.length ? `, and only allowed violations (${expect.allow.join(", ")})` : ""}`;
  return expect?.allow.length ? `: no violation beyond those it allows (${expect.allow.join(", ")})` : ": no violation, as expected";
}

function printSummary(result: RunResult, wallMs: number, keyEvents: TraceEvent[], keyEventsSeen: number, expect: Scenario["expect"], traceFile?: string): void {
  const out: string[] = [];
  const { stats } = result;
  out.push(`${chalk.bold(result.scenario)}  seed ${result.seed}  ${chalk.dim(`verdict ${result.verdict}`)}`);
  out.push(
    chalk.dim(
      `  ${formatTime(stats.simulatedMs * 1000)} simulated in ${wallMs} ms wall · ${stats.events} events · ` +
        `${stats.messages.sent} messages (${stats.messages.dropped} dropped) · ${stats.faults} faults · trace ${stats.traceHash}`,
    ),
  );
  if ((stats.duplicateDeliveries ?? 0) > 0) out.push(chalk.dim(`  ${stats.duplicateDeliveries} records processed more than once by a consumer group (at-least-once duplicates)`));
  if (keyEvents.length > 0) {
    out.push(chalk.bold("key events"));
    for (const event of keyEvents) out.push(`  ${chalk.cyan(formatTime(event.t).padStart(10))}  ${describeEvent(event)}`);
    if (keyEventsSeen > keyEvents.length) out.push(chalk.dim(`  … ${keyEventsSeen - keyEvents.length} more in the trace`));
  }
  out.push(...violationLines(result.violations));
  if (result.error !== undefined) out.push(chalk.red(`model error: ${result.error}`));
  if (result.detail !== undefined) out.push(chalk.red(`run ended early (${result.verdict}): ${result.detail}`));
  if (result.expectationMet) {
    out.push(chalk.green(`✓ expectation met${expectationNote(expect)}`));
  } else {
    out.push(chalk.red("✗ expectation not met"));
    for (const problem of result.expectationProblems) out.push(chalk.red(`  - ${problem}`));
  }
  if (traceFile !== undefined) out.push(chalk.dim(`trace written to ${traceFile}`));
  process.stdout.write(out.join("\n") + "\n");
}

function describeEvent(event: TraceEvent): string {
  const group = describeGroupEvent(event);
  if (group !== null) return `${chalk.bold(event.node.padEnd(10))} ${chalk.greenBright(group.label)}`;
  const transaction = describeTransactionEvent(event);
  if (transaction !== null) return `${chalk.bold(event.node.padEnd(10))} ${chalk.blueBright(transaction.label)}`;
  if (event.kind === "violation") return `${chalk.bold(event.node.padEnd(10))} ${chalk.red(`violation ${String(event.name)}`)} ${chalk.dim("(below)")}`;
  const { t: _t, seq: _seq, node, kind, ...fields } = event;
  const label = kind.startsWith("fault") || kind === "settle" ? chalk.yellow(kind) : chalk.magenta(kind);
  const detail = Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" ");
  return `${chalk.bold(node.padEnd(10))} ${label} ${detail}`;
}
