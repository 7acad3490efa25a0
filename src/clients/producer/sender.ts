/**
 * Kafka's Sender (the producer's I/O loop) as one step, runOnce(), that the producer runs after every event:
 * idempotence first (resolve sequences, bump a requested epoch, InitProducerId to the least-loaded broker —
 * no produce data goes out while it is pending), then sendProducerData (ready nodes, drain, one Produce per
 * node, delivery-timeout expiry of queued and in-flight batches), then the metadata update when due
 * (DefaultMetadataUpdater). Responses complete, retry or fail batches as Sender.completeBatch does. Deviation:
 * batches also expire while an InitProducerId is pending (Kafka's loop skips expiry then), so a producer whose
 * brokers never grant an id still completes its records within delivery.timeout.ms.
 */

import type {
  InitProducerIdRequest,
  InitProducerIdResponse,
  MetadataRequest,
  MetadataResponse,
  ProduceRequest,
  ProduceResponse,
} from "../../protocol/kafka.ts";
import { REQUEST_HEADER_BYTES } from "../../protocol/kafka.ts";
import type { Message, ProcessContext } from "../../sim/host.ts";
import { ms, type Micros } from "../../sim/time.ts";
import type { RecordAccumulator } from "./accumulator.ts";
import type { ProducerBatch } from "./batch.ts";
import type { ProducerConfig } from "./config.ts";
import { isInvalidMetadata, isRetriable, mayHaveAppended } from "./errors.ts";
import type { ProducerMetadata } from "./metadata.ts";
import type { ProducerMetrics } from "../metrics.ts";
import type { NetworkClient, RequestFailure, RequestHandler } from "./network-client.ts";
import type { TransactionalState } from "./transactional.ts";
import type { TransactionManager } from "./transaction-manager.ts";
import { InFlightBatches } from "./in-flight-batches.ts";
import { ReusedList } from "./reused-list.ts";

export class Sender {
  /** Sender.inFlightBatches: per partition, batches sent and not yet completed or re-enqueued. */
  private readonly inFlightBatches = new InFlightBatches();
  private metadataInFlight = false;
  private initInFlight = false;
  private initRetryAtUs = Number.NEGATIVE_INFINITY;
  /** max.in.flight.requests.per.connection = 1: a partition is muted while its batch is in flight. */
  private readonly guaranteeMessageOrder: boolean;
  private readonly deliveryTimeoutUs: Micros;
  /** The transactional half of the TransactionManager (transactional.id set), else null. */
  transactional: TransactionalState | null = null;
  private txnRetryAtUs = Number.NEGATIVE_INFINITY;
  /** sendProducerData's ready hosts that NetworkClient.ready accepts; reused. */
  private readonly readyNodes = new ReusedList<string>();

  constructor(
    private readonly context: ProcessContext,
    private readonly config: ProducerConfig,
    private readonly metadata: ProducerMetadata,
    private readonly accumulator: RecordAccumulator,
    private readonly network: NetworkClient,
    private readonly transactionManager: TransactionManager | null,
    private readonly metrics: ProducerMetrics,
  ) {
    this.guaranteeMessageOrder = config["max.in.flight.requests.per.connection"] === 1;
    this.deliveryTimeoutUs = ms(config["delivery.timeout.ms"]);
  }

  private now(): Micros {
    return this.context.now();
  }

  /** One iteration of the I/O loop; true when it sent a Produce request (the caller runs it again). */
  runOnce(): boolean {
    const nowUs = this.now();
    let sent = false;
    const tm = this.transactionManager;
    if (tm !== null) {
      tm.maybeResolveSequences();
      tm.bumpIdempotentEpochAndResetIdIfNeeded();
    }
    const txn = this.transactional;
    if (txn !== null && txn.state === "FATAL_ERROR") this.abortBatches(txn.machine.lastError ?? "FATAL_ERROR");
    if (txn !== null && (txn.state === "FATAL_ERROR" || this.maybeSendAndPollTransactionalRequest(txn, nowUs))) {
      // A transactional request is pending or in flight (or the producer is fenced): no produce data now.
      this.maybeUpdateMetadata(nowUs);
      return false;
    }
    if (tm !== null && tm.state === "INITIALIZING") {
      if (!this.initInFlight && nowUs >= this.initRetryAtUs) this.sendInitProducerId(nowUs);
      this.expireBatches(nowUs);
    } else {
      sent = this.sendProducerData(nowUs);
    }
    this.maybeUpdateMetadata(nowUs);
    return sent;
  }

  /** The next time runOnce has something to do without a message arriving, or +Infinity. */
  nextWakeUs(): Micros {
    const nowUs = this.now();
    // The earliest candidate time after now (times at or before now are not wake-ups).
    let next = Number.POSITIVE_INFINITY;
    let t = this.accumulator.ready(nowUs).nextReadyCheckUs;
    if (t > nowUs && t < next) next = t;
    t = this.accumulator.nextExpiryUs();
    if (t > nowUs && t < next) next = t;
    t = this.inFlightBatches.nextExpiryUs(this.deliveryTimeoutUs, nowUs);
    if (t < next) next = t;
    if (!this.metadataInFlight) {
      t = nowUs + this.metadata.timeToNextUpdateUs(nowUs);
      if (t > nowUs && t < next) next = t;
    }
    if (this.transactional !== null && this.txnRetryAtUs > nowUs && this.txnRetryAtUs < next) next = this.txnRetryAtUs;
    if (this.transactionManager?.state === "INITIALIZING" && !this.initInFlight) {
      t = this.initRetryAtUs;
      if (t > nowUs && t < next) next = t;
    }
    // Only a node still in reconnect backoff has a wake-up; nearly always none is.
    if (this.network.latestReconnectAtUs > nowUs) {
      const hosts = this.candidateHosts();
      for (let i = 0; i < hosts.length; i++) {
        const at = this.network.reconnectAt(hosts[i]);
        if (at !== undefined && at > nowUs && at < next) next = at;
      }
    }
    return next;
  }

  /** Broker hosts from metadata, or the bootstrap list before the first metadata. */
  private candidateHosts(): readonly string[] {
    const hosts = this.metadata.brokerHosts();
    return hosts.length > 0 ? hosts : this.config["bootstrap.servers"];
  }

  // ---- Produce ----

  private sendProducerData(nowUs: Micros): boolean {
    const result = this.accumulator.ready(nowUs);
    const unknownLeaderTopics = result.unknownLeaderTopics;
    if (unknownLeaderTopics.size > 0) {
      for (let i = 0; i < unknownLeaderTopics.size; i++) this.metadata.add(unknownLeaderTopics.get(i));
      this.metadata.requestUpdate();
    }
    // NetworkClient.ready filters the ready hosts into a reused list: one wake-up allocates nothing here.
    const readyHosts = this.readyNodes;
    readyHosts.clear();
    for (let i = 0; i < result.readyHosts.size; i++) {
      const host = result.readyHosts.get(i);
      if (this.network.ready(host, nowUs)) readyHosts.push(host);
    }
    const drained = this.accumulator.drain(readyHosts, nowUs);
    const hostCount = drained.hosts.size;
    for (let i = 0; i < hostCount; i++) {
      const batches = drained.batches.get(i);
      for (let j = 0; j < batches.length; j++) {
        const batch = batches[j];
        this.inFlightBatches.add(batch);
        if (this.guaranteeMessageOrder) this.accumulator.mutePartition(batch.topicPartition);
      }
    }
    this.expireBatches(nowUs);
    for (let i = 0; i < hostCount; i++) this.sendProduceRequest(drained.hosts.get(i), drained.batches.get(i));
    return hostCount > 0;
  }

  /** Fails batches past delivery.timeout.ms, in flight or queued (Sender.getExpiredInflightBatches + expiredBatches). */
  private expireBatches(nowUs: Micros): void {
    // Null (nothing allocated) unless a batch in flight expired: most calls find none.
    const expired = this.inFlightBatches.takeExpired(this.deliveryTimeoutUs, nowUs);
    // Their requests are still out there: they may yet be appended.
    if (expired !== null) for (const batch of expired) batch.maybeAppended = true;
    // The queued ones first, then those in flight.
    const queued = this.accumulator.expiredBatches(nowUs);
    for (let i = 0; i < queued.length; i++) this.expireBatch(queued[i]);
    if (expired !== null) for (let i = 0; i < expired.length; i++) this.expireBatch(expired[i]);
  }

  private expireBatch(batch: ProducerBatch): void {
    if (this.context.tracing) {
      this.context.trace("producer-expire", { topicPartition: batch.topicPartition, records: batch.recordCount, sends: batch.sends, maybeAppended: batch.maybeAppended });
    }
    this.failBatch(batch, "DELIVERY_TIMEOUT", false);
    if (this.transactionManager !== null && batch.retry) this.transactionManager.markSequenceUnresolved(batch);
  }

  private sendProduceRequest(host: string, batches: ProducerBatch[]): void {
    const correlationId = this.network.nextCorrelationId();
    const partitions = batches.map(producePartition);
    let sizeBytes = REQUEST_HEADER_BYTES;
    for (let i = 0; i < partitions.length; i++) sizeBytes += partitions[i].batch.sizeBytes;
    const request: ProduceRequest = {
      type: "Produce",
      correlationId,
      acks: this.config.acks,
      timeoutMs: this.config["request.timeout.ms"],
      transactionalId: this.transactional === null ? null : this.transactional.transactionalId,
      partitions,
      sizeBytes,
    };
    const nowUs = this.context.monotonicNow();
    for (let i = 0; i < batches.length; i++) {
      const batch = batches[i];
      batch.sends++;
      // SenderMetrics.updateProduceRequestMetrics: every drained batch, a retried one again.
      this.metrics.recordSend.record(batch.recordCount, nowUs);
    }
    if (this.config.acks === 0) {
      this.network.send(host, request, null);
      // No response will come: complete now, outcome unknown (Kafka completes with offset -1).
      for (const batch of batches) {
        batch.maybeAppended = true;
        this.failBatch(batch, "NO_ACKS", false);
        if (this.guaranteeMessageOrder) this.accumulator.unmutePartition(batch.topicPartition);
      }
      return;
    }
    this.network.send(host, request, new ProduceRequestHandler(this, batches));
  }

  /** A Produce response: each partition's answer completes the request's batch for that partition. */
  onProduceResponse(batches: readonly ProducerBatch[], response: ProduceResponse): void {
    const partitions = response.partitions;
    for (let i = 0; i < partitions.length; i++) {
      const p = partitions[i];
      const batch = requestBatchFor(batches, i, p.topic, p.partition);
      if (batch !== undefined) this.completeBatch(batch, p.error, p.baseOffset, p.logStartOffset);
    }
  }

  /** A Produce request failed (timed out or disconnected): every batch it carried completes with the error. */
  onProduceFailure(batches: readonly ProducerBatch[], error: RequestFailure): void {
    for (const batch of batches) this.completeBatch(batch, error, -1, -1);
  }

  /** Sender.completeBatch: success, retry, or failure of one batch of a response (or of a failed request). */
  private completeBatch(batch: ProducerBatch, error: string, baseOffset: number, logStartOffset: number): void {
    const nowUs = this.now();
    if (error === "NONE") {
      this.completeSuccess(batch, baseOffset);
    } else {
      if (mayHaveAppended(error, this.config.acks)) batch.maybeAppended = true;
      if (this.canRetry(batch, error, logStartOffset, nowUs)) {
        if (this.context.tracing) {
          this.context.trace("producer-retry", { topicPartition: batch.topicPartition, error, attempts: batch.attempts + 1, baseSequence: batch.baseSequence, producerEpoch: batch.producerEpoch });
        }
        this.metrics.recordRetry.record(batch.recordCount, this.context.monotonicNow());
        this.accumulator.reenqueue(batch, nowUs);
        this.inFlightBatches.remove(batch);
      } else if (error === "DUPLICATE_SEQUENCE_NUMBER") {
        // Older than the broker's five cached batches: written before, offset unknown (Kafka reports success).
        this.completeSuccess(batch, -1);
      } else {
        this.failBatch(batch, error, batch.attempts < this.config.retries);
      }
      if (isInvalidMetadata(error)) this.metadata.requestUpdate();
    }
    if (this.guaranteeMessageOrder) this.accumulator.unmutePartition(batch.topicPartition);
  }

  private canRetry(batch: ProducerBatch, error: string, logStartOffset: number, nowUs: Micros): boolean {
    if (batch.hasReachedDeliveryTimeout(this.deliveryTimeoutUs, nowUs)) return false;
    if (batch.attempts >= this.config.retries || batch.done) return false;
    return this.transactionManager === null ? isRetriable(error) : this.transactionManager.canRetry(error, logStartOffset, batch);
  }

  private completeSuccess(batch: ProducerBatch, baseOffset: number): void {
    this.transactionManager?.handleCompletedBatch(batch, baseOffset);
    if (batch.complete(baseOffset)) this.deallocate(batch);
  }

  private failBatch(batch: ProducerBatch, error: string, adjustSequenceNumbers: boolean): void {
    if (!batch.fail(error, batch.maybeAppended)) return;
    // acks=0 completes without an answer: not an error to Kafka (offset -1), only to the history.
    if (error !== "NO_ACKS") this.metrics.recordError.record(batch.recordCount, this.context.monotonicNow());
    // TransactionManager.handleFailedBatch → maybeTransitionToErrorState (fatal, or abortable with an epoch bump).
    const txn = this.transactional;
    if (txn !== null && error !== "NO_ACKS" && txn.machine.hasOngoingTransaction) txn.onBatchFailed(error);
    this.transactionManager?.handleFailedBatch(batch, error, adjustSequenceNumbers);
    this.deallocate(batch);
  }

  /** ProducerBatch.abort: a batch that was never sent fails (TransactionAbortedException, or the fatal error). */
  private abortBatch(batch: ProducerBatch, error: string): void {
    batch.fail(error, false);
    this.accumulator.deallocate(batch);
  }

  /** Sender.maybeAbortBatches (a fatal error): every incomplete batch fails; those in flight may have been appended. */
  private abortBatches(error: string): void {
    if (!this.accumulator.hasIncomplete) return;
    for (const batch of this.accumulator.takeQueuedBatches()) this.abortBatch(batch, error);
    for (const batch of this.inFlightBatches.all()) {
      batch.fail(error, true);
      this.deallocate(batch);
    }
  }

  private deallocate(batch: ProducerBatch): void {
    this.inFlightBatches.remove(batch);
    this.accumulator.deallocate(batch);
  }

  // ---- InitProducerId (TransactionManager.InitProducerIdHandler, idempotent) ----

  private sendInitProducerId(nowUs: Micros): void {
    const host = this.network.leastLoadedNode(this.candidateHosts(), nowUs);
    if (host === null) {
      this.metadata.requestUpdate();
      this.initRetryAtUs = nowUs + ms(this.config["retry.backoff.ms"]);
      return;
    }
    const request: InitProducerIdRequest = {
      type: "InitProducerId",
      correlationId: this.network.nextCorrelationId(),
      transactionalId: null,
      transactionTimeoutMs: 2_147_483_647,
      producerId: -1,
      producerEpoch: -1,
    };
    this.initInFlight = true;
    const retry = (): void => {
      this.initInFlight = false;
      this.transactionManager!.onProducerIdFailed();
      this.transactionManager!.bumpIdempotentEpochAndResetIdIfNeeded();
      this.initRetryAtUs = this.now() + ms(this.config["retry.backoff.ms"]);
    };
    this.network.send(host, request, {
      onResponse: (message: Message) => {
        const response = message as InitProducerIdResponse;
        if (response.error !== "NONE") {
          retry();
          return;
        }
        this.initInFlight = false;
        this.transactionManager!.onProducerId(response.producerId, response.producerEpoch);
        if (this.context.tracing) this.context.trace("producer-id", { producerId: response.producerId, producerEpoch: response.producerEpoch, broker: host });
      },
      onFailure: retry,
    });
  }

  // ---- Transactional requests (Sender.maybeSendAndPollTransactionalRequest) ----

  /** True while a transactional request is in flight or was just sent (Kafka then skips produce data). */
  private maybeSendAndPollTransactionalRequest(txn: TransactionalState, nowUs: Micros): boolean {
    if (txn.inFlight !== null) return true;
    // Aborting (or in an abortable error): batches not drained yet will never be sent (abortUndrainedBatches).
    if (txn.state === "ABORTABLE_ERROR" || txn.state === "ABORTING_TRANSACTION") {
      for (const batch of this.accumulator.takeUndrainedBatches()) this.abortBatch(batch, txn.machine.lastError ?? "TRANSACTION_ABORTED");
    }
    if (nowUs < this.txnRetryAtUs) return txn.hasPendingRequests;
    const handler = txn.nextRequest(this.accumulator.hasIncomplete);
    if (handler === null) return false;
    let target: string | null;
    if (handler.coordinatorType !== null) target = txn.coordinatorFor(handler.coordinatorType);
    else target = this.network.leastLoadedNode(this.candidateHosts(), nowUs);
    if (target === null || !this.network.ready(target, nowUs)) {
      // maybeFindCoordinatorAndRetry: look the coordinator up (or wait for a node), after retry.backoff.ms.
      if (handler.coordinatorType !== null && target === null) txn.retryAfterLookup(handler);
      else {
        txn.onRequestFailed(handler);
        if (handler.coordinatorType === null) this.metadata.requestUpdate();
      }
      this.txnRetryAtUs = nowUs + ms(this.config["retry.backoff.ms"]);
      return true;
    }
    if (handler.isRetry) {
      // The handler's retryBackoffMs: Kafka sleeps before resending a retried request.
      this.txnRetryAtUs = nowUs + ms(this.config["retry.backoff.ms"]);
      handler.isRetry = false;
      txn.enqueue(handler);
      return true;
    }
    const request = handler.build(this.network.nextCorrelationId());
    txn.inFlight = handler;
    if (this.context.tracing) this.context.trace("producer-txn-request", { type: request.type, broker: target, transactionalId: txn.transactionalId, state: txn.state });
    this.network.send(target, request as never, {
      onResponse: (message: Message) => txn.onResponse(handler, message, target, this.now()),
      onFailure: () => txn.onRequestFailed(handler),
    });
    return true;
  }

  // ---- Metadata (NetworkClient.DefaultMetadataUpdater) ----

  private maybeUpdateMetadata(nowUs: Micros): void {
    if (this.metadataInFlight || this.metadata.timeToNextUpdateUs(nowUs) > 0) return;
    const host = this.network.leastLoadedNode(this.candidateHosts(), nowUs);
    if (host === null) return;
    const request: MetadataRequest = { type: "Metadata", correlationId: this.network.nextCorrelationId(), topics: [...this.metadata.interest] };
    this.metadataInFlight = true;
    this.network.send(host, request, {
      onResponse: (message: Message) => {
        this.metadataInFlight = false;
        this.metadata.update(message as MetadataResponse, this.now());
      },
      onFailure: () => {
        this.metadataInFlight = false;
        this.metadata.failedUpdate(this.now());
      },
    });
  }

  /** Batches in flight (for close()). */
  get hasInFlightBatches(): boolean {
    return !this.inFlightBatches.isEmpty;
  }
}

/** A batch as its Produce request carries it. */
function producePartition(batch: ProducerBatch): ProduceRequest["partitions"][number] {
  return { topic: batch.topic, partition: batch.partition, batch: batch.toRecordBatch() };
}

/**
 * One Produce request's handler: the request's batches, in request order. An object rather than closures and a
 * partition map: one allocation per request.
 */
class ProduceRequestHandler implements RequestHandler {
  constructor(
    private readonly sender: Sender,
    private readonly batches: readonly ProducerBatch[],
  ) {}

  onResponse(response: Message): void {
    this.sender.onProduceResponse(this.batches, response as ProduceResponse);
  }

  onFailure(error: RequestFailure): void {
    this.sender.onProduceFailure(this.batches, error);
  }
}

/**
 * The request's batch for a response partition: the response lists partitions in request order, so the batch
 * at the same index is nearly always it; else searched for (none: a partition the request did not carry).
 */
function requestBatchFor(batches: readonly ProducerBatch[], index: number, topic: string, partition: number): ProducerBatch | undefined {
  const atIndex = batches[index];
  if (atIndex !== undefined && atIndex.partition === partition && atIndex.topic === topic) return atIndex;
  return batches.find((batch) => batch.partition === partition && batch.topic === topic);
}
