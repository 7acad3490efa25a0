/**
 * ReplicaFetcherManager (AbstractFetcherManager) with num.replica.fetchers = 1: one fetcher per source broker,
 * created when a partition starts following that broker and shut down once idle. Routes the fetchers'
 * responses (by source broker) and timers ("fetcher:<leaderId>").
 */

import type { FetchResponse, ListOffsetsResponse, OffsetsForLeaderEpochResponse } from "../../protocol/kafka.ts";
import { FETCHER_TIMER_PREFIX } from "../services.ts";
import { ReplicaFetcher } from "./fetcher.ts";
import type { Partition } from "./partition.ts";
import type { ReplicaHost } from "./replica-host.ts";

export class ReplicaFetcherManager {
  private readonly fetchers = new Map<number, ReplicaFetcher>();

  constructor(private readonly host: ReplicaHost) {}

  /** addFetcherForPartitions: each partition to the fetcher of its leader (replacing any earlier fetch state). */
  addFetcherForPartitions(partitions: readonly Partition[]): void {
    for (const partition of partitions) {
      this.removeFetcherForPartitions([partition.topicPartition]);
      let fetcher = this.fetchers.get(partition.leaderId);
      if (fetcher === undefined) {
        fetcher = new ReplicaFetcher(partition.leaderId, this.host);
        this.fetchers.set(partition.leaderId, fetcher);
      }
      fetcher.addPartition(partition);
    }
  }

  removeFetcherForPartitions(keys: readonly string[]): void {
    for (const fetcher of this.fetchers.values()) for (const key of keys) fetcher.removePartition(key);
  }

  /** shutdownIdleFetcherThreads. */
  shutdownIdleFetchers(): void {
    for (const [leaderId, fetcher] of [...this.fetchers]) {
      if (fetcher.partitions.size > 0) continue;
      fetcher.shutdown();
      this.fetchers.delete(leaderId);
    }
  }

  /** The fetcher fetching `key`, if any (views and tests). */
  fetcherOf(key: string): ReplicaFetcher | undefined {
    for (const fetcher of this.fetchers.values()) if (fetcher.partitions.has(key)) return fetcher;
    return undefined;
  }

  onResponse(leaderId: number, response: FetchResponse | OffsetsForLeaderEpochResponse | ListOffsetsResponse): void {
    this.fetchers.get(leaderId)?.onResponse(response);
  }

  /** The connection to broker `leaderId` was reset: its fetcher's request in flight fails at once. */
  onBrokerDisconnected(leaderId: number): void {
    this.fetchers.get(leaderId)?.onDisconnect();
  }

  onTimer(tag: string, data: unknown): boolean {
    if (!tag.startsWith(FETCHER_TIMER_PREFIX)) return false;
    this.fetchers.get(Number(tag.slice(FETCHER_TIMER_PREFIX.length)))?.onTimer(data);
    return true;
  }

  shutdown(): void {
    for (const fetcher of this.fetchers.values()) fetcher.shutdown();
    this.fetchers.clear();
  }
}
