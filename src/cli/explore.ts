/**
 * `kafkasim explore`'s pure parts: option parsing, which seeds a shard runs, and the totals over the
 * per-seed results. No I/O here, so the command's arithmetic is testable without workers.
 */

import type { RunResult } from "../scenario/run.ts";
import { VERSION } from "../version.ts";
import { reachedVerdict, UsageError } from "./errors.ts";

export interface Shard {
  /** 1-based shard number. */
  index: number;
  count: number;
}

/** One seed's outcome as reported by a worker: the run's result, or the error that stopped it. */
export interface SeedOutcome {
  seed: number;
  result: RunResult & { stats: RunResult["stats"] & { wallMs: number } };
}

/** A seed that did not meet the expectation, in the totals: what it showed and the command that replays it. */
export interface ExploreFailure {
  seed: number;
  outcome: Exclude<OutcomeKind, "met">;
  verdict: string;
  /** Violations by name (how many times each). */
  violations: Record<string, number>;
  replay: string;
}

/**
 * The seeds a report covers, an arithmetic progression: first, first + step, … last (null when the shard has no
 * seed, i.e. K > the number of seeds).
 */
export interface SeedRange {
  first: number;
  last: number;
  step: number;
}

export interface ExploreTotals {
  scenario: string;
  file: string;
  /** SHA-256 of the scenario file's bytes: `explore merge` refuses shards of different files or versions of one. */
  scenarioSha256: string;
  /** kafkasim's version that ran the seeds: `explore merge` refuses shards of different versions. */
  kafkasim: string;
  firstSeed: number;
  seedsRequested: number;
  shard: string | null;
  seedRange: SeedRange | null;
  jobs: number;
  seeds: number;
  passed: number;
  /** Seeds whose run reached a verdict about Kafka and did not meet the expectation. */
  failed: number;
  failingSeeds: number[];
  /** Seeds whose run ended in a model error (a simulator bug), counted apart from seeds that found violations. */
  modelErrors: number;
  modelErrorSeeds: number[];
  /** Seeds cut short by a bound (stalled, event-limit, wall-limit, memory-limit): no verdict about Kafka either. */
  unfinished: number;
  unfinishedSeeds: number[];
  /** Violations by name, over every seed. */
  violations: Record<string, number>;
  /** Seeds that showed each violation name. */
  seedsWithViolation: Record<string, number>;
  /** Every seed that did not meet the expectation (failed, model error, unfinished), in seed order. */
  failures: ExploreFailure[];
  wallMs: number;
  seedsPerHour: number;
  expectationMet: boolean;
}

export function parseCount(option: string, text: string, minimum: number): number {
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    if (Number.isSafeInteger(value) && value >= minimum) return value;
  }
  throw new UsageError(`${option}: expected an integer >= ${minimum}, found "${text}"`);
}

export function parseFirstSeed(text: string): number {
  if (/^-?\d+$/.test(text)) {
    const value = Number(text);
    if (Number.isSafeInteger(value)) return value;
  }
  throw new UsageError(`--first-seed: expected an integer, found "${text}"`);
}

/** "K/N" with 1 <= K <= N. */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  if (match !== null) {
    const index = Number(match[1]);
    const count = Number(match[2]);
    if (Number.isSafeInteger(count) && count >= 1 && index >= 1 && index <= count) return { index, count };
  }
  throw new UsageError(`--shard: expected K/N with 1 <= K <= N (e.g. 2/4), found "${text}"`);
}

/**
 * The seed values a shard runs: seed firstSeed + i for every index i in [0, seeds) with i % N == K - 1
 * (round-robin rather than contiguous blocks, so every shard gets early and late seeds alike and the shards
 * of one N differ by at most one seed). The shards of one N are disjoint and together cover every index
 * exactly once.
 */
export function shardSeeds(firstSeed: number, seeds: number, shard: Shard | null): number[] {
  const values: number[] = [];
  const start = shard === null ? 0 : shard.index - 1;
  const step = shard === null ? 1 : shard.count;
  for (let i = start; i < seeds; i += step) values.push(firstSeed + i);
  return values;
}

/** The progression shardSeeds returns, as first, last and step (null when it is empty). */
export function seedRangeOf(firstSeed: number, seeds: number, shard: Shard | null): SeedRange | null {
  const start = shard === null ? 0 : shard.index - 1;
  const step = shard === null ? 1 : shard.count;
  if (start >= seeds) return null;
  return { first: firstSeed + start, last: firstSeed + start + Math.floor((seeds - 1 - start) / step) * step, step };
}

/** The default first seed: the scenario's own seed when it is an integer, else 1. */
export function defaultFirstSeed(scenarioSeed: number | string): number {
  return typeof scenarioSeed === "number" && Number.isSafeInteger(scenarioSeed) ? scenarioSeed : 1;
}

export function seedsPerHour(seeds: number, wallMs: number): number {
  return wallMs <= 0 ? 0 : Math.round((seeds * 3_600_000) / wallMs);
}

/**
 * What one seed's run says: it met the expectation; it reached a verdict about Kafka and did not (`failed`); the
 * model failed (a simulator bug); or a bound cut it short (stall, event, wall or memory limit).
 */
export type OutcomeKind = "met" | "failed" | "model-error" | "unfinished";

export function outcomeKind(result: Pick<RunResult, "verdict" | "expectationMet">): OutcomeKind {
  if (result.verdict === "model-error") return "model-error";
  if (!reachedVerdict(result)) return "unfinished";
  return result.expectationMet ? "met" : "failed";
}

export function totalsOf(
  outcomes: readonly SeedOutcome[],
  context: {
    scenario: string;
    file: string;
    scenarioSha256?: string;
    kafkasim?: string;
    firstSeed: number;
    seedsRequested: number;
    shard: Shard | null;
    jobs: number;
    wallMs: number;
  },
): ExploreTotals {
  const violations = new Map<string, number>();
  const seedsWithViolation = new Map<string, number>();
  const failingSeeds: number[] = [];
  const modelErrorSeeds: number[] = [];
  const unfinishedSeeds: number[] = [];
  const failures: ExploreFailure[] = [];
  for (const { seed, result } of outcomes) {
    const kind = outcomeKind(result);
    if (kind === "model-error") modelErrorSeeds.push(seed);
    else if (kind === "unfinished") unfinishedSeeds.push(seed);
    else if (kind === "failed") failingSeeds.push(seed);
    const names = new Map<string, number>();
    for (const violation of result.violations) {
      violations.set(violation.name, (violations.get(violation.name) ?? 0) + 1);
      names.set(violation.name, (names.get(violation.name) ?? 0) + 1);
    }
    for (const name of names.keys()) seedsWithViolation.set(name, (seedsWithViolation.get(name) ?? 0) + 1);
    if (kind !== "met") failures.push({ seed, outcome: kind, verdict: result.verdict, violations: Object.fromEntries(names), replay: replayCommand(context.file, seed) });
  }
  const byName = (map: Map<string, number>) => Object.fromEntries([...map].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
  return {
    scenario: context.scenario,
    file: context.file,
    scenarioSha256: context.scenarioSha256 ?? "",
    kafkasim: context.kafkasim ?? VERSION,
    firstSeed: context.firstSeed,
    seedsRequested: context.seedsRequested,
    shard: context.shard === null ? null : `${context.shard.index}/${context.shard.count}`,
    seedRange: seedRangeOf(context.firstSeed, context.seedsRequested, context.shard),
    jobs: context.jobs,
    seeds: outcomes.length,
    passed: outcomes.length - failingSeeds.length - modelErrorSeeds.length - unfinishedSeeds.length,
    failed: failingSeeds.length,
    failingSeeds,
    modelErrors: modelErrorSeeds.length,
    modelErrorSeeds,
    unfinished: unfinishedSeeds.length,
    unfinishedSeeds,
    violations: byName(violations),
    seedsWithViolation: byName(seedsWithViolation),
    failures,
    wallMs: context.wallMs,
    seedsPerHour: seedsPerHour(outcomes.length, context.wallMs),
    expectationMet: failingSeeds.length + modelErrorSeeds.length + unfinishedSeeds.length === 0,
  };
}

/** Quotes a path for a POSIX shell when it holds anything but safe characters. */
export function shellQuote(text: string): string {
  return /^[\w./@%+=:,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

export function replayCommand(file: string, seed: number): string {
  return `kafkasim run ${shellQuote(file)} --seed ${seed}`;
}

export function shrinkCommand(file: string, seed: number): string {
  return `kafkasim shrink ${shellQuote(file)} --seed ${seed} -o shrunk.json`;
}
