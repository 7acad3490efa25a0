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
 * expiration; no ListTransactions / DescribeTransactions. With compat.epochBumpPerTransaction (KIP-890 part 2,
 * Kafka 4.0's transaction version 2) EndTxn follows 4.0's endTransaction: every PrepareCommit / PrepareAbort bumps
 * the producer epoch (the markers carry it), retries are recognised by the bumped epoch, and the response carries
 * the new producer id and epoch; not modelled there: the producer id rotation when the bumped epoch is exhausted
 * (a model assertion: 32766 transactions of one producer) and the abort of a transaction with no partitions
 * (Empty / CompleteX + ABORT, which a 3.x producer completes locally: INVALID_TXN_STATE).
 */

import type { Disk } from "../../../disk/disk.ts";
import { GROUP_METADATA_TOPIC_NAME, partitionForGroup } from "../../../protocol/group.ts";
import { topicPartitionKey, type KafkaError, type TopicPartitionRef } from "../../../protocol/kafka.ts";
import type { TransactionResult } from "../../../protocol/transaction.ts";
import { assert, ModelAssertionError } from "../../../sim/assert.ts";
import type { Message, ProcessContext } from "../../../sim/host.ts";
import type { TimerId } from "../../../sim/kernel.ts";
import { ms } from "../../../sim/time.ts";
import type { Compat, ReplicationConfig } from "../../config.ts";
import type { MetadataCache } from "../../metadata-cache.ts";
import { TransactionMarkerChannel } from "./transaction-marker-channel.ts";
import { NO_PRODUCER_EPOCH, NO_PRODUCER_ID, TransactionMetadata, isEpochExhausted, type TxnTransitMetadata } from "./transaction-metadata.ts";
import { TXN_COORDINATOR_TIMER_PREFIX, TransactionStateManager, isStateError, type TimedOutTransaction, type TransactionLogStorage } from "./transaction-state-manager.ts";

const TAG_ABORT = `${TXN_COORDINATOR_TIMER_PREFIX}transaction-abort`;

export interface TxnCoordinatorHost {
  readonly brokerId: number;
  readonly context: ProcessContext<Disk>;
  readonly config: ReplicationConfig;
  readonly compat: Pick<Compat, "epochBumpPerTransaction">;
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

/** EndTxnCallback: the error and, with the per-transaction epoch bump, the producer id and epoch to use next (-1 otherwise). */
export type EndTxnCallback = (error: KafkaError, producerId: number, producerEpoch: number) => void;

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

  handleEndTransaction(transactionalId: string, producerId: number, producerEpoch: number, result: TransactionResult, callback: EndTxnCallback): void {
    this.endTransaction(transactionalId, producerId, producerEpoch, result, true, callback);
  }

  private endTransaction(transactionalId: string, producerId: number, producerEpoch: number, result: TransactionResult, isFromClient: boolean, callback: EndTxnCallback): void {
    const fail = (error: KafkaError): void => callback(error, NO_PRODUCER_ID, NO_PRODUCER_EPOCH);
    if (transactionalId === "") return fail("INVALID_REQUEST");
    const bumpEpoch = this.host.compat.epochBumpPerTransaction;
    const state = this.txnManager.getTransactionState(transactionalId);
    if (isStateError(state)) return fail(state.error);
    if (state === null) return fail("INVALID_PRODUCER_ID_MAPPING");
    const { coordinatorEpoch, transactionMetadata: m } = state;
    const isEpochFence = m.pendingState === "PrepareEpochFence";
    const prepared = bumpEpoch ? this.prepareEndTransactionWithEpochBump(m, producerId, producerEpoch, result, isFromClient) : this.prepareEndTransaction(m, producerId, producerEpoch, result, isFromClient);
    if ("error" in prepared) return fail(prepared.error);
    // A retry of a completed EndTxn: 4.0 answers the current producer id and epoch (v5), 3.x nothing.
    if (prepared.ok === "retry") return bumpEpoch ? callback("NONE", m.producerId, m.producerEpoch) : callback("NONE", NO_PRODUCER_ID, NO_PRODUCER_EPOCH);
    const transit = prepared.ok;
    this.txnManager.appendTransactionToLog(transactionalId, coordinatorEpoch, transit, (error) => {
      if (error !== "NONE") {
        if (isEpochFence) {
          const now = this.txnManager.getTransactionState(transactionalId);
          if (!isStateError(now) && now !== null && now.coordinatorEpoch === coordinatorEpoch) now.transactionMetadata.hasFailedEpochFence = true;
        }
        return fail(error);
      }
      const now = this.txnManager.getTransactionState(transactionalId);
      if (isStateError(now)) return fail(now.error);
      if (now === null || now.coordinatorEpoch !== coordinatorEpoch) return fail("NOT_COORDINATOR");
      const current = now.transactionMetadata;
      if (current.producerId !== producerId) return fail("INVALID_PRODUCER_ID_MAPPING");
      // 4.0 (TV2): the epoch is the request's, or the one bumped by this PrepareX.
      const epochMatches = current.producerEpoch === producerEpoch || (bumpEpoch && current.producerEpoch === producerEpoch + 1);
      if (!epochMatches) return fail("PRODUCER_FENCED");
      if (current.pendingTransitionInProgress) return fail("CONCURRENT_TRANSACTIONS");
      const expectedState = result === "COMMIT" ? "PrepareCommit" : "PrepareAbort";
      if (current.state !== expectedState) return fail("INVALID_TXN_STATE");
      const complete = current.prepareComplete(this.host.nowMs());
      if (bumpEpoch) callback("NONE", current.producerId, current.producerEpoch);
      else callback("NONE", NO_PRODUCER_ID, NO_PRODUCER_EPOCH);
      this.markerChannel.addTxnMarkersToSend(coordinatorEpoch, result, current, complete);
    });
  }

  /**
   * endTransaction's checks before the append (3.6, and 4.0's endTransactionWithTV1): the PrepareX transit, "retry"
   * (a retry of a completed EndTxn: NONE), or the error.
   */
  private prepareEndTransaction(m: TransactionMetadata, producerId: number, producerEpoch: number, result: TransactionResult, isFromClient: boolean): ApiResult<TxnTransitMetadata | "retry"> {
    if (m.producerId !== producerId) return fail("INVALID_PRODUCER_ID_MAPPING");
    if ((isFromClient && producerEpoch !== m.producerEpoch) || producerEpoch < m.producerEpoch) return fail("PRODUCER_FENCED");
    if (m.pendingTransitionInProgress && m.pendingState !== "PrepareEpochFence") return fail("CONCURRENT_TRANSACTIONS");
    switch (m.state) {
      case "Ongoing":
        return { ok: this.prepareAbortOrCommit(m, producerEpoch, result, false) };
      case "CompleteCommit":
        return result === "COMMIT" ? { ok: "retry" } : fail("INVALID_TXN_STATE");
      case "CompleteAbort":
        return result === "ABORT" ? { ok: "retry" } : fail("INVALID_TXN_STATE");
      default:
        return endTxnOutsideOngoing(m, result);
    }
  }

  /**
   * 4.0's endTransaction for transaction version 2 (KIP-890 part 2): the same epoch as the metadata's ends the
   * transaction (Ongoing → PrepareX with the epoch bumped); the epoch just below it is a retry of an EndTxn that
   * bumped it (retryOnEpochBump: NONE once complete, CONCURRENT_TRANSACTIONS while preparing); an epoch fence
   * (PrepareEpochFence pending) aborts at the fenced epoch, bumped once more by the PrepareAbort.
   */
  private prepareEndTransactionWithEpochBump(m: TransactionMetadata, producerId: number, producerEpoch: number, result: TransactionResult, isFromClient: boolean): ApiResult<TxnTransitMetadata | "retry"> {
    const isEpochFence = m.pendingState === "PrepareEpochFence";
    const isRetry = !isEpochFence && m.producerEpoch === producerEpoch + 1;
    let isValidEpoch: boolean;
    if (isEpochFence) isValidEpoch = (!isFromClient || producerEpoch === m.producerEpoch) && producerEpoch >= m.producerEpoch;
    else if (m.state === "PrepareCommit" || m.state === "PrepareAbort") isValidEpoch = isRetry;
    else if (m.state === "CompleteCommit" || m.state === "CompleteAbort") isValidEpoch = isRetry || producerEpoch === m.producerEpoch;
    else isValidEpoch = producerEpoch === m.producerEpoch;
    if (m.producerId !== producerId) return fail("INVALID_PRODUCER_ID_MAPPING");
    if (!isValidEpoch) return fail("PRODUCER_FENCED");
    if (m.pendingTransitionInProgress && m.pendingState !== "PrepareEpochFence") return fail("CONCURRENT_TRANSACTIONS");
    switch (m.state) {
      case "Ongoing":
        assert(isEpochFence || !m.isProducerEpochExhausted, `${m.transactionalId}: producer id rotation on an exhausted epoch at EndTxn is not modelled`);
        return { ok: this.prepareAbortOrCommit(m, producerEpoch, result, true) };
      case "CompleteCommit":
        // Not a retry: an ABORT here would be 4.0's abort without partitions (not modelled).
        return result === "COMMIT" && isRetry ? { ok: "retry" } : fail("INVALID_TXN_STATE");
      case "CompleteAbort":
        return result === "ABORT" && isRetry ? { ok: "retry" } : fail("INVALID_TXN_STATE");
      default:
        return endTxnOutsideOngoing(m, result);
    }
  }

  /** Ongoing → PrepareCommit / PrepareAbort; an epoch fence first takes the fenced epoch (and clears its pending state). */
  private prepareAbortOrCommit(m: TransactionMetadata, producerEpoch: number, result: TransactionResult, bumpEpoch: boolean): TxnTransitMetadata {
    const nextState = result === "COMMIT" ? "PrepareCommit" : "PrepareAbort";
    if (nextState === "PrepareAbort" && m.pendingState === "PrepareEpochFence") {
      m.pendingState = null;
      m.producerEpoch = producerEpoch;
      m.lastProducerEpoch = NO_PRODUCER_EPOCH;
    }
    return m.prepareAbortOrCommit(nextState, this.host.nowMs(), bumpEpoch);
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

/**
 * EndTxn against a transaction that is preparing, empty or gone — the same answers in 3.x and in 4.0's
 * transaction version 2: the same result again while preparing is CONCURRENT_TRANSACTIONS (retry), the other
 * one or an Empty transaction INVALID_TXN_STATE; Dead and PrepareEpochFence are never a current state here.
 */
function endTxnOutsideOngoing(m: TransactionMetadata, result: TransactionResult): ApiResult<TxnTransitMetadata | "retry"> {
  switch (m.state) {
    case "PrepareCommit":
      return fail(result === "COMMIT" ? "CONCURRENT_TRANSACTIONS" : "INVALID_TXN_STATE");
    case "PrepareAbort":
      return fail(result === "ABORT" ? "CONCURRENT_TRANSACTIONS" : "INVALID_TXN_STATE");
    case "Empty":
      return fail("INVALID_TXN_STATE");
    default:
      throw new ModelAssertionError(`${m.transactionalId} found in state ${m.state}`);
  }
}
