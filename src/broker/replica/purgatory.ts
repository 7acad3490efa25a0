/**
 * DelayedOperationPurgatory: requests parked until they can complete (a produce waiting for the ISR, a fetch
 * waiting for data) or their timeout passes. Operations are watched by "topic-partition" keys; an event on a
 * partition (append, HW move, leadership change) checks its watchers. Timeouts are timers of the broker process
 * ("replica:<purgatory name>", data = the operation; the group coordinator's purgatories use its own prefix).
 * Simplification: no timing wheel, no purge interval.
 *
 * No Map or Set of parked operations (issue 18): the operations are a list through their own fields. A
 * long-lived Map that keeps taking and dropping entries rehashes into a new table in V8's old generation
 * (OrderedHashTable::Rehash allocates where the old table lives), and the dead tables it leaves still point at
 * every entry they held until the next full GC, so each scavenge copied every parked DelayedProduce — and its
 * request and batch — although each lives a few simulated milliseconds (docs/performance.md, "What survived the scavenges").
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
  /** In its purgatory's list of parked operations (from tryCompleteElseWatch's watch until remove). */
  parked = false;
  /** Its neighbours in that list, in the order parked (null at the ends, and once removed). */
  parkedPrev: DelayedOperation | null = null;
  parkedNext: DelayedOperation | null = null;

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
  /** The parked operations, oldest first (a list through DelayedOperation.parkedPrev / parkedNext). */
  private parkedHead: DelayedOperation | null = null;
  private parkedTail: DelayedOperation | null = null;
  private parkedCount = 0;
  /**
   * Per key, its watchers in the order they were added (Kafka's Watchers queue). Arrays, not Sets: a key has one
   * or two watchers (a parked produce, each follower's parked fetch), and a fetch session of thousands of
   * partitions adds and removes itself on each of them per fetch. With `keepsEmptyLists` a key's list stays
   * once empty (Kafka drops empty Watchers): for keys of a bounded set watched again and again (partitions), as
   * a list added and deleted per parked operation makes this long-lived Map rehash every few dozen produces, each
   * dead table pinning the parked operations it pointed at through the next scavenges (docs/performance.md, "What
   * survived the scavenges"). Without it (keys that keep changing: group members) an empty list is dropped. The
   * lists hold no operation once it is removed.
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
    /** Keep a key's watcher list once empty (keys from a bounded set, watched again and again: see `watchers`). */
    private readonly keepsEmptyLists = false,
  ) {
    this.timerTag = `${timerPrefix}${name}`;
  }

  get size(): number {
    return this.parkedCount;
  }

  /** DelayedOperationPurgatory.tryCompleteElseWatch. */
  tryCompleteElseWatch(operation: T, timeoutMs: number): void {
    assert(operation.id === 0, "an operation enters a purgatory once");
    if (operation.tryComplete()) return;
    operation.id = this.nextId++;
    operation.purgatory = this as unknown as Purgatory<DelayedOperation>;
    operation.parked = true;
    operation.parkedPrev = this.parkedTail;
    if (this.parkedTail === null) this.parkedHead = operation;
    else this.parkedTail.parkedNext = operation;
    this.parkedTail = operation;
    this.parkedCount++;
    const keys = operation.keys;
    const lists = new Array<T[]>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      let list = this.watchers.get(keys[i]);
      if (list === undefined) this.watchers.set(keys[i], (list = []));
      if (!list.includes(operation)) list.push(operation);
      lists[i] = list;
    }
    operation.watchLists = lists;
    operation.timer = this.services.context.setTimer(ms(Math.max(0, timeoutMs)), this.timerTag, operation);
    // Something may have changed between the first check and the watch (Kafka checks twice too).
    if (operation.checksAgainWhenWatched) operation.tryComplete();
  }

  /** checkAndComplete: tries every operation watching `key`; returns how many completed. */
  checkAndComplete(key: string): number {
    // Every follower fetch asks for each of its partitions: an empty purgatory answers without a lookup (only
    // parked operations are in the lists).
    if (this.parkedCount === 0) return 0;
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
    const operation = data as T;
    if (!operation.parked) return;
    operation.timer = null;
    operation.expired = true;
    operation.forceComplete();
  }

  remove(operation: DelayedOperation): void {
    if (!operation.parked) return;
    operation.parked = false;
    const prev = operation.parkedPrev;
    const next = operation.parkedNext;
    if (prev === null) this.parkedHead = next;
    else prev.parkedNext = next;
    if (next === null) this.parkedTail = prev;
    else next.parkedPrev = prev;
    operation.parkedPrev = null;
    operation.parkedNext = null;
    this.parkedCount--;
    if (operation.timer !== null) this.services.context.cancelTimer(operation.timer);
    operation.timer = null;
    const keys = operation.keys;
    const lists = operation.watchLists;
    operation.watchLists = null;
    if (lists === null) return;
    // A list holding the operation is the key's current one (an empty one stays only with keepsEmptyLists).
    for (let i = 0; i < keys.length; i++) {
      const list = lists[i];
      const at = list.indexOf(operation);
      if (at < 0) continue;
      // In place (splice would make an array of the removed one per call): the watchers after it move up, and
      // pop() clears the last slot, so the list keeps no reference to a completed operation.
      for (let j = at + 1; j < list.length; j++) list[j - 1] = list[j];
      list.pop();
      if (list.length === 0 && !this.keepsEmptyLists) this.watchers.delete(keys[i]);
    }
  }

  /** Drops every operation without answering (shutdown). */
  shutdown(): void {
    while (this.parkedHead !== null) {
      const operation = this.parkedHead;
      operation.completed = true;
      this.remove(operation);
    }
  }
}
