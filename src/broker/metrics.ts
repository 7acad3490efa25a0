/**
 * The broker's Yammer metrics (metrics-core 2.2, KafkaMetricsGroup): meters with a cumulative Count and the
 * one-minute exponentially weighted moving average Kafka's JMX shows as OneMinuteRate, and the
 * LeaderElectionRateAndTimeMs timer. The model marks them on its own paths (plain arithmetic, whether or not
 * anything samples them); gauges (UnderReplicatedPartitions, LeaderCount, ActiveControllerCount…) are read
 * from the broker's state when sampled (src/scenario/metrics.ts). One BrokerMetrics per incarnation: a restart
 * is a new JVM and every count starts at 0. Simplifications: only the one-minute rate (no mean, five- and
 * fifteen-minute rates); a timer's Mean is the arithmetic mean of every recorded duration (metrics-core 2.2's
 * Histogram.mean(), not a decaying reservoir); meters tick on read or mark, in the host's monotonic time.
 * Beside them, the group coordinator's group-coordinator-metrics sensors, on Kafka's own metrics library
 * (kafka-metrics.ts), reported only once the broker has hosted a replica of __consumer_offsets.
 */

import type { Micros } from "../sim/time.ts";
import { KafkaLatency, KafkaMeter } from "./kafka-metrics.ts";

/** Yammer's tick interval: the EWMA absorbs the marks of each 5-second interval. */
export const TICK_INTERVAL_US: Micros = 5_000_000;
/** 1 − exp(−5/60): the one-minute EWMA's weight per tick (a literal, so no engine's Math.exp is involved). */
export const M1_ALPHA = 0.07995558537067671;

/** A Yammer Meter's count and one-minute rate, ticked lazily on the 5-second grid from its creation. */
export class YammerMeter {
  count = 0;
  private uncounted = 0;
  /** Events per second; valid once the first tick ran. */
  private rate = 0;
  private initialized = false;
  private lastTickUs: Micros;

  constructor(private readonly clock: () => Micros) {
    this.lastTickUs = clock();
  }

  mark(n = 1): void {
    this.tickIfNecessary();
    this.count += n;
    this.uncounted += n;
  }

  /** The one-minute rate in events per second (Meter.oneMinuteRate). */
  oneMinuteRate(): number {
    this.tickIfNecessary();
    return this.rate;
  }

  private tickIfNecessary(): void {
    const age = this.clock() - this.lastTickUs;
    if (age <= TICK_INTERVAL_US) return;
    this.lastTickUs += age - (age % TICK_INTERVAL_US);
    const ticks = Math.floor(age / TICK_INTERVAL_US);
    for (let i = 0; i < ticks; i++) {
      // EWMA.tick: the interval's instant rate, then decay towards it.
      const instantRate = this.uncounted / (TICK_INTERVAL_US / 1_000_000);
      this.uncounted = 0;
      if (this.initialized) this.rate += M1_ALPHA * (instantRate - this.rate);
      else {
        this.rate = instantRate;
        this.initialized = true;
      }
      // Nothing left to decay: the remaining ticks change nothing.
      if (this.rate === 0) break;
    }
  }
}

/** A Yammer Timer: a meter of events plus the mean of their durations in ms. */
export class YammerTimer {
  readonly meter: YammerMeter;
  private totalMs = 0;

  constructor(clock: () => Micros) {
    this.meter = new YammerMeter(clock);
  }

  update(durationMs: number): void {
    this.meter.mark();
    this.totalMs += durationMs;
  }

  get count(): number {
    return this.meter.count;
  }

  /** Mean duration in ms (0 before the first event, as Yammer reports). */
  mean(): number {
    return this.meter.count === 0 ? 0 : this.totalMs / this.meter.count;
  }
}

/** RequestMetrics names of the requests the simulator meters (RequestChannel's FetchFollower / FetchConsumer split). */
export type MeteredRequest = "Produce" | "FetchFollower" | "FetchConsumer";
export const METERED_REQUESTS: readonly MeteredRequest[] = ["Produce", "FetchFollower", "FetchConsumer"];

/** The group requests' RequestMetrics names (ApiKeys names), metered once handled. */
export type GroupRequest = "FindCoordinator" | "JoinGroup" | "SyncGroup" | "Heartbeat" | "LeaveGroup" | "OffsetCommit" | "OffsetFetch";
export const GROUP_REQUESTS: readonly GroupRequest[] = ["FindCoordinator", "JoinGroup", "SyncGroup", "Heartbeat", "LeaveGroup", "OffsetCommit", "OffsetFetch"];

/**
 * The group coordinator's group-coordinator-metrics sensors (GroupMetadataManager: OffsetCommits, OffsetExpired,
 * GroupPartitionLoadTime; GroupCoordinator: OffsetDeletions, CompletedRebalances). Their Meters are a WindowedSum
 * rate with a CumulativeSum `*-count`.
 */
export class GroupCoordinatorMetrics {
  /** offset-commit-rate / -count: offsets written by OffsetCommits whose append succeeded (records.size). */
  readonly offsetCommits = new KafkaMeter();
  /** offset-expiration-rate / -count: offsets removed by each cleanupGroupMetadata run. */
  readonly offsetExpired = new KafkaMeter();
  /** offset-deletion-rate / -count: offsets deleted by OffsetDelete (never: the simulator has no OffsetDelete). */
  readonly offsetDeletions = new KafkaMeter();
  /** group-completed-rebalance-rate / -count: leader SyncGroups received in CompletingRebalance. */
  readonly completedRebalances = new KafkaMeter();
  /** partition-load-time-avg / -max: ms from scheduling a partition's load to its end. */
  readonly partitionLoadTime = new KafkaLatency();
}

/** Every counted metric of one broker incarnation (ReplicaManager, ControllerStats, RequestMetrics, BrokerTopicMetrics, SessionExpireListener). */
export class BrokerMetrics {
  readonly isrShrinks: YammerMeter;
  readonly isrExpands: YammerMeter;
  readonly uncleanLeaderElections: YammerMeter;
  /** ControllerState.BrokerChange's rate-and-time metric: the active controller's broker-change events. */
  readonly leaderElection: YammerTimer;
  readonly messagesIn: YammerMeter;
  readonly bytesIn: YammerMeter;
  readonly failedProduceRequests: YammerMeter;
  readonly zooKeeperExpires: YammerMeter;
  readonly requests = new Map<MeteredRequest, YammerMeter>();
  /** request → error name → meter, created when the error first occurs (RequestMetrics' ErrorMeter). */
  readonly errors = new Map<MeteredRequest, Map<string, YammerMeter>>();
  /** The group requests' RequestsPerSec, created when the first one is handled (requestRate(version).getOrCreate). */
  readonly groupRequests = new Map<GroupRequest, YammerMeter>();
  readonly groupCoordinator = new GroupCoordinatorMetrics();
  /** The broker has hosted a replica of __consumer_offsets: its group coordinator MBeans are reported. */
  groupCoordinatorHosted = false;

  constructor(private readonly clock: () => Micros) {
    this.isrShrinks = new YammerMeter(clock);
    this.isrExpands = new YammerMeter(clock);
    this.uncleanLeaderElections = new YammerMeter(clock);
    this.leaderElection = new YammerTimer(clock);
    this.messagesIn = new YammerMeter(clock);
    this.bytesIn = new YammerMeter(clock);
    this.failedProduceRequests = new YammerMeter(clock);
    this.zooKeeperExpires = new YammerMeter(clock);
    for (const request of METERED_REQUESTS) {
      this.requests.set(request, new YammerMeter(clock));
      this.errors.set(request, new Map());
    }
    // A chart of min.insync.replicas failures has its zero line from the start.
    this.errorMeter("Produce", "NOT_ENOUGH_REPLICAS");
    this.errorMeter("Produce", "NOT_ENOUGH_REPLICAS_AFTER_APPEND");
  }

  /** The monotonic time the meters read (µs). */
  now(): Micros {
    return this.clock();
  }

  markRequest(request: MeteredRequest): void {
    this.requests.get(request)!.mark();
  }

  markGroupRequest(request: GroupRequest): void {
    let meter = this.groupRequests.get(request);
    if (meter === undefined) {
      meter = new YammerMeter(this.clock);
      this.groupRequests.set(request, meter);
    }
    meter.mark();
  }

  /** onElection / onResignation of a __consumer_offsets partition: from now on the coordinator's MBeans are reported. */
  markGroupCoordinatorHosted(): void {
    this.groupCoordinatorHosted = true;
  }

  /** RequestMetrics.markErrorMeter: one mark per partition error of a response (NONE included), as Kafka's errorCounts. */
  markError(request: MeteredRequest, error: string): void {
    this.errorMeter(request, error).mark();
  }

  /**
   * markError for errors[0], …, errors[count - 1] in turn (the meters created in that order): one lookup per run
   * of equal errors, as a fetch's partitions mostly answer NONE.
   */
  markErrors(request: MeteredRequest, errors: readonly string[], count: number): void {
    let error: string | null = null;
    let meter: YammerMeter | null = null;
    for (let i = 0; i < count; i++) {
      if (errors[i] !== error || meter === null) {
        error = errors[i];
        meter = this.errorMeter(request, error);
      }
      meter.mark();
    }
  }

  private errorMeter(request: MeteredRequest, error: string): YammerMeter {
    const byError = this.errors.get(request)!;
    let meter = byError.get(error);
    if (meter === undefined) {
      meter = new YammerMeter(this.clock);
      byError.set(error, meter);
    }
    return meter;
  }
}
