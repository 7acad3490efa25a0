/**
 * One-way link latency distributions. Every sample is an integer number of microseconds and never negative.
 * `normal` is clamped at `minUs` (values below it become `minUs`); `exponential` is shifted: `minUs` plus an
 * exponential tail, with `meanUs` the mean of the whole distribution, so `meanUs >= minUs`.
 */

import { assert } from "../sim/assert.ts";
import type { Rng } from "../sim/rng.ts";
import type { Micros } from "../sim/time.ts";

export type LatencySpec =
  | { dist: "constant"; us: number }
  | { dist: "uniform"; minUs: number; maxUs: number }
  | { dist: "normal"; meanUs: number; stddevUs: number; minUs: number }
  | { dist: "exponential"; meanUs: number; minUs: number };

function nonNegative(value: number, what: string): void {
  assert(Number.isFinite(value) && value >= 0, `latency ${what} must be a finite number >= 0, got ${value}`);
}

/** Throws a ModelAssertionError naming the bad field when `spec` is not a valid latency distribution. */
export function validateLatency(spec: LatencySpec): void {
  switch (spec.dist) {
    case "constant":
      nonNegative(spec.us, "us");
      return;
    case "uniform":
      nonNegative(spec.minUs, "minUs");
      nonNegative(spec.maxUs, "maxUs");
      assert(spec.minUs <= spec.maxUs, `latency minUs (${spec.minUs}) exceeds maxUs (${spec.maxUs})`);
      return;
    case "normal":
      nonNegative(spec.meanUs, "meanUs");
      nonNegative(spec.stddevUs, "stddevUs");
      nonNegative(spec.minUs, "minUs");
      return;
    case "exponential":
      nonNegative(spec.meanUs, "meanUs");
      nonNegative(spec.minUs, "minUs");
      assert(spec.minUs <= spec.meanUs, `latency minUs (${spec.minUs}) exceeds meanUs (${spec.meanUs})`);
      return;
    default:
      assert(false, `unknown latency distribution ${String((spec as { dist: unknown }).dist)}`);
  }
}

/** The smallest latency `spec` can produce (integer µs). */
export function minLatency(spec: LatencySpec): Micros {
  switch (spec.dist) {
    case "constant":
      return Math.round(spec.us);
    case "uniform":
      return Math.ceil(spec.minUs);
    case "normal":
    case "exponential":
      return Math.round(spec.minUs);
  }
}

/**
 * A sampler for `spec` drawing from `rng` (validated once, so the per-message call does no checks).
 * `constant` draws nothing from the stream.
 */
export function latencySampler(spec: LatencySpec, rng: Rng): () => Micros {
  validateLatency(spec);
  switch (spec.dist) {
    case "constant": {
      const us = Math.round(spec.us);
      return () => us;
    }
    case "uniform": {
      const lo = Math.ceil(spec.minUs);
      const hi = Math.max(lo, Math.floor(spec.maxUs));
      return () => rng.int(lo, hi);
    }
    case "normal": {
      const { meanUs, stddevUs } = spec;
      const min = Math.round(spec.minUs);
      return () => Math.max(min, Math.round(rng.normal(meanUs, stddevUs)));
    }
    case "exponential": {
      const min = Math.round(spec.minUs);
      const tailMean = spec.meanUs - spec.minUs;
      return () => min + Math.round(rng.exponential(tailMean));
    }
  }
}

/** One latency sample from `spec` (validates the spec each call; the network uses latencySampler instead). */
export function sampleLatency(spec: LatencySpec, rng: Rng): Micros {
  return latencySampler(spec, rng)();
}
