/**
 * Kafka's own metrics library (org.apache.kafka.common.metrics), which the clients' sensors and the broker's
 * non-Yammer groups (group-coordinator-metrics) share: a sampled stat over metrics.num.samples (2) windows of
 * metrics.sample.window.ms (30 s) — WindowedSum or WindowedCount for a Rate, Max, Avg — and the Meter pairing a
 * rate with its cumulative total. Simplifications: the clock is the host's monotonic clock in µs (Kafka reads
 * time.milliseconds(), which a clock step would jump); no event-count windows; a Max or Avg with no sample in
 * its windows reads null (Kafka's NaN, which JSON lacks).
 */

import type { Micros } from "../sim/time.ts";

/** MetricConfig's defaults: metrics.num.samples and metrics.sample.window.ms (the broker's KafkaConfig has the same). */
const SAMPLES = 2;
const WINDOW_US: Micros = 30_000_000;

/** TimeUnit of a Rate: per second (Meter's default) or per hour (rebalance-rate-per-hour). */
export type RateUnit = "seconds" | "hours";
const UNIT_US: Readonly<Record<RateUnit, Micros>> = { seconds: 1_000_000, hours: 3_600_000_000 };

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

/**
 * Meter: a Rate over the sampled windows and its cumulative `*-total` (`*-count` on the broker). With
 * `countEvents` it is the clients' createMeter (a WindowedCount: every record counts 1, whatever its value, in
 * the rate and the total); otherwise a WindowedSum with a CumulativeSum (records add their value).
 */
export class KafkaMeter {
  total = 0;
  private readonly sum: SampledStat;

  constructor(
    private readonly countEvents = false,
    private readonly unit: RateUnit = "seconds",
  ) {
    this.sum = new SampledStat(0, (sample, value) => {
      sample.value += value;
    });
  }

  record(value: number, nowUs: Micros): void {
    const counted = this.countEvents ? 1 : value;
    this.total += counted;
    this.sum.record(counted, nowUs);
  }

  /** Rate.measure: the windows' sum over their elapsed time, at least (samples − 1) full windows, in the unit. */
  rate(nowUs: Micros): number {
    let value = 0;
    for (const sample of this.sum.live(nowUs)) value += sample.value;
    let elapsedUs = nowUs - this.sum.oldestUs(nowUs);
    const fullWindows = Math.floor(elapsedUs / WINDOW_US);
    if (fullWindows < SAMPLES - 1) elapsedUs += (SAMPLES - 1 - fullWindows) * WINDOW_US;
    return value / (Math.max(elapsedUs, 1000) / UNIT_US[this.unit]);
  }
}

/** Max over the sampled windows; null when no value was recorded in them. */
export class KafkaMax {
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

/** Avg over the sampled windows (their sum over their event count); null when no value was recorded in them. */
export class KafkaAvg {
  private readonly sum = new SampledStat(0, (sample, value) => {
    sample.value += value;
  });

  record(value: number, nowUs: Micros): void {
    this.sum.record(value, nowUs);
  }

  measure(nowUs: Micros): number | null {
    let total = 0;
    let count = 0;
    for (const sample of this.sum.live(nowUs)) {
      total += sample.value;
      count += sample.eventCount;
    }
    return count === 0 ? null : total / count;
  }
}

/** A latency sensor's `*-avg` and `*-max` (join-latency, sync-latency, commit-latency, partition-load-time). */
export class KafkaLatency {
  readonly avg = new KafkaAvg();
  readonly max = new KafkaMax();

  record(valueMs: number, nowUs: Micros): void {
    this.avg.record(valueMs, nowUs);
    this.max.record(valueMs, nowUs);
  }
}
