/**
 * Test harness for the controller: a ZooKeeper ensemble, an admin ZooKeeper client (`admin`), and FAKE broker
 * processes that each host a ZkClient, register /brokers/ids/<id>, embed a KafkaController through a small
 * BrokerServices, and answer LeaderAndIsr / UpdateMetadata / StopReplica with success while recording them.
 */

import { Disk } from "../../../src/disk/disk.ts";
import { DEFAULT_COMPAT, DEFAULT_REPLICATION_CONFIG, type Compat, type ReplicationConfig } from "../../../src/broker/config.ts";
import { KafkaController } from "../../../src/broker/controller/controller.ts";
import type { LogManager } from "../../../src/broker/log/log-manager.ts";
import { MetadataCache } from "../../../src/broker/metadata-cache.ts";
import { BrokerPlumbing, type BrokerServices } from "../../../src/broker/services.ts";
import {
  PERSISTENT_PATHS,
  brokerIdPath,
  decodePartitionState,
  encodeBrokerRegistration,
  encodeTopicAssignment,
  partitionStatePath,
  topicPath,
  type PartitionStateZnode,
} from "../../../src/broker/zk-data.ts";
import {
  brokerHost,
  type AlterIsrRequest,
  type ControlledShutdownRequest,
  type KafkaError,
  type LeaderAndIsrPartitionState,
  type LeaderAndIsrRequest,
  type LeaderAndIsrResponse,
  type StopReplicaRequest,
  type StopReplicaResponse,
  type UpdateMetadataRequest,
  type UpdateMetadataResponse,
} from "../../../src/protocol/kafka.ts";
import type { ZkReply } from "../../../src/protocol/zk.ts";
import type { Message, Process, ProcessContext } from "../../../src/sim/host.ts";
import { ms } from "../../../src/sim/time.ts";
import type { TraceEvent } from "../../../src/sim/trace.ts";
import { ZkClient } from "../../../src/zk/client.ts";
import { Ensemble } from "../../zk/ensemble.ts";

export interface FakeBrokerOptions {
  brokerId: number;
  servers: string[];
  config: ReplicationConfig;
  compat: Compat;
  topicConfigs: Map<string, Record<string, unknown>>;
}

export interface Received {
  t: number;
  from: string;
  message: Message;
}

export class FakeBroker extends BrokerPlumbing implements Process, BrokerServices {
  readonly brokerId: number;
  readonly config: ReplicationConfig;
  readonly compat: Compat;
  readonly metadataCache = new MetadataCache();
  readonly logManager = null as unknown as LogManager;
  controller!: KafkaController;
  client!: ZkClient;
  private session = 0;
  private epoch = -1;
  private controllerEpochSeen = 0;
  readonly received: Received[] = [];
  /** The latest LeaderAndIsr state per partition. */
  readonly partitions = new Map<string, LeaderAndIsrPartitionState>();
  readonly replies: Message[] = [];
  /** The next this-many controller requests are received but not answered (a broker too slow to reply). */
  unanswered = 0;

  constructor(
    context: ProcessContext<Disk>,
    private readonly options: FakeBrokerOptions,
  ) {
    super(context);
    this.brokerId = options.brokerId;
    this.config = options.config;
    this.compat = options.compat;
  }

  onStart(): void {
    this.controller = new KafkaController(this);
    this.connect();
  }

  private connect(): void {
    const session = ++this.session;
    let registered = false;
    this.epoch = -1;
    this.client = new ZkClient(
      this.context,
      { servers: this.options.servers, sessionTimeoutMs: this.config["zookeeper.session.timeout.ms"] },
      {
        onStateChange: (state) => {
          if (session !== this.session) return;
          if (state === "CONNECTED" && !registered) {
            registered = true;
            this.register(session, 0);
          }
          if (state === "EXPIRED") {
            this.controller.onZkSessionExpired();
            this.connect();
          }
        },
        onWatchEvent: (event, path) => session === this.session && this.controller.onWatchEvent(event, path),
      },
    );
    this.client.start();
  }

  private register(session: number, index: number): void {
    if (session !== this.session) return;
    if (index < PERSISTENT_PATHS.length) {
      this.client.create(PERSISTENT_PATHS[index], "", {}, () => this.register(session, index + 1));
      return;
    }
    const data = encodeBrokerRegistration(this.brokerId, this.context.node, this.nowMs());
    this.client.create(brokerIdPath(this.brokerId), data, { ephemeral: true }, (reply) => {
      if (session !== this.session) return;
      if (reply.code !== "OK") {
        this.context.setTimer(ms(1000), "fake:register", session);
        return;
      }
      this.epoch = reply.stat!.czxid;
      this.controller.startup();
    });
  }

  onMessage(from: string, message: Message, connection: number): void {
    if (message.type.startsWith("Zk")) {
      this.client.onMessage(from, message, connection);
      return;
    }
    switch (message.type) {
      case "LeaderAndIsr":
      case "UpdateMetadata":
      case "StopReplica":
        this.received.push({ t: this.context.host.kernel.now, from, message });
        if (this.unanswered > 0) {
          this.unanswered--;
          return;
        }
        this.answer(from, message as LeaderAndIsrRequest | UpdateMetadataRequest | StopReplicaRequest);
        return;
      case "ControlledShutdown":
        this.controller.handleControlledShutdown(from, message as ControlledShutdownRequest);
        return;
      case "AlterIsr":
        this.controller.handleAlterIsr(from, message as AlterIsrRequest);
        return;
      case "LeaderAndIsrResponse":
      case "UpdateMetadataResponse":
      case "StopReplicaResponse":
        this.controller.onResponse(from, message as LeaderAndIsrResponse);
        return;
      default:
        this.replies.push(message);
    }
  }

  private answer(from: string, request: LeaderAndIsrRequest | UpdateMetadataRequest | StopReplicaRequest): void {
    const stale = request.controllerEpoch < this.controllerEpochSeen;
    const error: KafkaError = stale ? "STALE_CONTROLLER_EPOCH" : "NONE";
    if (!stale) this.controllerEpochSeen = request.controllerEpoch;
    const base = { correlationId: request.correlationId, error, sizeBytes: 64 };
    if (request.type === "LeaderAndIsr") {
      if (!stale) {
        for (const state of request.partitionStates) {
          const key = `${state.topic}-${state.partition}`;
          const current = this.partitions.get(key);
          if (current === undefined || state.leaderEpoch >= current.leaderEpoch) this.partitions.set(key, state);
        }
      }
      const partitionErrors = request.partitionStates.map((s) => ({ topic: s.topic, partition: s.partition, error }));
      const response: LeaderAndIsrResponse = { ...base, type: "LeaderAndIsrResponse", partitionErrors };
      this.send(from, response);
    } else if (request.type === "UpdateMetadata") {
      if (!stale) this.metadataCache.update(request);
      const response: UpdateMetadataResponse = { ...base, type: "UpdateMetadataResponse" };
      this.send(from, response);
    } else {
      const partitionErrors = request.partitions.map((p) => ({ topic: p.topic, partition: p.partition, error }));
      const response: StopReplicaResponse = { ...base, type: "StopReplicaResponse", partitionErrors };
      this.send(from, response);
    }
  }

  onTimer(tag: string, data: unknown): void {
    if (tag.startsWith("zk-client:")) this.client.onTimer(tag, data);
    else if (tag.startsWith("controller:")) this.controller.onTimer(tag, data);
    else if (tag === "fake:register") this.register(data as number, PERSISTENT_PATHS.length);
  }

  /** The leader asks the controller to change an ISR (what a real leader does on ISR expand/shrink). */
  sendAlterIsr(controllerId: number, topic: string, partition: number, newIsr: number[]): void {
    const state = this.partitions.get(`${topic}-${partition}`)!;
    const request: AlterIsrRequest = {
      type: "AlterIsr",
      correlationId: this.nextCorrelationId(),
      brokerId: this.brokerId,
      brokerEpoch: this.epoch,
      partitions: [{ topic, partition, leaderEpoch: state.leaderEpoch, newIsr, partitionEpoch: state.zkVersion }],
    };
    this.sendToBroker(controllerId, request);
  }

  sendControlledShutdown(controllerId: number): void {
    const request: ControlledShutdownRequest = {
      type: "ControlledShutdown",
      correlationId: this.nextCorrelationId(),
      brokerId: this.brokerId,
      brokerEpoch: this.epoch,
    };
    this.sendToBroker(controllerId, request);
  }

  // ---- BrokerServices ----
  zk(): ZkClient {
    return this.client;
  }
  brokerEpoch(): number {
    return this.epoch;
  }
  topicConfig(topic: string): Readonly<Record<string, unknown>> {
    return this.options.topicConfigs.get(topic) ?? {};
  }
}

export interface ClusterOptions {
  brokers?: number;
  zkServers?: number;
  seed?: number;
  config?: Partial<ReplicationConfig>;
  compat?: Partial<Compat>;
}

export class Cluster {
  readonly ensemble: Ensemble;
  readonly events: TraceEvent[] = [];
  readonly topicConfigs = new Map<string, Record<string, unknown>>();
  readonly brokerIds: number[];

  constructor(options: ClusterOptions = {}) {
    this.ensemble = new Ensemble({ servers: options.zkServers ?? 3, seed: options.seed ?? 1, clients: ["admin"] });
    this.ensemble.world.trace.observe((event) => this.events.push(event));
    const config = { ...DEFAULT_REPLICATION_CONFIG, "zookeeper.session.timeout.ms": 6000, "auto.leader.rebalance.enable": false, ...options.config };
    const compat = { ...DEFAULT_COMPAT, ...options.compat };
    this.brokerIds = Array.from({ length: options.brokers ?? 3 }, (_, i) => i + 1);
    for (const id of this.brokerIds) {
      const name = brokerHost(id);
      const disk = new Disk(this.ensemble.world, name);
      this.ensemble.world.addHost(name, disk, (context) =>
        new FakeBroker(context, { brokerId: id, servers: this.ensemble.names, config, compat, topicConfigs: this.topicConfigs }),
      );
    }
  }

  start(): this {
    this.ensemble.startServers();
    this.ensemble.runUntil(() => this.ensemble.stable(), 30_000);
    this.ensemble.startClient("admin");
    this.ensemble.runUntil(() => this.ensemble.client("admin").client.state === "CONNECTED", 30_000);
    for (const id of this.brokerIds) this.ensemble.world.host(brokerHost(id)).start();
    return this;
  }

  broker(id: number): FakeBroker {
    return this.ensemble.world.host(brokerHost(id)).process as FakeBroker;
  }

  up(id: number): boolean {
    return this.ensemble.world.host(brokerHost(id)).isUp();
  }

  /** Brokers whose controller is active (running hosts only). */
  activeControllers(): number[] {
    return this.brokerIds.filter((id) => this.up(id) && this.broker(id).controller.isActive);
  }

  controller(): FakeBroker {
    const active = this.activeControllers();
    if (active.length !== 1) throw new Error(`expected one active controller, got [${active}]`);
    return this.broker(active[0]);
  }

  /** Runs until exactly one running controller is active and its event queue is idle. */
  settle(limitMs = 30_000): boolean {
    return this.ensemble.runUntil(() => {
      const active = this.activeControllers();
      if (active.length !== 1) return false;
      const queue = this.broker(active[0]).controller.eventQueue;
      return queue.processing === null && queue.queued.length === 0;
    }, limitMs);
  }

  run(ms: number): void {
    this.ensemble.runFor(ms);
  }

  runUntil(predicate: () => boolean, limitMs = 30_000): boolean {
    return this.ensemble.runUntil(predicate, limitMs);
  }

  zk(issue: (zk: ZkClient, done: (reply: ZkReply) => void) => void): ZkReply {
    return this.ensemble.call("admin", issue);
  }

  createTopic(topic: string, assignment: number[][]): void {
    const partitions = new Map(assignment.map((replicas, p) => [p, replicas] as [number, number[]]));
    const data = encodeTopicAssignment({ partitions, addingReplicas: new Map(), removingReplicas: new Map() });
    const reply = this.zk((zk, done) => zk.create(topicPath(topic), data, {}, done));
    if (reply.code !== "OK") throw new Error(`create topic ${topic}: ${reply.code}`);
  }

  state(topic: string, partition: number): (PartitionStateZnode & { zkVersion: number }) | null {
    const reply = this.zk((zk, done) => zk.getData(partitionStatePath(topic, partition), false, done));
    if (reply.code !== "OK") return null;
    return { ...decodePartitionState(reply.data!)!, zkVersion: reply.stat!.version };
  }

  /** Writes a partition state directly, as a zk-direct leader does when it shrinks the ISR. */
  setState(topic: string, partition: number, change: Partial<PartitionStateZnode>): void {
    const current = this.state(topic, partition)!;
    const next = { ...current, ...change };
    const data = JSON.stringify({ controller_epoch: next.controllerEpoch, leader: next.leader, version: 1, leader_epoch: next.leaderEpoch, isr: next.isr });
    const reply = this.zk((zk, done) => zk.setData(partitionStatePath(topic, partition), data, current.zkVersion, done));
    if (reply.code !== "OK") throw new Error(`set state: ${reply.code}`);
  }

  exists(path: string): boolean {
    const reply = this.zk((zk, done) => zk.exists(path, false, done));
    return reply.code === "OK" && reply.stat !== null && reply.stat !== undefined;
  }

  trace(kind: string): TraceEvent[] {
    return this.events.filter((e) => e.kind === kind);
  }

  /** Requests of `type` a broker received at or after time `since`. */
  received(id: number, type: string, since = 0): Message[] {
    return this.broker(id)
      .received.filter((r) => r.t >= since && r.message.type === type)
      .map((r) => r.message);
  }
}

/**
 * A started, settled 3-broker cluster with one topic `t` (one partition) whose replicas are `replicas(a, b, c)`
 * — by default [a, b, c]: the two non-controller brokers, then the controller `c` — once its state is written.
 */
export function clusterWithTopic(
  options: ClusterOptions = {},
  replicas: (a: number, b: number, c: number) => number[] = (a, b, c) => [a, b, c],
): { cluster: Cluster; c: number; a: number; b: number } {
  const cluster = new Cluster({ brokers: 3, ...options }).start();
  cluster.settle();
  const c = cluster.controller().brokerId;
  const [a, b] = cluster.brokerIds.filter((id) => id !== c);
  cluster.createTopic("t", [replicas(a, b, c)]);
  cluster.runUntil(() => cluster.state("t", 0) !== null);
  cluster.settle();
  return { cluster, c, a, b };
}
