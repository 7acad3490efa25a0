/**
 * ZooKeeper's committed data tree and sessions as the trace tells them: every `zk-commit` (traced by the
 * leader when it applies a txn) with what it wrote — creates with data and ephemeral owner, setData with data
 * and version, deletes, multi effects, createSession and closeSession (which deletes the session's
 * ephemerals, as DataTree.killSession). Kept as one Series per znode path and per session.
 */

import { Series } from "./series.ts";
import type { SessionView, ZnodeView } from "./types.ts";

interface Znode {
  data: string;
  version: number;
  ephemeralOwner?: string;
}

interface Session {
  client: string;
  state: string;
}

interface Effect {
  data: string;
  version?: number;
  ephemeralOwner?: string;
}

export class ZkTrack {
  private readonly znodes = new Map<string, Series<Znode | null>>();
  private readonly sessions = new Map<string, Series<Session | null>>();
  private readonly ephemerals = new Map<string, Set<string>>();
  /** `clients`: client host by session id (zk-session-created precedes or follows the createSession commit). */
  constructor(private readonly clients: ReadonlyMap<string, string> = new Map()) {}


  private sortedPaths: string[] | null = null;
  private sortedSessions: string[] | null = null;

  /** A `zk-commit` event. */
  commit(index: number, event: Record<string, unknown>): void {
    const txn = event.txn as string;
    const sessionId = event.sessionId as string;
    switch (txn) {
      case "createSession":
        this.session(sessionId).set(index, { client: this.clients.get(sessionId) ?? "", state: "open" });
        return;
      case "closeSession":
        for (const path of [...(this.ephemerals.get(sessionId) ?? [])]) this.remove(index, path);
        this.ephemerals.delete(sessionId);
        this.session(sessionId).set(index, null);
        return;
      case "create":
      case "setData":
      case "delete":
        this.apply(index, txn, event.path as string, event as unknown as Effect);
        return;
      case "multi": {
        const ops = event.ops as string[];
        const effects = (event.effects as (Effect | null)[] | undefined) ?? [];
        for (let i = 0; i < ops.length; i++) {
          const space = ops[i].indexOf(" ");
          if (space < 0) continue;
          this.apply(index, ops[i].slice(0, space), ops[i].slice(space + 1), effects[i]);
        }
        return;
      }
    }
  }

  /** A new leader started serving with this tree (zk-serving's `tree`): the committed state from here on. */
  reset(index: number, tree: { znodes: [string, number, string | null, string][]; sessions: string[] }): void {
    const seen = new Set<string>();
    this.ephemerals.clear();
    for (const [path, version, owner, data] of tree.znodes) {
      seen.add(path);
      const series = this.znode(path);
      const current = series.last;
      if (current !== null && current.data === data && current.version === version && (current.ephemeralOwner ?? null) === owner) {
        // unchanged
      } else {
        series.set(index, owner === null ? { data, version } : { data, version, ephemeralOwner: owner });
      }
      if (owner !== null) {
        let mine = this.ephemerals.get(owner);
        if (mine === undefined) {
          mine = new Set();
          this.ephemerals.set(owner, mine);
        }
        mine.add(path);
      }
    }
    for (const [path, series] of this.znodes) if (!seen.has(path) && series.last !== null) series.set(index, null);
    const sessions = new Set(tree.sessions);
    for (const sessionId of sessions) {
      const series = this.session(sessionId);
      if (series.last === null) series.set(index, { client: this.clients.get(sessionId) ?? "", state: "open" });
    }
    for (const [sessionId, series] of this.sessions) if (!sessions.has(sessionId) && series.last !== null) series.set(index, null);
  }

  /** `zk-session-created`: names the session's client. */
  sessionCreated(index: number, sessionId: string, client: string): void {
    const series = this.sessions.get(sessionId);
    const current = series?.last;
    if (series !== undefined && current !== null && current !== undefined) series.set(index, { ...current, client });
  }

  /** `zk-session-expiring`. */
  sessionExpiring(index: number, sessionId: string): void {
    const series = this.sessions.get(sessionId);
    const current = series?.last;
    if (series !== undefined && current !== null && current !== undefined) series.set(index, { ...current, state: "expiring" });
  }

  private apply(index: number, type: string, path: string, effect: Effect | null | undefined): void {
    if (type === "create") {
      const node: Znode = { data: effect?.data ?? "", version: 0 };
      if (effect?.ephemeralOwner !== undefined) {
        node.ephemeralOwner = effect.ephemeralOwner;
        let mine = this.ephemerals.get(effect.ephemeralOwner);
        if (mine === undefined) {
          mine = new Set();
          this.ephemerals.set(effect.ephemeralOwner, mine);
        }
        mine.add(path);
      }
      this.znode(path).set(index, node);
    } else if (type === "setData") {
      const series = this.znode(path);
      const current = series.last;
      series.set(index, { ...(current ?? {}), data: effect?.data ?? "", version: effect?.version ?? (current === null ? 0 : current.version + 1) });
    } else if (type === "delete") {
      this.remove(index, path);
    }
  }

  private remove(index: number, path: string): void {
    const series = this.znode(path);
    const owner = series.last?.ephemeralOwner;
    if (owner !== undefined) this.ephemerals.get(owner)?.delete(path);
    series.set(index, null);
  }

  private znode(path: string): Series<Znode | null> {
    let series = this.znodes.get(path);
    if (series === undefined) {
      series = new Series<Znode | null>(null);
      this.znodes.set(path, series);
      this.sortedPaths = null;
    }
    return series;
  }

  private session(sessionId: string): Series<Session | null> {
    let series = this.sessions.get(sessionId);
    if (series === undefined) {
      series = new Series<Session | null>(null);
      this.sessions.set(sessionId, series);
      this.sortedSessions = null;
    }
    return series;
  }

  /** The data of one znode after events[0..index], or null. */
  dataAt(path: string, index: number): string | null {
    return this.znodes.get(path)?.at(index)?.data ?? null;
  }

  znodesAt(index: number): ZnodeView[] {
    this.sortedPaths ??= [...this.znodes.keys()].sort(compare);
    const out: ZnodeView[] = [];
    for (const path of this.sortedPaths) {
      const node = this.znodes.get(path)!.at(index);
      if (node === null) continue;
      const view: ZnodeView = { path, data: node.data, version: node.version };
      if (node.ephemeralOwner !== undefined) view.ephemeralOwner = node.ephemeralOwner;
      out.push(view);
    }
    return out;
  }

  sessionsAt(index: number): SessionView[] {
    this.sortedSessions ??= [...this.sessions.keys()].sort(compare);
    const out: SessionView[] = [];
    for (const sessionId of this.sortedSessions) {
      const session = this.sessions.get(sessionId)!.at(index);
      if (session !== null) out.push({ sessionId, client: session.client, state: session.state });
    }
    return out;
  }
}

export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
