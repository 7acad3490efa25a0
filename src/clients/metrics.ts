/**
 * The Java clients' metric groups on Kafka's own metrics library (src/broker/kafka-metrics.ts): the producer's
 * producer-metrics, the consumer's consumer-fetch-manager-metrics and, for a consumer in a group,
 * consumer-coordinator-metrics. The model records them on its own paths; the sampler (src/scenario/metrics.ts)
 * reads them. Simplifications: no per-topic or per-node sensors; see kafka-metrics.ts for the stats.
 */

import { KafkaLatency, KafkaMax, KafkaMeter } from "../broker/kafka-metrics.ts";
import type { Micros } from "../sim/time.ts";

/** The producer's producer-metrics group (Sender.SenderMetrics): records sent, retried and failed. */
export class ProducerMetrics {
  /** record-send-*: records in every Produce request sent (a retried batch counts again, as in Kafka). */
  readonly recordSend = new KafkaMeter();
  /** record-retry-*: records of batches re-enqueued for a retry. */
  readonly recordRetry = new KafkaMeter();
  /** record-error-*: records of batches that failed for good. */
  readonly recordError = new KafkaMeter();
}

/** The consumer's consumer-fetch-manager-metrics group (FetchMetricsManager). */
export class ConsumerMetrics {
  /** records-consumed-*: records returned to the application. */
  readonly recordsConsumed = new KafkaMeter();
  /** records-lag-max: the largest partition lag recorded in the window. */
  readonly recordsLagMax = new KafkaMax();
  /** records-lag per partition ("topic-partition" key): the last recorded lag. */
  readonly partitionLag = new Map<string, number>();

  /** FetchMetricsManager.recordPartitionLag: HW of the last fetch response minus the position. */
  recordPartitionLag(topicPartition: string, lag: number, nowUs: Micros): void {
    this.partitionLag.set(topicPartition, lag);
    this.recordsLagMax.record(lag, nowUs);
  }
}

/**
 * The consumer's consumer-coordinator-metrics group, registered only by a consumer with a group.id (Kafka 3.6's
 * AbstractCoordinator.GroupCoordinatorMetrics and ConsumerCoordinator.ConsumerCoordinatorMetrics). Each sensor is
 * recorded where Kafka records it: heartbeat-* on every Heartbeat response handled (whatever its error), join-* on
 * a JoinGroup answered NONE, sync-* on a SyncGroup answered NONE, commit-* on every OffsetCommit response handled,
 * rebalance-* when a SyncGroup completes the rebalance (latency from the first JoinGroup of the rebalance, failed
 * re-trials included), failed-rebalance-* when a JoinGroup/SyncGroup round fails. The join/sync/heartbeat/commit
 * meters count events (createMeter's WindowedCount); the latencies are the request's (response received − sent,
 * in ms). Simplification: no partition-revoked/-assigned/-lost-latency (the rebalance listener takes no virtual
 * time).
 */
export class CoordinatorMetrics {
  /** heartbeat-rate / -total; heartbeat-response-time-max. */
  readonly heartbeat = new KafkaMeter(true);
  readonly heartbeatResponseTimeMax = new KafkaMax();
  /** join-rate / -total; join-time-avg / -max. */
  readonly join = new KafkaMeter(true);
  readonly joinTime = new KafkaLatency();
  /** sync-rate / -total; sync-time-avg / -max. */
  readonly sync = new KafkaMeter(true);
  readonly syncTime = new KafkaLatency();
  /** commit-rate / -total; commit-latency-avg / -max. */
  readonly commit = new KafkaMeter(true);
  readonly commitLatency = new KafkaLatency();
  /** rebalance-latency-avg / -max; rebalance-latency-total (CumulativeSum, ms). */
  readonly rebalanceLatency = new KafkaLatency();
  rebalanceLatencyTotalMs = 0;
  /** rebalance-total (CumulativeCount) and rebalance-rate-per-hour (Rate(HOURS, WindowedCount)). */
  readonly rebalance = new KafkaMeter(true, "hours");
  /** failed-rebalance-total and failed-rebalance-rate-per-hour. */
  readonly failedRebalance = new KafkaMeter(true, "hours");
  /** µs of the last successful rebalance's end (lastRebalanceEndMs; -1: none). */
  lastRebalanceEndUs: Micros = -1;
  /** µs of the last heartbeat sent (Heartbeat.lastHeartbeatSend; -1: none). */
  lastHeartbeatSendUs: Micros = -1;

  recordHeartbeat(latencyMs: number, nowUs: Micros): void {
    this.heartbeat.record(latencyMs, nowUs);
    this.heartbeatResponseTimeMax.record(latencyMs, nowUs);
  }

  recordJoin(latencyMs: number, nowUs: Micros): void {
    this.join.record(latencyMs, nowUs);
    this.joinTime.record(latencyMs, nowUs);
  }

  recordSync(latencyMs: number, nowUs: Micros): void {
    this.sync.record(latencyMs, nowUs);
    this.syncTime.record(latencyMs, nowUs);
  }

  recordCommit(latencyMs: number, nowUs: Micros): void {
    this.commit.record(latencyMs, nowUs);
    this.commitLatency.record(latencyMs, nowUs);
  }

  /** The successful rebalance sensor: lastRebalanceEndMs − lastRebalanceStartMs. */
  recordRebalance(nowUs: Micros, startUs: Micros): void {
    const latencyMs = startUs < 0 ? 0 : Math.floor(nowUs / 1000) - Math.floor(startUs / 1000);
    this.rebalance.record(latencyMs, nowUs);
    this.rebalanceLatency.record(latencyMs, nowUs);
    this.rebalanceLatencyTotalMs += latencyMs;
    this.lastRebalanceEndUs = nowUs;
  }

  recordFailedRebalance(nowUs: Micros): void {
    this.failedRebalance.record(1, nowUs);
  }

  /** last-rebalance-seconds-ago: -1 before the first rebalance. */
  lastRebalanceSecondsAgo(nowUs: Micros): number {
    return this.lastRebalanceEndUs < 0 ? -1 : secondsBetween(this.lastRebalanceEndUs, nowUs);
  }

  /** last-heartbeat-seconds-ago: -1 before the first heartbeat. */
  lastHeartbeatSecondsAgo(nowUs: Micros): number {
    return this.lastHeartbeatSendUs < 0 ? -1 : secondsBetween(this.lastHeartbeatSendUs, nowUs);
  }
}

/** TimeUnit.SECONDS.convert(nowMs − thenMs, MILLISECONDS), both times in whole ms as time.milliseconds() gives. */
function secondsBetween(thenUs: Micros, nowUs: Micros): number {
  return Math.floor((Math.floor(nowUs / 1000) - Math.floor(thenUs / 1000)) / 1000);
}
