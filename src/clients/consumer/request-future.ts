/**
 * Kafka's RequestFuture (clients/consumer/internals/RequestFuture.java) without threads: the outcome of one
 * coordinator request or of a chain of them (JoinGroup then SyncGroup), completed or raised exactly once, with
 * listeners called synchronously in the order they were added. Errors are typed values: a Kafka error code name
 * (raised as Java raises `Errors`) or the name of the client exception Java raises, with Java's retriability.
 */

import { assert } from "../../sim/assert.ts";

export interface ClientError {
  /** "NOT_COORDINATOR", "UNKNOWN_MEMBER_ID"… or "DisconnectException", "CommitFailedException"… */
  readonly name: string;
  /** Whether Java's exception extends RetriableException. */
  readonly retriable: boolean;
}

/** The Errors whose exceptions extend RetriableException, as far as the group protocol sees them. */
const RETRIABLE: ReadonlySet<string> = new Set([
  "COORDINATOR_LOAD_IN_PROGRESS",
  "COORDINATOR_NOT_AVAILABLE",
  "NOT_COORDINATOR",
  "REQUEST_TIMED_OUT",
  "UNKNOWN_TOPIC_OR_PARTITION",
  "UNSTABLE_OFFSET_COMMIT",
  "NOT_ENOUGH_REPLICAS",
  "DisconnectException",
  "UnjoinedGroupException",
  "RetriableCommitFailedException",
]);

export function clientError(name: string): ClientError {
  return { name, retriable: RETRIABLE.has(name) };
}

export interface FutureListener<T> {
  onSuccess(value: T): void;
  onFailure(error: ClientError): void;
}

export class RequestFuture<T> {
  private outcome: { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ClientError } | null = null;
  private readonly listeners: FutureListener<T>[] = [];

  static failure<T>(name: string | ClientError): RequestFuture<T> {
    const future = new RequestFuture<T>();
    future.raise(name);
    return future;
  }

  static success<T>(value: T): RequestFuture<T> {
    const future = new RequestFuture<T>();
    future.complete(value);
    return future;
  }

  get isDone(): boolean {
    return this.outcome !== null;
  }

  get succeeded(): boolean {
    return this.outcome !== null && this.outcome.ok;
  }

  get failed(): boolean {
    return this.outcome !== null && !this.outcome.ok;
  }

  get value(): T {
    assert(this.outcome !== null && this.outcome.ok, "the value of a future that has not succeeded");
    return this.outcome.value;
  }

  get error(): ClientError {
    assert(this.outcome !== null && !this.outcome.ok, "the error of a future that has not failed");
    return this.outcome.error;
  }

  get isRetriable(): boolean {
    return this.failed && this.error.retriable;
  }

  complete(value: T): void {
    assert(this.outcome === null, "a request future completes once");
    this.outcome = { ok: true, value };
    for (const listener of this.listeners) listener.onSuccess(value);
  }

  raise(error: string | ClientError): void {
    assert(this.outcome === null, "a request future completes once");
    const raised = typeof error === "string" ? clientError(error) : error;
    this.outcome = { ok: false, error: raised };
    for (const listener of this.listeners) listener.onFailure(raised);
  }

  addListener(listener: FutureListener<T>): void {
    if (this.outcome === null) this.listeners.push(listener);
    else if (this.outcome.ok) listener.onSuccess(this.outcome.value);
    else listener.onFailure(this.outcome.error);
  }

  /** chain: this future's outcome becomes `other`'s. */
  chain(other: RequestFuture<T>): void {
    this.addListener({ onSuccess: (value) => other.complete(value), onFailure: (error) => other.raise(error) });
  }
}
