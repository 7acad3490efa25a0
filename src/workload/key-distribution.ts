/**
 * Key distributions for producer workloads: which key the n-th record gets. `keys` distinct keys named
 * `k0` … `k{keys-1}`; absent = null keys (the sticky partitioner places them). "uniform" draws every key with
 * equal probability; "hot" puts 80 % of the records on the first 20 % of the keys (at least one key). Draws come
 * from the workload's seeded stream, so a seed fixes the sequence.
 */

import type { RandomInts } from "../clients/partitioner.ts";

export type KeyDistribution = "uniform" | "hot";

export interface KeySource {
  float(): number;
  int(min: number, max: number): number;
}

/** The share of records on the hot keys, and the share of keys that are hot. */
export const HOT_RECORD_SHARE = 0.8;
export const HOT_KEY_SHARE = 0.2;

/**
 * A function giving the next record's key. Each key's string is made once and shared by every record that
 * carries it: the logs keep every record for the whole run, and one string per record was one more object each.
 */
export function keyChooser(keys: number | undefined, distribution: KeyDistribution, random: KeySource & RandomInts): () => string | null {
  if (keys === undefined) return () => null;
  const names: string[] = [];
  const name = (i: number): string => (names[i] ??= `k${i}`);
  if (distribution === "uniform") return () => name(random.int(0, keys - 1));
  const hot = Math.max(1, Math.ceil(keys * HOT_KEY_SHARE));
  return () => {
    if (hot >= keys || random.float() < HOT_RECORD_SHARE) return name(random.int(0, hot - 1));
    return name(random.int(hot, keys - 1));
  };
}
