/**
 * `kafkasim bench [--json]`: measures, one part after another, the bare kernel's no-op event rate (the
 * limit), the standard scenario and the same with a consumer group (simulated s per wall s, model events/s and
 * their ratio to the kernel's, measured in this process), the chaos scenario's seeds per hour on the explore worker pool, and the scale
 * scenario's wall time and peak memory at several partition counts (each in a child process). `--kernel`
 * runs the kernel part alone (its output unchanged); `--soak` runs the memory soak instead. The scenarios
 * are built in code (src/bench/scenarios.ts); nothing here changes what the model does.
 */

import { availableParallelism } from "node:os";
import { runScenario } from "../scenario/run.ts";
import {
  benchScenario,
  CHAOS_SIM_SECONDS,
  chaosSpec,
  SCALE_PARTITIONS,
  SCALE_SIM_SECONDS,
  SOAK_SIM_SECONDS,
  STANDARD_SIM_SECONDS,
  standardSpec,
  GROUP_MEMBERS,
  groupsSpec,
  TXN_PROCESSORS,
  TXN_RECORDS,
  transactionsSpec,
} from "../bench/scenarios.ts";
import { formatKernel, measureKernel, round3, type KernelReport } from "./bench-kernel.ts";
import { runScaleChild, scaleChild, type ScaleReport } from "./bench-scale.ts";
import { formatSoak, runSoak } from "./bench-soak.ts";
import { UsageError } from "./errors.ts";
import { runSeeds } from "./explore-pool.ts";
import { chalk } from "./style.ts";

export interface BenchOptions {
  kernel?: boolean;
  soak?: boolean;
  json?: boolean;
  only?: string;
  simSeconds?: string;
  seeds?: string;
  jobs?: string;
  partitions?: string;
  scaleWallLimit?: string;
  events?: string;
  rounds?: string;
  /** Hidden: this process is a scale child running one size. */
  scaleChild?: string;
}

export const BENCH_PARTS = ["kernel", "standard", "groups", "transactions", "chaos", "scale"] as const;
type Part = (typeof BENCH_PARTS)[number];

/**
 * Chaos seeds by default: about 20 s of wall time on 2 cores with the model as measured in docs/performance.md.
 * Ten seeds per worker, so the figure is mostly warm throughput: a worker's first seeds run at about half speed
 * (JIT warm-up): at 6 seeds a seed cost a third more than at 20 (2,932 against 3,864 seeds/hour in one run; issue 18, round 3).
 */
export const DEFAULT_CHAOS_SEEDS = 20;
export const DEFAULT_SCALE_WALL_LIMIT_S = 300;
/** The standard part also runs 1/LINEARITY_FACTOR of its length to measure whether cost grows with run length. */
const LINEARITY_FACTOR = 10;

interface StandardFigures {
  speedup: number;
  eventsPerSec: number;
  ratioToKernel: number | null;
  wallMs: number;
  simulatedMs: number;
  events: number;
  verdict: string;
}

interface Settings {
  parts: Set<Part>;
  simSeconds: number | null;
  seeds: number;
  jobs: number;
  partitions: number[];
  scaleWallLimitS: number;
  events: number;
  rounds: number;
}

/** Validates every option before anything runs (a bad one throws a UsageError: one line, exit 2). */
export function parseBenchOptions(options: BenchOptions): Settings {
  if (options.kernel === true && options.only !== undefined) throw new UsageError("--kernel and --only: give one of them (--kernel is --only kernel)");
  if (options.soak === true && (options.kernel === true || options.only !== undefined)) throw new UsageError("--soak runs alone: drop --kernel / --only");
  const parts = new Set<Part>(options.kernel === true ? ["kernel"] : BENCH_PARTS);
  if (options.only !== undefined) {
    parts.clear();
    for (const name of options.only.split(",").map((part) => part.trim())) {
      if (!(BENCH_PARTS as readonly string[]).includes(name)) throw new UsageError(`--only: expected a comma-separated list of ${BENCH_PARTS.join(", ")}, found "${options.only}"`);
      parts.add(name as Part);
    }
  }
  return {
    parts,
    simSeconds: options.simSeconds === undefined ? null : positiveInt(options.simSeconds, "--sim-seconds"),
    seeds: options.seeds === undefined ? DEFAULT_CHAOS_SEEDS : positiveInt(options.seeds, "--seeds"),
    jobs: options.jobs === undefined ? availableParallelism() : positiveInt(options.jobs, "--jobs"),
    partitions: options.partitions === undefined ? [...SCALE_PARTITIONS] : partitionList(options.partitions),
    scaleWallLimitS: options.scaleWallLimit === undefined ? DEFAULT_SCALE_WALL_LIMIT_S : positiveInt(options.scaleWallLimit, "--scale-wall-limit"),
    events: positiveInt(options.events ?? "2000000", "--events"),
    rounds: positiveInt(options.rounds ?? "5", "--rounds"),
  };
}

export function benchCommand(options: BenchOptions, wallClock: () => number): Promise<number> {
  const settings = parseBenchOptions(options);
  if (options.scaleChild !== undefined) {
    const partitions = positiveInt(options.scaleChild, "--scale-child");
    return Promise.resolve(scaleChild(partitions, settings.simSeconds ?? SCALE_SIM_SECONDS, settings.scaleWallLimitS * 1000, wallClock));
  }
  const progress = (line: string): void => {
    if (process.stderr.isTTY) process.stderr.write(chalk.dim(line) + "\n");
  };
  if (options.soak === true) {
    const report = runSoak(settings.simSeconds ?? SOAK_SIM_SECONDS, wallClock, progress);
    process.stdout.write(options.json === true ? JSON.stringify({ soak: report }) + "\n" : formatSoak(report).join("\n") + "\n");
    return Promise.resolve(0);
  }
  return runParts(settings, options.json === true, wallClock, progress);
}

async function runParts(settings: Settings, json: boolean, wallClock: () => number, progress: (line: string) => void): Promise<number> {
  const report: Record<string, unknown> = {};
  const out: string[] = [];
  let kernel: KernelReport | null = null;
  if (settings.parts.has("kernel")) {
    progress(`bench: kernel (${settings.rounds} rounds of ${settings.events} events)…`);
    kernel = measureKernel(settings.events, settings.rounds, wallClock);
    report.kernel = kernel;
    out.push(...formatKernel(kernel));
  }
  const simSeconds = settings.simSeconds ?? STANDARD_SIM_SECONDS;
  const workloads = [
    ["standard", standardSpec, `standard — 3 ZooKeeper, 5 brokers, 12 partitions RF 3, 3 producers at 2,000 msgs/s, ${simSeconds} simulated s`],
    ["groups", groupsSpec, `groups — the standard scenario plus a ${GROUP_MEMBERS}-member consumer group reading t with auto-commit, ${simSeconds} simulated s`],
    ["transactions", transactionsSpec, `transactions — the standard load in transactions of ${TXN_RECORDS} records, ${TXN_PROCESSORS} exactly-once processors t → out, a read_committed reader, ${simSeconds} simulated s`],
  ] as const;
  for (const [part, spec, title] of workloads) {
    if (!settings.parts.has(part)) continue;
    progress(`bench: ${part}, ${simSeconds} simulated s, checkers on…`);
    const figures = runStandard(spec(simSeconds), true, kernel, wallClock);
    progress(`bench: ${part}, ${simSeconds} simulated s, checkers off…`);
    const bare = runStandard(spec(simSeconds), false, kernel, wallClock);
    out.push(chalk.bold(title));
    out.push(standardLine("checkers on, no trace (as explore)", figures));
    out.push(standardLine("no checkers, no trace", bare));
    if (part !== "standard" || simSeconds < LINEARITY_FACTOR) {
      report[part] = { ...figures, withoutCheckers: bare };
      continue;
    }
    // Cost linear in simulated time: the same workload at a tenth of the length, run after the long one (both
    // warm), so `linearity` = long wall / (10 × short wall); 1 is linear, above 1 the later events cost more.
    const shortSeconds = simSeconds / LINEARITY_FACTOR;
    progress(`bench: ${part}, ${shortSeconds} simulated s (linearity), checkers on and off…`);
    const shortOn = runStandard(spec(shortSeconds), true, kernel, wallClock);
    const shortOff = runStandard(spec(shortSeconds), false, kernel, wallClock);
    const linearity = {
      shortSimulatedMs: shortOn.simulatedMs,
      checkers: linearityOf(figures, shortOn),
      withoutCheckers: linearityOf(bare, shortOff),
      shortWallMs: shortOn.wallMs,
      shortWallMsWithoutCheckers: shortOff.wallMs,
    };
    report[part] = { ...figures, withoutCheckers: bare, linearity };
    out.push(
      `  linearity: ${simSeconds} s vs ${LINEARITY_FACTOR} × ${shortSeconds} s wall = ${linearity.checkers.toFixed(2)} with checkers (${(shortOn.wallMs / 1000).toFixed(1)} s for ${shortSeconds} s), ` +
        `${linearity.withoutCheckers.toFixed(2)} without (${(shortOff.wallMs / 1000).toFixed(1)} s); 1.00 is linear`,
    );
  }
  if (settings.parts.has("chaos")) {
    const chaosSeconds = settings.simSeconds ?? CHAOS_SIM_SECONDS;
    progress(`bench: chaos, ${settings.seeds} seeds of ${chaosSeconds} simulated s + 30 s settle on ${settings.jobs} workers…`);
    const chaos = await runChaos(chaosSeconds, settings.seeds, settings.jobs, wallClock);
    report.chaos = chaos;
    out.push(chalk.bold(`chaos — the standard cluster under a nemesis (crash, partition, pause), ${chaosSeconds} simulated s + 30 s settle`));
    out.push(`  ${chaos.seeds} seeds on ${chaos.jobs} workers in ${(chaos.wallMs / 1000).toFixed(1)} s wall: ${chaos.seedsPerHour.toLocaleString("en-US")} seeds/hour` + (chaos.failingSeeds.length > 0 ? chalk.red(`  (${chaos.failingSeeds.length} failing: seeds ${chaos.failingSeeds.join(", ")})`) : ""));
  }
  if (settings.parts.has("scale")) {
    const scaleSeconds = settings.simSeconds ?? SCALE_SIM_SECONDS;
    const scale: ScaleReport[] = [];
    out.push(chalk.bold(`scale — 50 brokers, RF 3, one producer at 200 msgs/s, ${scaleSeconds} simulated s (each size in its own process, bound ${settings.scaleWallLimitS} s wall)`));
    out.push("  partitions   wall s   peak RSS MiB   simulated s   events");
    for (const partitions of settings.partitions) {
      progress(`bench: scale, ${partitions} partitions…`);
      const size = runScaleChild(partitions, scaleSeconds, settings.scaleWallLimitS, wallClock);
      scale.push(size);
      const bound = size.boundHit ? chalk.yellow(`  hit the bound${size.error !== undefined ? `: ${size.error}` : ` (${size.verdict})`}`) : "";
      out.push(`  ${String(partitions).padStart(10)}   ${(size.wallMs / 1000).toFixed(1).padStart(6)}   ${String(size.peakRssMb).padStart(12)}   ${(size.simulatedMs / 1000).toFixed(0).padStart(11)}   ${size.events.toLocaleString("en-US").padStart(10)}${bound}`);
    }
    report.scale = scale;
  }
  process.stdout.write(json ? JSON.stringify(report) + "\n" : out.join("\n") + "\n");
  return 0;
}

function runStandard(spec: Record<string, unknown>, checkers: boolean, kernel: KernelReport | null, wallClock: () => number): StandardFigures {
  const scenario = benchScenario(spec);
  const started = wallClock();
  const result = runScenario(scenario, { hash: false, checkers });
  const wallMs = wallClock() - started;
  const eventsPerSec = result.stats.events / (wallMs / 1000);
  return {
    speedup: round3(result.stats.simulatedMs / wallMs),
    eventsPerSec: Math.round(eventsPerSec),
    ratioToKernel: kernel === null ? null : round3(eventsPerSec / kernel.eventsPerSec),
    wallMs: Math.round(wallMs),
    simulatedMs: result.stats.simulatedMs,
    events: result.stats.events,
    verdict: result.verdict,
  };
}

/** Long run's wall over ten times the short run's: the cost of a simulated second late in a run vs early. */
function linearityOf(long: StandardFigures, short: StandardFigures): number {
  return round3(long.wallMs / (LINEARITY_FACTOR * Math.max(short.wallMs, 1)));
}

function standardLine(label: string, figures: StandardFigures): string {
  const ratio = figures.ratioToKernel === null ? "" : `, ${(figures.ratioToKernel * 100).toFixed(1)} % of the kernel`;
  return `  ${label.padEnd(36)} ${figures.speedup.toFixed(1).padStart(7)}× real time  ${(figures.eventsPerSec / 1e6).toFixed(3)} M events/s${ratio}  (${(figures.wallMs / 1000).toFixed(1)} s wall)`;
}

async function runChaos(simSeconds: number, seeds: number, jobs: number, wallClock: () => number) {
  const spec = chaosSpec(simSeconds);
  benchScenario(spec); // validated here, so a bad spec fails before any worker starts
  const list = Array.from({ length: seeds }, (_, i) => i + 1);
  const started = wallClock();
  const outcomes = await runSeeds(list, jobs, { text: JSON.stringify(spec), file: `${String(spec.name)} (built in)` }, String(spec.name), () => {});
  const wallMs = wallClock() - started;
  const failingSeeds = outcomes.filter((outcome) => !outcome.result.expectationMet).map((outcome) => outcome.seed);
  const seedWall = outcomes.map((outcome) => outcome.result.stats.wallMs);
  return {
    seedsPerHour: Math.round(seeds / (wallMs / 3_600_000)),
    seeds,
    jobs: Math.min(jobs, seeds),
    wallMs: Math.round(wallMs),
    meanSeedWallMs: Math.round(seedWall.reduce((sum, ms) => sum + ms, 0) / Math.max(seedWall.length, 1)),
    meanEvents: Math.round(outcomes.reduce((sum, outcome) => sum + outcome.result.stats.events, 0) / Math.max(outcomes.length, 1)),
    failingSeeds,
  };
}

function positiveInt(text: string, flag: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value <= 0) throw new UsageError(`${flag}: expected a positive integer, found "${text}"`);
  return value;
}

function partitionList(text: string): number[] {
  const values = text.split(",").map((part) => part.trim());
  if (values.some((value) => !/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 100_000)) {
    throw new UsageError(`--partitions: expected a comma-separated list of partition counts from 1 to 100000, found "${text}"`);
  }
  return values.map(Number);
}
