/**
 * What the consumer's parts (fetcher, offset resets and validations) share: the configuration, the metadata,
 * the assigned partitions' fetch states, the clock and the history. KafkaConsumer implements it; the parts are
 * plain functions over it, as Kafka's Fetcher and OffsetFetcher are over SubscriptionState and Metadata.
 */

import type { FetchPartitionResponse } from "../../protocol/kafka.ts";
import type { ConsumerMetrics } from "../metrics.ts";
import type { ConsumerConfig } from "./config.ts";
import type { ConsumerMetadata } from "./metadata.ts";
import type { ResetStrategy, TopicPartitionState } from "./subscription-state.ts";

export interface ConsumerCore {
  readonly config: ConsumerConfig;
  readonly metadata: ConsumerMetadata;
  /** consumer-fetch-manager-metrics (records consumed, lag). */
  readonly metrics: ConsumerMetrics;
  /** The assigned partitions, in assignment order. */
  readonly assignment: readonly TopicPartitionState[];
  nowUs(): number;
  stateOf(topic: string, partition: number): TopicPartitionState | undefined;
  /** auto.offset.reset as a strategy; null for "none" (no default reset policy). */
  readonly defaultResetStrategy: ResetStrategy | null;
  /** Records one history entry (trace kind "op", f "poll") for a partition. */
  history(type: "ok" | "info", state: TopicPartitionState, fields: Record<string, unknown>): void;
  /** A model trace event (not history): resets, validations. */
  traceEvent(kind: string, fields: Record<string, unknown>): void;
  /** The exception poll() would throw for this partition: record it (info) and stop fetching the partition. */
  fail(state: TopicPartitionState, error: string, fields: Record<string, unknown>): void;
  /**
   * A group consumer keeps a fetch's records until poll() returns them (Kafka's FetchBuffer): true when the
   * response was buffered, false when records go to the application at once (no group).
   */
  bufferFetch(state: TopicPartitionState, response: FetchPartitionResponse, leaderEpoch: number, leaderHost: string): boolean;
  /** Whether fetched records of the partition wait in the buffer (no new fetch for it until they are returned). */
  hasBufferedData(state: TopicPartitionState): boolean;
}
