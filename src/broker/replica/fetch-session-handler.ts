/**
 * KIP-227's client side for a replica fetcher (clients' FetchSessionHandler.java, used by
 * ReplicaFetcherThread.buildFetch / fetchFromLeader): the session's partitions with the data last sent, the
 * next request's metadata (session id, epoch) and the request built from the partitions ready to fetch.
 *
 * Builder.build: a full request (epoch INITIAL_EPOCH) names every partition added and makes them the session; an
 * incremental one names the partitions added (in the order added) and then those whose fetch offset, log start
 * offset, max bytes or current leader epoch changed (in session order), and forgets the session's partitions not
 * added this time (removed, truncating or backing off: not ready to fetch). handleResponse: a session error →
 * the next request is full (FETCH_SESSION_ID_NOT_FOUND: without a session id; otherwise naming the session, which
 * the leader then closes — nextCloseExisting) and the response's partitions are not processed; a full response
 * that does not answer exactly the session's partitions, or an incremental one that answers another, → the same;
 * a full response with a session id starts incremental fetches at epoch 1, each answered one moves to the next
 * epoch, INVALID_SESSION_ID (no room, or the session emptied) → full again. handleError (a timeout or a reset
 * connection) → nextCloseExisting.
 */

import type { FetchPartition, FetchResponse, TopicPartitionRef } from "../../protocol/kafka.ts";
import { INITIAL_EPOCH, INVALID_SESSION_ID, isFullFetch, nextFetchEpoch, UNDEFINED_EPOCH } from "../../protocol/kafka.ts";
import { TopicPartitionKeys } from "./topic-partition-keys.ts";

/** A partition of the session: what was last sent for it (FetchRequest.PartitionData). */
class SessionPartition {
  /** The build that last added it (`Builder.next` membership without a map per request). */
  build = 0;
  /** Changed in this build (an incremental request carries it). */
  altered = false;

  constructor(
    readonly key: string,
    readonly topic: string,
    readonly partition: number,
    public fetchOffset: number,
    public logStartOffset: number,
    public maxBytes: number,
    public currentLeaderEpoch: number,
  ) {}

  /** The request's own copy: what goes on the wire is never changed afterwards. */
  toFetchPartition(): FetchPartition {
    return {
      topic: this.topic,
      partition: this.partition,
      currentLeaderEpoch: this.currentLeaderEpoch,
      fetchOffset: this.fetchOffset,
      logStartOffset: this.logStartOffset,
      partitionMaxBytes: this.maxBytes,
      lastFetchedEpoch: UNDEFINED_EPOCH,
    };
  }
}

/** Builder.build's FetchRequestData. */
export interface FetchRequestData {
  readonly toSend: FetchPartition[];
  readonly toForget: TopicPartitionRef[];
  readonly sessionId: number;
  readonly epoch: number;
}

const NOTHING_TO_FORGET: TopicPartitionRef[] = [];

export class FetchSessionHandler {
  /** nextMetadata: starts INITIAL (no session, a full request). */
  private nextSessionId = INVALID_SESSION_ID;
  private nextEpoch = INITIAL_EPOCH;
  /** sessionPartitions (a LinkedHashMap in Kafka): insertion-ordered. */
  private readonly sessionPartitions = new Map<string, SessionPartition>();
  private buildCount = 0;
  /** Partitions added in this build that are not (yet) in the session. Reused: one per handler. */
  private readonly added: SessionPartition[] = [];
  /**
   * build's altered partitions, in session order, reused: its first `alteredCount` entries count (no length set,
   * which would trim the array and have the next build grow it again).
   */
  private readonly altered: SessionPartition[] = [];
  /** The response's partitions' keys, made once (answersWithinTheSession runs on every response). */
  private readonly keys = new TopicPartitionKeys();

  /** The session id of the next request (INVALID_SESSION_ID: none). */
  get sessionId(): number {
    return this.nextSessionId;
  }

  /** The epoch of the next request. */
  get epoch(): number {
    return this.nextEpoch;
  }

  /** The next request is a full one. */
  get isFull(): boolean {
    return isFullFetch(this.nextEpoch);
  }

  /** How many partitions the session holds (as of the last build). */
  get size(): number {
    return this.sessionPartitions.size;
  }

  /** Builder.add: a partition ready to fetch, with its request data. */
  add(key: string, topic: string, partition: number, fetchOffset: number, logStartOffset: number, maxBytes: number, currentLeaderEpoch: number): void {
    const build = this.buildCount + 1;
    const existing = this.isFull ? undefined : this.sessionPartitions.get(key);
    if (existing === undefined) {
      const added = new SessionPartition(key, topic, partition, fetchOffset, logStartOffset, maxBytes, currentLeaderEpoch);
      added.build = build;
      this.added.push(added);
      return;
    }
    existing.build = build;
    if (
      existing.fetchOffset === fetchOffset &&
      existing.logStartOffset === logStartOffset &&
      existing.maxBytes === maxBytes &&
      existing.currentLeaderEpoch === currentLeaderEpoch
    ) {
      return;
    }
    existing.fetchOffset = fetchOffset;
    existing.logStartOffset = logStartOffset;
    existing.maxBytes = maxBytes;
    existing.currentLeaderEpoch = currentLeaderEpoch;
    existing.altered = true;
  }

  /** Builder.build: the request of the partitions added since the last build. */
  build(): FetchRequestData {
    const build = ++this.buildCount;
    const sessionPartitions = this.sessionPartitions;
    const added = this.added;
    const toSend: FetchPartition[] = [];
    let toForget = NOTHING_TO_FORGET;
    if (this.isFull) {
      sessionPartitions.clear();
      for (let i = 0; i < added.length; i++) {
        sessionPartitions.set(added[i].key, added[i]);
        toSend.push(added[i].toFetchPartition());
      }
    } else {
      // The altered partitions go after the added ones ("move the altered partition to the end of next").
      const altered = this.altered;
      let alteredCount = 0;
      for (const entry of sessionPartitions.values()) {
        if (entry.build !== build) {
          sessionPartitions.delete(entry.key);
          if (toForget === NOTHING_TO_FORGET) toForget = [];
          toForget.push({ topic: entry.topic, partition: entry.partition });
        } else if (entry.altered) {
          entry.altered = false;
          altered[alteredCount++] = entry;
        }
      }
      for (let i = 0; i < added.length; i++) {
        sessionPartitions.set(added[i].key, added[i]);
        toSend.push(added[i].toFetchPartition());
      }
      for (let i = 0; i < alteredCount; i++) toSend.push(altered[i].toFetchPartition());
    }
    added.length = 0;
    return { toSend, toForget, sessionId: this.nextSessionId, epoch: this.nextEpoch };
  }

  /** handleResponse: whether the response's partitions may be processed. */
  handleResponse(response: FetchResponse): boolean {
    if (response.error !== "NONE") {
      if (response.error === "FETCH_SESSION_ID_NOT_FOUND") this.initial();
      else this.nextCloseExisting();
      return false;
    }
    const sessionId = response.sessionId ?? INVALID_SESSION_ID;
    if (this.isFull) {
      if (!this.answersExactlyTheSession(response)) {
        this.initial();
        return false;
      }
      if (sessionId === INVALID_SESSION_ID) {
        this.initial();
      } else {
        // The leader created a session.
        this.nextSessionId = sessionId;
        this.nextEpoch = nextFetchEpoch(INITIAL_EPOCH);
      }
      return true;
    }
    if (!this.answersWithinTheSession(response)) {
      this.nextCloseExisting();
      return false;
    }
    if (sessionId === INVALID_SESSION_ID) {
      // The leader closed the session.
      this.initial();
    } else {
      this.nextEpoch = nextFetchEpoch(this.nextEpoch);
    }
    return true;
  }

  /** handleError: the request failed (timeout, reset connection): the next one is full and closes the session. */
  handleError(): void {
    this.nextCloseExisting();
  }

  private initial(): void {
    this.nextSessionId = INVALID_SESSION_ID;
    this.nextEpoch = INITIAL_EPOCH;
  }

  private nextCloseExisting(): void {
    this.nextEpoch = INITIAL_EPOCH;
  }

  /** verifyFullFetchResponsePartitions: neither omitted nor extra partitions. */
  private answersExactlyTheSession(response: FetchResponse): boolean {
    return response.partitions.length === this.sessionPartitions.size && this.answersWithinTheSession(response);
  }

  /** verifyIncrementalFetchResponsePartitions: no extra partitions. */
  private answersWithinTheSession(response: FetchResponse): boolean {
    for (const partition of response.partitions) {
      if (!this.sessionPartitions.has(this.keys.key(partition.topic, partition.partition))) return false;
    }
    return true;
  }
}
