/**
 * A scripted fake Kafka cluster for consumer tests: brokers on the virtual network that answer Metadata, Fetch
 * (KIP-320 epoch check, leadership check, reads up to the HW, long-poll up to maxWaitMs while nothing is
 * readable), ListOffsets and OffsetsForLeaderEpoch (KIP-279 answer from a leader-epoch list) from one shared,
 * mutable description of each partition's leader log. Tests change the cluster between kernel runs and call
 * `changed()` to complete parked fetches.
 */

import { makeBatch, type RecordBatch } from "../../../src/broker/log/records.ts";
import {
  EARLIEST_TIMESTAMP,
  LATEST_TIMESTAMP,
  type FetchRequest,
  type FetchResponse,
  type KafkaError,
  type ListOffsetsRequest,
  type ListOffsetsResponse,
  type MetadataRequest,
  type MetadataResponse,
  type OffsetsForLeaderEpochRequest,
  type OffsetsForLeaderEpochResponse,
} from "../../../src/protocol/kafka.ts";
import type { Message, Process, ProcessContext } from "../../../src/sim/host.ts";
import type { TimerId } from "../../../src/sim/kernel.ts";
import { ms } from "../../../src/sim/time.ts";

export interface FakePartition {
  leader: number;
  leaderEpoch: number;
  /** The leader's log: record at offset logStartOffset + i. */
  records: { value: string; epoch: number }[];
  logStartOffset: number;
  highWatermark: number;
  /** The leader-epoch cache: [epoch, startOffset], ascending. */
  epochStarts: [number, number][];
  /** What Metadata answers instead of the truth (a broker behind or ahead). */
  metadata?: { leader: number; leaderEpoch: number };
}

export interface SeenRequest {
  broker: number;
  time: number;
  request: Message;
}

export class FakeCluster {
  readonly partitions: FakePartition[];
  readonly requests: SeenRequest[] = [];
  readonly brokers: FakeBroker[] = [];
  /** Brokers that stay silent (a crashed or partitioned host). */
  readonly silent = new Set<number>();

  constructor(
    partitionCount: number,
    readonly brokerIds = [1, 2, 3],
    readonly topic = "t",
  ) {
    this.partitions = Array.from({ length: partitionCount }, (_, i) => ({
      leader: brokerIds[i % brokerIds.length],
      leaderEpoch: 0,
      records: [],
      logStartOffset: 0,
      highWatermark: 0,
      epochStarts: [[0, 0]],
    }));
  }

  logEndOffset(partition: number): number {
    const p = this.partitions[partition];
    return p.logStartOffset + p.records.length;
  }

  /** The leader appends values at its epoch; committed (HW = LEO) unless told otherwise. */
  append(partition: number, values: string[], commit = true): this {
    const p = this.partitions[partition];
    for (const value of values) p.records.push({ value, epoch: p.leaderEpoch });
    if (commit) p.highWatermark = this.logEndOffset(partition);
    return this;
  }

  /** A new leader at the next epoch, its log truncated to `truncateTo` first (an unclean election) when given. */
  elect(partition: number, leader: number, truncateTo?: number): this {
    const p = this.partitions[partition];
    if (truncateTo !== undefined) {
      p.records.length = truncateTo - p.logStartOffset;
      p.epochStarts = p.epochStarts.filter(([, start]) => start < truncateTo || start === 0);
      p.highWatermark = Math.min(p.highWatermark, truncateTo);
    }
    p.leader = leader;
    p.leaderEpoch++;
    p.epochStarts.push([p.leaderEpoch, this.logEndOffset(partition)]);
    return this;
  }

  /** Answers parked fetches that can now be answered. */
  changed(): void {
    for (const broker of this.brokers) broker.wake();
  }

  seen(type: string, broker?: number): SeenRequest[] {
    return this.requests.filter((r) => r.request.type === type && (broker === undefined || r.broker === broker));
  }

  /** KIP-279: the largest epoch ≤ asked and its end offset. */
  endOffsetFor(partition: number, epoch: number): { leaderEpoch: number; endOffset: number } {
    const p = this.partitions[partition];
    let found = -1;
    for (let i = 0; i < p.epochStarts.length; i++) if (p.epochStarts[i][0] <= epoch) found = i;
    if (found < 0) return { leaderEpoch: -1, endOffset: -1 };
    const next = p.epochStarts[found + 1];
    return { leaderEpoch: p.epochStarts[found][0], endOffset: next === undefined ? this.logEndOffset(partition) : next[1] };
  }
}

interface Parked {
  readonly from: string;
  readonly request: FetchRequest;
  readonly timer: TimerId;
}

export class FakeBroker implements Process {
  private parked: Parked[] = [];

  constructor(
    private readonly context: ProcessContext,
    readonly brokerId: number,
    private readonly cluster: FakeCluster,
  ) {
    cluster.brokers.push(this);
  }

  onStart(): void {}

  onTimer(tag: string, data: unknown): void {
    if (tag !== "fetch-wait") return;
    const parked = this.parked.find((p) => p.request === data);
    if (parked === undefined) return;
    this.parked = this.parked.filter((p) => p !== parked);
    this.answerFetch(parked.from, parked.request);
  }

  onMessage(from: string, message: Message): void {
    this.cluster.requests.push({ broker: this.brokerId, time: this.context.now(), request: message });
    if (this.cluster.silent.has(this.brokerId)) return;
    if (message.type === "Metadata") this.onMetadata(from, message as MetadataRequest);
    else if (message.type === "Fetch") this.onFetch(from, message as FetchRequest);
    else if (message.type === "ListOffsets") this.onListOffsets(from, message as ListOffsetsRequest);
    else if (message.type === "OffsetsForLeaderEpoch") this.onEpochs(from, message as OffsetsForLeaderEpochRequest);
  }

  wake(): void {
    for (const parked of [...this.parked]) {
      if (!this.readable(parked.request)) continue;
      this.context.cancelTimer(parked.timer);
      this.parked = this.parked.filter((p) => p !== parked);
      this.answerFetch(parked.from, parked.request);
    }
  }

  private check(partition: number, currentLeaderEpoch: number): KafkaError {
    const p = this.cluster.partitions[partition];
    if (p === undefined) return "UNKNOWN_TOPIC_OR_PARTITION";
    if (currentLeaderEpoch >= 0 && currentLeaderEpoch < p.leaderEpoch) return "FENCED_LEADER_EPOCH";
    if (currentLeaderEpoch > p.leaderEpoch) return "UNKNOWN_LEADER_EPOCH";
    if (p.leader !== this.brokerId) return "NOT_LEADER_OR_FOLLOWER";
    return "NONE";
  }

  private onMetadata(from: string, request: MetadataRequest): void {
    const response: MetadataResponse = {
      type: "MetadataResponse",
      correlationId: request.correlationId,
      brokers: this.cluster.brokerIds.map((nodeId) => ({ nodeId, host: `broker-${nodeId}` })),
      controllerId: this.cluster.brokerIds[0],
      topics: [
        {
          name: this.cluster.topic,
          error: "NONE",
          partitions: this.cluster.partitions.map((p, partition) => {
            const { leader, leaderEpoch } = p.metadata ?? p;
            return { partition, error: leader < 0 ? "LEADER_NOT_AVAILABLE" : "NONE", leader, leaderEpoch, replicas: this.cluster.brokerIds, isr: this.cluster.brokerIds, offlineReplicas: [] };
          }),
        },
      ],
    };
    this.context.send(from, response);
  }

  /** Some partition has records to return or an error to report. */
  private readable(request: FetchRequest): boolean {
    return request.partitions.some((f) => {
      if (this.check(f.partition, f.currentLeaderEpoch) !== "NONE") return true;
      const p = this.cluster.partitions[f.partition];
      return f.fetchOffset < p.logStartOffset || f.fetchOffset > this.cluster.logEndOffset(f.partition) || f.fetchOffset < p.highWatermark;
    });
  }

  private onFetch(from: string, request: FetchRequest): void {
    if (this.readable(request) || request.maxWaitMs === 0) {
      this.answerFetch(from, request);
      return;
    }
    const timer = this.context.setTimer(ms(request.maxWaitMs), "fetch-wait", request);
    this.parked.push({ from, request, timer });
  }

  private answerFetch(from: string, request: FetchRequest): void {
    const response: FetchResponse = {
      type: "FetchResponse",
      correlationId: request.correlationId,
      error: "NONE",
      partitions: request.partitions.map((f) => {
        const p = this.cluster.partitions[f.partition];
        const base = { topic: f.topic, partition: f.partition, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, batches: [] as RecordBatch[] };
        const error = this.check(f.partition, f.currentLeaderEpoch);
        if (error !== "NONE") return { ...base, error };
        if (f.fetchOffset < p.logStartOffset || f.fetchOffset > this.cluster.logEndOffset(f.partition)) return { ...base, error: "OFFSET_OUT_OF_RANGE" as KafkaError };
        const batches: RecordBatch[] = [];
        for (let offset = f.fetchOffset; offset < p.highWatermark; offset++) {
          const record = p.records[offset - p.logStartOffset];
          batches.push(makeBatch({ baseOffset: offset, partitionLeaderEpoch: record.epoch, records: [{ key: null, value: record.value, timestamp: 0 }] }));
        }
        return { ...base, error: "NONE" as KafkaError, highWatermark: p.highWatermark, lastStableOffset: p.highWatermark, logStartOffset: p.logStartOffset, batches };
      }),
    };
    this.context.send(from, response);
  }

  private onListOffsets(from: string, request: ListOffsetsRequest): void {
    const response: ListOffsetsResponse = {
      type: "ListOffsetsResponse",
      correlationId: request.correlationId,
      partitions: request.partitions.map((asked) => {
        const p = this.cluster.partitions[asked.partition];
        const error = this.check(asked.partition, asked.currentLeaderEpoch);
        if (error !== "NONE") return { topic: asked.topic, partition: asked.partition, error, timestamp: -1, offset: -1, leaderEpoch: -1 };
        const offset = asked.timestamp === EARLIEST_TIMESTAMP ? p.logStartOffset : asked.timestamp === LATEST_TIMESTAMP ? p.highWatermark : -1;
        return { topic: asked.topic, partition: asked.partition, error, timestamp: -1, offset, leaderEpoch: p.leaderEpoch };
      }),
    };
    this.context.send(from, response);
  }

  private onEpochs(from: string, request: OffsetsForLeaderEpochRequest): void {
    const response: OffsetsForLeaderEpochResponse = {
      type: "OffsetsForLeaderEpochResponse",
      correlationId: request.correlationId,
      partitions: request.partitions.map((asked) => {
        const error = this.check(asked.partition, asked.currentLeaderEpoch);
        if (error !== "NONE") return { topic: asked.topic, partition: asked.partition, error, leaderEpoch: -1, endOffset: -1 };
        return { topic: asked.topic, partition: asked.partition, error, ...this.cluster.endOffsetFor(asked.partition, asked.leaderEpoch) };
      }),
    };
    this.context.send(from, response);
  }
}
