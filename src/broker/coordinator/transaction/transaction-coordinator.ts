/**
 * The transaction coordinator (TransactionCoordinator.scala, Kafka 3.6): InitProducerId with a transactional.id
 * (a new id's metadata created Empty; KIP-360's expected producer id and epoch; an ongoing transaction is fenced —
 * PrepareEpochFence, then aborted with the bumped epoch, and the producer answered CONCURRENT_TRANSACTIONS to
 * retry; producer id rotation when the epoch is exhausted), AddPartitionsToTxn (incl. KIP-890's verifyOnly
 * check), AddOffsetsToTxn (the group's __consumer_offsets partition added), EndTxn (PrepareCommit / PrepareAbort
 * appended, the client answered, then the markers sent by the marker channel and CompleteX appended), the
 * periodic timeout abort (abortTimedOutTransactions every transaction.abort.timed.out.transaction.cleanup.interval.ms)
 * and onElection / onResignation for __transaction_state partitions. Errors are Kafka's: CONCURRENT_TRANSACTIONS,
 * PRODUCER_FENCED, INVALID_PRODUCER_ID_MAPPING, INVALID_TXN_STATE, INVALID_TRANSACTION_TIMEOUT, NOT_COORDINATOR,
 * COORDINATOR_LOAD_IN_PROGRESS. Simplifications: the abort timer runs only once this broker has led a
 * __transaction_state partition (so a cluster without transactions schedules nothing); no transactional.id
 * expiration; EndTxn never bumps the epoch (KIP-890 part 2, compat.epochBumpPerTransaction, is not modelled yet);
 * no ListTransactions / DescribeTransactions.
 */

import type { Disk } from "../../../disk/disk.ts";
import { GROUP_METADATA_TOPIC_NAME, partitionForGroup } from "../../../protocol/group.ts";
import { topicPartitionKey, type KafkaError, type TopicPartitionRef } from "../../../protocol/kafka.ts";
import type { TransactionResult } from "../../../protocol/transaction.ts";
import { ModelAssertionError } from "../../../sim/assert.ts";
import type { Message, ProcessContext } from "../../../sim/host.ts";
import type { TimerId } from "../../../sim/kernel.ts";
import { ms } from "../../../sim/time.ts";
import type { ReplicationConfig } from "../../config.ts";
import type { MetadataCache } from "../../metadata-cache.ts";
import { TransactionMarkerChannel } from "./transaction-marker-channel.ts";
import { NO_PRODUCER_EPOCH, NO_PRODUCER_ID, TransactionMetadata, isEpochExhausted, type TxnTransitMetadata } from "./transaction-metadata.ts";
import { TXN_COORDINATOR_TIMER_PREFIX, TransactionStateManager, isStateError, type TimedOutTransaction, type TransactionLogStorage } from "./transaction-state-manager.ts";

const TAG_ABORT = `${TXN_COORDINATOR_TIMER_PREFIX}transaction-abort`;

export interface TxnCoordinatorHost {
  readonly brokerId: number;
  readonly context: ProcessContext<Disk>;
  readonly config: ReplicationConfig;
  readonly metadataCache: MetadataCache;
  nowMs(): number;
  nextCorrelationId(): number;
  sendToBroker(brokerId: number, message: Message): void;
  /** ProducerIdManager.generateProducerId; null while no block is claimed (COORDINATOR_LOAD_IN_PROGRESS). */
  generateProducerId(): number | null;
  /** The broker exits (InterBrokerSendThread's FatalExitError); absent: a model assertion. */
  fatalExit?(reason: string): void;
}

/** InitProducerIdResult. */
export interface InitProducerIdResult {
  readonly error: KafkaError;
  readonly producerId: number;
  readonly producerEpoch: number;
}

type ApiResult<T> = { readonly error: KafkaError } | { readonly ok: T };

function fail(error: KafkaError): { readonly error: KafkaError } {
  return { error };
}

export class TransactionCoordinator {
  readonly txnManager: TransactionStateManager;
  readonly markerChannel: TransactionMarkerChannel;
  private active = false;
  private abortTimer: TimerId | null = null;

  constructor(
    private readonly host: TxnCoordinatorHost,
    storage: TransactionLogStorage,
  ) {
    this.txnManager = new TransactionStateManager(host, storage);
    this.markerChannel = new TransactionMarkerChannel(host, this.txnManager);
  }

  get isActive(): boolean {
    return this.active;
  }

  startup(): void {
    this.active = true;
  }

  shutdown(): void {
    this.active = false;
    if (this.abortTimer !== null) this.host.context.cancelTimer(this.abortTimer);
    this.abortTimer = null;
    this.txnManager.shutdown();
    this.markerChannel.shutdown();
  }

  partitionFor(transactionalId: string): number {
    return this.txnManager.partitionFor(transactionalId);
  }

  onTimer(tag: string, data: unknown): void {
    if (tag === TAG_ABORT) {
      this.abortTimer = null;
      this.abortTimedOutTransactions();
      this.scheduleAbort();
      return;
    }
    if (this.txnManager.onTimer(tag, data)) return;
    this.markerChannel.onTimer(tag, data);
  }

  /** The connection to broker `brokerId` was refused or closed (its process is gone): the marker channel's requests to it fail now. */
  onBrokerDisconnected(brokerId: number): void {
    this.markerChannel.onBrokerDisconnected(brokerId);
  }

  private scheduleAbort(): void {
    if (!this.active || this.abortTimer !== null) return;
    this.abortTimer = this.host.context.setTimer(ms(this.host.config["transaction.abort.timed.out.transaction.cleanup.interval.ms"]), TAG_ABORT);
  }

  // ---- Leadership ----

  onElection(txnTopicPartition: number, coordinatorEpoch: number): void {
    this.markerChannel.removeMarkersForTxnTopicPartition(txnTopicPartition);
    this.txnManager.loadTransactionsForTxnTopicPartition(txnTopicPartition, coordinatorEpoch, (epoch, result, metadata, transit) =>
      this.markerChannel.addTxnMarkersToSend(epoch, result, metadata, transit),
    );
    this.scheduleAbort();
  }

  onResignation(txnTopicPartition: number, coordinatorEpoch: number | null): void {
    this.txnManager.removeTransactionsForTxnTopicPartition(txnTopicPartition, coordinatorEpoch);
    this.markerChannel.removeMarkersForTxnTopicPartition(txnTopicPartition);
  }

  // ---- InitProducerId ----

  /** handleInitProducerId for a non-null transactional id (the idempotent path is idempotence/producer-id-manager.ts). */
  handleInitProducerId(transactionalId: string, transactionTimeoutMs: number, expected: { producerId: number; producerEpoch: number } | null, callback: (result: InitProducerIdResult) => void): void {
    const error = (e: KafkaError) => callback({ error: e, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH });
    if (transactionalId === "") return error("INVALID_REQUEST");
    if (!this.txnManager.validateTransactionTimeoutMs(transactionTimeoutMs)) return error("INVALID_TRANSACTION_TIMEOUT");
    let state = this.txnManager.getTransactionState(transactionalId);
    if (state === null) {
      const producerId = this.host.generateProducerId();
      if (producerId === null) return error("COORDINATOR_LOAD_IN_PROGRESS");
      const created = new TransactionMetadata(transactionalId, producerId, NO_PRODUCER_ID, NO_PRODUCER_EPOCH, NO_PRODUCER_EPOCH, transactionTimeoutMs, "Empty", [], -1, this.host.nowMs());
      state = this.txnManager.putTransactionStateIfNotExists(created);
    }
    if (isStateError(state)) return error(state.error);
    if (state === null) return error("NOT_COORDINATOR");
    const { coordinatorEpoch, transactionMetadata: metadata } = state;
    const prepared = this.prepareInitProducerIdTransit(transactionTimeoutMs, metadata, expected);
    if ("error" in prepared) return error(prepared.error);
    const transit = prepared.ok;
    if (transit.txnState === "PrepareEpochFence") {
      // Abort the ongoing transaction with the bumped epoch; the producer retries (CONCURRENT_TRANSACTIONS).
      this.endTransaction(transactionalId, transit.producerId, transit.producerEpoch, "ABORT", false, (e) => error(e === "NONE" ? "CONCURRENT_TRANSACTIONS" : e));
      return;
    }
    this.txnManager.appendTransactionToLog(transactionalId, coordinatorEpoch, transit, (e) =>
      e === "NONE" ? callback({ error: "NONE", producerId: transit.producerId, producerEpoch: transit.producerEpoch }) : error(e),
    );
  }

  private prepareInitProducerIdTransit(transactionTimeoutMs: number, metadata: TransactionMetadata, expected: { producerId: number; producerEpoch: number } | null): ApiResult<TxnTransitMetadata> {
    const isValidProducerId = (e: { producerId: number; producerEpoch: number }): boolean =>
      metadata.producerEpoch === NO_PRODUCER_EPOCH || e.producerId === metadata.producerId || (e.producerId === metadata.lastProducerId && isEpochExhausted(e.producerEpoch));
    if (metadata.pendingTransitionInProgress) return fail("CONCURRENT_TRANSACTIONS");
    if (expected !== null && !isValidProducerId(expected)) return fail("PRODUCER_FENCED");
    switch (metadata.state) {
      case "PrepareAbort":
      case "PrepareCommit":
        return fail("CONCURRENT_TRANSACTIONS");
      case "CompleteAbort":
      case "CompleteCommit":
      case "Empty": {
        if (metadata.isProducerEpochExhausted && (expected === null || expected.producerEpoch === metadata.producerEpoch)) {
          const producerId = this.host.generateProducerId();
          if (producerId === null) return fail("COORDINATOR_LOAD_IN_PROGRESS");
          return { ok: metadata.prepareProducerIdRotation(producerId, transactionTimeoutMs, this.host.nowMs(), expected !== null) };
        }
        const transit = metadata.prepareIncrementProducerEpoch(transactionTimeoutMs, expected === null ? null : expected.producerEpoch, this.host.nowMs());
        return transit === "PRODUCER_FENCED" ? fail(transit) : { ok: transit };
      }
      case "Ongoing":
        return { ok: metadata.prepareFenceProducerEpoch() };
      case "Dead":
      case "PrepareEpochFence":
        throw new ModelAssertionError(`${metadata.transactionalId} found in state ${metadata.state}`);
    }
  }

  // ---- AddPartitionsToTxn / AddOffsetsToTxn ----

  /** handleVerifyPartitionsInTransaction (KIP-890 part 1): NONE for partitions in the transaction, INVALID_TXN_STATE else. */
  handleVerifyPartitionsInTransaction(transactionalId: string, producerId: number, producerEpoch: number, partitions: readonly TopicPartitionRef[]): KafkaError[] {
    if (transactionalId === "") return partitions.map(() => "INVALID_REQUEST");
    const state = this.txnManager.getTransactionState(transactionalId);
    let error: KafkaError | null = null;
    if (isStateError(state)) error = state.error;
    else if (state === null) error = "INVALID_PRODUCER_ID_MAPPING";
    else {
      const m = state.transactionMetadata;
      if (m.producerId !== producerId) error = "INVALID_PRODUCER_ID_MAPPING";
      else if (m.producerEpoch !== producerEpoch) error = "PRODUCER_FENCED";
      else if (m.state === "PrepareCommit" || m.state === "PrepareAbort") error = "CONCURRENT_TRANSACTIONS";
      else return partitions.map((p) => (m.hasPartition(p.topic, p.partition) ? "NONE" : "INVALID_TXN_STATE"));
    }
    return partitions.map(() => error);
  }

  handleAddPartitionsToTransaction(transactionalId: string, producerId: number, producerEpoch: number, partitions: readonly TopicPartitionRef[], callback: (error: KafkaError) => void): void {
    if (transactionalId === "") return callback("INVALID_REQUEST");
    const state = this.txnManager.getTransactionState(transactionalId);
    if (isStateError(state)) return callback(state.error);
    if (state === null) return callback("INVALID_PRODUCER_ID_MAPPING");
    const m = state.transactionMetadata;
    const keys = partitions.map((p) => topicPartitionKey(p.topic, p.partition));
    if (m.producerId !== producerId) return callback("INVALID_PRODUCER_ID_MAPPING");
    if (m.producerEpoch !== producerEpoch) return callback("PRODUCER_FENCED");
    if (m.pendingTransitionInProgress) return callback("CONCURRENT_TRANSACTIONS");
    if (m.state === "PrepareCommit" || m.state === "PrepareAbort") return callback("CONCURRENT_TRANSACTIONS");
    if (m.state === "Ongoing" && keys.every((k) => m.topicPartitions.includes(k))) return callback("NONE");
    this.txnManager.appendTransactionToLog(transactionalId, state.coordinatorEpoch, m.prepareAddPartitions(keys, this.host.nowMs()), callback);
  }

  /** KafkaApis.handleAddOffsetsToTxnRequest: the group's __consumer_offsets partition joins the transaction. */
  handleAddOffsetsToTransaction(transactionalId: string, producerId: number, producerEpoch: number, groupId: string, callback: (error: KafkaError) => void): void {
    const partition = partitionForGroup(groupId, this.host.config["offsets.topic.num.partitions"]);
    this.handleAddPartitionsToTransaction(transactionalId, producerId, producerEpoch, [{ topic: GROUP_METADATA_TOPIC_NAME, partition }], callback);
  }

  // ---- EndTxn ----

  handleEndTransaction(transactionalId: string, producerId: number, producerEpoch: number, result: TransactionResult, callback: (error: KafkaError) => void): void {
    this.endTransaction(transactionalId, producerId, producerEpoch, result, true, callback);
  }

  private endTransaction(transactionalId: string, producerId: number, producerEpoch: number, result: TransactionResult, isFromClient: boolean, callback: (error: KafkaError) => void): void {
    if (transactionalId === "") return callback("INVALID_REQUEST");
    let isEpochFence = false;
    const state = this.txnManager.getTransactionState(transactionalId);
    if (isStateError(state)) return callback(state.error);
    if (state === null) return callback("INVALID_PRODUCER_ID_MAPPING");
    const { coordinatorEpoch, transactionMetadata: m } = state;
    if (m.producerId !== producerId) return callback("INVALID_PRODUCER_ID_MAPPING");
    if ((isFromClient && producerEpoch !== m.producerEpoch) || producerEpoch < m.producerEpoch) return callback("PRODUCER_FENCED");
    if (m.pendingTransitionInProgress && m.pendingState !== "PrepareEpochFence") return callback("CONCURRENT_TRANSACTIONS");
    let transit: TxnTransitMetadata;
    switch (m.state) {
      case "Ongoing": {
        const nextState = result === "COMMIT" ? "PrepareCommit" : "PrepareAbort";
        if (nextState === "PrepareAbort" && m.pendingState === "PrepareEpochFence") {
          isEpochFence = true;
          m.pendingState = null;
          m.producerEpoch = producerEpoch;
          m.lastProducerEpoch = NO_PRODUCER_EPOCH;
        }
        transit = m.prepareAbortOrCommit(nextState, this.host.nowMs());
        break;
      }
      case "CompleteCommit":
        return callback(result === "COMMIT" ? "NONE" : "INVALID_TXN_STATE");
      case "CompleteAbort":
        return callback(result === "ABORT" ? "NONE" : "INVALID_TXN_STATE");
      case "PrepareCommit":
        return callback(result === "COMMIT" ? "CONCURRENT_TRANSACTIONS" : "INVALID_TXN_STATE");
      case "PrepareAbort":
        return callback(result === "ABORT" ? "CONCURRENT_TRANSACTIONS" : "INVALID_TXN_STATE");
      case "Empty":
        return callback("INVALID_TXN_STATE");
      case "Dead":
      case "PrepareEpochFence":
        throw new ModelAssertionError(`${transactionalId} found in state ${m.state}`);
    }
    this.txnManager.appendTransactionToLog(transactionalId, coordinatorEpoch, transit, (error) => {
      if (error !== "NONE") {
        if (isEpochFence) {
          const now = this.txnManager.getTransactionState(transactionalId);
          if (!isStateError(now) && now !== null && now.coordinatorEpoch === coordinatorEpoch) now.transactionMetadata.hasFailedEpochFence = true;
        }
        return callback(error);
      }
      const now = this.txnManager.getTransactionState(transactionalId);
      if (isStateError(now)) return callback(now.error);
      if (now === null || now.coordinatorEpoch !== coordinatorEpoch) return callback("NOT_COORDINATOR");
      const current = now.transactionMetadata;
      if (current.producerId !== producerId) return callback("INVALID_PRODUCER_ID_MAPPING");
      if (current.producerEpoch !== producerEpoch) return callback("PRODUCER_FENCED");
      if (current.pendingTransitionInProgress) return callback("CONCURRENT_TRANSACTIONS");
      const expectedState = result === "COMMIT" ? "PrepareCommit" : "PrepareAbort";
      if (current.state !== expectedState) return callback("INVALID_TXN_STATE");
      const complete = current.prepareComplete(this.host.nowMs());
      callback("NONE");
      this.markerChannel.addTxnMarkersToSend(coordinatorEpoch, result, current, complete);
    });
  }

  // ---- Timeout abort ----

  /** abortTimedOutTransactions: fence and abort every Ongoing transaction older than its timeout. */
  abortTimedOutTransactions(): void {
    for (const t of this.txnManager.timedOutTransactions()) {
      const state = this.txnManager.getTransactionState(t.transactionalId);
      if (isStateError(state) || state === null) continue;
      const m = state.transactionMetadata;
      if (m.producerId !== t.producerId || m.pendingTransitionInProgress) continue;
      const fence = m.prepareFenceProducerEpoch();
      const context = this.host.context;
      if (context.tracing) context.trace("txn-timeout-abort", { transactionalId: t.transactionalId, producerId: t.producerId, producerEpoch: fence.producerEpoch });
      this.endTransaction(m.transactionalId, fence.producerId, fence.producerEpoch, "ABORT", false, (error) => this.onEndTransactionComplete(t, error));
    }
  }

  private onEndTransactionComplete(t: TimedOutTransaction, error: KafkaError): void {
    const context = this.host.context;
    if (context.tracing && error !== "NONE") context.trace("txn-timeout-abort-failed", { transactionalId: t.transactionalId, producerId: t.producerId, error });
  }
}
