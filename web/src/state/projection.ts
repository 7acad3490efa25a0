/**
 * The projection of a ClusterView onto the shape of the simulator's `snapshot` trace event (docs/trace.md),
 * so tests can assert that the reconstruction equals the model's real state at every snapshot. The record
 * digest and the event's shape come from src/sim/trace-snapshot.ts, shared with the recorder (no model code).
 */

import { recordsDigest, type SnapshotFields, type SnapshotReplica } from "../../../src/sim/trace-snapshot.ts";
import type { ClusterView } from "./types.ts";
import { compare } from "./zk-track.ts";

/** A snapshot's replica, as the simulator records it and as the projection computes it. */
export type ProjectedReplica = SnapshotReplica | (Omit<SnapshotReplica, "role"> & { role: string });
export type ProjectedSnapshot = Omit<SnapshotFields, "replicas"> & { replicas: ProjectedReplica[] };
export { recordsDigest };

/** Sorts a snapshot's lists the way project() does (hosts and controllers by name, replicas by node then partition). */
export function normalizeSnapshot(snapshot: ProjectedSnapshot): ProjectedSnapshot {
  return {
    hosts: [...snapshot.hosts].sort((a, b) => compare(a[0], b[0])),
    zkLeader: snapshot.zkLeader,
    controllers: [...snapshot.controllers].sort((a, b) => compare(a[0], b[0])),
    replicas: [...snapshot.replicas]
      .map((r) => {
        const copy: ProjectedReplica = { ...r };
        if (copy.isr === undefined) delete copy.isr;
        return copy;
      })
      .sort((a, b) => compare(a.node, b.node) || compare(a.topicPartition, b.topicPartition)),
    zk: snapshot.zk,
  };
}

/** The view in the snapshot's shape: replicas only on live hosts (a snapshot cannot read a down host's memory). */
export function projectSnapshot(view: ClusterView): ProjectedSnapshot {
  const replicas: ProjectedReplica[] = [];
  for (const partition of view.partitions) {
    for (const r of partition.replicaViews) {
      if (!r.up || r.offline) continue;
      const projected: ProjectedReplica = {
        node: r.host,
        topicPartition: r.topicPartition,
        role: r.role,
        leaderEpoch: r.leaderEpoch,
        logStartOffset: r.logStartOffset,
        logEndOffset: r.logEndOffset,
        highWatermark: r.highWatermark,
        records: recordsDigest(r.window(r.logStartOffset, r.logEndOffset, 0).filter((record) => record.truncatedSeq === undefined)),
      };
      if (r.role === "leader" && r.isr !== null) projected.isr = [...r.isr];
      replicas.push(projected);
    }
  }
  return normalizeSnapshot({
    hosts: view.hosts.map((h): [string, string, number] => [h.name, h.state, h.incarnation]),
    zkLeader: view.zkLeader,
    controllers: view.activeControllers.map((c): [string, number] => [c.host, c.controllerEpoch]),
    replicas,
    zk:
      view.zkLeader === null
        ? null
        : {
            znodes: view.zk.znodes
              .filter((z) => z.path !== "/zookeeper" && !z.path.startsWith("/zookeeper/"))
              .map((z): [string, number, string | null, string] => [z.path, z.version, z.ephemeralOwner ?? null, z.data]),
            sessions: view.zk.sessions.map((s) => s.sessionId),
          },
  });
}
