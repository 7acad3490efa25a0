/**
 * ZkUnderTest over the simulated ensemble: three ZkServer processes (test/zk/ensemble.ts) on a fresh
 * simulated world per run, driven through the simulated ZkClient. Session A is a client host pinned to one
 * server; every session B is a new client host pinned to another server, so B's writes reach A's server
 * through the leader's proposals and commits, as with separate clients of a real ensemble. The world runs
 * synchronously inside run(): each op is issued and the world is run (Ensemble.runUntil) until its callback
 * fired. After an op of session B and after closeSession, A does a `sync` (its server catches up with the
 * leader's commits, and the events they fired are sent before the sync's reply) — the ensemble counterpart
 * of the real adapter's round trip on A's connection to a standalone server.
 *
 * The world's seed and the servers the clients use come from a hash of the ops, so a run (and a shrunk
 * counterexample) replays exactly. A run throws when session A ever loses its connection or when the
 * client library's watch events differ from the ones the server sent (neither should happen without faults).
 */

import type { SessionId, Stat, ZkReply } from "../../../src/protocol/zk.ts";
import type { ZkClient } from "../../../src/zk/client.ts";
import { Ensemble, type ClientProcess } from "../ensemble.ts";
import {
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

const SERVERS = 3;
/** Long enough that no session comes near expiry while a run's world is advanced op by op. */
const SESSION_TIMEOUT_MS = 30_000;
/** Virtual time an op (or a connect) may take before the run is declared stuck. */
const OP_LIMIT_MS = 30_000;

/** FNV-1a over the ops' JSON: the run's seed and server placement. */
function hashOps(ops: DiffOp[]): number {
  let h = 0x811c9dc5;
  const text = JSON.stringify(ops);
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export class EnsembleUnderTest implements ZkUnderTest {
  /** The ensemble of the last run (for tests that look inside). */
  lastEnsemble: Ensemble | null = null;

  async run(ops: DiffOp[]): Promise<DiffResult[]> {
    return new EnsembleRun(ops, this).results();
  }
}

class EnsembleRun {
  private readonly zk: Ensemble;
  private readonly root = new RunRoot("/r");
  private readonly labels = new ZxidLabels();
  private readonly owners = new Map<SessionId, SessionName>();
  private readonly a: ClientProcess;
  private readonly aServer: string;
  private readonly bServers: string[];
  private b: ClientProcess | null = null;
  private bCount = 0;

  constructor(
    private readonly ops: DiffOp[],
    owner: EnsembleUnderTest,
  ) {
    const hash = hashOps(ops);
    this.zk = new Ensemble({ servers: SERVERS, seed: hash, sessionTimeoutMs: SESSION_TIMEOUT_MS }).startServers();
    owner.lastEnsemble = this.zk;
    if (!this.zk.runUntil(() => this.zk.stable(), OP_LIMIT_MS)) throw new Error("the simulated ensemble elected no leader");
    const names = this.zk.names;
    const first = hash % SERVERS;
    this.aServer = names[first];
    // B sessions alternate over the other servers, starting at one chosen by the hash.
    const others = names.filter((_, i) => i !== first);
    const shift = (hash >>> 8) % others.length;
    this.bServers = [...others.slice(shift), ...others.slice(0, shift)];
    this.a = this.openClient("a", this.aServer, "A");
  }

  private openClient(name: string, server: string, session: SessionName): ClientProcess {
    this.zk.addClient(name, [server]);
    const process = this.zk.startClient(name);
    if (!this.zk.runUntil(() => process.client.state === "CONNECTED", OP_LIMIT_MS)) {
      throw new Error(`session ${session} (${name}) did not connect to ${server}: ${process.client.state}`);
    }
    this.owners.set(process.client.sessionId, session);
    return process;
  }

  private sessionB(): ClientProcess {
    if (this.b === null) {
      const server = this.bServers[this.bCount % this.bServers.length];
      this.b = this.openClient(`b${++this.bCount}`, server, "B");
    }
    return this.b;
  }

  private client(name: SessionName): ClientProcess {
    return name === "A" ? this.a : this.sessionB();
  }

  /**
   * Issues a call and runs the world until its callback; returns the reply, the zxid the client had seen when
   * it came (a write's own zxid: nothing else commits meanwhile), and how many watch events A had by then.
   */
  private call(process: ClientProcess, what: string, issue: (zk: ZkClient, done: (reply: ZkReply) => void) => void) {
    let done: { reply: ZkReply; zxid: number; events: number } | null = null;
    issue(process.client, (reply) => {
      done = { reply, zxid: process.client.lastZxidSeen, events: this.a.events.length };
    });
    if (!this.zk.runUntil(() => done !== null, OP_LIMIT_MS)) throw new Error(`${what}: no reply within ${OP_LIMIT_MS} ms`);
    return done!;
  }

  /** Makes every event caused so far reach A: a sync on A's connection. Returns A's event count after it. */
  private syncA(): number {
    const r = this.call(this.a, "sync on A", (z, done) => z.sync(this.root.root, done));
    if (r.reply.code !== "OK") throw new Error(`sync on A failed: ${r.reply.code}`);
    return r.events;
  }

  private stat(s: Stat): DiffStat {
    return {
      version: s.version,
      cversion: s.cversion,
      aversion: s.aversion,
      numChildren: s.numChildren,
      dataLength: s.dataLength,
      ephemeralOwner: s.ephemeralOwner === 0 ? "" : (this.owners.get(s.ephemeralOwner) ?? "?"),
      czxid: this.labels.label(s.czxid),
      mzxid: this.labels.label(s.mzxid),
      pzxid: this.labels.label(s.pzxid),
    };
  }

  results(): DiffResult[] {
    const { root, labels, a } = this;
    const made = this.call(a, "create the run root", (z, done) => z.create(root.root, "", {}, done));
    if (made.reply.code !== "OK") throw new Error(`cannot create the run root: ${made.reply.code}`);
    labels.root(made.zxid);
    const aStates = a.states.length;

    const results: DiffResult[] = [];
    for (let i = 0; i < this.ops.length; i++) {
      const op = this.ops[i];
      const label = `op ${i}`;
      const seen = a.events.length;
      let upTo = seen;
      let result: Omit<DiffResult, "events">;
      switch (op.op) {
        case "create":
        case "delete":
        case "setData": {
          const process = this.client(op.session);
          const r = this.call(process, label, (z, done) => {
            const path = root.abs(op.path);
            if (op.op === "create") z.create(path, op.data, { ephemeral: op.ephemeral, sequential: op.sequential }, done);
            else if (op.op === "delete") z.delete(path, op.version, done);
            else z.setData(path, op.data, op.version, done);
          });
          labels.set(r.zxid, `op${i}`);
          const reply = r.reply;
          if (reply.code !== "OK") result = { code: reply.code };
          else if (op.op === "create") result = { code: "OK", path: root.rel(reply.path!) };
          else if (op.op === "setData") result = { code: "OK", stat: this.stat(reply.stat!) };
          else result = { code: "OK" };
          upTo = process === a ? r.events : this.syncA();
          break;
        }
        case "getData":
        case "exists":
        case "getChildren": {
          const r = this.call(a, label, (z, done) => z[op.op](root.abs(op.path), op.watch, done));
          const reply = r.reply;
          upTo = r.events;
          if (reply.code !== "OK") result = { code: reply.code };
          else if (op.op === "getData") result = { code: "OK", data: reply.data, stat: this.stat(reply.stat!) };
          else if (op.op === "exists") result = { code: "OK", stat: reply.stat ? this.stat(reply.stat) : null };
          else result = { code: "OK", children: [...reply.children!].sort(), stat: this.stat(reply.stat!) };
          break;
        }
        case "multi": {
          const process = this.client(op.session);
          const r = this.call(process, label, (z, done) =>
            z.multi(
              op.ops.map((sub) => ({ ...sub, path: root.abs(sub.path) })),
              done,
            ),
          );
          labels.set(r.zxid, `op${i}`);
          const subs = (r.reply.results ?? []).map(
            (x): DiffOpResult =>
              x.code !== "OK"
                ? { code: x.code }
                : x.path !== undefined
                  ? { code: "OK", path: root.rel(x.path) }
                  : x.stat
                    ? { code: "OK", stat: this.stat(x.stat) }
                    : { code: "OK" },
          );
          result = r.reply.results === undefined ? { code: r.reply.code } : { code: r.reply.code, results: subs };
          upTo = process === a ? r.events : this.syncA();
          break;
        }
        case "closeSession": {
          const b = this.b;
          if (b !== null) {
            let closed = false;
            b.client.close(() => (closed = true));
            if (!this.zk.runUntil(() => closed, OP_LIMIT_MS)) throw new Error(`${label}: close did not complete`);
            if (b.client.state !== "CLOSED") throw new Error(`${label}: session B ended ${b.client.state}`);
            // The closeSession reply carries the closeSession txn's zxid.
            labels.set(b.client.lastZxidSeen, `op${i}`);
            this.b = null;
            upTo = this.syncA();
          }
          result = { code: "OK" };
          break;
        }
      }
      let events: DiffEvent[] = a.events.slice(seen, upTo).map((e) => ({ event: e.event, path: root.rel(e.path) }));
      if (op.op === "closeSession") events = sortEvents(events);
      results.push({ ...result, events });
    }

    if (a.states.length !== aStates) {
      throw new Error(`session A's connection changed during the run: ${a.states.slice(aStates - 1).join(" → ")}`);
    }
    const sent = a.watchMessages.filter((m) => m.from === this.aServer).map((m) => `${m.event.event} ${m.event.path}`);
    const delivered = a.events.map((e) => `${e.event} ${e.path}`);
    if (sent.join("\n") !== delivered.join("\n")) {
      throw new Error(`A's server sent watch events [${sent.join(", ")}] but the client delivered [${delivered.join(", ")}]`);
    }
    return results;
  }
}
