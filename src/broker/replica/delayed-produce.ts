/**
 * DelayedProduce: an acks=all produce parked until, for every partition it appended to, the high watermark
 * passed the batch (NONE, or NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrank below min.insync.replicas
 * meanwhile), the broker lost leadership (NOT_LEADER_OR_FOLLOWER), or the request's timeoutMs passed
 * (REQUEST_TIMED_OUT). Traces purgatory-complete / purgatory-timeout per waiting partition, then hands the
 * results to the append's callback (the Produce answer, or a coordinator's completion).
 */

import type { KafkaError, ProducePartitionResponse, ProduceResponse } from "../../protocol/kafka.ts";
import { REQUEST_HEADER_BYTES, topicPartitionKey } from "../../protocol/kafka.ts";
import type { AppendCallback } from "./produce.ts";
import type { Partition } from "./partition.ts";
import { DelayedOperation } from "./purgatory.ts";
import type { ReplicaHost } from "./replica-host.ts";

export interface ProducePartitionStatus {
  /** The offset the HW must reach: the batch's last offset + 1. */
  readonly requiredOffset: number;
  acksPending: boolean;
  /** Whether the partition waited at all (its append succeeded). */
  waited: boolean;
  readonly response: ProducePartitionResponse;
  /**
   * The partition appended to (null when the append failed): while still hosted it is the one a lookup finds,
   * so the checks on every HW move need no lookup, and its topicPartition string is the watch key.
   */
  readonly partition: Partition | null;
}

export class DelayedProduce extends DelayedOperation {
  readonly keys: readonly string[];

  constructor(
    private readonly host: ReplicaHost,
    private readonly correlationId: number,
    private readonly statuses: readonly ProducePartitionStatus[],
    private readonly callback: AppendCallback,
  ) {
    super();
    // Exactly sized (an empty array's first push would reserve 16 slots).
    let waiting = 0;
    for (const status of statuses) if (status.acksPending) waiting++;
    const keys = new Array<string>(waiting);
    let k = 0;
    for (const status of statuses) {
      if (!status.acksPending) continue;
      const response = status.response;
      // The partition's own key string (its hash is computed once): no new string per parked produce.
      keys[k++] = status.partition !== null ? status.partition.topicPartition : topicPartitionKey(response.topic, response.partition);
    }
    this.keys = keys;
  }

  /** Checked on every HW move of its partitions: loops, no per-check allocation. */
  tryComplete(): boolean {
    let pending = false;
    for (const status of this.statuses) {
      if (!status.acksPending) continue;
      const response = status.response;
      const known = status.partition;
      const hosted = known !== null && known.hosted ? known : this.host.partition(response.topic, response.partition);
      const error: KafkaError | null = hosted === undefined ? "UNKNOWN_TOPIC_OR_PARTITION" : hosted.checkEnoughReplicasReachOffset(status.requiredOffset);
      if (error === null) {
        pending = true;
        continue;
      }
      status.acksPending = false;
      response.error = error;
    }
    return pending ? false : this.forceComplete();
  }

  onComplete(): void {
    const context = this.host.services.context;
    for (const status of this.statuses) {
      if (!status.waited) continue;
      if (status.acksPending) status.response.error = "REQUEST_TIMED_OUT";
      const kind = status.acksPending ? "purgatory-timeout" : "purgatory-complete";
      if (context.wants(kind)) {
        context.trace(kind, {
          topicPartition: topicPartitionKey(status.response.topic, status.response.partition),
          requiredOffset: status.requiredOffset,
          correlationId: this.correlationId,
          error: status.response.error,
        });
      }
    }
    this.callback(this.statuses.map((s) => s.response));
  }
}

export function produceResponse(correlationId: number, partitions: ProducePartitionResponse[]): ProduceResponse {
  return { type: "ProduceResponse", correlationId, partitions, sizeBytes: REQUEST_HEADER_BYTES + 32 * partitions.length };
}
