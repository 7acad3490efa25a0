/**
 * The soak's verdict: does heap use stay flat once retention deletes segments as fast as they fill? The
 * samples (one per simulated minute) are taken by the CLI; this judges them. Heap after a GC still swings with
 * what is in flight at the sample (a crashed broker's backlog, a partition's retries), so single samples are
 * noisy: the verdict compares medians — the last half of the run against the samples from retention's start to
 * the middle of the run — with a relative tolerance, and reports the maxima beside them.
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
  /** Median heap from the first sample at or after `retentionStartS` up to the middle of the run, MiB. */
  baselineMedianMb: number | null;
  baselineFromS: number | null;
  /** Median heap over the last half of the samples, MiB. */
  lastHalfMedianMb: number | null;
  baselineMaxMb: number | null;
  lastHalfMaxMb: number | null;
  /** lastHalfMedian / baselineMedian - 1. */
  growth: number | null;
  tolerance: number;
  reason: string;
}

/** Retention first deletes after the initial task delay (30 s) + retention.ms (60 s) + one check (10 s): judge from 2 minutes on. */
export const SOAK_RETENTION_START_S = 120;
export const SOAK_TOLERANCE = 0.25;

export function soakVerdict(samples: readonly SoakSample[], retentionStartS = SOAK_RETENTION_START_S, tolerance = SOAK_TOLERANCE): SoakVerdict {
  const middle = Math.floor(samples.length / 2);
  const baselineIndex = samples.findIndex((sample) => sample.simulatedS >= retentionStartS);
  if (baselineIndex < 0 || baselineIndex >= middle || samples.length - middle < 2) {
    return {
      flat: null,
      baselineMedianMb: null,
      baselineFromS: null,
      lastHalfMedianMb: null,
      baselineMaxMb: null,
      lastHalfMaxMb: null,
      growth: null,
      tolerance,
      reason: `too short to judge: needs samples from ${retentionStartS} s on in both halves of the run`,
    };
  }
  const baseline = samples.slice(baselineIndex, middle).map((sample) => sample.heapUsedMb);
  const lastHalf = samples.slice(middle).map((sample) => sample.heapUsedMb);
  const baselineMedianMb = median(baseline);
  const lastHalfMedianMb = median(lastHalf);
  const growth = lastHalfMedianMb / baselineMedianMb - 1;
  const flat = growth <= tolerance;
  const reason = `${flat ? "flat" : "grows"}: the last half's median heap is ${(growth * 100).toFixed(0)} % ${growth < 0 ? "under" : "over"} the median from retention's start to mid-run (tolerance ${(tolerance * 100).toFixed(0)} %)`;
  return {
    flat,
    baselineMedianMb,
    baselineFromS: samples[baselineIndex].simulatedS,
    lastHalfMedianMb,
    baselineMaxMb: Math.max(...baseline),
    lastHalfMaxMb: Math.max(...lastHalf),
    growth: Math.round(growth * 1000) / 1000,
    tolerance,
    reason,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
