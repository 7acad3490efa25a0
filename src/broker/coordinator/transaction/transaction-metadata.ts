/**
 * A transactional id's state on its transaction coordinator (TransactionMetadata.scala, Kafka 3.6): the states
 * Empty / Ongoing / PrepareCommit / PrepareAbort / CompleteCommit / CompleteAbort / Dead / PrepareEpochFence with
 * Kafka's validPreviousStates asserted on every prepared transition, the pending-state staging (prepareX returns a
 * TxnTransitMetadata and sets pendingState; completeTransitionTo applies it once its __transaction_state record is
 * replicated, with Kafka's consistency checks; a failed append clears pendingState), the producer id and epoch with
 * the last ones (KIP-360), the partitions of the ongoing transaction, and the timestamps the timeout abort reads.
 * With KIP-890 part 2 (compat.epochBumpPerTransaction) prepareAbortOrCommit bumps the epoch (4.0's transaction
 * version 2). Simplifications: partitions are kept as "topic-partition" keys in insertion order (Kafka's mutable.Set iterates
 * in hash order); Kafka's IllegalStateExceptions (simulator bugs, never client-visible) are model assertions.
 */

import { topicPartitionKey, type TopicPartitionRef } from "../../../protocol/kafka.ts";
import { assert } from "../../../sim/assert.ts";

export type TransactionState = "Empty" | "Ongoing" | "PrepareCommit" | "PrepareAbort" | "CompleteCommit" | "CompleteAbort" | "Dead" | "PrepareEpochFence";

/** TransactionState.id, the byte written in __transaction_state. */
export const TRANSACTION_STATE_IDS: Readonly<Record<TransactionState, number>> = Object.freeze({
  Empty: 0,
  Ongoing: 1,
  PrepareCommit: 2,
  PrepareAbort: 3,
  CompleteCommit: 4,
  CompleteAbort: 5,
  Dead: 6,
  PrepareEpochFence: 7,
});

export const ALL_TRANSACTION_STATES: readonly TransactionState[] = Object.freeze(Object.keys(TRANSACTION_STATE_IDS) as TransactionState[]);

/** TransactionState.validPreviousStates. */
export const VALID_PREVIOUS_TXN_STATES: Readonly<Record<TransactionState, readonly TransactionState[]>> = Object.freeze({
  Empty: ["Empty", "CompleteCommit", "CompleteAbort"],
  Ongoing: ["Ongoing", "Empty", "CompleteCommit", "CompleteAbort"],
  PrepareCommit: ["Ongoing"],
  PrepareAbort: ["Ongoing", "PrepareEpochFence"],
  CompleteCommit: ["PrepareCommit"],
  CompleteAbort: ["PrepareAbort"],
  Dead: ["Empty", "CompleteAbort", "CompleteCommit"],
  PrepareEpochFence: ["Ongoing"],
});

/** TransactionState.isExpirationAllowed. */
export function isExpirationAllowed(state: TransactionState): boolean {
  return state === "Empty" || state === "CompleteCommit" || state === "CompleteAbort";
}

/** RecordBatch.NO_PRODUCER_ID / NO_PRODUCER_EPOCH. */
export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
/** Short.MaxValue. */
export const MAX_PRODUCER_EPOCH = 32767;

/** TransactionMetadata.isEpochExhausted: the coordinator keeps one epoch to fence with. */
export function isEpochExhausted(producerEpoch: number): boolean {
  return producerEpoch >= MAX_PRODUCER_EPOCH - 1;
}

/** TxnTransitMetadata: the immutable target of a prepared transition (also the __transaction_state value). */
export interface TxnTransitMetadata {
  readonly producerId: number;
  readonly lastProducerId: number;
  readonly producerEpoch: number;
  readonly lastProducerEpoch: number;
  readonly txnTimeoutMs: number;
  readonly txnState: TransactionState;
  /** "topic-partition" keys. */
  readonly topicPartitions: readonly string[];
  readonly txnStartTimestamp: number;
  readonly txnLastUpdateTimestamp: number;
}

/** Inverse of topicPartitionKey (topic names may hold '-'; the partition is after the last one). */
export function parseTopicPartitionKey(key: string): TopicPartitionRef {
  const dash = key.lastIndexOf("-");
  return { topic: key.slice(0, dash), partition: Number(key.slice(dash + 1)) };
}

export class TransactionMetadata {
  /** The state this transactional id is being moved to while its record is appended (None in Kafka: null). */
  pendingState: TransactionState | null = null;
  /** A previous epoch fence's append failed: do not bump the epoch again (prepareFenceProducerEpoch). */
  hasFailedEpochFence = false;
  private readonly partitions: Set<string>;

  constructor(
    readonly transactionalId: string,
    public producerId: number,
    public lastProducerId: number,
    public producerEpoch: number,
    public lastProducerEpoch: number,
    public txnTimeoutMs: number,
    public state: TransactionState,
    topicPartitions: Iterable<string>,
    public txnStartTimestamp: number,
    public txnLastUpdateTimestamp: number,
  ) {
    this.partitions = new Set(topicPartitions);
  }

  /** TransactionMetadata.apply(transactionalId, producerId, producerEpoch, txnTimeoutMs, timestamp): a new Empty id. */
  static create(transactionalId: string, producerId: number, producerEpoch: number, txnTimeoutMs: number, nowMs: number): TransactionMetadata {
    return new TransactionMetadata(transactionalId, producerId, NO_PRODUCER_ID, producerEpoch, NO_PRODUCER_EPOCH, txnTimeoutMs, "Empty", [], -1, nowMs);
  }

  /** The loaded form of a record (TransactionStateManager.loadTransactionMetadata). */
  static fromTransit(transactionalId: string, t: TxnTransitMetadata): TransactionMetadata {
    return new TransactionMetadata(transactionalId, t.producerId, t.lastProducerId, t.producerEpoch, t.lastProducerEpoch, t.txnTimeoutMs, t.txnState, t.topicPartitions, t.txnStartTimestamp, t.txnLastUpdateTimestamp);
  }

  get topicPartitions(): readonly string[] {
    return [...this.partitions];
  }

  hasPartition(topic: string, partition: number): boolean {
    return this.partitions.has(topicPartitionKey(topic, partition));
  }

  get pendingTransitionInProgress(): boolean {
    return this.pendingState !== null;
  }

  get isProducerEpochExhausted(): boolean {
    return isEpochExhausted(this.producerEpoch);
  }

  /** Ongoing, PrepareAbort or PrepareCommit. */
  get hasPendingTransaction(): boolean {
    return this.state === "Ongoing" || this.state === "PrepareAbort" || this.state === "PrepareCommit";
  }

  /** removePartition: a partition's marker is written (only while preparing). */
  removePartition(key: string): void {
    assert(this.state === "PrepareCommit" || this.state === "PrepareAbort", `${this.transactionalId}: removePartition in state ${this.state}`);
    this.partitions.delete(key);
  }

  /** prepareNoTransit: the current metadata as a transit (no pending state). */
  prepareNoTransit(): TxnTransitMetadata {
    return this.transit(this.state, this.producerId, this.producerEpoch, this.lastProducerEpoch, this.txnTimeoutMs, this.topicPartitions, this.txnStartTimestamp, this.txnLastUpdateTimestamp);
  }

  prepareFenceProducerEpoch(): TxnTransitMetadata {
    assert(this.producerEpoch !== MAX_PRODUCER_EPOCH, `${this.transactionalId}: cannot fence epoch Short.MaxValue`);
    const bumped = this.hasFailedEpochFence ? this.producerEpoch : this.producerEpoch + 1;
    return this.prepareTransitionTo("PrepareEpochFence", this.producerId, bumped, NO_PRODUCER_EPOCH, this.txnTimeoutMs, this.topicPartitions, this.txnStartTimestamp, this.txnLastUpdateTimestamp);
  }

  /** prepareIncrementProducerEpoch (KIP-360's expected epoch): the transit, or PRODUCER_FENCED. */
  prepareIncrementProducerEpoch(newTxnTimeoutMs: number, expectedProducerEpoch: number | null, nowMs: number): TxnTransitMetadata | "PRODUCER_FENCED" {
    assert(!this.isProducerEpochExhausted, `${this.transactionalId}: producer epochs exhausted for ${this.producerId}`);
    const bumped = this.producerEpoch + 1;
    let next: number;
    let last: number;
    if (expectedProducerEpoch === null) {
      next = bumped;
      last = NO_PRODUCER_EPOCH;
    } else if (this.producerEpoch === NO_PRODUCER_EPOCH || expectedProducerEpoch === this.producerEpoch) {
      next = bumped;
      last = this.producerEpoch;
    } else if (expectedProducerEpoch === this.lastProducerEpoch) {
      // A retry of a call that succeeded: answer the current epoch without bumping.
      next = this.producerEpoch;
      last = this.lastProducerEpoch;
    } else {
      return "PRODUCER_FENCED";
    }
    return this.prepareTransitionTo("Empty", this.producerId, next, last, newTxnTimeoutMs, [], -1, nowMs);
  }

  prepareProducerIdRotation(newProducerId: number, newTxnTimeoutMs: number, nowMs: number, recordLastEpoch: boolean): TxnTransitMetadata {
    assert(!this.hasPendingTransaction, `${this.transactionalId}: cannot rotate producer ids while a transaction is pending`);
    return this.prepareTransitionTo("Empty", newProducerId, 0, recordLastEpoch ? this.producerEpoch : NO_PRODUCER_EPOCH, newTxnTimeoutMs, [], -1, nowMs);
  }

  prepareAddPartitions(added: readonly string[], nowMs: number): TxnTransitMetadata {
    const start = this.state === "Empty" || this.state === "CompleteAbort" || this.state === "CompleteCommit" ? nowMs : this.txnStartTimestamp;
    const partitions = [...new Set([...this.partitions, ...added])];
    return this.prepareTransitionTo("Ongoing", this.producerId, this.producerEpoch, this.lastProducerEpoch, this.txnTimeoutMs, partitions, start, nowMs);
  }

  /** prepareAbortOrCommit; with `bumpEpoch` (4.0's transaction version 2, KIP-890 part 2) the epoch + 1, the current one as last. */
  prepareAbortOrCommit(newState: "PrepareCommit" | "PrepareAbort", nowMs: number, bumpEpoch = false): TxnTransitMetadata {
    const epoch = bumpEpoch ? this.producerEpoch + 1 : this.producerEpoch;
    const lastEpoch = bumpEpoch ? this.producerEpoch : this.lastProducerEpoch;
    return this.prepareTransitionTo(newState, this.producerId, epoch, lastEpoch, this.txnTimeoutMs, this.topicPartitions, this.txnStartTimestamp, nowMs);
  }

  prepareComplete(nowMs: number): TxnTransitMetadata {
    const newState = this.state === "PrepareCommit" ? "CompleteCommit" : "CompleteAbort";
    this.hasFailedEpochFence = false;
    return this.prepareTransitionTo(newState, this.producerId, this.producerEpoch, this.lastProducerEpoch, this.txnTimeoutMs, [], this.txnStartTimestamp, nowMs);
  }

  prepareDead(): TxnTransitMetadata {
    return this.prepareTransitionTo("Dead", this.producerId, this.producerEpoch, this.lastProducerEpoch, this.txnTimeoutMs, [], this.txnStartTimestamp, this.txnLastUpdateTimestamp);
  }

  private prepareTransitionTo(
    newState: TransactionState,
    newProducerId: number,
    newEpoch: number,
    newLastEpoch: number,
    newTxnTimeoutMs: number,
    newTopicPartitions: readonly string[],
    newTxnStartTimestamp: number,
    updateTimestamp: number,
  ): TxnTransitMetadata {
    assert(this.pendingState === null, `${this.transactionalId}: preparing ${newState} while ${this.pendingState} is pending`);
    assert(newProducerId >= 0, `${this.transactionalId}: illegal new producer id ${newProducerId}`);
    assert(newState === "Dead" || newEpoch >= 0, `${this.transactionalId}: illegal new producer epoch ${newEpoch}`);
    assert(VALID_PREVIOUS_TXN_STATES[newState].includes(this.state), `${this.transactionalId}: ${this.state} is not a valid previous state of ${newState}`);
    const transit = this.transit(newState, newProducerId, newEpoch, newLastEpoch, newTxnTimeoutMs, newTopicPartitions, newTxnStartTimestamp, updateTimestamp);
    this.pendingState = newState;
    return transit;
  }

  private transit(
    txnState: TransactionState,
    producerId: number,
    producerEpoch: number,
    lastProducerEpoch: number,
    txnTimeoutMs: number,
    topicPartitions: readonly string[],
    txnStartTimestamp: number,
    txnLastUpdateTimestamp: number,
  ): TxnTransitMetadata {
    return { producerId, lastProducerId: this.producerId, producerEpoch, lastProducerEpoch, txnTimeoutMs, txnState, topicPartitions, txnStartTimestamp, txnLastUpdateTimestamp };
  }

  /** completeTransitionTo: apply a prepared transit after its record is replicated, with Kafka's checks. */
  completeTransitionTo(t: TxnTransitMetadata): void {
    const toState = this.pendingState;
    assert(toState !== null, `${this.transactionalId}: completing a transition without a pending state`);
    assert(toState === t.txnState, `${this.transactionalId}: completing ${t.txnState} while ${toState} is pending`);
    const fail = `${this.transactionalId}: transition from ${this.state} to ${t.txnState} with unexpected metadata`;
    const sameEpoch = t.producerEpoch === this.producerEpoch && t.producerId === this.producerId;
    switch (toState) {
      case "Empty": {
        const validBump = t.producerEpoch === this.producerEpoch + 1 || (t.producerEpoch === 0 && t.producerId !== this.producerId);
        assert(this.producerEpoch === t.producerEpoch || validBump, fail);
        assert(t.topicPartitions.length === 0, fail);
        assert(t.txnStartTimestamp === -1, fail);
        this.txnTimeoutMs = t.txnTimeoutMs;
        this.producerEpoch = t.producerEpoch;
        this.lastProducerEpoch = t.lastProducerEpoch;
        this.producerId = t.producerId;
        this.lastProducerId = t.lastProducerId;
        break;
      }
      case "Ongoing":
        assert(sameEpoch, fail);
        assert([...this.partitions].every((p) => t.topicPartitions.includes(p)), fail);
        assert(this.txnTimeoutMs === t.txnTimeoutMs, fail);
        this.txnStartTimestamp = t.txnStartTimestamp;
        for (const p of t.topicPartitions) this.partitions.add(p);
        break;
      case "PrepareAbort":
      case "PrepareCommit": {
        // 4.0 (transaction version 2): the epoch may be bumped by one, the current one becoming the last.
        const bumped = t.producerId === this.producerId && t.producerEpoch === this.producerEpoch + 1 && t.lastProducerEpoch === this.producerEpoch;
        assert(sameEpoch || bumped, fail);
        assert(this.partitions.size === t.topicPartitions.length && t.topicPartitions.every((p) => this.partitions.has(p)), fail);
        assert(this.txnTimeoutMs === t.txnTimeoutMs, fail);
        assert(this.txnStartTimestamp === t.txnStartTimestamp, fail);
        this.producerEpoch = t.producerEpoch;
        this.lastProducerEpoch = t.lastProducerEpoch;
        break;
      }
      case "CompleteAbort":
      case "CompleteCommit":
        assert(sameEpoch, fail);
        assert(this.txnTimeoutMs === t.txnTimeoutMs, fail);
        assert(t.txnStartTimestamp !== -1, fail);
        this.txnStartTimestamp = t.txnStartTimestamp;
        this.partitions.clear();
        break;
      case "PrepareEpochFence":
        // Never completed: the fence is immediately re-staged as PrepareAbort (TransactionCoordinator.abortTimedOutTransactions).
        assert(false, fail);
        break;
      case "Dead":
        assert(false, `${this.transactionalId}: a Dead transition is completed by removing the metadata, not persisting it`);
        break;
    }
    this.txnLastUpdateTimestamp = t.txnLastUpdateTimestamp;
    this.pendingState = null;
    this.state = toState;
  }
}
