/**
 * The partition leaders' side of WriteTxnMarkers (KafkaApis.handleWriteTxnMarkersRequest, Kafka 3.6): for each
 * marker of the request, one end-transaction control batch per partition (MemoryRecords.withEndTransactionMarker),
 * appended through ReplicaManager.appendRecords as the coordinator's write (AppendOrigin.COORDINATOR: the producer
 * state checks the producer epoch and fences an older coordinator epoch), acks=all with request.timeout.ms; the
 * response goes once every marker's append has answered, one error per partition. A partition this broker does not
 * host is UNKNOWN_TOPIC_OR_PARTITION (getMagic is empty); a follower answers NOT_LEADER_OR_FOLLOWER from the append.
 * Once a marker's append answers, the __consumer_offsets partitions written without error are passed to the
 * group coordinator (groupCoordinator.onTransactionCompleted), which materialises or drops the producer's pending
 * offsets. Simplifications: no CLUSTER_ACTION authorization, no message-format check (every log is v2).
 */

import type { KafkaError, ProducePartitionResponse } from "../../protocol/kafka.ts";
import { REQUEST_HEADER_BYTES } from "../../protocol/kafka.ts";
import { GROUP_METADATA_TOPIC_NAME } from "../../protocol/group.ts";
import type { TransactionResult, WriteTxnMarkersRequest, WriteTxnMarkersResponse } from "../../protocol/transaction.ts";
import { makeEndTxnMarker } from "../log/records.ts";
import { appendRecords, type ProduceHost } from "./produce.ts";

type PartitionError = { topic: string; partition: number; error: KafkaError };

/** GroupCoordinator.onTransactionCompleted: the producer's marker is in these __consumer_offsets partitions. */
export type TxnCompletionListener = (producerId: number, offsetsPartitions: number[], result: TransactionResult) => void;

export function handleWriteTxnMarkers(host: ProduceHost, from: string, request: WriteTxnMarkersRequest, onTransactionCompleted: TxnCompletionListener | null = null): void {
  const services = host.services;
  const errors: PartitionError[][] = request.markers.map((marker) => marker.partitions.map((p) => ({ topic: p.topic, partition: p.partition, error: "NONE" })));
  let pending = request.markers.length;
  let responded = false;
  const respond = (): void => {
    if (responded) return;
    responded = true;
    let sizeBytes = REQUEST_HEADER_BYTES;
    const markers = request.markers.map((marker, i) => {
      sizeBytes += 12 + 24 * errors[i].length;
      return { producerId: marker.producerId, partitions: errors[i] };
    });
    const response: WriteTxnMarkersResponse = { type: "WriteTxnMarkersResponse", correlationId: request.correlationId, markers, sizeBytes };
    services.send(from, response);
  };
  if (pending === 0) return respond();
  // While the markers are still being appended, a callback does not answer: the loop's end does.
  let skipping = true;
  request.markers.forEach((marker, i) => {
    const controlType = marker.transactionResult ? "COMMIT" : "ABORT";
    const appended: PartitionError[] = [];
    for (const entry of errors[i]) {
      if (host.partition(entry.topic, entry.partition) === undefined) entry.error = "UNKNOWN_TOPIC_OR_PARTITION";
      else appended.push(entry);
    }
    if (appended.length === 0) {
      pending--;
      return;
    }
    const batch = makeEndTxnMarker({
      producerId: marker.producerId,
      producerEpoch: marker.producerEpoch,
      coordinatorEpoch: marker.coordinatorEpoch,
      controlType,
      timestamp: services.nowMs(),
    });
    const partitions = appended.map((entry) => ({ topic: entry.topic, partition: entry.partition, batch }));
    appendRecords(host, { acks: -1, timeoutMs: services.config["request.timeout.ms"], correlationId: request.correlationId, partitions }, (responses: ProducePartitionResponse[]) => {
      responses.forEach((response, j) => {
        appended[j].error = response.error;
        const context = services.context;
        if (response.baseOffset >= 0 && context.tracing) {
          context.trace("txn-marker-written", {
            topic: response.topic,
            partition: response.partition,
            producerId: marker.producerId,
            producerEpoch: marker.producerEpoch,
            result: controlType,
            offset: response.baseOffset,
            coordinatorEpoch: marker.coordinatorEpoch,
          });
        }
      });
      const offsetsPartitions = responses.filter((r) => r.topic === GROUP_METADATA_TOPIC_NAME && r.error === "NONE").map((r) => r.partition);
      if (offsetsPartitions.length > 0) onTransactionCompleted?.(marker.producerId, offsetsPartitions, controlType);
      pending--;
      if (pending === 0 && !skipping) respond();
    });
  });
  skipping = false;
  // Every marker skipped or answered already (an acks=all append can complete at once): answer now.
  if (pending === 0) respond();
}
