/**
 * __consumer_offsets as an internal topic (internal-topic.ts creates it on the first FindCoordinator for a group):
 * offsets.topic.num.partitions partitions, offsets.topic.replication.factor replicas, the topic config of
 * GroupCoordinator.offsetsTopicConfigs (cleanup.policy=compact, segment.bytes=offsets.topic.segment.bytes; a
 * segment.bytes LogConfig refuses → INVALID_CONFIG, nothing created).
 */

import { GROUP_METADATA_TOPIC_NAME } from "../../../protocol/group.ts";
import type { ReplicationConfig } from "../../config.ts";
import { InternalTopicCreator, type InternalTopicHost, type InternalTopicSpec } from "../internal-topic.ts";

/** LogConfig's segment.bytes validator: atLeast(LegacyRecord.RECORD_OVERHEAD_V0) = 14. */
export const SEGMENT_BYTES_MIN = 14;

export type OffsetsTopicHost = InternalTopicHost;
export type OffsetsTopicCreator = InternalTopicCreator;

/** GroupCoordinator.offsetsTopicConfigs. */
export function offsetsTopicConfigs(config: ReplicationConfig): Record<string, unknown> {
  return { "cleanup.policy": "compact", "segment.bytes": config["offsets.topic.segment.bytes"] };
}

export const OFFSETS_TOPIC: InternalTopicSpec = {
  name: GROUP_METADATA_TOPIC_NAME,
  tracePrefix: "offsets-topic",
  rngStream: "auto-topic-creation",
  partitions: (config) => config["offsets.topic.num.partitions"],
  replicationFactor: (config) => config["offsets.topic.replication.factor"],
  topicConfig: offsetsTopicConfigs,
  invalidConfig: (config) => (config["offsets.topic.segment.bytes"] < SEGMENT_BYTES_MIN ? "segment.bytes below 14" : null),
};

/** The creator of __consumer_offsets for a broker. */
export function offsetsTopicCreator(host: OffsetsTopicHost): OffsetsTopicCreator {
  return new InternalTopicCreator(host, OFFSETS_TOPIC);
}
