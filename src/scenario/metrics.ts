/**
 * The JMX sampler: what an operator's dashboard scrapes, recorded in the trace. Every `intervalUs` of virtual
 * time, one `metrics` event per broker and client host that is up and not paused (a crashed, halted or paused
 * JVM answers no JMX), mapping each MBean's ObjectName, exactly as Kafka registers it, to its attributes:
 * gauges computed now from the process's state (read-only), meters and timers read from the counters the model
 * marks (src/broker/metrics.ts, src/clients/metrics.ts). The sampler is one world-level kernel event; it draws
 * no randomness and changes no model state, so the model's own trace lines are the same with it or without
 * it. It goes idle when nothing else is pending (the run is quiescent) and `resume()` re-arms it.
 * Simplifications: only the MBeans listed in docs/metrics.md; rates rounded to 3 decimals. A transactional
 * producer's txn-*-time-ns-total are measured from its TransactionManager's transitions (`producer-txn-state`,
 * observed on the trace: the sampler exists only where trace lines are written), see TxnCallTimes.
 */

import { KafkaBroker } from "../broker/broker.ts";
import type { KafkaAvg, KafkaMax, KafkaMeter } from "../broker/kafka-metrics.ts";
import { GROUP_REQUESTS, METERED_REQUESTS, type BrokerMetrics, type GroupRequest, type MeteredRequest, type YammerMeter, type YammerTimer } from "../broker/metrics.ts";
import type { KafkaVersion } from "../broker/config.ts";
import type { KafkaConsumer } from "../clients/consumer/consumer.ts";
import { GroupConsumerWorkload } from "../workload/group-consumer-workload.ts";
import type { EventTarget } from "../sim/kernel.ts";
import type { Micros } from "../sim/time.ts";
import type { World } from "../sim/world.ts";
import type { TraceEvent } from "../sim/trace.ts";
import { ConsumerWorkload } from "../workload/consumer-workload.ts";
import { ProducerWorkload } from "../workload/producer-workload.ts";
import { TransactionalProducerWorkload } from "../workload/transactional-producer-workload.ts";
import { ProcessorWorkload } from "../workload/processor-workload.ts";

export type MBeans = Record<string, Record<string, number | null>>;

const EVENT_SAMPLE = 1;

/**
 * The API version of each era's clients, for RequestsPerSec's `version` tag (KIP-272, Kafka 2.0; absent before).
 * 2.2, 2.7 and 3.3 from the message JSON's validVersions at the tag; 2.1 from its request classes (KIP-320's Fetch v10,
 * OffsetCommit v6, OffsetFetch v5). 3.3 keeps 3.x's Fetch v12 (no topic ids in the model).
 * The simulator does not negotiate versions: these are the newest Produce and Fetch versions of each era.
 */
const REQUEST_VERSIONS: Readonly<Record<KafkaVersion, { Produce: number; Fetch: number } | null>> = {
  "0.10.2": null,
  "0.11": null,
  "1.1": null,
  "2.0": { Produce: 6, Fetch: 8 },
  "2.1": { Produce: 7, Fetch: 10 },
  "2.2": { Produce: 7, Fetch: 10 },
  "2.4": { Produce: 8, Fetch: 11 },
  "2.7": { Produce: 8, Fetch: 12 },
  "3.3": { Produce: 9, Fetch: 12 },
  "3.x": { Produce: 9, Fetch: 12 },
};

/**
 * The same for the group requests: the newest version of each era's clients (2.0.0's request schemas, 2.4.0's and
 * 3.6.0's message JSON validVersions; OffsetCommit v9 is unstable in 3.6, so 8).
 */
const GROUP_REQUEST_VERSIONS: Readonly<Record<KafkaVersion, Readonly<Record<GroupRequest, number>> | null>> = {
  "0.10.2": null,
  "0.11": null,
  "1.1": null,
  "2.0": { FindCoordinator: 2, JoinGroup: 3, SyncGroup: 2, Heartbeat: 2, LeaveGroup: 2, OffsetCommit: 4, OffsetFetch: 4 },
  "2.1": { FindCoordinator: 2, JoinGroup: 3, SyncGroup: 2, Heartbeat: 2, LeaveGroup: 2, OffsetCommit: 6, OffsetFetch: 5 },
  "2.2": { FindCoordinator: 2, JoinGroup: 4, SyncGroup: 2, Heartbeat: 2, LeaveGroup: 2, OffsetCommit: 6, OffsetFetch: 5 },
  "2.7": { FindCoordinator: 3, JoinGroup: 7, SyncGroup: 5, Heartbeat: 4, LeaveGroup: 4, OffsetCommit: 8, OffsetFetch: 7 },
  "3.3": { FindCoordinator: 4, JoinGroup: 9, SyncGroup: 5, Heartbeat: 4, LeaveGroup: 5, OffsetCommit: 8, OffsetFetch: 8 },
  "2.4": { FindCoordinator: 3, JoinGroup: 6, SyncGroup: 4, Heartbeat: 4, LeaveGroup: 4, OffsetCommit: 8, OffsetFetch: 6 },
  "3.x": { FindCoordinator: 4, JoinGroup: 9, SyncGroup: 5, Heartbeat: 4, LeaveGroup: 5, OffsetCommit: 8, OffsetFetch: 8 },
};

/** GroupMetadataManager's gauges, in the order Kafka registers them, with the group state each counts. */
const GROUP_STATE_GAUGES = [
  ["NumGroupsPreparingRebalance", "PreparingRebalance"],
  ["NumGroupsCompletingRebalance", "CompletingRebalance"],
  ["NumGroupsStable", "Stable"],
  ["NumGroupsDead", "Dead"],
  ["NumGroupsEmpty", "Empty"],
] as const;

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/**
 * KafkaProducerMetrics' (Kafka 3.x) txn-init-, txn-begin-, txn-commit- and txn-abort-time-ns-total of one
 * transactional producer: CumulativeSums of the time its application spent blocked in initTransactions(),
 * beginTransaction(), commitTransaction() and abortTransaction(), recorded only when the call returns normally
 * (KafkaProducer records after `result.await` and not when it throws). The model's calls are callbacks, so a call
 * lasts from the TransactionManager's transition that starts it to its return to READY: UNINITIALIZED →
 * INITIALIZING … READY (init), COMMITTING_TRANSACTION … READY (commit), ABORTING_TRANSACTION … READY (abort); a
 * transition to ABORTABLE_ERROR or FATAL_ERROR fails the call in progress (nothing recorded). beginTransaction()
 * is local and takes no virtual time: its total stays 0. txn-send-offsets-time-ns-total is not sampled: its call
 * changes no state the trace shows.
 */
class TxnCallTimes {
  initNs = 0;
  beginNs = 0;
  commitNs = 0;
  abortNs = 0;
  private callStartUs: number | null = null;
  private call: "init" | "commit" | "abort" | null = null;

  transition(previous: string, state: string, tUs: number): void {
    if (previous === "UNINITIALIZED" && state === "INITIALIZING") this.start("init", tUs);
    else if (state === "COMMITTING_TRANSACTION") this.start("commit", tUs);
    else if (state === "ABORTING_TRANSACTION") this.start("abort", tUs);
    else if (state === "ABORTABLE_ERROR" || state === "FATAL_ERROR") this.call = null;
    else if (state === "READY" && this.call !== null && this.callStartUs !== null) {
      const ns = (tUs - this.callStartUs) * 1000;
      if (this.call === "init") this.initNs += ns;
      else if (this.call === "commit") this.commitNs += ns;
      else this.abortNs += ns;
      this.call = null;
    }
  }

  private start(call: "init" | "commit" | "abort", tUs: number): void {
    this.call = call;
    this.callStartUs = tUs;
  }
}

export class MetricsSampler implements EventTarget {
  /** Samples taken (kernel events dispatched by the sampler). */
  samples = 0;
  private armed = false;
  /** Per transactional producer's host: the time spent in its transactional calls (a restarted JVM starts again). */
  private readonly txnCallTimes = new Map<string, TxnCallTimes>();

  constructor(
    private readonly world: World,
    readonly intervalUs: Micros,
    private readonly version: KafkaVersion = "3.x",
  ) {
    if (!(Number.isInteger(intervalUs) && intervalUs > 0)) throw new Error("the metrics interval must be a positive number of µs");
    // Reads the trace only; observing changes no trace line.
    world.trace.observe((e) => this.observe(e), ["producer-txn-state", "host-start"]);
  }

  private observe(e: TraceEvent): void {
    if (e.kind === "host-start") {
      this.txnCallTimes.delete(e.node);
      return;
    }
    let times = this.txnCallTimes.get(e.node);
    if (times === undefined) this.txnCallTimes.set(e.node, (times = new TxnCallTimes()));
    times.transition(String(e.previousState), String(e.state), e.t);
  }

  /** Arms the next sample on the interval grid after now (a no-op while armed). */
  resume(): void {
    if (this.armed) return;
    this.armed = true;
    const now = this.world.kernel.now;
    this.world.kernel.at((Math.floor(now / this.intervalUs) + 1) * this.intervalUs, this, EVENT_SAMPLE);
  }

  handleEvent(): void {
    this.armed = false;
    this.samples++;
    this.sample();
    // Nothing else pending: the world is quiescent, and a sampler alone must not keep the run going.
    if (this.world.kernel.queue.size > 0) this.resume();
  }

  /** One `metrics` event per answering host. */
  sample(): void {
    const trace = this.world.trace;
    for (const host of this.world.hosts) {
      if (host.state !== "running" || host.process === null) continue;
      const mbeans = this.mbeansOf(host.process);
      if (mbeans !== null) trace.emit(host.name, "metrics", { intervalUs: this.intervalUs, mbeans });
    }
  }

  mbeansOf(process: unknown): MBeans | null {
    if (process instanceof KafkaBroker) return process.isHalted ? null : this.brokerMBeans(process);
    if (process instanceof ProducerWorkload) return producerMBeans(process);
    if (process instanceof TransactionalProducerWorkload) return producerMBeans(process, this.txnCallTimes.get(process.clientId) ?? new TxnCallTimes());
    if (process instanceof ConsumerWorkload) return consumerMBeans(process.consumer, process.clientId);
    if (process instanceof ProcessorWorkload) return { ...producerMBeans(process, this.txnCallTimes.get(process.clientId) ?? null), ...(process.consumer.isClosed ? {} : consumerMBeans(process.consumer, process.clientId)) };
    if (process instanceof GroupConsumerWorkload) return process.consumer.isClosed ? null : consumerMBeans(process.consumer, process.clientId);
    return null;
  }

  private brokerMBeans(broker: KafkaBroker): MBeans {
    const metrics = broker.metrics;
    const replicaManager = broker.replicaManager;
    let underReplicated = 0;
    let underMinIsr = 0;
    let atMinIsr = 0;
    let leaders = 0;
    for (const partition of replicaManager.partitions()) {
      if (!partition.isLeader) continue;
      leaders++;
      const isrSize = partition.isr.length;
      const minIsr = partition.effectiveMinIsr;
      if (isrSize < partition.replicas.length) underReplicated++;
      if (isrSize < minIsr) underMinIsr++;
      if (isrSize === minIsr) atMinIsr++;
    }
    const controller = broker.controller;
    let offline = 0;
    if (controller.isActive) {
      const ctx = controller.context;
      for (const [key, state] of ctx.partitionStates) {
        if (state !== "OfflinePartition") continue;
        const topic = key.slice(0, key.lastIndexOf("-"));
        if (!ctx.isTopicQueuedUpForDeletion(topic)) offline++;
      }
    }
    const mbeans: MBeans = {
      "kafka.server:type=ReplicaManager,name=UnderReplicatedPartitions": { Value: underReplicated },
      "kafka.server:type=ReplicaManager,name=UnderMinIsrPartitionCount": { Value: underMinIsr },
      "kafka.server:type=ReplicaManager,name=AtMinIsrPartitionCount": { Value: atMinIsr },
      "kafka.server:type=ReplicaManager,name=PartitionCount": { Value: replicaManager.partitionCount },
      "kafka.server:type=ReplicaManager,name=LeaderCount": { Value: leaders },
      "kafka.server:type=ReplicaManager,name=IsrShrinksPerSec": meter(metrics.isrShrinks),
      "kafka.server:type=ReplicaManager,name=IsrExpandsPerSec": meter(metrics.isrExpands),
      "kafka.controller:type=KafkaController,name=ActiveControllerCount": { Value: controller.isActive ? 1 : 0 },
      "kafka.controller:type=KafkaController,name=OfflinePartitionsCount": { Value: offline },
      "kafka.controller:type=ControllerStats,name=UncleanLeaderElectionsPerSec": meter(metrics.uncleanLeaderElections),
      "kafka.controller:type=ControllerStats,name=LeaderElectionRateAndTimeMs": timer(metrics.leaderElection),
    };
    this.requestMBeans(metrics, mbeans);
    mbeans["kafka.server:type=BrokerTopicMetrics,name=MessagesInPerSec"] = meter(metrics.messagesIn);
    mbeans["kafka.server:type=BrokerTopicMetrics,name=BytesInPerSec"] = meter(metrics.bytesIn);
    mbeans["kafka.server:type=BrokerTopicMetrics,name=FailedProduceRequestsPerSec"] = meter(metrics.failedProduceRequests);
    mbeans["kafka.server:type=SessionExpireListener,name=ZooKeeperExpiresPerSec"] = meter(metrics.zooKeeperExpires);
    if (metrics.groupCoordinatorHosted) groupCoordinatorMBeans(broker, mbeans);
    return mbeans;
  }

  private requestMBeans(metrics: BrokerMetrics, mbeans: MBeans): void {
    const versions = REQUEST_VERSIONS[this.version];
    for (const request of METERED_REQUESTS) {
      const version = versions === null ? "" : `,version=${request === "Produce" ? versions.Produce : versions.Fetch}`;
      mbeans[`kafka.network:type=RequestMetrics,name=RequestsPerSec,request=${request}${version}`] = meter(metrics.requests.get(request)!);
    }
    const groupVersions = GROUP_REQUEST_VERSIONS[this.version];
    for (const request of GROUP_REQUESTS) {
      const requests = metrics.groupRequests.get(request);
      if (requests === undefined) continue;
      const version = groupVersions === null ? "" : `,version=${groupVersions[request]}`;
      mbeans[`kafka.network:type=RequestMetrics,name=RequestsPerSec,request=${request}${version}`] = meter(requests);
    }
    for (const request of METERED_REQUESTS) {
      for (const [error, errorMeter] of metrics.errors.get(request as MeteredRequest)!) {
        mbeans[`kafka.network:type=RequestMetrics,name=ErrorsPerSec,request=${request},error=${error}`] = meter(errorMeter);
      }
    }
  }
}

function meter(m: YammerMeter): Record<string, number> {
  return { Count: m.count, OneMinuteRate: round(m.oneMinuteRate()) };
}

function timer(t: YammerTimer): Record<string, number> {
  return { Count: t.count, OneMinuteRate: round(t.meter.oneMinuteRate()), Mean: round(t.mean()) };
}

function clientMeter(m: KafkaMeter, name: string, nowUs: Micros): Record<string, number> {
  return { [`${name}-total`]: m.total, [`${name}-rate`]: round(m.rate(nowUs)) };
}

/** A Max or Avg: null (Kafka's NaN) without samples in its windows. */
function measured(stat: KafkaMax | KafkaAvg, nowUs: Micros): number | null {
  const value = stat.measure(nowUs);
  return value === null ? null : round(value);
}

/**
 * The group coordinator's MBeans: GroupMetadataManager's gauges over the groups it caches (every group of the
 * __consumer_offsets partitions it leads and has loaded) and the group-coordinator-metrics sensors.
 */
function groupCoordinatorMBeans(broker: KafkaBroker, mbeans: MBeans): void {
  const groups = broker.groupCoordinator.groupManager.currentGroups();
  const gauge = "kafka.coordinator.group:type=GroupMetadataManager,name=";
  let offsets = 0;
  for (const group of groups) offsets += group.numOffsets;
  mbeans[`${gauge}NumOffsets`] = { Value: offsets };
  mbeans[`${gauge}NumGroups`] = { Value: groups.length };
  for (const [name, state] of GROUP_STATE_GAUGES) mbeans[`${gauge}${name}`] = { Value: groups.filter((group) => group.is(state)).length };
  const sensors = broker.metrics.groupCoordinator;
  const nowUs = broker.metrics.now();
  const count = (m: KafkaMeter, name: string) => ({ [`${name}-rate`]: round(m.rate(nowUs)), [`${name}-count`]: m.total });
  mbeans["kafka.server:type=group-coordinator-metrics"] = {
    ...count(sensors.offsetCommits, "offset-commit"),
    ...count(sensors.offsetExpired, "offset-expiration"),
    ...count(sensors.offsetDeletions, "offset-deletion"),
    ...count(sensors.completedRebalances, "group-completed-rebalance"),
    "partition-load-time-max": measured(sensors.partitionLoadTime.max, nowUs),
    "partition-load-time-avg": measured(sensors.partitionLoadTime.avg, nowUs),
  };
}

/** producer-metrics; a transactional producer's also carries KafkaProducerMetrics' txn-*-time-ns-total. */
function producerMBeans(workload: ProducerWorkload | TransactionalProducerWorkload | ProcessorWorkload, txn: TxnCallTimes | null = null): MBeans {
  const producer = workload.producer;
  const metrics = producer.metrics;
  const nowUs = workload.monotonicNow();
  return {
    [`kafka.producer:type=producer-metrics,client-id=${workload.clientId}`]: {
      ...clientMeter(metrics.recordSend, "record-send", nowUs),
      ...clientMeter(metrics.recordRetry, "record-retry", nowUs),
      ...clientMeter(metrics.recordError, "record-error", nowUs),
      "requests-in-flight": producer.requestsInFlight,
      ...(txn === null
        ? {}
        : {
            "txn-init-time-ns-total": txn.initNs,
            "txn-begin-time-ns-total": txn.beginNs,
            "txn-commit-time-ns-total": txn.commitNs,
            "txn-abort-time-ns-total": txn.abortNs,
          }),
    },
  };
}

/** consumer-fetch-manager-metrics, and consumer-coordinator-metrics for a consumer in a group. */
function consumerMBeans(consumer: KafkaConsumer, clientId: string): MBeans {
  const metrics = consumer.metrics;
  const nowUs = consumer.nowUs();
  const lagMax = metrics.recordsLagMax.measure(nowUs);
  const mbeans: MBeans = {
    [`kafka.consumer:type=consumer-fetch-manager-metrics,client-id=${clientId}`]: {
      "records-lag-max": lagMax === null ? null : round(lagMax),
      ...clientMeter(metrics.recordsConsumed, "records-consumed", nowUs),
    },
  };
  for (const state of consumer.assignment) {
    const lag = metrics.partitionLag.get(state.topicPartition);
    if (lag === undefined) continue;
    mbeans[`kafka.consumer:type=consumer-fetch-manager-metrics,client-id=${clientId},topic=${state.topic},partition=${state.partition}`] = { "records-lag": lag };
  }
  // Registered with the ConsumerCoordinator, which KafkaConsumer's constructor creates when group.id is set.
  if (consumer.config["group.id"] !== null) mbeans[`kafka.consumer:type=consumer-coordinator-metrics,client-id=${clientId}`] = coordinatorMBean(consumer, nowUs);
  return mbeans;
}

/** AbstractCoordinator.GroupCoordinatorMetrics and ConsumerCoordinator.ConsumerCoordinatorMetrics. */
function coordinatorMBean(consumer: KafkaConsumer, nowUs: Micros): Record<string, number | null> {
  const m = consumer.coordinatorMetrics;
  return {
    "heartbeat-response-time-max": measured(m.heartbeatResponseTimeMax, nowUs),
    ...clientMeter(m.heartbeat, "heartbeat", nowUs),
    "join-time-avg": measured(m.joinTime.avg, nowUs),
    "join-time-max": measured(m.joinTime.max, nowUs),
    ...clientMeter(m.join, "join", nowUs),
    "sync-time-avg": measured(m.syncTime.avg, nowUs),
    "sync-time-max": measured(m.syncTime.max, nowUs),
    ...clientMeter(m.sync, "sync", nowUs),
    "rebalance-latency-avg": measured(m.rebalanceLatency.avg, nowUs),
    "rebalance-latency-max": measured(m.rebalanceLatency.max, nowUs),
    "rebalance-latency-total": m.rebalanceLatencyTotalMs,
    "rebalance-total": m.rebalance.total,
    "rebalance-rate-per-hour": round(m.rebalance.rate(nowUs)),
    "failed-rebalance-total": m.failedRebalance.total,
    "failed-rebalance-rate-per-hour": round(m.failedRebalance.rate(nowUs)),
    "last-rebalance-seconds-ago": m.lastRebalanceSecondsAgo(nowUs),
    "last-heartbeat-seconds-ago": m.lastHeartbeatSecondsAgo(nowUs),
    "commit-latency-avg": measured(m.commitLatency.avg, nowUs),
    "commit-latency-max": measured(m.commitLatency.max, nowUs),
    ...clientMeter(m.commit, "commit", nowUs),
    "assigned-partitions": consumer.assignment.length,
  };
}
