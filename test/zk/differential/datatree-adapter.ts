/**
 * ZkUnderTest over the model alone: DataTree.prepareAndApply with increasing zxids for every write and session
 * change, DataTree reads, and a WatchManager holding session A's watches (registered as a ZooKeeper server
 * does: getData and getChildren only when the node exists, exists always — as a data watch when the node
 * exists, an exist watch when it does not).
 */

import { makeZxid, type SessionId, type Stat, type ZkReply } from "../../../src/protocol/zk.ts";
import { DataTree, type ZkTxnRequest } from "../../../src/zk/datatree.ts";
import type { ZkTxnHeader } from "../../../src/zk/txn.ts";
import { WatchManager, type WatchTrigger } from "../../../src/zk/watches.ts";
import {
  RunRoot,
  sortEvents,
  ZxidLabels,
  type DiffEvent,
  type DiffOp,
  type DiffResult,
  type DiffStat,
  type SessionName,
  type ZkUnderTest,
} from "./ops.ts";

const SESSION_A: SessionId = 0x1_0000;

export class DataTreeUnderTest implements ZkUnderTest {
  /** The tree of the last run (for tests that look inside). */
  lastTree: DataTree | null = null;

  async run(ops: DiffOp[]): Promise<DiffResult[]> {
    const tree = new DataTree();
    this.lastTree = tree;
    const watches = new WatchManager<SessionName>();
    const root = new RunRoot("/r");
    const labels = new ZxidLabels();
    const owners = new Map<SessionId, SessionName>([[SESSION_A, "A"]]);
    let counter = 0;
    let nextB = 0x2_0000;
    let b: SessionId | null = null;

    const write = (sessionId: SessionId, request: ZkTxnRequest) => {
      counter++;
      const header: ZkTxnHeader = { zxid: makeZxid(1, counter), time: 1_000 + counter, sessionId, cxid: counter };
      const { reply, triggers } = tree.prepareAndApply(header, request);
      return { zxid: header.zxid, reply, triggers };
    };
    const fire = (triggers: WatchTrigger[]): DiffEvent[] =>
      watches
        .trigger(triggers)
        .filter((f) => f.watcher === "A")
        .map((f) => ({ event: f.event, path: root.rel(f.path) }));
    const sessionFor = (name: SessionName): SessionId => {
      if (name === "A") return SESSION_A;
      if (b === null) {
        b = nextB++;
        owners.set(b, "B");
        write(b, { op: "createSession", timeoutMs: 10_000 });
      }
      return b;
    };
    const stat = (s: Stat): DiffStat => ({
      version: s.version,
      cversion: s.cversion,
      aversion: s.aversion,
      numChildren: s.numChildren,
      dataLength: s.dataLength,
      ephemeralOwner: s.ephemeralOwner === 0 ? "" : (owners.get(s.ephemeralOwner) ?? "?"),
      czxid: labels.label(s.czxid),
      mzxid: labels.label(s.mzxid),
      pzxid: labels.label(s.pzxid),
    });

    write(SESSION_A, { op: "createSession", timeoutMs: 10_000 });
    const made = write(SESSION_A, { op: "create", path: root.root, data: "", ephemeral: false, sequential: false });
    if (made.reply.code !== "OK") throw new Error(`cannot create the run root: ${made.reply.code}`);
    labels.root(made.zxid);

    const results: DiffResult[] = [];
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      let reply: ZkReply;
      let events: DiffEvent[] = [];
      let result: Omit<DiffResult, "events">;
      switch (op.op) {
        case "create":
        case "delete":
        case "setData": {
          const { session, ...fields } = op;
          const w = write(sessionFor(session), { ...fields, path: root.abs(op.path) });
          labels.set(w.zxid, `op${i}`);
          events = fire(w.triggers);
          reply = w.reply;
          result =
            reply.code !== "OK"
              ? { code: reply.code }
              : op.op === "create"
                ? { code: "OK", path: root.rel(reply.path!) }
                : op.op === "setData"
                  ? { code: "OK", stat: stat(reply.stat!) }
                  : { code: "OK" };
          break;
        }
        case "getData":
        case "exists":
        case "getChildren": {
          const path = root.abs(op.path);
          reply = tree[op.op](path);
          if (reply.code !== "OK") {
            result = { code: reply.code };
          } else if (op.op === "getData") {
            if (op.watch) watches.add("data", path, "A");
            result = { code: "OK", data: reply.data, stat: stat(reply.stat!) };
          } else if (op.op === "exists") {
            if (op.watch) watches.add(reply.stat ? "data" : "exist", path, "A");
            result = { code: "OK", stat: reply.stat ? stat(reply.stat) : null };
          } else {
            if (op.watch) watches.add("child", path, "A");
            result = { code: "OK", children: reply.children, stat: stat(reply.stat!) };
          }
          break;
        }
        case "multi": {
          const w = write(sessionFor(op.session), {
            op: "multi",
            ops: op.ops.map((sub) => ({ ...sub, path: root.abs(sub.path) })),
          });
          labels.set(w.zxid, `op${i}`);
          events = fire(w.triggers);
          result = {
            code: w.reply.code,
            results: w.reply.results!.map((r) =>
              r.code !== "OK"
                ? { code: r.code }
                : r.path !== undefined
                  ? { code: "OK", path: root.rel(r.path) }
                  : r.stat
                    ? { code: "OK", stat: stat(r.stat) }
                    : { code: "OK" },
            ),
          };
          break;
        }
        case "closeSession": {
          if (b !== null) {
            const w = write(b, { op: "closeSession" });
            labels.set(w.zxid, `op${i}`);
            events = sortEvents(fire(w.triggers));
            watches.removeWatcher("B");
            b = null;
          }
          result = { code: "OK" };
          break;
        }
      }
      results.push({ ...result, events });
    }
    return results;
  }
}
