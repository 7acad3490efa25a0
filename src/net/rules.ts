/**
 * The network's fault rules (partitions, one-way cuts, loss, extra delay, bandwidth caps, slow nodes) and their
 * compilation into per-link arrays, indexed src * n + dst. Rules combine per link: any partition cuts it, loss
 * rates combine as 1 - Π(1 - r), delays add up, the smallest bandwidth cap wins, slow-node factors multiply; a
 * node's link to itself is never affected.
 */

import { assert } from "../sim/assert.ts";
import type { Micros } from "../sim/time.ts";

/** Handle of a fault rule, for removeRule(). */
export type RuleId = number;

/** Node selectors are host names; `null` means every node. */
export type Nodes = readonly string[];
export type NetworkRule = { readonly id: RuleId } & (
  | { readonly kind: "partition"; readonly groups: readonly Nodes[] }
  | { readonly kind: "partition-one-way"; readonly from: Nodes; readonly to: Nodes }
  | { readonly kind: "loss"; readonly rate: number; readonly from: Nodes | null; readonly to: Nodes | null }
  | { readonly kind: "delay"; readonly extraUs: Micros; readonly from: Nodes | null; readonly to: Nodes | null }
  | { readonly kind: "bandwidth"; readonly bytesPerSec: number; readonly from: Nodes | null; readonly to: Nodes | null }
  | { readonly kind: "slow-node"; readonly node: string; readonly factor: number }
);

/** The rule-derived state of every link, indexed src * n + dst. */
export interface LinkFaults {
  /** 1 when a partition cuts the link. */
  cut: Uint8Array;
  lossRate: Float64Array;
  extraDelay: Float64Array;
  /** Infinity when unlimited. */
  bandwidthCap: Float64Array;
  slowFactor: Float64Array;
}

/** Compiles the rules for `n` hosts; `indexOf` maps a host name to its index, `baseBandwidth` is the default cap. */
export function compileRules(
  rules: readonly NetworkRule[],
  n: number,
  indexOf: (name: string) => number,
  baseBandwidth: number,
): LinkFaults {
  const size = n * n;
  const cut = new Uint8Array(size);
  const keep = new Float64Array(size).fill(1);
  const extra = new Float64Array(size);
  const bandwidth = new Float64Array(size).fill(baseBandwidth);
  const slow = new Float64Array(size).fill(1);
  const forLinks = (from: Nodes | null, to: Nodes | null, apply: (link: number) => void): void => {
    const srcs = mask(from, n, indexOf);
    const dsts = mask(to, n, indexOf);
    for (let s = 0; s < n; s++) {
      if (srcs[s] === 0) continue;
      for (let d = 0; d < n; d++) {
        if (d !== s && dsts[d] !== 0) apply(s * n + d);
      }
    }
  };

  for (const rule of rules) {
    switch (rule.kind) {
      case "partition": {
        const group = new Int32Array(n).fill(-1);
        rule.groups.forEach((names, g) => {
          for (const name of names) group[indexOf(name)] = g;
        });
        for (let s = 0; s < n; s++) {
          if (group[s] < 0) continue;
          for (let d = 0; d < n; d++) {
            if (group[d] >= 0 && group[d] !== group[s]) cut[s * n + d] = 1;
          }
        }
        break;
      }
      case "partition-one-way":
        forLinks(rule.from, rule.to, (link) => (cut[link] = 1));
        break;
      case "loss":
        forLinks(rule.from, rule.to, (link) => (keep[link] *= 1 - rule.rate));
        break;
      case "delay":
        forLinks(rule.from, rule.to, (link) => (extra[link] += rule.extraUs));
        break;
      case "bandwidth":
        forLinks(rule.from, rule.to, (link) => {
          if (rule.bytesPerSec < bandwidth[link]) bandwidth[link] = rule.bytesPerSec;
        });
        break;
      case "slow-node": {
        const node = indexOf(rule.node);
        for (let other = 0; other < n; other++) {
          if (other === node) continue;
          slow[node * n + other] *= rule.factor;
          slow[other * n + node] *= rule.factor;
        }
        break;
      }
    }
  }

  const loss = new Float64Array(size);
  for (let link = 0; link < size; link++) loss[link] = 1 - keep[link];
  return { cut, lossRate: loss, extraDelay: extra, bandwidthCap: bandwidth, slowFactor: slow };
}

/** 1 for each selected node (null: every node). */
function mask(names: Nodes | null, n: number, indexOf: (name: string) => number): Uint8Array {
  const mask = new Uint8Array(n);
  if (names === null) mask.fill(1);
  else for (const name of names) mask[indexOf(name)] = 1;
  return mask;
}

export function checkBandwidth(bytesPerSec: number): void {
  assert(
    bytesPerSec > 0 && (Number.isFinite(bytesPerSec) || bytesPerSec === Infinity),
    `bandwidth must be > 0 bytes/s, got ${bytesPerSec}`,
  );
}
