/**
 * The records of __consumer_offsets (GroupMetadataManager's offsetCommitKey/Value and groupMetadataKey/Value,
 * with the schemas of OffsetCommitKey v1, OffsetCommitValue v3, GroupMetadataKey v2 and GroupMetadataValue v3).
 * Simplification: keys and values are JSON strings with Kafka's field names instead of Kafka's binary schemas
 * (so sizes differ from a real log's); the key JSON is canonical (fixed field order), so compaction keeps the
 * last record per group / per group and partition as Kafka's does. A null value is a tombstone.
 */

import type { ConsumerProtocolAssignment, ConsumerProtocolSubscription } from "../../../protocol/group.ts";
import type { OffsetAndMetadata } from "./group-metadata.ts";

/** OffsetCommitKey: which group's offset for which partition. */
export interface OffsetKey {
  readonly kind: "offset";
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
}

/** GroupMetadataKey. */
export interface GroupKey {
  readonly kind: "group";
  readonly group: string;
}

/** One member in a GroupMetadataValue (MemberMetadata v3 schema). */
export interface GroupMemberRecord {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly rebalanceTimeout: number;
  readonly sessionTimeout: number;
  /** The member's metadata for the selected protocol. */
  readonly subscription: ConsumerProtocolSubscription;
  readonly assignment: ConsumerProtocolAssignment;
}

/** GroupMetadataValue v3. */
export interface GroupMetadataValue {
  readonly protocolType: string;
  readonly generation: number;
  readonly protocol: string | null;
  readonly leader: string | null;
  readonly currentStateTimestamp: number;
  readonly members: readonly GroupMemberRecord[];
}

export function offsetCommitKey(group: string, topic: string, partition: number): string {
  return JSON.stringify({ version: 1, group, topic, partition });
}

export function groupMetadataKey(group: string): string {
  return JSON.stringify({ version: 2, group });
}

export function offsetCommitValue(offset: OffsetAndMetadata): string {
  return JSON.stringify({ version: 3, offset: offset.offset, leaderEpoch: offset.leaderEpoch, metadata: offset.metadata, commitTimestamp: offset.commitTimestamp });
}

export function groupMetadataValue(value: GroupMetadataValue): string {
  return JSON.stringify({ version: 3, ...value });
}

/** GroupMetadataManager.readMessageKey; null for a key this model did not write. */
export function readMessageKey(key: string | null): OffsetKey | GroupKey | null {
  const json = parse(key) as { version?: unknown; group?: unknown; topic?: unknown; partition?: unknown } | null;
  if (json === null || typeof json.group !== "string") return null;
  if (json.version === 2) return { kind: "group", group: json.group };
  if (typeof json.topic === "string" && typeof json.partition === "number") return { kind: "offset", group: json.group, topic: json.topic, partition: json.partition };
  return null;
}

export function readOffsetMessageValue(value: string): OffsetAndMetadata {
  const json = parse(value) as OffsetAndMetadata;
  return { offset: json.offset, leaderEpoch: json.leaderEpoch, metadata: json.metadata, commitTimestamp: json.commitTimestamp };
}

export function readGroupMessageValue(value: string): GroupMetadataValue {
  const json = parse(value) as GroupMetadataValue & { version?: number };
  return {
    protocolType: json.protocolType,
    generation: json.generation,
    protocol: json.protocol,
    leader: json.leader,
    currentStateTimestamp: json.currentStateTimestamp,
    members: json.members,
  };
}

function parse(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
