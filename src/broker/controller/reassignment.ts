/**
 * Kafka's partition reassignment in ZooKeeper mode with KIP-455's phases (KafkaController.onPartitionReassignment):
 * /admin/reassign_partitions names target replicas (TRS); phase A writes RS = TRS ∪ ORS with adding (AR) and
 * removing (RR) replicas to the topic znode and sends LeaderAndIsr to RS with a bumped leader epoch; the
 * state znode is watched until every TRS member is in the ISR; phase B sets RS = TRS, moves leadership into TRS
 * if needed (or bumps the epoch), takes RR out of the ISR and deletes their replicas, writes the final
 * assignment and removes the partition from /admin/reassign_partitions. Simplification: no cancellation and
 * no AlterPartitionReassignments API; a new target for a partition in progress is ignored.
 */

import { decodePartitionState, decodeReassignment, encodeReassignment, encodeTopicAssignment, partitionStatePath, REASSIGN_PARTITIONS_PATH, topicPath } from "../zk-data.ts";
import { tpKey, type ReplicaAssignment, type TP } from "./context.ts";
import { sequence, type ControllerCore } from "./core.ts";
import { electLeaders, offlineReplica, traceElected, updateLeaderAndIsr } from "./partition-state-machine.ts";

export function processZkPartitionReassignment(core: ControllerCore, finish: (ok: boolean) => void): void {
  const { ctx } = core;
  core.zk.read("exists", REASSIGN_PARTITIONS_PATH, true, (exists) => {
    const present = exists.code === "OK" && exists.stat !== null && exists.stat !== undefined;
    const read = (cb: (list: { topic: string; partition: number; replicas: number[] }[]) => void): void => {
      if (!present) return cb([]);
      core.zk.read("getData", REASSIGN_PARTITIONS_PATH, false, (reply) => cb(reply.code === "OK" ? (decodeReassignment(reply.data ?? "") ?? []) : []));
    };
    read((list) => {
      const started: TP[] = [];
      const done: TP[] = [];
      for (const entry of list) {
        const tp = { topic: entry.topic, partition: entry.partition };
        const assignment = ctx.assignment(tp);
        if (assignment === undefined || ctx.isTopicQueuedUpForDeletion(tp.topic)) {
          done.push(tp);
        } else if (!ctx.reassignments.has(tpKey(tp))) {
          ctx.reassignments.set(tpKey(tp), { tp, target: [...entry.replicas] });
          started.push(tp);
        }
      }
      // Reassignments a previous controller left in the topic znodes (adding/removing replicas) resume too.
      for (const tp of ctx.allPartitions()) {
        const a = ctx.assignment(tp)!;
        if (ctx.reassignments.has(tpKey(tp)) || (a.addingReplicas.length === 0 && a.removingReplicas.length === 0)) continue;
        ctx.reassignments.set(tpKey(tp), { tp, target: a.replicas.filter((id) => !a.removingReplicas.includes(id)) });
        started.push(tp);
      }
      sequence(
        [...started.map((tp) => (n: (ok: boolean) => void) => onPartitionReassignment(core, tp, n)), (n: (ok: boolean) => void) => removeFromZk(core, done, n)],
        finish,
      );
    });
  });
}

/** PartitionReassignmentIsrChange: the state znode of a reassigning partition changed. */
export function processPartitionReassignmentIsrChange(core: ControllerCore, tp: TP, finish: (ok: boolean) => void): void {
  const reassignment = core.ctx.reassignments.get(tpKey(tp));
  if (reassignment === undefined) return finish(true);
  isReassignmentComplete(core, tp, reassignment.target, (complete, ok) => {
    if (!ok) return finish(false);
    if (!complete) return finish(true);
    onPartitionReassignment(core, tp, finish);
  });
}

export function onPartitionReassignment(core: ControllerCore, tp: TP, next: (ok: boolean) => void): void {
  const { ctx } = core;
  const target = ctx.reassignments.get(tpKey(tp))!.target;
  const current = ctx.assignment(tp)!;
  const origin = current.replicas.filter((id) => !current.addingReplicas.includes(id));
  const adding = target.filter((id) => !origin.includes(id));
  const removing = origin.filter((id) => !target.includes(id));
  const reassigning: ReplicaAssignment = { replicas: [...new Set([...target, ...origin])], addingReplicas: adding, removingReplicas: removing };
  const changed = JSON.stringify(reassigning) !== JSON.stringify(current);
  sequence(
    [
      // A1, A2: RS = TRS ∪ ORS with AR and RR, in ZooKeeper and in memory.
      (n) => {
        if (!changed) return n(true);
        ctx.setAssignment(tp, reassigning);
        writeAssignment(core, tp.topic, n);
      },
      (n) =>
        isReassignmentComplete(core, tp, target, (complete, ok) => {
          if (!ok) return n(false);
          if (!complete) {
            // A3, A4: LeaderAndIsr to RS with a bumped leader epoch; new replicas start as followers.
            return bumpLeaderEpoch(core, tp, reassigning.replicas, n);
          }
          completeReassignment(core, tp, target, removing, n);
        }),
    ],
    next,
  );
}

function completeReassignment(core: ControllerCore, tp: TP, target: number[], removing: number[], next: (ok: boolean) => void): void {
  const { ctx } = core;
  // B2: RS = TRS in memory.
  ctx.setAssignment(tp, { replicas: [...target], addingReplicas: [], removingReplicas: [] });
  sequence(
    [
      // B3: leadership into TRS when needed, else a leader epoch bump so the leader learns the new replica set.
      (n) => {
        const leader = ctx.leaderIsr(tp)?.leader ?? -1;
        if (!target.includes(leader) || !ctx.isReplicaOnline(leader)) electLeaders(core, [tp], "reassign", (ok) => n(ok));
        else bumpLeaderEpoch(core, tp, target, n);
      },
      // B4, B5: RR out of the ISR, their replicas stopped and deleted.
      (n) => {
        const step = (i: number): void => {
          if (i >= removing.length) return n(true);
          offlineReplica(core, removing[i], [tp], (ok) => (ok ? step(i + 1) : n(false)));
        };
        step(0);
      },
      (n) => {
        core.batch.addStopReplica(removing, tp, true);
        writeAssignment(core, tp.topic, n); // B6
      },
      (n) => {
        // B7, B8.
        ctx.reassignments.delete(tpKey(tp));
        core.batch.addUpdateMetadata(ctx.liveOrShuttingDownBrokerIds(), [tp]);
        core.trace("reassignment-completed", { topicPartition: tpKey(tp), replicas: target });
        removeFromZk(core, [tp], n);
      },
    ],
    next,
  );
}

/** Reads the state znode (and watches it: the PartitionReassignmentIsrChangeHandler); complete when TRS ⊆ ISR. */
function isReassignmentComplete(core: ControllerCore, tp: TP, target: number[], cb: (complete: boolean, ok: boolean) => void): void {
  core.zk.read("getData", partitionStatePath(tp.topic, tp.partition), true, (reply) => {
    if (reply.code !== "OK") return cb(false, reply.code === "NONODE");
    const state = decodePartitionState(reply.data ?? "");
    if (state === null) return cb(false, true);
    core.ctx.leadership.set(tpKey(tp), { ...state, zkVersion: reply.stat!.version });
    cb(target.every((id) => state.isr.includes(id)), true);
  });
}

/** updateLeaderEpochAndSendRequest. */
function bumpLeaderEpoch(core: ControllerCore, tp: TP, recipients: number[], next: (ok: boolean) => void): void {
  updateLeaderAndIsr(core, [tp], (_, cur) => ({ leader: cur.leader, leaderEpoch: cur.leaderEpoch + 1, isr: cur.isr }), (ok, updated) => {
    for (const u of updated) {
      core.batch.addLeaderAndIsr(recipients, u);
      traceElected(core, u, core.ctx.leaderIsr(u)!, false, "reassign");
    }
    next(ok);
  });
}

function writeAssignment(core: ControllerCore, topic: string, next: (ok: boolean) => void): void {
  const partitions = core.ctx.assignments.get(topic);
  if (partitions === undefined) return next(true);
  const pick = (f: (a: ReplicaAssignment) => number[]) => new Map([...partitions].map(([p, a]) => [p, f(a)] as [number, number[]]));
  const data = encodeTopicAssignment({
    partitions: pick((a) => a.replicas),
    addingReplicas: new Map([...pick((a) => a.addingReplicas)].filter(([, r]) => r.length > 0)),
    removingReplicas: new Map([...pick((a) => a.removingReplicas)].filter(([, r]) => r.length > 0)),
  });
  core.zk.write([{ op: "setData", path: topicPath(topic), data, version: -1 }], (r) => next(!r.moved && r.code === "OK"));
}

/** maybeRemoveFromZkReassignment: rewrite /admin/reassign_partitions without `tps`, deleting it when empty. */
function removeFromZk(core: ControllerCore, tps: TP[], next: (ok: boolean) => void): void {
  if (tps.length === 0) return next(true);
  core.zk.read("getData", REASSIGN_PARTITIONS_PATH, false, (reply) => {
    if (reply.code !== "OK") return next(true);
    const keys = new Set(tps.map(tpKey));
    const rest = (decodeReassignment(reply.data ?? "") ?? []).filter((p) => !keys.has(tpKey(p)));
    const op =
      rest.length === 0
        ? { op: "delete" as const, path: REASSIGN_PARTITIONS_PATH, version: -1 }
        : { op: "setData" as const, path: REASSIGN_PARTITIONS_PATH, data: encodeReassignment(rest), version: -1 };
    core.zk.write([op], (r) => next(!r.moved));
  });
}
