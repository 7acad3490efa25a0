/**
 * A partition log's flushing (LocalLog.flush / markFlushed, and the `flush.messages` flush that UnifiedLog.append
 * runs before it returns): fsync the segments below an offset, then move the recovery point. Simplification:
 * Kafka's fsync returns inside the call, so an append's flush holds the appender (fetcher thread or request
 * handler) under the log's lock; here an fsync returns as an event later, so the appender waits for it with
 * `whenAppendsFlushed`, and the flushes of two appends to one log may run at once (and return in any order).
 */

import type { DiskError } from "../../disk/disk.ts";
import { assert } from "../../sim/assert.ts";
import { nowMs } from "./context.ts";
import type { Log } from "./log.ts";

/** The end of the append flushes waited for: KAFKA_STORAGE_ERROR when one failed (the log dir is then offline). */
export type FlushCallback = (error: "KAFKA_STORAGE_ERROR" | null) => void;

/** Who waits for append flushes: those numbered (after, upTo], or (whole log) until none runs. */
interface AppendFlushWaiter {
  readonly callback: FlushCallback;
  /** null: the whole log, until no append flush runs. */
  readonly after: number | null;
  readonly upTo: number;
  failed: boolean;
}

export class LogFlushes {
  /** The highest offset a flush in flight will make durable. */
  requestedUpTo: number;
  /** Bumped by every truncation: a flush that started before one must not move the recovery point. */
  private truncations = 0;
  /** Flushes started by appends so far; the n-th is numbered n. */
  private appendFlushesStarted = 0;
  /** The numbers of the append flushes still running (in Kafka, those appends have not returned yet). */
  private readonly appendFlushesRunning = new Set<number>();
  private waiters: AppendFlushWaiter[] = [];

  constructor(private readonly log: Log) {
    this.requestedUpTo = log.recoveryPoint;
  }

  get appendFlushing(): boolean {
    return this.appendFlushesRunning.size > 0;
  }

  get appendFlushCount(): number {
    return this.appendFlushesStarted;
  }

  /** A truncation to `offset`: flushes in flight no longer move the recovery point. */
  onTruncate(offset: number): void {
    this.truncations++;
    this.requestedUpTo = Math.min(this.requestedUpTo, offset);
  }

  /**
   * fsyncs the segments holding offsets [recovery point, upTo) and, once all are durable (and no truncation
   * intervened), moves the recovery point to `upTo`. Returns whether fsyncs were started. `byAppend`: the
   * flush.messages flush of an append, which its waiters (whenAppendsFlushed) wait for.
   */
  flush(upTo: number, byAppend: boolean): boolean {
    const log = this.log;
    if (log.offline || log.closed || upTo <= log.recoveryPoint) return false;
    const segments = log.segments;
    const first = Math.max(0, log.floorSegmentIndex(log.recoveryPoint));
    let pending = 0;
    while (first + pending < segments.length && segments[first + pending].baseOffset < upTo) pending++;
    if (upTo > this.requestedUpTo) this.requestedUpTo = upTo;
    if (pending === 0) {
      // Nothing below `upTo` is in a segment (the log starts above it): durable as it is.
      this.markFlushed(upTo);
      return false;
    }
    const truncations = this.truncations;
    const number = byAppend ? ++this.appendFlushesStarted : 0;
    if (byAppend) this.appendFlushesRunning.add(number);
    let failed = false;
    const returned = (error: DiskError | null): void => {
      if (error !== null && !failed) {
        failed = true;
        log.fail("flush", error);
      }
      if (--pending > 0) return;
      if (!failed && !log.closed && !log.offline && this.truncations === truncations) this.markFlushed(upTo);
      // Reported even when the log was closed meanwhile.
      if (byAppend) this.onAppendFlushReturned(number, failed);
    };
    for (let i = first, end = first + pending; i < end; i++) segments[i].flush(log.context, returned);
    return true;
  }

  /** Log.whenAppendsFlushed: waits for the append flushes numbered (after, now], or (after null) for none to run. */
  whenAppendsFlushed(callback: FlushCallback, after: number | null): void {
    const waiter: AppendFlushWaiter = { callback, after, upTo: this.appendFlushesStarted, failed: false };
    if (this.isDone(waiter)) {
      callback(null);
      return;
    }
    if (!this.waiters.some((w) => w.callback === callback)) this.waiters.push(waiter);
  }

  private isDone(waiter: AppendFlushWaiter): boolean {
    if (waiter.after === null) return this.appendFlushesRunning.size === 0;
    for (const number of this.appendFlushesRunning) if (number > waiter.after && number <= waiter.upTo) return false;
    return true;
  }

  /** The waiters now done run: those of the whole log first, then the appenders', each in the order they came. */
  private onAppendFlushReturned(number: number, failed: boolean): void {
    assert(this.appendFlushesRunning.delete(number), `${this.log.topicPartition}: an append's flush returned twice`);
    if (this.waiters.length === 0) return;
    const done: AppendFlushWaiter[] = [];
    const waiting: AppendFlushWaiter[] = [];
    for (const waiter of this.waiters) {
      if (failed && (waiter.after === null || (number > waiter.after && number <= waiter.upTo))) waiter.failed = true;
      (this.isDone(waiter) ? done : waiting).push(waiter);
    }
    if (done.length === 0) return;
    this.waiters = waiting;
    for (const waiter of done) if (waiter.after === null) waiter.callback(waiter.failed ? "KAFKA_STORAGE_ERROR" : null);
    for (const waiter of done) if (waiter.after !== null) waiter.callback(waiter.failed ? "KAFKA_STORAGE_ERROR" : null);
  }

  /** LocalLog.markFlushed: the recovery point moves up to `upTo` (never past the log end). */
  private markFlushed(upTo: number): void {
    const log = this.log;
    if (upTo <= log.recoveryPoint) return;
    log.recoveryPoint = Math.min(upTo, log.logEndOffset);
    log.lastFlushTimeMs = nowMs(log.context);
  }
}
