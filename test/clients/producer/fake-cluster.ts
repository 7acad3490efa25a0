/**
 * Scripted fake brokers for producer tests: processes that answer Metadata from a shared, mutable cluster
 * description, InitProducerId with a fixed producer id, and Produce (any number of partitions and records) by
 * appending to an in-memory log per partition — with optional broker-style sequence checks (the last five
 * batches per producer, as ProducerStateEntry keeps), a response delay, and a per-partition behaviour hook
 * (an error, appending first or not, or silence). Every Produce received is recorded with its virtual time.
 */

import type { RecordBatch } from "../../../src/broker/log/records.ts";
import type {
  InitProducerIdRequest,
  InitProducerIdResponse,
  KafkaError,
  MetadataRequest,
  MetadataResponse,
  ProducePartitionResponse,
  ProduceRequest,
  ProduceResponse,
} from "../../../src/protocol/kafka.ts";
import type { HostDisk, Message, Process, ProcessContext } from "../../../src/sim/host.ts";
import { ms } from "../../../src/sim/time.ts";
import { World } from "../../../src/sim/world.ts";
import { Network } from "../../../src/net/network.ts";

export const TOPIC = "t";
export const PRODUCER_ID = 1000;

export interface ReceivedBatch {
  partition: number;
  values: (string | null)[];
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
}

export interface ReceivedProduce {
  t: number;
  broker: number;
  correlationId: number;
  acks: number;
  batches: ReceivedBatch[];
}

export type Behaviour = "normal" | "silent" | { error: KafkaError; append: boolean; logStartOffset?: number };

export interface LogEntry {
  value: string | null;
  producerId: number;
  producerEpoch: number;
  sequence: number;
}

interface ProducerEntry {
  epoch: number;
  /** Last five batches: first and last sequence, base offset. */
  batches: { first: number; last: number; offset: number }[];
}

export class FakeCluster {
  brokers: number[];
  /** partition → leader broker id (-1: none). */
  leaders: number[];
  leaderEpochs: number[];
  topicError: KafkaError = "NONE";
  readonly logs = new Map<number, LogEntry[]>();
  readonly produces: ReceivedProduce[] = [];
  metadataRequests = 0;
  initProducerIdRequests = 0;
  /** Broker-style duplicate detection and sequence validation for idempotent batches. */
  sequenceChecks = true;
  responseDelayMs = 0;
  /** Per-partition behaviour of a Produce (attempt = how many batches with the same first value came before). */
  behaviour: (broker: number, partition: number, batch: RecordBatch, attempt: number) => Behaviour = () => "normal";
  /** Produce requests received and not answered yet, per broker (for in-flight checks). */
  readonly outstanding = new Map<number, number>();
  maxOutstanding = 0;
  private readonly producers = new Map<number, Map<number, ProducerEntry>>();

  constructor(partitions: number, brokers = [1, 2]) {
    this.brokers = brokers;
    this.leaders = Array.from({ length: partitions }, (_, i) => brokers[i % brokers.length]);
    this.leaderEpochs = Array.from({ length: partitions }, () => 0);
  }

  log(partition: number): (string | null)[] {
    return (this.logs.get(partition) ?? []).map((e) => e.value);
  }

  /** Moves a partition's leadership (a new leader epoch). */
  moveLeader(partition: number, leader: number): void {
    this.leaders[partition] = leader;
    this.leaderEpochs[partition]++;
  }

  metadata(correlationId: number, topics: string[] | null = null): MetadataResponse {
    const response: MetadataResponse = {
      type: "MetadataResponse",
      correlationId,
      brokers: this.brokers.map((nodeId) => ({ nodeId, host: `broker-${nodeId}` })),
      controllerId: this.brokers[0],
      topics: [
        {
          name: TOPIC,
          error: this.topicError,
          partitions:
            this.topicError !== "NONE"
              ? []
              : this.leaders.map((leader, partition) => ({
                  partition,
                  error: leader < 0 ? "LEADER_NOT_AVAILABLE" : "NONE",
                  leader,
                  leaderEpoch: this.leaderEpochs[partition],
                  replicas: this.brokers,
                  isr: this.brokers,
                  offlineReplicas: [],
                })),
        },
      ],
    };
    return topics === null || topics.includes(TOPIC) ? response : { ...response, topics: [] };
  }

  /** Appends (with sequence checks when enabled): the partition response. */
  append(partition: number, batch: RecordBatch): { error: KafkaError; baseOffset: number } {
    const log = this.logs.get(partition) ?? [];
    this.logs.set(partition, log);
    const count = batch.records.length;
    if (this.sequenceChecks && batch.producerId >= 0) {
      const perPartition = this.producers.get(partition) ?? new Map<number, ProducerEntry>();
      this.producers.set(partition, perPartition);
      const entry = perPartition.get(batch.producerId);
      const last = batch.baseSequence + count - 1;
      if (entry !== undefined && batch.producerEpoch < entry.epoch) return { error: "INVALID_PRODUCER_EPOCH", baseOffset: -1 };
      if (entry !== undefined && batch.producerEpoch === entry.epoch) {
        const duplicate = entry.batches.find((b) => b.first === batch.baseSequence && b.last === last);
        if (duplicate !== undefined) return { error: "NONE", baseOffset: duplicate.offset };
        const lastSeq = entry.batches.at(-1)?.last ?? -1;
        if (batch.baseSequence !== lastSeq + 1) return { error: "OUT_OF_ORDER_SEQUENCE_NUMBER", baseOffset: -1 };
      } else if (batch.baseSequence !== 0 && entry !== undefined) {
        return { error: "OUT_OF_ORDER_SEQUENCE_NUMBER", baseOffset: -1 };
      }
      // An unknown producer's first batch is accepted with any sequence (ProducerAppendInfo.checkSequence).
      const next: ProducerEntry = entry !== undefined && entry.epoch === batch.producerEpoch ? entry : { epoch: batch.producerEpoch, batches: [] };
      next.batches.push({ first: batch.baseSequence, last, offset: log.length });
      if (next.batches.length > 5) next.batches.shift();
      perPartition.set(batch.producerId, next);
    }
    const baseOffset = log.length;
    batch.records.forEach((r, i) => log.push({ value: r.value, producerId: batch.producerId, producerEpoch: batch.producerEpoch, sequence: batch.baseSequence + i }));
    return { error: "NONE", baseOffset };
  }
}

export class FakeBroker implements Process {
  constructor(
    private readonly context: ProcessContext,
    private readonly brokerId: number,
    private readonly cluster: FakeCluster,
  ) {}

  onStart(): void {}

  onTimer(_tag: string, data: unknown): void {
    const { to, response } = data as { to: string; response: ProduceResponse };
    this.respond(to, response);
  }

  onMessage(from: string, message: Message): void {
    if (message.type === "Metadata") {
      this.cluster.metadataRequests++;
      this.context.send(from, this.cluster.metadata((message as MetadataRequest).correlationId, (message as MetadataRequest).topics));
    } else if (message.type === "InitProducerId") {
      this.cluster.initProducerIdRequests++;
      const response: InitProducerIdResponse = {
        type: "InitProducerIdResponse",
        correlationId: (message as InitProducerIdRequest).correlationId,
        error: "NONE",
        producerId: PRODUCER_ID,
        producerEpoch: 0,
      };
      this.context.send(from, response);
    } else if (message.type === "Produce") {
      this.onProduce(from, message as ProduceRequest);
    }
  }

  private onProduce(from: string, request: ProduceRequest): void {
    const cluster = this.cluster;
    cluster.produces.push({
      t: this.context.now(),
      broker: this.brokerId,
      correlationId: request.correlationId,
      acks: request.acks,
      batches: request.partitions.map(({ partition, batch }) => ({
        partition,
        values: batch.records.map((r) => r.value),
        producerId: batch.producerId,
        producerEpoch: batch.producerEpoch,
        baseSequence: batch.baseSequence,
      })),
    });
    let silent = false;
    const partitions: ProducePartitionResponse[] = request.partitions.map(({ topic, partition, batch }) => {
      const first = batch.records[0]?.value;
      const attempt = cluster.produces.filter((p) => p.batches.some((b) => b.values[0] === first)).length - 1;
      const behaviour = cluster.behaviour(this.brokerId, partition, batch, attempt);
      if (behaviour === "silent") silent = true;
      let error: KafkaError = "NONE";
      let append = true;
      let logStartOffset = 0;
      if (behaviour !== "normal" && behaviour !== "silent") ({ error, append, logStartOffset = 0 } = behaviour);
      if (behaviour === "normal" && cluster.leaders[partition] !== this.brokerId) {
        error = "NOT_LEADER_OR_FOLLOWER";
        append = false;
      }
      let baseOffset = -1;
      if (append) {
        const result = cluster.append(partition, batch);
        if (error === "NONE") error = result.error;
        baseOffset = result.baseOffset;
      }
      return { topic, partition, error, baseOffset: error === "NONE" ? baseOffset : -1, logStartOffset };
    });
    if (silent || request.acks === 0) return;
    const response: ProduceResponse = { type: "ProduceResponse", correlationId: request.correlationId, partitions };
    const outstanding = (cluster.outstanding.get(this.brokerId) ?? 0) + 1;
    cluster.outstanding.set(this.brokerId, outstanding);
    cluster.maxOutstanding = Math.max(cluster.maxOutstanding, outstanding);
    if (cluster.responseDelayMs > 0) this.context.setTimer(ms(cluster.responseDelayMs), "respond", { to: from, response });
    else this.respond(from, response);
  }

  private respond(to: string, response: ProduceResponse): void {
    this.cluster.outstanding.set(this.brokerId, (this.cluster.outstanding.get(this.brokerId) ?? 1) - 1);
    this.context.send(to, response);
  }
}

export const diskStub: HostDisk = { onCrash() {}, onPowerLoss() {} };

/** A world with a constant 1 ms latency network and fake brokers broker-1 … broker-3. */
export function fakeWorld(cluster: FakeCluster, seed = 1): World {
  const world = new World(seed);
  new Network(world, { latency: { dist: "constant", us: 1000 } });
  for (const id of [1, 2, 3]) world.addHost(`broker-${id}`, diskStub, (context) => new FakeBroker(context, id, cluster)).start();
  return world;
}
