/**
 * A worker thread of `kafkasim explore`: loads the scenario once, then runs one seed per request, untraced
 * and unhashed (the fast path), and posts each seed's result back. Every seed is an independent run, so
 * which worker runs which seed cannot change any result. Bundled as dist/explore-worker.js; under tsx the
 * command starts this file directly.
 */

import { parentPort, workerData } from "node:worker_threads";
import { performance } from "node:perf_hooks";
import { loadScenario } from "../scenario/load.ts";
import { runScenario, unbuiltResult, type RunResult } from "../scenario/run.ts";
import { runGuard, type RunBounds } from "./run-guards.ts";
import type { SeedOutcome } from "./explore.ts";

export interface WorkerInput {
  text: string;
  file: string;
  /** Per-seed wall-time and heap bounds (absent: none). */
  bounds?: RunBounds;
}

/** Parent → worker: a seed to run, or null to finish. */
export type WorkerRequest = { seed: number } | null;

if (parentPort !== null) {
  const port = parentPort;
  const input = workerData as WorkerInput;
  const scenario = loadScenario(input.text, input.file);
  port.on("message", (request: WorkerRequest) => {
    if (request === null) {
      port.close();
      return;
    }
    const wallClock = (): number => performance.now(); // wall-clock-ok: per-seed wall time and bound
    const started = wallClock();
    let result: RunResult;
    try {
      const guard = input.bounds === undefined ? undefined : runGuard(input.bounds, wallClock, started);
      result = runScenario(scenario, { seed: request.seed, hash: false, guard });
    } catch (error) {
      result = unbuiltResult(scenario.name, request.seed, error);
    }
    const wallMs = Math.round(performance.now() - started);
    const outcome: SeedOutcome = { seed: request.seed, result: { ...result, stats: { ...result.stats, wallMs } } };
    port.postMessage(outcome);
  });
}
