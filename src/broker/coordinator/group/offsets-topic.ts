/**
 * The creation of __consumer_offsets on the first FindCoordinator for a group (KafkaApis.getCoordinator →
 * AutoTopicCreationManager.createTopics → ZkAdminManager.createTopics → AdminZkClient, Kafka 3.6 in ZooKeeper
 * mode): offsets.topic.num.partitions partitions, offsets.topic.replication.factor replicas assigned by
 * AdminUtils.assignReplicasToBrokers over the live brokers of the metadata cache (too few → nothing is created,
 * INVALID_REPLICATION_FACTOR, and FindCoordinator keeps answering COORDINATOR_NOT_AVAILABLE), the topic config
 * (cleanup.policy=compact, segment.bytes=offsets.topic.segment.bytes) written to /config/topics and the shared
 * registry, then the assignment to /brokers/topics; the controller creates the partitions as for any topic.
 * Simplifications: one creation in flight per broker (AutoTopicCreationManager's inflightTopics); no
 * compression.type config (no codecs in the model).
 */

import type { ZkReply } from "../../../protocol/zk.ts";
import type { Rng } from "../../../sim/rng.ts";
import type { ZkClient } from "../../../zk/client.ts";
import { assignReplicasToBrokers } from "../../admin.ts";
import type { ReplicationConfig } from "../../config.ts";
import type { MetadataCache } from "../../metadata-cache.ts";
import { encodeTopicAssignment, encodeTopicConfig, topicConfigPath, topicPath } from "../../zk-data.ts";
import { GROUP_METADATA_TOPIC_NAME } from "../../../protocol/group.ts";
import type { Disk } from "../../../disk/disk.ts";
import type { ProcessContext } from "../../../sim/host.ts";

/** LogConfig's segment.bytes validator: atLeast(LegacyRecord.RECORD_OVERHEAD_V0) = 14. */
const SEGMENT_BYTES_MIN = 14;
/** A creation unanswered this long (its ZooKeeper client was replaced after a session expiry) is abandoned. */
const INFLIGHT_STALE_US = 30_000_000;

export interface OffsetsTopicHost {
  readonly context: ProcessContext<Disk>;
  readonly config: ReplicationConfig;
  readonly metadataCache: MetadataCache;
  zk(): ZkClient;
  /** The shared topic-config registry every broker's log manager reads. */
  readonly topicConfigs: Map<string, Readonly<Record<string, unknown>>>;
}

/** GroupCoordinator.offsetsTopicConfigs. */
export function offsetsTopicConfigs(config: ReplicationConfig): Record<string, unknown> {
  return { "cleanup.policy": "compact", "segment.bytes": config["offsets.topic.segment.bytes"] };
}

export class OffsetsTopicCreator {
  /** When the creation in flight started (µs), or null. */
  private inflightSinceUs: number | null = null;
  private readonly rng: Rng;

  constructor(private readonly host: OffsetsTopicHost) {
    this.rng = host.context.rng.fork("auto-topic-creation");
  }

  /** createTopics for __consumer_offsets (the caller answers COORDINATOR_NOT_AVAILABLE meanwhile). */
  maybeCreate(): void {
    const nowUs = this.host.context.now();
    if (this.inflightSinceUs !== null && nowUs - this.inflightSinceUs < INFLIGHT_STALE_US) return;
    const config = this.host.config;
    const partitions = config["offsets.topic.num.partitions"];
    const replicationFactor = config["offsets.topic.replication.factor"];
    const brokers = [...this.host.metadataCache.aliveBrokers.keys()];
    if (brokers.length < replicationFactor) return this.failed("INVALID_REPLICATION_FACTOR", partitions, replicationFactor, brokers.length);
    if (config["offsets.topic.segment.bytes"] < SEGMENT_BYTES_MIN) return this.failed("INVALID_CONFIG", partitions, replicationFactor, brokers.length);
    const started = (this.inflightSinceUs = nowUs);
    const assignment = assignReplicasToBrokers(brokers, partitions, replicationFactor, (bound) => this.rng.int(0, bound - 1));
    const topicConfig = offsetsTopicConfigs(config);
    this.host.topicConfigs.set(GROUP_METADATA_TOPIC_NAME, topicConfig);
    const zk = this.host.zk();
    const done = (result: string): void => {
      if (this.inflightSinceUs === started) this.inflightSinceUs = null;
      const context = this.host.context;
      if (result === "OK" && context.tracing) context.trace("offsets-topic-created", { partitions, replicationFactor, assignment });
    };
    zk.create(topicConfigPath(GROUP_METADATA_TOPIC_NAME), encodeTopicConfig(topicConfig), {}, (configReply: ZkReply) => {
      if (configReply.code !== "OK" && configReply.code !== "NODEEXISTS") return done(configReply.code);
      const data = encodeTopicAssignment({ partitions: new Map(assignment.map((replicas, p) => [p, replicas])), addingReplicas: new Map(), removingReplicas: new Map() });
      zk.create(topicPath(GROUP_METADATA_TOPIC_NAME), data, {}, (created: ZkReply) => done(created.code));
    });
  }

  private failed(error: string, partitions: number, replicationFactor: number, liveBrokers: number): void {
    const context = this.host.context;
    if (context.tracing) context.trace("offsets-topic-create-failed", { error, partitions, replicationFactor, liveBrokers });
  }
}
