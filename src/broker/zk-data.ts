/**
 * The znodes Kafka keeps in ZooKeeper and their JSON (ZkData.scala): paths and encoders/decoders for
 * /controller, /controller_epoch, /brokers/ids/<id>, /brokers/topics/<t> (assignment), the partition state
 * znodes, /admin/delete_topics, /admin/reassign_partitions, /admin/preferred_replica_election,
 * /isr_change_notification and /config/topics. The JSON matches Kafka's field names so a student can
 * compare a znode with a real cluster's. Simplification: no ACLs, no feature znode, no broker endpoints.
 */

export const CONTROLLER_PATH = "/controller";
export const CONTROLLER_EPOCH_PATH = "/controller_epoch";
export const BROKER_IDS_PATH = "/brokers/ids";
export const TOPICS_PATH = "/brokers/topics";
export const DELETE_TOPICS_PATH = "/admin/delete_topics";
export const REASSIGN_PARTITIONS_PATH = "/admin/reassign_partitions";
export const PREFERRED_REPLICA_ELECTION_PATH = "/admin/preferred_replica_election";
export const ISR_CHANGE_NOTIFICATION_PATH = "/isr_change_notification";
export const ISR_CHANGE_NOTIFICATION_PREFIX = "isr_change_";
export const CONFIG_TOPICS_PATH = "/config/topics";

/** Persistent paths created at startup (KafkaZkClient.createTopLevelPaths / ZkData.PersistentZkPaths). */
export const PERSISTENT_PATHS: readonly string[] = [
  "/admin",
  DELETE_TOPICS_PATH,
  "/brokers",
  BROKER_IDS_PATH,
  TOPICS_PATH,
  "/config",
  CONFIG_TOPICS_PATH,
  ISR_CHANGE_NOTIFICATION_PATH,
];

export function brokerIdPath(brokerId: number): string {
  return `${BROKER_IDS_PATH}/${brokerId}`;
}

export function topicPath(topic: string): string {
  return `${TOPICS_PATH}/${topic}`;
}

export function partitionsPath(topic: string): string {
  return `${TOPICS_PATH}/${topic}/partitions`;
}

export function partitionPath(topic: string, partition: number): string {
  return `${TOPICS_PATH}/${topic}/partitions/${partition}`;
}

export function partitionStatePath(topic: string, partition: number): string {
  return `${TOPICS_PATH}/${topic}/partitions/${partition}/state`;
}

export function deleteTopicPath(topic: string): string {
  return `${DELETE_TOPICS_PATH}/${topic}`;
}

export function topicConfigPath(topic: string): string {
  return `${CONFIG_TOPICS_PATH}/${topic}`;
}

// ---- /controller ----

export function encodeController(brokerId: number, timestampMs: number): string {
  return JSON.stringify({ version: 1, brokerid: brokerId, timestamp: String(timestampMs) });
}

export function decodeController(data: string): number | null {
  const parsed = parse(data) as { brokerid?: unknown } | null;
  return parsed !== null && typeof parsed.brokerid === "number" ? parsed.brokerid : null;
}

// ---- /brokers/ids/<id> ----

export function encodeBrokerRegistration(brokerId: number, host: string, timestampMs: number): string {
  return JSON.stringify({
    version: 5,
    host,
    port: 9092,
    jmx_port: -1,
    timestamp: String(timestampMs),
    endpoints: [`PLAINTEXT://${host}:9092`],
    listener_security_protocol_map: { PLAINTEXT: "PLAINTEXT" },
    rack: null,
    broker: brokerId,
  });
}

export function decodeBrokerHost(data: string): string | null {
  const parsed = parse(data) as { host?: unknown } | null;
  return parsed !== null && typeof parsed.host === "string" ? parsed.host : null;
}

// ---- /brokers/topics/<t> ----

export interface TopicAssignment {
  /** partition → replicas in preference order (the first is the preferred leader). */
  partitions: Map<number, number[]>;
  addingReplicas: Map<number, number[]>;
  removingReplicas: Map<number, number[]>;
}

export function encodeTopicAssignment(assignment: TopicAssignment): string {
  const object = (map: Map<number, number[]>) => Object.fromEntries([...map].map(([p, r]) => [String(p), r]));
  return JSON.stringify({
    version: 2,
    partitions: object(assignment.partitions),
    adding_replicas: object(assignment.addingReplicas),
    removing_replicas: object(assignment.removingReplicas),
  });
}

export function decodeTopicAssignment(data: string): TopicAssignment | null {
  const parsed = parse(data) as { partitions?: Record<string, number[]>; adding_replicas?: Record<string, number[]>; removing_replicas?: Record<string, number[]> } | null;
  if (parsed === null || typeof parsed.partitions !== "object" || parsed.partitions === null) return null;
  // Numeric-like keys: order by partition number explicitly, never by object-key order.
  const map = (object: Record<string, number[]> | undefined) =>
    new Map(
      Object.entries(object ?? {})
        .map(([p, r]) => [Number(p), [...r]] as [number, number[]])
        .sort((a, b) => a[0] - b[0]),
    );
  return { partitions: map(parsed.partitions), addingReplicas: map(parsed.adding_replicas), removingReplicas: map(parsed.removing_replicas) };
}

// ---- partition state ----

/** /brokers/topics/<t>/partitions/<p>/state (LeaderIsrAndControllerEpoch). */
export interface PartitionStateZnode {
  leader: number;
  leaderEpoch: number;
  isr: number[];
  controllerEpoch: number;
}

export function encodePartitionState(state: PartitionStateZnode): string {
  return JSON.stringify({
    controller_epoch: state.controllerEpoch,
    leader: state.leader,
    version: 1,
    leader_epoch: state.leaderEpoch,
    isr: state.isr,
  });
}

export function decodePartitionState(data: string): PartitionStateZnode | null {
  const parsed = parse(data) as { controller_epoch?: number; leader?: number; leader_epoch?: number; isr?: number[] } | null;
  if (parsed === null || typeof parsed.leader !== "number" || typeof parsed.leader_epoch !== "number" || !Array.isArray(parsed.isr)) return null;
  return { leader: parsed.leader, leaderEpoch: parsed.leader_epoch, isr: [...parsed.isr], controllerEpoch: parsed.controller_epoch ?? 0 };
}

// ---- /admin/reassign_partitions, /admin/preferred_replica_election, /isr_change_notification ----

export function encodeReassignment(partitions: readonly { topic: string; partition: number; replicas: number[] }[]): string {
  return JSON.stringify({ version: 1, partitions });
}

export function decodeReassignment(data: string): { topic: string; partition: number; replicas: number[] }[] | null {
  const parsed = parse(data) as { partitions?: { topic: string; partition: number; replicas: number[] }[] } | null;
  return parsed !== null && Array.isArray(parsed.partitions) ? parsed.partitions : null;
}

export function encodePartitionList(partitions: readonly { topic: string; partition: number }[]): string {
  return JSON.stringify({ version: 1, partitions });
}

export function decodePartitionList(data: string): { topic: string; partition: number }[] | null {
  const parsed = parse(data) as { partitions?: { topic: string; partition: number }[] } | null;
  return parsed !== null && Array.isArray(parsed.partitions) ? parsed.partitions : null;
}

export function encodeTopicConfig(config: Readonly<Record<string, unknown>>): string {
  return JSON.stringify({ version: 1, config: Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v)])) });
}

export function decodeTopicConfig(data: string): Record<string, string> {
  const parsed = parse(data) as { config?: Record<string, string> } | null;
  return parsed?.config ?? {};
}

function parse(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return null;
  }
}
