/**
 * `lost-commit`, a group history checker run at the end of a run: a group's committed offset for a partition
 * moves backwards, as seen by OffsetFetch after being acknowledged. It models no Kafka component. For each
 * `offset-fetch` answer v of (group, partition), let o* be the latest commit acknowledged (a `commit` op of the
 * group, type ok, naming the partition) before the fetch — before its invoke when the history records one, else
 * before its ok. v is acceptable when v is o*'s offset, or the offset of a commit invoked before the fetch's ok
 * that had not completed ok before o*'s ok: a concurrent or later commit (failed and unknown ones included: a
 * commit that timed out may still have been appended after o*). Anything else — an older acknowledged offset, a
 * value no commit wrote, -1 (none) — is a lost-commit: the coordinator's log lost or rolled back an offset it had
 * acknowledged (an unclean election or a power loss of the __consumer_offsets partition). Without any
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
    let acked: CommitAttempt | null = null;
    for (const commit of partition.commits) {
      if (commit.outcome !== "ok" || commit.completedAt!.seq >= cutoff) continue;
      if (acked === null || commit.completedAt!.seq > acked.completedAt!.seq) acked = commit;
    }
    if (acked === null) continue;
    const ackedOffset = acked.offsets.get(fetch.topicPartition)!;
    if (fetch.offset === ackedOffset) continue;
    const ackedSeq = acked.completedAt!.seq;
    const acceptable = new Set<number>([ackedOffset]);
    for (const commit of partition.commits) {
      if (commit.invokedAt.seq >= fetch.at.seq) continue;
      if (commit.outcome === "ok" && commit.completedAt!.seq < ackedSeq) continue;
      acceptable.add(commit.offsets.get(fetch.topicPartition)!);
    }
    if (acceptable.has(fetch.offset)) continue;
    found.push(violation(fetch, acked, ackedOffset, [...acceptable], now));
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
