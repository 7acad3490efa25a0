/**
 * `aborted-read` and `zombie-write`: what a read_committed consumer returned, judged against the transactions
 * that wrote it (TransactionHistory). They model no Kafka component; they run at the end of the run.
 *
 * A transaction's fate, as its producer saw it: `ok` with result "abort" or a `fail` outcome is aborted; `ok` with
 * result "commit" is committed; `info` is unknown and never judged. A transaction with no outcome by the end of the
 * run (its producer crashed, or it is still going) is judged by the partition: the first `txn-marker-written` of
 * its producer id above the record's offset ends it there (COMMIT: committed, ABORT: aborted); with none it is
 * still open.
 */

import type { CommittedRead, Transaction, TransactionHistory, TxnStateChange } from "./transactions-history.ts";
import type { Violation } from "./violation.ts";

type Fate = "committed" | "aborted" | "open" | "unknown";

/** How many records one violation lists. */
const MAX_LISTED = 10;

interface Candidate {
  readonly txn: Transaction;
  readonly offset: number;
}

/** value → the transactions that sent it, with the offset each got acknowledged at (-1: unknown). */
function sendsByValue(history: TransactionHistory): Map<string, Candidate[]> {
  const found = new Map<string, Candidate[]>();
  for (const txn of history.transactions.values()) {
    for (const send of txn.sends.values()) {
      let list = found.get(send.value);
      if (list === undefined) found.set(send.value, (list = []));
      list.push({ txn, offset: send.offset });
    }
  }
  return found;
}

/**
 * The transactions that may have written `read`: those that sent its value to its partition, not acknowledged
 * elsewhere, under the producer id the leader appended the record with (when the trace says: processors write
 * one derived value in several transactions — an aborted one and the one that committed it).
 */
function writers(read: CommittedRead, byValue: Map<string, Candidate[]>, history: TransactionHistory): Candidate[] {
  const list = byValue.get(read.value) ?? [];
  const producerId = history.producerAt.get(`${read.topicPartition}@${read.offset}`);
  return list.filter(
    ({ txn, offset }) =>
      txn.sends.get(read.value)!.topicPartition === read.topicPartition && (offset < 0 || offset === read.offset) && (producerId === undefined || producerId === txn.producerId),
  );
}

function fate(txn: Transaction, read: CommittedRead, history: TransactionHistory): Fate {
  switch (txn.outcome) {
    case "ok":
      return txn.result === "abort" ? "aborted" : "committed";
    case "fail":
      return "aborted";
    case "info":
      return "unknown";
  }
  const marker = (history.markers.get(read.topicPartition) ?? []).find((m) => m.producerId === txn.producerId && m.offset > read.offset);
  if (marker === undefined) return "open";
  return marker.result === "COMMIT" ? "committed" : "aborted";
}

function describe(txn: Transaction): Record<string, unknown> {
  return {
    process: txn.process,
    opId: txn.opId,
    transactionalId: txn.transactionalId,
    producerId: txn.producerId,
    producerEpoch: txn.producerEpoch,
    invokedAt: txn.invokedAt.t,
    outcome: txn.outcome,
    result: txn.result ?? null,
    error: txn.error ?? null,
    completedAt: txn.completedAt?.t ?? null,
  };
}

function listed(reads: CommittedRead[]): Record<string, unknown>[] {
  return reads.slice(0, MAX_LISTED).map((read) => ({ topicPartition: read.topicPartition, offset: read.offset, value: read.value, readAt: read.at.t }));
}

/** Groups reads per (reader, transaction), in first-read order. */
class Findings {
  readonly groups = new Map<string, { reader: string; txn: Transaction; reads: CommittedRead[]; extra: Record<string, unknown> }>();

  add(read: CommittedRead, txn: Transaction, key: string, extra: () => Record<string, unknown>): void {
    const id = `${read.process}\u0000${key}`;
    let group = this.groups.get(id);
    if (group === undefined) this.groups.set(id, (group = { reader: read.process, txn, reads: [], extra: extra() }));
    group.reads.push(read);
  }
}

/**
 * aborted-read: a record a read_committed consumer returned whose every possible writer is an aborted or still
 * open transaction (none committed, none of unknown outcome). One violation per (consumer, transaction).
 */
export function checkAbortedReads(history: TransactionHistory, now: number): Violation[] {
  if (history.reads.length === 0) return [];
  const byValue = sendsByValue(history);
  const findings = new Findings();
  for (const read of history.reads) {
    const candidates = writers(read, byValue, history);
    if (candidates.length === 0) continue;
    const fates = candidates.map(({ txn }) => fate(txn, read, history));
    if (fates.some((f) => f === "committed" || f === "unknown")) continue;
    const txn = candidates[0].txn;
    const marker = (history.markers.get(read.topicPartition) ?? []).find((m) => m.producerId === txn.producerId && m.offset > read.offset) ?? null;
    findings.add(read, txn, String(txn.id), () => ({
      fate: fates[0],
      marker: marker === null ? null : { offset: marker.offset, result: marker.result, producerEpoch: marker.producerEpoch, node: marker.node, writtenAt: marker.at.t },
    }));
  }
  return [...findings.groups.values()].map(({ reader, txn, reads, extra }) => ({
    name: "aborted-read",
    time: now,
    nodes: [reader, txn.node],
    evidence: { consumer: reader, records: listed(reads), count: reads.length, transaction: describe(txn), ...extra },
  }));
}

/** A transition that gives the transactional id a newer producer (id, epoch) than `txn`'s: not its own commit. */
function fences(change: TxnStateChange, txn: Transaction): boolean {
  if (change.state === "PrepareCommit" || change.state === "CompleteCommit") return false;
  return change.producerId !== txn.producerId || change.producerEpoch > txn.producerEpoch;
}

/**
 * zombie-write: a record a read_committed consumer returned, sent by a transaction of (transactionalId, producer
 * id, epoch e) that the coordinator fenced before committing it: after the transaction's invoke, the first
 * `txn-state` of the transactional id giving a newer producer (another producer id, or an epoch above e; commits
 * excepted, as KIP-890's per-transaction bump gives PrepareCommit the next epoch) comes before any PrepareCommit
 * (or CompleteCommit: the successor of a coordinator that failed mid-transition completes it) of that producer id
 * at epoch e or above. One violation per (consumer, transaction).
 */
export function checkZombieWrites(history: TransactionHistory, now: number): Violation[] {
  if (history.reads.length === 0 || history.states.size === 0) return [];
  const byValue = sendsByValue(history);
  const findings = new Findings();
  for (const read of history.reads) {
    for (const { txn } of writers(read, byValue, history)) {
      const changes = (history.states.get(txn.transactionalId) ?? []).filter((change) => change.at.seq > txn.invokedAt.seq);
      const fence = changes.find((change) => fences(change, txn));
      if (fence === undefined) continue;
      // A PrepareCommit, or a CompleteCommit alone: a coordinator that wrote PrepareCommit and failed before its
      // transition was traced leaves the commit to its successor, which loads it and completes it.
      const commit = changes.find((change) => (change.state === "PrepareCommit" || change.state === "CompleteCommit") && change.producerId === txn.producerId && change.producerEpoch >= txn.producerEpoch);
      if (commit !== undefined && commit.at.seq < fence.at.seq) continue;
      findings.add(read, txn, String(txn.id), () => ({
        fencedBy: { state: fence.state, producerId: fence.producerId, producerEpoch: fence.producerEpoch, coordinator: fence.node, at: fence.at.t },
      }));
      break;
    }
  }
  return [...findings.groups.values()].map(({ reader, txn, reads, extra }) => ({
    name: "zombie-write",
    time: now,
    nodes: [reader, txn.node],
    evidence: { consumer: reader, records: listed(reads), count: reads.length, transaction: describe(txn), ...extra },
  }));
}
