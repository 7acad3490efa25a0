/**
 * DelayedOperationPurgatory: requests parked until they can complete (a produce waiting for the ISR, a fetch
 * waiting for data) or their timeout passes. Operations are watched by "topic-partition" keys; an event on a
 * partition (append, HW move, leadership change) checks its watchers. Timeouts are timers of the broker process
 * ("replica:<purgatory name>", data = operation id; the group coordinator's purgatories use its own prefix).
 * Simplification: no timing wheel, no purge interval.
 */

import { assert } from "../../sim/assert.ts";
import type { TimerId } from "../../sim/kernel.ts";
import { ms } from "../../sim/time.ts";
import type { ProcessContext } from "../../sim/host.ts";

/** What a purgatory needs of its broker: the timers of the process context. */
export interface PurgatoryTimers {
  readonly context: Pick<ProcessContext, "setTimer" | "cancelTimer">;
}

export abstract class DelayedOperation {
  id = 0;
  completed = false;
  /** Set when the timeout fired (onComplete then reports what is still pending as timed out). */
  expired = false;
  timer: TimerId | null = null;
  purgatory: Purgatory<DelayedOperation> | null = null;
  /** The watcher list of each of `keys` it was added to: remove() reaches them without a lookup per key. */
  watchLists: DelayedOperation[][] | null = null;

  abstract readonly keys: readonly string[];
  /**
   * Whether tryCompleteElseWatch checks again once watched (Kafka does: another thread may have changed the
   * state between the first check and the watch). A single-threaded simulator changes nothing in between, so an
   * operation whose check reads state without changing any answers false again and may skip it.
   */
  readonly checksAgainWhenWatched: boolean = true;
  /** Completes (forceComplete) when it can; returns whether it completed. */
  abstract tryComplete(): boolean;
  /** Sends the response. Runs exactly once. */
  abstract onComplete(): void;

  forceComplete(): boolean {
    if (this.completed) return false;
    this.completed = true;
    this.purgatory?.remove(this);
    this.onComplete();
    return true;
  }
}

export class Purgatory<T extends DelayedOperation> {
  private nextId = 1;
  private readonly operations = new Map<number, T>();
  /**
   * Per key, its watchers in the order they were added (Kafka's Watchers queue). Arrays, not Sets: a key has one
   * or two watchers (a parked produce, each follower's parked fetch), and a fetch session of thousands of
   * partitions adds and removes itself on each of them per fetch.
   */
  private readonly watchers = new Map<string, T[]>();
  /**
   * checkAndComplete's snapshots of a key's watchers, stacked: a completion may re-enter checkAndComplete
   * (a coordinator's callback appends again), which pushes above and pops back to where it started.
   */
  private readonly checking: T[] = [];
  readonly timerTag: string;

  constructor(
    private readonly services: PurgatoryTimers,
    name: string,
    timerPrefix = "replica:",
  ) {
    this.timerTag = `${timerPrefix}${name}`;
  }

  get size(): number {
    return this.operations.size;
  }

  /** DelayedOperationPurgatory.tryCompleteElseWatch. */
  tryCompleteElseWatch(operation: T, timeoutMs: number): void {
    assert(operation.id === 0, "an operation enters a purgatory once");
    if (operation.tryComplete()) return;
    operation.id = this.nextId++;
    operation.purgatory = this as unknown as Purgatory<DelayedOperation>;
    this.operations.set(operation.id, operation);
    const keys = operation.keys;
    const lists = new Array<T[]>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      let list = this.watchers.get(keys[i]);
      if (list === undefined) this.watchers.set(keys[i], (list = [operation]));
      else if (!list.includes(operation)) list.push(operation);
      lists[i] = list;
    }
    operation.watchLists = lists;
    operation.timer = this.services.context.setTimer(ms(Math.max(0, timeoutMs)), this.timerTag, operation.id);
    // Something may have changed between the first check and the watch (Kafka checks twice too).
    if (operation.checksAgainWhenWatched) operation.tryComplete();
  }

  /** checkAndComplete: tries every operation watching `key`; returns how many completed. */
  checkAndComplete(key: string): number {
    // Every follower fetch asks for each of its partitions: an empty purgatory answers without a lookup.
    if (this.watchers.size === 0) return 0;
    const list = this.watchers.get(key);
    if (list === undefined) return 0;
    const checking = this.checking;
    const start = checking.length;
    for (let i = 0; i < list.length; i++) checking.push(list[i]);
    const end = checking.length;
    let completed = 0;
    for (let i = start; i < end; i++) {
      const operation = checking[i];
      if (!operation.completed && operation.tryComplete()) completed++;
    }
    checking.length = start;
    return completed;
  }

  /** A timeout timer fired. */
  onTimer(data: unknown): void {
    const operation = this.operations.get(data as number);
    if (operation === undefined) return;
    operation.timer = null;
    operation.expired = true;
    operation.forceComplete();
  }

  remove(operation: DelayedOperation): void {
    if (!this.operations.delete(operation.id)) return;
    if (operation.timer !== null) this.services.context.cancelTimer(operation.timer);
    operation.timer = null;
    const keys = operation.keys;
    const lists = operation.watchLists;
    operation.watchLists = null;
    if (lists === null) return;
    // A list holding the operation is the key's current one: it leaves the map only once empty.
    for (let i = 0; i < keys.length; i++) {
      const list = lists[i];
      const at = list.indexOf(operation);
      if (at < 0) continue;
      list.splice(at, 1);
      // Dropped when empty, as Kafka's Watchers are: an empty list kept in the old generation would hold each
      // next operation there (measured with Sets: ~6 MB more promoted in a 60 s standard run).
      if (list.length === 0) this.watchers.delete(keys[i]);
    }
  }

  /** Drops every operation without answering (shutdown). */
  shutdown(): void {
    for (const operation of [...this.operations.values()]) {
      operation.completed = true;
      this.remove(operation);
    }
  }
}
