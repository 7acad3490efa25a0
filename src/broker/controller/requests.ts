/**
 * The requests brokers send the controller: ControlledShutdown (KafkaController.doControlledShutdown — move
 * leadership off the broker with the controlled-shutdown election, remove it from the ISRs it follows, answer
 * with the partitions it still leads) and KIP-497 AlterIsr (processAlterIsr — validate the leader's broker
 * epoch, leader epoch and partition epoch and, from 3.3 (KIP-841, compat.ineligibleReplicaCheck), that every
 * replica of the new ISR is live and not shutting down; write the new ISR without bumping the leader epoch). Both answer
 * NOT_CONTROLLER when this broker is not the active controller.
 */

import type {
  AlterIsrRequest,
  AlterIsrResponse,
  ControlledShutdownRequest,
  ControlledShutdownResponse,
  KafkaError,
} from "../../protocol/kafka.ts";
import { REQUEST_HEADER_BYTES } from "../../protocol/kafka.ts";
import { encodePartitionState, partitionStatePath } from "../zk-data.ts";
import { tpKey, type LeaderIsr, type TP } from "./context.ts";
import { parallel, type ControllerCore } from "./core.ts";
import { electLeaders, offlineReplica } from "./partition-state-machine.ts";

export function processControlledShutdown(
  core: ControllerCore,
  from: string,
  request: ControlledShutdownRequest,
  finish: (ok: boolean) => void,
): void {
  const { ctx } = core;
  const respond = (error: KafkaError, remaining: TP[]): void => {
    const response: ControlledShutdownResponse = {
      type: "ControlledShutdownResponse",
      correlationId: request.correlationId,
      error,
      remainingPartitions: remaining.map((tp) => ({ topic: tp.topic, partition: tp.partition })),
      sizeBytes: REQUEST_HEADER_BYTES + 16 * remaining.length,
    };
    core.services.send(from, response);
  };
  if (!core.isActive) {
    respond("NOT_CONTROLLER", []);
    return finish(true);
  }
  const id = request.brokerId;
  const cached = ctx.liveBrokers.get(id);
  if (cached === undefined) {
    respond("BROKER_NOT_AVAILABLE", []);
    return finish(true);
  }
  // KIP-380 (2.2, KafkaController.ControlledShutdown): a request from an earlier registration is stale.
  if (core.services.compat.brokerEpochs && request.brokerEpoch !== -1 && request.brokerEpoch < cached.epoch) {
    respond("STALE_BROKER_EPOCH", []);
    return finish(true);
  }
  ctx.shuttingDownBrokerIds.add(id);
  const replicated = (tp: TP): boolean => ctx.replicas(tp).length > 1 && ctx.leaderIsr(tp) !== undefined && !ctx.isTopicQueuedUpForDeletion(tp.topic);
  const actOn = ctx.partitionsOnBroker(id).filter(replicated);
  const led = actOn.filter((tp) => ctx.leaderIsr(tp)!.leader === id);
  const followed = actOn.filter((tp) => ctx.leaderIsr(tp)!.leader !== id);
  electLeaders(core, led, "controlled-shutdown", (ok) => {
    if (!ok) {
      respond("NOT_CONTROLLER", []);
      return finish(false);
    }
    offlineReplica(core, id, followed, (ok2) => {
      core.flush();
      respond(ok2 ? "NONE" : "NOT_CONTROLLER", ok2 ? ctx.allPartitions().filter((tp) => replicated(tp) && ctx.leaderIsr(tp)!.leader === id) : []);
      finish(ok2);
    });
  });
}

type AlterIsrPartitionResponse = AlterIsrResponse["partitions"][number];

export function processAlterIsr(core: ControllerCore, from: string, request: AlterIsrRequest, finish: (ok: boolean) => void): void {
  const { ctx } = core;
  const respond = (error: KafkaError, partitions: AlterIsrPartitionResponse[]): void => {
    const response: AlterIsrResponse = {
      type: "AlterIsrResponse",
      correlationId: request.correlationId,
      error,
      partitions,
      sizeBytes: REQUEST_HEADER_BYTES + 32 * partitions.length,
    };
    core.services.send(from, response);
  };
  if (!core.isActive) {
    respond("NOT_CONTROLLER", []);
    return finish(true);
  }
  const cached = ctx.liveBrokers.get(request.brokerId);
  if (cached === undefined || cached.epoch !== request.brokerEpoch) {
    respond("STALE_BROKER_EPOCH", []);
    return finish(true);
  }
  const results: AlterIsrPartitionResponse[] = [];
  const answer = (tp: TP, error: KafkaError, state?: LeaderIsr): AlterIsrPartitionResponse => ({
    topic: tp.topic,
    partition: tp.partition,
    error,
    leaderId: state?.leader ?? -1,
    leaderEpoch: state?.leaderEpoch ?? -1,
    isr: state === undefined ? [] : [...state.isr],
    partitionEpoch: state?.zkVersion ?? -1,
  });
  const writes: { tp: TP; next: LeaderIsr; index: number }[] = [];
  // KIP-841 (3.3.0, KAFKA-14140 af40e119784): `newLeaderAndIsr.isr.toSet -- controllerContext.liveBrokerIds`
  // must be empty, and liveBrokerIds leaves out brokers in controlled shutdown. 2.7.0 to 3.2.0 check no replica of
  // the new ISR (neither liveness nor assignment). Kafka checks assignment at neither tag.
  const ineligibleReplicaCheck = core.services.compat.ineligibleReplicaCheck;
  for (const p of request.partitions) {
    const tp = { topic: p.topic, partition: p.partition };
    const current = ctx.leaderIsr(tp);
    const index = results.length;
    if (current === undefined || ctx.isTopicQueuedUpForDeletion(tp.topic)) results.push(answer(tp, "UNKNOWN_TOPIC_OR_PARTITION"));
    else if (p.leaderEpoch < current.leaderEpoch) results.push(answer(tp, "FENCED_LEADER_EPOCH"));
    else if (current.leader !== request.brokerId) results.push(answer(tp, "NOT_LEADER_OR_FOLLOWER"));
    else if (sameIsr(p.newIsr, current.isr) && p.leaderEpoch === current.leaderEpoch) results.push(answer(tp, "NONE", current));
    else if (p.partitionEpoch !== current.zkVersion) results.push(answer(tp, "INVALID_UPDATE_VERSION"));
    else if (ineligibleReplicaCheck && p.newIsr.some((id) => !ctx.isReplicaOnline(id))) results.push(answer(tp, "INELIGIBLE_REPLICA"));
    else {
      results.push(answer(tp, "NONE"));
      writes.push({ tp, index, next: { leader: current.leader, leaderEpoch: current.leaderEpoch, isr: [...p.newIsr], controllerEpoch: ctx.epoch, zkVersion: p.partitionEpoch } });
    }
  }
  let moved = false;
  parallel(
    writes,
    (w, done: (r: null) => void) => {
      const data = encodePartitionState(w.next);
      core.zk.write([{ op: "setData", path: partitionStatePath(w.tp.topic, w.tp.partition), data, version: w.next.zkVersion }], (result) => {
        if (result.moved) moved = true;
        if (result.code === "OK") {
          const state = { ...w.next, zkVersion: result.stat!.version };
          ctx.leadership.set(tpKey(w.tp), state);
          results[w.index] = answer(w.tp, "NONE", state);
        } else {
          results[w.index] = answer(w.tp, result.code === "BADVERSION" && !result.moved ? "INVALID_UPDATE_VERSION" : "NOT_CONTROLLER");
        }
        done(null);
      });
    },
    () => {
      if (moved) {
        respond("NOT_CONTROLLER", []);
        return finish(false);
      }
      const updated = writes.filter((w) => results[w.index].error === "NONE").map((w) => w.tp);
      if (updated.length > 0) core.batch.addUpdateMetadata(ctx.liveOrShuttingDownBrokerIds(), updated);
      respond("NONE", results);
      finish(true);
    },
  );
}

function sameIsr(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((id) => b.includes(id));
}
