/**
 * ZkUnderTest over a real ZooKeeper server, through node-zookeeper-client's raw protocol records (nzc.ts).
 * Session A does every read and holds every watch; session B is opened on demand and closed by "closeSession".
 * Paths the Java client would reject never reach the server (BADARGUMENTS), as in the model.
 */

import { randomBytes } from "node:crypto";
import type { ZkWriteOp } from "../../../src/protocol/zk.ts";
import {
  codeName,
  multiCode,
  RunRoot,
  sortEvents,
  ZxidLabels,
  type DiffEvent,
  type DiffOp,
  type DiffOpResult,
  type DiffResult,
  type DiffStat,
  type SessionName,
  type ZkUnderTest,
} from "./ops.ts";
import {
  createFlags,
  EVENT_NAMES,
  nzcPathIsValid,
  OP,
  RawSession,
  rawStat,
  type RawMultiOp,
  type RawReply,
} from "./nzc.ts";

const OK = 0;
const NONODE = -101;

export class RealZkUnderTest implements ZkUnderTest {
  private runs = 0;
  private readonly tag = randomBytes(4).toString("hex");

  constructor(private readonly connectString: string) {}

  async run(ops: DiffOp[]): Promise<DiffResult[]> {
    const root = new RunRoot(`/kafkasim-diff-${this.tag}-${this.runs++}`);
    const labels = new ZxidLabels();
    const a = await RawSession.open(this.connectString);
    const open: { b: RawSession | null } = { b: null };
    const owners = new Map<bigint, SessionName>([[a.sessionId, "A"]]);
    const sessionFor = async (name: SessionName): Promise<RawSession> => {
      if (name === "A") return a;
      if (!open.b) {
        open.b = await RawSession.open(this.connectString);
        owners.set(open.b.sessionId, "B");
      }
      return open.b;
    };
    const results: DiffResult[] = [];
    try {
      const made = await a.create(root.root, "", 0);
      if (made.err !== OK) throw new Error(`cannot create the run root ${root.root}: ${codeName(made.err)}`);
      labels.root(made.zxid);

      const stat = (record: unknown): DiffStat => {
        const s = rawStat(record);
        return {
          version: s.version,
          cversion: s.cversion,
          aversion: s.aversion,
          numChildren: s.numChildren,
          dataLength: s.dataLength,
          ephemeralOwner: s.ephemeralOwner === 0n ? "" : (owners.get(s.ephemeralOwner) ?? "?"),
          czxid: labels.label(s.czxid),
          mzxid: labels.label(s.mzxid),
          pzxid: labels.label(s.pzxid),
        };
      };
      /** Waits until every event caused so far has reached A: a round trip on A's connection. */
      const syncA = async () => (await a.exists(root.root, false)).zxid;

      for (let i = 0; i < ops.length; i++) {
        const op = ops[i];
        const seen = a.events.length;
        let result: Omit<DiffResult, "events">;
        switch (op.op) {
          case "create": {
            if (!nzcPathIsValid(op.sequential ? root.abs(op.path) + "1" : root.abs(op.path))) {
              result = { code: "BADARGUMENTS" };
              break;
            }
            const s = await sessionFor(op.session);
            const r = await s.create(root.abs(op.path), op.data, createFlags(op.ephemeral, op.sequential));
            labels.set(r.zxid, `op${i}`);
            result =
              r.err === OK ? { code: "OK", path: root.rel(r.payload!.path as string) } : { code: codeName(r.err) };
            if (s !== a) await syncA();
            break;
          }
          case "delete":
          case "setData": {
            if (!nzcPathIsValid(root.abs(op.path))) {
              result = { code: "BADARGUMENTS" };
              break;
            }
            const s = await sessionFor(op.session);
            const r =
              op.op === "delete"
                ? await s.delete(root.abs(op.path), op.version)
                : await s.setData(root.abs(op.path), op.data, op.version);
            labels.set(r.zxid, `op${i}`);
            if (r.err !== OK) result = { code: codeName(r.err) };
            else if (op.op === "setData") result = { code: "OK", stat: stat(r.payload!.stat) };
            else result = { code: "OK" };
            if (s !== a) await syncA();
            break;
          }
          case "getData":
          case "exists":
          case "getChildren": {
            if (!nzcPathIsValid(root.abs(op.path))) {
              result = { code: "BADARGUMENTS" };
              break;
            }
            const r: RawReply = await a[op.op](root.abs(op.path), op.watch);
            if (op.op === "exists") {
              if (r.err === NONODE) result = { code: "OK", stat: null };
              else if (r.err === OK) result = { code: "OK", stat: stat(r.payload!.stat) };
              else result = { code: codeName(r.err) };
            } else if (r.err !== OK) {
              result = { code: codeName(r.err) };
            } else if (op.op === "getData") {
              const d = r.payload!.data as Buffer | undefined;
              result = { code: "OK", data: d ? d.toString("utf8") : "", stat: stat(r.payload!.stat) };
            } else {
              const children = [...(r.payload!.children as string[])].sort();
              result = { code: "OK", children, stat: stat(r.payload!.stat) };
            }
            break;
          }
          case "multi": {
            const s = await sessionFor(op.session);
            const r = await s.multi(op.ops.map((sub) => rawOp(root, sub)));
            labels.set(r.zxid, `op${i}`);
            if (r.err !== OK) {
              result = { code: codeName(r.err) };
            } else {
              const subs = (r.payload!.results as { type: number; err?: number; path?: string; stat?: unknown }[]).map(
                (x): DiffOpResult => {
                  if (x.type === -1) return { code: codeName(x.err!) };
                  if (x.type === OP.CREATE) return { code: "OK", path: root.rel(x.path!) };
                  if (x.type === OP.SET_DATA) return { code: "OK", stat: stat(x.stat) };
                  return { code: "OK" };
                },
              );
              result = { code: multiCode(subs), results: subs };
            }
            if (s !== a) await syncA();
            break;
          }
          case "closeSession": {
            if (open.b) {
              await open.b.close();
              open.b = null;
              labels.set(await syncA(), `op${i}`);
            }
            result = { code: "OK" };
            break;
          }
        }
        let events: DiffEvent[] = a.events
          .slice(seen)
          .map((e) => ({ event: EVENT_NAMES[e.type], path: root.rel(e.path) }));
        if (op.op === "closeSession") events = sortEvents(events);
        results.push({ ...result, events });
      }
    } finally {
      await open.b?.close();
      await a.close();
    }
    return results;
  }
}

function rawOp(root: RunRoot, op: ZkWriteOp): RawMultiOp {
  switch (op.op) {
    case "create":
      return RawSession.createOp(root.abs(op.path), op.data, createFlags(op.ephemeral, op.sequential));
    case "delete":
      return RawSession.deleteOp(root.abs(op.path), op.version);
    case "setData":
      return RawSession.setDataOp(root.abs(op.path), op.data, op.version);
    case "check":
      return RawSession.checkOp(root.abs(op.path), op.version);
  }
}
