/**
 * The transactional half of Kafka 3.6's TransactionManager (the idempotence half is transaction-manager.ts):
 * the state machine (transaction-state.ts), the queue of TxnRequestHandlers ordered by Priority
 * (FindCoordinator, InitProducerId, AddPartitionsToTxn / AddOffsetsToTxn / TxnOffsetCommit, EndTxn, epoch
 * bump), the coordinators found with FindCoordinator (key type 1 for the transactional.id, 0 for a group), the
 * partitions new / pending / in the transaction, and one transactional request in flight at a time, as
 * Sender.maybeSendAndPollTransactionalRequest sends them. Results are callbacks (TransactionalRequestResult).
 * The result of the application's pending initTransactions / commitTransaction / abortTransaction is failed by a
 * fatal error (transitionToFatalError fails `pendingTransition.result`), even while its request is still queued:
 * the Sender sends nothing more once the state is FATAL_ERROR.
 * Simplifications: no pendingTransition caching of a timed-out initTransactions/commit (callers wait), no
 * max.block.ms on the transactional calls, the coordinator always supports the KIP-360 bump (canBumpEpoch).
 * KIP-890 part 2: the producer id and epoch of an EndTxn response (a coordinator with
 * compat.epochBumpPerTransaction) are adopted for the next transaction; the rest of transaction version 2 (no
 * AddPartitionsToTxn, partitions added by the leaders) is not modelled.
 */

import type { InitProducerIdRequest, InitProducerIdResponse, KafkaError } from "../../protocol/kafka.ts";
import type { FindCoordinatorRequest, FindCoordinatorResponse } from "../../protocol/group.ts";
import type {
  AddOffsetsToTxnRequest,
  AddOffsetsToTxnResponse,
  AddPartitionsToTxnRequest,
  AddPartitionsToTxnResponse,
  EndTxnRequest,
  EndTxnResponse,
  TxnOffsetCommitRequest,
  TxnOffsetCommitResponse,
} from "../../protocol/transaction.ts";
import type { Message } from "../../sim/host.ts";
import type { Micros } from "../../sim/time.ts";
import type { TransactionManager } from "./transaction-manager.ts";
import { classifyBatchError, classifyTxnError, TransactionStateMachine, type TransactionState, type TxnRequestKind } from "./transaction-state.ts";

/** TransactionalRequestResult: done with null, or failed with an error name. */
export type TxnResultCallback = (error: string | null) => void;

export interface OffsetToCommit {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** ConsumerGroupMetadata (KIP-447). */
export interface ConsumerGroupMetadata {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
}

const PRIORITY: Record<TxnRequestKind | "EpochBump", number> = {
  FindCoordinator: 0,
  InitProducerId: 1,
  AddPartitionsToTxn: 2,
  AddOffsetsToTxn: 2,
  TxnOffsetCommit: 2,
  EndTxn: 3,
  EpochBump: 4,
};

/** One TxnRequestHandler: what to send, where (coordinator type or any broker), and its result. */
export interface TxnRequestHandler {
  readonly kind: TxnRequestKind;
  readonly priority: number;
  /** 1: the transaction coordinator; 0: the group coordinator (TxnOffsetCommit); null: any broker. */
  readonly coordinatorType: 0 | 1 | null;
  readonly coordinatorKey: string;
  readonly build: (correlationId: number) => Message & { correlationId: number };
  readonly onResult: TxnResultCallback;
  isRetry: boolean;
  /** FindCoordinator: which coordinator it looks up. */
  readonly lookupType?: 0 | 1;
  readonly isEpochBump?: boolean;
  /** AddOffsetsToTxn: the TxnOffsetCommit to enqueue on success. */
  readonly offsets?: { readonly offsets: readonly OffsetToCommit[]; readonly group: ConsumerGroupMetadata };
}

export class TransactionalState {
  readonly machine: TransactionStateMachine;
  transactionCoordinator: string | null = null;
  groupCoordinator: string | null = null;
  private readonly pendingRequests: TxnRequestHandler[] = [];
  private sequence = 0;
  private readonly order = new WeakMap<TxnRequestHandler, number>();
  readonly newPartitions: string[] = [];
  readonly pendingPartitions: string[] = [];
  readonly partitionsInTransaction: string[] = [];
  transactionStarted = false;
  epochBumpRequired = false;
  inFlight: TxnRequestHandler | null = null;
  /** TxnOffsetCommit partitions not yet acknowledged (pendingTxnOffsetCommits). */
  private readonly pendingTxnOffsetCommits = new Map<string, OffsetToCommit>();

  constructor(
    readonly transactionalId: string,
    private readonly transactionTimeoutMs: number,
    private readonly idempotence: TransactionManager,
    onTransition: (previous: TransactionState, next: TransactionState, error: string | null) => void = () => {},
  ) {
    this.machine = new TransactionStateMachine(onTransition);
  }

  get state(): TransactionState {
    return this.machine.state;
  }

  // ---- The application's calls (KafkaProducer / TransactionManager public methods) ----

  /** initializeTransactions: InitProducerId with the transactional.id (after FindCoordinator). */
  initTransactions(onResult: TxnResultCallback): void {
    if (this.machine.hasError) return onResult(this.machine.lastError);
    this.machine.transitionTo("INITIALIZING");
    this.idempotence.setProducerIdAndEpoch(-1, -1);
    this.enqueueInitProducerId(false, this.pending(onResult));
  }

  /** The application's result of the transition under way (Kafka's `pendingTransition.result`). */
  private pendingTransition: TxnResultCallback | null = null;

  /** Makes `onResult` the pending transition's result: called once, by its request or by a fatal error. */
  private pending(onResult: TxnResultCallback): TxnResultCallback {
    let completed = false;
    const result: TxnResultCallback = (error) => {
      if (completed) return;
      completed = true;
      if (this.pendingTransition === result) this.pendingTransition = null;
      onResult(error);
    };
    this.pendingTransition = result;
    return result;
  }

  private enqueueInitProducerId(isEpochBump: boolean, onResult: TxnResultCallback): void {
    const producerId = isEpochBump ? this.idempotence.producerId : -1;
    const producerEpoch = isEpochBump ? this.idempotence.producerEpoch : -1;
    this.enqueue({
      kind: "InitProducerId",
      priority: isEpochBump ? PRIORITY.EpochBump : PRIORITY.InitProducerId,
      coordinatorType: 1,
      coordinatorKey: this.transactionalId,
      isRetry: false,
      isEpochBump,
      onResult,
      build: (correlationId): InitProducerIdRequest => ({
        type: "InitProducerId",
        correlationId,
        transactionalId: this.transactionalId,
        transactionTimeoutMs: this.transactionTimeoutMs,
        producerId,
        producerEpoch,
      }),
    });
  }

  beginTransaction(): string | null {
    if (this.machine.hasError) return this.machine.lastError;
    this.machine.transitionTo("IN_TRANSACTION");
    return null;
  }

  /** maybeAddPartition: a partition's first record in this transaction queues it for AddPartitionsToTxn. */
  maybeAddPartition(tp: string): void {
    if (this.state !== "IN_TRANSACTION") throw new Error(`Cannot add partition ${tp} to transaction while in state ${this.state}`);
    if (this.partitionsInTransaction.includes(tp) || this.newPartitions.includes(tp) || this.pendingPartitions.includes(tp)) return;
    this.newPartitions.push(tp);
  }

  /** isSendToPartitionAllowed: a batch is drained only once its partition is in the transaction. */
  isSendToPartitionAllowed(tp: string): boolean {
    return this.state !== "FATAL_ERROR" && this.partitionsInTransaction.includes(tp);
  }

  beginCommit(onResult: TxnResultCallback): void {
    if (this.machine.hasError) return onResult(this.machine.lastError);
    this.machine.transitionTo("COMMITTING_TRANSACTION");
    this.beginCompletingTransaction(true, this.pending(onResult));
  }

  beginAbort(onResult: TxnResultCallback): void {
    if (this.state === "FATAL_ERROR") return onResult(this.machine.lastError);
    this.machine.transitionTo("ABORTING_TRANSACTION");
    this.newPartitions.length = 0;
    this.beginCompletingTransaction(false, this.pending(onResult));
  }

  private beginCompletingTransaction(committed: boolean, onResult: TxnResultCallback): void {
    if (this.newPartitions.length > 0) this.enqueue(this.addPartitionsHandler());
    const bump = this.epochBumpRequired;
    // INVALID_PRODUCER_ID_MAPPING: the coordinator would refuse EndTxn; go straight to InitProducerId.
    if (this.machine.lastError !== "INVALID_PRODUCER_ID_MAPPING") {
      const producerId = this.idempotence.producerId;
      const producerEpoch = this.idempotence.producerEpoch;
      this.enqueue({
        kind: "EndTxn",
        priority: PRIORITY.EndTxn,
        coordinatorType: 1,
        coordinatorKey: this.transactionalId,
        isRetry: false,
        onResult: bump ? () => {} : onResult,
        build: (correlationId): EndTxnRequest => ({ type: "EndTxn", correlationId, transactionalId: this.transactionalId, producerId, producerEpoch, committed }),
      });
      if (!bump) return;
    }
    // KIP-360: after an abortable error the epoch is bumped with InitProducerId(current id and epoch).
    this.enqueueInitProducerId(true, onResult);
  }

  sendOffsetsToTransaction(offsets: readonly OffsetToCommit[], group: ConsumerGroupMetadata, onResult: TxnResultCallback): void {
    if (this.machine.hasError) return onResult(this.machine.lastError);
    if (this.state !== "IN_TRANSACTION") throw new Error(`Cannot send offsets if a transaction is not in progress (currentState= ${this.state})`);
    const producerId = this.idempotence.producerId;
    const producerEpoch = this.idempotence.producerEpoch;
    this.enqueue({
      kind: "AddOffsetsToTxn",
      priority: PRIORITY.AddOffsetsToTxn,
      coordinatorType: 1,
      coordinatorKey: this.transactionalId,
      isRetry: false,
      onResult,
      offsets: { offsets, group },
      build: (correlationId): AddOffsetsToTxnRequest => ({ type: "AddOffsetsToTxn", correlationId, transactionalId: this.transactionalId, producerId, producerEpoch, groupId: group.groupId }),
    });
  }

  // ---- Errors from produce batches (handleFailedBatch → maybeTransitionToErrorState) ----

  onBatchFailed(error: string): void {
    if (classifyBatchError(error) === "fatal") {
      this.transitionToFatalError(error);
      return;
    }
    if (!this.machine.isCompleting) this.epochBumpRequired = true;
    this.transitionToAbortableError(error);
  }

  private transitionToAbortableError(error: string): void {
    // Already aborting: nothing more to learn.
    if (this.state === "ABORTING_TRANSACTION") return;
    this.machine.transitionTo("ABORTABLE_ERROR", error);
  }

  private transitionToFatalError(error: string): void {
    this.machine.transitionTo("FATAL_ERROR", error);
    // TransactionManager.transitionToFatalError: `pendingTransition.result.fail(exception)`.
    this.pendingTransition?.(error);
  }

  // ---- The request queue (nextRequest, enqueueRequest, lookupCoordinator) ----

  enqueue(handler: TxnRequestHandler): void {
    this.order.set(handler, this.sequence++);
    this.pendingRequests.push(handler);
    // A PriorityQueue by priority; equal priorities in insertion order (deterministic).
    this.pendingRequests.sort((a, b) => a.priority - b.priority || this.order.get(a)! - this.order.get(b)!);
  }

  private reenqueue(handler: TxnRequestHandler): void {
    handler.isRetry = true;
    this.enqueue(handler);
  }

  lookupCoordinator(type: 0 | 1, key: string): void {
    if (type === 1) this.transactionCoordinator = null;
    else this.groupCoordinator = null;
    this.enqueue({
      kind: "FindCoordinator",
      priority: PRIORITY.FindCoordinator,
      coordinatorType: null,
      coordinatorKey: key,
      lookupType: type,
      isRetry: false,
      onResult: () => {},
      build: (correlationId): FindCoordinatorRequest => ({ type: "FindCoordinator", correlationId, key, keyType: type }),
    });
  }

  private addPartitionsHandler(): TxnRequestHandler {
    this.pendingPartitions.push(...this.newPartitions.splice(0));
    const partitions = [...this.pendingPartitions];
    const producerId = this.idempotence.producerId;
    const producerEpoch = this.idempotence.producerEpoch;
    return {
      kind: "AddPartitionsToTxn",
      priority: PRIORITY.AddPartitionsToTxn,
      coordinatorType: 1,
      coordinatorKey: this.transactionalId,
      isRetry: false,
      onResult: () => {},
      build: (correlationId): AddPartitionsToTxnRequest => ({
        type: "AddPartitionsToTxn",
        correlationId,
        transactionalId: this.transactionalId,
        producerId,
        producerEpoch,
        verifyOnly: false,
        partitions: partitions.map(splitTopicPartition),
      }),
    };
  }

  get hasPendingRequests(): boolean {
    return this.pendingRequests.length > 0 || this.newPartitions.length > 0;
  }

  /** TransactionManager.nextRequest: the next handler to send, or null (EndTxn waits for the batches). */
  nextRequest(hasIncompleteBatches: boolean): TxnRequestHandler | null {
    if (this.newPartitions.length > 0) this.enqueue(this.addPartitionsHandler());
    let next = this.pendingRequests[0];
    if (next === undefined) return null;
    if (next.kind === "EndTxn" && hasIncompleteBatches) return null;
    this.pendingRequests.shift();
    // maybeTerminateRequestWithError: an error state fails queued requests (a FindCoordinator may still go).
    if (this.machine.hasError && !(this.state === "ABORTABLE_ERROR" && next.kind === "FindCoordinator")) {
      next.onResult(this.machine.lastError);
      return null;
    }
    if (next.kind === "EndTxn" && !this.transactionStarted) {
      // Nothing was added: the transaction completes locally.
      next.onResult(null);
      if (this.state !== "FATAL_ERROR") this.completeTransaction();
      next = this.pendingRequests.shift()!;
      if (next === undefined) return null;
    }
    return next;
  }

  /** Sender: the coordinator to send a handler to was not found or not reachable (maybeFindCoordinatorAndRetry). */
  retryAfterLookup(handler: TxnRequestHandler): void {
    if (handler.coordinatorType !== null) this.lookupCoordinator(handler.coordinatorType, handler.coordinatorKey);
    this.reenqueue(handler);
  }

  coordinatorFor(type: 0 | 1): string | null {
    return type === 1 ? this.transactionCoordinator : this.groupCoordinator;
  }

  private completeTransaction(): void {
    this.machine.transitionTo(this.epochBumpRequired ? "INITIALIZING" : "READY");
    this.epochBumpRequired = false;
    this.transactionStarted = false;
    this.newPartitions.length = 0;
    this.pendingPartitions.length = 0;
    this.partitionsInTransaction.length = 0;
  }

  // ---- Responses (TxnRequestHandler.onComplete / handleResponse) ----

  /** A disconnect or request timeout: look the coordinator up again and retry. */
  onRequestFailed(handler: TxnRequestHandler): void {
    this.inFlight = null;
    if (handler.coordinatorType !== null) this.lookupCoordinator(handler.coordinatorType, handler.coordinatorKey);
    this.reenqueue(handler);
  }

  onResponse(handler: TxnRequestHandler, response: Message, from: string, nowUs: Micros): void {
    void nowUs;
    this.inFlight = null;
    switch (handler.kind) {
      case "FindCoordinator": {
        const r = response as FindCoordinatorResponse;
        if (r.error === "NONE") {
          if (handler.lookupType === 1) this.transactionCoordinator = r.host;
          else this.groupCoordinator = r.host;
          return handler.onResult(null);
        }
        return this.onError(handler, r.error);
      }
      case "InitProducerId": {
        const r = response as InitProducerIdResponse;
        if (r.error !== "NONE") return this.onError(handler, r.error);
        this.idempotence.setProducerIdAndEpoch(r.producerId, r.producerEpoch);
        this.machine.transitionTo("READY");
        if (handler.isEpochBump === true) this.idempotence.resetSequenceNumbers();
        return handler.onResult(null);
      }
      case "AddPartitionsToTxn": {
        const r = response as AddPartitionsToTxnResponse;
        let deferred: string | null = null;
        for (const p of r.partitions) {
          if (p.error === "NONE") continue;
          const action = classifyTxnError("AddPartitionsToTxn", p.error);
          if (action.action === "abortable") {
            deferred ??= p.error;
            continue;
          }
          return this.applyAction(handler, action);
        }
        const added = r.partitions.map((p) => `${p.topic}-${p.partition}`);
        for (const tp of added) {
          const index = this.pendingPartitions.indexOf(tp);
          if (index >= 0) this.pendingPartitions.splice(index, 1);
        }
        if (deferred !== null) return this.abortableError(handler, deferred);
        for (const tp of added) if (!this.partitionsInTransaction.includes(tp)) this.partitionsInTransaction.push(tp);
        this.transactionStarted = true;
        return handler.onResult(null);
      }
      case "EndTxn": {
        const r = response as EndTxnResponse;
        if (r.error !== "NONE") return this.onError(handler, r.error);
        // EndTxn v5 (KIP-890 part 2, 4.0's EndTxnHandler): a coordinator that bumped the epoch answers the producer
        // id and epoch of the next transaction; the sequences start again at 0. -1: no bump (3.x coordinators).
        if (r.producerId !== -1) {
          this.idempotence.setProducerIdAndEpoch(r.producerId, r.producerEpoch);
          this.idempotence.resetSequenceNumbers();
        }
        this.completeTransaction();
        return handler.onResult(null);
      }
      case "AddOffsetsToTxn": {
        const r = response as AddOffsetsToTxnResponse;
        if (r.error !== "NONE") return this.onError(handler, r.error);
        this.transactionStarted = true;
        this.enqueue(this.txnOffsetCommitHandler(handler));
        return;
      }
      case "TxnOffsetCommit": {
        const r = response as TxnOffsetCommitResponse;
        let lookedUp = false;
        for (const p of r.partitions) {
          const tp = `${p.topic}-${p.partition}`;
          if (p.error === "NONE") {
            this.pendingTxnOffsetCommits.delete(tp);
            continue;
          }
          const action = classifyTxnError("TxnOffsetCommit", p.error);
          if (action.action === "lookup-coordinator") {
            if (!lookedUp) this.lookupCoordinator(0, handler.coordinatorKey);
            lookedUp = true;
          } else if (action.action !== "retry") {
            this.pendingTxnOffsetCommits.clear();
            return this.applyAction(handler, action);
          }
        }
        void from;
        if (this.pendingTxnOffsetCommits.size === 0) return handler.onResult(null);
        return this.reenqueue(handler);
      }
    }
  }

  private txnOffsetCommitHandler(addOffsets: TxnRequestHandler): TxnRequestHandler {
    const { offsets, group } = addOffsets.offsets!;
    for (const o of offsets) this.pendingTxnOffsetCommits.set(`${o.topic}-${o.partition}`, o);
    const producerId = this.idempotence.producerId;
    const producerEpoch = this.idempotence.producerEpoch;
    return {
      kind: "TxnOffsetCommit",
      priority: PRIORITY.TxnOffsetCommit,
      coordinatorType: 0,
      coordinatorKey: group.groupId,
      isRetry: false,
      onResult: addOffsets.onResult,
      build: (correlationId): TxnOffsetCommitRequest => ({
        type: "TxnOffsetCommit",
        correlationId,
        transactionalId: this.transactionalId,
        groupId: group.groupId,
        producerId,
        producerEpoch,
        generationId: group.generationId,
        memberId: group.memberId,
        groupInstanceId: group.groupInstanceId,
        partitions: [...this.pendingTxnOffsetCommits.values()].map((o) => ({
          topic: o.topic,
          partition: o.partition,
          committedOffset: o.offset,
          committedLeaderEpoch: -1,
          committedMetadata: null,
        })),
      }),
    };
  }

  private onError(handler: TxnRequestHandler, error: KafkaError): void {
    this.applyAction(handler, classifyTxnError(handler.kind, error));
  }

  private applyAction(handler: TxnRequestHandler, action: ReturnType<typeof classifyTxnError>): void {
    switch (action.action) {
      case "lookup-coordinator":
        this.lookupCoordinator(1, this.transactionalId);
        return this.reenqueue(handler);
      case "retry":
        return this.reenqueue(handler);
      case "abortable":
        return this.abortableError(handler, action.error);
      case "abortable-bump":
        this.epochBumpRequired = true;
        return this.abortableError(handler, action.error);
      case "fatal":
        handler.onResult(action.error);
        return this.transitionToFatalError(action.error);
    }
  }

  private abortableError(handler: TxnRequestHandler, error: string): void {
    handler.onResult(error);
    this.transitionToAbortableError(error);
  }
}

function splitTopicPartition(tp: string): { topic: string; partition: number } {
  const at = tp.lastIndexOf("-");
  return { topic: tp.slice(0, at), partition: Number(tp.slice(at + 1)) };
}
