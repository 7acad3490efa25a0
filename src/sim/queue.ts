/**
 * The kernel's event queue: a binary min-heap keyed by (time, insertion sequence), so same-time events run
 * in the order they were scheduled. Keys live in parallel typed arrays and payloads in a slot pool, so
 * scheduling an event allocates nothing once the arrays have grown. Cancellation is lazy: a cancelled
 * slot stays in the heap until it reaches the top (or a compaction sweeps it out when more than half of
 * the heap is dead), which keeps cancel O(1).
 *
 * A pending event can be postponed (postpone): the same as cancelling it and pushing a new one, but the heap entry
 * stays where it is under its old, earlier key and the slot keeps the new key aside (DEFERRED); when the entry
 * reaches the top it is re-sifted under the new key instead of running. The new key's sequence number is drawn at
 * postpone time, as push would, so the order of same-time events is exactly the cancel-and-push order. A timer
 * moved later on every wake-up (the producer's poll timer) then costs no push and leaves no dead entry.
 *
 * A timer handle is `generation * SLOT_LIMIT + slot`: the generation of a slot is bumped whenever the slot
 * is freed, so a stale handle (its event already ran or was cancelled) can never cancel a later event.
 */

import { assert } from "./assert.ts";

/** Whoever handles an event: a host process, the network, a disk. */
export interface EventTarget {
  handleEvent(kind: number, a: unknown, b: unknown): void;
  /** Names an event for diagnostics ("broker-2 timer isr-expiration"); only called off the hot path. */
  describeEvent?(kind: number, a: unknown, b: unknown): string;
}

/** Opaque handle returned by push(); pass it to cancel(). */
export type TimerId = number;

const SLOT_LIMIT = 4_194_304; // 2^22 pending events at most
const GENERATION_LIMIT = 2_147_483_648; // 2^31, so handles stay below 2^53
const INITIAL_CAPACITY = 1024;

const FREE = 0;
const PENDING = 1;
const CANCELLED = 2;
/** Pending under a later key (deferredTime/deferredSeq) than its heap entry's. */
const DEFERRED = 3;

export class EventQueue {
  // Heap, by position: key (time, seq) and the slot holding the payload.
  private heapTime = new Float64Array(INITIAL_CAPACITY);
  private heapSeq = new Float64Array(INITIAL_CAPACITY);
  private heapSlot = new Int32Array(INITIAL_CAPACITY);
  private heapSize = 0;

  // Slot pool, by slot: payload, state and generation.
  readonly target: (EventTarget | null)[] = [];
  kind = new Int32Array(INITIAL_CAPACITY);
  readonly a: unknown[] = [];
  readonly b: unknown[] = [];
  private state = new Uint8Array(INITIAL_CAPACITY);
  private generation = new Float64Array(INITIAL_CAPACITY);
  /** By slot: the time of its heap entry, and for a DEFERRED slot the key it runs under. */
  private slotTime = new Float64Array(INITIAL_CAPACITY);
  private deferredTime = new Float64Array(INITIAL_CAPACITY);
  private deferredSeq = new Float64Array(INITIAL_CAPACITY);
  private slotCapacity = 0;
  // Free slots as a FIFO ring, so generations grow evenly over all slots.
  private freeRing = new Int32Array(INITIAL_CAPACITY);
  private freeHead = 0;
  private freeCount = 0;

  private nextSeq = 0;
  private cancelledCount = 0;

  constructor() {
    this.growSlots(INITIAL_CAPACITY);
  }

  /** Number of live (not cancelled) pending events. */
  get size(): number {
    return this.heapSize - this.cancelledCount;
  }

  /** Total events ever pushed; also the next insertion sequence number. */
  get pushed(): number {
    return this.nextSeq;
  }

  push(time: number, target: EventTarget, kind: number, a: unknown, b: unknown): TimerId {
    if (this.freeCount === 0) this.growSlots(this.slotCapacity * 2);
    const slot = this.freeRing[this.freeHead];
    this.freeHead = (this.freeHead + 1) % this.slotCapacity;
    this.freeCount--;
    this.state[slot] = PENDING;
    this.target[slot] = target;
    this.kind[slot] = kind;
    this.a[slot] = a;
    this.b[slot] = b;
    this.slotTime[slot] = time;

    if (this.heapSize === this.heapTime.length) this.growHeap();
    const seq = this.nextSeq++;
    this.siftUp(this.heapSize++, time, seq, slot);
    return this.generation[slot] * SLOT_LIMIT + slot;
  }

  /**
   * cancel(id) then push(time, target, kind, a, b) keeping the handle `id`, when the event is still pending and
   * `time` is not before its heap entry's: returns true. Otherwise does nothing and returns false (the caller
   * cancels and pushes). The new key's sequence number is drawn now, as push would draw it.
   */
  postpone(id: TimerId, time: number, target: EventTarget, kind: number, a: unknown, b: unknown): boolean {
    const slot = id % SLOT_LIMIT;
    if (slot >= this.slotCapacity || this.generation[slot] !== (id - slot) / SLOT_LIMIT) return false;
    const state = this.state[slot];
    if ((state !== PENDING && state !== DEFERRED) || time < this.slotTime[slot]) return false;
    this.state[slot] = DEFERRED;
    this.deferredTime[slot] = time;
    this.deferredSeq[slot] = this.nextSeq++;
    this.target[slot] = target;
    this.kind[slot] = kind;
    this.a[slot] = a;
    this.b[slot] = b;
    return true;
  }

  /** Cancels a pending event. Returns false when the handle is stale (already ran or cancelled). */
  cancel(id: TimerId): boolean {
    const slot = id % SLOT_LIMIT;
    const generation = (id - slot) / SLOT_LIMIT;
    if (slot >= this.slotCapacity) return false;
    const state = this.state[slot];
    if (this.generation[slot] !== generation || (state !== PENDING && state !== DEFERRED)) return false;
    this.state[slot] = CANCELLED;
    this.target[slot] = null;
    this.a[slot] = undefined;
    this.b[slot] = undefined;
    this.cancelledCount++;
    if (this.cancelledCount > 1024 && this.cancelledCount * 2 > this.heapSize) this.compact();
    return true;
  }

  /** Time of the earliest live event, or Infinity when none is pending. */
  peekTime(): number {
    this.dropCancelledTop();
    return this.heapSize === 0 ? Infinity : this.heapTime[0];
  }

  /**
   * Removes the earliest live event and returns its slot (read target/kind/a/b, then call release(slot)),
   * or -1 when the queue is empty. `poppedTime` holds its time.
   */
  poppedTime = 0;
  pop(): number {
    this.dropCancelledTop();
    if (this.heapSize === 0) return -1;
    const slot = this.heapSlot[0];
    this.poppedTime = this.heapTime[0];
    this.removeTop();
    return slot;
  }

  /** The handle push() returned for a slot (call before release(), which makes it stale). */
  idOf(slot: number): TimerId {
    return this.generation[slot] * SLOT_LIMIT + slot;
  }

  /** Returns a popped slot to the pool; its handle becomes stale. */
  release(slot: number): void {
    this.target[slot] = null;
    this.a[slot] = undefined;
    this.b[slot] = undefined;
    this.freeSlot(slot);
  }

  private freeSlot(slot: number): void {
    this.state[slot] = FREE;
    const generation = this.generation[slot] + 1;
    assert(generation < GENERATION_LIMIT, "event slot generation overflow");
    this.generation[slot] = generation;
    this.freeRing[(this.freeHead + this.freeCount) % this.slotCapacity] = slot;
    this.freeCount++;
  }

  /** Until the top is a PENDING event: drops cancelled entries, re-sifts deferred ones under their new key. */
  private dropCancelledTop(): void {
    while (this.heapSize > 0) {
      const slot = this.heapSlot[0];
      const state = this.state[slot];
      if (state === PENDING) return;
      if (state === DEFERRED) {
        const time = this.deferredTime[slot];
        this.state[slot] = PENDING;
        this.slotTime[slot] = time;
        this.siftDown(0, time, this.deferredSeq[slot], slot);
        continue;
      }
      this.removeTop();
      this.cancelledCount--;
      this.freeSlot(slot);
    }
  }

  private removeTop(): void {
    const last = --this.heapSize;
    if (last > 0) this.siftDown(0, this.heapTime[last], this.heapSeq[last], this.heapSlot[last]);
  }

  private siftUp(index: number, time: number, seq: number, slot: number): void {
    const heapTime = this.heapTime;
    const heapSeq = this.heapSeq;
    const heapSlot = this.heapSlot;
    let i = index;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const parentTime = heapTime[parent];
      if (parentTime < time || (parentTime === time && heapSeq[parent] < seq)) break;
      heapTime[i] = parentTime;
      heapSeq[i] = heapSeq[parent];
      heapSlot[i] = heapSlot[parent];
      i = parent;
    }
    heapTime[i] = time;
    heapSeq[i] = seq;
    heapSlot[i] = slot;
  }

  private siftDown(index: number, time: number, seq: number, slot: number): void {
    const heapTime = this.heapTime;
    const heapSeq = this.heapSeq;
    const heapSlot = this.heapSlot;
    const size = this.heapSize;
    let i = index;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      const right = child + 1;
      if (
        right < size &&
        (heapTime[right] < heapTime[child] || (heapTime[right] === heapTime[child] && heapSeq[right] < heapSeq[child]))
      ) {
        child = right;
      }
      const childTime = heapTime[child];
      if (time < childTime || (time === childTime && seq < heapSeq[child])) break;
      heapTime[i] = childTime;
      heapSeq[i] = heapSeq[child];
      heapSlot[i] = heapSlot[child];
      i = child;
    }
    heapTime[i] = time;
    heapSeq[i] = seq;
    heapSlot[i] = slot;
  }

  /** Drops every cancelled entry and re-heapifies: O(n), run when the dead outnumber the living. */
  private compact(): void {
    let kept = 0;
    for (let i = 0; i < this.heapSize; i++) {
      const slot = this.heapSlot[i];
      if (this.state[slot] === CANCELLED) {
        this.freeSlot(slot);
        continue;
      }
      this.heapTime[kept] = this.heapTime[i];
      this.heapSeq[kept] = this.heapSeq[i];
      this.heapSlot[kept] = slot;
      kept++;
    }
    this.heapSize = kept;
    this.cancelledCount = 0;
    for (let i = (kept >> 1) - 1; i >= 0; i--) {
      this.siftDown(i, this.heapTime[i], this.heapSeq[i], this.heapSlot[i]);
    }
  }

  private growHeap(): void {
    const capacity = this.heapTime.length * 2;
    this.heapTime = grown(this.heapTime, new Float64Array(capacity));
    this.heapSeq = grown(this.heapSeq, new Float64Array(capacity));
    this.heapSlot = grown(this.heapSlot, new Int32Array(capacity));
  }

  private growSlots(capacity: number): void {
    assert(capacity <= SLOT_LIMIT, `more than ${SLOT_LIMIT} pending events`);
    const old = this.slotCapacity;
    if (old > 0) {
      this.kind = grown(this.kind, new Int32Array(capacity));
      this.state = grown(this.state, new Uint8Array(capacity));
      this.generation = grown(this.generation, new Float64Array(capacity));
      this.slotTime = grown(this.slotTime, new Float64Array(capacity));
      this.deferredTime = grown(this.deferredTime, new Float64Array(capacity));
      this.deferredSeq = grown(this.deferredSeq, new Float64Array(capacity));
    }
    // The ring is full of in-use slots only when freeCount is 0, so the new ring holds just the new slots.
    assert(this.freeCount === 0, "slot pool grown while free slots remain");
    this.freeRing = new Int32Array(capacity);
    this.freeHead = 0;
    for (let slot = old; slot < capacity; slot++) {
      this.target.push(null);
      this.a.push(undefined);
      this.b.push(undefined);
      this.freeRing[this.freeCount++] = slot;
    }
    this.slotCapacity = capacity;
  }
}

/** `larger` with `old`'s contents at its start (a column grown; the rest stays zero). */
function grown<T extends Float64Array | Int32Array | Uint8Array>(old: T, larger: T): T {
  larger.set(old);
  return larger;
}
