/**
 * The creation of a coordinator's internal topic (__consumer_offsets, __transaction_state) on the first
 * FindCoordinator that needs it (KafkaApis.getCoordinator → AutoTopicCreationManager.createTopics →
 * ZkAdminManager.createTopics → AdminZkClient, Kafka 3.6 in ZooKeeper mode): the topic's partitions and replicas
 * assigned by AdminUtils.assignReplicasToBrokers over the live brokers of the metadata cache (too few → nothing is
 * created, INVALID_REPLICATION_FACTOR, and FindCoordinator keeps answering COORDINATOR_NOT_AVAILABLE), the topic
 * config written to /config/topics and the shared registry, then the assignment to /brokers/topics; the
 * controller creates the partitions as for any topic. Traced as `<prefix>-created` / `<prefix>-create-failed`.
 * Simplifications: one creation in flight per topic and broker (AutoTopicCreationManager's inflightTopics), given
 * up after 30 s (its ZooKeeper client was replaced after a session expiry); no compression.type config.
 */

import type { Disk } from "../../disk/disk.ts";
import type { ZkReply } from "../../protocol/zk.ts";
import type { ProcessContext } from "../../sim/host.ts";
import type { Rng } from "../../sim/rng.ts";
import type { ZkClient } from "../../zk/client.ts";
import { assignReplicasToBrokers } from "../admin.ts";
import type { ReplicationConfig } from "../config.ts";
import type { MetadataCache } from "../metadata-cache.ts";
import { encodeTopicAssignment, encodeTopicConfig, topicConfigPath, topicPath } from "../zk-data.ts";

/** A creation unanswered this long (its ZooKeeper client was replaced after a session expiry) is abandoned. */
const INFLIGHT_STALE_US = 30_000_000;

export interface InternalTopicHost {
  readonly context: ProcessContext<Disk>;
  readonly config: ReplicationConfig;
  readonly metadataCache: MetadataCache;
  zk(): ZkClient;
  /** The shared topic-config registry every broker's log manager reads. */
  readonly topicConfigs: Map<string, Readonly<Record<string, unknown>>>;
}

export interface InternalTopicSpec {
  readonly name: string;
  /** Trace kinds `${tracePrefix}-created` and `${tracePrefix}-create-failed`. */
  readonly tracePrefix: string;
  /** The named random stream the replica assignment draws from. */
  readonly rngStream: string;
  partitions(config: ReplicationConfig): number;
  replicationFactor(config: ReplicationConfig): number;
  topicConfig(config: ReplicationConfig): Record<string, unknown>;
  /** The error Kafka's topic validation would answer for this config (INVALID_CONFIG), or null. */
  invalidConfig?(config: ReplicationConfig): string | null;
}

export class InternalTopicCreator {
  /** When the creation in flight started (µs), or null. */
  private inflightSinceUs: number | null = null;
  private readonly rng: Rng;

  constructor(
    private readonly host: InternalTopicHost,
    private readonly spec: InternalTopicSpec,
  ) {
    this.rng = host.context.rng.fork(spec.rngStream);
  }

  /** createTopics for the internal topic (the caller answers COORDINATOR_NOT_AVAILABLE meanwhile). */
  maybeCreate(): void {
    const { context, config } = this.host;
    const spec = this.spec;
    const nowUs = context.now();
    if (this.inflightSinceUs !== null && nowUs - this.inflightSinceUs < INFLIGHT_STALE_US) return;
    const partitions = spec.partitions(config);
    const replicationFactor = spec.replicationFactor(config);
    const brokers = [...this.host.metadataCache.aliveBrokers.keys()];
    const failed = (error: string): void => {
      if (context.tracing) context.trace(`${spec.tracePrefix}-create-failed`, { error, partitions, replicationFactor, liveBrokers: brokers.length });
    };
    if (brokers.length < replicationFactor) return failed("INVALID_REPLICATION_FACTOR");
    if (spec.invalidConfig?.(config) != null) return failed("INVALID_CONFIG");
    const started = (this.inflightSinceUs = nowUs);
    const assignment = assignReplicasToBrokers(brokers, partitions, replicationFactor, (bound) => this.rng.int(0, bound - 1));
    const topicConfig = spec.topicConfig(config);
    this.host.topicConfigs.set(spec.name, topicConfig);
    const zk = this.host.zk();
    const done = (result: string): void => {
      if (this.inflightSinceUs === started) this.inflightSinceUs = null;
      if (result === "OK" && context.tracing) context.trace(`${spec.tracePrefix}-created`, { partitions, replicationFactor, assignment });
    };
    zk.create(topicConfigPath(spec.name), encodeTopicConfig(topicConfig), {}, (configReply: ZkReply) => {
      if (configReply.code !== "OK" && configReply.code !== "NODEEXISTS") return done(configReply.code);
      const data = encodeTopicAssignment({ partitions: new Map(assignment.map((replicas, p) => [p, replicas])), addingReplicas: new Map(), removingReplicas: new Map() });
      zk.create(topicPath(spec.name), data, {}, (created: ZkReply) => done(created.code));
    });
  }
}
