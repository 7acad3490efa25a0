/**
 * The Java clients' own metrics library (org.apache.kafka.common.metrics), as far as the producer's
 * producer-metrics and the consumer's consumer-fetch-manager-metrics need it: a sampled stat over
 * metrics.num.samples (2) windows of metrics.sample.window.ms (30 s) — WindowedSum for a Rate, Max for a
 * *-max — and the Meter pairing a rate with its cumulative *-total. Simplifications: the clock is the host's
 * monotonic clock (Kafka reads time.milliseconds(), which a clock step would jump); no event-count windows, no
 * per-topic or per-node sensors; a Max with no sample in its window reads null (Kafka's NaN, which JSON lacks).
 */

import type { Micros } from "../sim/time.ts";

/** MetricConfig's defaults: metrics.num.samples and metrics.sample.window.ms. */
const SAMPLES = 2;
const WINDOW_US: Micros = 30_000_000;

interface Sample {
  value: number;
  eventCount: number;
  lastWindowUs: Micros;
}

/** SampledStat: a ring of SAMPLES windows; a window closes after WINDOW_US, one older than all of them is reset. */
class SampledStat {
  private readonly samples: Sample[] = [];
  private current = 0;

  constructor(
    private readonly initial: number,
    private readonly update: (sample: Sample, value: number) => void,
  ) {}

  record(value: number, nowUs: Micros): void {
    let sample = this.currentSample(nowUs);
    if (nowUs >= sample.lastWindowUs + WINDOW_US) sample = this.advance(nowUs);
    this.update(sample, value);
    sample.eventCount++;
  }

  /** The samples still in the window at `nowUs` (purgeObsoleteSamples first). */
  live(nowUs: Micros): readonly Sample[] {
    for (const sample of this.samples) {
      if (nowUs - sample.lastWindowUs >= SAMPLES * WINDOW_US) this.reset(sample, nowUs);
    }
    return this.samples;
  }

  /** Start of the oldest window (SampledStat.oldest). */
  oldestUs(nowUs: Micros): Micros {
    if (this.samples.length === 0) this.samples.push(this.fresh(nowUs));
    let oldest = this.samples[0].lastWindowUs;
    for (const sample of this.samples) oldest = Math.min(oldest, sample.lastWindowUs);
    return oldest;
  }

  private currentSample(nowUs: Micros): Sample {
    if (this.samples.length === 0) this.samples.push(this.fresh(nowUs));
    return this.samples[this.current];
  }

  private advance(nowUs: Micros): Sample {
    this.current = (this.current + 1) % SAMPLES;
    if (this.current >= this.samples.length) {
      const sample = this.fresh(nowUs);
      this.samples.push(sample);
      return sample;
    }
    const sample = this.samples[this.current];
    this.reset(sample, nowUs);
    return sample;
  }

  private fresh(nowUs: Micros): Sample {
    return { value: this.initial, eventCount: 0, lastWindowUs: nowUs };
  }

  private reset(sample: Sample, nowUs: Micros): void {
    sample.value = this.initial;
    sample.eventCount = 0;
    sample.lastWindowUs = nowUs;
  }
}

/** Meter: a Rate (per second, over the sampled windows) and its CumulativeSum (`*-total`). */
export class ClientMeter {
  total = 0;
  private readonly sum = new SampledStat(0, (sample, value) => {
    sample.value += value;
  });

  record(value: number, nowUs: Micros): void {
    this.total += value;
    this.sum.record(value, nowUs);
  }

  /** Rate.measure: the windows' sum over their elapsed time, at least (samples − 1) full windows. */
  rate(nowUs: Micros): number {
    let value = 0;
    for (const sample of this.sum.live(nowUs)) value += sample.value;
    let elapsedUs = nowUs - this.sum.oldestUs(nowUs);
    const fullWindows = Math.floor(elapsedUs / WINDOW_US);
    if (fullWindows < SAMPLES - 1) elapsedUs += (SAMPLES - 1 - fullWindows) * WINDOW_US;
    return value / (elapsedUs / 1_000_000);
  }
}

/** Max over the sampled windows; null when no value was recorded in them. */
export class ClientMax {
  private readonly max = new SampledStat(Number.NEGATIVE_INFINITY, (sample, value) => {
    sample.value = Math.max(sample.value, value);
  });

  record(value: number, nowUs: Micros): void {
    this.max.record(value, nowUs);
  }

  measure(nowUs: Micros): number | null {
    let max = Number.NEGATIVE_INFINITY;
    let count = 0;
    for (const sample of this.max.live(nowUs)) {
      max = Math.max(max, sample.value);
      count += sample.eventCount;
    }
    return count === 0 ? null : max;
  }
}

/** The producer's producer-metrics group (Sender.SenderMetrics): records sent, retried and failed. */
export class ProducerMetrics {
  /** record-send-*: records in every Produce request sent (a retried batch counts again, as in Kafka). */
  readonly recordSend = new ClientMeter();
  /** record-retry-*: records of batches re-enqueued for a retry. */
  readonly recordRetry = new ClientMeter();
  /** record-error-*: records of batches that failed for good. */
  readonly recordError = new ClientMeter();
}

/** The consumer's consumer-fetch-manager-metrics group (FetchMetricsManager). */
export class ConsumerMetrics {
  /** records-consumed-*: records returned to the application. */
  readonly recordsConsumed = new ClientMeter();
  /** records-lag-max: the largest partition lag recorded in the window. */
  readonly recordsLagMax = new ClientMax();
  /** records-lag per partition ("topic-partition" key): the last recorded lag. */
  readonly partitionLag = new Map<string, number>();

  /** FetchMetricsManager.recordPartitionLag: HW of the last fetch response minus the position. */
  recordPartitionLag(topicPartition: string, lag: number, nowUs: Micros): void {
    this.partitionLag.set(topicPartition, lag);
    this.recordsLagMax.record(lag, nowUs);
  }
}

/**
 * The consumer's consumer-coordinator-metrics group (AbstractCoordinator.GroupCoordinatorMetrics and
 * ConsumerCoordinator.ConsumerCoordinatorMetrics), as cumulative counts: rebalance-total (successful rebalances),
 * failed-rebalance-total, rebalance-latency-total, last-rebalance-seconds-ago, join-total, sync-total,
 * heartbeat-total, last-heartbeat-seconds-ago and commit-total. Simplification: no rates, averages or maxima.
 */
export class CoordinatorMetrics {
  rebalanceTotal = 0;
  failedRebalanceTotal = 0;
  rebalanceLatencyTotalMs = 0;
  joinTotal = 0;
  syncTotal = 0;
  heartbeatTotal = 0;
  commitTotal = 0;
  /** µs of the last successful rebalance's end (-1: none). */
  lastRebalanceEndUs: Micros = -1;
  /** µs of the last heartbeat sent (-1: none). */
  lastHeartbeatSendUs: Micros = -1;

  recordRebalance(nowUs: Micros, startUs: Micros): void {
    this.rebalanceTotal++;
    if (startUs >= 0) this.rebalanceLatencyTotalMs += Math.floor((nowUs - startUs) / 1000);
    this.lastRebalanceEndUs = nowUs;
  }

  /** last-rebalance-seconds-ago: -1 before the first rebalance. */
  lastRebalanceSecondsAgo(nowUs: Micros): number {
    return this.lastRebalanceEndUs < 0 ? -1 : Math.floor((nowUs - this.lastRebalanceEndUs) / 1_000_000);
  }

  /** last-heartbeat-seconds-ago: -1 before the first heartbeat. */
  lastHeartbeatSecondsAgo(nowUs: Micros): number {
    return this.lastHeartbeatSendUs < 0 ? -1 : Math.floor((nowUs - this.lastHeartbeatSendUs) / 1_000_000);
  }
}
