/**
 * One file of a virtual disk, seen twice: the page cache (what reads see) and the durable view (what survives a
 * power loss). The durable view is not a copy: it is chunks[0..syncedLen) followed by the chunks of the pending
 * truncations, the durable chunks the cache no longer holds because the file was truncated below syncedLen and
 * the file system's journal has not committed that truncation yet.
 * Operating-system writeback and journal commits are applied lazily by the disk (materializeWriteback,
 * materializeJournal) before anything that depends on the durable view.
 * The page cache is stored by column (data in an array; size, write time and damage in typed arrays, column.ts),
 * not as one Chunk object per write: a broker's segment files hold every record batch for the whole run, and
 * per-write objects made every young-generation collection copy them. Chunk objects are built only for a
 * reader that asks (read(), the durable view).
 */

import { assert } from "../sim/assert.ts";
import type { Rng } from "../sim/rng.ts";
import type { Micros } from "../sim/time.ts";
import type { Chunk, Damage } from "./chunk.ts";
import { Float64Column, Uint8Column } from "../sim/column.ts";

/**
 * A truncation below the synced length that the journal has not committed: the durable chunks it cut off.
 * `seq` is the disk's truncation sequence number (an fsync issued after it commits it), `atUs` its time
 * (the journal's periodic commit after it commits it).
 */
export interface PendingTruncation {
  readonly seq: number;
  readonly atUs: Micros;
  readonly chunks: readonly Chunk[];
}

const NO_TRUNCATIONS: readonly PendingTruncation[] = Object.freeze([]);

/** Damage codes of the damage column. */
const DAMAGES: readonly Damage[] = ["none", "torn", "flipped"];
const NONE = 0;
const TORN = 1;
const FLIPPED = 2;

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
  /** Per chunk of the page-cache view, in write order: what was written (e.g. a record batch). */
  private readonly data: unknown[] = [];
  /** Per chunk: its size in bytes (halved when a power loss tore it). */
  private readonly sizes = new Float64Column();
  /** Per chunk: the virtual time of its write; non-decreasing. */
  private readonly writtenAt = new Float64Column();
  /** Per chunk: what a CRC check over its bytes would find, as an index into DAMAGES. */
  private readonly damages = new Uint8Column();
  /** Sum of sizeBytes over the chunks. */
  bytes = 0;
  /** chunks[0..syncedLen) are durable. */
  syncedLen = 0;
  /** Sum of sizeBytes over chunks[0..syncedLen). */
  syncedBytes = 0;
  /**
   * Truncations not yet durable, newest first: the durable view is chunks[0..syncedLen) followed by their
   * chunks in this order. A journal commit covers a truncation and every older one, so they go oldest first.
   */
  pendingTruncations: readonly PendingTruncation[] = NO_TRUNCATIONS;
  /** fsyncs in flight, so that a truncation can clamp what they will make durable. */
  readonly inFlight: FsyncTarget[] = [];

  /** Chunks in the page-cache view. */
  get count(): number {
    return this.data.length;
  }

  dataAt(index: number): unknown {
    return this.data[index];
  }

  sizeAt(index: number): number {
    return this.sizes.at(index);
  }

  damageAt(index: number): Damage {
    return DAMAGES[this.damages.at(index)];
  }

  writtenAtUsAt(index: number): Micros {
    return this.writtenAt.at(index);
  }

  /** Chunk `index` as an object (a copy: for readers that want one). */
  chunk(index: number): Chunk {
    return { data: this.data[index], sizeBytes: this.sizes.at(index), writtenAtUs: this.writtenAt.at(index), damage: this.damageAt(index) };
  }

  /** Chunks [from, to) as objects. */
  chunks(from = 0, to = this.data.length): Chunk[] {
    const chunks = new Array<Chunk>(to - from);
    for (let i = from; i < to; i++) chunks[i - from] = this.chunk(i);
    return chunks;
  }

  append(data: unknown, sizeBytes: number, writtenAtUs: Micros, damage: Damage = "none"): void {
    this.data.push(data);
    this.sizes.push(sizeBytes);
    this.writtenAt.push(writtenAtUs);
    // Every write of every broker and server comes here: the code without a search of DAMAGES.
    this.damages.push(damage === "none" ? NONE : damage === "torn" ? TORN : FLIPPED);
    this.bytes += sizeBytes;
  }

  /** A silent bit-flip of chunk `index` (in the cache, and on the medium when synced). */
  flip(index: number): void {
    this.damages.set(index, FLIPPED);
  }

  /**
   * Applies writeback: every chunk written at or before `cutoffUs` has been written back. writtenAtUs is
   * non-decreasing, so those chunks form a prefix; writing any of them back also persists the file's size
   * (an earlier truncation), so the pending truncations go.
   */
  materializeWriteback(cutoffUs: Micros): void {
    const count = this.data.length;
    let synced = this.syncedLen;
    let syncedBytes = this.syncedBytes;
    while (synced < count && this.writtenAt.at(synced) <= cutoffUs) {
      syncedBytes += this.sizes.at(synced);
      synced++;
    }
    if (synced === this.syncedLen) return;
    this.syncedLen = synced;
    this.syncedBytes = syncedBytes;
    this.pendingTruncations = NO_TRUNCATIONS;
  }

  /**
   * Applies journal commits: a pending truncation is durable once an fsync issued after it completed
   * (`seq` at most `committedSeq`) or the journal's periodic commit ran after it (`atUs` before
   * `commitCutoffUs`, the last commit's time).
   */
  materializeJournal(committedSeq: number, commitCutoffUs: Micros): void {
    const pending = this.pendingTruncations;
    let keep = pending.length;
    while (keep > 0 && (pending[keep - 1].seq <= committedSeq || pending[keep - 1].atUs < commitCutoffUs)) keep--;
    if (keep === pending.length) return;
    this.pendingTruncations = keep === 0 ? NO_TRUNCATIONS : pending.slice(0, keep);
  }

  /** Whether a truncation of this file is waiting for the journal. */
  get hasPendingTruncation(): boolean {
    return this.pendingTruncations.length > 0;
  }

  /** An fsync completed: chunks[0..count) are durable, and so is the file's current size. */
  makeDurable(count: number): void {
    assert(count >= 0 && count <= this.data.length, "fsync count beyond the end of the file");
    for (let i = this.syncedLen; i < count; i++) this.syncedBytes += this.sizes.at(i);
    if (count > this.syncedLen) this.syncedLen = count;
    this.pendingTruncations = NO_TRUNCATIONS;
  }

  /**
   * Drops chunks[count..) from the cache; returns the bytes freed. A cut below the synced length waits for
   * the journal as truncation `seq` at `atUs`. Call materializeWriteback and materializeJournal first.
   */
  truncate(count: number, seq: number, atUs: Micros): number {
    const length = this.data.length;
    assert(Number.isInteger(count) && count >= 0, "truncate to a negative or fractional chunk count");
    assert(count <= length, "truncate beyond the end of the file");
    if (count === length) return 0;
    if (count < this.syncedLen) {
      // The truncation is not durable yet: the durable view keeps the chunks it cuts off.
      const cut: PendingTruncation = { seq, atUs, chunks: this.chunks(count, this.syncedLen) };
      this.pendingTruncations = [cut, ...this.pendingTruncations];
      this.syncedLen = count;
    }
    let freed = 0;
    for (let i = count; i < length; i++) freed += this.sizes.at(i);
    this.setLength(count);
    this.bytes -= freed;
    if (this.syncedLen === count) this.syncedBytes = this.bytes;
    for (const target of this.inFlight) if (target.count > count) target.count = count;
    return freed;
  }

  durableView(): Chunk[] {
    const view = this.chunks(0, this.syncedLen);
    for (const truncation of this.pendingTruncations) for (const chunk of truncation.chunks) view.push(chunk);
    return view;
  }

  /**
   * The machine lost power: the file keeps its durable view plus, when the durable view is a prefix of the
   * cache, a random prefix of the unsynced chunks whose last chunk may be torn (not when `tear` is false: a
   * kernel crash, the device kept power). Returns null when nothing
   * changed. Call materializeWriteback and materializeJournal first.
   */
  powerLoss(rng: Rng, tear = true): PowerLossOutcome | null {
    const unsynced = this.data.length - this.syncedLen;
    this.inFlight.length = 0;
    if (this.pendingTruncations.length > 0) {
      this.setLength(this.syncedLen);
      this.bytes = this.syncedBytes;
      let restored = 0;
      for (const truncation of this.pendingTruncations) {
        for (const chunk of truncation.chunks) this.append(chunk.data, chunk.sizeBytes, chunk.writtenAtUs, chunk.damage);
        restored += truncation.chunks.length;
      }
      this.resetSynced(this.bytes);
      return { keptChunks: 0, lostChunks: unsynced, torn: false, restoredChunks: restored };
    }
    if (unsynced === 0) return null;
    const kept = rng.int(0, unsynced);
    // The draw is made either way, so a machine crash keeps the same prefix a power loss would have kept.
    const torn = kept > 0 && rng.chance(0.5) && tear;
    const length = this.syncedLen + kept;
    this.setLength(length);
    if (torn) {
      // Half-written: the chunk keeps half its bytes and fails its CRC.
      this.damages.set(length - 1, TORN);
      this.sizes.set(length - 1, Math.floor(this.sizes.at(length - 1) / 2));
    }
    let bytes = this.syncedBytes;
    for (let i = this.syncedLen; i < length; i++) bytes += this.sizes.at(i);
    this.resetSynced(bytes);
    return { keptChunks: kept, lostChunks: unsynced - kept, torn, restoredChunks: 0 };
  }

  private setLength(count: number): void {
    this.data.length = count;
    this.sizes.truncate(count);
    this.writtenAt.truncate(count);
    this.damages.truncate(count);
  }

  private resetSynced(bytes: number): void {
    this.bytes = bytes;
    this.syncedLen = this.data.length;
    this.syncedBytes = bytes;
    this.pendingTruncations = NO_TRUNCATIONS;
  }
}
