/**
 * The transaction coordinator's storage (TransactionStateManager.scala, Kafka 3.6): the cache of transactional
 * ids per __transaction_state partition with the coordinator epoch it was loaded in (TxnMetadataCacheEntry), the
 * partitions being loaded, getTransactionState / putTransactionStateIfNotExists (COORDINATOR_LOAD_IN_PROGRESS
 * while loading, NOT_COORDINATOR when not owned), appendTransactionToLog (one record through the ReplicaManager's
 * append path with acks = -1 and the transaction timeout; the transition is completed only when the append is
 * replicated and the coordinator epoch is unchanged, the pending state is reset on an error unless the caller
 * retries; Kafka's error conversion), loading a partition when this broker becomes its leader (transactions left
 * in PrepareCommit / PrepareAbort get their markers sent again) and unloading it on resignation, and
 * timedOutTransactions for the timeout abort. Simplifications: loading reads the whole log once its duration has
 * passed (TXN_LOAD_BYTES_PER_MS, as the group coordinator's load); no transactional.id expiration yet
 * (transactional.id.expiration.ms is accepted but unused); no partition-count stability check.
 */

import { coordinatorAppendError } from "../append-errors.ts";
import type { Disk } from "../../../disk/disk.ts";
import { partitionForGroup } from "../../../protocol/group.ts";
import type { KafkaError } from "../../../protocol/kafka.ts";
import type { ProcessContext } from "../../../sim/host.ts";
import type { TimerId } from "../../../sim/kernel.ts";
import type { ReplicationConfig } from "../../config.ts";
import type { Log } from "../../log/log.ts";
import { readTransactionLogKey, readTransactionLogValue, transactionLogKey, transactionLogValue } from "./transaction-log.ts";
import { TransactionMetadata, type TransactionState, type TxnTransitMetadata } from "./transaction-metadata.ts";

/** Timer tags of the transaction coordinator start with this (the broker routes them here). */
export const TXN_COORDINATOR_TIMER_PREFIX = "txn-coordinator:";
const TAG_LOAD = `${TXN_COORDINATOR_TIMER_PREFIX}load`;
/** How fast a new coordinator reads and parses a transaction log partition (10 MB/s), for the loading time. */
export const TXN_LOAD_BYTES_PER_MS = 10_000;
/** transaction.state.log.load.buffer.size (5 MiB). */
const TXN_LOAD_BUFFER_BYTES = 5 * 1024 * 1024;

/** What the manager reaches of the broker's replicas of __transaction_state (the ReplicaManager in a broker). */
export interface TransactionLogStorage {
  /** ReplicaManager.appendRecords(acks = -1, timeout) of one record to __transaction_state-`partition`. */
  append(partition: number, key: string, value: string | null, timeoutMs: number, callback: (error: KafkaError) => void): void;
  /** The local log of the partition, or null when this broker hosts no replica of it. */
  log(partition: number): Log | null;
}

export interface TxnStateManagerHost {
  readonly context: ProcessContext<Disk>;
  readonly config: ReplicationConfig;
  nowMs(): number;
}

/** CoordinatorEpochAndTxnMetadata. */
export interface CoordinatorEpochAndTxnMetadata {
  readonly coordinatorEpoch: number;
  readonly transactionMetadata: TransactionMetadata;
}

/** getTransactionState's answer: an error, none (null), or the metadata with its coordinator epoch. */
export type TransactionStateResult = { readonly error: KafkaError } | CoordinatorEpochAndTxnMetadata | null;

export function isStateError(r: TransactionStateResult): r is { readonly error: KafkaError } {
  return r !== null && "error" in r;
}

/** SendTxnMarkersCallback: a loaded transaction in PrepareX must have its markers (re)sent. */
export type SendTxnMarkersCallback = (coordinatorEpoch: number, result: "COMMIT" | "ABORT", metadata: TransactionMetadata, transit: TxnTransitMetadata) => void;

/** TransactionalIdAndProducerIdEpoch. */
export interface TimedOutTransaction {
  readonly transactionalId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
}

interface TxnMetadataCacheEntry {
  readonly coordinatorEpoch: number;
  readonly metadataPerTransactionalId: Map<string, TransactionMetadata>;
}

/**
 * TransactionStateManager.partitionFor, also used by the partition leaders to find a transactional id's coordinator
 * (KafkaApis.handleProduceRequest → ReplicaManager.getTransactionCoordinator). The same function as the group
 * coordinator's partitionFor.
 */
export function partitionForTransactionalId(transactionalId: string, transactionTopicPartitionCount: number): number {
  return partitionForGroup(transactionalId, transactionTopicPartitionCount);
}

export class TransactionStateManager {
  /** TransactionPartitionAndLeaderEpoch set: partition → the coordinator epoch it is loading in. */
  private readonly loadingPartitions = new Map<number, number>();
  private readonly transactionMetadataCache = new Map<number, TxnMetadataCacheEntry>();
  private readonly loadTimers = new Map<number, TimerId>();
  private shuttingDown = false;

  constructor(
    private readonly host: TxnStateManagerHost,
    readonly storage: TransactionLogStorage,
  ) {}

  get transactionTopicPartitionCount(): number {
    return this.host.config["transaction.state.log.num.partitions"];
  }

  /** partitionFor: Utils.abs(transactionalId.hashCode) % transactionTopicPartitionCount. */
  partitionFor(transactionalId: string): number {
    return partitionForTransactionalId(transactionalId, this.transactionTopicPartitionCount);
  }

  validateTransactionTimeoutMs(txnTimeoutMs: number): boolean {
    return txnTimeoutMs <= this.host.config["transaction.max.timeout.ms"] && txnTimeoutMs > 0;
  }

  isLoading(partition: number): boolean {
    return this.loadingPartitions.has(partition);
  }

  /** The partitions whose metadata is cached, with their coordinator epoch (tests). */
  get owned(): { partition: number; coordinatorEpoch: number }[] {
    return [...this.transactionMetadataCache].map(([partition, e]) => ({ partition, coordinatorEpoch: e.coordinatorEpoch })).sort((a, b) => a.partition - b.partition);
  }

  shutdown(): void {
    this.shuttingDown = true;
    for (const timer of this.loadTimers.values()) this.host.context.cancelTimer(timer);
    this.loadTimers.clear();
    this.loadingPartitions.clear();
    this.transactionMetadataCache.clear();
  }

  // ---- Cache ----

  getTransactionState(transactionalId: string): TransactionStateResult {
    return this.getAndMaybeAddTransactionState(transactionalId, null);
  }

  putTransactionStateIfNotExists(metadata: TransactionMetadata): TransactionStateResult {
    return this.getAndMaybeAddTransactionState(metadata.transactionalId, metadata);
  }

  private getAndMaybeAddTransactionState(transactionalId: string, created: TransactionMetadata | null): TransactionStateResult {
    const partition = this.partitionFor(transactionalId);
    if (this.loadingPartitions.has(partition)) return { error: "COORDINATOR_LOAD_IN_PROGRESS" };
    const entry = this.transactionMetadataCache.get(partition);
    if (entry === undefined) return { error: "NOT_COORDINATOR" };
    let metadata = entry.metadataPerTransactionalId.get(transactionalId) ?? null;
    if (metadata === null && created !== null) {
      entry.metadataPerTransactionalId.set(transactionalId, created);
      metadata = created;
    }
    return metadata === null ? null : { coordinatorEpoch: entry.coordinatorEpoch, transactionMetadata: metadata };
  }

  /** Every cached transaction (the coordinator's timeout abort, tests), in partition then insertion order. */
  allTransactions(): CoordinatorEpochAndTxnMetadata[] {
    const partitions = [...this.transactionMetadataCache.keys()].sort((a, b) => a - b);
    return partitions.flatMap((p) => {
      const entry = this.transactionMetadataCache.get(p)!;
      return [...entry.metadataPerTransactionalId.values()].map((transactionMetadata) => ({ coordinatorEpoch: entry.coordinatorEpoch, transactionMetadata }));
    });
  }

  /** timedOutTransactions: Ongoing, no pending transition, started more than its timeout ago. */
  timedOutTransactions(): TimedOutTransaction[] {
    const now = this.host.nowMs();
    return this.allTransactions()
      .map((e) => e.transactionMetadata)
      .filter((m) => !m.pendingTransitionInProgress && m.state === "Ongoing" && m.txnStartTimestamp + m.txnTimeoutMs < now)
      .map((m) => ({ transactionalId: m.transactionalId, producerId: m.producerId, producerEpoch: m.producerEpoch }));
  }

  // ---- Writes ----

  /**
   * appendTransactionToLog: the transit's record with acks = -1; on success the transition completes (unless
   * the coordinator epoch changed meanwhile: NOT_COORDINATOR); on an error the pending state is reset unless
   * retryOnError says the caller will retry.
   */
  appendTransactionToLog(
    transactionalId: string,
    coordinatorEpoch: number,
    transit: TxnTransitMetadata,
    callback: (error: KafkaError) => void,
    retryOnError: (error: KafkaError) => boolean = () => false,
  ): void {
    const current = this.getTransactionState(transactionalId);
    if (isStateError(current)) return callback(current.error);
    if (current === null || current.coordinatorEpoch !== coordinatorEpoch) return callback("NOT_COORDINATOR");
    const partition = this.partitionFor(transactionalId);
    const value = transactionLogValue(transit);
    this.storage.append(partition, transactionLogKey(transactionalId), value, transit.txnTimeoutMs, (appendError) => {
      let error = appendErrorToCoordinatorError(appendError);
      const state = this.getTransactionState(transactionalId);
      if (error === "NONE") {
        if (isStateError(state)) error = state.error;
        else if (state === null || state.coordinatorEpoch !== coordinatorEpoch) error = "NOT_COORDINATOR";
        else {
          const metadata = state.transactionMetadata;
          const previousState = metadata.state;
          metadata.completeTransitionTo(transit);
          this.traceTransition(metadata, previousState, coordinatorEpoch, partition);
        }
      } else if (!isStateError(state) && state !== null && state.coordinatorEpoch === coordinatorEpoch && !retryOnError(error)) {
        state.transactionMetadata.pendingState = null;
      }
      callback(error);
    });
  }

  private traceTransition(metadata: TransactionMetadata, previousState: TransactionState, coordinatorEpoch: number, partition: number): void {
    const context = this.host.context;
    if (!context.tracing) return;
    context.trace("txn-state", {
      transactionalId: metadata.transactionalId,
      state: metadata.state,
      previousState,
      producerId: metadata.producerId,
      producerEpoch: metadata.producerEpoch,
      partitions: metadata.topicPartitions,
      coordinatorEpoch,
      partition,
    });
  }

  // ---- Loading and unloading ----

  /** loadTransactionsForTxnTopicPartition: loading (COORDINATOR_LOAD_IN_PROGRESS) until the log is read. */
  loadTransactionsForTxnTopicPartition(partition: number, coordinatorEpoch: number, sendTxnMarkers: SendTxnMarkersCallback): void {
    if (this.shuttingDown) return;
    this.loadingPartitions.set(partition, coordinatorEpoch);
    const previous = this.loadTimers.get(partition);
    if (previous !== undefined) this.host.context.cancelTimer(previous);
    const log = this.storage.log(partition);
    const bytes = log === null ? 0 : log.sizeInBytes;
    const context = this.host.context;
    if (context.tracing) context.trace("txn-coordinator-loading", { partition, coordinatorEpoch, bytes });
    this.loadTimers.set(partition, context.setTimer(Math.ceil((bytes * 1000) / TXN_LOAD_BYTES_PER_MS), TAG_LOAD, { partition, coordinatorEpoch, sendTxnMarkers }));
  }

  onTimer(tag: string, data: unknown): boolean {
    if (tag !== TAG_LOAD) return false;
    const { partition, coordinatorEpoch, sendTxnMarkers } = data as { partition: number; coordinatorEpoch: number; sendTxnMarkers: SendTxnMarkersCallback };
    this.loadTimers.delete(partition);
    if (this.loadingPartitions.get(partition) !== coordinatorEpoch) return true;
    const loaded = this.loadTransactionMetadata(partition);
    this.transactionMetadataCache.set(partition, { coordinatorEpoch, metadataPerTransactionalId: loaded });
    const pending: { result: "COMMIT" | "ABORT"; metadata: TransactionMetadata; transit: TxnTransitMetadata }[] = [];
    for (const metadata of loaded.values()) {
      if (metadata.state === "PrepareAbort") pending.push({ result: "ABORT", metadata, transit: metadata.prepareComplete(this.host.nowMs()) });
      else if (metadata.state === "PrepareCommit") pending.push({ result: "COMMIT", metadata, transit: metadata.prepareComplete(this.host.nowMs()) });
    }
    this.loadingPartitions.delete(partition);
    const context = this.host.context;
    if (context.tracing) context.trace("txn-coordinator-loaded", { partition, coordinatorEpoch, transactionalIds: loaded.size, pendingCompletion: pending.length });
    for (const p of pending) sendTxnMarkers(coordinatorEpoch, p.result, p.metadata, p.transit);
    return true;
  }

  /** loadTransactionMetadata: replays the log to its end; the last record per transactional id wins. */
  private loadTransactionMetadata(partition: number): Map<string, TransactionMetadata> {
    const loaded = new Map<string, TransactionMetadata>();
    const log = this.storage.log(partition);
    if (log === null) return loaded;
    let offset = log.logStartOffset;
    while (offset < log.logEndOffset) {
      const read = log.read(offset, TXN_LOAD_BUFFER_BYTES, log.logEndOffset, true);
      if (read.error !== null || read.batches.length === 0) break;
      for (const batch of read.batches) {
        if (!batch.isControl) {
          for (const record of batch.records) {
            const transactionalId = readTransactionLogKey(record.key);
            if (transactionalId === null) continue;
            if (record.value === null) loaded.delete(transactionalId);
            else loaded.set(transactionalId, TransactionMetadata.fromTransit(transactionalId, readTransactionLogValue(record.value)));
          }
        }
        offset = batch.baseOffset + batch.lastOffsetDelta + 1;
      }
    }
    return loaded;
  }

  /** removeTransactionsForTxnTopicPartition: become-follower (with its epoch) or local deletion (null). */
  removeTransactionsForTxnTopicPartition(partition: number, coordinatorEpoch: number | null): void {
    if (coordinatorEpoch === null || this.loadingPartitions.get(partition) === coordinatorEpoch) {
      this.loadingPartitions.delete(partition);
      const timer = this.loadTimers.get(partition);
      if (timer !== undefined) this.host.context.cancelTimer(timer);
      this.loadTimers.delete(partition);
    }
    const removed = this.transactionMetadataCache.get(partition);
    this.transactionMetadataCache.delete(partition);
    const context = this.host.context;
    if (context.tracing && removed !== undefined) context.trace("txn-coordinator-unloaded", { partition, coordinatorEpoch: removed.coordinatorEpoch, transactionalIds: removed.metadataPerTransactionalId.size });
  }
}

/** appendTransactionToLog's conversion of an append error to a coordinator error (a timeout: retry later). */
export function appendErrorToCoordinatorError(error: KafkaError): KafkaError {
  return coordinatorAppendError(error, "COORDINATOR_NOT_AVAILABLE", "UNKNOWN_SERVER_ERROR");
}
