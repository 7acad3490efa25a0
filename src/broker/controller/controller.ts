/**
 * Kafka's ZooKeeper-mode KafkaController: election through /controller and /controller_epoch, failover
 * (reading brokers, topics, assignments and partition states, registering watches), broker start-up and
 * failure, topic creation, ISR change notifications, preferred and auto-rebalance leader election, plus the
 * event plumbing. Controlled shutdown and AlterIsr live in requests.ts, reassignment and topic deletion in
 * their own files. Simplifications: no partition additions to existing topics, no log-dir events, no
 * ElectLeaders / AlterPartitionReassignments admin APIs (only their ZooKeeper triggers).
 */

import type { ControlledShutdownRequest, AlterIsrRequest, LeaderAndIsrResponse, StopReplicaResponse, UpdateMetadataResponse } from "../../protocol/kafka.ts";
import type { ZkReply, ZkWatchEventType } from "../../protocol/zk.ts";
import { ms } from "../../sim/time.ts";
import type { BrokerServices } from "../services.ts";
import {
  BROKER_IDS_PATH,
  CONTROLLER_EPOCH_PATH,
  CONTROLLER_PATH,
  DELETE_TOPICS_PATH,
  ISR_CHANGE_NOTIFICATION_PATH,
  PREFERRED_REPLICA_ELECTION_PATH,
  REASSIGN_PARTITIONS_PATH,
  TOPICS_PATH,
  brokerIdPath,
  decodeBrokerHost,
  decodeController,
  decodePartitionList,
  decodeTopicAssignment,
  encodeController,
  topicPath,
} from "../zk-data.ts";
import { ControllerChannelManager, REQUEST_TIMEOUT_TIMER, RESEND_BACKOFF_TIMER, RequestBatch } from "./channel-manager.ts";
import { ControllerContext, tpKey, type LiveBroker, type TP } from "./context.ts";
import { parallel, sequence, type ControllerCore } from "./core.ts";
import { ControllerEventManager, type ControllerEvent } from "./event-manager.ts";
import { electLeaders, initializeLeaderAndIsr, offlineReplica, onlineReplicas, readStates, triggerOnlinePartitionStateChange } from "./partition-state-machine.ts";
import { processPartitionReassignmentIsrChange, processZkPartitionReassignment } from "./reassignment.ts";
import { processAlterIsr, processControlledShutdown } from "./requests.ts";
import { onStopReplicaDeleteResponse, processTopicDeletion, resumeDeletions } from "./topic-deletion.ts";
import { ControllerZk, ZK_RETRY_TIMER } from "./zk-writes.ts";

const AUTO_REBALANCE_TIMER = "controller:auto-rebalance";
/** KafkaController.scheduleAutoLeaderRebalanceTask(delay = 5, SECONDS) on failover. */
const FIRST_REBALANCE_DELAY_MS = 5000;
const STATE_PATH = /^\/brokers\/topics\/([^/]+)\/partitions\/(\d+)\/state$/;

type Step = (next: (ok: boolean) => void) => void;

export class KafkaController implements ControllerCore {
  readonly ctx = new ControllerContext();
  readonly zk: ControllerZk;
  readonly batch: RequestBatch;
  private readonly channel: ControllerChannelManager;
  private readonly events = new ControllerEventManager((name) => this.onEventStart?.(name));
  /** Observer of every event as it starts (tests, the viewer). */
  onEventStart: ((name: string) => void) | null = null;
  private activeControllerId = -1;
  private rebalanceTimer = -1;

  constructor(readonly services: BrokerServices) {
    this.zk = new ControllerZk(services, () => ({ epoch: this.ctx.epoch, epochZkVersion: this.ctx.epochZkVersion }));
    this.channel = new ControllerChannelManager(services);
    this.batch = new RequestBatch(services, this.ctx, this.channel, (id, response) => this.put("TopicDeletionStopReplicaResponseReceived", (finish) => onStopReplicaDeleteResponse(this, id, response, finish)));
  }

  // ------------------------------------------------------------------------------------------- public API

  get isActive(): boolean {
    return this.activeControllerId === this.services.brokerId;
  }

  get controllerEpoch(): number {
    return this.ctx.epoch;
  }

  /** The controller this broker believes active (-1: none known). */
  get activeController(): number {
    return this.activeControllerId;
  }

  /** Read-only view for checkers and tests. */
  get context(): Readonly<ControllerContext> {
    return this.ctx;
  }

  /** The event being processed and those queued (for tests and the viewer). */
  get eventQueue(): { processing: string | null; queued: readonly string[] } {
    return { processing: this.events.processing, queued: this.events.queued };
  }

  startup(): void {
    this.events.put(this.event("Startup", false, (finish) => this.registerControllerWatch(() => this.elect(finish))));
  }

  onZkSessionExpired(): void {
    this.events.clearAndPut(
      this.event("Expire", false, (finish) => {
        const wasActive = this.isActive;
        this.setActiveController(-1);
        if (wasActive) this.onControllerResignation();
        finish(true);
      }),
    );
  }

  onWatchEvent(event: ZkWatchEventType, path: string): void {
    if (path === CONTROLLER_PATH) {
      if (event === "NodeDeleted") this.events.put(this.event("Reelect", false, (finish) => this.maybeResign(() => this.elect(finish))));
      else this.events.put(this.event("ControllerChange", false, (finish) => this.maybeResign(() => finish(true))));
      return;
    }
    if (path === BROKER_IDS_PATH) return this.put("BrokerChange", (finish) => this.processBrokerChange(finish));
    if (path === TOPICS_PATH) return this.put("TopicChange", (finish) => this.processTopicChange(finish));
    if (path === DELETE_TOPICS_PATH) return this.put("TopicDeletion", (finish) => processTopicDeletion(this, finish));
    if (path === REASSIGN_PARTITIONS_PATH) return this.put("ZkPartitionReassignment", (finish) => processZkPartitionReassignment(this, finish));
    if (path === PREFERRED_REPLICA_ELECTION_PATH) return this.put("PreferredReplicaLeaderElection", (finish) => this.processPreferredReplicaElection(finish));
    if (path === ISR_CHANGE_NOTIFICATION_PATH) return this.put("IsrChangeNotification", (finish) => this.processIsrChangeNotification(finish));
    const match = STATE_PATH.exec(path);
    if (match !== null && event === "NodeDataChanged") {
      const tp = { topic: match[1], partition: Number(match[2]) };
      this.put("PartitionReassignmentIsrChange", (finish) => processPartitionReassignmentIsrChange(this, tp, finish));
    }
  }

  handleControlledShutdown(from: string, request: ControlledShutdownRequest): void {
    this.events.put(this.event("ControlledShutdown", false, (finish) => processControlledShutdown(this, from, request, finish)));
  }

  handleAlterIsr(from: string, request: AlterIsrRequest): void {
    this.events.put(this.event("AlterIsrReceived", false, (finish) => processAlterIsr(this, from, request, finish)));
  }

  onResponse(from: string, response: LeaderAndIsrResponse | UpdateMetadataResponse | StopReplicaResponse): void {
    this.channel.onResponse(from, response);
  }

  /** The connection to a broker was reset (its process is gone): the channel's request in flight fails now. */
  onBrokerDisconnected(brokerId: number): void {
    this.channel.onConnectionReset(brokerId);
  }

  onTimer(tag: string, data: unknown): boolean {
    switch (tag) {
      case ZK_RETRY_TIMER:
        this.zk.onTimer(data);
        return true;
      case REQUEST_TIMEOUT_TIMER:
        this.channel.onTimeout(data);
        return true;
      case RESEND_BACKOFF_TIMER:
        this.channel.onResendBackoff(data);
        return true;
      case AUTO_REBALANCE_TIMER:
        if (data === this.ctx.epoch) {
          this.rebalanceTimer = -1;
          this.put("AutoPreferredReplicaLeaderElection", (finish) => this.checkAndTriggerAutoLeaderRebalance(finish));
        }
        return true;
      default:
        return false;
    }
  }

  shutdown(): void {
    this.events.close();
    const wasActive = this.isActive;
    this.setActiveController(-1);
    if (wasActive) this.onControllerResignation();
    this.zk.cancelAll();
  }

  // ------------------------------------------------------------------------------------- ControllerCore

  uncleanLeaderElectionEnabled(topic: string): boolean {
    const override = this.services.topicConfig(topic)["unclean.leader.election.enable"];
    if (override === undefined) return this.services.config["unclean.leader.election.enable"];
    return override === true || override === "true";
  }

  trace(kind: string, fields: Record<string, unknown>): void {
    if (this.services.context.tracing) this.services.context.trace(kind, fields);
  }

  /** Sends what the event collected (or drops it when no longer active). */
  flush(): void {
    if (this.isActive) this.batch.send();
    else this.batch.clear();
  }

  // ------------------------------------------------------------------------------------------ events

  /** An event; `finish(ok)` flushes the batch, and ok false (controller moved, ZooKeeper failed) runs maybeResign. */
  private event(name: string, activeOnly: boolean, body: (finish: (ok: boolean) => void) => void): ControllerEvent {
    return {
      name,
      process: (done) => {
        if (activeOnly && !this.isActive) return done();
        const metrics = this.services.metrics;
        const startedUs = metrics.now();
        body((ok) => {
          // ControllerState.BrokerChange's rateAndTimeMetric: LeaderElectionRateAndTimeMs times the whole event.
          if (name === "BrokerChange") metrics.leaderElection.update((metrics.now() - startedUs) / 1000);
          this.flush();
          if (ok) done();
          else this.maybeResign(done);
        });
      },
    };
  }

  /** Queues an event that only the active controller processes. */
  put(name: string, body: (finish: (ok: boolean) => void) => void): void {
    this.events.put(this.event(name, true, body));
  }

  // -------------------------------------------------------------------------------------- election

  private registerControllerWatch(next: () => void): void {
    this.zk.read("exists", CONTROLLER_PATH, true, () => next());
  }

  /** maybeResign: re-watch /controller, learn the active controller, resign if it is no longer us. */
  private maybeResign(done: () => void): void {
    const wasActive = this.isActive;
    this.registerControllerWatch(() =>
      this.zk.read("getData", CONTROLLER_PATH, false, (reply) => {
        this.setActiveController(reply.code === "OK" ? (decodeController(reply.data ?? "") ?? -1) : -1);
        if (wasActive && !this.isActive) this.onControllerResignation();
        done();
      }),
    );
  }

  private elect(finish: (ok: boolean) => void): void {
    this.zk.read("getData", CONTROLLER_PATH, false, (reply) => {
      if (reply.code === "OK") {
        this.setActiveController(decodeController(reply.data ?? "") ?? -1);
        return finish(true);
      }
      if (reply.code !== "NONODE") return finish(true);
      if (this.services.compat.controllerEpochCheck) this.electAtomically(finish);
      else this.electTwoSteps(finish);
    });
  }

  /** KafkaZkClient.registerControllerAndIncrementControllerEpoch (2.1+): one multi. */
  private electAtomically(finish: (ok: boolean) => void): void {
    this.readControllerEpoch((epoch, version) => {
      if (epoch === null) return finish(true);
      const ops = [
        { op: "create" as const, path: CONTROLLER_PATH, data: this.controllerData(), ephemeral: true, sequential: false },
        { op: "setData" as const, path: CONTROLLER_EPOCH_PATH, data: String(epoch + 1), version },
      ];
      this.zk.call(
        (zk, cb) => zk.multi(ops, cb),
        (reply) => {
          if (reply.code === "OK") return this.elected(epoch + 1, reply.results![1].stat!, finish);
          // NODEEXISTS / BADVERSION: another broker won (ControllerMovedException).
          this.learnController(finish);
        },
      );
    });
  }

  /** Before KAFKA-6082 (2.1.0): create /controller, then increment /controller_epoch conditionally. */
  private electTwoSteps(finish: (ok: boolean) => void): void {
    const data = this.controllerData();
    this.zk.call(
      (zk, cb) => zk.create(CONTROLLER_PATH, data, { ephemeral: true }, cb),
      (reply) => {
        if (reply.code !== "OK") return this.learnController(finish);
        this.setActiveController(this.services.brokerId);
        this.zk.read("getData", CONTROLLER_EPOCH_PATH, false, (epochReply) => {
          const epoch = epochReply.code === "OK" ? Number(epochReply.data) : 0;
          const after = (r: ZkReply): void => {
            if (r.code === "OK") return this.elected(epoch + 1, r.stat!, finish);
            this.triggerControllerMove(finish);
          };
          if (epochReply.code === "NONODE") {
            this.zk.call((zk, cb) => zk.create(CONTROLLER_EPOCH_PATH, String(epoch + 1), {}, cb), after);
          } else if (epochReply.code === "OK") {
            this.zk.call((zk, cb) => zk.setData(CONTROLLER_EPOCH_PATH, String(epoch + 1), epochReply.stat!.version, cb), after);
          } else {
            this.triggerControllerMove(finish);
          }
        });
      },
    );
  }

  /** Pre-2.1 failure of the epoch increment: resign and delete our /controller so others re-elect. */
  private triggerControllerMove(finish: (ok: boolean) => void): void {
    this.setActiveController(-1);
    this.zk.call(
      (zk, cb) => zk.delete(CONTROLLER_PATH, -1, cb),
      () => finish(true),
    );
  }

  /** (epoch, zkVersion) of /controller_epoch, creating it with "0" first when missing; epoch null on failure. */
  private readControllerEpoch(cb: (epoch: number | null, version: number) => void, attempts = 0): void {
    this.zk.read("getData", CONTROLLER_EPOCH_PATH, false, (reply) => {
      if (reply.code === "OK") return cb(Number(reply.data), reply.stat!.version);
      if (reply.code !== "NONODE" || attempts > 2) return cb(null, -1);
      this.zk.call(
        (zk, done) => zk.create(CONTROLLER_EPOCH_PATH, "0", {}, done),
        (created) => {
          if (created.code === "OK") cb(0, 0);
          else this.readControllerEpoch(cb, attempts + 1);
        },
      );
    });
  }

  private learnController(finish: (ok: boolean) => void): void {
    this.zk.read("getData", CONTROLLER_PATH, false, (reply) => {
      this.setActiveController(reply.code === "OK" ? (decodeController(reply.data ?? "") ?? -1) : -1);
      finish(true);
    });
  }

  private controllerData(): string {
    return encodeController(this.services.brokerId, this.services.nowMs());
  }

  private elected(epoch: number, stat: { version: number; mzxid: number }, finish: (ok: boolean) => void): void {
    this.ctx.epoch = epoch;
    this.ctx.epochZkVersion = stat.version;
    this.setActiveController(this.services.brokerId);
    this.trace("controller-elected", { controllerEpoch: epoch, epochZkVersion: stat.version, zxid: stat.mzxid });
    this.onControllerFailover(finish);
  }

  /**
   * Which broker this one believes is the controller (isActive when itself). Traced as controller-id on every
   * change, since a broker may learn from /controller that it is the controller without an election.
   */
  private setActiveController(id: number): void {
    if (id === this.activeControllerId) return;
    this.activeControllerId = id;
    this.trace("controller-id", { activeController: id, controllerEpoch: this.ctx.epoch });
  }

  private onControllerResignation(): void {
    if (this.rebalanceTimer !== -1) this.services.context.cancelTimer(this.rebalanceTimer);
    this.rebalanceTimer = -1;
    this.channel.shutdown();
    this.batch.clear();
    this.ctx.reset();
    this.trace("controller-resigned", { controllerEpoch: this.ctx.epoch });
  }

  // -------------------------------------------------------------------------------------- failover

  private onControllerFailover(finish: (ok: boolean) => void): void {
    const ctx = this.ctx;
    const steps: Step[] = [
      (next) =>
        this.readBrokers((brokers) => {
          if (brokers === null) return next(false);
          for (const [id, broker] of brokers) {
            ctx.liveBrokers.set(id, broker);
            this.channel.addBroker(id);
          }
          next(true);
        }),
      (next) => this.readTopics((ok) => next(ok)),
      (next) => this.zk.read("exists", REASSIGN_PARTITIONS_PATH, true, () => next(true)),
      (next) => this.zk.read("exists", PREFERRED_REPLICA_ELECTION_PATH, true, () => next(true)),
      (next) => this.readIsrChangeNotifications(true, () => next(true)),
      (next) =>
        readStates(this, ctx.allPartitions(), (states, ok) => {
          ctx.allPartitions().forEach((tp, i) => {
            const state = states[i];
            if (state !== null) ctx.leadership.set(tpKey(tp), state);
            const online = state !== null && ctx.isReplicaOnline(state.leader);
            ctx.partitionStates.set(tpKey(tp), state === null ? "NewPartition" : online ? "OnlinePartition" : "OfflinePartition");
          });
          next(ok);
        }),
      (next) => {
        // sendUpdateMetadataRequest to all, then replicaStateMachine.startup (OnlineReplica for live replicas;
        // OfflineReplica for the others comes after the topic deletions are read, below).
        this.batch.addUpdateMetadata(ctx.liveOrShuttingDownBrokerIds(), []);
        for (const tp of ctx.allPartitions()) {
          if (ctx.leaderIsr(tp) !== undefined) this.batch.addLeaderAndIsr(ctx.replicas(tp).filter((id) => ctx.liveBrokers.has(id)), tp);
        }
        this.flush();
        next(true);
      },
      (next) => this.readTopicDeletions(() => next(true)),
      (next) => this.offlineReplicasOnFailover(next),
      (next) => triggerOnlinePartitionStateChange(this, next),
    ];
    sequence(steps, (ok) => {
      if (ok) {
        this.put("ZkPartitionReassignment", (f) => processZkPartitionReassignment(this, f));
        this.put("TopicDeletion", (f) => processTopicDeletion(this, f));
        this.put("PreferredReplicaLeaderElection", (f) => this.processPreferredReplicaElection(f));
        if (this.services.config["auto.leader.rebalance.enable"]) this.scheduleAutoLeaderRebalance(FIRST_REBALANCE_DELAY_MS);
      }
      finish(ok);
    });
  }

  /**
   * ReplicaStateMachine.startup's second half (KAFKA-3143, 2.3.0): the replicas of brokers not registered now go
   * to OfflineReplica, one broker after another (as onBrokerFailure does), which removes them from their ISRs; a
   * dead leader's partition is left leaderless for the election that follows. No controller was watching when
   * they died (most often one of them is the old controller), so without this they stay in the ISRs. Topics
   * queued for deletion are skipped, as in onBrokerFailure. Off (compat.offlineReplicasOnFailover, 2.2 and
   * before): nothing.
   */
  private offlineReplicasOnFailover(next: (ok: boolean) => void): void {
    const ctx = this.ctx;
    if (!this.services.compat.offlineReplicasOnFailover) return next(true);
    const dead = [...new Set(ctx.allPartitions().flatMap((tp) => ctx.replicas(tp)))].filter((id) => !ctx.isReplicaOnline(id)).sort((a, b) => a - b);
    const steps: Step[] = dead.map((id) => (n) => offlineReplica(this, id, ctx.partitionsOnBroker(id).filter((tp) => !ctx.isTopicQueuedUpForDeletion(tp.topic)), n));
    sequence(steps, (ok) => {
      this.flush();
      next(ok);
    });
  }

  /** getAllBrokerAndEpochsInCluster: children of /brokers/ids (watched) and each registration's czxid. */
  private readBrokers(cb: (brokers: Map<number, LiveBroker> | null) => void): void {
    this.zk.read("getChildren", BROKER_IDS_PATH, true, (reply) => {
      if (reply.code !== "OK") return cb(null);
      const ids = reply.children!.map(Number).filter((id) => Number.isInteger(id)).sort((a, b) => a - b);
      parallel(
        ids,
        (id, done: (r: ZkReply) => void) => this.zk.read("getData", brokerIdPath(id), false, done),
        (replies) => {
          const brokers = new Map<number, LiveBroker>();
          ids.forEach((id, i) => {
            const r = replies[i];
            if (r.code === "OK") brokers.set(id, { host: decodeBrokerHost(r.data ?? "") ?? `broker-${id}`, epoch: r.stat!.czxid });
          });
          cb(brokers);
        },
      );
    });
  }

  /** Children of /brokers/topics (watched); reads the assignment of topics not yet known. Returns new partitions. */
  private readTopics(cb: (ok: boolean, created: TP[]) => void): void {
    this.zk.read("getChildren", TOPICS_PATH, true, (reply) => {
      if (reply.code !== "OK") return cb(false, []);
      const topics = reply.children!;
      for (const topic of [...this.ctx.assignments.keys()]) if (!topics.includes(topic)) this.ctx.removeTopic(topic);
      const fresh = topics.filter((topic) => !this.ctx.assignments.has(topic));
      parallel(
        fresh,
        (topic, done: (r: ZkReply) => void) => this.zk.read("getData", topicPath(topic), false, done),
        (replies) => {
          const created: TP[] = [];
          fresh.forEach((topic, i) => {
            const assignment = replies[i].code === "OK" ? decodeTopicAssignment(replies[i].data ?? "") : null;
            if (assignment === null) return;
            for (const [partition, replicas] of assignment.partitions) {
              const tp = { topic, partition };
              this.ctx.setAssignment(tp, {
                replicas,
                addingReplicas: assignment.addingReplicas.get(partition) ?? [],
                removingReplicas: assignment.removingReplicas.get(partition) ?? [],
              });
              created.push(tp);
            }
          });
          cb(true, created);
        },
      );
    });
  }

  private readTopicDeletions(next: () => void): void {
    this.zk.read("getChildren", DELETE_TOPICS_PATH, true, (reply) => {
      if (reply.code === "OK" && this.services.config["delete.topic.enable"]) {
        for (const topic of reply.children!) if (this.ctx.assignments.has(topic)) this.ctx.topicsToBeDeleted.add(topic);
      }
      next();
    });
  }

  // -------------------------------------------------------------------------------- broker changes

  private processBrokerChange(finish: (ok: boolean) => void): void {
    const ctx = this.ctx;
    this.readBrokers((current) => {
      if (current === null) return finish(false);
      const known = ctx.liveOrShuttingDownBrokerIds();
      const added = [...current.keys()].filter((id) => !ctx.liveBrokers.has(id));
      const dead = known.filter((id) => !current.has(id));
      // KIP-380 (2.2): a known id whose registration is newer (czxid) bounced between two reads of /brokers/ids.
      // Before it (2.1 BrokerChange.process) only the id sets are compared and `liveBrokers = curBrokers` takes
      // the new registration silently: a broker that restarted inside one watch gets no LeaderAndIsr.
      const bounced = this.services.compat.brokerEpochs
        ? known.filter((id) => current.has(id) && current.get(id)!.epoch > ctx.liveBrokers.get(id)!.epoch)
        : [];
      if (!this.services.compat.brokerEpochs) {
        for (const id of known) if (current.has(id)) ctx.liveBrokers.set(id, current.get(id)!);
      }
      if (added.length + dead.length + bounced.length === 0) return finish(true);
      for (const id of added) this.addLiveBroker(id, current.get(id)!);
      for (const id of dead) this.removeLiveBroker(id);
      const steps: Step[] = [];
      if (added.length > 0) steps.push((next) => this.onBrokerStartup(added, next));
      if (bounced.length > 0) {
        steps.push((next) => {
          for (const id of bounced) this.removeLiveBroker(id);
          this.onBrokerFailure(bounced, next);
        });
        steps.push((next) => {
          for (const id of bounced) this.addLiveBroker(id, current.get(id)!);
          this.onBrokerStartup(bounced, next);
        });
      }
      if (dead.length > 0) steps.push((next) => this.onBrokerFailure(dead, next));
      sequence(steps, finish);
    });
  }

  private addLiveBroker(id: number, broker: LiveBroker): void {
    this.ctx.liveBrokers.set(id, broker);
    this.channel.addBroker(id);
  }

  private removeLiveBroker(id: number): void {
    this.ctx.liveBrokers.delete(id);
    this.ctx.shuttingDownBrokerIds.delete(id);
    this.channel.removeBroker(id);
  }

  private onBrokerStartup(brokers: number[], next: (ok: boolean) => void): void {
    const ctx = this.ctx;
    const existing = ctx.liveOrShuttingDownBrokerIds().filter((id) => !brokers.includes(id));
    const led = ctx.allPartitions().filter((tp) => ctx.leaderIsr(tp) !== undefined);
    if (this.services.compat.fullMetadataToNewBrokersOnly) {
      // KAFKA-7537 (2.2+): the existing brokers learn of the new ones from an UpdateMetadata without partition
      // states; only the new brokers get every partition's — each a sendUpdateMetadataRequest batch of its own.
      this.batch.addUpdateMetadata(existing, []);
      this.flush();
      this.batch.addUpdateMetadata(brokers, led);
    } else {
      // Up to 2.1: one batch, every partition's state to every live broker.
      this.batch.addUpdateMetadata(existing, []);
      this.batch.addUpdateMetadata(brokers, led);
    }
    this.flush();
    for (const id of brokers) {
      onlineReplicas(this, id, ctx.partitionsOnBroker(id).filter((tp) => !ctx.isTopicQueuedUpForDeletion(tp.topic)));
    }
    this.flush();
    triggerOnlinePartitionStateChange(this, (ok) => {
      if (!ok) return next(false);
      this.flush();
      // Reassignments waiting for these brokers and topic deletions waiting for their replicas resume.
      for (const { tp } of ctx.reassignments.values()) {
        this.put("PartitionReassignmentIsrChange", (f) => processPartitionReassignmentIsrChange(this, tp, f));
      }
      resumeDeletions(this, brokers, next);
    });
  }

  private onBrokerFailure(brokers: number[], next: (ok: boolean) => void): void {
    const ctx = this.ctx;
    const offlineLeader = ctx.allPartitions().filter((tp) => {
      const leader = ctx.leaderIsr(tp)?.leader;
      return leader !== undefined && brokers.includes(leader) && !ctx.isTopicQueuedUpForDeletion(tp.topic);
    });
    for (const tp of offlineLeader) ctx.partitionStates.set(tpKey(tp), "OfflinePartition");
    const steps: Step[] = [(n) => triggerOnlinePartitionStateChange(this, n)];
    for (const id of brokers) {
      steps.push((n) => offlineReplica(this, id, ctx.partitionsOnBroker(id).filter((tp) => !ctx.isTopicQueuedUpForDeletion(tp.topic)), n));
      for (const tp of ctx.partitionsOnBroker(id)) {
        if (ctx.isTopicQueuedUpForDeletion(tp.topic)) ctx.deletionStates.set(`${tpKey(tp)}:${id}`, "ReplicaDeletionIneligible");
      }
    }
    sequence(steps, (ok) => {
      if (offlineLeader.length === 0) this.batch.addUpdateMetadata(ctx.liveOrShuttingDownBrokerIds(), []);
      this.flush();
      next(ok);
    });
  }

  // ---------------------------------------------------------------------------------- topic changes

  private processTopicChange(finish: (ok: boolean) => void): void {
    this.readTopics((ok, created) => {
      if (!ok) return finish(false);
      for (const tp of created) this.ctx.partitionStates.set(tpKey(tp), "NewPartition");
      // onNewPartitionCreation: NewPartition → OnlinePartition (NewReplica → OnlineReplica is the LeaderAndIsr).
      initializeLeaderAndIsr(this, created, finish);
    });
  }

  // --------------------------------------------------------------------- ISR change notifications

  /** Children of /isr_change_notification (watched); `clear` deletes them without reading (failover). */
  private readIsrChangeNotifications(clear: boolean, cb: (partitions: TP[]) => void): void {
    this.zk.read("getChildren", ISR_CHANGE_NOTIFICATION_PATH, true, (reply) => {
      const children = reply.code === "OK" ? reply.children! : [];
      const paths = children.map((child) => `${ISR_CHANGE_NOTIFICATION_PATH}/${child}`);
      const remove = (partitions: TP[]): void =>
        parallel(paths, (path, done: (r: null) => void) => this.zk.write([{ op: "delete", path, version: -1 }], () => done(null)), () => cb(partitions));
      if (clear) return remove([]);
      parallel(
        paths,
        (path, done: (r: ZkReply) => void) => this.zk.read("getData", path, false, done),
        (replies) => {
          const partitions = new Map<string, TP>();
          for (const r of replies) {
            for (const tp of r.code === "OK" ? (decodePartitionList(r.data ?? "") ?? []) : []) {
              if (this.ctx.assignment(tp) !== undefined) partitions.set(tpKey(tp), { topic: tp.topic, partition: tp.partition });
            }
          }
          remove([...partitions.values()]);
        },
      );
    });
  }

  private processIsrChangeNotification(finish: (ok: boolean) => void): void {
    this.readIsrChangeNotifications(false, (partitions) => {
      readStates(this, partitions, (states, ok) => {
        partitions.forEach((tp, i) => {
          const state = states[i];
          if (state !== null) this.ctx.leadership.set(tpKey(tp), state);
        });
        if (partitions.length > 0) this.batch.addUpdateMetadata(this.ctx.liveOrShuttingDownBrokerIds(), partitions);
        finish(ok);
      });
    });
  }

  // --------------------------------------------------------------------- preferred leader election

  private processPreferredReplicaElection(finish: (ok: boolean) => void): void {
    this.zk.read("exists", PREFERRED_REPLICA_ELECTION_PATH, true, (exists) => {
      if (exists.code !== "OK" || exists.stat === null || exists.stat === undefined) return finish(true);
      this.zk.read("getData", PREFERRED_REPLICA_ELECTION_PATH, false, (reply) => {
        const requested = reply.code === "OK" ? (decodePartitionList(reply.data ?? "") ?? []) : [];
        const partitions = requested
          .map((p) => ({ topic: p.topic, partition: p.partition }))
          .filter((tp) => !this.ctx.isTopicQueuedUpForDeletion(tp.topic) && this.needsPreferredElection(tp));
        electLeaders(this, partitions, "preferred", (ok) => {
          if (!ok) return finish(false);
          this.zk.write([{ op: "delete", path: PREFERRED_REPLICA_ELECTION_PATH, version: -1 }], (result) => finish(!result.moved));
        });
      });
    });
  }

  private needsPreferredElection(tp: TP): boolean {
    const leaderIsr = this.ctx.leaderIsr(tp);
    const preferred = this.ctx.replicas(tp)[0];
    return leaderIsr !== undefined && preferred !== undefined && leaderIsr.leader !== preferred;
  }

  private scheduleAutoLeaderRebalance(delayMs: number): void {
    if (this.rebalanceTimer !== -1) this.services.context.cancelTimer(this.rebalanceTimer);
    this.rebalanceTimer = this.services.context.setTimer(ms(delayMs), AUTO_REBALANCE_TIMER, this.ctx.epoch);
  }

  /** checkAndTriggerAutoLeaderRebalance: per preferred broker, imbalance ratio above the percentage → elect. */
  private checkAndTriggerAutoLeaderRebalance(finish: (ok: boolean) => void): void {
    const ctx = this.ctx;
    const byPreferred = new Map<number, TP[]>();
    for (const tp of ctx.allPartitions()) {
      if (ctx.isTopicQueuedUpForDeletion(tp.topic)) continue;
      const preferred = ctx.replicas(tp)[0];
      if (preferred === undefined) continue;
      byPreferred.set(preferred, [...(byPreferred.get(preferred) ?? []), tp]);
    }
    const candidates: TP[] = [];
    const threshold = this.services.config["leader.imbalance.per.broker.percentage"] / 100;
    for (const [broker, partitions] of byPreferred) {
      const notLed = partitions.filter((tp) => {
        const leader = ctx.leaderIsr(tp)?.leader;
        return leader !== undefined && leader !== broker;
      });
      if (notLed.length / partitions.length <= threshold) continue;
      for (const tp of notLed) if (ctx.isReplicaOnline(broker) && ctx.reassignments.size === 0) candidates.push(tp);
    }
    electLeaders(this, candidates, "preferred", (ok) => {
      this.scheduleAutoLeaderRebalance(this.services.config["leader.imbalance.check.interval.seconds"] * 1000);
      finish(ok);
    });
  }
}
