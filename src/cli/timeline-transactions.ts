/**
 * Transactions in `kafkasim timeline` and `kafkasim run`'s key events (pure): the transaction events of issue 16's
 * trace contract (docs/transactions.md) as one compact line each — the coordinator's ending transitions
 * (PrepareCommit / PrepareAbort / PrepareEpochFence, the loaded states), its timeout aborts, loading and
 * unloading `__transaction_state`, the topic's creation, KIP-890 verifications the leader refused, and a
 * transactional producer's fatal error. Ongoing / Complete transitions, markers and verified appends are left to
 * the trace and the viewer (several per transaction, they would crowd the story out). The glyphs
 * are the web viewer's (docs/viewer.md, "Transactions").
 */

import type { TraceEvent } from "../sim/trace.ts";

/** The transaction event kinds the timeline and the run summary show (some only in part: describeTransactionEvent). */
export const TRANSACTION_KEY_KINDS: ReadonlySet<string> = new Set([
  "txn-state",
  "txn-timeout-abort",
  "txn-coordinator-loaded",
  "txn-coordinator-unloaded",
  "transaction-state-topic-created",
  "txn-verification",
  "producer-txn-state",
]);

export interface TransactionKeyEvent {
  glyph: string;
  label: string;
}

const PREPARE_STATES: ReadonlySet<string> = new Set(["PrepareCommit", "PrepareAbort", "PrepareEpochFence"]);

/** The glyph and the one-line label of a transaction key event, or null (not one, or a routine one). */
export function describeTransactionEvent(e: TraceEvent): TransactionKeyEvent | null {
  const producer = `pid ${String(e.producerId)}/${String(e.producerEpoch)}`;
  switch (e.kind) {
    case "txn-state": {
      if (!PREPARE_STATES.has(String(e.state))) return null;
      const partitions = Array.isArray(e.partitions) && e.partitions.length > 0 ? ` (${e.partitions.map(String).join(",")})` : "";
      const glyph = e.state === "PrepareCommit" ? "✓" : "✗";
      return { glyph, label: `${String(e.transactionalId)} ${String(e.state)} ${producer}${partitions}` };
    }
    case "txn-timeout-abort":
      return { glyph: "⏱", label: `${String(e.transactionalId)} timed out: the coordinator aborts it (${producer})` };
    case "txn-coordinator-loaded": {
      const pending = typeof e.pendingCompletion === "number" && e.pendingCompletion > 0 ? `, ${e.pendingCompletion} to complete` : "";
      return { glyph: "●", label: `coordinator loaded __transaction_state-${String(e.partition)} (epoch ${String(e.coordinatorEpoch)}): ${String(e.transactionalIds)} ids${pending}` };
    }
    case "txn-coordinator-unloaded":
      return { glyph: "○", label: `coordinator unloaded __transaction_state-${String(e.partition)}` };
    case "transaction-state-topic-created":
      return { glyph: "◇", label: `__transaction_state created: ${String(e.partitions)} partitions, replication factor ${String(e.replicationFactor)}` };
    case "txn-verification":
      if (e.result === "verified") return null;
      return { glyph: "⛔", label: `verification refused ${String(e.topic)}-${String(e.partition)} for ${String(e.transactionalId)}: ${String(e.result)}` };
    case "producer-txn-state":
      if (e.state !== "FATAL_ERROR") return null;
      return { glyph: "✗", label: `${String(e.transactionalId)} producer fatal: ${String(e.error)}` };
    default:
      return null;
  }
}
