/**
 * Kafka's TopicDeletionManager (ZooKeeper mode): /admin/delete_topics/<t> queues a topic; every replica gets
 * StopReplica(deletePartition=true) (ReplicaDeletionStarted); a successful answer marks it
 * ReplicaDeletionSuccessful, an error or a dead broker ReplicaDeletionIneligible (retried when that broker
 * starts again). When every replica is deleted the topic's znodes go: /brokers/topics/<t> recursively,
 * /config/topics/<t>, /admin/delete_topics/<t>. With delete.topic.enable false only the admin znode is removed.
 * Simplification: the OfflineReplica step (ISR removal) before deletion is skipped; the state znodes go anyway.
 */

import type { StopReplicaResponse } from "../../protocol/kafka.ts";
import type { ZkReply } from "../../protocol/zk.ts";
import { DELETE_TOPICS_PATH, deleteTopicPath, topicConfigPath, topicPath } from "../zk-data.ts";
import { tpKey } from "./context.ts";
import { parallel, sequence, type ControllerCore } from "./core.ts";

export function processTopicDeletion(core: ControllerCore, finish: (ok: boolean) => void): void {
  const { ctx } = core;
  core.zk.read("getChildren", DELETE_TOPICS_PATH, true, (reply) => {
    if (reply.code !== "OK") return finish(reply.code === "NONODE");
    const topics = reply.children!;
    const enabled = core.services.config["delete.topic.enable"];
    const dropAdmin = topics.filter((topic) => !enabled || !ctx.assignments.has(topic));
    for (const topic of topics) if (enabled && ctx.assignments.has(topic)) ctx.topicsToBeDeleted.add(topic);
    parallel(
      dropAdmin,
      (topic, done: (moved: boolean) => void) => core.zk.write([{ op: "delete", path: deleteTopicPath(topic), version: -1 }], (r) => done(r.moved)),
      (moved) => {
        if (moved.includes(true)) return finish(false);
        resumeDeletions(core, [], finish);
      },
    );
  });
}

/** resumeDeletions: replicas on `startedBrokers` become eligible again; topics with every replica deleted complete. */
export function resumeDeletions(core: ControllerCore, startedBrokers: readonly number[], next: (ok: boolean) => void): void {
  const { ctx } = core;
  const complete: string[] = [];
  for (const topic of ctx.topicsToBeDeleted) {
    const replicas = ctx.partitionsOfTopic(topic).flatMap((tp) => ctx.replicas(tp).map((replica) => ({ tp, replica, key: `${tpKey(tp)}:${replica}` })));
    for (const r of replicas) {
      if (ctx.deletionStates.get(r.key) === "ReplicaDeletionIneligible" && startedBrokers.includes(r.replica)) ctx.deletionStates.delete(r.key);
    }
    if (replicas.some((r) => ctx.deletionStates.get(r.key) === "ReplicaDeletionStarted")) continue;
    if ([...ctx.reassignments.values()].some((r) => r.tp.topic === topic)) continue;
    const pending = replicas.filter((r) => ctx.deletionStates.get(r.key) === undefined);
    if (replicas.every((r) => ctx.deletionStates.get(r.key) === "ReplicaDeletionSuccessful")) {
      complete.push(topic);
      continue;
    }
    if (pending.length === 0) continue;
    // onTopicDeletion: every broker learns the topic is going; live replicas are told to delete their logs.
    core.batch.addDeletedTopic(topic);
    for (const r of pending) {
      if (ctx.isReplicaOnline(r.replica, true)) {
        ctx.deletionStates.set(r.key, "ReplicaDeletionStarted");
        core.batch.addStopReplica([r.replica], r.tp, true);
      } else {
        ctx.deletionStates.set(r.key, "ReplicaDeletionIneligible");
      }
    }
  }
  core.flush();
  sequence(
    complete.map((topic) => (n: (ok: boolean) => void) => completeDeleteTopic(core, topic, n)),
    next,
  );
}

/** TopicDeletionStopReplicaResponseReceived. */
export function onStopReplicaDeleteResponse(core: ControllerCore, brokerId: number, response: StopReplicaResponse, finish: (ok: boolean) => void): void {
  const { ctx } = core;
  if (response.error !== "NONE") {
    for (const [key, state] of ctx.deletionStates) {
      if (state === "ReplicaDeletionStarted" && key.endsWith(`:${brokerId}`)) ctx.deletionStates.set(key, "ReplicaDeletionIneligible");
    }
  }
  for (const p of response.partitionErrors) {
    const key = `${tpKey(p)}:${brokerId}`;
    if (!ctx.isTopicQueuedUpForDeletion(p.topic) || ctx.deletionStates.get(key) !== "ReplicaDeletionStarted") continue;
    ctx.deletionStates.set(key, p.error === "NONE" ? "ReplicaDeletionSuccessful" : "ReplicaDeletionIneligible");
  }
  resumeDeletions(core, [], finish);
}

/** completeDeleteTopic: the topic's znodes (deleteRecursive, children first), its config and its admin znode. */
function completeDeleteTopic(core: ControllerCore, topic: string, next: (ok: boolean) => void): void {
  collect(core, topicPath(topic), (paths) => {
    const all = [...paths.reverse(), topicConfigPath(topic), deleteTopicPath(topic)];
    sequence(
      all.map((path) => (n: (ok: boolean) => void) => core.zk.write([{ op: "delete", path, version: -1 }], (r) => n(!r.moved))),
      (ok) => {
        if (ok) {
          core.ctx.removeTopic(topic);
          core.trace("topic-deleted", { topic });
        }
        next(ok);
      },
    );
  });
}

/** `path` and its descendants, parents before children. */
function collect(core: ControllerCore, path: string, cb: (paths: string[]) => void): void {
  core.zk.read("getChildren", path, false, (reply: ZkReply) => {
    if (reply.code !== "OK") return cb([]);
    parallel(
      reply.children!.map((child) => `${path}/${child}`),
      (child, done: (paths: string[]) => void) => collect(core, child, done),
      (nested) => cb([path, ...nested.flat()]),
    );
  });
}
