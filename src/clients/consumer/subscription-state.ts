/**
 * The consumer's per-partition fetch state, as Kafka's SubscriptionState.TopicPartitionState: a fetch state
 * (INITIALIZING → AWAIT_RESET → FETCHING ⇄ AWAIT_VALIDATION), a position (the next offset, the leader epoch of
 * the last consumed record — offsetEpoch — and the leader and epoch it was validated against), a pending reset
 * strategy and the time before which no reset or validation request is sent again. A group consumer's partitions
 * start INITIALIZING until their committed offset is known, and may be pending revocation. Simplifications: no
 * pause; a partition whose poll() would throw (no reset policy) is marked failed and no longer fetched, as an
 * application that gives up on it.
 */

import { assert } from "../../sim/assert.ts";
import type { AutoOffsetReset } from "./config.ts";

export type FetchState = "INITIALIZING" | "FETCHING" | "AWAIT_RESET" | "AWAIT_VALIDATION";

/** Metadata.LeaderAndEpoch: -1 for an unknown leader or epoch. */
export interface LeaderAndEpoch {
  readonly leader: number;
  readonly epoch: number;
}

/** SubscriptionState.FetchPosition; offsetEpoch -1 = none (validation is skipped). */
export interface FetchPosition {
  readonly offset: number;
  readonly offsetEpoch: number;
  readonly currentLeader: LeaderAndEpoch;
}

export type ResetStrategy = Exclude<AutoOffsetReset, "none">;

export function samePosition(a: FetchPosition | null, b: FetchPosition | null): boolean {
  if (a === null || b === null) return a === b;
  return a.offset === b.offset && a.offsetEpoch === b.offsetEpoch && sameLeader(a.currentLeader, b.currentLeader);
}

export function sameLeader(a: LeaderAndEpoch, b: LeaderAndEpoch): boolean {
  return a.leader === b.leader && a.epoch === b.epoch;
}

export class TopicPartitionState {
  fetchState: FetchState = "INITIALIZING";
  position: FetchPosition | null = null;
  resetStrategy: ResetStrategy | null = null;
  /** µs before which no reset / validation request is sent (one in flight, or backing off after a failure). */
  nextRetryUs = 0;
  /** µs before which no fetch is sent (backing off after a fetch error). */
  fetchBackoffUntilUs = 0;
  /** The leader's HW from the last fetch response (-1: none yet). */
  highWatermark = -1;
  /** The exception poll() would throw for this partition (no reset policy); a failed partition is not fetched. */
  failed: string | null = null;
  /** Marked before an EAGER rebalance's auto-commit: no fetches, no records returned (KAFKA-14320's guard). */
  pendingRevocation = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  get topicPartition(): string {
    return `${this.topic}-${this.partition}`;
  }

  get hasValidPosition(): boolean {
    return this.fetchState === "FETCHING";
  }

  isFetchable(nowUs: number): boolean {
    return this.failed === null && this.fetchState === "FETCHING" && !this.pendingRevocation && nowUs >= this.fetchBackoffUntilUs;
  }

  /** requestOffsetReset: the next poll looks up the offset by the strategy (ListOffsets). */
  requestReset(strategy: ResetStrategy): void {
    this.fetchState = "AWAIT_RESET";
    this.resetStrategy = strategy;
    this.nextRetryUs = 0;
  }

  /** seekValidated: fetch from here. */
  seekValidated(position: FetchPosition): void {
    assert(position.offset >= 0, "a fetch position is a non-negative offset");
    this.fetchState = "FETCHING";
    this.position = position;
    this.resetStrategy = null;
    this.nextRetryUs = 0;
  }

  /** seekUnvalidated: validate first when the position carries an epoch and the leader's epoch is known. */
  seekUnvalidated(position: FetchPosition): void {
    this.seekValidated(position);
    this.validatePosition(position);
  }

  /** validatePosition (SubscriptionState): AWAIT_VALIDATION needs both epochs, else fetch without validating. */
  validatePosition(position: FetchPosition): void {
    this.position = position;
    this.nextRetryUs = 0;
    this.fetchState = position.offsetEpoch >= 0 && position.currentLeader.epoch >= 0 ? "AWAIT_VALIDATION" : "FETCHING";
  }

  /**
   * maybeValidatePosition: metadata names a different leader or leader epoch than the position was validated
   * against; returns whether the partition now awaits validation.
   */
  maybeValidatePosition(current: LeaderAndEpoch): boolean {
    if (this.fetchState === "AWAIT_RESET" || this.fetchState === "INITIALIZING") return false;
    if (current.leader < 0) return false;
    if (this.position !== null && !sameLeader(this.position.currentLeader, current)) {
      this.validatePosition({ offset: this.position.offset, offsetEpoch: this.position.offsetEpoch, currentLeader: current });
    }
    return this.fetchState === "AWAIT_VALIDATION";
  }

  /** completeValidation: the leader's log still holds our position's epoch up to the position. */
  completeValidation(): void {
    assert(this.fetchState === "AWAIT_VALIDATION", "completing a validation not awaited");
    this.fetchState = "FETCHING";
    this.nextRetryUs = 0;
  }

  /** After consuming a fetch: the next offset, and the epoch of the last consumed record. */
  advance(nextOffset: number, offsetEpoch: number): void {
    assert(this.position !== null && this.fetchState === "FETCHING", "advancing a partition without a valid position");
    assert(nextOffset >= this.position.offset, "a consumer's position never goes back on a fetch");
    this.position = { offset: nextOffset, offsetEpoch, currentLeader: this.position.currentLeader };
  }
}
