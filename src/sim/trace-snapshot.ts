/**
 * The format of the `snapshot` trace event (docs/trace.md#snapshots): what the simulator records of the model's
 * real state for testing the viewer's reconstruction, and the record digest both sides compute. Shared by the
 * recorder (src/scenario/snapshot.ts) and the viewer's projection (web/src/state/projection.ts), which may
 * import nothing of the model.
 */

/** A replica's state in a snapshot: one broker's copy of one partition. */
export interface SnapshotReplica {
  node: string;
  topicPartition: string;
  /** "none" while the broker holds the log but no LeaderAndIsr has made it leader or follower yet. */
  role: "leader" | "follower" | "none";
  leaderEpoch: number;
  /** The leader's committed ISR; absent on followers. */
  isr?: number[];
  logStartOffset: number;
  logEndOffset: number;
  highWatermark: number;
  /** recordsDigest of the records in [logStartOffset, logEndOffset). */
  records: string;
}

/** The `snapshot` event's fields. */
export interface SnapshotFields {
  /** [host, "up" | "down" | "paused", incarnation], in world order. */
  hosts: [string, string, number][];
  /** The serving ZooKeeper leader with the newest epoch, if any (ties: the first by name). */
  zkLeader: string | null;
  /** [broker, controllerEpoch] of every live broker whose controller believes it is active. */
  controllers: [string, number][];
  /** Every log of every live broker whose log dir is online, sorted by node, then topicPartition. */
  replicas: SnapshotReplica[];
  /** The ZooKeeper leader's tree (null without a serving leader): znodes outside /zookeeper, sorted by path. */
  zk: { znodes: [string, number, string | null, string][]; sessions: string[] } | null;
}

/** A digest of a log's records: `count:fnv1a32` over `offset,partitionLeaderEpoch,value` lines. */
export function recordsDigest(records: Iterable<{ offset: number; epoch: number; value: string | null }>): string {
  let h = 0x811c9dc5;
  let count = 0;
  for (const record of records) {
    const line = `${record.offset},${record.epoch},${record.value === null ? "\u0000" : record.value}\n`;
    for (let i = 0; i < line.length; i++) h = Math.imul(h ^ line.charCodeAt(i), 0x01000193);
    count++;
  }
  return `${count}:${(h >>> 0).toString(16).padStart(8, "0")}`;
}
