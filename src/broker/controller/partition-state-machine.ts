/**
 * Kafka's PartitionStateMachine (NewPartition → OnlinePartition by initializing the state znode, Offline →
 * Online by leader election with a strategy) and the ZooKeeper side of ReplicaStateMachine's OfflineReplica
 * transition (removeReplicasFromIsr). Every update reads the state znode, computes the new leader and ISR,
 * and writes it conditionally on the znode's zkVersion (fenced by the controller epoch check); a BADVERSION
 * re-reads and retries, a bounded number of rounds. Leader epochs bump on every write here but the creation.
 */

import { NO_LEADER } from "../../protocol/kafka.ts";
import type { ZkWriteOp } from "../../protocol/zk.ts";
import { decodePartitionState, encodePartitionState, partitionPath, partitionsPath, partitionStatePath } from "../zk-data.ts";
import { tpKey, type LeaderIsr, type TP } from "./context.ts";
import { parallel, type ControllerCore } from "./core.ts";
import {
  controlledShutdownPartitionLeaderElection,
  offlinePartitionLeaderElection,
  preferredReplicaPartitionLeaderElection,
  reassignPartitionLeaderElection,
  type ElectionReason,
  type ElectionResult,
} from "./election.ts";

const MAX_UPDATE_ROUNDS = 5;

/** cb(ok): ok false = the controller moved (or ZooKeeper failed): abort the event. */
export type Outcome = (ok: boolean) => void;

/** Reads the state znodes (getTopicPartitionStatesRaw); null for a partition without one. */
export function readStates(core: ControllerCore, tps: readonly TP[], cb: (states: (LeaderIsr | null)[], ok: boolean) => void): void {
  let ok = true;
  parallel<TP, LeaderIsr | null>(
    tps,
    (tp, done) =>
      core.zk.read("getData", partitionStatePath(tp.topic, tp.partition), false, (reply) => {
        if (reply.code !== "OK" && reply.code !== "NONODE") ok = false;
        const state = reply.code === "OK" ? decodePartitionState(reply.data ?? "") : null;
        done(state === null ? null : { ...state, zkVersion: reply.stat!.version });
      }),
    (states) => cb(states, ok),
  );
}

type Compute = (tp: TP, current: LeaderIsr) => { leader: number; leaderEpoch: number; isr: number[] } | null;

/**
 * updateLeaderAndIsr with retries: read, compute, conditional write. Partitions whose compute returns null,
 * whose znode is missing, or whose znode was written by a newer controller are skipped. `updated` lists the
 * partitions written (the context's cache holds their new state).
 */
export function updateLeaderAndIsr(core: ControllerCore, tps: readonly TP[], compute: Compute, cb: (ok: boolean, updated: TP[]) => void): void {
  const { ctx } = core;
  const updated: TP[] = [];
  let round = 0;
  const attempt = (pending: readonly TP[]): void => {
    round++;
    readStates(core, pending, (states, readOk) => {
      if (!readOk) return cb(false, updated);
      const writes: { tp: TP; next: LeaderIsr; expected: number }[] = [];
      pending.forEach((tp, i) => {
        const current = states[i];
        if (current === null || current.controllerEpoch > ctx.epoch) return;
        const next = compute(tp, current);
        if (next !== null) writes.push({ tp, next: { ...next, controllerEpoch: ctx.epoch, zkVersion: -1 }, expected: current.zkVersion });
      });
      let moved = false;
      const retry: TP[] = [];
      parallel(
        writes,
        (w, done: (r: null) => void) => {
          const op: ZkWriteOp = { op: "setData", path: partitionStatePath(w.tp.topic, w.tp.partition), data: encodePartitionState(w.next), version: w.expected };
          core.zk.write([op], (result) => {
            if (result.moved) moved = true;
            else if (result.code === "OK") {
              ctx.leadership.set(tpKey(w.tp), { ...w.next, zkVersion: result.stat!.version });
              updated.push(w.tp);
            } else if (result.code === "BADVERSION") retry.push(w.tp);
            else if (result.code !== "NONODE") moved = true; // ZooKeeper unavailable: give the event up
            done(null);
          });
        },
        () => {
          if (moved) cb(false, updated);
          else if (retry.length > 0 && round < MAX_UPDATE_ROUNDS) attempt(retry);
          else cb(true, updated);
        },
      );
    });
  };
  if (tps.length === 0) cb(true, updated);
  else attempt(tps);
}

/** NewPartition → OnlinePartition: leader = first live replica, isr = live replicas, leaderEpoch 0. */
export function initializeLeaderAndIsr(core: ControllerCore, tps: readonly TP[], cb: Outcome): void {
  const { ctx } = core;
  const ready = tps.filter((tp) => ctx.replicas(tp).some((id) => ctx.isReplicaOnline(id)));
  const topics = [...new Set(ready.map((tp) => tp.topic))];
  let ok = true;
  const create = (path: string, data: string, done: (code: string) => void): void =>
    core.zk.write([{ op: "create", path, data, ephemeral: false, sequential: false }], (result) => {
      if (result.moved) ok = false;
      done(result.code);
    });
  parallel(topics, (topic, done: (c: string) => void) => create(partitionsPath(topic), "", done), () => {
    if (!ok) return cb(false);
    parallel(ready, (tp, done: (c: string) => void) => create(partitionPath(tp.topic, tp.partition), "", done), () => {
      if (!ok) return cb(false);
      parallel(
        ready,
        (tp, done: (c: string) => void) => {
          const live = ctx.replicas(tp).filter((id) => ctx.isReplicaOnline(id));
          const state: LeaderIsr = { leader: live[0], leaderEpoch: 0, isr: live, controllerEpoch: ctx.epoch, zkVersion: 0 };
          create(partitionStatePath(tp.topic, tp.partition), encodePartitionState(state), (code) => {
            if (code === "OK") {
              ctx.leadership.set(tpKey(tp), state);
              ctx.partitionStates.set(tpKey(tp), "OnlinePartition");
              core.batch.addLeaderAndIsr(live, tp, true);
              traceElected(core, tp, state, false, "new-partition");
            }
            done(code);
          });
        },
        () => cb(ok),
      );
    });
  });
}

/** Offline/Online → OnlinePartition by election; cb(ok, elected). Failed offline elections leave the partition offline. */
export function electLeaders(core: ControllerCore, tps: readonly TP[], reason: ElectionReason, cb: (ok: boolean, elected: TP[]) => void): void {
  const { ctx } = core;
  const unclean = new Map<string, boolean>();
  const includeShuttingDown = reason === "controlled-shutdown";
  const live = (tp: TP) => new Set(ctx.replicas(tp).filter((id) => ctx.isReplicaOnline(id, includeShuttingDown)));
  const compute: Compute = (tp, current) => {
    const result = elect(core, tp, current, live(tp), reason);
    if (result === null) return null;
    unclean.set(tpKey(tp), result.unclean);
    // PartitionLeaderElectionAlgorithms.offlinePartitionLeaderElection marks the meter as it picks the leader.
    if (result.unclean) core.services.metrics.uncleanLeaderElections.mark();
    return { leader: result.leader, leaderEpoch: current.leaderEpoch + 1, isr: result.isr };
  };
  updateLeaderAndIsr(core, tps, compute, (ok, updated) => {
    for (const tp of updated) {
      const state = ctx.leaderIsr(tp)!;
      ctx.partitionStates.set(tpKey(tp), "OnlinePartition");
      core.batch.addLeaderAndIsr([...live(tp)], tp);
      traceElected(core, tp, state, unclean.get(tpKey(tp)) === true, reason);
    }
    if (reason === "offline") {
      for (const tp of tps) if (!updated.includes(tp)) ctx.partitionStates.set(tpKey(tp), "OfflinePartition");
    }
    cb(ok, updated);
  });
}

function elect(core: ControllerCore, tp: TP, current: LeaderIsr, live: ReadonlySet<number>, reason: ElectionReason): ElectionResult | null {
  const replicas = core.ctx.replicas(tp);
  switch (reason) {
    case "offline":
    case "new-partition":
      return offlinePartitionLeaderElection(replicas, current.isr, live, core.uncleanLeaderElectionEnabled(tp.topic));
    case "reassign":
      return reassignPartitionLeaderElection(replicas, current.isr, live);
    case "preferred":
      return preferredReplicaPartitionLeaderElection(replicas, current.isr, live);
    case "controlled-shutdown":
      return controlledShutdownPartitionLeaderElection(replicas, current.isr, live, core.ctx.shuttingDownBrokerIds);
  }
}

/**
 * ReplicaStateMachine OfflineReplica: StopReplica(deletePartition=false) to the replica, then remove it from
 * each ISR (the leader becomes NO_LEADER when it was the leader; the last ISR member is never removed;
 * leaderEpoch + 1) and send the new state to the other replicas.
 */
export function offlineReplica(core: ControllerCore, replicaId: number, tps: readonly TP[], cb: Outcome): void {
  const { ctx } = core;
  for (const tp of tps) core.batch.addStopReplica([replicaId], tp, false);
  const previous = new Map<string, LeaderIsr>();
  const withLeadership = tps.filter((tp) => ctx.leaderIsr(tp) !== undefined);
  const compute: Compute = (tp, current) => {
    if (!current.isr.includes(replicaId)) return null;
    previous.set(tpKey(tp), current);
    const leader = current.leader === replicaId ? NO_LEADER : current.leader;
    const isr = current.isr.length === 1 ? current.isr : current.isr.filter((id) => id !== replicaId);
    return { leader, leaderEpoch: current.leaderEpoch + 1, isr };
  };
  updateLeaderAndIsr(core, withLeadership, compute, (ok, updated) => {
    for (const tp of updated) {
      const state = ctx.leaderIsr(tp)!;
      const before = previous.get(tpKey(tp))!;
      if (state.leader === NO_LEADER && before.leader !== NO_LEADER) {
        ctx.partitionStates.set(tpKey(tp), "OfflinePartition");
        traceElected(core, tp, state, false, "offline");
      }
      if (state.isr.length !== before.isr.length) {
        core.trace("isr-shrink", {
          topicPartition: tpKey(tp),
          leaderEpoch: state.leaderEpoch,
          isr: state.isr,
          previousIsr: before.isr,
          zkVersion: state.zkVersion,
          leader: state.leader,
          by: "controller",
        });
      }
      if (!ctx.isTopicQueuedUpForDeletion(tp.topic)) core.batch.addLeaderAndIsr(ctx.replicas(tp).filter((id) => id !== replicaId), tp);
    }
    cb(ok);
  });
}

/** ReplicaStateMachine OnlineReplica: the replica gets its partitions' current state. */
export function onlineReplicas(core: ControllerCore, brokerId: number, tps: readonly TP[]): void {
  for (const tp of tps) if (core.ctx.leaderIsr(tp) !== undefined) core.batch.addLeaderAndIsr([brokerId], tp);
}

/** triggerOnlinePartitionStateChange: elect leaders of every offline or new partition not being deleted. */
export function triggerOnlinePartitionStateChange(core: ControllerCore, cb: Outcome): void {
  const { ctx } = core;
  const candidates = ctx.allPartitions().filter((tp) => !ctx.isTopicQueuedUpForDeletion(tp.topic));
  const fresh = candidates.filter((tp) => ctx.partitionState(tp) === "NewPartition");
  const offline = candidates.filter((tp) => ctx.partitionState(tp) === "OfflinePartition");
  initializeLeaderAndIsr(core, fresh, (ok) => {
    if (!ok) return cb(false);
    electLeaders(core, offline, "offline", (ok2) => cb(ok2));
  });
}

export function traceElected(core: ControllerCore, tp: TP, state: LeaderIsr, unclean: boolean, reason: ElectionReason): void {
  core.trace("leader-elected", {
    topicPartition: tpKey(tp),
    leader: state.leader,
    leaderEpoch: state.leaderEpoch,
    isr: state.isr,
    unclean,
    reason,
    zkVersion: state.zkVersion,
    controllerEpoch: state.controllerEpoch,
  });
}
