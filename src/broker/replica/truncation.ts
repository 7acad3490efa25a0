/**
 * Where a follower truncates its log before fetching from a new leader, by `compat.truncation`: the
 * follower's own high watermark (before 0.11), KIP-101's single OffsetsForLeaderEpoch round (0.11 to 1.1),
 * KIP-279's multi-round exchange (AbstractFetcherThread.getOffsetTruncationState in 2.0) and KIP-320 (2.1+:
 * the same decision, with the requester's current leader epoch checked by the leader). Also the leader's side:
 * the answer to OffsetsForLeaderEpoch by mode. Pure functions over the log; the fetcher applies them.
 */

import type { TruncationMode } from "../config.ts";
import { UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET } from "../log/leader-epoch-cache.ts";
import type { Log } from "../log/log.ts";

export interface TruncationDecision {
  /** Truncate to min(offset, log end offset). */
  offset: number;
  /** False: truncate to `offset` and ask again with the (now smaller) latest epoch (KIP-279). */
  completed: boolean;
  reason: string;
}

/** Whether the mode asks the leader (OffsetsForLeaderEpoch) at all. */
export function usesLeaderEpochs(mode: TruncationMode): boolean {
  return mode !== "high-watermark";
}

/**
 * Decision without asking the leader: the whole rule before 0.11, and under leader epochs the fallback for a
 * follower whose epoch cache is empty (partitionsWithoutEpochs → truncateToHighWatermark).
 */
export function truncateToHighWatermark(log: Log, reason: string): TruncationDecision {
  return { offset: Math.min(log.highWatermark, log.logEndOffset), completed: true, reason };
}

/**
 * The follower's decision from the leader's answer (leaderEpoch, endOffset). The follower looks the answer's epoch
 * up in its own cache, so `epochCacheOnElection` false (LeaderEpochFileCache before KAFKA-7415) applies here too.
 */
export function offsetTruncationState(
  mode: TruncationMode,
  log: Log,
  leaderEpoch: number,
  leaderEndOffset: number,
  epochCacheOnElection = true,
): TruncationDecision {
  const logEndOffset = log.logEndOffset;
  if (mode === "high-watermark") return truncateToHighWatermark(log, "high-watermark");
  if (leaderEndOffset === UNDEFINED_EPOCH_OFFSET) return truncateToHighWatermark(log, "undefined-epoch-offset");
  if (mode === "kip-101" || leaderEpoch === UNDEFINED_EPOCH) {
    // KIP-101 (or a v0 OffsetsForLeaderEpoch answer without the epoch): one round.
    return { offset: Math.min(leaderEndOffset, logEndOffset), completed: true, reason: "leader-epoch-end-offset" };
  }
  const follower = log.leaderEpochCache.endOffsetFor(leaderEpoch, logEndOffset, !epochCacheOnElection);
  if (follower.endOffset === UNDEFINED_EPOCH_OFFSET) {
    return { offset: Math.min(leaderEndOffset, logEndOffset), completed: true, reason: "follower-lacks-epoch" };
  }
  if (follower.epoch !== leaderEpoch) {
    // The follower does not know the epoch the leader answered with: cut to the end of its largest smaller
    // epoch and ask again.
    return { offset: Math.min(follower.endOffset, logEndOffset), completed: false, reason: "intermediate" };
  }
  return { offset: Math.min(follower.endOffset, leaderEndOffset, logEndOffset), completed: true, reason: "epoch-match" };
}

/**
 * The leader's answer to OffsetsForLeaderEpoch(requestedEpoch) by mode. `epochCacheOnElection` false (before
 * KAFKA-7415): an epoch below every cached one is answered UNDEFINED in the KIP-279/320 modes too.
 */
export function leaderEpochEndOffset(
  mode: TruncationMode,
  log: Log,
  requestedEpoch: number,
  epochCacheOnElection = true,
): { leaderEpoch: number; endOffset: number } {
  if (mode === "kip-101" || mode === "high-watermark") {
    return { leaderEpoch: UNDEFINED_EPOCH, endOffset: log.leaderEpochCache.endOffsetForKip101(requestedEpoch, log.logEndOffset) };
  }
  const answer = log.leaderEpochCache.endOffsetFor(requestedEpoch, log.logEndOffset, !epochCacheOnElection);
  return { leaderEpoch: answer.epoch, endOffset: answer.endOffset };
}
