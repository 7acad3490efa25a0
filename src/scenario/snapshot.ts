/**
 * Periodic state snapshots for the trace (`RunOptions.snapshotIntervalMs`): one world-level kernel event that
 * reads the model's real state read-only — host states, the ZooKeeper leader's data tree and sessions, the
 * active controllers, every live broker's logs and partitions — and records it as a `snapshot` trace event
 * (docs/trace.md). The viewer's reconstruction (web/src/state) is tested against these. It consumes no
 * randomness and changes nothing: a run with snapshots, minus the snapshot lines, is the run without them.
 */

import type { EventTarget } from "../sim/kernel.ts";
import type { Micros } from "../sim/time.ts";
import { assert } from "../sim/assert.ts";
import type { KafkaBroker } from "../broker/broker.ts";
import type { Log } from "../broker/log/log.ts";
import { traceTree, type ZkServer } from "../zk/server.ts";
import type { BuiltWorld } from "./build.ts";
import { recordsDigest, type SnapshotFields, type SnapshotReplica } from "../sim/trace-snapshot.ts";

export type { SnapshotFields, SnapshotReplica } from "../sim/trace-snapshot.ts";
export { recordsDigest } from "../sim/trace-snapshot.ts";

function* logRecords(log: Log): Generator<{ offset: number; epoch: number; value: string | null }> {
  const start = log.logStartOffset;
  const end = log.logEndOffset;
  for (const segment of log.segments) {
    for (const batch of segment.batches()) {
      for (const record of batch.records) {
        const offset = batch.baseOffset + record.offsetDelta;
        if (offset >= start && offset < end) yield { offset, epoch: batch.partitionLeaderEpoch, value: record.value };
      }
    }
  }
}

export class SnapshotRecorder implements EventTarget {
  constructor(
    private readonly built: BuiltWorld,
    private readonly intervalUs: Micros,
  ) {
    assert(Number.isInteger(intervalUs) && intervalUs > 0, "snapshot interval must be a positive integer of µs");
  }

  start(): void {
    this.built.world.kernel.after(this.intervalUs, this, 0);
  }

  handleEvent(): void {
    const world = this.built.world;
    world.trace.emit("sim", "snapshot", { ...this.capture() });
    world.kernel.after(this.intervalUs, this, 0);
  }

  capture(): SnapshotFields {
    const world = this.built.world;
    const hosts: [string, string, number][] = world.hosts.map((host) => [
      host.name,
      host.state === "running" ? "up" : host.state === "paused" ? "paused" : "down",
      host.incarnation,
    ]);
    // A stale leader (cut off, not yet abandoning) may serve beside a newer one: the newest epoch leads.
    let zkLeader: string | null = null;
    let leaderServer: ZkServer | null = null;
    for (const name of [...this.built.zkServers].sort(compare)) {
      const host = world.host(name);
      const server = host.process as ZkServer | null;
      if (!host.isUp() || server === null || server.state !== "LEADING" || !server.serving) continue;
      if (leaderServer === null || server.currentEpoch > leaderServer.currentEpoch) {
        zkLeader = name;
        leaderServer = server;
      }
    }
    const controllers: [string, number][] = [];
    const replicas: SnapshotReplica[] = [];
    for (const name of this.built.brokers) {
      const host = world.host(name);
      if (!host.isUp() || host.process === null) continue;
      const broker = host.process as KafkaBroker;
      if (broker.controller?.isActive) controllers.push([name, broker.controller.controllerEpoch]);
      // An offline log dir (a disk error) serves no replica; the viewer shows them offline.
      if (broker.logManager.offline) continue;
      const logs = [...broker.logManager.allLogs()].sort((a, b) => compare(a.topicPartition, b.topicPartition));
      for (const log of logs) {
        const partition = broker.replicaManager?.partition(log.topic, log.partition);
        const replica: SnapshotReplica = {
          node: name,
          topicPartition: log.topicPartition,
          role: partition === undefined ? "none" : partition.isLeader ? "leader" : partition.leaderId !== -1 ? "follower" : "none",
          leaderEpoch: partition?.leaderEpoch ?? -1,
          logStartOffset: log.logStartOffset,
          logEndOffset: log.logEndOffset,
          highWatermark: log.highWatermark,
          records: recordsDigest(logRecords(log)),
        };
        if (partition?.isLeader) replica.isr = [...partition.isr];
        replicas.push(replica);
      }
    }
    let zk: SnapshotFields["zk"] = null;
    if (leaderServer !== null) {
      const tree = traceTree(leaderServer.tree);
      zk = { znodes: tree.znodes.sort((a, b) => compare(a[0], b[0])), sessions: tree.sessions.sort(compare) };
    }
    return { hosts, zkLeader, controllers, replicas, zk };
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
