/**
 * The named anomalies of DESIGN.md. Checkers are passive observers beside the model: they read the trace
 * and read-only views of node state, and report violations with their evidence.
 */

import type { Micros } from "../sim/time.ts";

export const VIOLATION_NAMES = [
  "lost-write",
  "duplicate-write",
  "reordered-write",
  "divergent-log",
  "hwm-regression",
  "two-leaders",
  "two-controllers",
  "zombie-write",
  "aborted-read",
  "hanging-transaction",
  "lost-commit",
  "double-assignment",
  "skipped-record",
  "zk-ephemeral-leak",
] as const;

export type ViolationName = (typeof VIOLATION_NAMES)[number];

export interface Violation {
  name: ViolationName;
  /** Virtual time (µs) at which it was detected. */
  time: Micros;
  nodes: string[];
  evidence: Record<string, unknown>;
}
