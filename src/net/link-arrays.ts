/**
 * Per-link state lives in flat arrays indexed `src * n + dst` (no object per link). When hosts are added the
 * arrays are re-laid out from old×old to n×n; links to and from new hosts keep the fresh array's initial value.
 */

/** Copies `from` (old×old links) into `to` (n×n links) and returns `to`. */
export function relayLinks<A extends { [index: number]: unknown }>(from: A, to: A, old: number, n: number): A {
  for (let s = 0; s < old; s++) for (let d = 0; d < old; d++) to[s * n + d] = from[s * old + d];
  return to;
}
