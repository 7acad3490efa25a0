/**
 * The transaction coordinator's marker channel (TransactionMarkerChannelManager.scala and
 * TransactionMarkerRequestCompletionHandler.scala, Kafka 3.6): addTxnMarkersToSend queues a PrepareX transaction's
 * partitions per current leader (from the metadata cache) and sends WriteTxnMarkers to each leader; on the answer a
 * partition whose marker is written leaves the transaction (removePartition), retriable errors
 * (UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS(_AFTER_APPEND), REQUEST_TIMED_OUT,
 * KAFKA_STORAGE_ERROR) re-queue it with a fresh leader lookup, INVALID_PRODUCER_EPOCH /
 * TRANSACTION_COORDINATOR_FENCED stop the sending, and once no partition is left the CompleteCommit / CompleteAbort
 * record is appended (retried every MARKER_RETRY_BACKOFF_MS on COORDINATOR_NOT_AVAILABLE without resetting the
 * pending state, as tryAppendToLog's retry queue). A coordinator epoch change or a lost partition (NOT_COORDINATOR,
 * COORDINATOR_LOAD_IN_PROGRESS) cancels the transaction's markers (removeMarkersForTxnId). Simplifications: one
 * WriteTxnMarkers per transaction and destination broker (Kafka drains every queued transaction for a broker into
 * one request); a request unanswered after request.timeout.ms counts as a disconnection (all its partitions are
 * re-queued); partitions without a live leader are retried every MARKER_RETRY_BACKOFF_MS. A refused or closed
 * connection to the destination (its broker process is gone: the NetworkClient's disconnect, answered with
 * `wasDisconnected` at once rather than after request.timeout.ms) re-queues the request's partitions after
 * MARKER_RETRY_BACKOFF_MS (standing for reconnect.backoff.ms), with a fresh leader lookup then.
 */

import type { Disk } from "../../../disk/disk.ts";
import { NO_LEADER, REQUEST_HEADER_BYTES, topicPartitionKey, type KafkaError, type TopicPartitionRef } from "../../../protocol/kafka.ts";
import type { TransactionResult, WriteTxnMarkersRequest, WriteTxnMarkersResponse } from "../../../protocol/transaction.ts";
import { assert } from "../../../sim/assert.ts";
import type { Message, ProcessContext } from "../../../sim/host.ts";
import type { TimerId } from "../../../sim/kernel.ts";
import { ms } from "../../../sim/time.ts";
import type { ReplicationConfig } from "../../config.ts";
import type { MetadataCache } from "../../metadata-cache.ts";
import type { TransactionMetadata, TxnTransitMetadata } from "./transaction-metadata.ts";
import { parseTopicPartitionKey } from "./transaction-metadata.ts";
import { TXN_COORDINATOR_TIMER_PREFIX, isStateError, type TransactionStateManager } from "./transaction-state-manager.ts";

/** The back-off before re-sending markers whose partition has no live leader (the sender's poll loop). */
export const MARKER_RETRY_BACKOFF_MS = 100;
const TAG_RETRY = `${TXN_COORDINATOR_TIMER_PREFIX}marker-retry`;
const TAG_REQUEST_TIMEOUT = `${TXN_COORDINATOR_TIMER_PREFIX}marker-request-timeout`;
const TAG_APPEND_RETRY = `${TXN_COORDINATOR_TIMER_PREFIX}complete-append-retry`;

const RETRIABLE: ReadonlySet<KafkaError> = new Set<KafkaError>([
  "UNKNOWN_TOPIC_OR_PARTITION",
  "NOT_LEADER_OR_FOLLOWER",
  "NOT_ENOUGH_REPLICAS",
  "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
  "REQUEST_TIMED_OUT",
  "KAFKA_STORAGE_ERROR",
]);
const FATAL: ReadonlySet<KafkaError> = new Set<KafkaError>(["CORRUPT_MESSAGE", "MESSAGE_TOO_LARGE", "RECORD_LIST_TOO_LARGE", "INVALID_REQUIRED_ACKS"]);

export interface MarkerChannelHost {
  readonly context: ProcessContext<Disk>;
  readonly config: ReplicationConfig;
  readonly metadataCache: MetadataCache;
  nextCorrelationId(): number;
  sendToBroker(brokerId: number, message: Message): void;
  /** The broker exits (InterBrokerSendThread's FatalExitError); absent: a model assertion. */
  fatalExit?(reason: string): void;
}

/** A transaction whose markers are being sent (PendingCompleteTxn). */
interface PendingCompleteTxn {
  readonly transactionalId: string;
  readonly coordinatorEpoch: number;
  readonly metadata: TransactionMetadata;
  readonly transit: TxnTransitMetadata;
  readonly result: TransactionResult;
}

interface InflightRequest {
  readonly transactionalId: string;
  readonly brokerId: number;
  readonly coordinatorEpoch: number;
  readonly partitions: readonly TopicPartitionRef[];
  readonly timer: TimerId;
}

export class TransactionMarkerChannel {
  /** transactionMarkerPurgatory's pending transactions by id. */
  private readonly pending = new Map<string, PendingCompleteTxn>();
  private readonly inflight = new Map<number, InflightRequest>();
  /** Partitions waiting for a live leader, per transactional id. */
  private readonly unknownLeader = new Map<string, Set<string>>();
  private retryTimer: TimerId | null = null;

  constructor(
    private readonly host: MarkerChannelHost,
    private readonly txnManager: TransactionStateManager,
  ) {}

  /** The transactions whose markers are being sent (tests). */
  get pendingTransactionalIds(): string[] {
    return [...this.pending.keys()];
  }

  /** addTxnMarkersToSend: send the markers of a PrepareX transaction, then append its CompleteX record. */
  addTxnMarkersToSend(coordinatorEpoch: number, result: TransactionResult, metadata: TransactionMetadata, transit: TxnTransitMetadata): void {
    const transactionalId = metadata.transactionalId;
    this.pending.set(transactionalId, { transactionalId, coordinatorEpoch, metadata, transit, result });
    const partitions = metadata.topicPartitions;
    if (partitions.length === 0) return this.maybeWriteTxnCompletion(transactionalId);
    this.addTxnMarkersToBrokerQueue(transactionalId, partitions);
  }

  /** addTxnMarkersToBrokerQueue: one WriteTxnMarkers per current leader; leaderless partitions wait. */
  private addTxnMarkersToBrokerQueue(transactionalId: string, partitionKeys: readonly string[]): void {
    const txn = this.pending.get(transactionalId);
    if (txn === undefined) return;
    const byBroker = new Map<number, TopicPartitionRef[]>();
    for (const key of partitionKeys) {
      const tp = parseTopicPartitionKey(key);
      const leader = this.host.metadataCache.partition(tp.topic, tp.partition)?.leader ?? NO_LEADER;
      if (leader === NO_LEADER || !this.host.metadataCache.aliveBrokers.has(leader)) {
        let waiting = this.unknownLeader.get(transactionalId);
        if (waiting === undefined) this.unknownLeader.set(transactionalId, (waiting = new Set()));
        waiting.add(key);
        continue;
      }
      let list = byBroker.get(leader);
      if (list === undefined) byBroker.set(leader, (list = []));
      list.push(tp);
    }
    for (const [brokerId, partitions] of [...byBroker].sort((a, b) => a[0] - b[0])) this.send(txn, brokerId, partitions);
    if (this.unknownLeader.size > 0 && this.retryTimer === null) this.retryTimer = this.host.context.setTimer(ms(MARKER_RETRY_BACKOFF_MS), TAG_RETRY);
  }

  private send(txn: PendingCompleteTxn, brokerId: number, partitions: readonly TopicPartitionRef[]): void {
    const correlationId = this.host.nextCorrelationId();
    const request: WriteTxnMarkersRequest = {
      type: "WriteTxnMarkers",
      correlationId,
      markers: [{ producerId: txn.transit.producerId, producerEpoch: txn.transit.producerEpoch, transactionResult: txn.result === "COMMIT", partitions, coordinatorEpoch: txn.coordinatorEpoch }],
      sizeBytes: REQUEST_HEADER_BYTES + 24 + 8 * partitions.length,
    };
    const timer = this.host.context.setTimer(ms(this.host.config["request.timeout.ms"]), TAG_REQUEST_TIMEOUT, correlationId);
    this.inflight.set(correlationId, { transactionalId: txn.transactionalId, brokerId, coordinatorEpoch: txn.coordinatorEpoch, partitions, timer });
    const context = this.host.context;
    if (context.tracing) context.trace("txn-markers-sent", { transactionalId: txn.transactionalId, brokerId, result: txn.result, coordinatorEpoch: txn.coordinatorEpoch, partitions: partitions.map((p) => topicPartitionKey(p.topic, p.partition)) });
    this.host.sendToBroker(brokerId, request);
  }

  onTimer(tag: string, data: unknown): boolean {
    if (tag === TAG_RETRY) {
      this.retryTimer = null;
      const waiting = [...this.unknownLeader];
      this.unknownLeader.clear();
      for (const [transactionalId, keys] of waiting) this.addTxnMarkersToBrokerQueue(transactionalId, [...keys]);
      return true;
    }
    if (tag === TAG_APPEND_RETRY) {
      this.tryAppendToLog(data as PendingCompleteTxn);
      return true;
    }
    if (tag === TAG_REQUEST_TIMEOUT) {
      const request = this.inflight.get(data as number);
      if (request === undefined) return true;
      this.inflight.delete(data as number);
      this.onDisconnected(request);
      return true;
    }
    return false;
  }

  /** The completion handler's current-state check: false (and the markers cancelled) when the sending must stop. */
  private stillOwned(transactionalId: string, coordinatorEpoch: number): TransactionMetadata | null {
    const state = this.txnManager.getTransactionState(transactionalId);
    if (isStateError(state)) {
      assert(state.error === "NOT_COORDINATOR" || state.error === "COORDINATOR_LOAD_IN_PROGRESS", `marker completion: unexpected ${state.error}`);
      this.removeMarkersForTxnId(transactionalId);
      return null;
    }
    assert(state !== null, `the coordinator owns ${transactionalId}'s partition but has no metadata for it`);
    if (state.coordinatorEpoch !== coordinatorEpoch) {
      this.removeMarkersForTxnId(transactionalId);
      return null;
    }
    return state.transactionMetadata;
  }

  /**
   * The connection to `brokerId` was refused or closed by its OS (its process is gone): every request in flight to
   * it completes as disconnected now; its partitions wait MARKER_RETRY_BACKOFF_MS for a fresh leader lookup (the
   * metadata cache may still name the dead broker until the controller's UpdateMetadata arrives).
   */
  onBrokerDisconnected(brokerId: number): void {
    for (const [correlationId, request] of [...this.inflight]) {
      if (request.brokerId !== brokerId) continue;
      this.inflight.delete(correlationId);
      this.host.context.cancelTimer(request.timer);
      if (!this.pending.has(request.transactionalId)) continue;
      if (this.stillOwned(request.transactionalId, request.coordinatorEpoch) === null) continue;
      let waiting = this.unknownLeader.get(request.transactionalId);
      if (waiting === undefined) this.unknownLeader.set(request.transactionalId, (waiting = new Set()));
      for (const p of request.partitions) waiting.add(topicPartitionKey(p.topic, p.partition));
    }
    if (this.unknownLeader.size > 0 && this.retryTimer === null) this.retryTimer = this.host.context.setTimer(ms(MARKER_RETRY_BACKOFF_MS), TAG_RETRY);
  }

  private onDisconnected(request: InflightRequest): void {
    if (!this.pending.has(request.transactionalId)) return;
    if (this.stillOwned(request.transactionalId, request.coordinatorEpoch) === null) return;
    this.addTxnMarkersToBrokerQueue(request.transactionalId, request.partitions.map((p) => topicPartitionKey(p.topic, p.partition)));
  }

  /** TransactionMarkerRequestCompletionHandler.onComplete for an answered request. */
  onResponse(response: WriteTxnMarkersResponse): void {
    const request = this.inflight.get(response.correlationId);
    if (request === undefined) return;
    this.inflight.delete(response.correlationId);
    this.host.context.cancelTimer(request.timer);
    const { transactionalId } = request;
    const txn = this.pending.get(transactionalId);
    if (txn === undefined) return;
    const metadata = this.stillOwned(transactionalId, request.coordinatorEpoch);
    if (metadata === null) return;
    const errors = response.markers.find((m) => m.producerId === txn.transit.producerId);
    assert(errors !== undefined, `WriteTxnMarkersResponse without producer id ${txn.transit.producerId}`);
    const retry: string[] = [];
    for (const p of errors.partitions) {
      const key = topicPartitionKey(p.topic, p.partition);
      if (p.error === "NONE" || p.error === "UNSUPPORTED_VERSION") {
        metadata.removePartition(key);
      } else if (RETRIABLE.has(p.error)) {
        retry.push(key);
      } else if (p.error === "INVALID_PRODUCER_EPOCH" || p.error === "TRANSACTION_COORDINATOR_FENCED") {
        this.removeMarkersForTxnId(transactionalId);
        return;
      } else if (FATAL.has(p.error)) {
        // The completion handler throws IllegalStateException; InterBrokerSendThread.doWork turns any unhandled
        // exception into FatalExitError, so the broker exits. (Reached e.g. with a topic's max.message.bytes below
        // a marker batch's size.)
        const reason = `fatal ${p.error} while sending a marker for ${transactionalId}`;
        assert(this.host.fatalExit !== undefined, reason);
        this.host.fatalExit(reason);
        return;
      } else {
        assert(false, `unexpected ${p.error} while sending a marker for ${transactionalId}`);
      }
    }
    if (retry.length > 0) this.addTxnMarkersToBrokerQueue(transactionalId, retry);
    else this.maybeWriteTxnCompletion(transactionalId);
  }

  /** maybeWriteTxnCompletion: once every marker is written (and none is in flight), append CompleteX. */
  private maybeWriteTxnCompletion(transactionalId: string): void {
    const txn = this.pending.get(transactionalId);
    if (txn === undefined || txn.metadata.topicPartitions.length > 0) return;
    if ([...this.inflight.values()].some((r) => r.transactionalId === transactionalId)) return;
    this.pending.delete(transactionalId);
    this.tryAppendToLog(txn);
  }

  /** tryAppendToLog: the CompleteX record, retried while COORDINATOR_NOT_AVAILABLE (the pending state kept). */
  private tryAppendToLog(txn: PendingCompleteTxn): void {
    const retryOnError = (error: KafkaError) => error === "COORDINATOR_NOT_AVAILABLE";
    this.txnManager.appendTransactionToLog(
      txn.transactionalId,
      txn.coordinatorEpoch,
      txn.transit,
      (error) => {
        if (retryOnError(error)) this.host.context.setTimer(ms(MARKER_RETRY_BACKOFF_MS), TAG_APPEND_RETRY, txn);
      },
      retryOnError,
    );
  }

  /** removeMarkersForTxnId: stop sending this transaction's markers. */
  removeMarkersForTxnId(transactionalId: string): void {
    this.pending.delete(transactionalId);
    this.unknownLeader.delete(transactionalId);
    for (const [correlationId, request] of [...this.inflight]) {
      if (request.transactionalId !== transactionalId) continue;
      this.host.context.cancelTimer(request.timer);
      this.inflight.delete(correlationId);
    }
  }

  /** removeMarkersForTxnTopicPartition: the coordinator lost (or is reloading) a __transaction_state partition. */
  removeMarkersForTxnTopicPartition(txnTopicPartition: number): void {
    for (const transactionalId of [...this.pending.keys()]) if (this.txnManager.partitionFor(transactionalId) === txnTopicPartition) this.removeMarkersForTxnId(transactionalId);
  }

  shutdown(): void {
    for (const request of this.inflight.values()) this.host.context.cancelTimer(request.timer);
    this.inflight.clear();
    this.pending.clear();
    this.unknownLeader.clear();
    if (this.retryTimer !== null) this.host.context.cancelTimer(this.retryTimer);
    this.retryTimer = null;
  }
}
