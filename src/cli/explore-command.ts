/**
 * `kafkasim explore FILE --seeds N [--jobs N] [--shard K/N] [--first-seed S] [--json]`: runs the scenario
 * over many seeds on worker threads (one independent, untraced run per seed), shows a progress bar on a
 * terminal, and summarises: failing seeds with their violations and the commands that replay and shrink
 * each, violation counts, model errors apart, wall time and seeds per hour. Exits 0 when every seed met the
 * expectation, 1 when one did not, 2 on bad input, 3 when a seed ended in a model error or at a bound.
 */

import cliProgress from "cli-progress";
import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import { loadScenario } from "../scenario/load.ts";
import { VERSION } from "../version.ts";
import { EXIT_EXPECTATION_FAILED, EXIT_NO_VERDICT, EXIT_OK, UsageError } from "./errors.ts";
import { parseMaxMemory, parseMaxWall } from "./run-guards.ts";
import {
  defaultFirstSeed,
  parseCount,
  parseFirstSeed,
  parseShard,
  replayCommand,
  shardSeeds,
  outcomeKind,
  shrinkCommand,
  totalsOf,
  type OutcomeKind,
  type ExploreTotals,
  type SeedOutcome,
} from "./explore.ts";
import type { MergedShards } from "./explore-merge.ts";
import { runSeeds } from "./explore-pool.ts";
import { readInput } from "./files.ts";
import { chalk } from "./style.ts";

export interface ExploreCommandOptions {
  /** Required; checked here rather than by commander, which would require it of `explore merge` too. */
  seeds?: string;
  jobs?: string;
  shard?: string;
  firstSeed?: string;
  json?: boolean;
  maxWall?: string;
  maxMemory?: string;
}

/** Default wall-time bound of one seed in explore. */
const DEFAULT_SEED_MAX_WALL_MS = 10 * 60 * 1000;

/** Failing seeds listed one by one in the text summary (all of them are in --json). */
const FAILURES_SHOWN = 20;

/**
 * Validates everything synchronously (bad input throws a UsageError or ScenarioError: one line, exit 2),
 * then resolves with the exit code once every seed has run.
 */
export function exploreCommand(file: string, options: ExploreCommandOptions, wallClock: () => number): Promise<number> {
  if (options.seeds === undefined) throw new UsageError("required option '--seeds <n>' not specified");
  const text = readInput(file);
  const scenario = loadScenario(text, file);
  const seedsRequested = parseCount("--seeds", options.seeds, 1);
  const jobs = options.jobs !== undefined ? parseCount("--jobs", options.jobs, 1) : availableParallelism();
  const shard = options.shard !== undefined ? parseShard(options.shard) : null;
  const firstSeed = options.firstSeed !== undefined ? parseFirstSeed(options.firstSeed) : defaultFirstSeed(scenario.seed);
  const seeds = shardSeeds(firstSeed, seedsRequested, shard);
  const json = options.json === true;
  const bounds = { maxWallMs: parseMaxWall(options.maxWall, DEFAULT_SEED_MAX_WALL_MS), maxHeapBytes: parseMaxMemory(options.maxMemory) };

  const bar = process.stderr.isTTY && seeds.length > 0 ? progressBar(scenario.name, seeds.length) : null;
  const counts: Record<OutcomeKind, number> = { met: 0, failed: 0, "model-error": 0, unfinished: 0 };
  // --json lines come out in seed order whatever order the workers finish in.
  const pending = new Map<number, SeedOutcome>();
  let printed = 0;
  const started = wallClock();
  return runSeeds(seeds, jobs, { text, file, bounds }, scenario.name, (outcome, done) => {
    counts[outcomeKind(outcome.result)]++;
    bar?.update(done, { failing: counts.failed, modelErrors: counts["model-error"], unfinished: counts.unfinished });
    if (!json) return;
    pending.set(outcome.seed, outcome);
    while (printed < seeds.length && pending.has(seeds[printed])) {
      const next = pending.get(seeds[printed])!;
      pending.delete(seeds[printed++]);
      process.stdout.write(JSON.stringify(next.result) + "\n");
    }
  }).then((outcomes) => {
    bar?.stop();
    const wallMs = Math.round(wallClock() - started);
    const totals = totalsOf(outcomes, {
      scenario: scenario.name,
      file,
      scenarioSha256: scenarioSha256(text),
      kafkasim: VERSION,
      firstSeed,
      seedsRequested,
      shard,
      jobs: Math.min(jobs, Math.max(seeds.length, 1)),
      wallMs,
    });
    if (json) process.stdout.write(JSON.stringify({ totals }) + "\n");
    else process.stdout.write(formatSummary(totals, outcomes, file).join("\n") + "\n");
    if (totals.modelErrors > 0 || totals.unfinished > 0) return EXIT_NO_VERDICT;
    return totals.expectationMet ? EXIT_OK : EXIT_EXPECTATION_FAILED;
  });
}

/** The scenario's identity in a report: SHA-256 of its bytes as read (UTF-8). */
export function scenarioSha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

function progressBar(name: string, total: number): cliProgress.SingleBar {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `explore ${name} |{bar}| {value}/{total} seeds | {failing} failing | {modelErrors} model errors | {unfinished} unfinished | {duration_formatted} elapsed, ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { failing: 0, modelErrors: 0, unfinished: 0 });
  return bar;
}

/**
 * The text summary of explore, and of explore merge (whose totals carry `shards`: then the wall time is the
 * sum of the shards' and the rate is per shard-hour, see docs/sweeps.md).
 */
export function formatSummary(totals: ExploreTotals & { shards?: MergedShards }, outcomes: readonly SeedOutcome[], file: string): string[] {
  const out: string[] = [];
  const seedRange = outcomes.length === 0 ? "no seeds" : `seeds ${outcomes[0].seed}…${outcomes[outcomes.length - 1].seed}`;
  const shard = totals.shard === null ? "" : `, shard ${totals.shard} of ${totals.seedsRequested} seeds`;
  const workers = `${totals.jobs} worker${totals.jobs === 1 ? "" : "s"}`;
  const merged = totals.shards;
  if (merged === undefined) {
    out.push(`${chalk.bold(totals.scenario)}  ${totals.seeds} seeds run (${seedRange}${shard}) on ${workers}`);
    out.push(chalk.dim(`  ${(totals.wallMs / 1000).toFixed(1)} s wall · ${totals.seedsPerHour.toLocaleString("en-US")} seeds/hour`));
  } else {
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    out.push(`${chalk.bold(totals.scenario)}  ${totals.seeds} seeds run (${seedRange}) in ${merged.count} shard${merged.count === 1 ? "" : "s"} on ${workers} in all`);
    out.push(chalk.dim(`  ${seconds(totals.wallMs)} wall summed over the shards · ${totals.seedsPerHour.toLocaleString("en-US")} seeds per shard-hour`));
    out.push(chalk.dim(`  longest shard ${seconds(merged.longestWallMs)} · ${merged.seedsPerHourAllAtOnce.toLocaleString("en-US")} seeds/hour had every shard run at once`));
  }

  const names = Object.entries(totals.violations);
  if (names.length === 0) {
    out.push(`${chalk.bold("violations")}  none`);
  } else {
    out.push(chalk.bold("violations"));
    for (const [name, count] of names) out.push(`  ${chalk.red(name)}  ${count} in ${totals.seedsWithViolation[name]} of ${totals.seeds} seeds`);
  }

  if (totals.modelErrors > 0) {
    out.push(chalk.red(`${chalk.bold("model errors")}  ${totals.modelErrors} of ${totals.seeds} seeds (simulator bugs, not Kafka behaviour): seeds ${totals.modelErrorSeeds.slice(0, FAILURES_SHOWN).join(", ")}${totals.modelErrors > FAILURES_SHOWN ? ", …" : ""}`));
  }
  if (totals.unfinished > 0) {
    out.push(chalk.yellow(`${chalk.bold("unfinished")}  ${totals.unfinished} of ${totals.seeds} seeds stopped at a bound (stall, event, wall or memory limit): seeds ${totals.unfinishedSeeds.slice(0, FAILURES_SHOWN).join(", ")}${totals.unfinished > FAILURES_SHOWN ? ", …" : ""}`));
  }
  if (totals.expectationMet) {
    out.push(chalk.green(`✓ every seed met the expectation`));
    return out;
  }
  if (totals.failed > 0) out.push(chalk.red(`✗ ${totals.failed} of ${totals.seeds} seeds did not meet the expectation`));
  // Model errors first (simulator bugs), then runs cut short, then the seeds that did not meet the expectation.
  const order: OutcomeKind[] = ["model-error", "unfinished", "failed"];
  const failures = order.flatMap((kind) => outcomes.filter((outcome) => outcomeKind(outcome.result) === kind));
  for (const { seed, result } of failures.slice(0, FAILURES_SHOWN)) {
    const counts = new Map<string, number>();
    for (const violation of result.violations) counts.set(violation.name, (counts.get(violation.name) ?? 0) + 1);
    const found = [...counts].map(([name, count]) => (count > 1 ? `${name} ×${count}` : name)).join(", ");
    out.push(`  ${chalk.bold(`seed ${seed}`)}  ${found === "" ? chalk.dim("no violation") : chalk.red(found)}`);
    // "unexpected violation X" repeats the names above; missing violations and run errors are news.
    for (const problem of result.expectationProblems) if (!problem.startsWith("unexpected violation ")) out.push(chalk.dim(`    - ${problem}`));
    out.push(`    replay: ${chalk.cyan(replayCommand(file, seed))}`);
    out.push(`    shrink: ${chalk.cyan(shrinkCommand(file, seed))}`);
  }
  if (failures.length > FAILURES_SHOWN) out.push(chalk.dim(`  … ${failures.length - FAILURES_SHOWN} more failing seeds (all of them with --json)`));
  return out;
}
