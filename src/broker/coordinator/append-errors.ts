/**
 * How a coordinator turns the error of its append to its internal topic into the error its client gets
 * (GroupMetadataManager.storeGroup / maybeConvertOffsetCommitError, TransactionStateManager.appendTransactionToLog).
 * The three share the mapping of a missing or under-replicated partition (COORDINATOR_NOT_AVAILABLE) and of a lost
 * leadership (NOT_COORDINATOR); they differ in what a timeout and a too-large record become.
 */

import type { KafkaError } from "../../protocol/kafka.ts";

export function coordinatorAppendError(error: KafkaError, onTimeout: KafkaError, onTooLarge: KafkaError): KafkaError {
  switch (error) {
    case "UNKNOWN_TOPIC_OR_PARTITION":
    case "NOT_ENOUGH_REPLICAS":
    case "NOT_ENOUGH_REPLICAS_AFTER_APPEND":
      return "COORDINATOR_NOT_AVAILABLE";
    case "NOT_LEADER_OR_FOLLOWER":
    case "KAFKA_STORAGE_ERROR":
      return "NOT_COORDINATOR";
    case "REQUEST_TIMED_OUT":
      return onTimeout;
    case "MESSAGE_TOO_LARGE":
    case "RECORD_LIST_TOO_LARGE":
      return onTooLarge;
    default:
      return error;
  }
}
