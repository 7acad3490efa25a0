/**
 * What a broker's components (ReplicaManager, fetchers, KafkaController) reach of their broker: identity,
 * configuration, the log manager, the current ZooKeeper client, the metadata cache and the network. The
 * broker process (broker.ts) implements it; components never touch the host or each other directly except
 * through these handles, so each can be unit-tested with a fake.
 */

import type { Disk } from "../disk/disk.ts";
import { brokerHost } from "../protocol/kafka.ts";
import type { Message, ProcessContext } from "../sim/host.ts";
import type { ZkClient } from "../zk/client.ts";
import type { LogManager } from "./log/log-manager.ts";
import type { Compat, ReplicationConfig } from "./config.ts";
import type { MetadataCache } from "./metadata-cache.ts";
import { BrokerMetrics } from "./metrics.ts";

export interface BrokerServices {
  readonly brokerId: number;
  /** The host's process context (timers, trace, rng, clocks) of this incarnation. */
  readonly context: ProcessContext<Disk>;
  readonly config: ReplicationConfig;
  readonly compat: Compat;
  readonly logManager: LogManager;
  readonly metadataCache: MetadataCache;
  /** This incarnation's Yammer meters (JMX); the model marks them, the metrics sampler reads them. */
  readonly metrics: BrokerMetrics;
  /** The current ZooKeeper client; it is replaced by a new one after a session expiry. */
  zk(): ZkClient;
  /** The czxid of this broker's /brokers/ids/<id> registration in the current session; -1 before. */
  brokerEpoch(): number;
  /**
   * A topic's config overrides (min.insync.replicas, unclean.leader.election.enable, log keys). Simplification:
   * every broker sees a topic's overrides at once (no /config/changes notifications).
   */
  topicConfig(topic: string): Readonly<Record<string, unknown>>;
  /** Local wall clock in ms (Kafka's time.milliseconds(), skew included). */
  nowMs(): number;
  /** A fresh correlation id for an outgoing request. */
  nextCorrelationId(): number;
  /** Sends to `broker-<id>` (itself included: the controller talks to its own broker over the network). */
  sendToBroker(brokerId: number, message: Message): void;
  /** Sends to any host by name (responses go back to the requesting host). */
  send(host: string, message: Message): void;
}

/** Timer tag prefixes owned by each component; the broker routes timers by prefix. */
export const REPLICA_TIMER_PREFIX = "replica:";
export const FETCHER_TIMER_PREFIX = "fetcher:";
export const CONTROLLER_TIMER_PREFIX = "controller:";
export const BROKER_TIMER_PREFIX = "broker:";

/**
 * The plumbing every BrokerServices implementation shares (the broker process, and the test harnesses that
 * host a controller or a ReplicaManager alone): the clock in ms, correlation ids and sends.
 */
export abstract class BrokerPlumbing {
  private correlationId = 0;
  readonly metrics: BrokerMetrics;

  constructor(readonly context: ProcessContext<Disk>) {
    this.metrics = new BrokerMetrics(() => context.monotonicNow());
  }

  nowMs(): number {
    return Math.floor(this.context.now() / 1000);
  }

  nextCorrelationId(): number {
    return ++this.correlationId;
  }

  sendToBroker(brokerId: number, message: Message): void {
    this.context.send(brokerHost(brokerId), message);
  }

  send(host: string, message: Message): void {
    this.context.send(host, message);
  }
}
