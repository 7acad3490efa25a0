/**
 * Transactions as the trace tells them (docs/viewer.md, "Transactions"; the events are docs/transactions.md's):
 * the transaction coordinator's view of each transactional.id from `txn-state` (state, producer id and epoch,
 * partitions, coordinator epoch), where it lives (`txn-coordinator-loading` / `-loaded` / `-unloaded` of its
 * `__transaction_state` partition, the coordinator's host going down), the producer's own TransactionManager
 * state (`producer-txn-state`) and the outcomes of its `txn` operations. `TxnStatusTracker` is the one reducer of
 * the coordinator's side: the state timeline records its output per event index, the drawing index per time (the
 * transaction lanes), as GroupStatusTracker does for consumer groups.
 */

import type { TraceEvent } from "../../../src/sim/trace.ts";
import type { CoordinatorStatus } from "./groups.ts";
import { Series } from "./series.ts";
import type { TxnView } from "./types.ts";
import { compare } from "./zk-track.ts";

/** The coordinator's view of one transactional.id after some event: immutable, a new object on every change. */
export interface TxnStatus {
  transactionalId: string;
  /** Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, Dead, PrepareEpochFence. */
  state: string;
  previousState: string | null;
  producerId: number;
  producerEpoch: number;
  /** The transaction's partitions ("t-0"), as the coordinator lists them. */
  partitions: readonly string[];
  coordinatorEpoch: number;
  /** The id's __transaction_state partition (-1 until an event names it). */
  partition: number;
  /** The broker that last announced the id (null before any). */
  coordinator: string | null;
  coordinatorStatus: CoordinatorStatus;
  /** Index of the event that made this status. */
  seq: number;
}

/** The trace kinds the transaction views read (issue 16's public names). */
export const TXN_EVENT_KINDS: ReadonlySet<string> = new Set([
  "txn-state",
  "txn-markers-sent",
  "txn-marker-written",
  "txn-lso",
  "producer-txn-state",
  "producer-txn-request",
  "txn-coordinator-loading",
  "txn-coordinator-loaded",
  "txn-coordinator-unloaded",
  "txn-timeout-abort",
  "txn-timeout-abort-failed",
  "transaction-state-topic-created",
]);

/** The states of a transaction being completed (markers on their way): drawn warm on the lane. */
export function isCompleting(state: string): boolean {
  return state === "PrepareCommit" || state === "PrepareAbort" || state === "PrepareEpochFence";
}

const HOST_GONE = new Set(["host-crash", "host-power-loss", "host-machine-crash", "host-shutdown", "broker-halted"]);

/**
 * Reduces the trace to each transactional.id's coordinator-side status. `apply` returns the statuses it changed
 * (new objects), empty for events that do not touch a transaction.
 */
export class TxnStatusTracker {
  readonly current = new Map<string, TxnStatus>();

  apply(i: number, e: TraceEvent): TxnStatus[] {
    switch (e.kind) {
      case "txn-state": {
        const id = String(e.transactionalId);
        const before = this.current.get(id);
        return [
          this.set({
            transactionalId: id,
            state: String(e.state),
            previousState: typeof e.previousState === "string" ? e.previousState : null,
            producerId: typeof e.producerId === "number" ? e.producerId : -1,
            producerEpoch: typeof e.producerEpoch === "number" ? e.producerEpoch : -1,
            partitions: Array.isArray(e.partitions) ? (e.partitions as unknown[]).map(String) : [],
            coordinatorEpoch: typeof e.coordinatorEpoch === "number" ? e.coordinatorEpoch : -1,
            partition: typeof e.partition === "number" ? e.partition : (before?.partition ?? -1),
            coordinator: e.node,
            coordinatorStatus: "active",
            seq: i,
          }),
        ];
      }
      case "txn-coordinator-loading":
        return this.move(i, e, "loading", (s) => s.coordinator !== e.node || s.coordinatorStatus !== "active");
      case "txn-coordinator-loaded":
        return this.move(i, e, "active", (s) => s.coordinator !== e.node || s.coordinatorStatus !== "active");
      case "txn-coordinator-unloaded":
        return this.move(i, e, "unloaded", (s) => s.coordinator === e.node);
      default:
        if (HOST_GONE.has(e.kind)) {
          const changed: TxnStatus[] = [];
          for (const s of this.current.values()) {
            if (s.coordinator === e.node && s.coordinatorStatus !== "down" && s.coordinatorStatus !== "unloaded") changed.push(this.set({ ...s, coordinatorStatus: "down", seq: i }));
          }
          return changed;
        }
        return [];
    }
  }

  /** The ids on the event's __transaction_state partition move to (or away from) the event's broker. */
  private move(i: number, e: TraceEvent, status: CoordinatorStatus, applies: (s: TxnStatus) => boolean): TxnStatus[] {
    const changed: TxnStatus[] = [];
    for (const s of this.current.values()) {
      if (s.partition < 0 || s.partition !== e.partition || !applies(s)) continue;
      const coordinatorEpoch = typeof e.coordinatorEpoch === "number" && status !== "unloaded" ? e.coordinatorEpoch : s.coordinatorEpoch;
      changed.push(this.set({ ...s, coordinator: e.node, coordinatorStatus: status, coordinatorEpoch, seq: i }));
    }
    return changed;
  }

  private set(status: TxnStatus): TxnStatus {
    this.current.set(status.transactionalId, status);
    return status;
  }
}

interface ProducerSide {
  client: string;
  state: string;
  error: string | null;
}

interface Outcomes {
  commits: number;
  aborts: number;
  /** txn ops that failed or whose outcome is unknown (info). */
  failed: number;
}

const NO_OUTCOMES: Outcomes = { commits: 0, aborts: 0, failed: 0 };

interface TxnTrack {
  status: Series<TxnStatus | null>;
  producer: Series<ProducerSide | null>;
  outcomes: Series<Outcomes>;
}

/** The transactions part of the state timeline: a Series per transactional.id of each side's status. */
export class TxnTimeline {
  private readonly tracker = new TxnStatusTracker();
  private readonly txns = new Map<string, TxnTrack>();

  get size(): number {
    return this.txns.size;
  }

  observe(i: number, e: TraceEvent): void {
    for (const status of this.tracker.apply(i, e)) this.track(status.transactionalId).status.set(i, status);
    if (e.kind === "producer-txn-state" && typeof e.transactionalId === "string") {
      const client = typeof e.process === "string" ? e.process : e.node;
      this.track(e.transactionalId).producer.set(i, { client, state: String(e.state), error: typeof e.error === "string" ? e.error : null });
    } else if (e.kind === "op" && e.f === "txn" && e.type !== "invoke" && typeof e.transactionalId === "string") {
      const series = this.track(e.transactionalId).outcomes;
      const last = series.last;
      if (e.type === "ok") series.set(i, e.result === "abort" ? { ...last, aborts: last.aborts + 1 } : { ...last, commits: last.commits + 1 });
      else series.set(i, { ...last, failed: last.failed + 1 });
    }
  }

  private track(id: string): TxnTrack {
    let track = this.txns.get(id);
    if (track === undefined) {
      track = { status: new Series<TxnStatus | null>(null), producer: new Series<ProducerSide | null>(null), outcomes: new Series<Outcomes>(NO_OUTCOMES) };
      this.txns.set(id, track);
    }
    return track;
  }

  /** Every transactional.id known at events[0..index], by id. */
  txnsAt(i: number): TxnView[] {
    const views: TxnView[] = [];
    for (const [id, track] of this.txns) {
      const status = track.status.at(i);
      const producer = track.producer.at(i);
      if (status === null && producer === null) continue;
      const outcomes = track.outcomes.at(i);
      views.push({
        transactionalId: id,
        state: status?.state ?? "Unknown",
        previousState: status?.previousState ?? null,
        producerId: status?.producerId ?? -1,
        producerEpoch: status?.producerEpoch ?? -1,
        partitions: [...(status?.partitions ?? [])],
        coordinatorEpoch: status?.coordinatorEpoch ?? -1,
        partition: status?.partition ?? -1,
        coordinator: status?.coordinator ?? null,
        coordinatorStatus: status?.coordinatorStatus ?? "unloaded",
        since: status?.seq ?? -1,
        client: producer?.client ?? null,
        producerState: producer?.state ?? null,
        producerError: producer?.error ?? null,
        commits: outcomes.commits,
        aborts: outcomes.aborts,
        failed: outcomes.failed,
      });
    }
    return views.sort((a, b) => compare(a.transactionalId, b.transactionalId));
  }
}
