/**
 * The worker pool of `kafkasim explore`: `jobs` worker threads, each handed the next seed as soon as it
 * reports the previous one. A worker that dies takes only its current seed with it (reported as a failed
 * run) and is replaced, at most once per seed.
 */

import { Worker } from "node:worker_threads";
import type { SeedOutcome } from "./explore.ts";
import { unbuiltResult } from "../scenario/run.ts";
import type { WorkerInput, WorkerRequest } from "./explore-worker.ts";

/**
 * Starts a worker on the worker's script next to this module. In the esbuild bundle (dist/cli.js) that is
 * dist/explore-worker.js, built beside it by scripts/build.mjs. Running from source under tsx (the tests,
 * `node --import tsx src/cli/main.ts`), a worker does not get tsx's loader hooks, so a small bootstrap
 * registers tsx in the worker first and then imports the TypeScript source.
 *
 * Each worker is started once per sweep: it loads and validates the scenario once (~30 ms of CPU for
 * safe-chaos) and then runs seed after seed, so module load and JIT warm-up are paid per worker, not per seed.
 * No resourceLimits: a larger young generation (maxYoungGenerationSizeMb 64, 96, 192 against V8's 48) measured
 * CPU ratios of 1.02, 1.01 and 0.98 / 1.08 (two runs) on `explore scenarios/safe-chaos.json --seeds 20` against
 * the default, i.e. noise, for +30-55 % peak memory (issue 18).
 */
function startWorker(input: WorkerInput): Worker {
  if (!import.meta.url.endsWith(".ts")) return new Worker(new URL("./explore-worker.js", import.meta.url), { workerData: input });
  const source = new URL("./explore-worker.ts", import.meta.url).href;
  const tsx = import.meta.resolve("tsx/esm/api");
  const bootstrap = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: input });
}

export function runSeeds(
  seeds: readonly number[],
  jobs: number,
  input: WorkerInput,
  scenario: string,
  onOutcome: (outcome: SeedOutcome, done: number) => void,
): Promise<SeedOutcome[]> {
  const outcomes = new Map<number, SeedOutcome>();
  let next = 0;
  let respawnsLeft = seeds.length;
  let live = 0;

  return new Promise((resolve) => {
    const finishIfDone = () => {
      if (live > 0) return;
      // Only when every worker died more often than the respawn budget allows: the rest are not run.
      while (next < seeds.length) record(crashOutcome(scenario, seeds[next++], "not run: the workers kept failing"));
      resolve(seeds.map((seed) => outcomes.get(seed)!));
    };

    const record = (outcome: SeedOutcome) => {
      outcomes.set(outcome.seed, outcome);
      onOutcome(outcome, outcomes.size);
    };

    const spawn = () => {
      const worker = startWorker(input);
      live++;
      let current: number | null = null;
      let dead = false;
      const feed = () => {
        const request: WorkerRequest = next < seeds.length ? { seed: seeds[next++] } : null;
        current = request === null ? null : request.seed;
        worker.postMessage(request);
      };
      const die = (why: string) => {
        if (dead) return;
        dead = true;
        if (current !== null) record(crashOutcome(scenario, current, why));
        current = null;
        live--;
        if (next < seeds.length && respawnsLeft-- > 0) spawn();
        finishIfDone();
      };
      worker.on("message", (outcome: SeedOutcome) => {
        current = null;
        record(outcome);
        feed();
      });
      worker.on("error", (error: Error) => die(`worker failed: ${error.message}`));
      worker.on("exit", (code) => {
        if (current !== null) die(`worker exited with code ${code}`);
        else if (!dead) {
          dead = true;
          live--;
          finishIfDone();
        }
      });
      feed();
    };

    const workers = Math.max(1, Math.min(jobs, seeds.length));
    if (seeds.length === 0) {
      resolve([]);
      return;
    }
    for (let i = 0; i < workers; i++) spawn();
  });
}

function crashOutcome(scenario: string, seed: number, why: string): SeedOutcome {
  const result = unbuiltResult(scenario, seed, why, why);
  return { seed, result: { ...result, stats: { ...result.stats, wallMs: 0 } } };
}
