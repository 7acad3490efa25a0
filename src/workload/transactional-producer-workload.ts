/**
 * The transactional producer workload: a client process owning a KafkaProducer with a transactional.id that runs
 * the application loop of a Java transactional producer — initTransactions(), then per transaction
 * beginTransaction(), `records` send()s at `ratePerSec` (local clock) spread round-robin over its topics (so one
 * transaction spans partitions and topics), then commitTransaction() (every `abortEvery`-th transaction:
 * abortTransaction()). On an abortable error (a failed send, commitTransaction failing with one) it aborts, as
 * the Java documentation's loop does, and goes on with the next transaction; on a fatal one (PRODUCER_FENCED,
 * INVALID_TXN_STATE, …) it closes the producer and stops.
 *
 * History (Jepsen-style, trace kind "op"): one `txn` op per transaction — invoke at beginTransaction with the
 * producer id and epoch and the planned `result`, then `ok` (committed, or aborted as planned; `result` says
 * which), `fail` (surely not committed: aborted after an error, or ended before any EndTxn) or `info` (unknown:
 * a commit was under way when a fatal error came), with its `sends` ({topic, partition, value, offset}). Each
 * record also gets the usual `send` ops, with `transactionalId`, `producerId`, `producerEpoch` and `txnOpId`.
 * Values are `${process}-${n padded to 6}` over the whole run, as the plain producer workload's.
 * Simplifications: startAt/stopAt count from the process start; a restarted process sends nothing more (its open
 * transaction stays open in the history, its outcome unknown); no max.block.ms on the transactional calls.
 */

import type { ProducerConfigInput } from "../clients/producer/config.ts";
import type { SendResult } from "../clients/producer/producer.ts";
import type { TransactionalState } from "../clients/producer/transactional.ts";
import { assert } from "../sim/assert.ts";
import type { Process, ProcessContext } from "../sim/host.ts";
import { ms } from "../sim/time.ts";
import type { KeyDistribution } from "./key-distribution.ts";
import { ProducerApplication, SEND_TAG } from "./producer-application.ts";

export interface TransactionSpec {
  /** Records per transaction. */
  readonly records: number;
  /** Every abortEvery-th transaction is aborted on purpose (0: none). */
  readonly abortEvery: number;
}

export interface TransactionalProducerWorkloadSpec {
  /** The topics written, round-robin per record. */
  readonly topics: readonly string[];
  /** Records in all. */
  readonly messages: number;
  readonly ratePerSec: number;
  readonly transaction: TransactionSpec;
  readonly keys?: number | undefined;
  readonly keyDistribution?: KeyDistribution | undefined;
  readonly startAtMs?: number | undefined;
  readonly stopAtMs?: number | undefined;
}

export interface TransactionalProducerWorkloadOptions {
  readonly bootstrap: readonly string[];
  readonly config: ProducerConfigInput;
  readonly workload: TransactionalProducerWorkloadSpec;
}

const INIT_TAG = "workload:init";
const BEGIN_TAG = "workload:begin";
const STOP_TAG = "workload:stop";

interface SentRecord {
  readonly topic: string;
  partition: number;
  readonly value: string;
  offset: number;
}

/** The transaction the application is running. */
interface OpenTransaction {
  readonly opId: number;
  readonly planned: "commit" | "abort";
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly sends: SentRecord[];
  /** Records handed to send() so far. */
  handed: number;
  /** The first send error (the transaction can no longer commit). */
  sendError: string | null;
  /** commitTransaction() was called while the transaction could still commit: an EndTxn(commit) may be out. */
  committing: boolean;
  ending: boolean;
}

export class TransactionalProducerWorkload extends ProducerApplication implements Process {
  private readonly txn: TransactionalState;
  private readonly transactionalId: string;
  private transactions = 0;
  private current: OpenTransaction | null = null;
  /** stopAt passed: the open transaction ends (commit or abort as planned), then nothing more. */
  private stopping = false;

  constructor(
    context: ProcessContext,
    private readonly options: TransactionalProducerWorkloadOptions,
  ) {
    const { workload } = options;
    assert(workload.topics.length > 0, "a transactional workload writes to at least one topic");
    assert(workload.transaction.records >= 1, "a transaction holds at least one record");
    super(context, options.bootstrap, options.config, workload.keys, workload.keyDistribution);
    assert(this.producer.transactional !== null, "a transactional workload needs a transactional.id");
    this.txn = this.producer.transactional;
    this.transactionalId = this.txn.transactionalId;
  }

  /** Transactions begun so far. */
  get transactionCount(): number {
    return this.transactions;
  }

  onStart(): void {
    if (!this.startProducer()) return;
    const { startAtMs, stopAtMs } = this.options.workload;
    this.context.setTimer(ms(startAtMs ?? 0), INIT_TAG);
    if (stopAtMs !== undefined) this.context.setTimer(ms(stopAtMs), STOP_TAG);
  }

  onTimer(tag: string, data: unknown): void {
    if (this.producer.onTimer(tag, data)) return;
    if (tag === INIT_TAG) this.init();
    else if (tag === BEGIN_TAG) this.begin();
    else if (tag === SEND_TAG) this.sendNext();
    else if (tag === STOP_TAG) this.stop();
    else assert(false, `unknown transactional workload timer ${tag}`);
  }

  private init(): void {
    if (this.stopped) return;
    this.producer.initTransactions((error) => {
      if (error !== null) return this.finish();
      this.begin();
    });
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopping = true;
    if (this.current === null) this.finish();
    else this.endTransaction();
  }

  private finish(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.producer.close();
  }

  /** beginTransaction(), unless the run is over. */
  private begin(): void {
    if (this.stopped) return;
    if (this.stopping || this.sent >= this.options.workload.messages) return this.finish();
    const error = this.producer.beginTransaction();
    if (error !== null) return this.finish();
    const opId = this.transactions++;
    const { abortEvery } = this.options.workload.transaction;
    const planned = abortEvery > 0 && (opId + 1) % abortEvery === 0 ? "abort" : "commit";
    const idempotence = this.producer.transactionManager!;
    this.current = {
      opId,
      planned,
      producerId: idempotence.producerId,
      producerEpoch: idempotence.producerEpoch,
      sends: [],
      handed: 0,
      sendError: null,
      committing: false,
      ending: false,
    };
    if (this.context.tracing) {
      this.context.trace("op", {
        process: this.context.node,
        f: "txn",
        opId,
        type: "invoke",
        transactionalId: this.transactionalId,
        producerId: idempotence.producerId,
        producerEpoch: idempotence.producerEpoch,
        result: planned,
      });
    }
    this.sendNext();
  }

  private sendNext(): void {
    const current = this.current;
    if (this.stopped || current === null || current.ending) return;
    const { topics, messages, ratePerSec, transaction } = this.options.workload;
    if (current.handed >= transaction.records || this.sent >= messages || current.sendError !== null || this.txn.state !== "IN_TRANSACTION") {
      return this.endTransaction();
    }
    if (this.producer.sendBlocked) {
      this.held = true;
      return;
    }
    const n = this.sent++;
    const topic = topics[current.handed % topics.length];
    current.handed++;
    const key = this.nextKey();
    const value = this.valueOf(n);
    const record: SentRecord = { topic, partition: -1, value, offset: -1 };
    current.sends.push(record);
    let invoked = false;
    let early: SendResult | null = null;
    const partition = this.producer.send({ topic, key, value }, (result) => {
      if (!invoked) early = result;
      else this.complete(current, n, key, record, result);
    });
    record.partition = partition;
    if (this.context.tracing) {
      this.context.trace("op", { process: this.context.node, f: "send", opId: n, value, key, topic, type: "invoke", partition, ...this.txnFields(current) });
    }
    invoked = true;
    if (early !== null) this.complete(current, n, key, record, early);
    const delayUs = ms((this.sent * 1000) / ratePerSec) - ms(((this.sent - 1) * 1000) / ratePerSec);
    this.context.setTimer(Math.max(1, delayUs), SEND_TAG);
  }

  private txnFields(current: OpenTransaction): { transactionalId: string; producerId: number; producerEpoch: number; txnOpId: number } {
    return { transactionalId: this.transactionalId, producerId: current.producerId, producerEpoch: current.producerEpoch, txnOpId: current.opId };
  }

  private complete(current: OpenTransaction, opId: number, key: string | null, record: SentRecord, result: SendResult): void {
    if (result.partition >= 0) record.partition = result.partition;
    if ("offset" in result) record.offset = result.offset;
    else if (current.sendError === null) current.sendError = result.error;
    this.traceOutcome(opId, record.value, key, record.topic, result, this.txnFields(current));
  }

  /** commitTransaction() or abortTransaction(), as planned or as an error requires. */
  private endTransaction(): void {
    const current = this.current;
    if (current === null || current.ending) return;
    current.ending = true;
    if (this.txn.state === "FATAL_ERROR") return this.outcome(current, "fail", "abort", this.txn.machine.lastError);
    if (current.planned === "abort" || this.txn.state === "ABORTABLE_ERROR") return this.abort(current, current.planned === "abort" ? null : this.txn.machine.lastError);
    current.committing = true;
    this.producer.commitTransaction((error) => {
      if (error === null) return this.outcome(current, "ok", "commit", null);
      if (this.txn.state === "ABORTABLE_ERROR") return this.abort(current, error);
      // A fatal error while committing: the EndTxn(commit) may have reached the coordinator.
      this.outcome(current, "info", "commit", error);
    });
  }

  private abort(current: OpenTransaction, cause: string | null): void {
    this.producer.abortTransaction((error) => {
      if (error !== null) return this.outcome(current, "fail", "abort", cause ?? error);
      if (cause === null) this.outcome(current, "ok", "abort", null);
      else this.outcome(current, "fail", "abort", cause);
    });
  }

  private outcome(current: OpenTransaction, type: "ok" | "fail" | "info", result: "commit" | "abort", error: string | null): void {
    if (this.current === current) this.current = null;
    if (this.context.tracing) {
      // The offset each record was acknowledged at (-1: not acknowledged), whatever became of the transaction.
      const sends = current.sends.map((s) => ({ topic: s.topic, partition: s.partition, value: s.value, offset: s.offset }));
      const base = { process: this.context.node, f: "txn", opId: current.opId, type, transactionalId: this.transactionalId, producerId: current.producerId, producerEpoch: current.producerEpoch, result, sends };
      this.context.trace("op", error === null ? base : { ...base, error });
    }
    if (this.txn.state === "FATAL_ERROR" || type === "info") return this.finish();
    this.context.setTimer(0, BEGIN_TAG);
  }
}
