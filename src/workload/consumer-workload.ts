/**
 * The consumer workload of a scenario's `{"type": "consumer", "topics": [...]}` client without a group: a
 * process that owns one KafkaConsumer, learns its topics' partitions from metadata, assigns every partition
 * (again when a topic grows) and polls until the run ends — through the settle phase, so its history reads every
 * committed record. Its history (trace kind "op", f "poll") is written by the consumer. auto.offset.reset
 * defaults to "earliest" here (Kafka's default is "latest") so the workload reads each partition from its start.
 */

import { consumerConfig, type ConsumerConfig } from "../clients/consumer/config.ts";
import { KafkaConsumer } from "../clients/consumer/consumer.ts";
import type { TopicPartitionRef } from "../protocol/kafka.ts";
import { assert } from "../sim/assert.ts";
import type { HostDisk, Message, Process, ProcessContext } from "../sim/host.ts";

export interface ConsumerWorkloadConfig {
  /** Broker host names (bootstrap.servers). */
  readonly bootstrap: readonly string[];
  readonly topics: readonly string[];
  /** The scenario client's `config`: Java consumer configs; unset keys take Kafka's defaults (but auto.offset.reset "earliest"). */
  readonly config?: { readonly [K in keyof ConsumerConfig]?: ConsumerConfig[K] | undefined };
}

export class ConsumerWorkload implements Process {
  readonly consumer: KafkaConsumer;
  private readonly partitionCounts = new Map<string, number>();
  /** Records read so far (every ok poll's records). */
  recordsRead = 0;

  constructor(
    private readonly context: ProcessContext<HostDisk>,
    private readonly workload: ConsumerWorkloadConfig,
  ) {
    assert(workload.topics.length > 0, "a consumer workload reads at least one topic");
    const config = consumerConfig(context.node, { ...workload.config, "auto.offset.reset": workload.config?.["auto.offset.reset"] ?? "earliest" });
    this.consumer = new KafkaConsumer(context, { bootstrap: workload.bootstrap, config }, {
      onPartitions: (topic, count) => this.onPartitions(topic, count),
      onRecords: (_state, offsets) => {
        this.recordsRead += offsets.length;
      },
    });
  }

  /** The consumer's client.id. */
  get clientId(): string {
    return this.consumer.config["client.id"];
  }

  onStart(): void {
    this.consumer.start();
    this.consumer.partitionsFor(this.workload.topics);
  }

  onMessage(from: string, message: Message): void {
    this.consumer.onMessage(from, message);
  }

  /** Process.onConnectionRefused: a broker's process is gone; its requests in flight fail at once (KafkaConsumer.onDisconnect). */
  onConnectionRefused(peer: string): void {
    this.consumer.onDisconnect(peer);
  }

  onTimer(tag: string, data: unknown): void {
    const handled = this.consumer.onTimer(tag, data);
    assert(handled, `unknown consumer workload timer ${tag}`);
  }

  private onPartitions(topic: string, count: number): void {
    if ((this.partitionCounts.get(topic) ?? 0) >= count) return;
    this.partitionCounts.set(topic, count);
    const partitions: TopicPartitionRef[] = [];
    for (const name of this.workload.topics) {
      const known = this.partitionCounts.get(name) ?? 0;
      for (let partition = 0; partition < known; partition++) partitions.push({ topic: name, partition });
    }
    this.consumer.assign(partitions);
  }
}
