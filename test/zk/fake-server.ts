/**
 * A scripted fake ZooKeeper ensemble for the client's tests: each server is a real process on the virtual
 * network, but they share one in-memory tree, one session table and one zxid counter (no quorum, no
 * disk). It speaks the client protocol of src/protocol/zk.ts: negotiates the session timeout within
 * [2, 20] × tickTime, answers each session's requests in order, fires one-shot watches, expires sessions
 * that were not heard from for their timeout (lazily, whenever any server handles a message), and can be
 * told to refuse connections, to go silent, to drop requests, to reorder replies or to expire a session.
 */

import type { HostDisk, Message, Process, ProcessContext } from "../../src/sim/host.ts";
import type { World } from "../../src/sim/world.ts";
import {
  makeZxid,
  type SessionId,
  type Stat,
  type ZkConnectRequest,
  type ZkConnectResponse,
  type ZkDisconnect,
  type ZkOp,
  type ZkOpResult,
  type ZkPing,
  type ZkPong,
  type ZkReply,
  type ZkRequest,
  type ZkResponse,
  type ZkWatchEvent,
  type ZkWatchEventType,
  type ZkWriteOp,
  type Zxid,
} from "../../src/protocol/zk.ts";

export const diskStub: HostDisk = { onCrash() {}, onPowerLoss() {} };

interface Znode {
  data: string;
  version: number;
  cversion: number;
  ephemeralOwner: SessionId;
  czxid: Zxid;
  mzxid: Zxid;
  pzxid: Zxid;
  /** Sequence counter for sequential children (the parent's cversion in ZooKeeper). */
  sequence: number;
}

export interface FakeSession {
  id: SessionId;
  passwd: number;
  timeoutMs: number;
  /** Virtual µs when a server last heard from the session's client. */
  lastHeardUs: number;
  /** The server and client host of its current connection (null: none). */
  server: string | null;
  client: string | null;
  closed: boolean;
}

type WatchKind = "data" | "exist" | "child";

export interface ServerLogEntry {
  t: number;
  server: string;
  from: string;
  message: Message;
}

export class FakeZkEnsemble {
  readonly tickTimeMs = 2000;
  readonly nodes = new Map<string, Znode>();
  readonly sessions = new Map<SessionId, FakeSession>();
  readonly servers = new Map<string, FakeZkServer>();
  /** Every message any server received, in order. */
  readonly log: ServerLogEntry[] = [];
  /** Ids of sessions that expired (by timeout or by expire()), in order. */
  readonly expired: SessionId[] = [];
  private counter = 0;
  private nextSessionId = 0x1000;
  private readonly watches: Record<WatchKind, Map<string, Set<SessionId>>> = {
    data: new Map(),
    exist: new Map(),
    child: new Map(),
  };

  constructor(
    readonly world: World,
    names: string[],
  ) {
    this.nodes.set("/", this.newNode("", 0));
    for (const name of names) {
      const host = world.addHost(name, diskStub, (context) => {
        const server = new FakeZkServer(context, this);
        this.servers.set(name, server);
        return server;
      });
      host.start();
    }
  }

  get zxid(): Zxid {
    return makeZxid(1, this.counter);
  }

  server(name: string): FakeZkServer {
    const server = this.servers.get(name);
    if (server === undefined) throw new Error(`no fake server ${name}`);
    return server;
  }

  /** The server declares the session expired now: ephemerals deleted, connection dropped. */
  expire(id: SessionId): void {
    const session = this.sessions.get(id);
    if (session === undefined || session.closed) return;
    this.endSession(session);
    this.expired.push(id);
    if (session.server !== null && session.client !== null) {
      const disconnect: ZkDisconnect = { type: "ZkDisconnect", reason: "session-expired" };
      this.server(session.server).send(session.client, disconnect);
    }
  }

  /** Expires every session not heard from for its timeout (a session tracker checked lazily). */
  checkExpiry(): void {
    const now = this.world.kernel.now;
    for (const session of this.sessions.values()) {
      if (!session.closed && now - session.lastHeardUs > session.timeoutMs * 1000) {
        this.endSession(session);
        this.expired.push(session.id);
      }
    }
  }

  liveSession(id: SessionId): FakeSession | null {
    const session = this.sessions.get(id);
    return session === undefined || session.closed ? null : session;
  }

  newSession(timeoutMs: number): FakeSession {
    const id = this.nextSessionId++;
    const session: FakeSession = {
      id,
      passwd: id * 7 + 1,
      timeoutMs,
      lastHeardUs: this.world.kernel.now,
      server: null,
      client: null,
      closed: false,
    };
    this.sessions.set(id, session);
    return session;
  }

  /** Negotiates a requested timeout within [2, 20] × tickTime. */
  negotiate(requestedMs: number): number {
    return Math.min(20 * this.tickTimeMs, Math.max(2 * this.tickTimeMs, requestedMs));
  }

  stat(path: string): Stat | null {
    const node = this.nodes.get(path);
    if (node === undefined) return null;
    let numChildren = 0;
    for (const other of this.nodes.keys()) if (other !== path && parentOf(other) === path) numChildren++;
    return {
      czxid: node.czxid,
      mzxid: node.mzxid,
      ctime: 0,
      mtime: 0,
      version: node.version,
      cversion: node.cversion,
      aversion: 0,
      ephemeralOwner: node.ephemeralOwner,
      dataLength: node.data.length,
      numChildren,
      pzxid: node.pzxid,
    };
  }

  children(path: string): string[] {
    const out: string[] = [];
    for (const other of this.nodes.keys()) {
      if (other !== path && parentOf(other) === path) out.push(other.slice(path === "/" ? 1 : path.length + 1));
    }
    return out.sort();
  }

  /** Applies one operation for `session` and returns its reply (watches registered and fired here). */
  apply(session: FakeSession, request: ZkOp): ZkReply {
    switch (request.op) {
      case "getData": {
        const node = this.nodes.get(request.path);
        if (node === undefined) return { code: "NONODE" };
        if (request.watch) this.addWatch("data", request.path, session.id);
        return { code: "OK", data: node.data, stat: this.stat(request.path) };
      }
      case "exists": {
        const stat = this.stat(request.path);
        if (request.watch) this.addWatch(stat === null ? "exist" : "data", request.path, session.id);
        return { code: "OK", stat };
      }
      case "getChildren": {
        if (!this.nodes.has(request.path)) return { code: "NONODE" };
        if (request.watch) this.addWatch("child", request.path, session.id);
        return { code: "OK", children: this.children(request.path), stat: this.stat(request.path) };
      }
      case "sync":
        return { code: "OK", path: request.path };
      case "closeSession":
        this.endSession(session);
        return { code: "OK" };
      case "multi":
        return this.multi(session, request.ops);
      default: {
        const result = this.write(session, request);
        const reply: ZkReply = { code: result.code };
        if (result.path !== undefined) reply.path = result.path;
        if (result.stat !== undefined) reply.stat = result.stat;
        return reply;
      }
    }
  }

  private multi(session: FakeSession, ops: ZkWriteOp[]): ZkReply {
    // All or nothing: check on a copy of the tree first, then apply for real.
    const saved = new Map([...this.nodes].map(([path, node]) => [path, { ...node }]));
    const savedCounter = this.counter;
    const quiet = this.firing;
    this.firing = false;
    const trial = ops.map((op) => this.write(session, op));
    this.firing = quiet;
    this.nodes.clear();
    for (const [path, node] of saved) this.nodes.set(path, node);
    this.counter = savedCounter;
    const failed = trial.findIndex((result) => result.code !== "OK");
    if (failed >= 0) {
      const results: ZkOpResult[] = ops.map((op, i) => ({
        op: op.op,
        code: i < failed ? "OK" : i === failed ? trial[failed].code : "RUNTIMEINCONSISTENCY",
      }));
      return { code: trial[failed].code, results };
    }
    return { code: "OK", results: ops.map((op) => this.write(session, op)) };
  }

  private firing = true;

  private write(session: FakeSession, op: ZkWriteOp): ZkOpResult {
    const node = this.nodes.get(op.path);
    switch (op.op) {
      case "create": {
        const parentPath = parentOf(op.path);
        const parent = parentPath === null ? undefined : this.nodes.get(parentPath);
        if (parent === undefined || parentPath === null) return { op: "create", code: "NONODE" };
        if (parent.ephemeralOwner !== 0) return { op: "create", code: "NOCHILDRENFOREPHEMERALS" };
        const path = op.sequential ? op.path + String(parent.sequence).padStart(10, "0") : op.path;
        if (this.nodes.has(path)) return { op: "create", code: "NODEEXISTS" };
        this.counter++;
        this.nodes.set(path, this.newNode(op.data, op.ephemeral ? session.id : 0));
        parent.sequence++;
        parent.cversion++;
        parent.pzxid = this.zxid;
        this.fire(["data", "exist"], path, "NodeCreated");
        this.fire(["child"], parentPath, "NodeChildrenChanged");
        return { op: "create", code: "OK", path };
      }
      case "delete": {
        if (node === undefined) return { op: "delete", code: "NONODE" };
        if (op.version !== -1 && op.version !== node.version) return { op: "delete", code: "BADVERSION" };
        if (this.children(op.path).length > 0) return { op: "delete", code: "NOTEMPTY" };
        this.removeNode(op.path);
        return { op: "delete", code: "OK" };
      }
      case "setData": {
        if (node === undefined) return { op: "setData", code: "NONODE" };
        if (op.version !== -1 && op.version !== node.version) return { op: "setData", code: "BADVERSION" };
        this.counter++;
        node.data = op.data;
        node.version++;
        node.mzxid = this.zxid;
        this.fire(["data"], op.path, "NodeDataChanged");
        return { op: "setData", code: "OK", stat: this.stat(op.path)! };
      }
      case "check": {
        if (node === undefined) return { op: "check", code: "NONODE" };
        if (op.version !== -1 && op.version !== node.version) return { op: "check", code: "BADVERSION" };
        return { op: "check", code: "OK" };
      }
    }
  }

  private newNode(data: string, ephemeralOwner: SessionId): Znode {
    const zxid = this.zxid;
    return { data, version: 0, cversion: 0, ephemeralOwner, czxid: zxid, mzxid: zxid, pzxid: zxid, sequence: 0 };
  }

  private removeNode(path: string): void {
    this.counter++;
    this.nodes.delete(path);
    const parentPath = parentOf(path)!;
    const parent = this.nodes.get(parentPath);
    if (parent !== undefined) {
      parent.cversion++;
      parent.pzxid = this.zxid;
    }
    this.fire(["data", "exist", "child"], path, "NodeDeleted");
    this.fire(["child"], parentPath, "NodeChildrenChanged");
  }

  private endSession(session: FakeSession): void {
    session.closed = true;
    for (const kind of ["data", "exist", "child"] as const) {
      for (const holders of this.watches[kind].values()) holders.delete(session.id);
    }
    for (const [path, node] of [...this.nodes]) {
      if (node.ephemeralOwner === session.id && this.nodes.has(path)) this.removeNode(path);
    }
  }

  addWatch(kind: WatchKind, path: string, id: SessionId): void {
    let holders = this.watches[kind].get(path);
    if (holders === undefined) this.watches[kind].set(path, (holders = new Set()));
    holders.add(id);
  }

  /** SetWatches on reconnect: fire what changed after `since`, register the rest. */
  restoreWatches(session: FakeSession, held: NonNullable<ZkConnectRequest["watches"]>, since: Zxid): void {
    for (const path of held.data) {
      const stat = this.stat(path);
      if (stat === null) this.deliver(session, "NodeDeleted", path);
      else if (stat.mzxid > since) this.deliver(session, "NodeDataChanged", path);
      else this.addWatch("data", path, session.id);
    }
    for (const path of held.exist) {
      if (this.stat(path) !== null) this.deliver(session, "NodeCreated", path);
      else this.addWatch("exist", path, session.id);
    }
    for (const path of held.child) {
      const stat = this.stat(path);
      if (stat === null) this.deliver(session, "NodeDeleted", path);
      else if (stat.pzxid > since) this.deliver(session, "NodeChildrenChanged", path);
      else this.addWatch("child", path, session.id);
    }
  }

  private fire(kinds: WatchKind[], path: string, event: ZkWatchEventType): void {
    if (!this.firing) return;
    const targets = new Set<SessionId>();
    for (const kind of kinds) {
      const holders = this.watches[kind].get(path);
      if (holders === undefined) continue;
      for (const id of holders) targets.add(id);
      this.watches[kind].delete(path);
    }
    for (const id of targets) {
      const session = this.sessions.get(id);
      if (session !== undefined && !session.closed) this.deliver(session, event, path);
    }
  }

  /** Sends a watch event to the session's client through the server it is connected to. */
  deliver(session: FakeSession, event: ZkWatchEventType, path: string): void {
    if (session.server === null || session.client === null) return;
    const message: ZkWatchEvent = { type: "ZkWatchEvent", event, path, zxid: this.zxid };
    this.server(session.server).send(session.client, message);
  }
}

export class FakeZkServer implements Process {
  /** Answer connects with `refused` set. */
  refuse: ZkConnectResponse["refused"] | null = null;
  /** A hung server: receives everything, answers nothing. */
  silent = false;
  /** Answers connects and pings but not requests. */
  dropRequests = false;
  /** Buffers this many replies, then sends them in reverse order (a server bug the client must catch). */
  reverseReplies = 0;
  /** Sends every reply twice (a server bug the client must catch). */
  duplicateReplies = false;
  /** Scripted replies: return a reply to answer a request with it instead of applying it. */
  override: ((request: ZkOp) => ZkReply | null) | null = null;
  private held: ZkResponse[] = [];
  private heldClient = "";

  constructor(
    readonly context: ProcessContext,
    private readonly ensemble: FakeZkEnsemble,
  ) {}

  get name(): string {
    return this.context.node;
  }

  onStart(): void {}

  onTimer(): void {}

  send(to: string, message: Message): void {
    if (!this.silent) this.context.send(to, message);
  }

  onMessage(from: string, message: Message): void {
    const ensemble = this.ensemble;
    ensemble.log.push({ t: ensemble.world.kernel.now, server: this.name, from, message });
    if (this.silent) return;
    ensemble.checkExpiry();
    switch (message.type) {
      case "ZkConnect":
        return this.onConnect(from, message as ZkConnectRequest);
      case "ZkPing":
        return this.onPing(from, message as ZkPing);
      case "ZkRequest":
        return this.onRequest(from, message as ZkRequest);
    }
  }

  private onConnect(from: string, request: ZkConnectRequest): void {
    const reply = (timeoutMs: number, sessionId: SessionId, passwd: number): void => {
      const response: ZkConnectResponse = { type: "ZkConnectResponse", timeoutMs, sessionId, passwd };
      this.send(from, response);
    };
    if (this.refuse !== null) {
      const response: ZkConnectResponse = {
        type: "ZkConnectResponse",
        timeoutMs: 0,
        sessionId: 0,
        passwd: 0,
        refused: this.refuse,
      };
      this.send(from, response);
      return;
    }
    let session: FakeSession | null;
    if (request.sessionId === 0) {
      session = this.ensemble.newSession(this.ensemble.negotiate(request.timeoutMs));
    } else {
      session = this.ensemble.liveSession(request.sessionId);
      if (session === null || session.passwd !== request.passwd) {
        reply(0, 0, 0);
        return;
      }
    }
    session.lastHeardUs = this.ensemble.world.kernel.now;
    session.server = this.name;
    session.client = from;
    reply(session.timeoutMs, session.id, session.passwd);
    if (request.watches !== undefined) this.ensemble.restoreWatches(session, request.watches, request.lastZxidSeen);
  }

  /** The session this message belongs to, if it is live and connected through this server from `from`. */
  private connected(from: string, id: SessionId): FakeSession | null {
    const session = this.ensemble.sessions.get(id);
    if (session === undefined || session.server !== this.name || session.client !== from) return null;
    if (session.closed) {
      const disconnect: ZkDisconnect = { type: "ZkDisconnect", reason: "session-expired" };
      this.send(from, disconnect);
      session.server = null;
      return null;
    }
    session.lastHeardUs = this.ensemble.world.kernel.now;
    return session;
  }

  private onPing(from: string, ping: ZkPing): void {
    if (this.connected(from, ping.sessionId) === null) return;
    const pong: ZkPong = { type: "ZkPong", zxid: this.ensemble.zxid };
    this.send(from, pong);
  }

  private onRequest(from: string, message: ZkRequest): void {
    const session = this.connected(from, message.sessionId);
    if (session === null || this.dropRequests) return;
    const scripted = this.override?.(message.request) ?? null;
    const reply = scripted ?? this.ensemble.apply(session, message.request);
    const response: ZkResponse = { type: "ZkResponse", xid: message.xid, zxid: this.ensemble.zxid, reply };
    if (this.reverseReplies > 0) {
      this.held.push(response);
      this.heldClient = from;
      if (this.held.length === this.reverseReplies) {
        this.reverseReplies = 0;
        for (const held of this.held.reverse()) this.send(this.heldClient, held);
        this.held = [];
      }
      return;
    }
    this.send(from, response);
    if (this.duplicateReplies) this.send(from, response);
    if (message.request.op === "closeSession") {
      const disconnect: ZkDisconnect = { type: "ZkDisconnect", reason: "session-closed" };
      this.send(from, disconnect);
      session.server = null;
    }
  }
}

function parentOf(path: string): string | null {
  if (path === "/") return null;
  const slash = path.lastIndexOf("/");
  return slash === 0 ? "/" : path.slice(0, slash);
}
