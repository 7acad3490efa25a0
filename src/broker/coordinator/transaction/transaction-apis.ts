/**
 * KafkaApis' transaction handlers (handleInitProducerIdRequest with a transactional id,
 * handleAddPartitionsToTxnRequest, handleAddOffsetsToTxnRequest, handleEndTxnRequest, and getCoordinator for
 * FindCoordinator key type 1), Kafka 3.6: each request becomes a TransactionCoordinator call whose callback sends
 * the response; FindCoordinator answers the leader of partitionFor(transactionalId) of __transaction_state,
 * creating the topic when the metadata cache does not know it (transaction-state-topic.ts). AddPartitionsToTxn
 * answers UNKNOWN_TOPIC_OR_PARTITION for partitions the metadata cache does not know and OPERATION_NOT_ATTEMPTED
 * for the others, in the producers' form and in the brokers' verifyOnly form (KIP-890 part 1) alike. The answers to the coordinator's own WriteTxnMarkers go to its marker channel.
 * Simplifications: no authorization; the v3 AddPartitionsToTxn form (per-partition errors, top-level NONE) for
 * producers, the verifyOnly form for brokers; response sizes are approximations.
 */

import { REQUEST_HEADER_BYTES, NO_LEADER, type InitProducerIdRequest, type InitProducerIdResponse, type KafkaError } from "../../../protocol/kafka.ts";
import {
  TRANSACTION_STATE_TOPIC_NAME,
  type AddOffsetsToTxnRequest,
  type AddOffsetsToTxnResponse,
  type AddPartitionsToTxnRequest,
  type AddPartitionsToTxnResponse,
  type EndTxnRequest,
  type EndTxnResponse,
  type WriteTxnMarkersResponse,
} from "../../../protocol/transaction.ts";
import type { Message } from "../../../sim/host.ts";
import type { MetadataCache } from "../../metadata-cache.ts";
import type { TransactionCoordinator } from "./transaction-coordinator.ts";
import { NO_PRODUCER_EPOCH, NO_PRODUCER_ID } from "./transaction-metadata.ts";
import type { TransactionStateTopicCreator } from "./transaction-state-topic.ts";

export type TransactionApiRequest = InitProducerIdRequest | AddPartitionsToTxnRequest | AddOffsetsToTxnRequest | EndTxnRequest;

export interface TransactionApisHost {
  readonly metadataCache: MetadataCache;
  send(host: string, message: Message): void;
}

export class TransactionApis {
  constructor(
    private readonly host: TransactionApisHost,
    readonly coordinator: TransactionCoordinator,
    private readonly topic: TransactionStateTopicCreator,
  ) {}

  handle(from: string, request: TransactionApiRequest): void {
    const send = <T extends Message>(message: T) => this.host.send(from, message);
    const correlationId = request.correlationId;
    switch (request.type) {
      case "InitProducerId": {
        const respond = (error: KafkaError, producerId = NO_PRODUCER_ID, producerEpoch = NO_PRODUCER_EPOCH) =>
          send({ type: "InitProducerIdResponse", correlationId, error, producerId, producerEpoch, sizeBytes: REQUEST_HEADER_BYTES + 16 } satisfies InitProducerIdResponse);
        if ((request.producerId === NO_PRODUCER_ID) !== (request.producerEpoch === NO_PRODUCER_EPOCH)) return respond("INVALID_REQUEST");
        const expected = request.producerId === NO_PRODUCER_ID ? null : { producerId: request.producerId, producerEpoch: request.producerEpoch };
        this.coordinator.handleInitProducerId(request.transactionalId ?? "", request.transactionTimeoutMs, expected, (r) => respond(r.error, r.producerId, r.producerEpoch));
        return;
      }
      case "AddPartitionsToTxn": {
        const respond = (errors: readonly KafkaError[]) =>
          send({
            type: "AddPartitionsToTxnResponse",
            correlationId,
            error: "NONE",
            partitions: request.partitions.map((p, i) => ({ topic: p.topic, partition: p.partition, error: errors[i] })),
            sizeBytes: REQUEST_HEADER_BYTES + 16 * request.partitions.length,
          } satisfies AddPartitionsToTxnResponse);
        // Both forms: a partition the metadata cache does not know fails the whole transaction.
        const unknown = request.partitions.map((p) => this.host.metadataCache.partition(p.topic, p.partition) === undefined);
        if (unknown.some((u) => u)) return respond(unknown.map((u) => (u ? "UNKNOWN_TOPIC_OR_PARTITION" : "OPERATION_NOT_ATTEMPTED")));
        if (request.verifyOnly) {
          respond(this.coordinator.handleVerifyPartitionsInTransaction(request.transactionalId, request.producerId, request.producerEpoch, request.partitions));
          return;
        }
        this.coordinator.handleAddPartitionsToTransaction(request.transactionalId, request.producerId, request.producerEpoch, request.partitions, (error) => respond(request.partitions.map(() => error)));
        return;
      }
      case "AddOffsetsToTxn":
        this.coordinator.handleAddOffsetsToTransaction(request.transactionalId, request.producerId, request.producerEpoch, request.groupId, (error) =>
          send({ type: "AddOffsetsToTxnResponse", correlationId, error, sizeBytes: REQUEST_HEADER_BYTES + 4 } satisfies AddOffsetsToTxnResponse),
        );
        return;
      case "EndTxn":
        // EndTxn v5 (KIP-890 part 2) carries the producer id and epoch to use next; -1 without the epoch bump.
        this.coordinator.handleEndTransaction(request.transactionalId, request.producerId, request.producerEpoch, request.committed ? "COMMIT" : "ABORT", (error, producerId, producerEpoch) =>
          send({ type: "EndTxnResponse", correlationId, error, producerId, producerEpoch, sizeBytes: REQUEST_HEADER_BYTES + 12 } satisfies EndTxnResponse),
        );
        return;
    }
  }

  onWriteTxnMarkersResponse(response: WriteTxnMarkersResponse): void {
    this.coordinator.markerChannel.onResponse(response);
  }

  /** KafkaApis.getCoordinator for keyType 1 (TRANSACTION). */
  findCoordinator(transactionalId: string): { error: KafkaError; nodeId: number; host: string } {
    const none = (error: KafkaError) => ({ error, nodeId: -1, host: "" });
    if (!this.coordinator.isActive) return none("COORDINATOR_NOT_AVAILABLE");
    const cache = this.host.metadataCache;
    if (cache.partitionCount(TRANSACTION_STATE_TOPIC_NAME) === 0) {
      this.topic.maybeCreate();
      return none("COORDINATOR_NOT_AVAILABLE");
    }
    const leader = cache.partition(TRANSACTION_STATE_TOPIC_NAME, this.coordinator.partitionFor(transactionalId))?.leader ?? NO_LEADER;
    const host = leader === NO_LEADER ? undefined : cache.aliveBrokers.get(leader);
    if (host === undefined) return none("COORDINATOR_NOT_AVAILABLE");
    return { error: "NONE", nodeId: leader, host };
  }
}
