/**
 * Kafka's ControllerChannelManager and ControllerBrokerRequestBatch: one request queue per live broker with
 * one request in flight, and the batch that collects LeaderAndIsr, UpdateMetadata and StopReplica entries
 * during a controller event and sends them at its end. Kafka's RequestSendThread.doWork (3.6.0) sends the
 * queue's head and, when the send fails — the broker's OS reset the connection (its process crashed: at once)
 * or no answer came within the request timeout — closes the connection, backs off 100 ms and sends the same
 * request again, until it is answered or removeBroker stops the thread (the broker's ZooKeeper session
 * expired). Here too: a reset fails the request in flight at once (onConnectionReset), a timeout after
 * controller.socket.timeout.ms, and either resends it after RESEND_BACKOFF_MS.
 * The bound: Kafka retries forever; kafkasim gives a request up after MAX_SEND_WINDOWS ×
 * controller.socket.timeout.ms (90 s at the defaults) of trying, however many resends that took — three timed-out
 * sends, or some hundreds of refused ones. A refused broker does not burn the bound faster than a silent one: its
 * ZooKeeper session (6–18 s) expires first and removeBroker ends the retries, as in Kafka. The bound only matters
 * for a broker still registered but unreachable from the controller for longer, where Kafka would keep its queue
 * blocked and deliver the stale request after the heal. Simplification: no request versions, no per-broker metrics.
 */

import {
  REQUEST_HEADER_BYTES,
  type KafkaRequestBase,
  type LeaderAndIsrPartitionState,
  type LeaderAndIsrRequest,
  type StopReplicaRequest,
  type StopReplicaResponse,
  type UpdateMetadataPartitionState,
  type UpdateMetadataRequest,
  brokerIdOf,
} from "../../protocol/kafka.ts";
import type { Message } from "../../sim/host.ts";
import { ms, type Micros } from "../../sim/time.ts";
import type { BrokerServices } from "../services.ts";
import { tpKey, type ControllerContext, type LeaderIsr, type TP } from "./context.ts";

export const REQUEST_TIMEOUT_TIMER = "controller:request-timeout";
export const RESEND_BACKOFF_TIMER = "controller:resend-backoff";
/** RequestSendThread.doWork's backoff(): pause(100, MILLISECONDS) after a failed send, before the resend. */
export const RESEND_BACKOFF_MS = 100;
/** The channel gives a request up after this many controller.socket.timeout.ms of trying (see the header). */
export const MAX_SEND_WINDOWS = 3;
const PARTITION_STATE_BYTES = 64;

type ControllerRequest = KafkaRequestBase & { controllerEpoch: number };
type ResponseCallback = (brokerId: number, response: Message) => void;

interface Pending {
  request: ControllerRequest;
  onResponse: ResponseCallback | null;
  /** Virtual time of the first send; -1 before it. */
  firstSentAt: Micros;
  sends: number;
  /** The request timeout while a send is in flight, the resend backoff after a failed one. */
  timer: number;
  backingOff: boolean;
}

interface BrokerChannel {
  queue: Pending[];
  inFlight: Pending | null;
}

export class ControllerChannelManager {
  private readonly channels = new Map<number, BrokerChannel>();

  constructor(private readonly services: BrokerServices) {}

  addBroker(brokerId: number): void {
    if (!this.channels.has(brokerId)) this.channels.set(brokerId, { queue: [], inFlight: null });
  }

  /** The broker died: its queue and in-flight request are dropped. */
  removeBroker(brokerId: number): void {
    const channel = this.channels.get(brokerId);
    if (channel === undefined) return;
    if (channel.inFlight !== null) this.services.context.cancelTimer(channel.inFlight.timer);
    this.channels.delete(brokerId);
  }

  shutdown(): void {
    for (const id of [...this.channels.keys()]) this.removeBroker(id);
  }

  send(brokerId: number, request: ControllerRequest, onResponse: ResponseCallback | null = null): void {
    const channel = this.channels.get(brokerId);
    if (channel === undefined) return; // Kafka: "Not sending request to broker … since it is offline"
    channel.queue.push({ request, onResponse, firstSentAt: -1, sends: 0, timer: -1, backingOff: false });
    this.pump(brokerId, channel);
  }

  /** A response from a broker; returns true when it answered the in-flight request of that broker. */
  onResponse(from: string, response: Message & { correlationId: number }): boolean {
    const brokerId = brokerIdOf(from);
    const channel = brokerId === null ? undefined : this.channels.get(brokerId);
    const pending = channel?.inFlight ?? null;
    if (channel === undefined || pending === null || pending.request.correlationId !== response.correlationId) return false;
    this.services.context.cancelTimer(pending.timer);
    channel.inFlight = null;
    pending.onResponse?.(brokerId!, response);
    if (this.channels.get(brokerId!) === channel) this.pump(brokerId!, channel);
    return true;
  }

  /** The request in flight to `brokerId` got no answer within controller.socket.timeout.ms. */
  onTimeout(data: unknown): void {
    const { brokerId, correlationId } = data as { brokerId: number; correlationId: number };
    const pending = this.inFlight(brokerId, correlationId);
    if (pending === null || pending.backingOff) return;
    this.sendFailed(brokerId, pending, "timeout");
  }

  /**
   * The connection to `brokerId` was reset (its process is gone: Process.onConnectionRefused): the request in
   * flight fails at once, as NetworkClientUtils.sendAndReceive throws on a disconnect, and is resent after the
   * backoff. A channel with nothing in flight, or already backing off, has nothing to fail.
   */
  onConnectionReset(brokerId: number): void {
    const pending = this.channels.get(brokerId)?.inFlight ?? null;
    if (pending === null || pending.backingOff) return;
    this.services.context.cancelTimer(pending.timer);
    this.sendFailed(brokerId, pending, "connection-reset");
  }

  /** The backoff after a failed send is over: the same request goes again. */
  onResendBackoff(data: unknown): void {
    const { brokerId, correlationId } = data as { brokerId: number; correlationId: number };
    const pending = this.inFlight(brokerId, correlationId);
    if (pending === null || !pending.backingOff) return;
    pending.backingOff = false;
    this.transmit(brokerId, pending);
  }

  private inFlight(brokerId: number, correlationId: number): Pending | null {
    const pending = this.channels.get(brokerId)?.inFlight ?? null;
    return pending !== null && pending.request.correlationId === correlationId ? pending : null;
  }

  /** "fails to send request … Reconnecting to broker": back off and resend, or give up past the bound. */
  private sendFailed(brokerId: number, pending: Pending, reason: "timeout" | "connection-reset"): void {
    const context = this.services.context;
    const channel = this.channels.get(brokerId)!;
    const windowUs = MAX_SEND_WINDOWS * ms(this.services.config["controller.socket.timeout.ms"]);
    const resendAt = context.now() + ms(RESEND_BACKOFF_MS);
    const giveUp = resendAt - pending.firstSentAt >= windowUs;
    if (context.tracing) context.trace("controller-send-failed", {
      broker: brokerId,
      type: pending.request.type,
      correlationId: pending.request.correlationId,
      sends: pending.sends,
      reason,
      giveUp,
    });
    if (giveUp) {
      channel.inFlight = null;
      this.pump(brokerId, channel);
      return;
    }
    pending.backingOff = true;
    pending.timer = context.setTimer(ms(RESEND_BACKOFF_MS), RESEND_BACKOFF_TIMER, { brokerId, correlationId: pending.request.correlationId });
  }

  private pump(brokerId: number, channel: BrokerChannel): void {
    if (channel.inFlight !== null || channel.queue.length === 0) return;
    channel.inFlight = channel.queue.shift()!;
    this.transmit(brokerId, channel.inFlight);
  }

  private transmit(brokerId: number, pending: Pending): void {
    pending.sends++;
    if (pending.firstSentAt < 0) pending.firstSentAt = this.services.context.now();
    const timeout = ms(this.services.config["controller.socket.timeout.ms"]);
    pending.timer = this.services.context.setTimer(timeout, REQUEST_TIMEOUT_TIMER, { brokerId, correlationId: pending.request.correlationId });
    this.services.sendToBroker(brokerId, pending.request);
  }
}

type StopReplicaEntry = StopReplicaRequest["partitions"][number];

/** ControllerBrokerRequestBatch: collects requests during an event, sent together by send(). */
export class RequestBatch {
  private readonly leaderAndIsr = new Map<number, Map<string, LeaderAndIsrPartitionState>>();
  private readonly updateMetadataBrokers = new Set<number>();
  private readonly updateMetadataPartitions = new Map<string, TP>();
  private readonly deletedTopics = new Set<string>();
  private readonly stopReplica = new Map<number, StopReplicaEntry[]>();

  constructor(
    private readonly services: BrokerServices,
    private readonly context: ControllerContext,
    private readonly channel: ControllerChannelManager,
    private readonly onStopReplicaDeleteResponse: (brokerId: number, response: StopReplicaResponse) => void,
  ) {}

  /** LeaderAndIsr with the partition's current leadership to `brokerIds`, and UpdateMetadata for it to all. */
  addLeaderAndIsr(brokerIds: readonly number[], tp: TP, isNew = false): void {
    const leaderIsr = this.context.leaderIsr(tp);
    const assignment = this.context.assignment(tp);
    if (leaderIsr === undefined || assignment === undefined) return;
    for (const brokerId of brokerIds) {
      if (brokerId < 0) continue;
      let states = this.leaderAndIsr.get(brokerId);
      if (states === undefined) {
        states = new Map();
        this.leaderAndIsr.set(brokerId, states);
      }
      const previous = states.get(tpKey(tp));
      states.set(tpKey(tp), {
        ...partitionStateBase(tp, leaderIsr),
        replicas: [...assignment.replicas],
        addingReplicas: [...assignment.addingReplicas],
        removingReplicas: [...assignment.removingReplicas],
        isNew: isNew || previous?.isNew === true,
      });
    }
    this.addUpdateMetadata(this.context.liveOrShuttingDownBrokerIds(), [tp]);
  }

  addUpdateMetadata(brokerIds: readonly number[], partitions: readonly TP[]): void {
    for (const id of brokerIds) this.updateMetadataBrokers.add(id);
    for (const tp of partitions) this.updateMetadataPartitions.set(tpKey(tp), tp);
  }

  /** UpdateMetadata telling every live broker the topic is being deleted. */
  addDeletedTopic(topic: string): void {
    this.deletedTopics.add(topic);
    for (const id of this.context.liveOrShuttingDownBrokerIds()) this.updateMetadataBrokers.add(id);
  }

  addStopReplica(brokerIds: readonly number[], tp: TP, deletePartition: boolean): void {
    for (const brokerId of brokerIds) {
      let entries = this.stopReplica.get(brokerId);
      if (entries === undefined) {
        entries = [];
        this.stopReplica.set(brokerId, entries);
      }
      // EpochDuringDelete (-2) when deleting; otherwise the controller's cached leader epoch.
      const leaderEpoch = deletePartition ? -2 : (this.context.leaderIsr(tp)?.leaderEpoch ?? -1);
      entries.push({ topic: tp.topic, partition: tp.partition, leaderEpoch, deletePartition });
    }
  }

  /** sendRequestsToBrokers: LeaderAndIsr, then UpdateMetadata, then StopReplica. */
  send(): void {
    const ctx = this.context;
    const controllerId = this.services.brokerId;
    const controllerEpoch = ctx.epoch;
    // KIP-380 (2.2): the broker epoch the controller knows; before it the requests carry none (-1, unknown).
    const brokerEpoch = (id: number): number => (this.services.compat.brokerEpochs ? (ctx.liveBrokers.get(id)?.epoch ?? -1) : -1);
    for (const [brokerId, states] of this.leaderAndIsr) {
      const partitionStates = [...states.values()];
      const leaders = [...new Set(partitionStates.map((s) => s.leader))].filter((id) => ctx.liveBrokers.has(id));
      const request: LeaderAndIsrRequest = {
        type: "LeaderAndIsr",
        correlationId: this.services.nextCorrelationId(),
        controllerId,
        controllerEpoch,
        brokerEpoch: brokerEpoch(brokerId),
        partitionStates,
        liveLeaders: leaders.map((id) => ({ brokerId: id, host: ctx.liveBrokers.get(id)!.host })),
        sizeBytes: REQUEST_HEADER_BYTES + PARTITION_STATE_BYTES * partitionStates.length,
      };
      this.channel.send(brokerId, request);
    }
    if (this.updateMetadataBrokers.size > 0) {
      const partitionStates = [...this.updateMetadataPartitions.values()].flatMap((tp) => this.metadataState(tp));
      const liveBrokers = ctx.liveOrShuttingDownBrokerIds().map((id) => ({ id, host: ctx.liveBrokers.get(id)!.host }));
      for (const brokerId of this.updateMetadataBrokers) {
        if (!ctx.liveBrokers.has(brokerId)) continue;
        const request: UpdateMetadataRequest = {
          type: "UpdateMetadata",
          correlationId: this.services.nextCorrelationId(),
          controllerId,
          controllerEpoch,
          brokerEpoch: brokerEpoch(brokerId),
          partitionStates,
          liveBrokers,
          sizeBytes: REQUEST_HEADER_BYTES + PARTITION_STATE_BYTES * partitionStates.length,
        };
        if (this.deletedTopics.size > 0) request.deletedTopics = [...this.deletedTopics];
        this.channel.send(brokerId, request);
      }
    }
    for (const [brokerId, entries] of this.stopReplica) {
      for (const deletePartition of [false, true]) {
        const partitions = entries.filter((e) => e.deletePartition === deletePartition);
        if (partitions.length === 0) continue;
        const request: StopReplicaRequest = {
          type: "StopReplica",
          correlationId: this.services.nextCorrelationId(),
          controllerId,
          controllerEpoch,
          brokerEpoch: brokerEpoch(brokerId),
          partitions,
          sizeBytes: REQUEST_HEADER_BYTES + PARTITION_STATE_BYTES * partitions.length,
        };
        const callback = deletePartition ? (id: number, r: Message) => this.onStopReplicaDeleteResponse(id, r as StopReplicaResponse) : null;
        this.channel.send(brokerId, request, callback);
      }
    }
    this.clear();
  }

  /** Drops what was collected (the controller resigned before sending). */
  clear(): void {
    this.leaderAndIsr.clear();
    this.updateMetadataBrokers.clear();
    this.updateMetadataPartitions.clear();
    this.deletedTopics.clear();
    this.stopReplica.clear();
  }

  private metadataState(tp: TP): UpdateMetadataPartitionState[] {
    const leaderIsr = this.context.leaderIsr(tp);
    const replicas = this.context.replicas(tp);
    if (leaderIsr === undefined) return [];
    return [
      {
        ...partitionStateBase(tp, leaderIsr),
        replicas: [...replicas],
        offlineReplicas: replicas.filter((id) => !this.context.liveBrokers.has(id)),
      },
    ];
  }
}

/** The fields LeaderAndIsr's and UpdateMetadata's partition states share, from the controller's leadership. */
function partitionStateBase(tp: TP, leaderIsr: LeaderIsr) {
  return {
    topic: tp.topic,
    partition: tp.partition,
    controllerEpoch: leaderIsr.controllerEpoch,
    leader: leaderIsr.leader,
    leaderEpoch: leaderIsr.leaderEpoch,
    isr: [...leaderIsr.isr],
    zkVersion: leaderIsr.zkVersion,
  };
}
