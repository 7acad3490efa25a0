/**
 * The producer's NetworkClient: requests in flight per broker connection (InFlightRequests), correlation ids,
 * max.in.flight.requests.per.connection, request.timeout.ms and the least-loaded node. A request that times
 * out disconnects its node: every request in flight to that node fails (REQUEST_TIMED_OUT), later responses on
 * the old connection are ignored, and the node is not used again for its reconnect backoff: reconnect.backoff.ms,
 * doubling with each failure in a row up to reconnect.backoff.max.ms, times a ±20 % jitter (ClusterConnectionStates
 * since KIP-144 / 0.11; ExponentialBackoff in 3.x; an answer from the node resets it). Requests without
 * a response (acks=0 Produce) complete as soon as they are sent. A reset connection (the broker's process is
 * gone, KafkaProducer.onConnectionRefused) disconnects the node the same way, its requests failing with
 * NETWORK_EXCEPTION (ClientResponse.wasDisconnected). Simplifications: connecting costs nothing (no handshake
 * round trip, no ApiVersions; an answer stands for ClusterConnectionStates.ready), and a link the network broke silently (a
 * partition, a pause, a power loss) is noticed only through timeouts.
 */

import type { Message, ProcessContext } from "../../sim/host.ts";
import type { TimerId } from "../../sim/kernel.ts";
import type { Rng } from "../../sim/rng.ts";
import { ms, type Micros } from "../../sim/time.ts";

/** Client-side failures of a request (Kafka's ClientResponse.wasTimedOut / wasDisconnected). */
export type RequestFailure = "REQUEST_TIMED_OUT" | "NETWORK_EXCEPTION";

export interface RequestHandler {
  onResponse(response: Message): void;
  onFailure(error: RequestFailure): void;
}

export interface KafkaRequestMessage extends Message {
  readonly correlationId: number;
}

interface InFlightRequest {
  readonly correlationId: number;
  readonly host: string;
  readonly handler: RequestHandler;
  /** The request.timeout.ms timer (its data is this entry). */
  timer: TimerId;
}

export const REQUEST_TIMEOUT_TAG = "producer:request-timeout";

export class NetworkClient {
  /**
   * Per node, its requests in flight in the order sent; a node's queue, once made, stays (empty when idle). A
   * response is matched in its node's queue (at most max.in.flight.requests.per.connection long), not through a
   * Map by correlation id: a long-lived Map that keeps taking and dropping entries leaves dead tables in V8's old
   * generation that hold each request, its handler and its batches through the scavenges (docs/performance.md,
   * "What survived the scavenges").
   */
  private readonly inFlight = new Map<string, InFlightRequest[]>();
  /** Requests in flight to every node. */
  private inFlightTotal = 0;
  private readonly reconnectAtUs = new Map<string, Micros>();
  /** The latest reconnect time ever set: once it is past, no node waits out a backoff and the Sender's wake-up asks none. */
  private latestReconnectAt = Number.NEGATIVE_INFINITY;
  /** ClusterConnectionStates' failedAttempts per node, until it answers. */
  private readonly failedAttempts = new Map<string, number>();
  private nextId = 1;

  constructor(
    private readonly context: ProcessContext,
    private readonly requestTimeoutMs: number,
    private readonly reconnectBackoffMs: number,
    private readonly maxInFlight: number,
    private readonly rng: Rng,
    /** Called after a node was disconnected (NetworkClient asks for a metadata update). */
    private readonly onDisconnect: (host: string) => void,
    /** The first correlation id (a process hosting two clients keeps their ids apart to route responses). */
    firstCorrelationId = 1,
    private readonly reconnectBackoffMaxMs = 1000,
    /** The reconnect backoff's jitter (ThreadLocalRandom in Kafka). */
    private readonly jitterRng: Rng | null = null,
  ) {
    this.nextId = firstCorrelationId;
  }

  nextCorrelationId(): number {
    return this.nextId++;
  }

  inFlightCount(host: string): number {
    return this.inFlight.get(host)?.length ?? 0;
  }

  /** NetworkClient.inFlightRequestCount: requests sent and not yet answered, to every node. */
  get inFlightRequestCount(): number {
    return this.inFlightTotal;
  }

  get hasInFlight(): boolean {
    return this.inFlightTotal > 0;
  }

  /** Not waiting out a reconnect backoff. */
  isConnectable(host: string, nowUs: Micros): boolean {
    // Every backoff is over by the latest reconnect time: no need to look the node up.
    if (this.latestReconnectAt <= nowUs) return true;
    return (this.reconnectAtUs.get(host) ?? Number.NEGATIVE_INFINITY) <= nowUs;
  }

  /** NetworkClient.ready: a request can go to `host` now. */
  ready(host: string, nowUs: Micros): boolean {
    return this.isConnectable(host, nowUs) && this.inFlightCount(host) < this.maxInFlight;
  }

  /** No node is in reconnect backoff from this time on (the latest reconnect time ever set). */
  get latestReconnectAtUs(): Micros {
    return this.latestReconnectAt;
  }

  /** When a node in reconnect backoff becomes connectable again (for the sender's wake-up). */
  reconnectAt(host: string): Micros | undefined {
    return this.reconnectAtUs.get(host);
  }

  /** Sends; with `handler` null no response is expected and the request completes at once. */
  send(host: string, request: KafkaRequestMessage, handler: RequestHandler | null): void {
    this.context.send(host, request);
    if (handler === null) return;
    const entry: InFlightRequest = { correlationId: request.correlationId, host, handler, timer: -1 };
    entry.timer = this.context.setTimer(ms(this.requestTimeoutMs), REQUEST_TIMEOUT_TAG, entry);
    let queue = this.inFlight.get(host);
    if (queue === undefined) {
      queue = [];
      this.inFlight.set(host, queue);
    }
    queue.push(entry);
    this.inFlightTotal++;
  }

  /** A response: true when it answered a request in flight (stale responses are dropped). */
  onResponse(from: string, response: KafkaRequestMessage): boolean {
    const entry = this.find(from, response.correlationId);
    if (entry === undefined) return false;
    if (this.failedAttempts.size > 0) this.failedAttempts.delete(from);
    this.remove(entry);
    this.context.cancelTimer(entry.timer);
    entry.handler.onResponse(response);
    return true;
  }

  /** The request.timeout.ms timer of `timedOut` fired (its data). */
  onRequestTimeout(timedOut: unknown): void {
    const request = timedOut as InFlightRequest;
    const entry = this.find(request.host, request.correlationId);
    if (entry === undefined) return;
    if (this.context.tracing) this.context.trace("producer-disconnect", { broker: entry.host, reason: "request-timeout", inFlight: this.inFlightCount(entry.host) });
    this.disconnect(entry.host, "REQUEST_TIMED_OUT");
  }

  /**
   * ClusterConnectionStates.updateReconnectBackoff / ExponentialBackoff.backoff (3.x): reconnect.backoff.ms ×
   * 2^(failures in a row − 1), the exponent capped where it reaches reconnect.backoff.max.ms, times a random
   * factor in [0.8, 1.2), at most reconnect.backoff.max.ms. A max not above the initial backoff keeps it constant.
   */
  private reconnectBackoffFor(host: string): number {
    const initial = this.reconnectBackoffMs;
    const max = this.reconnectBackoffMaxMs;
    if (max <= initial || initial <= 0) return initial;
    const failures = (this.failedAttempts.get(host) ?? 0) + 1;
    this.failedAttempts.set(host, failures);
    const expMax = Math.log(max / initial) / Math.log(2);
    const term = initial * 2 ** Math.min(failures - 1, expMax);
    const jitter = this.jitterRng === null ? 1 : 0.8 + 0.4 * this.jitterRng.float();
    return Math.min(max, Math.floor(jitter * term));
  }

  /** Closes the connection to `host`: every request in flight to it fails, in the order they were sent. */
  disconnect(host: string, error: RequestFailure): void {
    const queue = this.inFlight.get(host)?.splice(0) ?? [];
    const reconnectAtUs = this.context.now() + ms(this.reconnectBackoffFor(host));
    this.reconnectAtUs.set(host, reconnectAtUs);
    if (reconnectAtUs > this.latestReconnectAt) this.latestReconnectAt = reconnectAtUs;
    this.inFlightTotal -= queue.length;
    for (const entry of queue) this.context.cancelTimer(entry.timer);
    for (const entry of queue) entry.handler.onFailure(error);
    this.onDisconnect(host);
  }

  /**
   * NetworkClient.leastLoadedNode: from a random starting point, the first connectable node with nothing in
   * flight, else the connectable node with the fewest requests in flight that can take one more; null if none.
   */
  leastLoadedNode(hosts: readonly string[], nowUs: Micros): string | null {
    if (hosts.length === 0) return null;
    const offset = this.rng.int(0, hosts.length - 1);
    let best: string | null = null;
    let bestCount = Number.POSITIVE_INFINITY;
    for (let i = 0; i < hosts.length; i++) {
      const host = hosts[(offset + i) % hosts.length];
      if (!this.ready(host, nowUs)) continue;
      const count = this.inFlightCount(host);
      if (count === 0) return host;
      if (count < bestCount) {
        best = host;
        bestCount = count;
      }
    }
    return best;
  }

  /** Forgets every request (the producer closed): nothing more will be answered. */
  close(): void {
    for (const queue of this.inFlight.values()) for (const entry of queue) this.context.cancelTimer(entry.timer);
    this.inFlightTotal = 0;
    this.inFlight.clear();
  }

  /** The request in flight to `host` with this correlation id (ids are unique per client). */
  private find(host: string, correlationId: number): InFlightRequest | undefined {
    const queue = this.inFlight.get(host);
    if (queue === undefined) return undefined;
    for (let i = 0; i < queue.length; i++) if (queue[i].correlationId === correlationId) return queue[i];
    return undefined;
  }

  private remove(entry: InFlightRequest): void {
    const queue = this.inFlight.get(entry.host);
    if (queue === undefined) return;
    // Answers nearly always come in the order sent: the first entry leaves without a splice (which allocates).
    if (queue[0] === entry) {
      queue.shift();
      this.inFlightTotal--;
      return;
    }
    const index = queue.indexOf(entry);
    if (index < 0) return;
    queue.splice(index, 1);
    this.inFlightTotal--;
  }
}
