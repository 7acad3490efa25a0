/**
 * What the replication helpers (delayed operations, local reads, fetchers, ISR updaters) reach of the
 * ReplicaManager that owns them: the broker's services, the hosted partitions and a few shared rules.
 */

import type { KafkaError } from "../../protocol/kafka.ts";
import type { BrokerServices } from "../services.ts";
import type { Partition } from "./partition.ts";

export interface ReplicaHost {
  readonly services: BrokerServices;
  partition(topic: string, partition: number): Partition | undefined;
  /** The error for a partition this broker does not host: NOT_LEADER_OR_FOLLOWER if the metadata cache knows it. */
  notHostedError(topic: string, partition: number): KafkaError;
  /**
   * An append by this broker process (a produce or a follower's fetch: the only callers of Log.appendAsLeader /
   * appendAsFollower) started a flush (flush.messages). Until then no log of the process has an append's flush
   * running, and the fetcher's loop skips asking each log (Log.appendFlushing).
   */
  appendFlushStarted: boolean;
}
