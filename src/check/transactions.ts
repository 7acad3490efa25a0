/**
 * The transaction checkers behind one observer (tx-contract.md's trace contract): `hanging-transaction` online, as
 * each partition's LSO moves, and once more at the end, and at the end of the run `aborted-read` and `zombie-write`
 * over the transactional producers' `txn` ops, the read_committed consumers' polls and the coordinators' and
 * leaders' transaction events. They model no Kafka component. A run without transactions costs a kind switch and
 * at most three field tests per "op" event and one flag test per `hwm` event: the transaction kinds never occur,
 * and nothing is stored.
 */

import type { TraceEvent, TraceFields } from "../sim/trace.ts";
import { HangingTransactionChecker, TRANSACTION_CLEANUP_INTERVAL_MS_DEFAULT, TRANSACTION_MAX_TIMEOUT_MS_DEFAULT } from "./transactions-hanging.ts";
import { TransactionHistory } from "./transactions-history.ts";
import { checkAbortedReads, checkZombieWrites } from "./transactions-reads.ts";
import { checkExactlyOnce } from "./transactions-eos.ts";
import type { CommittedLog } from "./committed-log.ts";
import type { GroupHistory } from "./groups-history.ts";
import type { Violation } from "./violation.ts";

/** The trace kinds the transaction checkers read; every other event is ignored (Trace.observe's kind filter). */
export const TRANSACTION_KINDS: readonly string[] = ["op", "client-config", "log-append", "txn-state", "txn-marker-written", "txn-lso", "hwm", "host-crash", "host-power-loss", "host-machine-crash", "host-shutdown", "host-start"];

export class TransactionCheckers {
  readonly history = new TransactionHistory();
  private readonly hanging: HangingTransactionChecker;
  /** True once a `txn-lso` was seen: only then are `hwm` events read. */
  private lsoSeen = false;

  constructor(transactionMaxTimeoutMs = TRANSACTION_MAX_TIMEOUT_MS_DEFAULT, cleanupIntervalMs = TRANSACTION_CLEANUP_INTERVAL_MS_DEFAULT) {
    this.hanging = new HangingTransactionChecker(this.history, transactionMaxTimeoutMs, cleanupIntervalMs);
  }

  /** Reads one trace event; returns the hanging transaction whose end it reveals, if any (the online check). */
  observe(event: TraceEvent): Violation | null {
    switch (event.kind) {
      case "hwm":
        return this.lsoSeen ? this.hanging.observe(event) : null;
      case "txn-lso":
        this.lsoSeen = true;
        return this.hanging.observe(event);
      default:
        this.history.observe(event);
        return null;
    }
  }

  /**
   * Whether `observe` reads an op with these fields (TransactionHistory.observe's tests): a transaction's `txn`
   * op, a transactional send, a read_committed poll. The checkers hand it no other op (most ops are plain sends).
   */
  static readsOp(fields: TraceFields): boolean {
    const f = fields.f;
    return f === "txn" || (f === "send" && fields.txnOpId !== undefined) || (f === "poll" && fields.isolationLevel === "read_committed" && fields.type === "ok");
  }

  /** Whether `observe` reads a log-append with these fields: a transactional data batch a leader appended. */
  static readsAppend(fields: TraceFields): boolean {
    return fields.isTransactional === true && fields.asLeader === true && fields.isControl !== true;
  }

  /** Whether `observe` reads hwm events (only once a partition's LSO was traced). */
  get readsHighWatermarks(): boolean {
    return this.lsoSeen;
  }

  /** True once the run produced any transactional op, read_committed poll or transaction event. */
  get active(): boolean {
    return this.history.active || this.lsoSeen;
  }

  /**
   * hanging-transaction (still stuck at the end), aborted-read, zombie-write, then the processors' exactly-once
   * lost-write and duplicate-write (`groups` and `committedLog` for their committed offsets and input records).
   */
  check(now: number, groups?: GroupHistory, committedLog?: (topicPartition: string) => CommittedLog | null, topicPartitions: readonly string[] = []): Violation[] {
    if (!this.active) return [];
    const exactlyOnce =
      groups !== undefined && committedLog !== undefined && this.history.processors.length > 0
        ? checkExactlyOnce(this.history.processors, this.history, groups, committedLog, topicPartitions, now)
        : [];
    return [...this.hanging.check(now), ...checkAbortedReads(this.history, now), ...checkZombieWrites(this.history, now), ...exactlyOnce];
  }
}
