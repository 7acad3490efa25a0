/**
 * `lost-commit`, a group history checker run at the end of a run: a group's committed offset for a partition
 * moves backwards, as seen by OffsetFetch after being acknowledged. It models no Kafka component. A commit is
 * applied by the coordinator at some moment between its invoke and its ok (a failed or unknown one perhaps
 * never, perhaps at any moment after its invoke: a commit that timed out may still be appended). An
 * `offset-fetch` answer v of (group, partition) must come from a commit applied after every commit that had
 * been acknowledged before the fetch was sent (before its invoke when the history records one, else before its
 * ok): some commit of offset v, invoked before the fetch's answer, that could have been applied after the
 * latest-invoked such acknowledged commit A — one that had not completed ok before A was invoked. Anything else
 * — an older acknowledged offset, a value no commit wrote, -1 (none) — is a lost-commit: the coordinator's log
 * lost or rolled back an offset it had acknowledged (an unclean election or a power loss of the
 * __consumer_offsets partition). Comparing with A's invoke rather than its ok keeps a zombie honest: a member
 * paused with its commit in flight sees the ok late, after others committed higher offsets. Without any
 * acknowledged commit before the fetch nothing is judged.
 */

import type { CommitAttempt, GroupHistory, OffsetFetch } from "./groups-history.ts";
import type { Violation } from "./violation.ts";

/** Evidence lists at most this many acceptable offsets. */
const ACCEPTABLE_SHOWN = 20;

export function checkLostCommits(history: GroupHistory, now: number): Violation[] {
  const found: Violation[] = [];
  for (const fetch of history.fetches) {
    const partition = history.partitions.get(`${fetch.group}\u0000${fetch.topicPartition}`);
    if (partition === undefined) continue;
    const cutoff = (fetch.invokedAt ?? fetch.at).seq;
    // A: of the commits acknowledged before the fetch was sent, the one invoked last.
    let acked: CommitAttempt | null = null;
    for (const commit of partition.commits) {
      if (commit.outcome !== "ok" || commit.completedAt!.seq >= cutoff) continue;
      if (acked === null || commit.invokedAt.seq > acked.invokedAt.seq) acked = commit;
    }
    if (acked === null) continue;
    const ackedInvoke = acked.invokedAt.seq;
    const acceptable = new Set<number>();
    for (const commit of partition.commits) {
      if (commit.invokedAt.seq >= fetch.at.seq) continue;
      // Completed ok before A was even sent: surely applied before A, so surely overwritten.
      if (commit.outcome === "ok" && commit.completedAt!.seq < ackedInvoke) continue;
      acceptable.add(commit.offsets.get(fetch.topicPartition)!);
    }
    if (acceptable.has(fetch.offset)) continue;
    found.push(violation(fetch, acked, acked.offsets.get(fetch.topicPartition)!, [...acceptable], now));
  }
  return found;
}

function violation(fetch: OffsetFetch, acked: CommitAttempt, ackedOffset: number, acceptable: number[], now: number): Violation {
  return {
    name: "lost-commit",
    time: now,
    nodes: fetch.process === acked.process ? [fetch.process] : [fetch.process, acked.process],
    evidence: {
      group: fetch.group,
      topicPartition: fetch.topicPartition,
      acked: {
        offset: ackedOffset,
        process: acked.process,
        member: acked.member,
        generation: acked.generation,
        mode: acked.mode ?? null,
        opId: acked.opId,
        invokedAt: acked.invokedAt.t,
        ackedAt: acked.completedAt!.t,
      },
      fetch: {
        offset: fetch.offset,
        process: fetch.process,
        member: fetch.member,
        generation: fetch.generation,
        time: fetch.at.t,
        invokedAt: fetch.invokedAt?.t ?? null,
      },
      acceptable: acceptable.sort((a, b) => a - b).slice(0, ACCEPTABLE_SHOWN),
    },
  };
}
