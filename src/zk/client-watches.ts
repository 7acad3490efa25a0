/**
 * The client's side of ZooKeeper's one-shot watches (ZKWatchManager with one default watcher): a watch is
 * registered only when the reply that sets it arrives with a code that says the server registered it too, a
 * watch event removes every registration it triggers, and the registrations still held are re-sent on
 * reconnect (SetWatches). Simplified to the default watcher: a path is in a set or not, and an event
 * reaches the listener once, or not at all when it triggers no registration.
 */

import type { ZkOp, ZkReply, ZkWatchEventType } from "../protocol/zk.ts";

/** The watches a client re-registers on a new server (ZkConnectRequest.watches). */
export interface HeldWatches {
  data: string[];
  exist: string[];
  child: string[];
}

export class ZkClientWatches {
  /** getData / exists-on-an-existing-node watches (ZKWatchManager.dataWatches). */
  private readonly data = new Set<string>();
  /** exists-on-a-missing-node watches (existWatches). */
  private readonly exist = new Set<string>();
  /** getChildren watches (childWatches). */
  private readonly child = new Set<string>();

  get size(): number {
    return this.data.size + this.exist.size + this.child.size;
  }

  /**
   * Registers the watch `request` asked for, if `reply` shows the server set it (WatchRegistration.register:
   * data and child watches on OK; exists on OK with a stat → data watch, on NONODE or a null stat → exist).
   */
  registerOnReply(request: ZkOp, reply: ZkReply): void {
    switch (request.op) {
      case "getData":
        if (request.watch && reply.code === "OK") this.data.add(request.path);
        return;
      case "exists":
        if (!request.watch) return;
        if (reply.code === "OK" && reply.stat != null) this.data.add(request.path);
        else if (reply.code === "OK" || reply.code === "NONODE") this.exist.add(request.path);
        return;
      case "getChildren":
        if (request.watch && reply.code === "OK") this.child.add(request.path);
        return;
      default:
        return;
    }
  }

  /**
   * Removes the registrations an event triggers (ZKWatchManager.materialize) and tells whether any did, i.e.
   * whether the default watcher is called.
   */
  materialize(event: ZkWatchEventType, path: string): boolean {
    switch (event) {
      case "NodeCreated":
      case "NodeDataChanged": {
        const data = this.data.delete(path);
        const exist = this.exist.delete(path);
        return data || exist;
      }
      case "NodeDeleted": {
        const data = this.data.delete(path);
        const exist = this.exist.delete(path);
        const child = this.child.delete(path);
        return data || exist || child;
      }
      case "NodeChildrenChanged":
        return this.child.delete(path);
    }
  }

  has(kind: keyof HeldWatches, path: string): boolean {
    return this[kind].has(path);
  }

  /** The registrations to re-send on reconnect, in registration order; undefined when none are held. */
  held(): HeldWatches | undefined {
    if (this.size === 0) return undefined;
    return { data: [...this.data], exist: [...this.exist], child: [...this.child] };
  }

  clear(): void {
    this.data.clear();
    this.exist.clear();
    this.child.clear();
  }
}
