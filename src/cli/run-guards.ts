/**
 * The CLI's bounds on one run, outside the deterministic model: wall time (`--max-wall`) and heap use
 * (`--max-memory`), checked between kernel slices. A run reaching either ends with a `wall-limit` or
 * `memory-limit` verdict and the statistics so far, instead of running on until it is killed. Also the
 * progress reporting of long runs: a bar on a terminal, else JSON lines on stderr.
 */

import cliProgress from "cli-progress";
import { getHeapStatistics } from "node:v8";
import type { RunOptions } from "../scenario/run.ts";
import { parseDuration } from "../sim/time.ts";
import { UsageError } from "./errors.ts";

/** Default wall-time bound of one run: generous, so only a runaway run reaches it. */
export const DEFAULT_MAX_WALL_MS = 60 * 60 * 1000;
/** The default heap bound: this share of V8's heap limit, so the verdict comes before V8 gives up. */
const HEAP_SHARE = 0.85;

export interface RunBounds {
  maxWallMs: number;
  maxHeapBytes: number;
}

/** --max-wall: a duration ("90s", "2h") or milliseconds; 0 is refused. */
export function parseMaxWall(text: string | undefined, fallbackMs = DEFAULT_MAX_WALL_MS): number {
  if (text === undefined) return fallbackMs;
  const us = parseDuration(/^\d+(\.\d+)?$/.test(text) ? Number(text) : text);
  if (us === null || us < 1000) throw new UsageError(`--max-wall: expected a wall-clock duration of at least 1ms like "30m" or "2h", found "${text}"`);
  return us / 1000;
}

/** V8's heap limit in MB (node --max-old-space-size raises it). */
export function heapLimitMb(): number {
  return Math.floor(getHeapStatistics().heap_size_limit / (1024 * 1024));
}

/** --max-memory: megabytes of JavaScript heap, at most V8's own limit (beyond it V8 aborts without a verdict). */
export function parseMaxMemory(text: string | undefined): number {
  const limitMb = heapLimitMb();
  if (text === undefined) return Math.floor(limitMb * HEAP_SHARE) * 1024 * 1024;
  if (/^\d+$/.test(text)) {
    const mb = Number(text);
    if (mb >= 16 && mb <= limitMb) return mb * 1024 * 1024;
  }
  throw new UsageError(`--max-memory: expected megabytes of heap from 16 to ${limitMb} (V8's heap limit; raise it with node --max-old-space-size), found "${text}"`);
}

/** The guard for runScenario: wall time since `started`, heap in use. */
export function runGuard(bounds: RunBounds, wallClock: () => number, started: number, onCheck?: (simulatedUs: number, wallMs: number) => void): NonNullable<RunOptions["guard"]> {
  return (simulatedUs) => {
    const wallMs = wallClock() - started;
    onCheck?.(simulatedUs, wallMs);
    if (wallMs > bounds.maxWallMs) return { reason: "wall-limit", detail: `${Math.round(wallMs)} ms of wall time (--max-wall ${bounds.maxWallMs} ms) at ${(simulatedUs / 1e6).toFixed(3)} s simulated` };
    const heap = getHeapStatistics().used_heap_size;
    if (heap > bounds.maxHeapBytes) {
      return { reason: "memory-limit", detail: `${Math.round(heap / 1048576)} MB of heap (--max-memory ${Math.round(bounds.maxHeapBytes / 1048576)} MB) at ${(simulatedUs / 1e6).toFixed(3)} s simulated` };
    }
    return null;
  };
}

/** Wall time after which a run starts reporting progress. */
const PROGRESS_AFTER_MS = 2000;
/** Wall time between two JSON progress lines. */
const PROGRESS_LINE_EVERY_MS = 5000;

/**
 * Progress of a long run on stderr: a bar of simulated time on a terminal, else (e.g. `run --json` piped) a JSON
 * line `{"progress": {...}}` every few seconds. Short runs print nothing.
 */
export function progressReporter(name: string, endUs: number, tty: boolean): { check: (simulatedUs: number, wallMs: number) => void; stop: () => void } {
  let bar: cliProgress.SingleBar | null = null;
  let lastLineMs = 0;
  const endS = endUs / 1e6;
  return {
    check(simulatedUs, wallMs) {
      if (wallMs < PROGRESS_AFTER_MS) return;
      const simulatedS = Math.min(simulatedUs / 1e6, endS);
      if (tty) {
        if (bar === null) {
          bar = new cliProgress.SingleBar(
            { stream: process.stderr, format: `run ${name} |{bar}| {value}/{total} simulated s | {duration_formatted} elapsed, ETA {eta_formatted}`, hideCursor: true, clearOnComplete: true },
            cliProgress.Presets.shades_classic,
          );
          bar.start(Math.round(endS), 0);
        }
        bar.update(Math.floor(simulatedS));
        return;
      }
      if (wallMs - lastLineMs < PROGRESS_LINE_EVERY_MS && lastLineMs !== 0) return;
      lastLineMs = wallMs;
      process.stderr.write(JSON.stringify({ progress: { scenario: name, simulatedMs: Math.round(simulatedS * 1000), endMs: Math.round(endS * 1000), wallMs: Math.round(wallMs) } }) + "\n");
    },
    stop() {
      (bar as cliProgress.SingleBar | null)?.stop();
    },
  };
}
