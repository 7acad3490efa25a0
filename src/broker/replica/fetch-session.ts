/**
 * KIP-227 incremental fetch sessions (Kafka 1.1.0), the leader's side: FetchSession.scala's CachedPartition,
 * FetchSession, FetchSessionCache and FetchManager.newContext with its four FetchContexts.
 *
 * A full fetch (session epoch INITIAL_EPOCH) names every partition; the leader answers every one and, if the
 * cache has room (max.incremental.fetch.session.cache.slots, or an entry it may evict), creates a session: a
 * random positive id, epoch 1, the partitions with their request data and the HW and log start offset last sent.
 * An incremental fetch (the session's id and current epoch) names only the partitions added or changed since
 * the previous request (fetch offset, log start offset, max bytes, current leader epoch) and the partitions to
 * forget; the leader reads every partition of the session (a quiet one builds no response: local-reads.ts) and
 * answers only those with records, a changed HW or log start offset, or an error (CachedPartition.maybeUpdateResponseData; the LSO is not compared, as in Kafka);
 * answered partitions move to the end of the session (IncrementalFetchContext's PartitionIterator), so the next
 * reads start with the others. Unknown id → FETCH_SESSION_ID_NOT_FOUND; wrong epoch → INVALID_FETCH_SESSION_EPOCH
 * (SessionErrorContext); a full request names the session it closes; epoch FINAL_EPOCH (-1) or a request without
 * session fields (Fetch before v7) is sessionless. A session left empty by an incremental request is closed and
 * answered without one. The cache lives in memory: a restarted leader knows no session.
 *
 * Eviction (FetchSessionCacheShard.tryEvict): when full, a new session may evict the least recently used one if
 * it was unused for more than 120 s (KafkaServer.MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS); else the "least
 * valuable" evictable one (ordered by privileged, then size, then id) if the new one is worth at least as much; a
 * follower's (privileged) session becomes evictable by anyone only 120 s after its creation, by a follower's at
 * once (touch). Kafka keeps TreeMaps of the sessions by last use and by EvictableKey; the model scans the
 * sessions for the least entry (the same choice, cost only when the cache is full). `touch` on every incremental
 * fetch with the current time is 2.5+ (KAFKA-9137); 1.1–2.4 touched only when the session's size changed (a busy
 * session could be evicted as stale): not modelled. CachedPartition keeps the fetch's current leader epoch (2.5+,
 * KAFKA-9338; before, an implied partition was read with no epoch). Simplifications: one cache shard (3.8+
 * shards it by id range: the same behaviour per session), no throttling, no topic ids.
 */

import type { FetchPartition, FetchPartitionResponse, FetchRequest, FetchResponse, KafkaError, TopicPartitionRef } from "../../protocol/kafka.ts";
import { FETCH_SESSION_RESPONSE_BYTES, FINAL_EPOCH, INITIAL_EPOCH, INVALID_SESSION_ID, nextFetchEpoch, REQUEST_HEADER_BYTES, topicPartitionKey } from "../../protocol/kafka.ts";
import { TopicPartitionKeys } from "./topic-partition-keys.ts";
import { assert } from "../../sim/assert.ts";
import type { Rng } from "../../sim/rng.ts";
import type { LocalRead, LocalReads } from "./local-reads.ts";
import type { Partition } from "./partition.ts";

/** KafkaServer.MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS: a session unused this long may be evicted. */
export const FETCH_SESSION_EVICTION_MS = 120_000;

/** Session ids are drawn from [1, Int.MaxValue - 1] (ThreadLocalRandom.nextInt(1, Int.MaxValue)). */
const MAX_SESSION_ID = 2_147_483_646;

/**
 * One partition of a session: the request data last received (what an incremental fetch implies) and the HW and
 * log start offset last answered. It is a FetchPartition, so the leader reads the session's partitions as they are.
 */
export class CachedPartition implements FetchPartition {
  /** The HW last sent (-1 after an error, so the partition is answered again once the error is gone). */
  highWatermark = -1;
  /** The leader's log start offset last sent. */
  localLogStartOffset = -1;
  /** The hosted partition last found for it (local-reads.ts hostedPartition), null: look it up. */
  hosted: Partition | null = null;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly key: string,
    public currentLeaderEpoch: number,
    public fetchOffset: number,
    /** The fetcher's log start offset (Kafka's fetcherLogStartOffset). */
    public logStartOffset: number,
    public partitionMaxBytes: number,
    public lastFetchedEpoch: number,
  ) {}

  static of(fetch: FetchPartition, key = topicPartitionKey(fetch.topic, fetch.partition)): CachedPartition {
    return new CachedPartition(
      fetch.topic,
      fetch.partition,
      key,
      fetch.currentLeaderEpoch,
      fetch.fetchOffset,
      fetch.logStartOffset,
      fetch.partitionMaxBytes,
      fetch.lastFetchedEpoch,
    );
  }

  /** updateRequestParams. */
  updateRequestParams(fetch: FetchPartition): void {
    this.currentLeaderEpoch = fetch.currentLeaderEpoch;
    this.fetchOffset = fetch.fetchOffset;
    this.logStartOffset = fetch.logStartOffset;
    this.partitionMaxBytes = fetch.partitionMaxBytes;
    this.lastFetchedEpoch = fetch.lastFetchedEpoch;
  }

  /**
   * maybeUpdateResponseData(respData, updateResponseData = true): whether the partition goes into an incremental
   * response — records read, a new HW or log start offset, or an error (the HW is then forgotten).
   */
  maybeUpdateResponseData(response: FetchPartitionResponse, sizeBytes: number): boolean {
    let mustRespond = sizeBytes > 0;
    if (this.highWatermark !== response.highWatermark) {
      mustRespond = true;
      this.highWatermark = response.highWatermark;
    }
    if (this.localLogStartOffset !== response.logStartOffset) {
      mustRespond = true;
      this.localLogStartOffset = response.logStartOffset;
    }
    if (response.error !== "NONE") {
      this.highWatermark = -1;
      mustRespond = true;
    }
    return mustRespond;
  }
}

export class FetchSession {
  /** The size last recorded by the cache's touch (-1: not in the cache). */
  cachedSize = -1;
  /** Set by touch (the EvictableKey trees of Kafka): evictable by a follower's new session / by any. */
  evictableByPrivileged = false;
  evictableByAll = false;
  /**
   * The partitions in session order (Kafka's ImplicitLinkedHashCollection), by key in `partitionMap`. A new
   * array whenever the order or the membership changes, never changed in place: an IncrementalFetchContext
   * reads (and a parked fetch re-reads) the array it was made with, with no copy per fetch, and the map only
   * changes when partitions join or leave (no delete and set per answered partition: issue 18).
   */
  private order: readonly CachedPartition[];
  /** The keys of `order`, made when a parked fetch first asks for them (the purgatory's watch keys). */
  private orderKeys: readonly string[] | null = null;
  /** The keys update() looks up, made once per partition rather than per fetch. */
  private readonly keys = new TopicPartitionKeys();

  constructor(
    readonly id: number,
    /** A follower's session (privileged); consumers' are not. */
    readonly privileged: boolean,
    /** The partitions by key (insertion order: the session's first order). */
    readonly partitionMap: Map<string, CachedPartition>,
    readonly creationMs: number,
    public lastUsedMs: number,
    public epoch: number,
  ) {
    this.order = Array.from(partitionMap.values());
  }

  get size(): number {
    return this.partitionMap.size;
  }

  /** The partitions in session order (an array that is never changed: see `order`). */
  get partitions(): readonly CachedPartition[] {
    return this.order;
  }

  /** The keys of `partitions`, when it is still the session's order (else they are made). */
  keysOf(partitions: readonly CachedPartition[]): readonly string[] {
    if (partitions === this.order && this.orderKeys !== null) return this.orderKeys;
    const keys = new Array<string>(partitions.length);
    for (let i = 0; i < partitions.length; i++) keys[i] = partitions[i].key;
    if (partitions === this.order) this.orderKeys = keys;
    return keys;
  }

  /** FetchSession.update: the request's partitions added (at the end) or updated, then the forgotten ones removed. */
  update(fetches: readonly FetchPartition[], toForget: readonly TopicPartitionRef[]): void {
    let added: CachedPartition[] | null = null;
    for (let i = 0; i < fetches.length; i++) {
      const fetch = fetches[i];
      const key = this.keys.key(fetch.topic, fetch.partition);
      const cached = this.partitionMap.get(key);
      if (cached === undefined) {
        const partition = CachedPartition.of(fetch, key);
        this.partitionMap.set(key, partition);
        (added ??= []).push(partition);
      } else cached.updateRequestParams(fetch);
    }
    let forgotten = false;
    for (let i = 0; i < toForget.length; i++) {
      if (this.partitionMap.delete(this.keys.key(toForget[i].topic, toForget[i].partition))) forgotten = true;
    }
    if (added === null && !forgotten) return;
    // Membership changed: a new order array, the survivors in order, then the added ones (a partition added and
    // forgotten by the same request is gone, as in the map).
    const order: CachedPartition[] = [];
    for (const partition of this.order) if (this.partitionMap.get(partition.key) === partition) order.push(partition);
    if (added !== null) for (const partition of added) if (this.partitionMap.get(partition.key) === partition) order.push(partition);
    this.setOrder(order);
  }

  /**
   * The response's answered partitions go last, in their order (IncrementalFetchContext's PartitionIterator
   * `updateFetchContextAndRemoveUnselected`): `answered[i]` says whether `partitions[i]` was answered, for the
   * order `partitions` that the context read (the session's current one). No new array when the order stays.
   */
  moveAnsweredLast(partitions: readonly CachedPartition[], answered: readonly boolean[]): void {
    assert(partitions === this.order, "a session's answer reorders the order its request read");
    // The order changes only if an unanswered partition follows an answered one.
    let seenAnswered = false;
    let changes = false;
    for (let i = 0; i < partitions.length; i++) {
      if (answered[i]) seenAnswered = true;
      else if (seenAnswered) {
        changes = true;
        break;
      }
    }
    if (!changes) return;
    const order = new Array<CachedPartition>(partitions.length);
    let at = 0;
    for (let i = 0; i < partitions.length; i++) if (!answered[i]) order[at++] = partitions[i];
    for (let i = 0; i < partitions.length; i++) if (answered[i]) order[at++] = partitions[i];
    this.setOrder(order);
  }

  private setOrder(order: readonly CachedPartition[]): void {
    this.order = order;
    this.orderKeys = null;
  }
}

/** (privileged, size, id) in EvictableKey's order: lower is less valuable. */
function compareEvictable(aPrivileged: boolean, aSize: number, aId: number, b: FetchSession): number {
  if (aPrivileged !== b.privileged) return aPrivileged ? 1 : -1;
  if (aSize !== b.cachedSize) return aSize - b.cachedSize;
  return aId - b.id;
}

/** The broker's FetchSessionCache (in memory: a restarted broker starts empty). */
export class FetchSessionCache {
  private readonly sessions = new Map<number, FetchSession>();
  /** How many sessions were evicted (IncrementalFetchSessionEvictionsPerSec). */
  evictions = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly rng: Rng,
    private readonly evictionMs: number = FETCH_SESSION_EVICTION_MS,
  ) {}

  get(sessionId: number): FetchSession | undefined {
    return this.sessions.get(sessionId);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** NumIncrementalFetchPartitionsCached. */
  get totalPartitions(): number {
    let total = 0;
    for (const session of this.sessions.values()) total += session.cachedSize;
    return total;
  }

  /** newSessionId: random, positive, unused. */
  private newSessionId(): number {
    let id: number;
    do id = this.rng.int(1, MAX_SESSION_ID);
    while (this.sessions.has(id) || id === INVALID_SESSION_ID);
    return id;
  }

  /** maybeCreateSession: the new session's id, or INVALID_SESSION_ID when the cache has no room. */
  maybeCreateSession(nowMs: number, privileged: boolean, size: number, createPartitions: () => Map<string, CachedPartition>): number {
    if (this.sessions.size >= this.maxEntries && !this.tryEvict(privileged, size, nowMs)) return INVALID_SESSION_ID;
    const session = new FetchSession(this.newSessionId(), privileged, createPartitions(), nowMs, nowMs, nextFetchEpoch(INITIAL_EPOCH));
    this.sessions.set(session.id, session);
    this.touch(session, nowMs);
    return session.id;
  }

  /**
   * tryEvict: the least recently used session if it is stale; else the least valuable evictable one, if the new
   * entry (privileged, size, id 0) is not less valuable.
   */
  private tryEvict(privileged: boolean, size: number, nowMs: number): boolean {
    let lru: FetchSession | null = null;
    for (const session of this.sessions.values()) {
      if (lru === null || session.lastUsedMs < lru.lastUsedMs || (session.lastUsedMs === lru.lastUsedMs && session.id < lru.id)) lru = session;
    }
    if (lru === null) return false;
    if (nowMs - lru.lastUsedMs > this.evictionMs) {
      this.remove(lru.id);
      this.evictions++;
      return true;
    }
    let least: FetchSession | null = null;
    for (const session of this.sessions.values()) {
      if (!(privileged ? session.evictableByPrivileged : session.evictableByAll)) continue;
      if (least === null || compareEvictable(session.privileged, session.cachedSize, session.id, least) < 0) least = session;
    }
    if (least === null || compareEvictable(privileged, size, 0, least) < 0) return false;
    this.remove(least.id);
    this.evictions++;
    return true;
  }

  remove(sessionId: number): FetchSession | undefined {
    const session = this.sessions.get(sessionId);
    if (session === undefined) return undefined;
    this.sessions.delete(sessionId);
    session.cachedSize = -1;
    return session;
  }

  /** touch: the session's last use, size and evictability. */
  touch(session: FetchSession, nowMs: number): void {
    session.lastUsedMs = nowMs;
    session.cachedSize = session.size;
    const old = nowMs - session.creationMs > this.evictionMs;
    session.evictableByPrivileged = !session.privileged || old;
    session.evictableByAll = old;
  }
}

/**
 * A FetchContext: which partitions a Fetch reads (foreachPartition) and its response from the reads
 * (updateAndGenerateResponseData). `fetches` come in the order the response's partitions are read.
 */
export interface FetchContext {
  readonly fetches: readonly FetchPartition[];
  /** Only partitions that changed are answered (incremental): quiet ones may be read as null (local-reads.ts). */
  readonly changedOnly: boolean;
  response(correlationId: number, partitions: readonly LocalRead[], reads: LocalReads, nowMs: number): FetchResponse;
}

/** Σ per partition of the response: header, records, aborted transactions (as the sessionless response). */
function partitionBytes(partition: FetchPartitionResponse, sizeBytes: number): number {
  return 32 + sizeBytes + 12 * (partition.abortedTransactions?.length ?? 0);
}

/** SessionlessFetchContext: every partition answered; `sessionId` only when the request spoke of sessions (v7+). */
export class SessionlessFetchContext implements FetchContext {
  readonly changedOnly = false;

  constructor(
    readonly fetches: readonly FetchPartition[],
    private readonly withSession: boolean,
  ) {}

  response(correlationId: number, reads_: readonly LocalRead[], reads: LocalReads): FetchResponse {
    const partitions = reads_ as FetchPartitionResponse[]; // changedOnly is false: every partition was read
    let sizeBytes = REQUEST_HEADER_BYTES;
    for (let i = 0; i < partitions.length; i++) sizeBytes += partitionBytes(partitions[i], reads.sizeBytes[i]);
    if (!this.withSession) return { type: "FetchResponse", correlationId, error: "NONE", partitions, sizeBytes };
    return { type: "FetchResponse", correlationId, error: "NONE", partitions, sizeBytes: sizeBytes + FETCH_SESSION_RESPONSE_BYTES, sessionId: INVALID_SESSION_ID };
  }
}

const NO_FETCHES: readonly FetchPartition[] = [];

/** SessionErrorContext: nothing read, the error alone. */
export class SessionErrorContext implements FetchContext {
  readonly fetches = NO_FETCHES;
  readonly changedOnly = false;

  constructor(readonly error: KafkaError) {}

  response(correlationId: number): FetchResponse {
    return { type: "FetchResponse", correlationId, error: this.error, partitions: [], sizeBytes: REQUEST_HEADER_BYTES + FETCH_SESSION_RESPONSE_BYTES, sessionId: INVALID_SESSION_ID };
  }
}

/** FullFetchContext: every partition answered; a new session holds them if the cache has room. */
export class FullFetchContext implements FetchContext {
  readonly changedOnly = false;

  constructor(
    private readonly cache: FetchSessionCache,
    readonly fetches: readonly FetchPartition[],
    private readonly isFromFollower: boolean,
  ) {}

  response(correlationId: number, reads_: readonly LocalRead[], reads: LocalReads, nowMs: number): FetchResponse {
    const partitions = reads_ as FetchPartitionResponse[]; // changedOnly is false: every partition was read
    const sessionId = this.cache.maybeCreateSession(nowMs, this.isFromFollower, partitions.length, () => {
      const map = new Map<string, CachedPartition>();
      for (let i = 0; i < partitions.length; i++) {
        const cached = CachedPartition.of(this.fetches[i]);
        cached.highWatermark = partitions[i].highWatermark;
        cached.localLogStartOffset = partitions[i].logStartOffset;
        map.set(cached.key, cached);
      }
      return map;
    });
    let sizeBytes = REQUEST_HEADER_BYTES + FETCH_SESSION_RESPONSE_BYTES;
    for (let i = 0; i < partitions.length; i++) sizeBytes += partitionBytes(partitions[i], reads.sizeBytes[i]);
    return { type: "FetchResponse", correlationId, error: "NONE", partitions, sizeBytes, sessionId };
  }
}

/** IncrementalFetchContext: the session's partitions read; only those that must be are answered. */
export class IncrementalFetchContext implements FetchContext {
  /** The session's partitions at the request, in session order (the reads' order; the session never changes it). */
  readonly fetches: readonly CachedPartition[];
  readonly changedOnly = true;

  constructor(
    private readonly session: FetchSession,
    /** The request's epoch: the session must be at the next one when the response is made. */
    private readonly requestEpoch: number,
  ) {
    this.fetches = session.partitions;
  }

  /** The purgatory's keys of a parked fetch: the session's, made once per session order. */
  get keys(): readonly string[] {
    return this.session.keysOf(this.fetches);
  }

  response(correlationId: number, partitions: readonly LocalRead[], reads: LocalReads): FetchResponse {
    const session = this.session;
    if (session.epoch !== nextFetchEpoch(this.requestEpoch)) {
      // Another request of the session came in while this one waited in the purgatory: a duplicate.
      return { type: "FetchResponse", correlationId, error: "INVALID_FETCH_SESSION_EPOCH", partitions: [], sizeBytes: REQUEST_HEADER_BYTES + FETCH_SESSION_RESPONSE_BYTES, sessionId: session.id };
    }
    // The session's epoch is the one this request moved it to, so no request changed its order since `fetches`.
    const answeredFlags = reads.answered;
    const answered: FetchPartitionResponse[] = [];
    let sizeBytes = REQUEST_HEADER_BYTES + FETCH_SESSION_RESPONSE_BYTES;
    for (let i = 0; i < partitions.length; i++) {
      answeredFlags[i] = false;
      const partition = partitions[i];
      // A quiet partition (null): nothing read, HW and log start offset as sent, no error — not answered.
      if (partition === null) continue;
      const cached = this.fetches[i];
      if (!cached.maybeUpdateResponseData(partition, reads.sizeBytes[i])) continue;
      answered.push(partition);
      answeredFlags[i] = true;
      sizeBytes += partitionBytes(partition, reads.sizeBytes[i]);
    }
    // Answered partitions go last: the next reads start with the others (fairness under the response's max bytes).
    if (answered.length > 0) session.moveAnsweredLast(this.fetches, answeredFlags);
    return { type: "FetchResponse", correlationId, error: "NONE", partitions: answered, sizeBytes, sessionId: session.id };
  }
}

/** A request without session fields (before Fetch v7, or compat.fetchSessions off): the partitions as sent. */
export function legacyContext(request: FetchRequest): FetchContext {
  return new SessionlessFetchContext(request.partitions, false);
}

/** FetchManager.newContext: the context a Fetch is read and answered in. */
export class FetchManager {
  constructor(readonly cache: FetchSessionCache) {}

  newContext(request: FetchRequest, isFollower: boolean, nowMs: number): FetchContext {
    const epoch = request.sessionEpoch;
    if (epoch === undefined) return legacyContext(request);
    const sessionId = request.sessionId ?? INVALID_SESSION_ID;
    if (epoch === INITIAL_EPOCH || epoch === FINAL_EPOCH) {
      // Any session a full request names is closed.
      if (sessionId !== INVALID_SESSION_ID) this.cache.remove(sessionId);
      if (epoch === FINAL_EPOCH) return new SessionlessFetchContext(request.partitions, true);
      return new FullFetchContext(this.cache, request.partitions, isFollower);
    }
    const session = this.cache.get(sessionId);
    if (session === undefined) return new SessionErrorContext("FETCH_SESSION_ID_NOT_FOUND");
    if (session.epoch !== epoch) return new SessionErrorContext("INVALID_FETCH_SESSION_EPOCH");
    session.update(request.partitions, request.forgottenPartitions ?? []);
    if (session.size === 0) {
      this.cache.remove(sessionId);
      return new SessionlessFetchContext(request.partitions, true);
    }
    this.cache.touch(session, nowMs);
    session.epoch = nextFetchEpoch(session.epoch);
    return new IncrementalFetchContext(session, epoch);
  }
}
