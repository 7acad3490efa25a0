/**
 * A group consumer's fetched-but-not-returned records, as Kafka's FetchBuffer and CompletedFetch: fetch responses
 * queue in arrival order; poll() drains up to max.poll.records from the queue's head onwards, advancing each
 * partition's position past the records it returns (past a whole response's trailing control batches once all its
 * records are returned). A buffered response is dropped when its partition is no longer fetchable (revoked,
 * pending revocation, reset) or the position moved away from where the response continues.
 */

import { lastOffset } from "../../broker/log/records.ts";
import type { FetchPartitionResponse } from "../../protocol/kafka.ts";
import type { TopicPartitionState } from "./subscription-state.ts";

interface BufferedRecord {
  readonly offset: number;
  readonly value: string | null;
  readonly epoch: number;
}

interface CompletedFetch {
  readonly state: TopicPartitionState;
  readonly records: BufferedRecord[];
  /** The next record to return. */
  cursor: number;
  /** The offset the position continues from (the fetch offset, then past each returned record). */
  nextFetchOffset: number;
  /** The offset after the response's last batch. */
  readonly endOffset: number;
  readonly highWatermark: number;
  readonly leaderEpoch: number;
  readonly leaderHost: string;
}

/** The records poll() returns for one partition. */
export interface DrainedPartition {
  readonly state: TopicPartitionState;
  readonly offsets: number[];
  readonly values: (string | null)[];
  readonly leaderEpoch: number;
  readonly leaderHost: string;
  readonly highWatermark: number;
}

export class FetchBuffer {
  private readonly queue: CompletedFetch[] = [];

  /** Buffers a successful partition response fetched at the partition's current position. */
  add(state: TopicPartitionState, answer: FetchPartitionResponse, leaderEpoch: number, leaderHost: string): void {
    const fetchOffset = state.position!.offset;
    const records: BufferedRecord[] = [];
    let endOffset = fetchOffset;
    for (const batch of answer.batches) {
      if (lastOffset(batch) < fetchOffset) continue;
      if (!batch.isControl) {
        const count = batch.recordCount;
        for (let i = 0; i < count; i++) {
          const offset = batch.baseOffset + batch.offsetDeltaAt(i);
          if (offset >= fetchOffset) records.push({ offset, value: batch.valueAt(i), epoch: batch.partitionLeaderEpoch });
        }
      }
      endOffset = lastOffset(batch) + 1;
    }
    if (endOffset === fetchOffset) return;
    this.queue.push({ state, records, cursor: 0, nextFetchOffset: fetchOffset, endOffset, highWatermark: answer.highWatermark, leaderEpoch, leaderHost });
  }

  has(state: TopicPartitionState): boolean {
    return this.queue.some((fetch) => fetch.state === state);
  }

  /** Forgets the responses of partitions no longer assigned. */
  retain(assigned: ReadonlySet<TopicPartitionState>): void {
    for (let i = this.queue.length - 1; i >= 0; i--) if (!assigned.has(this.queue[i].state)) this.queue.splice(i, 1);
  }

  /**
   * collectFetch: up to `maxRecords` records from the head of the queue onwards; `fetchable` says whether a
   * partition may return records now. Positions advance as records are taken.
   */
  drain(maxRecords: number, fetchable: (state: TopicPartitionState) => boolean): DrainedPartition[] {
    const drained: DrainedPartition[] = [];
    let remaining = maxRecords;
    while (remaining > 0 && this.queue.length > 0) {
      const fetch = this.queue[0];
      const { state } = fetch;
      if (!fetchable(state) || state.position === null || state.position.offset !== fetch.nextFetchOffset) {
        this.queue.shift();
        continue;
      }
      const taken = fetch.records.slice(fetch.cursor, fetch.cursor + remaining);
      fetch.cursor += taken.length;
      remaining -= taken.length;
      const done = fetch.cursor >= fetch.records.length;
      let offsetEpoch = state.position.offsetEpoch;
      for (const record of taken) if (record.epoch >= 0) offsetEpoch = record.epoch;
      const next = done ? fetch.endOffset : taken[taken.length - 1].offset + 1;
      if (next !== state.position.offset) state.advance(next, offsetEpoch);
      fetch.nextFetchOffset = next;
      if (done) this.queue.shift();
      if (taken.length > 0) {
        drained.push({
          state,
          offsets: taken.map((r) => r.offset),
          values: taken.map((r) => r.value),
          leaderEpoch: fetch.leaderEpoch,
          leaderHost: fetch.leaderHost,
          highWatermark: fetch.highWatermark,
        });
      }
    }
    return drained;
  }
}
