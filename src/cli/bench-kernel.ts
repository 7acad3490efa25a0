/**
 * The kernel part of `kafkasim bench`: the bare kernel's no-op event rate against a plain binary heap doing
 * the same work, measured in one process, interleaved round by round so machine noise hits both alike; the
 * best round of each counts. Every scenario figure is compared with this limit.
 */

import { runHostTimers, runKernelNoop, runPlainHeap } from "../bench/kernel.ts";
import { chalk } from "./style.ts";

export interface KernelReport {
  eventsPerSec: number;
  plainHeapEventsPerSec: number;
  ratioToPlainHeap: number;
  hostTimersEventsPerSec: number;
  pendingEvents: number;
  eventsPerRound: number;
  rounds: number;
}

interface Workload {
  name: string;
  run: (events: number) => number;
  best: number;
}

export function measureKernel(events: number, rounds: number, wallClock: () => number): KernelReport {
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
  return {
    eventsPerSec: Math.round(kernel.best),
    plainHeapEventsPerSec: Math.round(heap.best),
    ratioToPlainHeap: round3(kernel.best / heap.best),
    hostTimersEventsPerSec: Math.round(hosts.best),
    pendingEvents: 1000,
    eventsPerRound: events,
    rounds,
  };
}

export function formatKernel(report: KernelReport): string[] {
  const lines = [chalk.bold(`kernel benchmark — ${report.eventsPerRound} events per round, 1000 pending, best of ${report.rounds} rounds`)];
  const rows: [string, number][] = [
    ["plain heap (reference)", report.plainHeapEventsPerSec],
    ["kernel no-op", report.eventsPerSec],
    ["kernel + host timers", report.hostTimersEventsPerSec],
  ];
  for (const [name, rate] of rows) lines.push(`  ${name.padEnd(24)} ${(rate / 1e6).toFixed(2).padStart(7)} M events/s`);
  lines.push(`  kernel / plain heap      ${(report.ratioToPlainHeap * 100).toFixed(0).padStart(7)} %`);
  return lines;
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
