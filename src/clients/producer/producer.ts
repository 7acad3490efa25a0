/**
 * Kafka's KafkaProducer as a component of a client process: send() partitions a record (murmur2 of the key,
 * or the sticky partitioner) and appends it to the RecordAccumulator; the Sender step then runs after every
 * event the owning process hands over (onMessage, onTimer with tags "producer:"). A record for a topic
 * without metadata waits up to max.block.ms (KafkaProducer.waitOnMetadata; later records wait behind it, as
 * a blocked send() would hold up its caller). A record larger than max.request.size or buffer.memory fails at
 * once (ensureValidRecordSize); one whose new batch does not fit in the free buffer.memory waits the same way
 * — for the rest of its max.block.ms — until completed batches free enough (BufferPool.allocate, FIFO), else
 * fails with BUFFER_EXHAUSTED. close() stops accepting records, sends everything queued and goes quiet once
 * every record has completed. Transactions are TransactionalState (transactional.ts). Simplifications: no serializers, headers or interceptors; a
 * record's timestamp is taken when it is appended; callbacks run inside the event that completes them.
 */

import { nullableLength } from "../../broker/log/records.ts";
import type { Message, ProcessContext } from "../../sim/host.ts";
import type { TimerId } from "../../sim/kernel.ts";
import { ms, type Micros } from "../../sim/time.ts";
import { partitionForKey, StickyPartitioner } from "../partitioner.ts";
import { BUFFER_FULL, RecordAccumulator } from "./accumulator.ts";
import { sizeUpperBoundFromLengths, type PendingRecord, type SendCallback } from "./batch.ts";
import type { ProducerConfig } from "./config.ts";
import { ProducerMetadata } from "./metadata.ts";
import { ProducerMetrics } from "../metrics.ts";
import { NetworkClient, REQUEST_TIMEOUT_TAG, type KafkaRequestMessage } from "./network-client.ts";
import { Sender } from "./sender.ts";
import { TransactionManager } from "./transaction-manager.ts";
import { TransactionalState, type ConsumerGroupMetadata, type OffsetToCommit, type TxnResultCallback } from "./transactional.ts";

export type { SendCallback, SendResult } from "./batch.ts";

export interface ProducerRecord {
  readonly topic: string;
  readonly key: string | null;
  readonly value: string | null;
}

interface WaitingRecord {
  readonly record: ProducerRecord;
  readonly callback: SendCallback;
  /** The key's and value's lengths (nullableLength), measured in send(). */
  readonly keyLength: number;
  readonly valueLength: number;
  timer: TimerId | null;
}

const POLL_TAG = "producer:poll";
const MAX_BLOCK_TAG = "producer:max-block";
/** Bound on the key → partition memo (workloads draw from a few keys; beyond this the memo starts over). */
const KEY_PARTITION_MEMO_MAX = 4096;
/** Bound on Sender iterations per event (each sends at least one request, so in-flight limits stop it far sooner). */
const MAX_SENDER_ITERATIONS = 10_000;

const RESPONSE_TYPES: ReadonlySet<string> = new Set([
  "ProduceResponse",
  "MetadataResponse",
  "InitProducerIdResponse",
  "FindCoordinatorResponse",
  "AddPartitionsToTxnResponse",
  "AddOffsetsToTxnResponse",
  "EndTxnResponse",
  "TxnOffsetCommitResponse",
]);

export class KafkaProducer {
  private readonly metadata: ProducerMetadata;
  private readonly accumulator: RecordAccumulator;
  private readonly network: NetworkClient;
  private readonly sender: Sender;
  readonly transactionManager: TransactionManager | null;
  /** producer-metrics (record-send, record-retry, record-error). */
  readonly metrics = new ProducerMetrics();
  /**
   * Records waiting for their topic's metadata or for buffer memory, in send order (a Set: O(1) removal on
   * max.block.ms expiry). Only the first waits for memory; the others wait behind it.
   */
  private readonly waiting = new Set<WaitingRecord>();
  /**
   * Called when no record waits for buffer memory any more: a caller that models one application thread holds
   * its next send() while `sendBlocked` (the blocked send() has not returned), and resumes here.
   */
  onSendUnblocked: (() => void) | null = null;
  private pollTimer: TimerId | null = null;
  private pollAtUs = Number.POSITIVE_INFINITY;
  private running = false;
  private wakeAgain = false;
  private closing = false;
  private stopped = false;
  private onClosed: (() => void) | null = null;
  /** partitionForKey is pure: memoised per key for the partition count it was computed with. */
  private readonly keyPartitions = new Map<string, number>();
  private keyPartitionsCount = -1;
  /** The largest valid record upper-bound size: min(max.request.size, buffer.memory). */
  private readonly maxRecordSize: number;
  /** batch.size above buffer.memory: no batch can ever be allocated (config only, so checked once). */
  private readonly batchSizeOverMemory: boolean;

  constructor(
    private readonly context: ProcessContext,
    readonly config: ProducerConfig,
    options: { readonly firstCorrelationId?: number } = {},
  ) {
    const rng = context.rng.fork("producer");
    this.maxRecordSize = Math.min(config["max.request.size"], config["buffer.memory"]);
    this.batchSizeOverMemory = config["batch.size"] > config["buffer.memory"];
    this.metadata = new ProducerMetadata(config["metadata.max.age.ms"], config["retry.backoff.ms"]);
    this.network = new NetworkClient(
      context,
      config["request.timeout.ms"],
      config["reconnect.backoff.ms"],
      config["max.in.flight.requests.per.connection"],
      rng.fork("least-loaded-node"),
      () => this.metadata.requestUpdate(),
      options.firstCorrelationId,
      config["reconnect.backoff.max.ms"],
      rng.fork("reconnect-backoff"),
    );
    this.transactionManager = config["enable.idempotence"]
      ? new TransactionManager((producerId, producerEpoch, partitions) => {
          if (context.tracing) context.trace("producer-epoch-bump", { producerId, producerEpoch, topicPartitions: partitions });
        })
      : null;
    const partitioner = new StickyPartitioner(config["batch.size"], rng.fork("sticky-partitioner"));
    this.accumulator = new RecordAccumulator(config, this.metadata, this.transactionManager, partitioner);
    this.sender = new Sender(context, config, this.metadata, this.accumulator, this.network, this.transactionManager, this.metrics);
    const transactionalId = config["transactional.id"];
    if (transactionalId !== null && this.transactionManager !== null) {
      this.transactionManager.transactional = true;
      this.transactional = new TransactionalState(transactionalId, config["transaction.timeout.ms"], this.transactionManager, (previous, next, error) => {
        if (context.tracing) context.trace("producer-txn-state", { transactionalId, previousState: previous, state: next, error });
      });
      this.accumulator.transactional = this.transactional;
      this.sender.transactional = this.transactional;
    }
  }

  // ---- Transactions (KafkaProducer.initTransactions … abortTransaction; results as callbacks) ----

  /** The transactional half of the TransactionManager, or null without transactional.id. */
  readonly transactional: TransactionalState | null = null;

  private requireTransactional(): TransactionalState {
    if (this.transactional === null) throw new Error("Transactional method invoked on a non-transactional producer.");
    return this.transactional;
  }

  initTransactions(done: TxnResultCallback): void {
    this.requireTransactional().initTransactions(done);
    this.wakeup();
  }

  /** beginTransaction: an error name when the producer is in an error state, else null. */
  beginTransaction(): string | null {
    return this.requireTransactional().beginTransaction();
  }

  sendOffsetsToTransaction(offsets: readonly OffsetToCommit[], group: ConsumerGroupMetadata, done: TxnResultCallback): void {
    this.requireTransactional().sendOffsetsToTransaction(offsets, group, done);
    this.wakeup();
  }

  /**
   * commitTransaction: every batch is flushed (EndTxn waits for them), then EndTxn(commit). In Kafka send() blocks
   * the application's thread until its record is appended (or fails after max.block.ms), so a commit called after
   * a send that still waits for its topic's metadata or for memory begins only once no record waits.
   */
  commitTransaction(done: TxnResultCallback): void {
    const transactional = this.requireTransactional();
    if (this.waiting.size > 0) return void this.afterSendsReturn.push(() => this.commitTransaction(done));
    transactional.beginCommit(done);
    this.wakeup();
  }

  abortTransaction(done: TxnResultCallback): void {
    const transactional = this.requireTransactional();
    if (this.waiting.size > 0) return void this.afterSendsReturn.push(() => this.abortTransaction(done));
    transactional.beginAbort(done);
    this.wakeup();
  }

  /** Transactional calls made while records still waited in send(): run, in order, once none waits. */
  private readonly afterSendsReturn: (() => void)[] = [];

  private runAfterSendsReturn(): void {
    while (this.waiting.size === 0 && this.afterSendsReturn.length > 0) this.afterSendsReturn.shift()!();
  }

  /** Starts the I/O loop: the first metadata request and, with idempotence, InitProducerId. */
  start(): void {
    this.wakeup();
  }

  /**
   * Hands a record to the producer. Returns the partition it was appended to, or -1 while it waits for its
   * topic's metadata. The callback runs exactly once.
   */
  send(record: ProducerRecord, callback: SendCallback): number {
    if (this.closing || this.stopped) {
      callback({ partition: -1, error: "PRODUCER_CLOSED", maybeAppended: false, attempts: 0 });
      return -1;
    }
    this.metadata.add(record.topic);
    const keyLength = nullableLength(record.key);
    const valueLength = nullableLength(record.value);
    let partition = -1;
    if (this.waiting.size === 0 && this.metadata.partitionCount(record.topic) !== null) {
      const appended = this.tryAppendRecord(record, callback, keyLength, valueLength);
      if (typeof appended === "string") {
        this.failUnappended(callback, appended);
        return -1;
      }
      if (appended === BUFFER_FULL) this.block(record, callback, keyLength, valueLength);
      else partition = appended;
    } else {
      this.block(record, callback, keyLength, valueLength);
    }
    this.wakeup();
    return partition;
  }

  /** The record waits (metadata or memory), for at most max.block.ms from now. */
  private block(record: ProducerRecord, callback: SendCallback, keyLength: number, valueLength: number): void {
    const waiting: WaitingRecord = { record, callback, keyLength, valueLength, timer: null };
    waiting.timer = this.context.setTimer(ms(this.config["max.block.ms"]), MAX_BLOCK_TAG, waiting);
    this.waiting.add(waiting);
  }

  /**
   * KafkaProducer.ensureValidRecordSize (RecordTooLargeException), then BufferPool.allocate's hard limit: a
   * batch.size above buffer.memory can never be allocated (IllegalArgumentException, thrown out of send()).
   */
  private invalidRecordSize(sizeUpperBound: number): string | null {
    if (sizeUpperBound > this.maxRecordSize) return "RECORD_TOO_LARGE";
    if (this.batchSizeOverMemory) return "ILLEGAL_ARGUMENT";
    return null;
  }

  /** The first waiting record no longer waits for buffer memory: a blocked send() returns. */
  private endMemoryWait(): void {
    if (this.accumulator.endMemoryWait()) this.onSendUnblocked?.();
  }

  /**
   * KafkaProducer.partitionsFor without blocking: the topic's partition count when its metadata is known,
   * else null — and the topic becomes one the producer fetches metadata for.
   */
  partitionsFor(topic: string): number | null {
    const count = this.metadata.partitionCount(topic);
    if (count === null && !this.stopped) {
      this.metadata.add(topic);
      this.wakeup();
    }
    return count;
  }

  /** Makes every queued batch sendable now (KafkaProducer.flush, without blocking). */
  flush(): void {
    this.accumulator.beginFlush();
    this.wakeup();
  }

  /** KafkaProducer.close(): no new records; `done` runs once everything sent has completed. */
  close(done?: () => void): void {
    this.onClosed = done ?? null;
    if (this.stopped) {
      this.onClosed?.();
      return;
    }
    this.closing = true;
    this.accumulator.close();
    this.wakeup();
  }

  /** requests-in-flight: every request sent and not yet answered (Produce, Metadata, InitProducerId). */
  get requestsInFlight(): number {
    return this.network.inFlightRequestCount;
  }

  get isClosed(): boolean {
    return this.stopped;
  }

  /** A record waits for buffer memory: in Kafka its send() has not returned yet (BufferPool.allocate blocks). */
  get sendBlocked(): boolean {
    return this.accumulator.memoryWaitBytes > 0;
  }

  /** buffer-available-bytes: buffer.memory less what the incomplete batches hold. */
  get bufferAvailableBytes(): number {
    return this.accumulator.availableMemory;
  }

  /** A message for the producer: true when it was one (a response to one of its requests, or a stale one). */
  onMessage(from: string, message: Message): boolean {
    if (!RESPONSE_TYPES.has(message.type)) return false;
    if (!this.stopped) {
      this.network.onResponse(from, message as KafkaRequestMessage);
      this.wakeup();
    }
    return true;
  }

  /**
   * The connection to `peer` was reset or refused (its broker process is gone while its machine stays up):
   * NetworkClient.processDisconnection — every request in flight to it fails as disconnected (the Sender's
   * NETWORK_EXCEPTION, retriable), the node waits out reconnect.backoff.ms and metadata is refreshed.
   */
  onConnectionRefused(peer: string): void {
    if (this.stopped) return;
    if (this.context.tracing) this.context.trace("producer-disconnect", { broker: peer, reason: "connection-reset", inFlight: this.network.inFlightCount(peer) });
    this.network.disconnect(peer, "NETWORK_EXCEPTION");
    this.wakeup();
  }

  /** A timer: true when it was the producer's (tags "producer:"). */
  onTimer(tag: string, data: unknown): boolean {
    if (!tag.startsWith("producer:")) return false;
    if (this.stopped) return true;
    if (tag === POLL_TAG) {
      this.pollTimer = null;
      this.pollAtUs = Number.POSITIVE_INFINITY;
    } else if (tag === REQUEST_TIMEOUT_TAG) {
      this.network.onRequestTimeout(data);
    } else if (tag === MAX_BLOCK_TAG) {
      this.onMaxBlock(data as WaitingRecord);
    }
    this.wakeup();
    return true;
  }

  /**
   * Checks a record's size (invalidRecordSize) and appends it (its topic's metadata is known): its partition;
   * BUFFER_FULL, nothing appended and the record waits for memory; or the error it fails with, for the caller
   * to report (failUnappended) once it is done with the record.
   */
  private tryAppendRecord(record: ProducerRecord, callback: SendCallback, keyLength: number, valueLength: number): number | string {
    const sizeUpperBound = sizeUpperBoundFromLengths(keyLength, valueLength);
    // TransactionManager.maybeAddPartition's maybeFailWithError: no send while the transaction is in an error
    // state (Kafka appends the record first and throws after; here it is refused before the append).
    if (this.transactional !== null && this.transactional.state !== "IN_TRANSACTION") return this.transactional.machine.lastError ?? `ILLEGAL_STATE_${this.transactional.state}`;
    const invalid = this.invalidRecordSize(sizeUpperBound);
    if (invalid !== null) return invalid;
    const numPartitions = this.metadata.partitionCount(record.topic)!;
    const keyed = record.key === null ? null : this.partitionForKey(record.key, numPartitions);
    const timestamp = Math.floor(this.context.now() / 1000);
    const pending: PendingRecord = { key: record.key, value: record.value, keyLength, valueLength, timestamp, callback };
    const appended = this.accumulator.append(record.topic, keyed, pending, sizeUpperBound, this.context.now());
    // KafkaProducer.doSend: transactionManager.maybeAddPartition (AddPartitionsToTxn before the first batch).
    if (this.transactional !== null && typeof appended === "number" && appended >= 0) this.transactional.maybeAddPartition(`${record.topic}-${appended}`);
    return appended;
  }

  private partitionForKey(key: string, numPartitions: number): number {
    if (numPartitions !== this.keyPartitionsCount || this.keyPartitions.size >= KEY_PARTITION_MEMO_MAX) {
      this.keyPartitions.clear();
      this.keyPartitionsCount = numPartitions;
    }
    let partition = this.keyPartitions.get(key);
    if (partition === undefined) {
      partition = partitionForKey(key, numPartitions);
      this.keyPartitions.set(key, partition);
    }
    return partition;
  }

  /**
   * A waiting record ran out of max.block.ms: it fails, never having been appended — BUFFER_EXHAUSTED when it
   * was waiting for memory (BufferExhaustedException, a TimeoutException), else MAX_BLOCK_TIMEOUT (metadata).
   */
  private onMaxBlock(waiting: WaitingRecord): void {
    const first = this.waiting.values().next().value === waiting;
    if (!this.waiting.delete(waiting)) return;
    const forMemory = first && this.accumulator.memoryWaitBytes > 0;
    if (first) this.endMemoryWait();
    this.failUnappended(waiting.callback, forMemory ? "BUFFER_EXHAUSTED" : "MAX_BLOCK_TIMEOUT");
    this.runAfterSendsReturn();
  }

  /** A record fails in send(), never appended: KafkaProducer.doSend's ApiException path (callback, errors sensor). */
  private failUnappended(callback: SendCallback, error: string): void {
    this.metrics.recordError.record(1, this.context.monotonicNow());
    callback({ partition: -1, error, maybeAppended: false, attempts: 0 });
  }

  /** Appends waiting records, in order, while their topic's metadata is known and buffer memory suffices. */
  private appendWaiting(): void {
    if (this.waiting.size === 0) return;
    // Deleting the entry being visited is safe in a Set's iteration; a record appended here never re-enters it.
    for (const waiting of this.waiting) {
      const { record, callback, keyLength, valueLength } = waiting;
      if (this.metadata.partitionCount(record.topic) === null) {
        this.endMemoryWait();
        return;
      }
      // Still short of the bytes it waits for: BufferPool.allocate wakes only when a deallocation frees them.
      if (this.accumulator.memoryWaitBytes > this.accumulator.availableMemory) return;
      // BUFFER_FULL: the accumulator now has it wait for its new batch's bytes.
      const appended = this.tryAppendRecord(record, callback, keyLength, valueLength);
      if (appended === BUFFER_FULL) return;
      this.waiting.delete(waiting);
      if (waiting.timer !== null) this.context.cancelTimer(waiting.timer);
      this.endMemoryWait();
      if (typeof appended === "string") this.failUnappended(callback, appended);
    }
    this.runAfterSendsReturn();
  }

  /** Runs the Sender until it has nothing more to send now, then arms the poll timer for its next deadline. */
  private wakeup(): void {
    if (this.stopped) return;
    if (this.running) {
      this.wakeAgain = true;
      return;
    }
    this.running = true;
    try {
      let iterations = 0;
      do {
        this.wakeAgain = false;
        this.appendWaiting();
        while (this.sender.runOnce() && ++iterations < MAX_SENDER_ITERATIONS);
        this.accumulator.maybeEndFlush();
      } while ((this.wakeAgain || this.accumulator.memoryFreed) && ++iterations < MAX_SENDER_ITERATIONS);
    } finally {
      this.running = false;
    }
    if (this.closing && this.waiting.size === 0 && !this.accumulator.hasIncomplete) {
      this.stop();
      return;
    }
    this.schedulePoll(this.sender.nextWakeUs());
  }

  private schedulePoll(atUs: Micros): void {
    if (atUs === this.pollAtUs) return;
    this.pollAtUs = atUs;
    if (!Number.isFinite(atUs)) {
      if (this.pollTimer !== null) this.context.cancelTimer(this.pollTimer);
      this.pollTimer = null;
      return;
    }
    const delayUs = Math.max(0, atUs - this.context.now());
    // Nearly always later than the armed one (the oldest batch's deadline moves on): resetTimer keeps it queued.
    this.pollTimer = this.pollTimer === null ? this.context.setTimer(delayUs, POLL_TAG) : this.context.resetTimer(this.pollTimer, delayUs, POLL_TAG);
  }

  private stop(): void {
    this.stopped = true;
    this.schedulePoll(Number.POSITIVE_INFINITY);
    this.network.close();
    if (this.context.tracing) this.context.trace("producer-closed", {});
    this.onClosed?.();
  }
}
