/**
 * A Kafka broker process in ZooKeeper mode (KafkaServer.startup / shutdown, KafkaApis' dispatch): log recovery,
 * the ZooKeeper session, the top-level persistent paths, the ephemeral /brokers/ids/<id> registration (retried
 * while a previous session's znode still exists; broker epoch = its czxid), the ReplicaManager, the embedded
 * KafkaController, the metadata cache, and a clean shutdown that first asks the controller to move leadership
 * away (controlled shutdown) and ends with the clean-shutdown marker. After a session expiry it builds a new
 * ZooKeeper client, registers again and re-runs the controller election, as ZooKeeperClient's reinitialisation
 * does. It hosts the group coordinator (coordinator/group/), started once the broker has registered, and
 * dispatches the group APIs to it, and the transaction coordinator (coordinator/transaction/), which does nothing
 * until a client uses a transactional id. Simplifications: one listener, no request quotas or thread pools (a request is handled when it arrives);
 * a failed log dir halts the broker (it stops answering; its session then expires), as Kafka's Exit.halt does.
 */

import type { Disk } from "../disk/disk.ts";
import type { ZkClientState, ZkReply, ZkWatchEventType } from "../protocol/zk.ts";
import {
  brokerIdOf,
  type AlterIsrRequest,
  type ControlledShutdownRequest,
  type ControlledShutdownResponse,
  type KafkaRequest,
  type KafkaResponse,
  type MetadataRequest,
} from "../protocol/kafka.ts";
import type { Message, Process, ProcessContext } from "../sim/host.ts";
import { ms } from "../sim/time.ts";
import { ZkClient } from "../zk/client.ts";
import type { Compat, ReplicationConfig } from "./config.ts";
import { KafkaController } from "./controller/controller.ts";
import { GROUP_COORDINATOR_TIMER_PREFIX } from "./coordinator/group/delayed-operations.ts";
import { GroupApis, type GroupApiRequest } from "./coordinator/group/group-apis.ts";
import { GroupCoordinator } from "./coordinator/group/group-coordinator.ts";
import { offsetsTopicCreator } from "./coordinator/group/offsets-topic.ts";
import { coordinatorLeadershipListener, replicaStorage } from "./coordinator/group/replica-storage.ts";
import { handleInitProducerId, producerIdManagerOf } from "./idempotence/producer-id-manager.ts";
import { TransactionApis, type TransactionApiRequest } from "./coordinator/transaction/transaction-apis.ts";
import { TransactionCoordinator } from "./coordinator/transaction/transaction-coordinator.ts";
import { TXN_COORDINATOR_TIMER_PREFIX } from "./coordinator/transaction/transaction-state-manager.ts";
import { transactionStateTopicCreator, transactionLogStorage, withTransactionCoordinator } from "./coordinator/transaction/transaction-state-topic.ts";
import type { AddPartitionsToTxnResponse, TxnOffsetCommitRequest, WriteTxnMarkersResponse } from "../protocol/transaction.ts";
import { LogManager, TIMER_PREFIX as LOG_TIMER_PREFIX } from "./log/log-manager.ts";
import { MetadataCache } from "./metadata-cache.ts";
import { ReplicaManager } from "./replica/replica-manager.ts";
import { handleWriteTxnMarkers } from "./replica/txn-markers.ts";
import { BROKER_TIMER_PREFIX, BrokerPlumbing, CONTROLLER_TIMER_PREFIX, FETCHER_TIMER_PREFIX, REPLICA_TIMER_PREFIX, type BrokerServices } from "./services.ts";
import { brokerIdPath, encodeBrokerRegistration, PERSISTENT_PATHS } from "./zk-data.ts";

export interface BrokerOptions {
  brokerId: number;
  zkServers: readonly string[];
  replication: ReplicationConfig;
  compat: Compat;
  /** Every broker setting given (log.* keys included) for the LogManager. */
  settings: Readonly<Record<string, unknown>>;
  /**
   * Topic config overrides, shared by every broker (and updated by the admin when it creates a topic, and by a
   * broker when it creates __consumer_offsets).
   */
  topicConfigs: Map<string, Readonly<Record<string, unknown>>>;
}

const TIMER_REGISTER = "broker:register";
const TIMER_CONTROLLED_SHUTDOWN = "broker:controlled-shutdown";
const TIMER_CONTROLLED_SHUTDOWN_TIMEOUT = "broker:controlled-shutdown-timeout";
/** Retry back-off while /brokers/ids/<id> still belongs to a previous session (or ZooKeeper is unreachable). */
const REGISTER_RETRY_MS = 1000;
/** At most this many registration attempts per session (the old session expires within its timeout). */
const REGISTER_ATTEMPTS_MAX = 120;
const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({});
/** Requests only a controller sends (fenced by broker epoch, KIP-380). */
const CONTROLLER_REQUESTS: ReadonlySet<string> = new Set(["LeaderAndIsr", "UpdateMetadata", "StopReplica"]);

export class KafkaBroker extends BrokerPlumbing implements Process, BrokerServices {
  readonly brokerId: number;
  readonly config: ReplicationConfig;
  readonly compat: Compat;
  readonly metadataCache = new MetadataCache();
  readonly logManager: LogManager;
  replicaManager!: ReplicaManager;
  controller!: KafkaController;
  groupCoordinator!: GroupCoordinator;
  private groupApis!: GroupApis;
  transactionCoordinator!: TransactionCoordinator;
  private transactionApis!: TransactionApis;
  private client!: ZkClient;
  /** Bumped with every new ZooKeeper client; callbacks of an older session are ignored. */
  private session = 0;
  private registered = false;
  private registering = false;
  private registerAttempts = 0;
  /** The first registration of this incarnation succeeded: the request handlers run (socketServer.startProcessingRequests). */
  private servingRequests = false;
  private createdPaths = false;
  private currentBrokerEpoch = -1;
  /** A log dir failure halted the broker: it handles nothing more until restarted. */
  private halted = false;
  private shuttingDown: { done: () => void; attempt: number; correlationId: number } | null = null;

  constructor(
    context: ProcessContext<Disk>,
    private readonly options: BrokerOptions,
  ) {
    super(context);
    this.brokerId = options.brokerId;
    this.config = options.replication;
    this.compat = options.compat;
    this.logManager = new LogManager(context, {
      config: options.settings,
      topicConfig: (topic) => options.topicConfigs.get(topic) ?? EMPTY,
      onLogDirFailure: (what, error) => this.halt(`log dir failure: ${what} (${error})`),
    });
  }

  // ---- BrokerServices ----

  zk(): ZkClient {
    return this.client;
  }

  brokerEpoch(): number {
    return this.currentBrokerEpoch;
  }

  topicConfig(topic: string): Readonly<Record<string, unknown>> {
    return this.options.topicConfigs.get(topic) ?? EMPTY;
  }

  get topicConfigs(): Map<string, Readonly<Record<string, unknown>>> {
    return this.options.topicConfigs;
  }


  /** A log dir failure halted the broker (Exit.halt: the JVM is gone, JMX answers no more). */
  get isHalted(): boolean {
    return this.halted;
  }

  // ---- Process ----

  onStart(): void {
    this.logManager.startup();
    this.replicaManager = new ReplicaManager(this);
    this.controller = new KafkaController(this);
    this.groupCoordinator = new GroupCoordinator(this, replicaStorage(() => this.replicaManager, () => this.nowMs()));
    this.groupApis = new GroupApis(this, this.groupCoordinator, offsetsTopicCreator(this));
    this.transactionCoordinator = new TransactionCoordinator(
      {
        brokerId: this.brokerId,
        context: this.context,
        config: this.config,
        compat: this.compat,
        metadataCache: this.metadataCache,
        nowMs: () => this.nowMs(),
        nextCorrelationId: () => this.nextCorrelationId(),
        sendToBroker: (brokerId, message) => this.sendToBroker(brokerId, message),
        generateProducerId: () => producerIdManagerOf(this).generateProducerId(),
        fatalExit: (reason) => this.halt(reason),
      },
      transactionLogStorage(() => this.replicaManager, () => this.nowMs()),
    );
    this.transactionApis = new TransactionApis(this, this.transactionCoordinator, transactionStateTopicCreator(this));
    this.groupApis.findTransactionCoordinator = (transactionalId) => this.transactionApis.findCoordinator(transactionalId);
    this.replicaManager.leadershipListener = withTransactionCoordinator(coordinatorLeadershipListener(this.groupCoordinator), this.transactionCoordinator);
    this.replicaManager.startup();
    this.connect();
  }

  onMessage(from: string, message: Message, connection: number): void {
    if (this.halted) return;
    if (message.type.startsWith("Zk")) {
      this.client.onMessage(from, message, connection);
      return;
    }
    // KafkaServer.startup processes requests only after registerBroker. Until this incarnation has registered,
    // controller requests go unanswered (the controller knows only the previous incarnation's broker epoch, and
    // KIP-380 would fence them once registered), so a restarted broker never acts on a LeaderAndIsr meant for
    // its previous incarnation. Clients are answered (there is nothing to lead yet: NOT_LEADER_OR_FOLLOWER,
    // an empty metadata cache) so they move on at once, as a refused connection makes them do in Kafka.
    if (!this.servingRequests && CONTROLLER_REQUESTS.has(message.type)) return;
    this.dispatch(from, message as KafkaRequest | KafkaResponse, connection);
  }

  /**
   * A connection to `peer` was refused or closed by its OS (its process is gone). The transaction marker
   * channel (its NetworkClient fails the requests in flight as disconnected) and the replica fetchers (the
   * request in flight fails, its partitions back off replica.fetch.backoff.ms) and the controller channel (its
   * request in flight fails and is resent after 100 ms, RequestSendThread) listen, and so does the ZooKeeper
   * client when `peer` is its server (ClientCnxn moves on to the next server at once).
   */
  onConnectionRefused(peer: string): void {
    if (this.halted) return;
    if (this.client.onConnectionRefused(peer)) return;
    const brokerId = brokerIdOf(peer);
    if (brokerId === null) return;
    this.transactionCoordinator.onBrokerDisconnected(brokerId);
    this.replicaManager.onBrokerDisconnected(brokerId);
    this.controller.onBrokerDisconnected(brokerId);
  }

  onTimer(tag: string, data: unknown): void {
    if (this.halted) return;
    if (tag.startsWith("zk-client:")) {
      this.client.onTimer(tag, data);
    } else if (tag.startsWith(LOG_TIMER_PREFIX)) {
      this.logManager.onTimer(tag, data);
    } else if (tag.startsWith(REPLICA_TIMER_PREFIX) || tag.startsWith(FETCHER_TIMER_PREFIX)) {
      this.replicaManager.onTimer(tag, data);
    } else if (tag.startsWith(CONTROLLER_TIMER_PREFIX)) {
      this.controller.onTimer(tag, data);
    } else if (tag.startsWith(GROUP_COORDINATOR_TIMER_PREFIX)) {
      this.groupCoordinator.onTimer(tag, data);
    } else if (tag.startsWith(TXN_COORDINATOR_TIMER_PREFIX)) {
      this.transactionCoordinator.onTimer(tag, data);
    } else if (tag.startsWith(BROKER_TIMER_PREFIX)) {
      this.onBrokerTimer(tag, data);
    }
  }

  /** KafkaServer.controlledShutdown: ask the controller to move leadership away, then stop. */
  beginShutdown(done: () => void): boolean {
    if (this.halted || !this.config["controlled.shutdown.enable"] || !this.registered) return false;
    this.shuttingDown = { done, attempt: 0, correlationId: -1 };
    this.sendControlledShutdown();
    return true;
  }

  onShutdown(): void {
    if (this.halted) return;
    this.groupCoordinator.shutdown();
    this.transactionCoordinator.shutdown();
    this.replicaManager.shutdown();
    this.controller.shutdown();
    this.client.close();
    this.logManager.shutdown();
  }

  // ---- Request dispatch (KafkaApis) ----

  private dispatch(from: string, message: KafkaRequest | KafkaResponse, connection: number): void {
    const txnType = (message as Message).type;
    if (txnType === "AddPartitionsToTxn" || txnType === "AddOffsetsToTxn" || txnType === "EndTxn") {
      this.transactionApis.handle(from, message as unknown as TransactionApiRequest);
      return;
    }
    if (txnType === "TxnOffsetCommit") {
      this.groupApis.handleTxnOffsetCommit(from, message as unknown as TxnOffsetCommitRequest);
      return;
    }
    if (txnType === "WriteTxnMarkersResponse") {
      this.transactionApis.onWriteTxnMarkersResponse(message as unknown as WriteTxnMarkersResponse);
      return;
    }
    if (txnType === "AddPartitionsToTxnResponse") {
      // KIP-890 part 1: a coordinator's answer to this leader's verification.
      this.replicaManager.onAddPartitionsToTxnResponse(from, message as unknown as AddPartitionsToTxnResponse);
      return;
    }
    switch (message.type) {
      case "Produce":
        this.replicaManager.handleProduce(from, message);
        break;
      case "Fetch":
        this.replicaManager.handleFetch(from, message);
        break;
      case "ListOffsets":
        this.replicaManager.handleListOffsets(from, message);
        break;
      case "OffsetsForLeaderEpoch":
        this.replicaManager.handleOffsetsForLeaderEpoch(from, message);
        break;
      case "LeaderAndIsr":
        this.replicaManager.handleLeaderAndIsr(from, message);
        break;
      case "UpdateMetadata":
        this.replicaManager.handleUpdateMetadata(from, message);
        break;
      case "StopReplica":
        this.replicaManager.handleStopReplica(from, message);
        break;
      case "Metadata":
        this.handleMetadata(from, message);
        break;
      case "WriteTxnMarkers":
        // KafkaApis.handleWriteTxnMarkersRequest; markers in __consumer_offsets reach the group coordinator.
        handleWriteTxnMarkers(this.replicaManager, from, message, (producerId, partitions, result) => this.groupCoordinator.scheduleHandleTxnCompletion(producerId, partitions, result));
        break;
      case "InitProducerId":
        // A transactional id goes to the transaction coordinator; the idempotent path is unchanged.
        if (message.transactionalId !== null && message.transactionalId !== "") this.transactionApis.handle(from, message);
        else handleInitProducerId(this, from, message);
        break;
      case "FindCoordinator":
      case "JoinGroup":
      case "SyncGroup":
      case "Heartbeat":
      case "LeaveGroup":
      case "OffsetCommit":
      case "OffsetFetch":
        this.groupApis.handle(from, message as GroupApiRequest);
        break;
      case "ControlledShutdown":
        this.controller.handleControlledShutdown(from, message as ControlledShutdownRequest);
        break;
      case "AlterIsr":
        this.controller.handleAlterIsr(from, message as AlterIsrRequest);
        break;
      case "FetchResponse":
      case "OffsetsForLeaderEpochResponse":
      case "AlterIsrResponse":
      case "ListOffsetsResponse":
        this.replicaManager.onResponse(from, message, connection);
        break;
      case "LeaderAndIsrResponse":
      case "UpdateMetadataResponse":
      case "StopReplicaResponse":
        this.controller.onResponse(from, message);
        break;
      case "ControlledShutdownResponse":
        this.onControlledShutdownResponse(message);
        break;
      default:
        // ProduceResponse, MetadataResponse: a broker never asks for them.
        break;
    }
  }

  private handleMetadata(from: string, request: MetadataRequest): void {
    this.context.send(from, this.metadataCache.describe(request.topics, request.correlationId));
  }

  // ---- ZooKeeper session and registration ----

  private connect(): void {
    const session = ++this.session;
    this.registered = false;
    this.registering = false;
    this.registerAttempts = 0;
    this.currentBrokerEpoch = -1;
    this.client = new ZkClient(
      this.context,
      { servers: [...this.options.zkServers], sessionTimeoutMs: this.config["zookeeper.session.timeout.ms"] },
      {
        onStateChange: (state) => session === this.session && this.onZkState(state),
        onWatchEvent: (event, path) => session === this.session && this.onWatchEvent(event, path),
      },
    );
    this.client.start();
  }

  private onZkState(state: ZkClientState): void {
    if (state === "CONNECTED" && !this.registered) this.register();
    if (state === "EXPIRED") {
      this.metrics.zooKeeperExpires.mark();
      this.trace("zk-session-expired", { brokerEpoch: this.currentBrokerEpoch });
      this.controller.onZkSessionExpired();
      this.connect();
    }
  }

  private onWatchEvent(event: ZkWatchEventType, path: string): void {
    this.controller.onWatchEvent(event, path);
  }

  private register(): void {
    if (this.registering || this.registered) return;
    if (this.registerAttempts >= REGISTER_ATTEMPTS_MAX) return;
    this.registering = true;
    this.registerAttempts++;
    const session = this.session;
    const ignore = (): boolean => session !== this.session;
    if (!this.createdPaths) {
      this.createPersistentPaths(0, (reply) => {
        if (ignore()) return;
        if (reply.code !== "OK") return this.retryRegister(reply.code);
        this.createdPaths = true;
        this.registering = false;
        this.register();
      });
      return;
    }
    const path = brokerIdPath(this.brokerId);
    const data = encodeBrokerRegistration(this.brokerId, this.context.node, this.nowMs());
    this.client.create(path, data, { ephemeral: true }, (reply) => {
      if (ignore()) return;
      if (reply.code !== "OK" && reply.code !== "NODEEXISTS") return this.retryRegister(reply.code);
      // KafkaZkClient.checkedEphemeralCreate: the znode is ours only if this session owns it.
      this.client.exists(path, false, (stat) => {
        if (ignore()) return;
        const owner = stat.stat?.ephemeralOwner ?? 0;
        if (stat.code !== "OK" || stat.stat === null || stat.stat === undefined || owner !== this.client.sessionId) {
          return this.retryRegister(reply.code === "NODEEXISTS" ? "NODEEXISTS" : stat.code);
        }
        this.registering = false;
        this.registered = true;
        this.servingRequests = true;
        this.currentBrokerEpoch = stat.stat.czxid;
        this.trace("broker-registered", { brokerEpoch: this.currentBrokerEpoch, sessionId: `0x${this.client.sessionId.toString(16)}` });
        this.controller.startup();
        // KafkaServer.startup starts the group coordinator after the controller (once per incarnation).
        this.groupCoordinator.startup();
        this.transactionCoordinator.startup();
      });
    });
  }

  /** KafkaZkClient.createTopLevelPaths: creates each persistent path, ignoring NODEEXISTS. */
  private createPersistentPaths(index: number, done: (reply: ZkReply) => void): void {
    if (index === PERSISTENT_PATHS.length) {
      done({ code: "OK" });
      return;
    }
    this.client.create(PERSISTENT_PATHS[index], "", {}, (reply) => {
      if (reply.code === "OK" || reply.code === "NODEEXISTS") this.createPersistentPaths(index + 1, done);
      else done(reply);
    });
  }

  private retryRegister(code: string): void {
    this.registering = false;
    this.trace("broker-register-failed", { code, attempt: this.registerAttempts });
    this.context.setTimer(ms(REGISTER_RETRY_MS), TIMER_REGISTER, this.session);
  }

  private onBrokerTimer(tag: string, data: unknown): void {
    if (tag === TIMER_REGISTER) {
      if (data === this.session && this.client.state === "CONNECTED") this.register();
    } else if (tag === TIMER_CONTROLLED_SHUTDOWN) {
      this.sendControlledShutdown();
    } else if (tag === TIMER_CONTROLLED_SHUTDOWN_TIMEOUT) {
      const shutdown = this.shuttingDown;
      if (shutdown !== null && data === shutdown.correlationId) this.retryControlledShutdown("REQUEST_TIMED_OUT");
    }
  }

  // ---- Controlled shutdown ----

  private sendControlledShutdown(): void {
    const shutdown = this.shuttingDown;
    if (shutdown === null) return;
    shutdown.attempt++;
    const controllerId = this.metadataCache.controllerId;
    if (controllerId < 0 || !this.metadataCache.aliveBrokers.has(controllerId)) {
      this.retryControlledShutdown("NOT_CONTROLLER");
      return;
    }
    shutdown.correlationId = this.nextCorrelationId();
    const request: ControlledShutdownRequest = {
      type: "ControlledShutdown",
      correlationId: shutdown.correlationId,
      brokerId: this.brokerId,
      brokerEpoch: this.currentBrokerEpoch,
      sizeBytes: 32,
    };
    this.trace("controlled-shutdown-request", { controllerId, attempt: shutdown.attempt });
    this.sendToBroker(controllerId, request);
    this.context.setTimer(ms(this.config["request.timeout.ms"]), TIMER_CONTROLLED_SHUTDOWN_TIMEOUT, shutdown.correlationId);
  }

  private onControlledShutdownResponse(response: ControlledShutdownResponse): void {
    const shutdown = this.shuttingDown;
    if (shutdown === null || response.correlationId !== shutdown.correlationId) return;
    shutdown.correlationId = -1;
    if (response.error === "NONE" && response.remainingPartitions.length === 0) {
      this.trace("controlled-shutdown-complete", { attempts: shutdown.attempt });
      this.shuttingDown = null;
      shutdown.done();
      return;
    }
    this.retryControlledShutdown(response.error === "NONE" ? "PARTITIONS_REMAINING" : response.error, response.remainingPartitions.length);
  }

  /** Up to controlled.shutdown.max.retries attempts, controlled.shutdown.retry.backoff.ms apart; then stop anyway. */
  private retryControlledShutdown(reason: string, remaining = -1): void {
    const shutdown = this.shuttingDown!;
    shutdown.correlationId = -1;
    if (shutdown.attempt >= this.config["controlled.shutdown.max.retries"]) {
      this.trace("controlled-shutdown-failed", { reason, remaining, attempts: shutdown.attempt });
      this.shuttingDown = null;
      shutdown.done();
      return;
    }
    this.context.setTimer(ms(this.config["controlled.shutdown.retry.backoff.ms"]), TIMER_CONTROLLED_SHUTDOWN);
  }

  // ---- Failure ----

  private halt(reason: string): void {
    if (this.halted) return;
    this.trace("broker-halted", { reason });
    this.halted = true;
  }

  private trace(kind: string, fields: Record<string, unknown>): void {
    if (this.context.tracing) this.context.trace(kind, fields);
  }
}
