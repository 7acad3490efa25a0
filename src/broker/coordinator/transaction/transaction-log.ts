/**
 * The records of __transaction_state (TransactionLog.scala, Kafka 3.6: TransactionLogKey v0 and TransactionLogValue
 * v0 with their field names). Simplification: keys and values are JSON strings instead of Kafka's binary schemas
 * (sizes differ from a real log's); the key JSON is canonical so compaction keeps the last record per transactional
 * id. As in Kafka, lastProducerId / lastProducerEpoch are not persisted (a loaded id has -1 for both), the state is
 * its id byte, and the partitions are grouped per topic. A null value is a tombstone (an expired transactional id).
 */

import { topicPartitionKey } from "../../../protocol/kafka.ts";
import { assert } from "../../../sim/assert.ts";
import { ALL_TRANSACTION_STATES, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, TRANSACTION_STATE_IDS, parseTopicPartitionKey, type TxnTransitMetadata } from "./transaction-metadata.ts";

/** TransactionLogKey v0. */
export function transactionLogKey(transactionalId: string): string {
  return JSON.stringify({ version: 0, transactionalId });
}

/** TransactionLog.valueToBytes: TransactionLogValue v0 (an Empty transaction holds no partitions). */
export function transactionLogValue(t: TxnTransitMetadata): string {
  assert(t.txnState !== "Empty" || t.topicPartitions.length === 0, "an Empty transaction's record holds no partitions");
  const byTopic = new Map<string, number[]>();
  for (const key of t.topicPartitions) {
    const { topic, partition } = parseTopicPartitionKey(key);
    let ids = byTopic.get(topic);
    if (ids === undefined) byTopic.set(topic, (ids = []));
    ids.push(partition);
  }
  return JSON.stringify({
    version: 0,
    producerId: t.producerId,
    producerEpoch: t.producerEpoch,
    transactionTimeoutMs: t.txnTimeoutMs,
    transactionStatus: TRANSACTION_STATE_IDS[t.txnState],
    transactionPartitions: [...byTopic].map(([topic, partitionIds]) => ({ topic, partitionIds })),
    transactionLastUpdateTimestampMs: t.txnLastUpdateTimestamp,
    transactionStartTimestampMs: t.txnStartTimestamp,
  });
}

/** TransactionLog.readTxnRecordKey: the transactional id, or null for another record kind. */
export function readTransactionLogKey(key: string | null): string | null {
  if (key === null) return null;
  const parsed = JSON.parse(key) as { version?: number; transactionalId?: string };
  return parsed.version === 0 && typeof parsed.transactionalId === "string" ? parsed.transactionalId : null;
}

/** TransactionLog.readTxnRecordValue (as a transit: lastProducerId / lastProducerEpoch are not persisted). */
export function readTransactionLogValue(value: string): TxnTransitMetadata {
  const v = JSON.parse(value) as {
    producerId: number;
    producerEpoch: number;
    transactionTimeoutMs: number;
    transactionStatus: number;
    transactionPartitions: { topic: string; partitionIds: number[] }[];
    transactionLastUpdateTimestampMs: number;
    transactionStartTimestampMs: number;
  };
  const txnState = ALL_TRANSACTION_STATES.find((s) => TRANSACTION_STATE_IDS[s] === v.transactionStatus);
  assert(txnState !== undefined, `unknown transaction state id ${v.transactionStatus}`);
  return {
    producerId: v.producerId,
    lastProducerId: NO_PRODUCER_ID,
    producerEpoch: v.producerEpoch,
    lastProducerEpoch: NO_PRODUCER_EPOCH,
    txnTimeoutMs: v.transactionTimeoutMs,
    txnState,
    topicPartitions: v.transactionPartitions.flatMap((p) => p.partitionIds.map((id) => topicPartitionKey(p.topic, id))),
    txnStartTimestamp: v.transactionStartTimestampMs,
    txnLastUpdateTimestamp: v.transactionLastUpdateTimestampMs,
  };
}
