/**
 * A ZooKeeper server's watch tables (WatchManager.java, one for data watches and one for child watches) for
 * standard one-shot watches; a watcher is whatever the server notifies (a session or connection).
 *
 * - "data" watches are set by getData and by exists on an existing node, "exist" watches by exists on a
 *   missing node (the server keeps both in one table; the split is the client's bookkeeping, kept here so a
 *   reconnecting client's SetWatches can be rebuilt), "child" watches by getChildren.
 * - NodeCreated and NodeDataChanged fire data and exist watches of the path; NodeChildrenChanged fires child
 *   watches of the path (the parent of the created or deleted node); NodeDeleted fires data, exist and child
 *   watches of the path, and a watcher holding several of them gets the event once (WatchManager's
 *   suppression set).
 * - A watch fires once and is removed. Registering the same watch again before it fires changes nothing.
 * Simplification: no persistent or recursive watches (ZooKeeper 3.6's addWatch), which Kafka does not use.
 * Order is deterministic: per trigger, data/exist watchers in registration order, then child watchers.
 */

import type { ZkWatchEventType } from "../protocol/zk.ts";

export type WatchKind = "data" | "exist" | "child";

/** A change to a znode that may fire watches (what DataTree passes to WatchManager.triggerWatch). */
export interface WatchTrigger {
  path: string;
  event: ZkWatchEventType;
}

export interface FiredWatch<W> {
  watcher: W;
  event: ZkWatchEventType;
  path: string;
}

export interface WatchesOf {
  data: string[];
  exist: string[];
  child: string[];
}

const KINDS: readonly WatchKind[] = ["data", "exist", "child"];

export class WatchManager<W> {
  /** kind → path → watcher → registration number (Maps keep insertion order; the number orders across kinds). */
  private readonly tables: Record<WatchKind, Map<string, Map<W, number>>> = {
    data: new Map(),
    exist: new Map(),
    child: new Map(),
  };
  /** watcher → kind → paths. */
  private readonly byWatcher = new Map<W, Record<WatchKind, Set<string>>>();
  private nextRegistration = 0;

  add(kind: WatchKind, path: string, watcher: W): void {
    let table = this.tables[kind].get(path);
    if (!table) {
      table = new Map();
      this.tables[kind].set(path, table);
    }
    if (table.has(watcher)) return;
    table.set(watcher, this.nextRegistration++);
    let mine = this.byWatcher.get(watcher);
    if (!mine) {
      mine = { data: new Set(), exist: new Set(), child: new Set() };
      this.byWatcher.set(watcher, mine);
    }
    mine[kind].add(path);
  }

  /** Fires (and removes) the watches the given changes trigger, in trigger order. */
  trigger(triggers: readonly WatchTrigger[]): FiredWatch<W>[] {
    const fired: FiredWatch<W>[] = [];
    for (const { path, event } of triggers) {
      switch (event) {
        case "NodeCreated":
        case "NodeDataChanged":
          for (const watcher of this.take(["data", "exist"], path)) fired.push({ watcher, event, path });
          break;
        case "NodeChildrenChanged":
          for (const watcher of this.take(["child"], path)) fired.push({ watcher, event, path });
          break;
        case "NodeDeleted": {
          const notified = this.take(["data", "exist"], path);
          for (const watcher of notified) fired.push({ watcher, event, path });
          const already = new Set(notified);
          for (const watcher of this.take(["child"], path)) {
            if (!already.has(watcher)) fired.push({ watcher, event, path });
          }
          break;
        }
      }
    }
    return fired;
  }

  /** Drops every watch of a watcher (its session closed or its connection moved). */
  removeWatcher(watcher: W): void {
    const mine = this.byWatcher.get(watcher);
    if (!mine) return;
    for (const kind of KINDS) {
      for (const path of mine[kind]) {
        const table = this.tables[kind].get(path);
        table?.delete(watcher);
        if (table?.size === 0) this.tables[kind].delete(path);
      }
    }
    this.byWatcher.delete(watcher);
  }

  /** The paths a watcher watches, by kind, each sorted. */
  watchesOf(watcher: W): WatchesOf {
    const mine = this.byWatcher.get(watcher);
    const sorted = (s: Set<string> | undefined) => (s ? [...s].sort() : []);
    return { data: sorted(mine?.data), exist: sorted(mine?.exist), child: sorted(mine?.child) };
  }

  /** Whether the watcher holds this watch. */
  has(kind: WatchKind, path: string, watcher: W): boolean {
    return this.tables[kind].get(path)?.has(watcher) ?? false;
  }

  /** The number of (kind, path, watcher) watches held. */
  size(): number {
    let n = 0;
    for (const kind of KINDS) for (const table of this.tables[kind].values()) n += table.size;
    return n;
  }

  /** Removes the watches of `kinds` on `path` and returns their watchers, deduplicated, in registration order. */
  private take(kinds: readonly WatchKind[], path: string): W[] {
    const found = new Map<W, number>();
    for (const kind of kinds) {
      const table = this.tables[kind].get(path);
      if (!table) continue;
      for (const [watcher, registration] of table) {
        const seen = found.get(watcher);
        if (seen === undefined || registration < seen) found.set(watcher, registration);
        const mine = this.byWatcher.get(watcher)!;
        mine[kind].delete(path);
        if (mine.data.size === 0 && mine.exist.size === 0 && mine.child.size === 0) this.byWatcher.delete(watcher);
      }
      this.tables[kind].delete(path);
    }
    return [...found].sort((a, b) => a[1] - b[1]).map(([watcher]) => watcher);
  }
}
