/**
 * The client side of a ZooKeeper server (NIOServerCnxn + the per-session part of CommitProcessor and
 * FinalRequestProcessor): client connections and their handshakes (new sessions created through the
 * leader, existing ones revalidated by it, SetWatches on reconnect), each session's FIFO request queue —
 * reads answered locally when they reach the head, writes once their commit is applied here — pings,
 * and the one-shot watches of the sessions connected to this server. A connection whose messages arrive
 * on a new network connection is closed, as a broken socket would be.
 */

import type { Disk } from "../disk/disk.ts";
import type {
  SessionId,
  ZkConnectRequest,
  ZkConnectResponse,
  ZkDisconnect,
  ZkOp,
  ZkPing,
  ZkPong,
  ZkReply,
  ZkRequest,
  ZkResponse,
  ZkWatchEvent,
  Zxid,
} from "../protocol/zk.ts";
import { assert } from "../sim/assert.ts";
import type { ProcessContext } from "../sim/host.ts";
import type { DataTree, WatchTrigger, ZkTxnRequest } from "./datatree.ts";
import { WatchManager } from "./watches.ts";

/** What a server hands the leader for a client: a transaction to prepare, or a sync. */
export type ServerRequest = ZkTxnRequest | { op: "sync"; path: string };

/** The server around the connections. */
export interface ConnectionsHost {
  readonly context: ProcessContext<Disk>;
  readonly sid: number;
  readonly serving: boolean;
  /** The applied tree (replaced on reloads, so read it through the host). */
  readonly tree: DataTree;
  readonly minSessionTimeoutMs: number;
  readonly maxSessionTimeoutMs: number;
  /** The network connection of the message being handled. */
  readonly inbound: number;
  /** Hands a write, sync, createSession or closeSession to the leader (itself, or by forwarding). */
  submit(sessionId: SessionId, cxid: number, request: ServerRequest): void;
  /** A request or ping of the session reached us: the leader's tracker must hear of it. */
  touch(sessionId: SessionId): void;
  /** Asks the leader whether the session is alive (at once on the leader); done(valid, timeoutMs). */
  revalidate(sessionId: SessionId, done: (valid: boolean, timeoutMs: number) => void): void;
}

interface PendingRequest {
  xid: number;
  request: ZkOp;
  /** Writes: set once their commit is applied here; reads: set when they reach the head. */
  reply: ZkReply | null;
  zxid: Zxid;
}

interface PendingConnect {
  client: string;
  connection: number;
  passwd: number;
  request: ZkConnectRequest;
}

function isRead(op: ZkOp["op"]): boolean {
  return op === "getData" || op === "exists" || op === "getChildren";
}

export class ClientConnections {
  /** session → client host, and the network connection its handshake came on. */
  private readonly clients = new Map<SessionId, { client: string; connection: number }>();
  private readonly queues = new Map<SessionId, PendingRequest[]>();
  private readonly pendingCreates = new Map<SessionId, PendingConnect>();
  private readonly watches = new WatchManager<SessionId>();
  private nextSessionCounter = 1;

  constructor(private readonly host: ConnectionsHost) {}

  get size(): number {
    return this.clients.size;
  }

  /** Closes every connection (the server stopped serving); clients reconnect elsewhere. */
  closeAll(reason: ZkDisconnect["reason"]): void {
    for (const sessionId of [...this.clients.keys()]) this.drop(sessionId, reason);
    this.pendingCreates.clear();
  }

  drop(sessionId: SessionId, reason: ZkDisconnect["reason"]): void {
    const connection = this.clients.get(sessionId);
    this.queues.delete(sessionId);
    this.watches.removeWatcher(sessionId);
    if (connection === undefined) return;
    this.clients.delete(sessionId);
    const message: ZkDisconnect = { type: "ZkDisconnect", reason, sizeBytes: 16 };
    this.host.context.send(connection.client, message);
  }

  onConnect(from: string, request: ZkConnectRequest): void {
    const { host } = this;
    if (!host.serving) return this.refuse(from, "not-serving");
    if (request.lastZxidSeen > host.tree.lastProcessedZxid) return this.refuse(from, "behind-client");
    const timeoutMs = Math.min(host.maxSessionTimeoutMs, Math.max(host.minSessionTimeoutMs, request.timeoutMs));
    if (request.sessionId === 0) {
      const sessionId = this.newSessionId();
      this.pendingCreates.set(sessionId, { client: from, connection: host.inbound, passwd: host.context.rng.int(1, 0x7fffffff), request });
      host.submit(sessionId, 0, { op: "createSession", timeoutMs });
      return;
    }
    const pending: PendingConnect = { client: from, connection: host.inbound, passwd: request.passwd, request };
    host.revalidate(request.sessionId, (valid, sessionTimeoutMs) => {
      if (valid) this.accept(request.sessionId, pending, sessionTimeoutMs);
      else this.refuseExpired(from);
    });
  }

  /** A createSession txn was applied here: answer the client that asked for it, if it was ours. */
  onSessionCreated(sessionId: SessionId, timeoutMs: number): void {
    const pending = this.pendingCreates.get(sessionId);
    if (pending === undefined) return;
    this.pendingCreates.delete(sessionId);
    this.accept(sessionId, pending, timeoutMs);
  }

  onRequest(from: string, message: ZkRequest): void {
    if (!this.fromCurrentConnection(from, message.sessionId)) return;
    this.host.touch(message.sessionId);
    this.queues.get(message.sessionId)!.push({ xid: message.xid, request: message.request, reply: null, zxid: 0 });
    const request = message.request;
    if (request.op !== "getData" && request.op !== "exists" && request.op !== "getChildren") {
      this.host.submit(message.sessionId, message.xid, request);
    }
    this.drain(message.sessionId);
  }

  onPing(from: string, ping: ZkPing): void {
    if (!this.fromCurrentConnection(from, ping.sessionId)) return;
    this.host.touch(ping.sessionId);
    const pong: ZkPong = { type: "ZkPong", zxid: this.host.tree.lastProcessedZxid, sizeBytes: 16 };
    this.host.context.send(from, pong);
  }

  /** A write or sync of one of our sessions completed here: its reply waits for its turn in the queue. */
  complete(sessionId: SessionId, cxid: number, reply: ZkReply, zxid: Zxid): void {
    const queue = this.queues.get(sessionId);
    if (queue === undefined) return;
    const item = queue.find((pending) => pending.xid === cxid && pending.reply === null);
    if (item === undefined) return;
    item.reply = reply;
    item.zxid = zxid;
    this.drain(sessionId);
  }

  /** Sends the watch events a commit triggered to the sessions connected here (before any later reply). */
  fireWatches(triggers: readonly WatchTrigger[], zxid: Zxid): void {
    if (triggers.length === 0) return;
    const { context } = this.host;
    for (const fired of this.watches.trigger(triggers)) {
      const connection = this.clients.get(fired.watcher);
      if (connection === undefined) continue;
      const event: ZkWatchEvent = { type: "ZkWatchEvent", event: fired.event, path: fired.path, zxid, sizeBytes: 48 };
      if (context.tracing) context.trace("zk-watch-fired", { sessionId: hex(fired.watcher), event: fired.event, path: fired.path });
      context.send(connection.client, event);
    }
  }

  /** ZooKeeper's session ids carry the creating server's id in their top bits. */
  private newSessionId(): SessionId {
    return this.host.sid * 2 ** 40 + this.host.context.incarnation * 2 ** 24 + this.nextSessionCounter++;
  }

  private refuse(client: string, refused: ZkConnectResponse["refused"]): void {
    const response: ZkConnectResponse = { type: "ZkConnectResponse", timeoutMs: 0, sessionId: 0, passwd: 0, refused, sizeBytes: 32 };
    this.host.context.send(client, response);
  }

  /** Timeout 0: the session has expired (the client goes to EXPIRED). */
  private refuseExpired(client: string): void {
    const response: ZkConnectResponse = { type: "ZkConnectResponse", timeoutMs: 0, sessionId: 0, passwd: 0, sizeBytes: 32 };
    this.host.context.send(client, response);
  }

  private accept(sessionId: SessionId, pending: PendingConnect, timeoutMs: number): void {
    const { host } = this;
    if (!host.serving) return;
    const previous = this.clients.get(sessionId);
    if (previous !== undefined && previous.client !== pending.client) this.drop(sessionId, "session-closed");
    this.clients.set(sessionId, { client: pending.client, connection: pending.connection });
    this.queues.set(sessionId, []);
    host.touch(sessionId);
    const response: ZkConnectResponse = { type: "ZkConnectResponse", timeoutMs, sessionId, passwd: pending.passwd, sizeBytes: 32 };
    host.context.send(pending.client, response);
    if (pending.request.sessionId === 0) {
      if (host.context.tracing) host.context.trace("zk-session-created", { sessionId: hex(sessionId), client: pending.client, timeoutMs });
    } else {
      this.restoreWatches(sessionId, pending.request);
    }
  }

  /** SetWatches on reconnect: fire at once what changed after lastZxidSeen, register the rest. */
  private restoreWatches(sessionId: SessionId, request: ZkConnectRequest): void {
    const held = request.watches;
    if (held === undefined) return;
    const tree = this.host.tree;
    const last = request.lastZxidSeen;
    const triggers: WatchTrigger[] = [];
    for (const path of held.data) {
      const stat = tree.exists(path).stat ?? null;
      if (stat === null) triggers.push({ path, event: "NodeDeleted" });
      else if (stat.mzxid > last) triggers.push({ path, event: "NodeDataChanged" });
      else this.watches.add("data", path, sessionId);
    }
    for (const path of held.exist) {
      const stat = tree.exists(path).stat ?? null;
      if (stat !== null) triggers.push({ path, event: "NodeCreated" });
      else this.watches.add("exist", path, sessionId);
    }
    for (const path of held.child) {
      const stat = tree.exists(path).stat ?? null;
      if (stat === null) triggers.push({ path, event: "NodeDeleted" });
      else if (stat.pzxid > last) triggers.push({ path, event: "NodeChildrenChanged" });
      else this.watches.add("child", path, sessionId);
    }
    const client = this.clients.get(sessionId)!.client;
    for (const trigger of triggers) {
      const event: ZkWatchEvent = { type: "ZkWatchEvent", event: trigger.event, path: trigger.path, zxid: tree.lastProcessedZxid, sizeBytes: 48 };
      this.host.context.send(client, event);
    }
  }

  /** Is this message from the session's current client connection? A broken one is closed. */
  private fromCurrentConnection(from: string, sessionId: SessionId): boolean {
    if (!this.host.serving) return false;
    const connection = this.clients.get(sessionId);
    if (connection === undefined || connection.client !== from) return false;
    if (connection.connection === this.host.inbound) return true;
    this.drop(sessionId, "not-serving");
    return false;
  }

  /** Answers the session's requests in order: reads when they reach the head, writes once committed here. */
  private drain(sessionId: SessionId): void {
    const queue = this.queues.get(sessionId);
    const connection = this.clients.get(sessionId);
    if (queue === undefined || connection === undefined) return;
    while (queue.length > 0) {
      const head = queue[0];
      if (isRead(head.request.op)) {
        head.reply = this.read(sessionId, head.request);
        head.zxid = this.host.tree.lastProcessedZxid;
      }
      if (head.reply === null) return;
      queue.shift();
      const response: ZkResponse = { type: "ZkResponse", xid: head.xid, zxid: head.zxid, reply: head.reply, sizeBytes: 64 };
      this.host.context.send(connection.client, response);
    }
  }

  private read(sessionId: SessionId, request: ZkOp): ZkReply {
    const tree = this.host.tree;
    switch (request.op) {
      case "getData": {
        const reply = tree.getData(request.path);
        if (request.watch && reply.code === "OK") this.watches.add("data", request.path, sessionId);
        return reply;
      }
      case "exists": {
        const reply = tree.exists(request.path);
        if (request.watch && reply.code === "OK") this.watches.add(reply.stat ? "data" : "exist", request.path, sessionId);
        return reply;
      }
      case "getChildren": {
        const reply = tree.getChildren(request.path);
        if (request.watch && reply.code === "OK") this.watches.add("child", request.path, sessionId);
        return reply;
      }
      default:
        assert(false, `not a read: ${request.op}`);
    }
  }
}

/** zxids and session ids in ZooKeeper's hex form (0x100000002). */
export function hex(value: number): string {
  return `0x${value.toString(16)}`;
}
