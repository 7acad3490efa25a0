/**
 * `kafkasim explore merge FILES…`: reads the `explore --json` reports of the shards of one sweep (each from
 * `explore FILE --seeds N --shard K/N --json`), checks that they are one sweep — the same scenario bytes
 * (SHA-256), kafkasim version, first seed, seed count and shard count, every shard K = 1…N exactly once, each
 * holding exactly its seeds — and prints one report, as an unsharded `explore` would: the failing seeds with
 * their replay commands, the totals, and the throughput (defined in docs/sweeps.md). Exit codes as explore's:
 * 0 every seed met the expectation, 1 one did not, 3 one reached no verdict, 2 bad or mismatched input (one
 * line naming the file, its line and the JSON path).
 */

import { EXIT_EXPECTATION_FAILED, EXIT_NO_VERDICT, EXIT_OK, UsageError } from "./errors.ts";
import { parseShard, seedsPerHour, shardSeeds, totalsOf, type ExploreTotals, type SeedOutcome, type Shard } from "./explore.ts";
import { formatSummary } from "./explore-command.ts";
import { readInput } from "./files.ts";

export interface ExploreMergeOptions {
  json?: boolean;
}

/** What a report's totals line must say for a merge; the rest of the totals is recomputed from the seed lines. */
type ReportPlan = Pick<ExploreTotals, "scenario" | "file" | "scenarioSha256" | "kafkasim" | "firstSeed" | "seedsRequested" | "jobs" | "wallMs"> & {
  /** An unsharded report is shard 1/1. */
  shard: Shard;
};

/** One seed's line of a report: its text as printed (re-printed unchanged) and what the totals need of it. */
interface SeedLine {
  text: string;
  outcome: SeedOutcome;
}

export interface ShardReport {
  file: string;
  plan: ReportPlan;
  seeds: SeedLine[];
}

/** Shard reports merged: the seeds in seed order and the totals of the whole sweep. */
export interface MergedReport {
  seeds: SeedLine[];
  totals: ExploreTotals & { shards: MergedShards };
}

export interface MergedShards {
  count: number;
  /** The longest shard's wall time: the sweep's elapsed time had every shard run at once on its own machine. */
  longestWallMs: number;
  /** Seeds over the longest shard's wall time: the sweep's rate had every shard run at once (an upper bound). */
  seedsPerHourAllAtOnce: number;
  reports: { file: string; shard: string; seeds: number; jobs: number; wallMs: number }[];
}

export function exploreMergeCommand(files: readonly string[], options: ExploreMergeOptions): number {
  const merged = mergeShardReports(files.map((file) => parseShardReport(file, readInput(file))));
  const { totals } = merged;
  if (options.json === true) {
    const out = merged.seeds.map((seed) => seed.text);
    out.push(JSON.stringify({ totals }));
    process.stdout.write(out.join("\n") + "\n");
  } else {
    process.stdout.write(formatSummary(totals, merged.seeds.map((seed) => seed.outcome), totals.file).join("\n") + "\n");
  }
  if (totals.modelErrors > 0 || totals.unfinished > 0) return EXIT_NO_VERDICT;
  return totals.expectationMet ? EXIT_OK : EXIT_EXPECTATION_FAILED;
}

/** Reads one `explore --json` report: seed lines, then one totals line, last. Throws a one-line UsageError. */
export function parseShardReport(file: string, text: string): ShardReport {
  const lines = text.split("\n");
  while (lines.length > 0 && lines[lines.length - 1].trim() === "") lines.pop();
  if (lines.length === 0) throw new UsageError(`${file}: empty: expected the output of kafkasim explore --json`);
  const seeds: SeedLine[] = [];
  let plan: ReportPlan | null = null;
  for (let i = 0; i < lines.length; i++) {
    const at = `${file}:${i + 1}`;
    if (plan !== null) throw new UsageError(`${at}: a line after the totals line (the totals come last)`);
    let value: unknown;
    try {
      value = JSON.parse(lines[i]);
    } catch (error) {
      throw new UsageError(`${at}: not JSON (${(error as Error).message})`);
    }
    const object = record(value, "$", at);
    if ("totals" in object) plan = readPlan(record(object.totals, "$.totals", at), at);
    else seeds.push({ text: lines[i], outcome: readSeed(object, at) });
  }
  if (plan === null) throw new UsageError(`${file}: no totals line: not a finished explore --json report (was the shard cut short?)`);
  const report: ShardReport = { file, plan, seeds };
  checkSeeds(report);
  return report;
}

/** Merges the shards of one sweep. Throws a one-line UsageError when they are not exactly that. */
export function mergeShardReports(reports: readonly ShardReport[]): MergedReport {
  const first = reports[0];
  for (const report of reports.slice(1)) {
    const same = (key: keyof ReportPlan, value: (plan: ReportPlan) => string | number, why: string, show = (v: string | number) => JSON.stringify(v)) => {
      if (value(report.plan) !== value(first.plan)) {
        throw new UsageError(`${report.file}: $.totals.${key}: ${show(value(report.plan))} differs from ${first.file}'s ${show(value(first.plan))}: ${why}`);
      }
    };
    same("scenarioSha256", (plan) => plan.scenarioSha256, "shards of different scenario files (or versions of one) do not merge");
    same("kafkasim", (plan) => plan.kafkasim, "shards run by different kafkasim versions do not merge");
    same("scenario", (plan) => plan.scenario, "shards of different scenarios do not merge");
    same("firstSeed", (plan) => plan.firstSeed, "shards of one sweep share --first-seed");
    same("seedsRequested", (plan) => plan.seedsRequested, "shards of one sweep share --seeds");
    same("shard", (plan) => plan.shard.count, "shards of one sweep share N in --shard K/N", (count) => `N = ${count}`);
  }

  const count = first.plan.shard.count;
  const byIndex = new Map<number, ShardReport>();
  for (const report of reports) {
    const earlier = byIndex.get(report.plan.shard.index);
    if (earlier !== undefined) throw new UsageError(`shard ${shardName(report.plan.shard)} given twice: ${earlier.file} and ${report.file}`);
    byIndex.set(report.plan.shard.index, report);
  }
  const missing: string[] = [];
  for (let index = 1; index <= count; index++) if (!byIndex.has(index)) missing.push(`${index}/${count}`);
  if (missing.length > 0) {
    const given = [...byIndex.keys()].sort((a, b) => a - b).map((index) => `${index}/${count}`);
    throw new UsageError(`missing shard${missing.length === 1 ? "" : "s"} ${missing.join(", ")} of ${count} (given: ${given.join(", ")}): a merge needs every shard of the sweep`);
  }

  const shards = [...byIndex.values()].sort((a, b) => a.plan.shard.index - b.plan.shard.index);
  // Seed values are firstSeed + i with i ascending, so the unsharded order is ascending seed order.
  const seeds = shards.flatMap((report) => report.seeds).sort((a, b) => a.outcome.seed - b.outcome.seed);
  const wallMs = shards.reduce((sum, report) => sum + report.plan.wallMs, 0);
  const longestWallMs = shards.reduce((longest, report) => Math.max(longest, report.plan.wallMs), 0);
  const totals = totalsOf(
    seeds.map((seed) => seed.outcome),
    {
      scenario: first.plan.scenario,
      file: first.plan.file,
      scenarioSha256: first.plan.scenarioSha256,
      kafkasim: first.plan.kafkasim,
      firstSeed: first.plan.firstSeed,
      seedsRequested: first.plan.seedsRequested,
      shard: null,
      jobs: shards.reduce((sum, report) => sum + report.plan.jobs, 0),
      // The machine time the sweep took: its seeds/hour is then per machine (shard) hour.
      wallMs,
    },
  );
  return {
    seeds,
    totals: {
      ...totals,
      shards: {
        count,
        longestWallMs,
        seedsPerHourAllAtOnce: seedsPerHour(seeds.length, longestWallMs),
        reports: shards.map((report) => ({ file: report.file, shard: shardName(report.plan.shard), seeds: report.seeds.length, jobs: report.plan.jobs, wallMs: report.plan.wallMs })),
      },
    },
  };
}

function shardName(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/** A report holds exactly its shard's seeds, in order: a report cut or edited by hand does not merge. */
function checkSeeds(report: ShardReport): void {
  const { plan, file } = report;
  const expected = shardSeeds(plan.firstSeed, plan.seedsRequested, plan.shard);
  const which = `shard ${shardName(plan.shard)} of ${plan.seedsRequested} seeds from ${plan.firstSeed}`;
  for (let i = 0; i < Math.max(expected.length, report.seeds.length); i++) {
    const found = report.seeds[i]?.outcome.seed;
    if (found === expected[i]) continue;
    if (found === undefined) throw new UsageError(`${file}: seed ${expected[i]} missing: ${which} has ${expected.length} seeds, the file ${report.seeds.length}`);
    const where = `${file}:${i + 1}: $.seed`;
    if (expected[i] === undefined) throw new UsageError(`${where}: ${found} is not in ${which} (it has ${expected.length} seeds)`);
    throw new UsageError(`${where}: ${found} where ${which} has seed ${expected[i]}`);
  }
}

function readPlan(totals: Record<string, unknown>, at: string): ReportPlan {
  const path = (key: string) => `$.totals.${key}`;
  const sha = string(totals.scenarioSha256, path("scenarioSha256"), at);
  if (!/^[0-9a-f]{64}$/.test(sha)) throw new UsageError(`${at}: ${path("scenarioSha256")}: expected 64 hex digits, found ${JSON.stringify(sha)}`);
  const shardText = totals.shard === null ? null : string(totals.shard, path("shard"), at);
  let shard: Shard = { index: 1, count: 1 };
  if (shardText !== null) {
    try {
      shard = parseShard(shardText);
    } catch {
      throw new UsageError(`${at}: ${path("shard")}: expected null or "K/N" with 1 <= K <= N, found ${JSON.stringify(shardText)}`);
    }
  }
  return {
    scenario: string(totals.scenario, path("scenario"), at),
    file: string(totals.file, path("file"), at),
    scenarioSha256: sha,
    kafkasim: string(totals.kafkasim, path("kafkasim"), at),
    firstSeed: integer(totals.firstSeed, path("firstSeed"), at, Number.MIN_SAFE_INTEGER),
    seedsRequested: integer(totals.seedsRequested, path("seedsRequested"), at, 1),
    shard,
    jobs: integer(totals.jobs, path("jobs"), at, 1),
    wallMs: number(totals.wallMs, path("wallMs"), at),
  };
}

/** The fields of a seed's line (run --json's shape) that the totals and the summary read. */
function readSeed(line: Record<string, unknown>, at: string): SeedOutcome {
  const seed = integer(line.seed, "$.seed", at, Number.MIN_SAFE_INTEGER);
  string(line.scenario, "$.scenario", at);
  string(line.verdict, "$.verdict", at);
  if (typeof line.expectationMet !== "boolean") throw new UsageError(`${at}: $.expectationMet: expected true or false, found ${describe(line.expectationMet)}`);
  array(line.violations, "$.violations", at).forEach((violation, i) => string(record(violation, `$.violations[${i}]`, at).name, `$.violations[${i}].name`, at));
  array(line.expectationProblems, "$.expectationProblems", at).forEach((problem, i) => string(problem, `$.expectationProblems[${i}]`, at));
  number(record(line.stats, "$.stats", at).wallMs, "$.stats.wallMs", at);
  // Checked above: the fields the totals and the summary read have run --json's types.
  return { seed, result: line as unknown as SeedOutcome["result"] };
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function record(value: unknown, path: string, at: string): Record<string, unknown> {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new UsageError(`${at}: ${path}: expected an object, found ${describe(value)}`);
}

function array(value: unknown, path: string, at: string): unknown[] {
  if (Array.isArray(value)) return value;
  throw new UsageError(`${at}: ${path}: expected an array, found ${describe(value)}`);
}

function string(value: unknown, path: string, at: string): string {
  if (typeof value === "string") return value;
  throw new UsageError(`${at}: ${path}: expected a string, found ${describe(value)}`);
}

function number(value: unknown, path: string, at: string): number {
  if (typeof value === "number" && Number.isFinite(value) && value >= 0) return value;
  throw new UsageError(`${at}: ${path}: expected a number >= 0, found ${describe(value)}`);
}

function integer(value: unknown, path: string, at: string, minimum: number): number {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= minimum) return value;
  const bound = minimum === Number.MIN_SAFE_INTEGER ? "an integer" : `an integer >= ${minimum}`;
  throw new UsageError(`${at}: ${path}: expected ${bound}, found ${describe(value)}`);
}
