/**
 * The scale part of `kafkasim bench`: each size (50 brokers, N partitions) runs in a child process of its own,
 * so its peak resident memory is that run's alone. The child is this CLI again (`bench --scale-child N`, a
 * hidden option): it runs the scenario the way `explore` runs a seed (checkers on, no trace, no hash), bounded
 * by a wall-time limit and the scenario's event limit, and writes JSON lines on stdout — a progress line every
 * 10 simulated seconds (so a child killed by the out-of-memory killer still leaves its last figures) and one
 * result line.
 */

import { spawnSync } from "node:child_process";
import { benchScenario, scaleSpec } from "../bench/scenarios.ts";
import { runScenario } from "../scenario/run.ts";

export interface ScaleReport {
  partitions: number;
  /** Wall time of the run in the child (building the world and running it; not Node's start-up). */
  wallMs: number;
  /** Peak resident set of the child process (its whole life), MiB. */
  peakRssMb: number;
  simulatedMs: number;
  /** The simulated time planned. */
  plannedSimulatedMs: number;
  events: number;
  verdict: string;
  /** True when the run stopped at the wall-time or event bound (or died) before its planned end. */
  boundHit: boolean;
  /** Why the child failed, when it did (e.g. out of memory). */
  error?: string;
}

interface ChildLine {
  progress?: { simulatedMs: number; wallMs: number; rssMb: number };
  result?: ScaleReport;
}

const PROGRESS_EVERY_US = 1_000_000;
const PROGRESS_LINE_EVERY_US = 10_000_000;

function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024); // maxRSS is in KiB
}

/** The child's side: runs one size and prints JSON lines. */
export function scaleChild(partitions: number, simSeconds: number, wallLimitMs: number, wallClock: () => number): number {
  const started = wallClock();
  const scenario = benchScenario(scaleSpec(partitions, simSeconds));
  let stoppedByWall = false;
  const result = runScenario(scenario, {
    hash: false,
    progressEveryUs: PROGRESS_EVERY_US,
    onProgress: (simulatedUs) => {
      const wallMs = wallClock() - started;
      if (simulatedUs % PROGRESS_LINE_EVERY_US === 0) {
        const progress = { simulatedMs: simulatedUs / 1000, wallMs: Math.round(wallMs), rssMb: Math.round(process.memoryUsage().rss / 1048576) };
        process.stdout.write(JSON.stringify({ progress }) + "\n");
        if (process.stderr.isTTY) process.stderr.write(`  scale ${partitions} partitions: ${simulatedUs / 1e6} of ${simSeconds} simulated s, ${(wallMs / 1000).toFixed(0)} s wall, ${progress.rssMb} MiB\n`);
      }
      if (wallMs > wallLimitMs) {
        stoppedByWall = true;
        return false;
      }
      return true;
    },
  });
  const report: ScaleReport = {
    partitions,
    wallMs: Math.round(wallClock() - started),
    peakRssMb: peakRssMb(),
    simulatedMs: result.stats.simulatedMs,
    plannedSimulatedMs: simSeconds * 1000,
    events: result.stats.events,
    verdict: result.verdict,
    boundHit: stoppedByWall || result.verdict === "event-limit",
  };
  if (result.error !== undefined) report.error = result.error.split("\n")[0];
  process.stdout.write(JSON.stringify({ result: report }) + "\n");
  return 0;
}

/** The parent's side: runs `bench --scale-child N` in a fresh Node process and reads its last line. */
export function runScaleChild(partitions: number, simSeconds: number, wallLimitSeconds: number, wallClock: () => number): ScaleReport {
  const args = [...process.execArgv, process.argv[1], "bench", "--scale-child", String(partitions), "--sim-seconds", String(simSeconds), "--scale-wall-limit", String(wallLimitSeconds)];
  const started = wallClock();
  const child = spawnSync(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const lines: ChildLine[] = [];
  for (const line of (child.stdout ?? "").split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      lines.push(JSON.parse(line) as ChildLine);
    } catch {
      // A line cut short by a dying child.
    }
  }
  const result = lines.find((line) => line.result !== undefined)?.result;
  if (result !== undefined && child.status === 0) return result;
  // The child died (out of memory, a crash): report how far it got.
  const last = [...lines].reverse().find((line) => line.progress !== undefined)?.progress;
  const why = child.error?.message ?? (child.signal !== null ? `killed by ${child.signal}` : `exited with code ${child.status}`);
  return {
    partitions,
    wallMs: last?.wallMs ?? Math.round(wallClock() - started),
    peakRssMb: last?.rssMb ?? 0,
    simulatedMs: last?.simulatedMs ?? 0,
    plannedSimulatedMs: simSeconds * 1000,
    events: 0,
    verdict: "child-failed",
    boundHit: true,
    error: `the child process ${why}${last !== undefined ? ` after ${last.simulatedMs / 1000} simulated s` : ""}`,
  };
}
