/**
 * Disk configuration and fault knobs. Latencies are integer microseconds; the writeback defaults are
 * Linux's vm.dirty_expire_centisecs (30 s) and vm.dirty_writeback_centisecs (5 s), the journal commit
 * interval ext4's default `commit=5` (jbd2's j_commit_interval, 5 s).
 */

import type { Micros } from "../sim/time.ts";

export interface DiskConfig {
  /** fsync latency is uniform in [fsyncMinUs, fsyncMaxUs]. */
  fsyncMinUs: Micros;
  fsyncMaxUs: Micros;
  /** Dirty data older than this is written back by the flusher (dirty_expire). */
  writebackUs: Micros;
  /** The flusher wakes up at every multiple of this (dirty_writeback). */
  writebackIntervalUs: Micros;
  /** The journal commits its running transaction (metadata: truncations) at every multiple of this. */
  journalCommitIntervalUs: Micros;
  capacityBytes: number;
}

export const DEFAULT_DISK_CONFIG: Readonly<DiskConfig> = {
  fsyncMinUs: 1_000,
  fsyncMaxUs: 5_000,
  writebackUs: 30_000_000,
  writebackIntervalUs: 5_000_000,
  journalCommitIntervalUs: 5_000_000,
  capacityBytes: Infinity,
};

/** Fault knobs, one plain object; setFaults() merges, clearFaults() resets all. */
export interface DiskFaults {
  /** Added to every fsync issued while set (a slow disk). */
  fsyncExtraUs: Micros;
  /** Every mutating call returns EIO. */
  writeError: boolean;
  /** Every fsync issued while set completes with EIO and makes nothing durable. */
  fsyncError: boolean;
  /** Overrides the configured capacity (fill() sets it to the current use). */
  capacityBytes: number;
}
