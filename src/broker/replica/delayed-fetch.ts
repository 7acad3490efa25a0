/**
 * DelayedFetch: a fetch that found fewer than minBytes, parked until enough bytes are readable across its
 * partitions (up to the log end for a follower, the HW for a consumer), a partition lost leadership, went
 * away, changed leader epoch or was truncated below the fetch offset, or maxWaitMs passed; then it reads again
 * and answers (the follower's fetch state was recorded when the request arrived). The partitions are the fetch
 * context's: an incremental fetch waits on its whole session, and its answer is the session's at completion (an
 * epoch that moved on meanwhile → INVALID_FETCH_SESSION_EPOCH).
 */

import type { FetchRequest } from "../../protocol/kafka.ts";
import { topicPartitionKey } from "../../protocol/kafka.ts";
import { IncrementalFetchContext, type FetchContext } from "./fetch-session.ts";
import { hostedPartition, readFromLocalLog, type LocalReads } from "./local-reads.ts";
import { DelayedOperation } from "./purgatory.ts";
import type { ReplicaHost } from "./replica-host.ts";

export class DelayedFetch extends DelayedOperation {
  readonly keys: readonly string[];
  /** tryComplete only reads the partitions and their logs: a second check at the watch answers the same. */
  override readonly checksAgainWhenWatched = false;

  constructor(
    private readonly host: ReplicaHost,
    private readonly from: string,
    private readonly request: FetchRequest,
    /** The fetch session context the request was read in: its partitions, and the response (KIP-227). */
    private readonly context: FetchContext,
    /** The replica manager's reused read results (used at once by onComplete). */
    private readonly reads: LocalReads,
  ) {
    super();
    // An incremental fetch's keys are its session's, made once per session order: no array per parked fetch.
    this.keys = context instanceof IncrementalFetchContext ? context.keys : context.fetches.map((p) => topicPartitionKey(p.topic, p.partition));
  }

  tryComplete(): boolean {
    const isFollower = this.request.replicaId >= 0;
    let accumulatedBytes = 0;
    for (const fetch of this.context.fetches) {
      const partition = hostedPartition(this.host, fetch);
      if (partition === undefined || !partition.isLeader) return this.forceComplete();
      if (partition.checkCurrentLeaderEpoch(fetch.currentLeaderEpoch) !== "NONE") return this.forceComplete();
      const log = partition.log;
      const endOffset = isFollower ? log.logEndOffset : log.highWatermark;
      if (endOffset < fetch.fetchOffset) return this.forceComplete();
      if (endOffset === fetch.fetchOffset || fetch.fetchOffset < log.logStartOffset) continue;
      // The bytes a read would return (DelayedFetch counts bytes; no read built per check).
      const bytes = log.readableBytes(fetch.fetchOffset, fetch.partitionMaxBytes, endOffset, true);
      if (bytes === null) return this.forceComplete();
      accumulatedBytes += bytes;
    }
    if (accumulatedBytes >= this.request.minBytes) return this.forceComplete();
    return false;
  }

  onComplete(): void {
    const partitions = readFromLocalLog(this.host, this.request, this.context.fetches, this.reads, this.context.changedOnly);
    this.host.services.send(this.from, this.context.response(this.request.correlationId, partitions, this.reads, this.host.services.nowMs()));
  }
}
