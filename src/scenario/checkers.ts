/**
 * Runs the invariant checkers beside a scenario, as passive observers: the replication checkers
 * (divergent-log, hwm-regression, two-leaders, two-controllers) see each trace event of the kinds they read as
 * it is emitted and check after each one that can break an invariant; the history checker (lost-write) runs at the end over
 * the client history and the final committed logs (lost-write, duplicate-write, reordered-write); the group
 * checkers find double-assignment online, as each membership event arrives, and lost-commit and skipped-record at
 * the end; the transaction checkers find hanging-transaction as each partition's LSO moves and at the end, and
 * aborted-read and zombie-write at the end (a run without transactions stores nothing; the bound is the brokers'
 * transaction.max.timeout.ms plus the abort cleanup interval); zk-ephemeral-leak reads the ZooKeeper
 * servers' trees every `intervalMs` of virtual time. Each violation is traced as a `violation` event on its first
 * node.
 */

import { EphemeralLeakChecker, type ZkServerView } from "../check/zk.ts";
import { REPLICATION_KINDS, ReplicationCheckers } from "../check/replication.ts";
import { HISTORY_KINDS, HistoryCheckers } from "../check/history.ts";
import { GROUP_KINDS, GroupCheckers } from "../check/groups.ts";
import { TRANSACTION_KINDS, TransactionCheckers } from "../check/transactions.ts";
import type { CommittedLog } from "../check/committed-log.ts";
import type { Violation } from "../check/violation.ts";
import type { EventTarget } from "../sim/kernel.ts";
import { traceEvent, type TraceEvent, type TraceFields } from "../sim/trace.ts";
import { ms } from "../sim/time.ts";
import type { ZkServer } from "../zk/server.ts";
import type { BuiltWorld } from "./build.ts";

const EVENT_CHECK = 1;

/** Which checkers read a trace kind (bits of OnlineCheckers.routes). */
const READS_HISTORY = 1;
const READS_REPLICATION = 2;
const READS_GROUPS = 4;
const READS_TRANSACTIONS = 8;

export class OnlineCheckers implements EventTarget {
  private readonly ephemeralLeaks = new EphemeralLeakChecker();
  private readonly replication = new ReplicationCheckers();
  private readonly history = new HistoryCheckers();
  private readonly groups = new GroupCheckers();
  private readonly transactions: TransactionCheckers;
  /** trace kind → the READS_* bits of the checkers that read it. */
  private routes = new Map<string, number>();

  constructor(
    private readonly built: BuiltWorld,
    private readonly violations: Violation[],
    private readonly intervalMs = 100,
  ) {
    const timeouts = built.transactionTimeouts;
    this.transactions = timeouts === null ? new TransactionCheckers() : new TransactionCheckers(timeouts.maxTimeoutMs, timeouts.cleanupIntervalMs);
  }

  start(): void {
    if (this.built.brokers.length > 0) {
      // Only the kinds the checkers read: the run does not build event objects for the rest (sends, fetches…).
      // Routed by kind: each event goes only to the checkers that read its kind, in the fixed order history,
      // replication, groups, transactions (the order their violations are recorded in). One observer and a
      // bit set per kind, so the per-event path is a Map lookup and direct calls (no closure per checker).
      const routes = new Map<string, number>();
      const route = (kinds: readonly string[], checker: number): void => {
        for (const kind of kinds) routes.set(kind, (routes.get(kind) ?? 0) | checker);
      };
      route(HISTORY_KINDS, READS_HISTORY);
      route(REPLICATION_KINDS, READS_REPLICATION);
      route(GROUP_KINDS, READS_GROUPS);
      route(TRANSACTION_KINDS, READS_TRANSACTIONS);
      this.routes = routes;
      this.built.world.trace.observeFields((t, seq, node, kind, fields) => this.observeFields(t, seq, node, kind, fields), routes.keys());
    }
    if (this.built.zkServers.length > 0) this.built.world.kernel.after(ms(this.intervalMs), this, EVENT_CHECK);
  }

  /**
   * The three kinds that are most of a run's checked events (a producer's op per record outcome, a log-append per
   * batch and replica, an hwm per HW move) go field by field to the checkers that read them, without an event
   * object; the few op, log-append and hwm events the group or transaction checkers read become one first (a
   * field test says which), and so does every event of another kind. The checkers' order is `observe`'s.
   */
  private observeFields(t: number, seq: number, node: string, kind: string, fields: TraceFields | undefined): void {
    if (fields !== undefined) {
      if (kind === "op") {
        this.history.observeOp(fields, t, node);
        if (typeof fields.group === "string") this.recordAll(this.groups.observe(traceEvent(t, seq, node, kind, fields)));
        if (TransactionCheckers.readsOp(fields)) this.recordOne(this.transactions.observe(traceEvent(t, seq, node, kind, fields)));
        return;
      }
      if (kind === "log-append") {
        this.recordAll(this.replication.observeAppend(fields, node, t));
        if (TransactionCheckers.readsAppend(fields)) this.recordOne(this.transactions.observe(traceEvent(t, seq, node, kind, fields)));
        return;
      }
      if (kind === "hwm") {
        this.recordAll(this.replication.observeHighWatermark(fields, node, t));
        if (this.transactions.readsHighWatermarks) this.recordOne(this.transactions.observe(traceEvent(t, seq, node, kind, fields)));
        return;
      }
    }
    this.observe(traceEvent(t, seq, node, kind, fields));
  }

  private observe(event: TraceEvent): void {
    const readers = this.routes.get(event.kind)!;
    if ((readers & READS_HISTORY) !== 0) this.history.observe(event);
    if ((readers & READS_REPLICATION) !== 0) this.recordAll(this.replication.observe(event));
    if ((readers & READS_GROUPS) !== 0) this.recordAll(this.groups.observe(event));
    if ((readers & READS_TRANSACTIONS) !== 0) this.recordOne(this.transactions.observe(event));
  }

  private recordAll(found: readonly Violation[]): void {
    for (let i = 0; i < found.length; i++) this.record(found[i]);
  }

  private recordOne(found: Violation | null): void {
    if (found !== null) this.record(found);
  }

  handleEvent(): void {
    this.checkNow();
    this.built.world.kernel.after(ms(this.intervalMs), this, EVENT_CHECK);
  }

  finish(): void {
    this.checkNow();
    if (this.built.brokers.length === 0) return;
    const now = this.built.world.now;
    for (const violation of this.replication.finish(now)) this.record(violation);
    // Each partition's committed log once: the history, group and transaction checks all read them, and nothing
    // changes between them.
    const logs = new Map<string, CommittedLog | null>();
    const committed = (tp: string): CommittedLog | null => {
      let log = logs.get(tp);
      if (log === undefined) logs.set(tp, (log = this.replication.committedLog(tp)));
      return log;
    };
    for (const violation of this.history.check(committed, now, this.replication.topicPartitions())) this.record(violation);
    for (const violation of this.groups.check(committed, now)) this.record(violation);
    for (const violation of this.transactions.check(now, this.groups.history, committed, this.replication.topicPartitions())) this.record(violation);
  }

  /** The (group, partition, offset) processed more than once; null when the run had no consumer group. */
  get duplicateDeliveries(): number | null {
    return this.groups.active ? this.groups.duplicateDeliveries : null;
  }

  private checkNow(): void {
    const { world, zkServers } = this.built;
    const views: ZkServerView[] = [];
    for (const name of zkServers) {
      const host = world.host(name);
      if (!host.isUp()) continue;
      const server = host.process as ZkServer;
      views.push({ name, tree: server.tree });
    }
    for (const violation of this.ephemeralLeaks.check(views, world.now)) this.record(violation);
  }

  private record(violation: Violation): void {
    this.violations.push(violation);
    this.built.world.trace.emit(violation.nodes[0] ?? "checker", "violation", {
      name: violation.name,
      evidence: violation.evidence,
    });
  }
}
