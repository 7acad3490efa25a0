/**
 * The partition leader's AddPartitionsToTxnManager (Kafka 3.6, KIP-890 part 1): the verifications of transactional
 * Produce requests, queued per transaction coordinator broker, at most one transaction per transactional id in the
 * queue (a newer epoch fences the queued one with INVALID_PRODUCER_EPOCH, the same epoch replaces it with
 * NETWORK_EXCEPTION, an older one is refused INVALID_PRODUCER_EPOCH at once), one batch in flight per broker; each
 * transaction is sent as AddPartitionsToTxn verifyOnly and its callback gets the partitions that were NOT verified
 * with their errors (PRODUCER_FENCED becomes INVALID_PRODUCER_EPOCH, which producers expect); a request unanswered
 * after request.timeout.ms (a disconnection or timeout) fails the batch with NETWORK_EXCEPTION.
 * Simplifications: the protocol carries one transaction per AddPartitionsToTxn, so a batch to a broker is one
 * request per queued transaction sent together (Kafka's v4 request carries them all in one), and the broker stays
 * in flight until every one is answered; the VerificationFailureRate / VerificationTimeMs metrics are not kept;
 * no version mismatch (every broker supports verifyOnly) and no authentication errors.
 */

import { REQUEST_HEADER_BYTES, topicPartitionKey, type KafkaError, type TopicPartitionRef } from "../../protocol/kafka.ts";
import type { AddPartitionsToTxnRequest, AddPartitionsToTxnResponse } from "../../protocol/transaction.ts";
import { assert } from "../../sim/assert.ts";
import type { TimerId } from "../../sim/kernel.ts";
import { ms } from "../../sim/time.ts";
import { REPLICA_TIMER_PREFIX, type BrokerServices } from "../services.ts";

/** AddPartitionsToTxnTransaction (verifyOnly): what one Produce asks the coordinator. */
export interface VerificationTransaction {
  readonly transactionalId: string;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly partitions: readonly TopicPartitionRef[];
}

/** AddPartitionsToTxnManager.AppendCallback: the partitions not verified, by "topic-partition" key (empty: all verified). */
export type VerificationCallback = (unverified: ReadonlyMap<string, KafkaError>) => void;

interface QueuedTransaction {
  readonly transaction: VerificationTransaction;
  readonly callback: VerificationCallback;
}

/** The requests in flight to one broker: by correlation id, and the timer of the batch. */
interface InflightBatch {
  readonly requests: Map<number, QueuedTransaction>;
  readonly timer: TimerId;
}

const TAG_REQUEST_TIMEOUT = `${REPLICA_TIMER_PREFIX}add-partitions-to-txn-timeout`;

export class AddPartitionsToTxnManager {
  /** nodesToTransactions: per broker, per transactional id (insertion order). */
  private readonly nodesToTransactions = new Map<number, Map<string, QueuedTransaction>>();
  private readonly inflightNodes = new Map<number, InflightBatch>();
  private stopped = false;

  constructor(private readonly services: BrokerServices) {}

  /** addTxnData: queue a verification for the coordinator on broker `node`, and send if that broker is idle. */
  addTxnData(node: number, transaction: VerificationTransaction, callback: VerificationCallback): void {
    if (this.stopped) return;
    let queued = this.nodesToTransactions.get(node);
    if (queued === undefined) {
      queued = new Map();
      this.nodesToTransactions.set(node, queued);
    }
    const existing = queued.get(transaction.transactionalId);
    if (existing !== undefined) {
      if (existing.transaction.producerEpoch <= transaction.producerEpoch) {
        // A newer epoch fences the queued one; the same epoch is a client retry (answer it retriably).
        const error: KafkaError = existing.transaction.producerEpoch < transaction.producerEpoch ? "INVALID_PRODUCER_EPOCH" : "NETWORK_EXCEPTION";
        queued.delete(transaction.transactionalId);
        existing.callback(allPartitions(existing.transaction, error));
      } else {
        callback(allPartitions(transaction, "INVALID_PRODUCER_EPOCH"));
        return;
      }
    }
    queued.set(transaction.transactionalId, { transaction, callback });
    this.maybeSend(node);
  }

  /** generateRequests for one broker: everything queued for it goes out unless a batch is in flight. */
  private maybeSend(node: number): void {
    if (this.stopped || this.inflightNodes.has(node)) return;
    const queued = this.nodesToTransactions.get(node);
    if (queued === undefined || queued.size === 0) return;
    this.nodesToTransactions.delete(node);
    const requests = new Map<number, QueuedTransaction>();
    for (const entry of queued.values()) {
      const { transactionalId, producerId, producerEpoch, partitions } = entry.transaction;
      const correlationId = this.services.nextCorrelationId();
      requests.set(correlationId, entry);
      const request: AddPartitionsToTxnRequest = {
        type: "AddPartitionsToTxn",
        correlationId,
        transactionalId,
        producerId,
        producerEpoch,
        verifyOnly: true,
        partitions,
        sizeBytes: REQUEST_HEADER_BYTES + transactionalId.length + 16 + 8 * partitions.length,
      };
      this.services.sendToBroker(node, request);
    }
    const timer = this.services.context.setTimer(ms(this.services.config["request.timeout.ms"]), TAG_REQUEST_TIMEOUT, node);
    this.inflightNodes.set(node, { requests, timer });
  }

  /** AddPartitionsToTxnHandler.onComplete for one answered transaction. Returns false for a response not ours. */
  onResponse(from: number, response: AddPartitionsToTxnResponse): boolean {
    const batch = this.inflightNodes.get(from);
    const entry = batch?.requests.get(response.correlationId);
    if (batch === undefined || entry === undefined) return false;
    batch.requests.delete(response.correlationId);
    const unverified = new Map<string, KafkaError>();
    if (response.error !== "NONE") {
      // A top-level error fails every partition (Kafka turns CLUSTER_AUTHORIZATION_FAILED, not modelled, into INVALID_TXN_STATE).
      for (const [key, error] of allPartitions(entry.transaction, response.error)) unverified.set(key, error);
    } else {
      for (const p of response.partitions) {
        if (p.error === "NONE") continue;
        // Producers expect to handle INVALID_PRODUCER_EPOCH here.
        unverified.set(topicPartitionKey(p.topic, p.partition), p.error === "PRODUCER_FENCED" ? "INVALID_PRODUCER_EPOCH" : p.error);
      }
    }
    entry.callback(unverified);
    this.maybeCompleteBatch(from, batch);
    return true;
  }

  onTimer(tag: string, data: unknown): boolean {
    if (tag !== TAG_REQUEST_TIMEOUT) return false;
    if (this.stopped) return true;
    const node = data as number;
    const batch = this.inflightNodes.get(node);
    assert(batch !== undefined, `add-partitions-to-txn timeout for broker ${node} without a batch in flight`);
    // wasDisconnected || wasTimedOut: every transaction still waiting gets NETWORK_EXCEPTION.
    const waiting = [...batch.requests.values()];
    batch.requests.clear();
    this.inflightNodes.delete(node);
    for (const entry of waiting) entry.callback(allPartitions(entry.transaction, "NETWORK_EXCEPTION"));
    this.maybeSend(node);
    return true;
  }

  private maybeCompleteBatch(node: number, batch: InflightBatch): void {
    if (batch.requests.size > 0 || this.inflightNodes.get(node) !== batch) return;
    this.services.context.cancelTimer(batch.timer);
    this.inflightNodes.delete(node);
    this.maybeSend(node);
  }

  /** The broker stops: nothing more is sent or answered (the Produce requests die with the process). */
  shutdown(): void {
    this.stopped = true;
    for (const batch of this.inflightNodes.values()) this.services.context.cancelTimer(batch.timer);
    this.inflightNodes.clear();
    this.nodesToTransactions.clear();
  }
}

function allPartitions(transaction: VerificationTransaction, error: KafkaError): Map<string, KafkaError> {
  return new Map(transaction.partitions.map((p) => [topicPartitionKey(p.topic, p.partition), error]));
}
