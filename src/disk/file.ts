/**
 * One file of a virtual disk, seen twice: the page cache (`chunks`, what reads see) and the durable view
 * (what survives a power loss). The durable view is not a copy: it is chunks[0..syncedLen) followed by
 * `durableExtra`, the durable chunks the cache no longer holds because the file was truncated below
 * syncedLen and nothing has been made durable since. Operating-system writeback is applied lazily by the
 * disk (materializeWriteback) before anything that depends on the durable view.
 */

import { assert } from "../sim/assert.ts";
import type { Rng } from "../sim/rng.ts";
import type { Micros } from "../sim/time.ts";
import { damaged, type Chunk } from "./chunk.ts";

const NO_CHUNKS: readonly Chunk[] = Object.freeze([]);

/** An fsync in flight on a file: `count` chunks to make durable, clamped by later truncations. */
export interface FsyncTarget {
  count: number;
}

export interface PowerLossOutcome {
  /** Unsynced chunks that reached the medium anyway (a prefix of the unsynced suffix). */
  keptChunks: number;
  /** Unsynced chunks lost. */
  lostChunks: number;
  /** Whether the last kept chunk is half-written. */
  torn: boolean;
  /** Durable chunks brought back because a truncation had not been made durable. */
  restoredChunks: number;
}

export class DiskFile {
  /** The page-cache view, in write order; writtenAtUs is non-decreasing. */
  chunks: Chunk[] = [];
  /** Sum of sizeBytes over chunks. */
  bytes = 0;
  /** chunks[0..syncedLen) are durable. */
  syncedLen = 0;
  /** Sum of sizeBytes over chunks[0..syncedLen). */
  syncedBytes = 0;
  /** Durable chunks beyond syncedLen that a not-yet-durable truncation removed from the cache. */
  durableExtra: readonly Chunk[] = NO_CHUNKS;
  /** fsyncs in flight, so that a truncation can clamp what they will make durable. */
  readonly inFlight: FsyncTarget[] = [];

  append(chunk: Chunk): void {
    this.chunks.push(chunk);
    this.bytes += chunk.sizeBytes;
  }

  /**
   * Applies writeback: every chunk written at or before `cutoffUs` has been written back. writtenAtUs is
   * non-decreasing, so those chunks form a prefix; writing any of them back also persists the file's size
   * (an earlier truncation), so durableExtra goes.
   */
  materializeWriteback(cutoffUs: Micros): void {
    const chunks = this.chunks;
    let synced = this.syncedLen;
    let syncedBytes = this.syncedBytes;
    while (synced < chunks.length && chunks[synced].writtenAtUs <= cutoffUs) {
      syncedBytes += chunks[synced].sizeBytes;
      synced++;
    }
    if (synced === this.syncedLen) return;
    this.syncedLen = synced;
    this.syncedBytes = syncedBytes;
    this.durableExtra = NO_CHUNKS;
  }

  /** An fsync completed: chunks[0..count) are durable, and so is the file's current size. */
  makeDurable(count: number): void {
    assert(count >= 0 && count <= this.chunks.length, "fsync count beyond the end of the file");
    for (let i = this.syncedLen; i < count; i++) this.syncedBytes += this.chunks[i].sizeBytes;
    if (count > this.syncedLen) this.syncedLen = count;
    this.durableExtra = NO_CHUNKS;
  }

  /** Drops chunks[count..) from the cache; returns the bytes freed. Call materializeWriteback first. */
  truncate(count: number): number {
    const chunks = this.chunks;
    assert(Number.isInteger(count) && count >= 0, "truncate to a negative or fractional chunk count");
    assert(count <= chunks.length, "truncate beyond the end of the file");
    if (count === chunks.length) return 0;
    if (count < this.syncedLen) {
      // The truncation is not durable yet: the durable view keeps the chunks it cuts off.
      this.durableExtra = chunks.slice(count, this.syncedLen).concat(this.durableExtra);
      this.syncedLen = count;
    }
    let freed = 0;
    for (let i = count; i < chunks.length; i++) freed += chunks[i].sizeBytes;
    chunks.length = count;
    this.bytes -= freed;
    if (this.syncedLen === count) this.syncedBytes = this.bytes;
    for (const target of this.inFlight) if (target.count > count) target.count = count;
    return freed;
  }

  durableView(): Chunk[] {
    const prefix = this.chunks.slice(0, this.syncedLen);
    return this.durableExtra.length === 0 ? prefix : prefix.concat(this.durableExtra);
  }

  /**
   * The machine lost power: the file keeps its durable view plus, when the durable view is a prefix of the
   * cache, a random prefix of the unsynced chunks whose last chunk may be torn. Returns null when nothing
   * changed. Call materializeWriteback first.
   */
  powerLoss(rng: Rng): PowerLossOutcome | null {
    const chunks = this.chunks;
    const unsynced = chunks.length - this.syncedLen;
    const extra = this.durableExtra;
    this.inFlight.length = 0;
    if (extra.length > 0) {
      chunks.length = this.syncedLen;
      let bytes = this.syncedBytes;
      for (const chunk of extra) {
        chunks.push(chunk);
        bytes += chunk.sizeBytes;
      }
      this.resetSynced(bytes);
      return { keptChunks: 0, lostChunks: unsynced, torn: false, restoredChunks: extra.length };
    }
    if (unsynced === 0) return null;
    const kept = rng.int(0, unsynced);
    const torn = kept > 0 && rng.chance(0.5);
    chunks.length = this.syncedLen + kept;
    if (torn) {
      const last = chunks[chunks.length - 1];
      chunks[chunks.length - 1] = damaged(last, "torn", Math.floor(last.sizeBytes / 2));
    }
    let bytes = this.syncedBytes;
    for (let i = this.syncedLen; i < chunks.length; i++) bytes += chunks[i].sizeBytes;
    this.resetSynced(bytes);
    return { keptChunks: kept, lostChunks: unsynced - kept, torn, restoredChunks: 0 };
  }

  private resetSynced(bytes: number): void {
    this.bytes = bytes;
    this.syncedLen = this.chunks.length;
    this.syncedBytes = bytes;
    this.durableExtra = NO_CHUNKS;
  }
}
