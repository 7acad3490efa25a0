/**
 * The controller's side of KafkaZkClient: reads retried across connection loss (retryRequestsUntilConnected)
 * on whatever ZooKeeper client the broker holds at the time of each attempt, and controller writes fenced as
 * in KAFKA-6082 (2.1.0): multi([check(/controller_epoch, epochZkVersion), op…]), a failed check meaning the
 * controller moved. With compat.controllerEpochCheck false the writes are plain (pre-2.1), so a zombie
 * controller's write on a new session succeeds. Every write result is traced as controller-write.
 * Simplification: waiting for a reconnection is a bounded poll, not a condition variable.
 */

import type { Stat, ZkCode, ZkReply, ZkWriteOp } from "../../protocol/zk.ts";
import { ms } from "../../sim/time.ts";
import { CONTROLLER_EPOCH_PATH } from "../zk-data.ts";
import type { BrokerServices } from "../services.ts";

export const ZK_RETRY_TIMER = "controller:zk-retry";
const RETRY_BACKOFF_MS = 100;
const MAX_ATTEMPTS = 300;

export interface WriteResult {
  /** The operation's code (the first failing sub-operation's code for a multi). */
  code: ZkCode;
  /** The /controller_epoch check failed: another controller was elected (ControllerMovedException). */
  moved: boolean;
  /** setData's new stat. */
  stat: Stat | null;
}

type ReadOp = "getData" | "exists" | "getChildren";

export class ControllerZk {
  private nextRetry = 0;
  /** lastZxidSeen of the client that delivered the latest reply. */
  private replyZxid = 0;
  private readonly retries = new Map<number, { timer: number; run: () => void }>();

  constructor(
    private readonly services: BrokerServices,
    /** Current controller epoch and the /controller_epoch zkVersion to check against. */
    private readonly fence: () => { epoch: number; epochZkVersion: number },
  ) {}

  read(op: ReadOp, path: string, watch: boolean, cb: (reply: ZkReply) => void): void {
    this.call((zk, reply) => zk[op](path, watch, reply), cb);
  }

  /** A controller write: fenced by the epoch check when compat.controllerEpochCheck is on. */
  write(ops: ZkWriteOp[], cb: (result: WriteResult) => void): void {
    const { epoch, epochZkVersion } = this.fence();
    const fenced = this.services.compat.controllerEpochCheck;
    const path = ops[0].path;
    const done = (reply: ZkReply, moved: boolean): void => {
      const stat = statOf(reply, fenced ? 1 : 0);
      const code: ZkCode = moved ? "BADVERSION" : reply.code;
      const context = this.services.context;
      if (context.tracing) {
        // Without a stat (create in a multi, delete) the reply's zxid, which the client has just seen, is the write's.
        const zxid = code === "OK" ? (stat?.mzxid ?? statOf(reply, -1)?.mzxid ?? this.replyZxid) : null;
        context.trace("controller-write", { controllerEpoch: epoch, path, code, zxid, fenced, controllerMoved: moved, ops: ops.length });
      }
      cb({ code, moved, stat });
    };
    if (fenced) {
      const check: ZkWriteOp = { op: "check", path: CONTROLLER_EPOCH_PATH, version: epochZkVersion };
      this.call(
        (zk, reply) => zk.multi([check, ...ops], reply),
        (reply) => done(reply, reply.results?.[0]?.code === "BADVERSION"),
      );
    } else if (ops.length === 1) {
      this.call((zk, reply) => single(zk, ops[0], reply), (reply) => done(reply, false));
    } else {
      this.call((zk, reply) => zk.multi(ops, reply), (reply) => done(reply, false));
    }
  }

  /** An unfenced call (the election itself), retried across connection loss like every other. */
  call(issue: (zk: ReturnType<BrokerServices["zk"]>, reply: (r: ZkReply) => void) => void, cb: (reply: ZkReply) => void): void {
    let attempts = 0;
    const attempt = (): void => {
      attempts++;
      const zk = this.services.zk();
      issue(zk, (reply) => {
        this.replyZxid = zk.lastZxidSeen;
        if ((reply.code === "CONNECTIONLOSS" || reply.code === "SESSIONEXPIRED") && attempts < MAX_ATTEMPTS) {
          this.later(attempt);
        } else {
          cb(reply);
        }
      });
    };
    attempt();
  }

  onTimer(data: unknown): void {
    const entry = this.retries.get(data as number);
    if (entry === undefined) return;
    this.retries.delete(data as number);
    entry.run();
  }

  /** Broker shutdown: pending retries are dropped. */
  cancelAll(): void {
    for (const entry of this.retries.values()) this.services.context.cancelTimer(entry.timer);
    this.retries.clear();
  }

  private later(run: () => void): void {
    const id = this.nextRetry++;
    const timer = this.services.context.setTimer(ms(RETRY_BACKOFF_MS), ZK_RETRY_TIMER, id);
    this.retries.set(id, { timer, run });
  }
}

function single(zk: ReturnType<BrokerServices["zk"]>, op: ZkWriteOp, reply: (r: ZkReply) => void): void {
  switch (op.op) {
    case "create":
      return zk.create(op.path, op.data, { ephemeral: op.ephemeral, sequential: op.sequential }, reply);
    case "delete":
      return zk.delete(op.path, op.version, reply);
    case "setData":
      return zk.setData(op.path, op.data, op.version, reply);
    case "check":
      return zk.multi([op], reply);
  }
}

/** The stat of a write's reply: the single op's, or sub-result `index` of a multi (-1: any sub-result with one). */
export function statOf(reply: ZkReply, index: number): Stat | null {
  if (reply.results === undefined) return reply.stat ?? null;
  if (index >= 0) return reply.results[index]?.stat ?? null;
  return reply.results.find((r) => r.stat !== undefined)?.stat ?? null;
}
