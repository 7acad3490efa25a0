/**
 * The soak's verdict: does heap use stay flat once retention deletes segments as fast as they fill? The
 * samples (one per simulated minute) are taken by the CLI; this judges them: the largest heap of the last
 * half of the run against the first sample taken after retention started, with a relative tolerance.
 */

export interface SoakSample {
  /** Virtual time of the sample, seconds. */
  simulatedS: number;
  /** Heap in use after a full GC when one could be forced (MiB). */
  heapUsedMb: number;
  rssMb: number;
  /** Wall time since the run started, seconds. */
  wallS: number;
}

export interface SoakVerdict {
  /** True when memory stays within the tolerance of the baseline; null when the run was too short to judge. */
  flat: boolean | null;
  /** The first sample at or after `retentionStartS`, MiB. */
  baselineMb: number | null;
  baselineAtS: number | null;
  /** The largest heap over the last half of the samples, MiB. */
  lastHalfMaxMb: number | null;
  /** lastHalfMax / baseline - 1. */
  growth: number | null;
  tolerance: number;
  reason: string;
}

/** Retention first deletes after the initial task delay (30 s) + retention.ms (60 s) + one check (10 s): judge from 2 minutes on. */
export const SOAK_RETENTION_START_S = 120;
export const SOAK_TOLERANCE = 0.25;

export function soakVerdict(samples: readonly SoakSample[], retentionStartS = SOAK_RETENTION_START_S, tolerance = SOAK_TOLERANCE): SoakVerdict {
  const baselineIndex = samples.findIndex((sample) => sample.simulatedS >= retentionStartS);
  const lastHalf = samples.slice(Math.floor(samples.length / 2));
  if (baselineIndex < 0 || samples.length - baselineIndex < 3 || lastHalf.length === 0) {
    return { flat: null, baselineMb: null, baselineAtS: null, lastHalfMaxMb: null, growth: null, tolerance, reason: `too short to judge: needs at least three samples from ${retentionStartS} s on` };
  }
  const baseline = samples[baselineIndex];
  const lastHalfMaxMb = Math.max(...lastHalf.map((sample) => sample.heapUsedMb));
  const growth = lastHalfMaxMb / baseline.heapUsedMb - 1;
  const flat = growth <= tolerance;
  const percent = `${(growth * 100).toFixed(0)} %`;
  const reason = flat
    ? `flat: the last half's largest heap is ${percent} over the first sample after retention started (tolerance ${(tolerance * 100).toFixed(0)} %)`
    : `grows: the last half's largest heap is ${percent} over the first sample after retention started (tolerance ${(tolerance * 100).toFixed(0)} %)`;
  return { flat, baselineMb: baseline.heapUsedMb, baselineAtS: baseline.simulatedS, lastHalfMaxMb, growth: Math.round(growth * 1000) / 1000, tolerance, reason };
}
