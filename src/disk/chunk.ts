/**
 * What a virtual disk stores: chunks, one per write. There are no real bytes — a chunk holds the object a
 * model wrote (a Kafka record batch, a ZooKeeper txn, a checkpoint) with the size it would take on disk, and
 * a damage mark standing in for what a CRC check over the real bytes would find.
 */

import type { Micros } from "../sim/time.ts";

/** "torn": half-written by a power loss mid-write; "flipped": a silent bit-flip on the medium. */
export type Damage = "none" | "torn" | "flipped";

/** One write, as a reader sees it (a DiskFile stores its chunks by column and builds these on read). */
export interface Chunk {
  readonly data: unknown;
  readonly sizeBytes: number;
  /** Virtual time of the write; drives the operating system's writeback. */
  readonly writtenAtUs: Micros;
  readonly damage: Damage;
}

/** Errors the disk returns as values (never throws): I/O error, disk full, no such file. */
export type DiskError = "EIO" | "ENOSPC" | "ENOENT";

/** False when reading the chunk would fail its CRC check (torn or flipped). */
export function valid(chunk: Chunk): boolean {
  return chunk.damage === "none";
}
