/**
 * How a leader's ISR change becomes official, by `compat.isrUpdate`:
 * - "zk-direct" (before 2.7; Partition.updateIsr, ReplicationUtils.updateLeaderAndIsr): the leader writes the
 *   partition state znode itself, conditional on its cached zkVersion; BADVERSION ("Cached zkVersion not equal
 *   to that in zookeeper, skip updating ISR") keeps the old ISR unless the znode already holds the proposal
 *   (checkLeaderAndIsrZkData). Changes are announced to the controller through sequential
 *   /isr_change_notification/isr_change_ znodes (ReplicaManager.maybePropagateIsrChanges).
 * - "alter-isr" (KIP-497, 2.7+; AlterIsrManager): the proposal goes to the controller in an AlterIsr request,
 *   one in flight, retried on timeouts and top-level errors; the controller's answer is adopted.
 * Simplifications: Kafka's ZooKeeper write blocks the request thread; here it is asynchronous and the partition
 * holds a pending ISR (as AlterIsr's IsrState does) until the answer. Connection losses are retried a bounded
 * number of times.
 */

import type { AlterIsrRequest, AlterIsrResponse } from "../../protocol/kafka.ts";
import { topicPartitionKey } from "../../protocol/kafka.ts";
import type { ZkReply } from "../../protocol/zk.ts";
import type { TimerId } from "../../sim/kernel.ts";
import { ms } from "../../sim/time.ts";
import type { BrokerServices } from "../services.ts";
import {
  decodePartitionState,
  encodePartitionList,
  encodePartitionState,
  ISR_CHANGE_NOTIFICATION_PATH,
  ISR_CHANGE_NOTIFICATION_PREFIX,
  partitionStatePath,
} from "../zk-data.ts";
import type { Partition, PendingIsr } from "./partition.ts";

export type IsrUpdateOutcome =
  | { ok: true; isr: number[]; zkVersion: number }
  /** revert: back to the committed ISR (another change may be proposed); otherwise stay pending (give up). */
  | { ok: false; reason: string; revert: boolean };

export type IsrUpdateCallback = (partition: Partition, pending: PendingIsr, outcome: IsrUpdateOutcome) => void;

export interface IsrUpdater {
  submit(partition: Partition, pending: PendingIsr): void;
  /** A LeaderAndIsr reset the partition's state: forget an unsent proposal. */
  clearPending(topicPartition: string): void;
  onTimer(tag: string, data: unknown): boolean;
  onAlterIsrResponse(response: AlterIsrResponse): void;
  shutdown(): void;
}

/** ReplicaManager.IsrChangePropagationBlackOut / IsrChangePropagationInterval. */
export const ISR_CHANGE_PROPAGATION_BLACKOUT_MS = 5000;
export const ISR_CHANGE_PROPAGATION_MAX_INTERVAL_MS = 60_000;
/** Re-issues of a conditional ISR write after a connection loss. */
const ZK_WRITE_ATTEMPTS_MAX = 5;
const TAG_PROPAGATE = "replica:isr-change-propagation";

export class ZkIsrWriter implements IsrUpdater {
  /** Partitions whose ISR changed since the last notification, in order of change. */
  private readonly isrChangeSet = new Map<string, { topic: string; partition: number }>();
  private lastIsrChangeMs = 0;
  private lastIsrPropagationMs: number;
  private propagationTimer: TimerId | null = null;
  private stopped = false;

  constructor(
    private readonly services: BrokerServices,
    private readonly callback: IsrUpdateCallback,
  ) {
    this.lastIsrPropagationMs = services.nowMs();
  }

  /** Arms the isr-change-propagation task (every isr.change.propagation.interval.ms). */
  startup(): void {
    this.schedulePropagation();
  }

  submit(partition: Partition, pending: PendingIsr): void {
    this.write(partition, pending, 1);
  }

  private write(partition: Partition, pending: PendingIsr, attempt: number): void {
    const path = partitionStatePath(partition.topic, partition.partition);
    const proposed = { leader: partition.brokerId, leaderEpoch: pending.leaderEpoch, isr: pending.proposedIsr, controllerEpoch: partition.controllerEpoch };
    this.services.zk().setData(path, encodePartitionState(proposed), partition.zkVersion, (reply) => {
      if (this.stopped || partition.pendingIsr !== pending) return;
      switch (reply.code) {
        case "OK":
          this.succeed(partition, pending, reply.stat!.version);
          return;
        case "BADVERSION":
          this.services.zk().getData(path, false, (read) => {
            if (this.stopped || partition.pendingIsr !== pending) return;
            if (holds(read, proposed)) this.succeed(partition, pending, read.stat!.version);
            else this.callback(partition, pending, { ok: false, reason: "Cached zkVersion not equal to that in zookeeper, skip updating ISR", revert: true });
          });
          return;
        case "CONNECTIONLOSS":
        case "OPERATIONTIMEOUT":
        case "REQUESTTIMEOUT":
          if (attempt < ZK_WRITE_ATTEMPTS_MAX) {
            this.write(partition, pending, attempt + 1);
            return;
          }
          break;
        default:
          break;
      }
      this.callback(partition, pending, { ok: false, reason: reply.code, revert: true });
    });
  }

  private succeed(partition: Partition, pending: PendingIsr, zkVersion: number): void {
    this.isrChangeSet.set(partition.topicPartition, { topic: partition.topic, partition: partition.partition });
    this.lastIsrChangeMs = this.services.nowMs();
    this.callback(partition, pending, { ok: true, isr: pending.proposedIsr, zkVersion });
  }

  clearPending(): void {}

  onAlterIsrResponse(): void {}

  onTimer(tag: string): boolean {
    if (tag !== TAG_PROPAGATE) return false;
    this.propagationTimer = null;
    if (this.stopped) return true;
    this.maybePropagateIsrChanges();
    this.schedulePropagation();
    return true;
  }

  /** ReplicaManager.maybePropagateIsrChanges: batch changes, at most every 5 s of quiet or every 60 s. */
  maybePropagateIsrChanges(): void {
    const now = this.services.nowMs();
    if (this.isrChangeSet.size === 0) return;
    if (this.lastIsrChangeMs + ISR_CHANGE_PROPAGATION_BLACKOUT_MS >= now && this.lastIsrPropagationMs + ISR_CHANGE_PROPAGATION_MAX_INTERVAL_MS >= now) return;
    const partitions = [...this.isrChangeSet.values()];
    this.isrChangeSet.clear();
    this.lastIsrPropagationMs = now;
    const path = `${ISR_CHANGE_NOTIFICATION_PATH}/${ISR_CHANGE_NOTIFICATION_PREFIX}`;
    this.services.zk().create(path, encodePartitionList(partitions), { sequential: true }, () => {});
  }

  shutdown(): void {
    this.stopped = true;
    if (this.propagationTimer !== null) this.services.context.cancelTimer(this.propagationTimer);
    this.propagationTimer = null;
  }

  private schedulePropagation(): void {
    if (this.stopped || this.propagationTimer !== null) return;
    this.propagationTimer = this.services.context.setTimer(ms(this.services.config["isr.change.propagation.interval.ms"]), TAG_PROPAGATE);
  }
}

function holds(read: ZkReply, proposed: { leader: number; leaderEpoch: number; isr: number[]; controllerEpoch: number }): boolean {
  if (read.code !== "OK" || read.data === undefined || read.stat === undefined || read.stat === null) return false;
  const state = decodePartitionState(read.data);
  return (
    state !== null &&
    state.leader === proposed.leader &&
    state.leaderEpoch === proposed.leaderEpoch &&
    state.controllerEpoch === proposed.controllerEpoch &&
    state.isr.length === proposed.isr.length &&
    state.isr.every((id, i) => id === proposed.isr[i])
  );
}

/** BrokerToControllerChannelManager's retry backoff after a failed AlterIsr (Kafka: 50 ms). */
export const ALTER_ISR_RETRY_BACKOFF_MS = 50;
const TAG_ALTER_ISR_RETRY = "replica:alter-isr-retry";
const TAG_ALTER_ISR_TIMEOUT = "replica:alter-isr-timeout";

interface AlterIsrItem {
  readonly partition: Partition;
  readonly pending: PendingIsr;
}

export class AlterIsrManager implements IsrUpdater {
  /** Proposals not yet answered, one per partition (sent again after a failure). */
  private readonly unsent = new Map<string, AlterIsrItem>();
  private inflight: { correlationId: number; items: AlterIsrItem[]; timer: TimerId } | null = null;
  private retryTimer: TimerId | null = null;
  private stopped = false;

  constructor(
    private readonly services: BrokerServices,
    private readonly callback: IsrUpdateCallback,
  ) {}

  submit(partition: Partition, pending: PendingIsr): void {
    this.unsent.set(partition.topicPartition, { partition, pending });
    this.maybeSend();
  }

  clearPending(topicPartition: string): void {
    this.unsent.delete(topicPartition);
  }

  private maybeSend(): void {
    if (this.stopped || this.inflight !== null || this.retryTimer !== null || this.unsent.size === 0) return;
    const controllerId = this.services.metadataCache.controllerId;
    if (controllerId < 0) {
      this.retryLater();
      return;
    }
    const items = [...this.unsent.values()];
    const correlationId = this.services.nextCorrelationId();
    const request: AlterIsrRequest = {
      type: "AlterIsr",
      correlationId,
      brokerId: this.services.brokerId,
      brokerEpoch: this.services.brokerEpoch(),
      partitions: items.map(({ partition, pending }) => ({
        topic: partition.topic,
        partition: partition.partition,
        leaderEpoch: pending.leaderEpoch,
        newIsr: pending.proposedIsr,
        partitionEpoch: partition.zkVersion,
      })),
      sizeBytes: 64 + 24 * items.length,
    };
    const timer = this.services.context.setTimer(ms(this.services.config["controller.socket.timeout.ms"]), TAG_ALTER_ISR_TIMEOUT, correlationId);
    this.inflight = { correlationId, items, timer };
    this.services.sendToBroker(controllerId, request);
  }

  private retryLater(): void {
    if (this.stopped || this.retryTimer !== null) return;
    this.retryTimer = this.services.context.setTimer(ms(ALTER_ISR_RETRY_BACKOFF_MS), TAG_ALTER_ISR_RETRY);
  }

  onTimer(tag: string, data: unknown): boolean {
    if (tag === TAG_ALTER_ISR_RETRY) {
      this.retryTimer = null;
      this.maybeSend();
      return true;
    }
    if (tag !== TAG_ALTER_ISR_TIMEOUT) return false;
    if (this.inflight !== null && this.inflight.correlationId === data) {
      this.inflight = null;
      this.retryLater();
    }
    return true;
  }

  /** AlterIsrManager.handleAlterIsrResponse and Partition.handleAlterIsrResponse. */
  onAlterIsrResponse(response: AlterIsrResponse): void {
    const inflight = this.inflight;
    if (this.stopped || inflight === null || inflight.correlationId !== response.correlationId) return;
    this.services.context.cancelTimer(inflight.timer);
    this.inflight = null;
    if (response.error !== "NONE") {
      // NOT_CONTROLLER, STALE_BROKER_EPOCH…: everything is sent again, to the controller then known.
      this.retryLater();
      return;
    }
    for (const item of inflight.items) {
      const key = item.partition.topicPartition;
      const answer = response.partitions.find((p) => topicPartitionKey(p.topic, p.partition) === key);
      if (this.unsent.get(key) === item) this.unsent.delete(key);
      if (item.partition.pendingIsr !== item.pending) continue;
      if (answer === undefined) {
        this.callback(item.partition, item.pending, { ok: false, reason: "UNKNOWN_SERVER_ERROR", revert: true });
      } else if (answer.error === "NONE") {
        if (answer.leaderEpoch !== item.partition.leaderEpoch || answer.partitionEpoch < item.partition.zkVersion) {
          this.callback(item.partition, item.pending, { ok: false, reason: "stale answer", revert: false });
        } else {
          this.callback(item.partition, item.pending, { ok: true, isr: [...answer.isr], zkVersion: answer.partitionEpoch });
        }
      } else if (answer.error === "OPERATION_NOT_ATTEMPTED" || answer.error === "INELIGIBLE_REPLICA") {
        // Partition.handleAlterPartitionError (3.3+): the controller did not apply it; back to the committed state.
        this.callback(item.partition, item.pending, { ok: false, reason: answer.error, revert: true });
      } else if (answer.error === "UNKNOWN_TOPIC_OR_PARTITION" || answer.error === "FENCED_LEADER_EPOCH" || answer.error === "INVALID_UPDATE_VERSION") {
        // Giving up: the partition stays pending until a LeaderAndIsr resets it.
        this.callback(item.partition, item.pending, { ok: false, reason: answer.error, revert: false });
      } else if (!this.unsent.has(key)) {
        this.unsent.set(key, item);
      }
    }
    this.maybeSend();
  }

  shutdown(): void {
    this.stopped = true;
    if (this.inflight !== null) this.services.context.cancelTimer(this.inflight.timer);
    if (this.retryTimer !== null) this.services.context.cancelTimer(this.retryTimer);
    this.inflight = null;
    this.retryTimer = null;
    this.unsent.clear();
  }
}

