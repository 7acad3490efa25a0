/**
 * A scripted fake Kafka broker for client tests: a process on the virtual network that answers Metadata from a
 * shared, mutable cluster description and Produce by appending to an in-memory log per partition — or by
 * whatever `produceBehaviour` says (an error, silence).
 */

import type {
  KafkaError,
  MetadataRequest,
  MetadataResponse,
  ProduceRequest,
  ProduceResponse,
} from "../../src/protocol/kafka.ts";
import type { Message, Process, ProcessContext } from "../../src/sim/host.ts";

export interface FakeCluster {
  brokers: number[];
  /** partition → leader broker id (-1: none). */
  leaders: number[];
  /** Topic error answered by Metadata (UNKNOWN_TOPIC_OR_PARTITION before creation). */
  topicError: KafkaError;
  /** Appended values per partition (the "log"). */
  logs: Map<number, string[]>;
  /** Every Produce a broker received: broker id, partition, value, acks. */
  produces: { broker: number; partition: number; value: string | null; acks: number }[];
  metadataRequests: number;
  /** What a broker does with a Produce: answer normally, answer an error (appending first when `append`), or stay silent. */
  produceBehaviour: (broker: number, partition: number, attempt: number) => { error: KafkaError; append: boolean } | "silent" | "normal";
}

export function fakeCluster(partitions: number, brokers = [1, 2]): FakeCluster {
  return {
    brokers,
    leaders: Array.from({ length: partitions }, (_, i) => brokers[i % brokers.length]),
    topicError: "NONE",
    logs: new Map(),
    produces: [],
    metadataRequests: 0,
    produceBehaviour: () => "normal",
  };
}

export class FakeBroker implements Process {
  constructor(
    private readonly context: ProcessContext,
    private readonly brokerId: number,
    private readonly cluster: FakeCluster,
    private readonly topic: string,
  ) {}

  onStart(): void {}
  onTimer(): void {}

  onMessage(from: string, message: Message): void {
    if (message.type === "Metadata") this.onMetadata(from, message as MetadataRequest);
    else if (message.type === "Produce") this.onProduce(from, message as ProduceRequest);
  }

  private onMetadata(from: string, request: MetadataRequest): void {
    this.cluster.metadataRequests++;
    const response: MetadataResponse = {
      type: "MetadataResponse",
      correlationId: request.correlationId,
      brokers: this.cluster.brokers.map((nodeId) => ({ nodeId, host: `broker-${nodeId}` })),
      controllerId: this.cluster.brokers[0],
      topics: [
        {
          name: this.topic,
          error: this.cluster.topicError,
          partitions:
            this.cluster.topicError !== "NONE"
              ? []
              : this.cluster.leaders.map((leader, partition) => ({
                  partition,
                  error: leader < 0 ? "LEADER_NOT_AVAILABLE" : "NONE",
                  leader,
                  leaderEpoch: 0,
                  replicas: this.cluster.brokers,
                  isr: this.cluster.brokers,
                  offlineReplicas: [],
                })),
        },
      ],
    };
    this.context.send(from, response);
  }

  private onProduce(from: string, request: ProduceRequest): void {
    const { partition, batch } = request.partitions[0];
    const value = batch.records[0].value;
    const attempt = this.cluster.produces.filter((p) => p.value === value).length;
    this.cluster.produces.push({ broker: this.brokerId, partition, value, acks: request.acks });
    const behaviour = this.cluster.produceBehaviour(this.brokerId, partition, attempt);
    if (behaviour === "silent") return;
    let error: KafkaError = "NONE";
    let append = true;
    if (behaviour !== "normal") ({ error, append } = behaviour);
    if (behaviour === "normal" && this.cluster.leaders[partition] !== this.brokerId) {
      error = "NOT_LEADER_OR_FOLLOWER";
      append = false;
    }
    let baseOffset = -1;
    if (append) {
      const log = this.cluster.logs.get(partition) ?? [];
      this.cluster.logs.set(partition, log);
      baseOffset = log.length;
      log.push(value ?? "");
    }
    if (request.acks === 0) return;
    const response: ProduceResponse = {
      type: "ProduceResponse",
      correlationId: request.correlationId,
      partitions: [{ topic: this.topic, partition, error, baseOffset: error === "NONE" ? baseOffset : -1, logStartOffset: 0 }],
    };
    this.context.send(from, response);
  }
}
