/**
 * One member of a consumer group as the coordinator holds it (MemberMetadata.scala): its ids, timeouts, the
 * protocols it supports (assignor names with the embedded subscription), its assignment, and the JoinGroup /
 * SyncGroup it has parked (the callbacks that answer them). Simplifications: protocol metadata and assignments
 * are the objects of protocol/group.ts rather than bytes, so `matches` compares them structurally; no clientHost.
 */

import type {
  ConsumerProtocolAssignment,
  ConsumerProtocolSubscription,
  JoinGroupProtocol,
  JoinGroupResponseMember,
} from "../../../protocol/group.ts";
import type { KafkaError } from "../../../protocol/kafka.ts";
import { assert } from "../../../sim/assert.ts";

/** JoinGroupResult: what a parked (or immediate) JoinGroup is answered with. */
export interface JoinGroupResult {
  readonly members: readonly JoinGroupResponseMember[];
  readonly memberId: string;
  readonly generationId: number;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly leaderId: string;
  readonly skipAssignment: boolean;
  readonly error: KafkaError;
}

/** SyncGroupResult. */
export interface SyncGroupResult {
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly assignment: ConsumerProtocolAssignment;
  readonly error: KafkaError;
}

export type JoinCallback = (result: JoinGroupResult) => void;
export type SyncCallback = (result: SyncGroupResult) => void;

/** GroupCoordinator.NoGeneration / NoLeader. */
export const NO_GENERATION = -1;
export const NO_LEADER = "";

/** An empty assignment (Kafka's Array.empty[Byte]: a member the leader gave nothing, or an error answer). */
export const EMPTY_ASSIGNMENT: ConsumerProtocolAssignment = Object.freeze({ assignedPartitions: Object.freeze([]), userData: null });

/** JoinGroupResult(memberId, error): an error answer. */
export function joinError(memberId: string, error: KafkaError): JoinGroupResult {
  return { members: [], memberId, generationId: NO_GENERATION, protocolType: null, protocolName: null, leaderId: NO_LEADER, skipAssignment: false, error };
}

/** SyncGroupResult(error). */
export function syncError(error: KafkaError): SyncGroupResult {
  return { protocolType: null, protocolName: null, assignment: EMPTY_ASSIGNMENT, error };
}

export class MemberMetadata {
  awaitingJoinCallback: JoinCallback | null = null;
  awaitingSyncCallback: SyncCallback | null = null;
  /** A member added by this rebalance that has not yet had its JoinGroup answered (NewMemberJoinTimeoutMs applies). */
  isNew = false;
  heartbeatSatisfied = false;
  /** The assignment of the current generation (empty until the leader's SyncGroup is stored). */
  assignment: ConsumerProtocolAssignment = EMPTY_ASSIGNMENT;

  constructor(
    public memberId: string,
    readonly groupInstanceId: string | null,
    readonly clientId: string,
    public rebalanceTimeoutMs: number,
    public sessionTimeoutMs: number,
    readonly protocolType: string,
    public supportedProtocols: readonly JoinGroupProtocol[],
  ) {}

  get isStaticMember(): boolean {
    return this.groupInstanceId !== null;
  }

  get isAwaitingJoin(): boolean {
    return this.awaitingJoinCallback !== null;
  }

  get isAwaitingSync(): boolean {
    return this.awaitingSyncCallback !== null;
  }

  /** The subscription this member sent for `protocol`. */
  metadata(protocol: string): ConsumerProtocolSubscription {
    const found = this.supportedProtocols.find((p) => p.name === protocol);
    assert(found !== undefined, `member ${this.memberId} does not support protocol ${protocol}`);
    return found.metadata;
  }

  /** Members parked in a JoinGroup or SyncGroup count as alive; otherwise only a heartbeat does. */
  get hasSatisfiedHeartbeat(): boolean {
    if (this.isNew) return this.heartbeatSatisfied;
    if (this.isAwaitingJoin || this.isAwaitingSync) return true;
    return this.heartbeatSatisfied;
  }

  /** Same protocols, in the same order, with the same metadata. */
  matches(protocols: readonly JoinGroupProtocol[]): boolean {
    if (protocols.length !== this.supportedProtocols.length) return false;
    return protocols.every((p, i) => p.name === this.supportedProtocols[i].name && deepEqual(p.metadata, this.supportedProtocols[i].metadata));
  }

  /** The first of this member's protocols (its preference order) among the candidates. */
  vote(candidates: ReadonlySet<string>): string {
    const found = this.supportedProtocols.find((p) => candidates.has(p.name));
    assert(found !== undefined, `member ${this.memberId} supports none of the candidate protocols`);
    return found.name;
  }
}

/** Structural equality of plain data (Kafka compares the metadata bytes). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((v, i) => deepEqual(v, other[i]));
  }
  const keysA = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const keysB = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
