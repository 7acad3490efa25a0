/**
 * What the log layer needs from its owning process: the disk, the local clock, the trace, and (for the
 * LogManager's periodic tasks) timers. A broker's ProcessContext<Disk> is one; tests may pass their own.
 * Kafka's errors are values here too: the storage layer's error codes (Errors.java names).
 */

import type { Disk, IoContext } from "../../disk/disk.ts";
import type { TimerId } from "../../sim/kernel.ts";
import type { Micros } from "../../sim/time.ts";
import type { TraceFields } from "../../sim/trace.ts";

export interface LogContext extends IoContext {
  readonly disk: Disk;
  /** True when the trace is consumed; guard event construction with it. */
  readonly tracing: boolean;
  /** The host's local clock in µs (Kafka's time.milliseconds() reads the wall clock, skew included). */
  now(): Micros;
  trace(kind: string, fields?: TraceFields): void;
  /** Whether an event of `kind` needs every field (Trace.wantsAllFields); absent: it does. */
  wantsAllFields?(kind: string): boolean;
}

export interface SchedulingContext extends LogContext {
  setTimer(delayUs: Micros, tag: string, data?: unknown): TimerId;
  cancelTimer(id: TimerId): boolean;
}

/** The log's wall-clock milliseconds. */
export function nowMs(context: LogContext): number {
  return Math.floor(context.now() / 1000);
}

/**
 * Errors of the storage layer as Kafka names them (Errors.java). UNEXPECTED_APPEND_OFFSET is Kafka's
 * UnexpectedAppendOffsetException (a follower append below the log end), which the fetcher handles itself.
 */
export type LogError =
  | "OFFSET_OUT_OF_RANGE"
  | "KAFKA_STORAGE_ERROR"
  | "CORRUPT_MESSAGE"
  | "MESSAGE_TOO_LARGE"
  | "RECORD_LIST_TOO_LARGE"
  | "UNEXPECTED_APPEND_OFFSET";
