/**
 * The transactional producer's state machine and error classification, as Kafka 3.6's TransactionManager
 * (clients/.../producer/internals/TransactionManager.java): the eight states with State.isTransitionValid
 * asserted on every transition, and what each TxnRequestHandler does with each error of its response
 * (InitProducerIdHandler, AddPartitionsToTxnHandler, FindCoordinatorHandler, EndTxnHandler,
 * AddOffsetsToTxnHandler, TxnOffsetCommitHandler) and what a failed produce batch does to the state
 * (maybeTransitionToErrorState). Pure functions over error names: no I/O. Simplification: no authorization
 * errors are produced by the model's brokers, but they are classified as Kafka does.
 */

import { isRetriable } from "./errors.ts";

export type TransactionState =
  | "UNINITIALIZED"
  | "INITIALIZING"
  | "READY"
  | "IN_TRANSACTION"
  | "COMMITTING_TRANSACTION"
  | "ABORTING_TRANSACTION"
  | "ABORTABLE_ERROR"
  | "FATAL_ERROR";

/** TransactionManager.State.isTransitionValid. FATAL_ERROR may be entered from anywhere. */
export function isTransitionValid(source: TransactionState, target: TransactionState): boolean {
  switch (target) {
    case "UNINITIALIZED":
      return source === "READY" || source === "ABORTABLE_ERROR";
    case "INITIALIZING":
      return source === "UNINITIALIZED" || source === "ABORTING_TRANSACTION";
    case "READY":
      return source === "INITIALIZING" || source === "COMMITTING_TRANSACTION" || source === "ABORTING_TRANSACTION";
    case "IN_TRANSACTION":
      return source === "READY";
    case "COMMITTING_TRANSACTION":
      return source === "IN_TRANSACTION";
    case "ABORTING_TRANSACTION":
      return source === "IN_TRANSACTION" || source === "ABORTABLE_ERROR";
    case "ABORTABLE_ERROR":
      return source === "IN_TRANSACTION" || source === "COMMITTING_TRANSACTION" || source === "ABORTABLE_ERROR" || source === "INITIALIZING";
    case "FATAL_ERROR":
      return true;
  }
}

/** RetriableException subclasses among coordinator errors (besides the produce ones in errors.ts). */
const COORDINATOR_RETRIABLE: ReadonlySet<string> = new Set([
  "COORDINATOR_LOAD_IN_PROGRESS",
  "COORDINATOR_NOT_AVAILABLE",
  "NOT_COORDINATOR",
  "CONCURRENT_TRANSACTIONS",
  "UNSTABLE_OFFSET_COMMIT",
  "NOT_CONTROLLER",
]);

/** error.exception() instanceof RetriableException. */
export function isRetriableTxnError(error: string): boolean {
  return COORDINATOR_RETRIABLE.has(error) || isRetriable(error);
}

export type TxnRequestKind = "FindCoordinator" | "InitProducerId" | "AddPartitionsToTxn" | "AddOffsetsToTxn" | "EndTxn" | "TxnOffsetCommit";

/**
 * What a handler does with an error:
 * - `lookup-coordinator`: lookupCoordinator (the request's coordinator type) and reenqueue;
 * - `retry`: reenqueue (after retry.backoff.ms);
 * - `abortable`: abortableError (ABORTABLE_ERROR; the application must abort);
 * - `abortable-bump`: abortableErrorIfPossible (KIP-360: epochBumpRequired, then ABORTABLE_ERROR);
 * - `fatal`: fatalError (FATAL_ERROR; only close() is left), with the error reported
 *   (INVALID_PRODUCER_EPOCH is reported as PRODUCER_FENCED, as Kafka does).
 */
export type TxnErrorAction =
  | { readonly action: "lookup-coordinator" }
  | { readonly action: "retry" }
  | { readonly action: "abortable"; readonly error: string }
  | { readonly action: "abortable-bump"; readonly error: string }
  | { readonly action: "fatal"; readonly error: string };

const LOOKUP: TxnErrorAction = { action: "lookup-coordinator" };
const RETRY: TxnErrorAction = { action: "retry" };
const fatal = (error: string): TxnErrorAction => ({ action: "fatal", error });
const abortable = (error: string): TxnErrorAction => ({ action: "abortable", error });

/**
 * The error branch of each handler's handleResponse (error !== "NONE"). TxnOffsetCommit is per partition: its
 * `retry` means "leave the partition pending" (the handler reenqueues while any is pending), and
 * REQUEST_TIMED_OUT also looks the group coordinator up again. AddPartitionsToTxn's OPERATION_NOT_ATTEMPTED and
 * unknown partition errors are abortable only after every partition was seen (the caller collects them).
 */
export function classifyTxnError(kind: TxnRequestKind, error: string): TxnErrorAction {
  if (error === "NONE") throw new Error("classifyTxnError: NONE is not an error");
  switch (kind) {
    case "FindCoordinator":
      if (isRetriableTxnError(error)) return RETRY;
      if (error === "TRANSACTIONAL_ID_AUTHORIZATION_FAILED") return fatal(error);
      if (error === "GROUP_AUTHORIZATION_FAILED") return abortable(error);
      return fatal(error);
    case "InitProducerId":
      if (error === "NOT_COORDINATOR" || error === "COORDINATOR_NOT_AVAILABLE") return LOOKUP;
      if (isRetriableTxnError(error)) return RETRY;
      if (error === "TRANSACTIONAL_ID_AUTHORIZATION_FAILED" || error === "CLUSTER_AUTHORIZATION_FAILED") return abortable(error);
      if (error === "INVALID_PRODUCER_EPOCH" || error === "PRODUCER_FENCED") return fatal("PRODUCER_FENCED");
      return fatal(error);
    case "AddPartitionsToTxn":
      if (error === "COORDINATOR_NOT_AVAILABLE" || error === "NOT_COORDINATOR") return LOOKUP;
      if (isRetriableTxnError(error)) return RETRY;
      if (error === "INVALID_PRODUCER_EPOCH" || error === "PRODUCER_FENCED") return fatal("PRODUCER_FENCED");
      if (error === "TRANSACTIONAL_ID_AUTHORIZATION_FAILED" || error === "INVALID_TXN_STATE") return fatal(error);
      if (error === "UNKNOWN_PRODUCER_ID" || error === "INVALID_PRODUCER_ID_MAPPING") return { action: "abortable-bump", error };
      // TOPIC_AUTHORIZATION_FAILED, OPERATION_NOT_ATTEMPTED and anything else: abortable once all are seen.
      return abortable(error);
    case "EndTxn":
    case "AddOffsetsToTxn":
      if (error === "COORDINATOR_NOT_AVAILABLE" || error === "NOT_COORDINATOR") return LOOKUP;
      if (isRetriableTxnError(error)) return RETRY;
      if (error === "UNKNOWN_PRODUCER_ID" || error === "INVALID_PRODUCER_ID_MAPPING") return { action: "abortable-bump", error };
      if (error === "INVALID_PRODUCER_EPOCH" || error === "PRODUCER_FENCED") return fatal("PRODUCER_FENCED");
      if (error === "TRANSACTIONAL_ID_AUTHORIZATION_FAILED" || error === "INVALID_TXN_STATE") return fatal(error);
      if (kind === "AddOffsetsToTxn" && error === "GROUP_AUTHORIZATION_FAILED") return abortable(error);
      return fatal(error);
    case "TxnOffsetCommit":
      if (error === "COORDINATOR_NOT_AVAILABLE" || error === "NOT_COORDINATOR" || error === "REQUEST_TIMED_OUT") return LOOKUP;
      if (error === "UNKNOWN_TOPIC_OR_PARTITION" || error === "COORDINATOR_LOAD_IN_PROGRESS") return RETRY;
      if (error === "GROUP_AUTHORIZATION_FAILED" || error === "FENCED_INSTANCE_ID") return abortable(error);
      // CommitFailedException: the consumer group metadata does not match (KIP-447).
      if (error === "UNKNOWN_MEMBER_ID" || error === "ILLEGAL_GENERATION") return abortable(error);
      if (error === "INVALID_PRODUCER_EPOCH" || error === "PRODUCER_FENCED") return fatal("PRODUCER_FENCED");
      return fatal(error);
  }
}

/**
 * TransactionManager.maybeTransitionToErrorState for a failed produce batch of a transactional producer:
 * fatal for the authorization errors and a fenced producer, else abortable — with an epoch bump (KIP-360)
 * unless the transaction is already completing. (INVALID_PRODUCER_EPOCH from Produce is KIP-588's abortable
 * InvalidProducerEpochException; the model's brokers support the bump, so canBumpEpoch() is true.)
 */
export function classifyBatchError(error: string): "fatal" | "abortable" {
  if (error === "CLUSTER_AUTHORIZATION_FAILED" || error === "TRANSACTIONAL_ID_AUTHORIZATION_FAILED" || error === "PRODUCER_FENCED" || error === "UNSUPPORTED_VERSION") {
    return "fatal";
  }
  return "abortable";
}

/**
 * The state with its transitions asserted (TransactionManager.transitionTo): an invalid transition is a bug in
 * the caller — in Kafka an IllegalStateException — and stops the run loudly. The error states carry lastError.
 */
export class TransactionStateMachine {
  state: TransactionState = "UNINITIALIZED";
  lastError: string | null = null;

  constructor(private readonly onTransition: (previous: TransactionState, next: TransactionState, error: string | null) => void = () => {}) {}

  transitionTo(target: TransactionState, error: string | null = null): void {
    if (!isTransitionValid(this.state, target)) throw new Error(`Invalid transition attempted from state ${this.state} to state ${target}`);
    const isError = target === "FATAL_ERROR" || target === "ABORTABLE_ERROR";
    if (isError && error === null) throw new Error(`Cannot transition to ${target} with a null error`);
    const previous = this.state;
    this.lastError = isError ? error : null;
    this.state = target;
    this.onTransition(previous, target, this.lastError);
  }

  get hasError(): boolean {
    return this.state === "ABORTABLE_ERROR" || this.state === "FATAL_ERROR";
  }

  get isCompleting(): boolean {
    return this.state === "COMMITTING_TRANSACTION" || this.state === "ABORTING_TRANSACTION";
  }

  /** hasOngoingTransaction. */
  get hasOngoingTransaction(): boolean {
    return this.state === "IN_TRANSACTION" || this.isCompleting || this.state === "ABORTABLE_ERROR";
  }
}
