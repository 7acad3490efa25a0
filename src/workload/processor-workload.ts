/**
 * The processor: a consume-transform-produce client, as an application of Kafka Streams' shape runs it — one
 * KafkaConsumer in a group reading `input` and one KafkaProducer writing each record's derived value
 * (`${value}>${output}`, same key) to `output`. `processing.guarantee` (Kafka Streams' key):
 * - "exactly_once_v2" (default): per poll() a transaction — beginTransaction(), the derived records,
 *   sendOffsetsToTransaction(positions, consumer.groupMetadata()) (KIP-447), commitTransaction(). The consumer
 *   reads read_committed unless configured otherwise and never commits by itself. After an abortable error the
 *   application aborts and rewinds to the group's committed offsets (resetToLastCommittedPositions); after a
 *   fatal one (PRODUCER_FENCED: a newer instance with the same transactional.id) it closes both clients.
 * - "at_least_once": an idempotent producer; after the poll's records are acknowledged, commitSync() of the
 *   positions. A zombie or a failed commit re-processes records: duplicates in the output.
 *
 * History: the consumer's poll ops (with isolationLevel), one `txn` op per transaction with its output `sends`
 * ({topic, partition, value, offset}) and its `offsets` ({group, offsets: [{topic, partition, offset}]}), the
 * usual `process` ops; at_least_once records `txn`-less `produce` ops (f "emit") with the input → output pair.
 * Every op names `input` (topic, partition, offset, value) for the exactly-once checker.
 *
 * Simplifications: one process hosts both clients on one connection per broker (their correlation ids are kept
 * apart to route responses: the producer's start at 1e9); processMs per record is one timer before the
 * transaction; no punctuation, state stores or changelogs; a restarted process does nothing more (as the other
 * workloads).
 */

import type { KafkaVersion } from "../broker/config.ts";
import { assignorFor } from "../clients/consumer/assignors/index.ts";
import { consumerConfig, consumerConfigProblem, type ConsumerConfig } from "../clients/consumer/config.ts";
import { KafkaConsumer, type PollResult } from "../clients/consumer/consumer.ts";
import type { DrainedPartition } from "../clients/consumer/fetch-buffer.ts";
import { describeProducerConfig, resolveProducerConfig, type ProducerConfigInput } from "../clients/producer/config.ts";
import { KafkaProducer, type SendResult } from "../clients/producer/producer.ts";
import type { TransactionalState } from "../clients/producer/transactional.ts";
import { assert } from "../sim/assert.ts";
import type { HostDisk, Message, Process, ProcessContext } from "../sim/host.ts";
import { ms } from "../sim/time.ts";

export type ProcessingGuarantee = "exactly_once_v2" | "at_least_once";

export interface ProcessorWorkloadConfig {
  readonly bootstrap: readonly string[];
  readonly groupId: string;
  readonly input: string;
  readonly output: string;
  readonly guarantee: ProcessingGuarantee;
  readonly version: KafkaVersion;
  readonly consumer: { readonly [K in keyof ConsumerConfig]?: ConsumerConfig[K] | undefined };
  readonly producer: ProducerConfigInput;
  readonly processMs: number;
  readonly startAtMs?: number | undefined;
  readonly stopAtMs?: number | undefined;
}

/** The producer's correlation ids start here, the consumer's at 1: responses go to the client that asked. */
export const PRODUCER_FIRST_CORRELATION_ID = 1_000_000_000;

const TAG_START = "processor-start";
const TAG_STOP = "processor-stop";
const TAG_PROCESSED = "processor-processed";
const TAG_REPOLL = "processor-repoll";

/** The derived value written for an input value. */
export function derivedValue(value: string | null, output: string): string {
  return `${value ?? ""}>${output}`;
}

interface InputRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly value: string | null;
}

interface OutputRecord {
  readonly input: InputRecord;
  readonly value: string;
  partition: number;
  offset: number;
  error: string | null;
}

type AppState = "idle" | "initializing" | "polling" | "processing" | "transacting" | "waiting" | "stopped" | "closed";

export class ProcessorWorkload implements Process {
  readonly consumer: KafkaConsumer;
  readonly producer: KafkaProducer;
  private readonly txn: TransactionalState | null;
  private app: AppState = "idle";
  private transactions = 0;
  /** Records processed (written to the output) so far. */
  recordsProcessed = 0;

  constructor(
    private readonly context: ProcessContext<HostDisk>,
    private readonly workload: ProcessorWorkloadConfig,
  ) {
    const exactlyOnce = workload.guarantee === "exactly_once_v2";
    const overrides = workload.consumer;
    const config = consumerConfig(
      context.node,
      {
        ...overrides,
        "group.id": workload.groupId,
        "auto.offset.reset": overrides["auto.offset.reset"] ?? "earliest",
        "enable.auto.commit": false,
        "isolation.level": overrides["isolation.level"] ?? (exactlyOnce ? "read_committed" : "read_uncommitted"),
      },
      workload.version,
    );
    const problem = consumerConfigProblem(config);
    assert(problem === null, `processor ${context.node}: ${problem}`);
    const assignors = config["partition.assignment.strategy"].map((name) => {
      const assignor = assignorFor(name);
      assert(assignor !== null, `processor ${context.node}: unknown assignor ${name}`);
      return assignor;
    });
    this.consumer = new KafkaConsumer(context, { bootstrap: workload.bootstrap, config, assignors });
    const producerInput: ProducerConfigInput = exactlyOnce
      ? { acks: "all", ...workload.producer, "transactional.id": workload.producer["transactional.id"] ?? context.node }
      : { acks: "all", ...workload.producer };
    const resolved = resolveProducerConfig(workload.bootstrap, producerInput);
    assert(resolved.ok, `processor ${context.node}: ${resolved.ok ? "" : resolved.error}`);
    this.producer = new KafkaProducer(context, resolved.config, { firstCorrelationId: PRODUCER_FIRST_CORRELATION_ID });
    this.txn = this.producer.transactional;
    assert(!exactlyOnce || this.txn !== null, "exactly_once_v2 needs a transactional producer");
  }

  get clientId(): string {
    return this.context.node;
  }

  monotonicNow(): number {
    return this.context.monotonicNow();
  }

  onStart(): void {
    if (this.context.tracing) {
      const { guarantee, groupId: group, input, output } = this.workload;
      this.context.trace("client-config", { process: this.context.node, role: "processor", guarantee, group, input, output, ...describeProducerConfig(this.producer.config) });
    }
    if (this.context.incarnation > 1) {
      this.app = "closed";
      return;
    }
    this.context.setTimer(ms(this.workload.startAtMs ?? 0), TAG_START);
    if (this.workload.stopAtMs !== undefined) this.context.setTimer(ms(this.workload.stopAtMs), TAG_STOP);
  }

  onConnectionRefused(peer: string): void {
    this.consumer.onDisconnect(peer);
    this.producer.onConnectionRefused(peer);
  }

  onMessage(from: string, message: Message): void {
    const correlationId = (message as { correlationId?: unknown }).correlationId;
    if (typeof correlationId === "number" && correlationId >= PRODUCER_FIRST_CORRELATION_ID) this.producer.onMessage(from, message);
    else this.consumer.onMessage(from, message);
  }

  onTimer(tag: string, data: unknown): void {
    switch (tag) {
      case TAG_START:
        return this.begin();
      case TAG_STOP:
        return this.stop();
      case TAG_PROCESSED:
        return this.processed(data as readonly DrainedPartition[]);
      case TAG_REPOLL:
        if (this.app === "waiting") this.poll();
        return;
    }
    if (this.producer.onTimer(tag, data)) return;
    const handled = this.consumer.onTimer(tag, data);
    assert(handled, `unknown processor timer ${tag}`);
  }

  private begin(): void {
    if (this.app !== "idle") return;
    this.producer.start();
    const subscribe = (): void => {
      this.consumer.start();
      this.consumer.subscribe([this.workload.input]);
      this.poll();
    };
    if (this.txn === null) return subscribe();
    this.app = "initializing";
    this.producer.initTransactions((error) => {
      if (error !== null) return this.close();
      subscribe();
    });
  }

  /** The application stops calling poll() (it hangs; the consumer's heartbeat thread goes on). */
  private stop(): void {
    if (this.app === "closed") return;
    const wasPolling = this.app === "polling";
    this.app = "stopped";
    if (wasPolling) this.consumer.wakeupPoll();
  }

  private close(): void {
    if (this.app === "closed") return;
    this.app = "closed";
    this.producer.close();
    this.consumer.close(() => {});
  }

  private poll(): void {
    if (this.app === "stopped" || this.app === "closed") return;
    this.app = "polling";
    this.consumer.poll((result) => this.onPolled(result));
  }

  private onPolled(result: PollResult): void {
    if (this.app !== "polling") return;
    if (result.error !== null) {
      if (result.error.name === "FENCED_INSTANCE_ID" || result.error.name === "IllegalStateException") return this.close();
      this.app = "waiting";
      this.context.setTimer(ms(this.consumer.config["retry.backoff.ms"]), TAG_REPOLL);
      return;
    }
    const count = result.records.reduce((sum, partition) => sum + partition.offsets.length, 0);
    if (count === 0) return this.poll();
    this.app = "processing";
    this.context.setTimer(ms(this.workload.processMs * count), TAG_PROCESSED, result.records);
  }

  private processed(records: readonly DrainedPartition[]): void {
    if (this.app !== "processing") return;
    const inputs: InputRecord[] = [];
    if (this.context.tracing) {
      // The group checkers' `process` ops (skipped-record, duplicate deliveries), as the group consumer workload's.
      const fields = this.consumer.coordinator!.memberFields;
      for (const drained of records) {
        const { topic, partition } = drained.state;
        this.context.trace("op", { process: this.context.node, type: "ok", f: "process", ...fields, topic, partition, offsets: drained.offsets, values: drained.values });
      }
    }
    for (const drained of records) {
      drained.offsets.forEach((offset, i) => inputs.push({ topic: drained.state.topic, partition: drained.state.partition, offset, value: drained.values[i] }));
    }
    // The positions to commit: past the last record of each partition of this poll.
    const offsets = records.map((drained) => ({ topic: drained.state.topic, partition: drained.state.partition, offset: drained.offsets[drained.offsets.length - 1] + 1 }));
    this.app = "transacting";
    if (this.txn === null) this.atLeastOnce(inputs);
    else this.exactlyOnce(this.txn, inputs, offsets);
  }

  private send(input: InputRecord, onDone: (output: OutputRecord) => void): OutputRecord {
    const output: OutputRecord = { input, value: derivedValue(input.value, this.workload.output), partition: -1, offset: -1, error: null };
    this.producer.send({ topic: this.workload.output, key: null, value: output.value }, (result: SendResult) => {
      if (result.partition >= 0) output.partition = result.partition;
      if ("offset" in result) output.offset = result.offset;
      else output.error = result.error;
      onDone(output);
    });
    return output;
  }

  // ---- exactly_once_v2 ----

  private exactlyOnce(txn: TransactionalState, inputs: readonly InputRecord[], offsets: readonly { topic: string; partition: number; offset: number }[]): void {
    const error = this.producer.beginTransaction();
    if (error !== null) return this.close();
    const opId = this.transactions++;
    const idempotence = this.producer.transactionManager!;
    const producerId = idempotence.producerId;
    const producerEpoch = idempotence.producerEpoch;
    const group = this.consumer.coordinator!.groupMetadata;
    const base = { process: this.context.node, f: "txn", opId, transactionalId: txn.transactionalId, producerId, producerEpoch };
    if (this.context.tracing) this.context.trace("op", { ...base, type: "invoke", result: "commit", group: group.groupId, generation: group.generationId });
    const outputs = inputs.map((input) => this.send(input, () => {}));
    const finish = (type: "ok" | "fail" | "info", result: "commit" | "abort", cause: string | null): void => {
      if (this.context.tracing) {
        const sends = outputs.map((o) => ({
          topic: this.workload.output,
          partition: o.partition,
          value: o.value,
          offset: o.offset,
          input: { topic: o.input.topic, partition: o.input.partition, offset: o.input.offset, value: o.input.value },
        }));
        const fields = { ...base, type, result, sends, offsets: { group: group.groupId, offsets } };
        this.context.trace("op", cause === null ? fields : { ...fields, error: cause });
      }
      if (type === "ok" && result === "commit") this.recordsProcessed += inputs.length;
      if (txn.state === "FATAL_ERROR" || type === "info") return this.close();
      if (result === "abort") this.consumer.resetToCommittedPositions();
      this.poll();
    };
    const abort = (cause: string): void => {
      this.producer.abortTransaction((abortError) => finish("fail", "abort", abortError ?? cause));
    };
    this.producer.sendOffsetsToTransaction(offsets, group, (offsetsError) => {
      if (offsetsError !== null) {
        if (txn.state === "ABORTABLE_ERROR") return abort(offsetsError);
        return finish("fail", "abort", offsetsError);
      }
      if (txn.state !== "IN_TRANSACTION") return txn.state === "ABORTABLE_ERROR" ? abort(txn.machine.lastError ?? "ABORTABLE_ERROR") : finish("fail", "abort", txn.machine.lastError);
      this.producer.commitTransaction((commitError) => {
        if (commitError === null) return finish("ok", "commit", null);
        if (txn.state === "ABORTABLE_ERROR") return abort(commitError);
        // A fatal error while committing: the EndTxn(commit) may have reached the coordinator.
        finish("info", "commit", commitError);
      });
    });
  }

  // ---- at_least_once ----

  /** The positions are committed with commitSync() once every output record is acknowledged. */
  private atLeastOnce(inputs: readonly InputRecord[]): void {
    let pending = inputs.length;
    const emitted = (output: OutputRecord): void => {
      if (this.context.tracing) {
        const { input } = output;
        const fields = { process: this.context.node, f: "emit", topic: this.workload.output, partition: output.partition, value: output.value, input: { topic: input.topic, partition: input.partition, offset: input.offset, value: input.value } };
        this.context.trace("op", output.error === null ? { ...fields, type: "ok", offset: output.offset } : { ...fields, type: "fail", error: output.error });
      }
      if (output.error !== null) failed = true;
      if (--pending > 0) return;
      if (failed) {
        // At least once: nothing is committed past a record that was not written; it is processed again.
        this.consumer.resetToCommittedPositions();
        return this.poll();
      }
      this.recordsProcessed += inputs.length;
      this.consumer.commitSync(() => this.poll());
    };
    let failed = false;
    for (const input of inputs) this.send(input, emitted);
  }
}
