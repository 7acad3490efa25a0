/**
 * The discrete-event kernel: a virtual clock in integer microseconds and one event queue. Time jumps to
 * the next event; nothing polls. Every run is bounded by an event limit and a time limit and ends with a
 * verdict, never a hang; a model assertion (or any exception) becomes a `model-error` verdict, and a model that
 * dispatches more than `maxEventsPerInstant` events without the clock advancing (a zero-time livelock: a timer
 * re-armed with no delay, a request loop over zero-latency links) ends with a `stalled` verdict naming the events
 * that repeat.
 */

import { EventQueue, type EventTarget, type TimerId } from "./queue.ts";
import { assert } from "./assert.ts";
import type { Micros } from "./time.ts";

export type { EventTarget, TimerId } from "./queue.ts";

export type VerdictReason =
  | "quiescent" // nothing left to do (the clock moves on to untilUs)
  | "time-limit" // reached untilUs with events still pending
  | "event-limit" // dispatched maxEvents
  | "stopped" // someone called stop()
  | "stalled" // maxEventsPerInstant events ran without the clock advancing
  | "wall-limit" // the run's wall-time bound (set by the CLI) was reached
  | "memory-limit" // the run's memory bound (set by the CLI) was reached
  | "model-error"; // a model assertion failed or model code threw

/** Default bound on events dispatched at one virtual instant (far above any legitimate burst). */
export const DEFAULT_MAX_EVENTS_PER_INSTANT = 1_000_000;
/** Events sampled after a stall is detected, to name what repeats. */
const STALL_SAMPLE = 2000;

export interface Verdict {
  reason: VerdictReason;
  /** Events dispatched during this run() call. */
  events: number;
  /** Virtual time at the end. */
  now: Micros;
  /** Why stop() was called, for `stopped`. */
  detail?: string;
  /** The exception behind a `model-error`. */
  error?: Error;
}

export interface RunLimits {
  /** Stop before dispatching any event later than this time (the clock is left at untilUs). */
  untilUs: Micros;
  /** Stop after dispatching this many events. */
  maxEvents: number;
  /** End with `stalled` after this many events at one virtual time (default DEFAULT_MAX_EVENTS_PER_INSTANT). */
  maxEventsPerInstant?: number;
}

export class Kernel {
  /** Current virtual time in µs. */
  now: Micros = 0;
  /** Events dispatched since the kernel was created. */
  dispatched = 0;
  readonly queue = new EventQueue();
  private stopDetail: string | null = null;
  /**
   * The zero-time livelock check, run every `checkEvery` events (a power of two) rather than per event: the clock
   * never goes back, so when two checks see the same time every event between them ran at that instant.
   */
  private checkedInstant = -1;
  private eventsAtCheckedInstant = 0;

  /** Schedules an event at an absolute time (never in the past). */
  at(time: Micros, target: EventTarget, kind: number, a?: unknown, b?: unknown): TimerId {
    assert(time >= this.now, "event scheduled in the past");
    assert(Number.isInteger(time), "event time is not an integer number of microseconds");
    return this.queue.push(time, target, kind, a, b);
  }

  /** Schedules an event `delay` µs from now. */
  after(delay: Micros, target: EventTarget, kind: number, a?: unknown, b?: unknown): TimerId {
    assert(delay >= 0 && Number.isInteger(delay), "delay is not a non-negative integer");
    return this.queue.push(this.now + delay, target, kind, a, b);
  }

  cancel(id: TimerId): boolean {
    return this.queue.cancel(id);
  }

  /**
   * cancel(id) then at(time, …) keeping the handle `id`, when the event is pending and not moved earlier: true
   * (EventQueue.postpone: the same order among same-time events, no push). Otherwise nothing is done: false.
   */
  postpone(id: TimerId, time: Micros, target: EventTarget, kind: number, a?: unknown, b?: unknown): boolean {
    assert(time >= this.now, "event scheduled in the past");
    assert(Number.isInteger(time), "event time is not an integer number of microseconds");
    return this.queue.postpone(id, time, target, kind, a, b);
  }

  /** The handle of the event being dispatched (a paused host parks a timer under it, so it stays cancellable). */
  currentEventId: TimerId = -1;

  /** Ends the current run() after the event being dispatched. */
  stop(detail: string): void {
    this.stopDetail = detail;
  }

  /** Dispatches events in (time, sequence) order until a limit, quiescence, stop() or a model error. */
  run(limits: RunLimits): Verdict {
    assert(limits.maxEvents >= 0 && limits.untilUs >= this.now, "run limits must not be in the past");
    const queue = this.queue;
    const start = this.dispatched;
    const maxPerInstant = limits.maxEventsPerInstant ?? DEFAULT_MAX_EVENTS_PER_INSTANT;
    // At most 4096 and at most an eighth of the bound: a stall ends within maxPerInstant + 2 × checkEvery events.
    let checkEvery = 4096;
    while (checkEvery > 1 && checkEvery * 8 > maxPerInstant) checkEvery >>= 1;
    const checkMask = checkEvery - 1;
    this.stopDetail = null;
    let reason: VerdictReason;
    try {
      for (;;) {
        if (this.stopDetail !== null) {
          reason = "stopped";
          break;
        }
        if (this.dispatched - start >= limits.maxEvents) {
          reason = "event-limit";
          break;
        }
        const time = queue.peekTime();
        if (time === Infinity) {
          // Nothing can happen before the limit: time still passes up to it.
          if (Number.isFinite(limits.untilUs)) this.now = limits.untilUs;
          reason = "quiescent";
          break;
        }
        if (time > limits.untilUs) {
          this.now = limits.untilUs;
          reason = "time-limit";
          break;
        }
        const slot = queue.pop();
        const target = queue.target[slot]!;
        const kind = queue.kind[slot];
        const a = queue.a[slot];
        const b = queue.b[slot];
        this.currentEventId = queue.idOf(slot);
        queue.release(slot);
        this.now = time;
        if ((++this.dispatched & checkMask) === 0 && this.sameInstant(checkEvery, maxPerInstant)) {
          return this.stall(target, kind, a, b, start, maxPerInstant);
        }
        target.handleEvent(kind, a, b);
      }
    } catch (error) {
      return {
        reason: "model-error",
        events: this.dispatched - start,
        now: this.now,
        error: error instanceof Error ? error : new Error(String(error)),
      };
    }
    const verdict: Verdict = { reason, events: this.dispatched - start, now: this.now };
    if (reason === "stopped") verdict.detail = this.stopDetail!;
    return verdict;
  }

  /** Called every `checkEvery` events: true once at least `maxPerInstant` have run at the current instant. */
  private sameInstant(checkEvery: number, maxPerInstant: number): boolean {
    if (this.now !== this.checkedInstant) {
      this.checkedInstant = this.now;
      this.eventsAtCheckedInstant = 0;
      return false;
    }
    this.eventsAtCheckedInstant += checkEvery;
    return this.eventsAtCheckedInstant >= maxPerInstant;
  }

  /**
   * A zero-time livelock: dispatches up to STALL_SAMPLE more events at this instant to name the ones that repeat
   * (the run is over anyway), then ends with a `stalled` verdict. `target`'s event is the one that crossed the
   * bound (already counted in `dispatched`, not yet run). A target without describeEvent is named by its kind only
   * (class names differ between the CLI and a minified browser bundle).
   */
  private stall(target: EventTarget, kind: number, a: unknown, b: unknown, start: number, maxPerInstant: number): Verdict {
    const counts = new Map<string, number>();
    const note = (t: EventTarget, k: number, x: unknown, y: unknown): void => {
      const name = t.describeEvent?.(k, x, y) ?? `event kind ${k}`;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    };
    let detail: string;
    try {
      note(target, kind, a, b);
      target.handleEvent(kind, a, b);
      const queue = this.queue;
      for (let i = 1; i < STALL_SAMPLE && queue.peekTime() === this.now; i++) {
        const slot = queue.pop();
        const next = queue.target[slot]!;
        const k = queue.kind[slot];
        const x = queue.a[slot];
        const y = queue.b[slot];
        this.currentEventId = queue.idOf(slot);
        queue.release(slot);
        note(next, k, x, y);
        this.dispatched++;
        next.handleEvent(k, x, y);
      }
      const top = [...counts.entries()].sort((p, q) => q[1] - p[1]).slice(0, 3);
      detail = `more than ${maxPerInstant} events at one virtual time without the clock advancing; the ones repeating: ${top.map(([name, n]) => `${name} (${n})`).join(", ")}`;
    } catch (error) {
      detail = `more than ${maxPerInstant} events at one virtual time without the clock advancing (and then: ${error instanceof Error ? error.message : String(error)})`;
    }
    return { reason: "stalled", events: this.dispatched - start, now: this.now, detail };
  }
}
