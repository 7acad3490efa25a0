/**
 * Test harness for the ReplicaManager: a world with broker-like processes (broker-1…N) that each own a
 * LogManager, a MetadataCache and a ReplicaManager behind a small BrokerServices; a fake controller on
 * broker-9 that sends hand-built LeaderAndIsr / UpdateMetadata requests and answers AlterIsr; a producer host
 * (`producer`) that sends Produce requests. With `zk: true`, a 3-server ZooKeeper ensemble and a ZkClient per
 * broker (for compat.isrUpdate "zk-direct").
 */

import type { WriteTxnMarkersRequest } from "../../../src/protocol/transaction.ts";
import { DEFAULT_COMPAT, DEFAULT_REPLICATION_CONFIG, type Compat, type ReplicationConfig } from "../../../src/broker/config.ts";
import type { LogConfig } from "../../../src/broker/log/config.ts";
import { LogManager } from "../../../src/broker/log/log-manager.ts";
import { makeBatch } from "../../../src/broker/log/records.ts";
import { MetadataCache } from "../../../src/broker/metadata-cache.ts";
import { ReplicaManager } from "../../../src/broker/replica/replica-manager.ts";
import { BrokerPlumbing, type BrokerServices } from "../../../src/broker/services.ts";
import { Disk, type DiskConfig } from "../../../src/disk/disk.ts";
import { Network } from "../../../src/net/network.ts";
import {
  brokerHost,
  type Acks,
  type AlterIsrRequest,
  type AlterIsrResponse,
  type FetchRequest,
  type LeaderAndIsrPartitionState,
  type LeaderAndIsrRequest,
  type ListOffsetsRequest,
  type OffsetsForLeaderEpochRequest,
  type ProduceRequest,
  type ProduceResponse,
  type StopReplicaRequest,
  type UpdateMetadataRequest,
} from "../../../src/protocol/kafka.ts";
import type { Message, Process, ProcessContext } from "../../../src/sim/host.ts";
import { ms } from "../../../src/sim/time.ts";
import type { TraceEvent } from "../../../src/sim/trace.ts";
import { World } from "../../../src/sim/world.ts";
import { ZkClient } from "../../../src/zk/client.ts";
import { ZkServer, zkServerConfig } from "../../../src/zk/server.ts";

export const CONTROLLER_ID = 9;
export const TOPIC = "t";

export interface ClusterOptions {
  brokers?: number;
  seed?: number;
  config?: Partial<ReplicationConfig>;
  compat?: Partial<Compat>;
  topicConfig?: Record<string, unknown>;
  /** A 3-server ZooKeeper ensemble and a ZkClient per broker. */
  zk?: boolean;
  /** Disk settings per broker id (a slow fsync, say). */
  disks?: Record<number, Partial<DiskConfig>>;
}

export class ReplicaBroker extends BrokerPlumbing implements Process, BrokerServices {
  readonly metadataCache = new MetadataCache();
  logManager!: LogManager;
  replicaManager!: ReplicaManager;
  zkClient: ZkClient | null = null;
  readonly responses: Message[] = [];

  constructor(
    context: ProcessContext<Disk>,
    readonly brokerId: number,
    readonly config: ReplicationConfig,
    readonly compat: Compat,
    private readonly topicConfigs: Record<string, unknown>,
    private readonly zkServers: string[] | null,
  ) {
    super(context);
  }

  onStart(): void {
    this.logManager = new LogManager(this.context, { config: { "log.dirs": "kafka-logs" }, topicConfig: () => this.topicConfigs as Partial<LogConfig> });
    this.logManager.startup();
    if (this.zkServers !== null) {
      this.zkClient = new ZkClient(this.context, { servers: this.zkServers, sessionTimeoutMs: 6000 }, {});
      this.zkClient.start();
    }
    this.replicaManager = new ReplicaManager(this);
    this.replicaManager.startup();
  }

  onMessage(from: string, message: Message, connection: number): void {
    if (this.zkClient !== null && this.zkClient.onMessage(from, message, connection)) return;
    const rm = this.replicaManager;
    switch (message.type) {
      case "Produce":
        return rm.handleProduce(from, message as ProduceRequest);
      case "Fetch":
        return rm.handleFetch(from, message as FetchRequest);
      case "ListOffsets":
        return rm.handleListOffsets(from, message as ListOffsetsRequest);
      case "OffsetsForLeaderEpoch":
        return rm.handleOffsetsForLeaderEpoch(from, message as OffsetsForLeaderEpochRequest);
      case "LeaderAndIsr":
        return rm.handleLeaderAndIsr(from, message as LeaderAndIsrRequest);
      case "UpdateMetadata":
        return rm.handleUpdateMetadata(from, message as UpdateMetadataRequest);
      case "StopReplica":
        return rm.handleStopReplica(from, message as StopReplicaRequest);
      case "WriteTxnMarkers":
        return rm.handleWriteTxnMarkers(from, message as WriteTxnMarkersRequest);
      case "FetchResponse":
      case "OffsetsForLeaderEpochResponse":
      case "ListOffsetsResponse":
      case "AlterIsrResponse":
        return rm.onResponse(from, message as never, connection);
      default:
        this.responses.push(message);
    }
  }

  onConnectionRefused(peer: string): void {
    const brokerId = Number(/^broker-(\d+)$/.exec(peer)?.[1] ?? NaN);
    if (!Number.isNaN(brokerId)) this.replicaManager.onBrokerDisconnected(brokerId);
  }

  onTimer(tag: string, data: unknown): void {
    if (this.logManager.onTimer(tag, data)) return;
    if (this.zkClient !== null && this.zkClient.onTimer(tag, data)) return;
    if (this.replicaManager.onTimer(tag, data)) return;
    throw new Error(`unrouted timer ${tag}`);
  }

  onShutdown(): void {
    this.replicaManager.shutdown();
    this.logManager.shutdown();
  }

  zk(): ZkClient {
    return this.zkClient!;
  }
  brokerEpoch(): number {
    return 100 + this.context.incarnation;
  }
  topicConfig(): Readonly<Record<string, unknown>> {
    return this.topicConfigs;
  }
}

/** The fake controller: sends what the test asks and answers AlterIsr by accepting (unless told not to). */
export class FakeController implements Process {
  readonly received: { from: string; message: Message }[] = [];
  /** Partition epoch per partition, bumped by each accepted AlterIsr. */
  readonly partitionEpochs = new Map<string, number>();
  acceptAlterIsr = true;

  constructor(readonly context: ProcessContext<Disk>) {}

  onStart(): void {}
  onTimer(): void {}
  onMessage(from: string, message: Message): void {
    this.received.push({ from, message });
    if (message.type !== "AlterIsr" || !this.acceptAlterIsr) return;
    const request = message as AlterIsrRequest;
    const response: AlterIsrResponse = {
      type: "AlterIsrResponse",
      correlationId: request.correlationId,
      error: "NONE",
      partitions: request.partitions.map((p) => {
        const key = `${p.topic}-${p.partition}`;
        const epoch = (this.partitionEpochs.get(key) ?? p.partitionEpoch) + 1;
        this.partitionEpochs.set(key, epoch);
        return { topic: p.topic, partition: p.partition, error: "NONE", leaderId: request.brokerId, leaderEpoch: p.leaderEpoch, isr: p.newIsr, partitionEpoch: epoch };
      }),
    };
    this.context.send(from, response);
  }
}

export class ProducerHost implements Process {
  readonly responses = new Map<number, ProduceResponse>();
  /** Every message received (Fetch and ListOffsets probes' answers too). */
  readonly received: Message[] = [];
  private correlationId = 0;

  constructor(readonly context: ProcessContext<Disk>) {}

  onStart(): void {}
  onTimer(): void {}
  onMessage(_from: string, message: Message): void {
    this.received.push(message);
    if (message.type === "ProduceResponse") this.responses.set((message as ProduceResponse).correlationId, message as ProduceResponse);
  }

  produce(leader: number, value: string, acks: Acks = -1, timeoutMs = 30_000, partition = 0): number {
    const correlationId = ++this.correlationId;
    const batch = makeBatch({ baseOffset: 0, partitionLeaderEpoch: -1, records: [{ key: null, value, timestamp: Math.floor(this.context.now() / 1000) }] });
    const request: ProduceRequest = { type: "Produce", correlationId, acks, timeoutMs, transactionalId: null, partitions: [{ topic: TOPIC, partition, batch }] };
    this.context.send(brokerHost(leader), request);
    return correlationId;
  }

  error(correlationId: number): string | undefined {
    return this.responses.get(correlationId)?.partitions[0].error;
  }
}

export class ReplicaCluster {
  readonly world: World;
  readonly network: Network;
  readonly events: TraceEvent[] = [];
  readonly brokerIds: number[];
  controllerEpoch = 1;
  private controllerCorrelationId = 1000;

  constructor(readonly options: ClusterOptions = {}) {
    this.world = new World(options.seed ?? 1);
    this.network = new Network(this.world, { latency: { dist: "uniform", minUs: 1000, maxUs: 3000 } });
    this.world.trace.observe((event) => this.events.push(event));
    const config: ReplicationConfig = { ...DEFAULT_REPLICATION_CONFIG, "replica.lag.time.max.ms": 10_000, ...options.config };
    const compat: Compat = { ...DEFAULT_COMPAT, ...options.compat };
    const zkServers = options.zk === true ? ["zk-1", "zk-2", "zk-3"] : null;
    for (const [i, name] of (zkServers ?? []).entries()) {
      this.world.addHost(name, new Disk(this.world, name), (context) => new ZkServer(context, zkServerConfig(i + 1, zkServers!)));
    }
    this.brokerIds = Array.from({ length: options.brokers ?? 3 }, (_, i) => i + 1);
    for (const id of this.brokerIds) {
      const name = brokerHost(id);
      this.world.addHost(name, new Disk(this.world, name, options.disks?.[id] ?? {}), (context) => new ReplicaBroker(context, id, config, compat, options.topicConfig ?? {}, zkServers));
    }
    this.world.addHost(brokerHost(CONTROLLER_ID), new Disk(this.world, "ctl"), (context) => new FakeController(context));
    this.world.addHost("producer", new Disk(this.world, "producer"), (context) => new ProducerHost(context));
    for (const host of this.world.hosts) if (!host.isUp()) host.start();
  }

  broker(id: number): ReplicaBroker {
    return this.world.host(brokerHost(id)).process as ReplicaBroker;
  }

  get controller(): FakeController {
    return this.world.host(brokerHost(CONTROLLER_ID)).process as FakeController;
  }

  get producer(): ProducerHost {
    return this.world.host("producer").process as ProducerHost;
  }

  /** The broker's partition t-0. */
  partition(id: number, partition = 0) {
    return this.broker(id).replicaManager.partition(TOPIC, partition);
  }

  /** UpdateMetadata to every running broker: all brokers alive, the fake controller as controller. */
  updateMetadata(): void {
    for (const id of this.brokerIds) {
      if (!this.world.host(brokerHost(id)).isUp()) continue;
      const request: UpdateMetadataRequest = {
        type: "UpdateMetadata",
        correlationId: ++this.controllerCorrelationId,
        controllerId: CONTROLLER_ID,
        controllerEpoch: this.controllerEpoch,
        brokerEpoch: -1,
        partitionStates: [],
        liveBrokers: [...this.brokerIds, CONTROLLER_ID].map((b) => ({ id: b, host: brokerHost(b) })),
      };
      this.controller.context.send(brokerHost(id), request);
    }
  }

  /** LeaderAndIsr for t-<partition> to `to` (default: every replica). */
  leaderAndIsr(state: { leader: number; leaderEpoch: number; isr: number[]; replicas?: number[]; zkVersion?: number; partition?: number }, to?: number[], controllerEpoch = this.controllerEpoch): number {
    const replicas = state.replicas ?? this.brokerIds;
    const partitionState: LeaderAndIsrPartitionState = {
      topic: TOPIC,
      partition: state.partition ?? 0,
      controllerEpoch,
      leader: state.leader,
      leaderEpoch: state.leaderEpoch,
      isr: state.isr,
      zkVersion: state.zkVersion ?? state.leaderEpoch,
      replicas,
      addingReplicas: [],
      removingReplicas: [],
      isNew: false,
    };
    const correlationId = ++this.controllerCorrelationId;
    for (const id of to ?? replicas) {
      const request: LeaderAndIsrRequest = {
        type: "LeaderAndIsr",
        correlationId,
        controllerId: CONTROLLER_ID,
        controllerEpoch,
        brokerEpoch: -1,
        partitionStates: [partitionState],
        liveLeaders: [{ brokerId: state.leader, host: brokerHost(state.leader) }],
      };
      this.controller.context.send(brokerHost(id), request);
    }
    return correlationId;
  }

  /** The controller's received responses of one type with one correlation id. */
  responses<T extends Message>(type: string, correlationId?: number): { from: string; message: T }[] {
    return this.controller.received.filter(
      (r) => r.message.type === type && (correlationId === undefined || (r.message as unknown as { correlationId: number }).correlationId === correlationId),
    ) as { from: string; message: T }[];
  }

  runFor(durationMs: number): void {
    const verdict = this.world.kernel.run({ untilUs: this.world.now + ms(durationMs), maxEvents: 50_000_000 });
    if (verdict.reason === "model-error") throw verdict.error;
  }

  /** Runs until `predicate` holds, checking every 10 ms, at most `limitMs`. */
  runUntil(predicate: () => boolean, limitMs = 60_000): boolean {
    const end = this.world.now + ms(limitMs);
    while (this.world.now < end) {
      if (predicate()) return true;
      this.runFor(10);
    }
    return predicate();
  }

  /** The values of a broker's t-0 log, in offset order. */
  values(id: number): (string | null)[] {
    const log = this.partition(id)!.log;
    const values: (string | null)[] = [];
    for (const batch of log.batchesFrom(log.logStartOffset)) {
      for (const record of batch.records) if (batch.baseOffset + record.offsetDelta < log.logEndOffset) values.push(record.value);
    }
    return values;
  }

  eventsOf(kind: string, node?: string): TraceEvent[] {
    return this.events.filter((e) => e.kind === kind && (node === undefined || e.node === node));
  }
}
