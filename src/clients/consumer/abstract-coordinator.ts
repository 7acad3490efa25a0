/**
 * The group membership half of the Java consumer's coordinator, as Kafka 3.6's AbstractCoordinator: coordinator
 * discovery (FindCoordinator to a broker in turn, rediscovery on NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE, a
 * disconnect or a request timeout), the join loop (joinGroupIfNeeded: onJoinPrepare, JoinGroup — MEMBER_ID_REQUIRED
 * stores the id and rejoins — the leader's assignment, SyncGroup, onJoinComplete), the member states UNJOINED →
 * PREPARING_REBALANCE → COMPLETING_REBALANCE → STABLE, the generation, requestRejoin and the resets on
 * UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION / FENCED_INSTANCE_ID, LeaveGroup (dynamic members only, KIP-345), and the
 * heartbeat thread: heartbeats every heartbeat.interval.ms while the member has joined, the coordinator marked
 * unknown after session.timeout.ms without an answer, and the member leaving the group when the application has
 * not called poll() for max.poll.interval.ms (trace "consumer-poll-timeout"). The main-thread steps are called
 * from the consumer's poll loop and return false while they wait (a response, a backoff); they never block.
 * Simplifications: the heartbeat thread wakes at its next deadline instead of every retry.backoff.ms; a request
 * timeout fails every request on the coordinator connection at once (NetworkClient disconnects it); no
 * authentication or authorization errors; no rack ids; no request versions (the broker's compat switches decide).
 */

import {
  CONSUMER_PROTOCOL_TYPE,
  UNKNOWN_GENERATION_ID,
  UNKNOWN_MEMBER_ID,
  type ConsumerProtocolAssignment,
  type FindCoordinatorRequest,
  type FindCoordinatorResponse,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type JoinGroupProtocol,
  type JoinGroupRequest,
  type JoinGroupResponse,
  type LeaveGroupRequest,
  type LeaveGroupResponse,
  type SyncGroupRequest,
  type SyncGroupResponse,
} from "../../protocol/group.ts";
import { REQUEST_HEADER_BYTES, type KafkaError } from "../../protocol/kafka.ts";
import { assert } from "../../sim/assert.ts";
import type { Message } from "../../sim/host.ts";
import type { TimerId } from "../../sim/kernel.ts";
import { ms, type Micros } from "../../sim/time.ts";
import type { CoordinatorMetrics } from "../metrics.ts";
import type { ConsumerConfig } from "./config.ts";
import { Heartbeat } from "./heartbeat.ts";
import { clientError, RequestFuture, type ClientError } from "./request-future.ts";

export type MemberState = "UNJOINED" | "PREPARING_REBALANCE" | "COMPLETING_REBALANCE" | "STABLE";

/** AbstractCoordinator.Generation. */
export interface Generation {
  readonly generationId: number;
  readonly memberId: string;
  readonly protocolName: string | null;
}

export const NO_GENERATION: Generation = { generationId: UNKNOWN_GENERATION_ID, memberId: UNKNOWN_MEMBER_ID, protocolName: null };

export function sameGeneration(a: Generation, b: Generation): boolean {
  return a.generationId === b.generationId && a.memberId === b.memberId && a.protocolName === b.protocolName;
}

/** What a coordinator needs from the consumer that owns it. */
export interface CoordinatorHost {
  readonly config: ConsumerConfig;
  readonly coordinatorMetrics: CoordinatorMetrics;
  nowUs(): Micros;
  nextRequestId(): number;
  send(host: string, message: Message): void;
  setTimer(delayUs: Micros, tag: string, data?: unknown): TimerId;
  cancelTimer(id: TimerId): void;
  /** NetworkClient.leastLoadedNode: a broker to ask (the known ones and the bootstrap list, in turn). */
  leastLoadedHost(): string;
  /** NetworkClient.isUnavailable: the connection to `host` failed and its reconnect backoff has not passed. */
  isUnavailable(host: string): boolean;
  requestMetadataUpdate(): void;
  traceEvent(kind: string, fields: Record<string, unknown>): void;
  /** Whether the application is inside poll(): its loop calls pollHeartbeat at least every heartbeat interval. */
  readonly inPoll: boolean;
  /** Asks the main thread's loop to run again at `atUs` (a backoff ends). */
  wakeMainAt(atUs: Micros): void;
  /** Asks the main thread's loop to run again now (a response it waits for arrived). */
  wakeMain(): void;
}

type Connection = "coordinator" | "node";

interface PendingRequest {
  readonly host: string;
  readonly connection: Connection;
  readonly responseType: string;
  readonly timer: TimerId;
  readonly future: RequestFuture<Message>;
  readonly sentUs: Micros;
}

export const TAG_HEARTBEAT = "consumer-heartbeat";
export const TAG_COORDINATOR_TIMEOUT = "consumer-coordinator-request-timeout";

/** AbstractCoordinator.JOIN_GROUP_TIMEOUT_LAPSE. */
const JOIN_GROUP_TIMEOUT_LAPSE_MS = 5_000;

/** Errors after which joinGroupIfNeeded rejoins at once, without retry.backoff.ms. */
const REJOIN_AT_ONCE: ReadonlySet<string> = new Set(["UNKNOWN_MEMBER_ID", "ILLEGAL_GENERATION", "REBALANCE_IN_PROGRESS", "MEMBER_ID_REQUIRED"]);

const RESPONSE_TYPES: ReadonlySet<string> = new Set([
  "FindCoordinatorResponse",
  "JoinGroupResponse",
  "SyncGroupResponse",
  "HeartbeatResponse",
  "LeaveGroupResponse",
  "OffsetCommitResponse",
  "OffsetFetchResponse",
]);

export abstract class AbstractCoordinator {
  protected readonly groupId: string;
  protected readonly groupInstanceId: string | null;
  protected readonly heartbeat: Heartbeat;
  state: MemberState = "UNJOINED";
  generation: Generation = NO_GENERATION;
  /** The coordinator broker: its id and host, or null while unknown. */
  coordinator: { readonly nodeId: number; readonly host: string } | null = null;
  protected rejoinNeeded = true;
  protected rejoinReason = "";
  private needsJoinPrepare = true;
  private joinFuture: RequestFuture<ConsumerProtocolAssignment> | null = null;
  private findCoordinatorFuture: RequestFuture<void> | null = null;
  /** µs before which no FindCoordinator is sent again (after a failed lookup). */
  private coordinatorRetryAtUs = 0;
  /** µs before which no JoinGroup is sent again (after a retriable failure). */
  private joinRetryAtUs = 0;
  /** A fatal error the next poll() throws (FindCoordinator, JoinGroup, SyncGroup or the heartbeat thread). */
  protected fatalError: ClientError | null = null;
  private readonly heartbeatThread = { started: false, enabled: false, closed: false, failed: null as ClientError | null, timer: null as TimerId | null };
  private readonly pending = new Map<number, PendingRequest>();
  private lastRebalanceStartUs = -1;
  /** ClientResponse.requestLatencyMs of the response being handled (the handlers run synchronously from onMessage). */
  protected responseLatencyMs = 0;

  constructor(protected readonly host: CoordinatorHost) {
    const config = host.config;
    assert(config["group.id"] !== null, "a coordinator needs a group.id");
    this.groupId = config["group.id"];
    this.groupInstanceId = config["group.instance.id"];
    this.heartbeat = new Heartbeat(
      {
        sessionTimeoutUs: ms(config["session.timeout.ms"]),
        heartbeatIntervalUs: ms(config["heartbeat.interval.ms"]),
        maxPollIntervalUs: ms(config["max.poll.interval.ms"]),
        retryBackoffUs: ms(config["retry.backoff.ms"]),
      },
      host.nowUs(),
    );
  }

  // ---- What the consumer coordinator adds ----

  /** The JoinGroup protocols: one per assignor, in preference order. */
  protected abstract metadata(): JoinGroupProtocol[];
  /** Revocations before joining (and the auto-commit before them); false while it waits. */
  protected abstract onJoinPrepare(generationId: number, memberId: string): boolean;
  /** The leader's assignment for every member (it may wait for metadata). */
  protected abstract onLeaderElected(response: JoinGroupResponse): RequestFuture<SyncGroupRequest["assignments"]>;
  protected abstract onJoinComplete(generation: Generation, assignment: ConsumerProtocolAssignment): void;

  // ---- Identity, for traces and history ----

  get memberFields(): { group: string; member: string; generation: number } {
    return { group: this.groupId, member: this.generation.memberId, generation: this.generation.generationId };
  }


  get isStatic(): boolean {
    return this.groupInstanceId !== null;
  }

  /** coordinatorUnknown / checkAndGetCoordinator: a coordinator whose connection is in reconnect backoff is forgotten. */
  coordinatorUnknown(): boolean {
    if (this.coordinator !== null && this.host.isUnavailable(this.coordinator.host)) {
      this.markCoordinatorUnknown("coordinator unavailable", true);
      // ensureCoordinatorReady sleeps retry.backoff.ms before the next lookup.
      this.coordinatorRetryAtUs = this.host.nowUs() + ms(this.host.config["retry.backoff.ms"]);
    }
    return this.coordinator === null;
  }

  /** generationIfStable: the generation when STABLE, else null. */
  generationIfStable(): Generation | null {
    return this.state === "STABLE" ? this.generation : null;
  }

  rebalanceInProgress(): boolean {
    return this.state === "PREPARING_REBALANCE" || this.state === "COMPLETING_REBALANCE";
  }

  protected hasGenerationReset(generation: Generation): boolean {
    return generation.generationId === NO_GENERATION.generationId && generation.protocolName === null;
  }

  rejoinNeededOrPending(): boolean {
    return this.rejoinNeeded || this.joinFuture !== null;
  }

  requestRejoin(reason: string): void {
    this.rejoinReason = reason;
    this.rejoinNeeded = true;
  }

  requestRejoinIfNecessary(reason: string): void {
    if (!this.rejoinNeeded) this.requestRejoin(reason);
  }

  /** Takes the fatal error poll() must throw, if any. */
  takeFatalError(): ClientError | null {
    const error = this.heartbeatThread.failed ?? this.fatalError;
    this.heartbeatThread.failed = null;
    this.fatalError = null;
    return error;
  }

  // ---- Coordinator discovery ----

  /** ensureCoordinatorReady as a step: true when the coordinator is known; else a lookup is on its way. */
  ensureCoordinatorReady(): boolean {
    if (!this.coordinatorUnknown()) return true;
    this.lookupCoordinator();
    const now = this.host.nowUs();
    if (this.findCoordinatorFuture === null && this.coordinatorRetryAtUs > now) this.host.wakeMainAt(this.coordinatorRetryAtUs);
    return false;
  }

  /** lookupCoordinator: the FindCoordinator in flight, a new one, or null while backing off after a failure. */
  protected lookupCoordinator(): RequestFuture<void> | null {
    if (this.findCoordinatorFuture !== null || !this.coordinatorUnknown()) return this.findCoordinatorFuture;
    if (this.host.nowUs() < this.coordinatorRetryAtUs) return null;
    const node = this.host.leastLoadedHost();
    const correlationId = this.host.nextRequestId();
    const request: FindCoordinatorRequest = { type: "FindCoordinator", correlationId, key: this.groupId, keyType: 0, sizeBytes: REQUEST_HEADER_BYTES + this.groupId.length };
    const future = new RequestFuture<void>();
    this.findCoordinatorFuture = future;
    this.send(node, "node", request, "FindCoordinatorResponse", this.host.config["request.timeout.ms"]).addListener({
      onSuccess: (message) => {
        const response = message as FindCoordinatorResponse;
        if (response.error === "NONE") {
          this.coordinator = { nodeId: response.nodeId, host: response.host };
          this.heartbeat.resetSessionTimeout(this.host.nowUs());
          this.host.traceEvent("consumer-coordinator-found", { ...this.memberFields, coordinator: response.host, nodeId: response.nodeId });
          future.complete(undefined);
        } else future.raise(response.error);
      },
      onFailure: (error) => future.raise(error),
    });
    future.addListener({
      onSuccess: () => {
        this.findCoordinatorFuture = null;
        this.host.wakeMain();
        this.runHeartbeatThread();
      },
      onFailure: (error) => {
        this.findCoordinatorFuture = null;
        if (!error.retriable) this.fatalError = error;
        // ensureCoordinatorReady: a retriable failure waits for a metadata update before the next lookup.
        this.host.requestMetadataUpdate();
        this.coordinatorRetryAtUs = this.host.nowUs() + ms(this.host.config["retry.backoff.ms"]);
        this.host.wakeMainAt(this.coordinatorRetryAtUs);
      },
    });
    return this.findCoordinatorFuture;
  }

  /**
   * markCoordinatorUnknown: forget the coordinator; unless the connection is already gone, disconnect it, which
   * fails every request in flight on it with a DisconnectException.
   */
  markCoordinatorUnknown(cause: string, isDisconnected = false): void {
    if (this.coordinator === null) return;
    const old = this.coordinator;
    this.coordinator = null;
    this.host.traceEvent("consumer-coordinator-unknown", { ...this.memberFields, coordinator: old.host, cause });
    if (!isDisconnected) this.disconnect(old.host, "coordinator");
  }

  // ---- Requests ----

  /** Sends a request; the future completes with the response or raises DisconnectException (timeout, disconnect). */
  protected send(host: string, connection: Connection, request: Message & { correlationId: number }, responseType: string, timeoutMs: number): RequestFuture<Message> {
    const future = new RequestFuture<Message>();
    this.host.send(host, request);
    const timer = this.host.setTimer(ms(timeoutMs), TAG_COORDINATOR_TIMEOUT, request.correlationId);
    this.pending.set(request.correlationId, { host, connection, responseType, timer, future, sentUs: this.host.nowUs() });
    return future;
  }

  /** A request to the coordinator; without one known it fails with COORDINATOR_NOT_AVAILABLE. */
  protected sendToCoordinator(build: (correlationId: number) => Message & { correlationId: number }, responseType: string, timeoutMs?: number): RequestFuture<Message> {
    if (this.coordinator === null) return RequestFuture.failure("COORDINATOR_NOT_AVAILABLE");
    return this.send(this.coordinator.host, "coordinator", build(this.host.nextRequestId()), responseType, timeoutMs ?? this.host.config["request.timeout.ms"]);
  }

  /**
   * The connection to `host` was refused or reset (its broker process is gone): NetworkClient fails every request
   * in flight to it with a DisconnectException, and a lost coordinator connection makes the coordinator unknown.
   */
  onDisconnect(host: string): void {
    if (this.coordinator?.host === host) this.markCoordinatorUnknown("disconnected", true);
    this.disconnect(host, "coordinator");
    this.disconnect(host, "node");
  }

  /** Fails every request in flight on a connection (NetworkClient.disconnect). */
  private disconnect(host: string, connection: Connection): void {
    const failed: PendingRequest[] = [];
    for (const [correlationId, pending] of [...this.pending]) {
      if (pending.host !== host || pending.connection !== connection) continue;
      this.pending.delete(correlationId);
      this.host.cancelTimer(pending.timer);
      failed.push(pending);
    }
    for (const pending of failed) pending.future.raise("DisconnectException");
  }

  /** Handles a group response; false for a message that is not one. */
  onMessage(message: Message): boolean {
    if (!RESPONSE_TYPES.has(message.type)) return false;
    const correlationId = (message as { correlationId?: unknown }).correlationId as number;
    const pending = this.pending.get(correlationId);
    // A late answer to a request that timed out or whose connection was closed.
    if (pending === undefined) return true;
    if (pending.responseType !== message.type) return false;
    this.pending.delete(correlationId);
    this.host.cancelTimer(pending.timer);
    this.responseLatencyMs = Math.floor(this.host.nowUs() / 1000) - Math.floor(pending.sentUs / 1000);
    pending.future.complete(message);
    return true;
  }

  /** Handles the coordinator's timers; false for another tag. */
  onTimer(tag: string, data: unknown): boolean {
    if (tag === TAG_HEARTBEAT) {
      this.heartbeatThread.timer = null;
      this.runHeartbeatThread();
      return true;
    }
    if (tag !== TAG_COORDINATOR_TIMEOUT) return false;
    const pending = this.pending.get(data as number);
    assert(pending !== undefined, "a coordinator request timer outlives its request");
    // NetworkClient: a request timeout disconnects the connection; the handlers see a DisconnectException.
    this.host.traceEvent("consumer-request-timeout", { ...this.memberFields, to: pending.host, request: pending.responseType.replace(/Response$/, "") });
    if (pending.connection === "coordinator" && this.coordinator?.host === pending.host) this.markCoordinatorUnknown("request timed out", true);
    this.disconnect(pending.host, pending.connection);
    return true;
  }

  /** The consumer closed: nothing in flight is waited for any more. */
  abandonRequests(): void {
    for (const pending of this.pending.values()) this.host.cancelTimer(pending.timer);
    this.pending.clear();
    this.closeHeartbeatThread();
  }

  /** Whether a request of this response type is in flight (tests, close). */
  hasPending(responseType: string): boolean {
    for (const pending of this.pending.values()) if (pending.responseType === responseType) return true;
    return false;
  }

  /** CoordinatorResponseHandler.onFailure: a disconnect marks the coordinator unknown. */
  private handleFailure<T>(error: ClientError, future: RequestFuture<T>): void {
    if (error.name === "DisconnectException") this.markCoordinatorUnknown("disconnected", true);
    future.raise(error);
  }

  /** compose(handler): the response handler turns the response into the outcome. */
  protected compose<T>(sent: RequestFuture<Message>, handle: (response: Message, future: RequestFuture<T>) => void): RequestFuture<T> {
    const future = new RequestFuture<T>();
    sent.addListener({ onSuccess: (response) => handle(response, future), onFailure: (error) => this.handleFailure(error, future) });
    return future;
  }

  // ---- Joining ----

  /**
   * joinGroupIfNeeded as a step: true when the member needs no rejoin (STABLE with its assignment applied);
   * false while it waits for the coordinator, onJoinPrepare, the JoinGroup/SyncGroup round or a backoff.
   */
  joinGroupIfNeeded(): boolean {
    for (let round = 0; this.rejoinNeededOrPending(); round++) {
      assert(round < 8, "joinGroupIfNeeded rejoins at once only after a completed round");
      if (!this.ensureCoordinatorReady()) return false;
      if (this.needsJoinPrepare) {
        this.needsJoinPrepare = false;
        if (!this.onJoinPrepare(this.generation.generationId, this.generation.memberId)) {
          this.needsJoinPrepare = true;
          return false;
        }
      }
      const now = this.host.nowUs();
      if (this.joinFuture === null && now < this.joinRetryAtUs) {
        this.host.wakeMainAt(this.joinRetryAtUs);
        return false;
      }
      const future = this.initiateJoinGroup();
      if (!future.isDone) return false;
      this.joinFuture = null;
      if (future.succeeded) {
        const generation = this.generation;
        if (!this.hasGenerationReset(generation) && this.state === "STABLE") {
          this.onJoinComplete(generation, future.value);
          this.needsJoinPrepare = true;
        } else {
          this.resetStateAndRejoin(`rebalance failed since the generation/state was modified by heartbeat thread to ${generation.generationId}/${this.state}`, true);
        }
        continue;
      }
      const error = future.error;
      this.requestRejoin(`rebalance failed due to ${error.name}`);
      if (REJOIN_AT_ONCE.has(error.name)) continue;
      if (!error.retriable) {
        this.fatalError = error;
        return false;
      }
      this.joinRetryAtUs = now + ms(this.host.config["retry.backoff.ms"]);
      this.host.wakeMainAt(this.joinRetryAtUs);
      return false;
    }
    return true;
  }

  private initiateJoinGroup(): RequestFuture<ConsumerProtocolAssignment> {
    if (this.joinFuture === null) {
      this.state = "PREPARING_REBALANCE";
      if (this.lastRebalanceStartUs === -1) this.lastRebalanceStartUs = this.host.nowUs();
      const future = this.sendJoinGroupRequest();
      future.addListener({
        onSuccess: () => this.host.wakeMain(),
        onFailure: () => {
          this.host.coordinatorMetrics.recordFailedRebalance(this.host.nowUs());
          this.host.wakeMain();
        },
      });
      this.joinFuture = future;
    }
    return this.joinFuture;
  }

  private sendJoinGroupRequest(): RequestFuture<ConsumerProtocolAssignment> {
    if (this.coordinatorUnknown()) return RequestFuture.failure("COORDINATOR_NOT_AVAILABLE");
    const config = this.host.config;
    const sentGeneration = this.generation;
    const protocols = this.metadata();
    const rebalanceTimeoutMs = config["max.poll.interval.ms"];
    const timeoutMs = Math.max(config["request.timeout.ms"], rebalanceTimeoutMs + JOIN_GROUP_TIMEOUT_LAPSE_MS);
    this.host.traceEvent("consumer-join-group", { ...this.memberFields, reason: this.rejoinReason, protocols: protocols.map((p) => p.name) });
    const sent = this.sendToCoordinator(
      (correlationId): JoinGroupRequest => ({
        type: "JoinGroup",
        correlationId,
        groupId: this.groupId,
        sessionTimeoutMs: config["session.timeout.ms"],
        rebalanceTimeoutMs,
        memberId: sentGeneration.memberId,
        groupInstanceId: this.groupInstanceId,
        clientId: config["client.id"],
        protocolType: CONSUMER_PROTOCOL_TYPE,
        protocols,
        reason: this.rejoinReason,
        sizeBytes: REQUEST_HEADER_BYTES + 64 + 32 * protocols.length,
      }),
      "JoinGroupResponse",
      timeoutMs,
    );
    return this.compose<ConsumerProtocolAssignment>(sent, (message, future) => this.handleJoinGroupResponse(message as JoinGroupResponse, sentGeneration, future));
  }

  /** JoinGroupResponseHandler. */
  private handleJoinGroupResponse(response: JoinGroupResponse, sentGeneration: Generation, future: RequestFuture<ConsumerProtocolAssignment>): void {
    const error = response.error;
    if (error === "NONE") {
      if (response.protocolType !== null && response.protocolType !== CONSUMER_PROTOCOL_TYPE) {
        future.raise("INCONSISTENT_GROUP_PROTOCOL");
        return;
      }
      this.host.coordinatorMetrics.recordJoin(this.responseLatencyMs, this.host.nowUs());
      if (this.state !== "PREPARING_REBALANCE") {
        // Left the group (poll timeout) while the join was in flight.
        future.raise("UnjoinedGroupException");
        return;
      }
      this.state = "COMPLETING_REBALANCE";
      this.enableHeartbeatThread();
      this.generation = { generationId: response.generationId, memberId: response.memberId, protocolName: response.protocolName };
      this.host.traceEvent("consumer-join-group-response", { ...this.memberFields, leader: response.leader === response.memberId, protocol: response.protocolName });
      const assignments = response.leader === response.memberId ? this.onLeaderElected(response) : RequestFuture.success<SyncGroupRequest["assignments"]>([]);
      const generation = this.generation;
      assignments.addListener({
        onSuccess: (value) => this.sendSyncGroupRequest(generation, value).chain(future),
        onFailure: (failure) => future.raise(failure),
      });
      return;
    }
    this.host.traceEvent("consumer-join-group-error", { ...this.memberFields, error });
    switch (error) {
      case "COORDINATOR_LOAD_IN_PROGRESS":
      case "REBALANCE_IN_PROGRESS":
        future.raise(error);
        return;
      case "UNKNOWN_MEMBER_ID":
        if (sameGeneration(this.generation, sentGeneration)) this.resetStateOnResponseError("JOIN_GROUP", error, true);
        future.raise(error);
        return;
      case "COORDINATOR_NOT_AVAILABLE":
      case "NOT_COORDINATOR":
        this.markCoordinatorUnknown(`error response ${error}`);
        future.raise(error);
        return;
      case "MEMBER_ID_REQUIRED":
        // KIP-394: rejoin with the id the coordinator gave.
        this.generation = { generationId: UNKNOWN_GENERATION_ID, memberId: response.memberId, protocolName: null };
        this.requestRejoin(`need to re-join with the given member-id: ${response.memberId}`);
        future.raise(error);
        return;
      default:
        // FENCED_INSTANCE_ID, INCONSISTENT_GROUP_PROTOCOL, INVALID_SESSION_TIMEOUT, INVALID_GROUP_ID,
        // GROUP_MAX_SIZE_REACHED, UNSUPPORTED_VERSION and anything unexpected: fatal.
        future.raise({ name: error, retriable: false });
    }
  }

  private sendSyncGroupRequest(generation: Generation, assignments: SyncGroupRequest["assignments"]): RequestFuture<ConsumerProtocolAssignment> {
    const sent = this.sendToCoordinator(
      (correlationId): SyncGroupRequest => ({
        type: "SyncGroup",
        correlationId,
        groupId: this.groupId,
        generationId: generation.generationId,
        memberId: generation.memberId,
        groupInstanceId: this.groupInstanceId,
        protocolType: CONSUMER_PROTOCOL_TYPE,
        protocolName: generation.protocolName,
        assignments,
        sizeBytes: REQUEST_HEADER_BYTES + 64 + 32 * assignments.length,
      }),
      "SyncGroupResponse",
    );
    return this.compose<ConsumerProtocolAssignment>(sent, (message, future) => this.handleSyncGroupResponse(message as SyncGroupResponse, generation, future));
  }

  /** SyncGroupResponseHandler. */
  private handleSyncGroupResponse(response: SyncGroupResponse, sentGeneration: Generation, future: RequestFuture<ConsumerProtocolAssignment>): void {
    const error = response.error;
    if (error === "NONE") {
      if (response.protocolType !== null && response.protocolType !== CONSUMER_PROTOCOL_TYPE) {
        future.raise("INCONSISTENT_GROUP_PROTOCOL");
        return;
      }
      this.host.coordinatorMetrics.recordSync(this.responseLatencyMs, this.host.nowUs());
      if (this.hasGenerationReset(this.generation) || this.state !== "COMPLETING_REBALANCE") {
        // The heartbeat thread reset the generation meanwhile: retry at once.
        future.raise("ILLEGAL_GENERATION");
        return;
      }
      if (response.protocolName !== null && response.protocolName !== this.generation.protocolName) {
        future.raise("INCONSISTENT_GROUP_PROTOCOL");
        return;
      }
      this.state = "STABLE";
      this.rejoinReason = "";
      this.rejoinNeeded = false;
      const now = this.host.nowUs();
      this.host.coordinatorMetrics.recordRebalance(now, this.lastRebalanceStartUs);
      this.lastRebalanceStartUs = -1;
      future.complete(response.assignment);
      return;
    }
    this.host.traceEvent("consumer-sync-group-error", { ...this.memberFields, error });
    switch (error) {
      case "REBALANCE_IN_PROGRESS":
        future.raise(error);
        return;
      case "FENCED_INSTANCE_ID":
        future.raise({ name: error, retriable: false });
        return;
      case "UNKNOWN_MEMBER_ID":
      case "ILLEGAL_GENERATION":
        if (sameGeneration(this.generation, sentGeneration)) this.resetStateOnResponseError("SYNC_GROUP", error, error !== "ILLEGAL_GENERATION");
        future.raise(error);
        return;
      case "COORDINATOR_NOT_AVAILABLE":
      case "NOT_COORDINATOR":
        this.markCoordinatorUnknown(`error response ${error}`);
        future.raise(error);
        return;
      default:
        future.raise({ name: error, retriable: false });
    }
  }

  // ---- Resets ----

  private resetStateAndGeneration(reason: string, shouldResetMemberId: boolean): void {
    this.host.traceEvent("consumer-generation-reset", { ...this.memberFields, reason, resetMemberId: shouldResetMemberId });
    this.state = "UNJOINED";
    this.generation = shouldResetMemberId ? NO_GENERATION : { generationId: NO_GENERATION.generationId, memberId: this.generation.memberId, protocolName: null };
  }

  protected resetStateAndRejoin(reason: string, shouldResetMemberId: boolean): void {
    this.resetStateAndGeneration(reason, shouldResetMemberId);
    this.requestRejoin(reason);
    this.needsJoinPrepare = true;
  }

  protected resetStateOnResponseError(api: string, error: KafkaError, shouldResetMemberId: boolean): void {
    this.resetStateAndRejoin(`encountered ${error} from ${api} response`, shouldResetMemberId);
  }

  // ---- Leaving ----

  /**
   * maybeLeaveGroup: a dynamic member in a group sends LeaveGroup (once, no retry); every member resets its
   * generation and member id. Returns the LeaveGroup's future, or null when none was sent.
   */
  maybeLeaveGroup(reason: string): RequestFuture<void> | null {
    let future: RequestFuture<void> | null = null;
    if (!this.isStatic && !this.coordinatorUnknown() && this.state !== "UNJOINED" && this.generation.memberId !== UNKNOWN_MEMBER_ID) {
      const memberId = this.generation.memberId;
      this.host.traceEvent("consumer-leave-group", { ...this.memberFields, reason });
      const sent = this.sendToCoordinator(
        (correlationId): LeaveGroupRequest => ({
          type: "LeaveGroup",
          correlationId,
          groupId: this.groupId,
          members: [{ memberId, groupInstanceId: null, reason }],
          sizeBytes: REQUEST_HEADER_BYTES + 48,
        }),
        "LeaveGroupResponse",
      );
      future = this.compose<void>(sent, (message, out) => {
        const response = message as LeaveGroupResponse;
        if (response.error === "NONE") out.complete(undefined);
        else out.raise(response.error);
      });
    }
    this.resetStateAndRejoin("consumer pro-actively leaving the group", true);
    return future;
  }

  // ---- The heartbeat thread ----

  private enableHeartbeatThread(): void {
    this.heartbeatThread.started = true;
    this.heartbeatThread.enabled = true;
    this.heartbeat.restartTimeouts(this.host.nowUs());
    this.runHeartbeatThread();
  }

  /** closeHeartbeatThread. */
  protected closeHeartbeatThread(): void {
    this.heartbeatThread.closed = true;
    if (this.heartbeatThread.timer !== null) this.host.cancelTimer(this.heartbeatThread.timer);
    this.heartbeatThread.timer = null;
  }

  /**
   * pollHeartbeat: the application called poll(). False when the heartbeat thread failed: poll() throws its
   * error (takeFatalError) before anything else.
   */
  pollHeartbeat(nowUs: Micros): boolean {
    if (this.heartbeatThread.failed !== null) return false;
    this.heartbeat.poll(nowUs);
    return true;
  }

  /** One turn of HeartbeatThread.run, then its timer for the next deadline. */
  protected runHeartbeatThread(): void {
    const thread = this.heartbeatThread;
    if (thread.timer !== null) this.host.cancelTimer(thread.timer);
    thread.timer = null;
    for (let turn = 0; turn < 4; turn++) {
      if (thread.closed || !thread.enabled) return;
      if (this.state === "UNJOINED" || this.state === "PREPARING_REBALANCE" || thread.failed !== null) {
        thread.enabled = false;
        return;
      }
      const now = this.host.nowUs();
      // While the application is inside poll(), its loop calls pollHeartbeat at least every heartbeat interval.
      if (this.host.inPoll) this.heartbeat.poll(now);
      if (this.coordinatorUnknown()) {
        this.lookupCoordinator();
        this.armHeartbeatThread(now + ms(this.host.config["retry.backoff.ms"]));
        return;
      }
      if (this.heartbeat.sessionTimeoutExpired(now)) {
        this.markCoordinatorUnknown("session timed out without receiving a heartbeat response");
        continue;
      }
      if (this.heartbeat.pollTimeoutExpired(now)) {
        this.host.traceEvent("consumer-poll-timeout", { process: this.host.config["client.id"], ...this.memberFields, maxPollIntervalMs: this.host.config["max.poll.interval.ms"] });
        this.maybeLeaveGroup("consumer poll timeout has expired.");
        continue;
      }
      if (this.heartbeat.shouldHeartbeat(now)) {
        this.heartbeat.sentHeartbeat(now);
        this.sendHeartbeatRequest().addListener({
          onSuccess: () => {
            this.heartbeat.receiveHeartbeat(this.host.nowUs());
          },
          onFailure: (error) => {
            if (error.name === "REBALANCE_IN_PROGRESS") this.heartbeat.receiveHeartbeat(this.host.nowUs());
            else if (error.name === "FENCED_INSTANCE_ID") thread.failed = error;
            else {
              this.heartbeat.failHeartbeat(this.host.nowUs());
              this.runHeartbeatThread();
            }
            this.host.wakeMain();
          },
        });
      }
      this.armHeartbeatThread(this.heartbeat.nextDeadlineUs());
      return;
    }
  }

  private armHeartbeatThread(atUs: Micros): void {
    const thread = this.heartbeatThread;
    if (thread.timer !== null) this.host.cancelTimer(thread.timer);
    thread.timer = this.host.setTimer(Math.max(1, atUs - this.host.nowUs()), TAG_HEARTBEAT);
  }

  private sendHeartbeatRequest(): RequestFuture<void> {
    const sentGeneration = this.generation;
    this.host.coordinatorMetrics.lastHeartbeatSendUs = this.host.nowUs();
    const sent = this.sendToCoordinator(
      (correlationId): HeartbeatRequest => ({
        type: "Heartbeat",
        correlationId,
        groupId: this.groupId,
        generationId: sentGeneration.generationId,
        memberId: sentGeneration.memberId,
        groupInstanceId: this.groupInstanceId,
        sizeBytes: REQUEST_HEADER_BYTES + 48,
      }),
      "HeartbeatResponse",
    );
    return this.compose<void>(sent, (message, future) => this.handleHeartbeatResponse(message as HeartbeatResponse, sentGeneration, future));
  }

  /** HeartbeatResponseHandler. */
  private handleHeartbeatResponse(response: HeartbeatResponse, sentGeneration: Generation, future: RequestFuture<void>): void {
    const error = response.error;
    this.host.coordinatorMetrics.recordHeartbeat(this.responseLatencyMs, this.host.nowUs());
    if (error !== "NONE") this.host.traceEvent("consumer-heartbeat-error", { ...this.memberFields, error, state: this.state });
    switch (error) {
      case "NONE":
        future.complete(undefined);
        return;
      case "COORDINATOR_NOT_AVAILABLE":
      case "NOT_COORDINATOR":
        this.markCoordinatorUnknown(`error response ${error}`);
        future.raise(error);
        return;
      case "REBALANCE_IN_PROGRESS":
        // A heartbeat sent during a rebalance may see it: only a STABLE member rejoins.
        if (this.state === "STABLE") {
          this.requestRejoin("group is already rebalancing");
          future.raise(error);
        } else future.complete(undefined);
        return;
      case "ILLEGAL_GENERATION":
      case "UNKNOWN_MEMBER_ID":
      case "FENCED_INSTANCE_ID":
        if (sameGeneration(this.generation, sentGeneration)) {
          this.resetStateOnResponseError("HEARTBEAT", error, error !== "ILLEGAL_GENERATION");
          future.raise(error === "FENCED_INSTANCE_ID" ? { name: error, retriable: false } : clientError(error));
        } else future.complete(undefined);
        return;
      default:
        future.raise({ name: error, retriable: false });
    }
  }
}
