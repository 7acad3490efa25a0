/**
 * `kafkasim bench`: for now the kernel part (`--kernel`): the bare kernel's no-op event rate against a
 * plain binary heap doing the same work, measured in one process, interleaved round by round so machine
 * noise hits both alike; the best round of each counts. The scenario benchmarks come with the Kafka model.
 */

import { runHostTimers, runKernelNoop, runPlainHeap } from "../bench/kernel.ts";
import { UsageError } from "./errors.ts";
import { chalk } from "./style.ts";

export interface BenchOptions {
  kernel?: boolean;
  json?: boolean;
  events?: string;
  rounds?: string;
}

interface Workload {
  name: string;
  run: (events: number) => number;
  best: number;
}

export function benchCommand(options: BenchOptions, wallClock: () => number): number {
  const events = positiveInt(options.events ?? "2000000", "--events");
  const rounds = positiveInt(options.rounds ?? "5", "--rounds");
  if (!options.kernel) {
    process.stderr.write("kafkasim bench: only --kernel exists so far (the scenario benchmarks arrive with the Kafka model); running it\n");
  }
  const workloads: Workload[] = [
    { name: "plain heap (reference)", run: runPlainHeap, best: 0 },
    { name: "kernel no-op", run: runKernelNoop, best: 0 },
    { name: "kernel + host timers", run: runHostTimers, best: 0 },
  ];
  // Warm-up so the JIT has compiled every path before measuring.
  for (const workload of workloads) workload.run(Math.min(events, 200_000));
  for (let round = 0; round < rounds; round++) {
    for (const workload of workloads) {
      const started = wallClock();
      workload.run(events);
      const seconds = (wallClock() - started) / 1000;
      workload.best = Math.max(workload.best, events / seconds);
    }
  }
  const [heap, kernel, hosts] = workloads;
  const ratio = kernel.best / heap.best;
  if (options.json) {
    process.stdout.write(
      JSON.stringify({
        kernel: {
          eventsPerSec: Math.round(kernel.best),
          plainHeapEventsPerSec: Math.round(heap.best),
          ratioToPlainHeap: round3(ratio),
          hostTimersEventsPerSec: Math.round(hosts.best),
          pendingEvents: 1000,
          eventsPerRound: events,
          rounds,
        },
      }) + "\n",
    );
  } else {
    const lines = [chalk.bold(`kernel benchmark — ${events} events per round, 1000 pending, best of ${rounds} rounds`)];
    for (const workload of workloads) {
      lines.push(`  ${workload.name.padEnd(24)} ${(workload.best / 1e6).toFixed(2).padStart(7)} M events/s`);
    }
    lines.push(`  kernel / plain heap      ${(ratio * 100).toFixed(0).padStart(7)} %`);
    process.stdout.write(lines.join("\n") + "\n");
  }
  return 0;
}

function positiveInt(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) throw new UsageError(`${flag}: expected a positive integer, found "${text}"`);
  return value;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
