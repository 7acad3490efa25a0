/**
 * `kafkasim bench --soak`: the chaos scenario for a simulated hour with small segments and retention, so
 * segments roll and are deleted all along; heap use is sampled every simulated minute through runScenario's
 * progress hook (after a full GC when one can be forced) and judged by soakVerdict (medians, since single
 * samples swing with what is in flight). The run is the model alone
 * (no checkers, no trace): the checkers keep every write's history by design, which would grow anyway.
 */

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { benchScenario, SOAK_RETENTION, soakSpec } from "../bench/scenarios.ts";
import { soakVerdict, type SoakSample, type SoakVerdict } from "../bench/soak.ts";
import { runScenario } from "../scenario/run.ts";
import { chalk } from "./style.ts";

export interface SoakReport {
  simulatedSeconds: number;
  wallMs: number;
  events: number;
  verdictOfRun: string;
  /** Whether each sample was taken after a forced full GC. */
  gc: boolean;
  retention: typeof SOAK_RETENTION;
  samples: SoakSample[];
  verdict: SoakVerdict;
}

const MIB = 1024 * 1024;

/** global.gc, exposed at run time when Node was not started with --expose-gc; null if that fails. */
function forcedGc(): (() => void) | null {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === "function") return existing;
  try {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as unknown;
    return typeof gc === "function" ? (gc as () => void) : null;
  } catch {
    return null;
  }
}

export function runSoak(simSeconds: number, wallClock: () => number, progress: (line: string) => void): SoakReport {
  const gc = forcedGc();
  const samples: SoakSample[] = [];
  const started = wallClock();
  const sample = (simulatedUs: number): void => {
    gc?.();
    const memory = process.memoryUsage();
    const entry = { simulatedS: simulatedUs / 1e6, heapUsedMb: round1(memory.heapUsed / MIB), rssMb: round1(memory.rss / MIB), wallS: round1((wallClock() - started) / 1000) };
    samples.push(entry);
    progress(`  soak: ${entry.simulatedS / 60} of ${simSeconds / 60} simulated min, heap ${entry.heapUsedMb} MiB, ${entry.wallS} s wall`);
  };
  const result = runScenario(benchScenario(soakSpec(simSeconds)), { hash: false, checkers: false, progressEveryUs: 60_000_000, onProgress: sample });
  return {
    simulatedSeconds: result.stats.simulatedMs / 1000,
    wallMs: Math.round(wallClock() - started),
    events: result.stats.events,
    verdictOfRun: result.verdict,
    gc: gc !== null,
    retention: SOAK_RETENTION,
    samples,
    verdict: soakVerdict(samples),
  };
}

export function formatSoak(report: SoakReport): string[] {
  const lines = [chalk.bold(`soak — bench-soak (chaos + retention), ${report.simulatedSeconds} simulated s in ${(report.wallMs / 1000).toFixed(1)} s wall, ${report.events.toLocaleString("en-US")} events`)];
  lines.push(chalk.dim(`  heap after ${report.gc ? "a forced full GC" : "no forced GC (gc unavailable)"} every simulated minute`));
  lines.push("  sim min   heap MiB   rss MiB   wall s");
  for (const sample of report.samples) {
    lines.push(`  ${String(sample.simulatedS / 60).padStart(7)}   ${sample.heapUsedMb.toFixed(1).padStart(8)}   ${sample.rssMb.toFixed(1).padStart(7)}   ${sample.wallS.toFixed(1).padStart(6)}`);
  }
  const verdict = report.verdict;
  const colour = verdict.flat === true ? chalk.green : verdict.flat === false ? chalk.red : chalk.yellow;
  lines.push(colour(`  ${verdict.reason}`));
  return lines;
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
