/**
 * ZooKeeper's in-memory database (DataTree.java, DataNode.java, the session table of ZKDatabase) together with
 * the leader's request preparation (PrepRequestProcessor.pRequest2Txn), as pure deterministic code: the leader
 * turns a request into a transaction by validating it against its tree, and every server applies committed
 * transactions in zxid order with exactly ZooKeeper's effects on znodes, stats, sequential numbering, multi
 * results and watch triggers (checked against a real ZooKeeper 3.8 by test/zk/differential).
 * Simplifications: no ACLs (except that /zookeeper/config is read-only, as its READ_ACL_UNSAFE makes it), no
 * quotas, no container or TTL nodes, data as strings (lengths in UTF-8 bytes), and a path the Java client would
 * reject (PathUtils.validatePath, IllegalArgumentException before sending) is answered BADARGUMENTS.
 */

import { utf8Length } from "../sim/utf8.ts";
import type { SessionId, Stat, ZkCode, ZkOpResult, ZkReply, ZkWriteOp, Zxid } from "../protocol/zk.ts";
import type { ZkTxn, ZkTxnEntry, ZkTxnHeader } from "./txn.ts";
import { childName, invalidPathReason, isValidPath, parentPath, SPECIAL_PATHS, sequenceSuffix } from "./paths.ts";
import type { WatchTrigger } from "./watches.ts";

export type { WatchTrigger } from "./watches.ts";

/** What prepareAndApply accepts: a write, a multi, or a session's creation or end. */
export type ZkTxnRequest =
  | ZkWriteOp
  | { op: "multi"; ops: ZkWriteOp[] }
  | { op: "closeSession" }
  | { op: "createSession"; timeoutMs: number };

/**
 * A znode in a snapshot: its data and the persisted part of its Stat (dataLength and numChildren are
 * derived). `cversion` is the stored count of child creations (see ZNode.cversion below).
 */
export type ZNodeSnapshot = Omit<Stat, "dataLength" | "numChildren"> & { path: string; data: string };

/** A whole tree as plain JSON-able data (nodes sorted by path; children are implied by the paths). */
export interface DataTreeSnapshot {
  lastProcessedZxid: Zxid;
  sessions: [SessionId, number][];
  nodes: ZNodeSnapshot[];
}

interface ZNode {
  data: string;
  dataLength: number;
  czxid: Zxid;
  mzxid: Zxid;
  ctime: number;
  mtime: number;
  version: number;
  /**
   * StatPersisted.cversion: the number of children ever created. Clients see `2 × cversion − numChildren`
   * (DataNode.copyStat: creations plus deletions), and the sequential suffix is this stored value.
   */
  cversion: number;
  aversion: number;
  ephemeralOwner: SessionId;
  pzxid: Zxid;
  children: Set<string>;
}

/** The part of a znode request preparation looks at (PrepRequestProcessor.ChangeRecord). */
interface PrepRecord {
  version: number;
  cversion: number;
  childCount: number;
  ephemeralOwner: SessionId;
}

/** A KeeperException: thrown inside this module only, always caught and turned into a code. */
class ZkFailure {
  constructor(readonly code: ZkCode) {}
}

function fail(code: ZkCode): never {
  throw new ZkFailure(code);
}

/** /zookeeper/config has READ_ACL_UNSAFE: reading and `check` are allowed, writing or creating under it is not. */
const READ_ONLY_PATH = "/zookeeper/config";

export { utf8Length } from "../sim/utf8.ts";

function newNode(data: string, zxid: Zxid, time: number, ephemeralOwner: SessionId): ZNode {
  return {
    data,
    dataLength: utf8Length(data),
    czxid: zxid,
    mzxid: zxid,
    ctime: time,
    mtime: time,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner,
    pzxid: zxid,
    children: new Set(),
  };
}

function copyNode(n: ZNode): ZNode {
  return { ...n, children: new Set(n.children) };
}

function sortedKeys<T>(m: Map<string, T> | Set<string>): string[] {
  return [...m.keys()].sort();
}

/**
 * Pending changes of one request being prepared over a tree (PrepRequestProcessor's outstanding ChangeRecords):
 * a multi's sub-operations see the effects of the earlier ones; a failed multi drops them all.
 */
class Pending {
  private readonly changes = new Map<string, PrepRecord | null>();
  constructor(private readonly nodes: Map<string, ZNode>) {}

  get(path: string): PrepRecord | undefined {
    if (this.changes.has(path)) return this.changes.get(path) ?? undefined;
    const n = this.nodes.get(path);
    return n
      ? { version: n.version, cversion: n.cversion, childCount: n.children.size, ephemeralOwner: n.ephemeralOwner }
      : undefined;
  }

  /** getRecordForPath: NONODE when absent. */
  need(path: string): PrepRecord {
    return this.get(path) ?? fail("NONODE");
  }

  set(path: string, record: PrepRecord | null): void {
    this.changes.set(path, record);
  }
}

/** checkAndIncVersion: -1 matches any version; returns the next version. */
function checkVersion(current: number, expected: number): number {
  if (expected !== -1 && expected !== current) fail("BADVERSION");
  return current + 1;
}

export class DataTree {
  lastProcessedZxid: Zxid = 0;
  /** Session table (ZKDatabase.sessionsWithTimeouts): createSession/closeSession txns maintain it. */
  readonly sessions = new Map<SessionId, number>();
  private readonly nodes = new Map<string, ZNode>();
  /** session → its ephemeral znodes (DataTree.ephemerals). */
  private readonly ephemeralsBySession = new Map<SessionId, Set<string>>();

  /** A fresh tree as a ZooKeeper 3.5+ server starts: `/`, `/zookeeper`, `/zookeeper/quota`, `/zookeeper/config`. */
  constructor() {
    const root = newNode("", 0, 0, 0);
    const proc = newNode("", 0, 0, 0);
    const quota = newNode("", 0, 0, 0);
    const config = newNode("", 0, 0, 0);
    config.aversion = -1; // addConfigNode's setACL(configZookeeper, READ_ACL_UNSAFE, -1)
    root.children.add("zookeeper");
    proc.children.add("quota");
    proc.children.add("config");
    this.nodes.set("/", root);
    this.nodes.set("/zookeeper", proc);
    this.nodes.set("/zookeeper/quota", quota);
    this.nodes.set("/zookeeper/config", config);
  }

  // ---- leader side ----

  /**
   * Leader side: turns a request into a txn, validating against THIS tree (the leader keeps a speculative clone
   * with outstanding proposals applied) — and applies it to this tree so that later prepares see it. Errors
   * become {type: "error", code} (single op) or a multi whose failing sub-txn is an error.
   */
  prepareAndApply(
    header: ZkTxnHeader,
    request: ZkTxnRequest,
  ): { txn: ZkTxn; reply: ZkReply; triggers: WatchTrigger[] } {
    const txn = this.prepare(header, request);
    const { reply, triggers } = this.apply({ header, txn });
    return { txn, reply, triggers };
  }

  /** PrepRequestProcessor.pRequest2Txn without applying: the txn this request becomes on this tree. */
  prepare(header: ZkTxnHeader, request: ZkTxnRequest): ZkTxn {
    switch (request.op) {
      case "createSession":
        return { type: "createSession", timeoutMs: request.timeoutMs };
      case "closeSession":
        return { type: "closeSession" };
      case "multi": {
        // One zxid for all sub-ops; after the first failure the rest are not prepared (RUNTIMEINCONSISTENCY),
        // and the sub-txns before it stay as they were prepared: apply turns them into OK results.
        const pending = new Pending(this.nodes);
        const txns: ZkTxn[] = [];
        let failed = false;
        for (const op of request.ops) {
          if (failed) {
            txns.push({ type: "error", code: "RUNTIMEINCONSISTENCY", op: op.op });
            continue;
          }
          try {
            txns.push(this.prepareOp(pending, header, op));
          } catch (e) {
            if (!(e instanceof ZkFailure)) throw e;
            failed = true;
            txns.push({ type: "error", code: e.code, op: op.op });
          }
        }
        return { type: "multi", txns };
      }
      default:
        try {
          return this.prepareOp(new Pending(this.nodes), header, request);
        } catch (e) {
          if (!(e instanceof ZkFailure)) throw e;
          return { type: "error", code: e.code };
        }
    }
  }

  private prepareOp(pending: Pending, header: ZkTxnHeader, op: ZkWriteOp): ZkTxn {
    switch (op.op) {
      case "create": {
        if (!isValidPath(op.path, op.sequential)) fail("BADARGUMENTS");
        const parentName = parentPath(op.path);
        const parent = pending.need(parentName);
        if (parentName === READ_ONLY_PATH) fail("NOAUTH");
        const path = op.sequential ? op.path + sequenceSuffix(parent.cversion) : op.path;
        if (invalidPathReason(path) !== null) fail("BADARGUMENTS");
        if (pending.get(path)) fail("NODEEXISTS");
        if (parent.ephemeralOwner !== 0) fail("NOCHILDRENFOREPHEMERALS");
        const parentCVersion = parent.cversion + 1;
        const ephemeralOwner = op.ephemeral ? header.sessionId : 0;
        pending.set(parentName, { ...parent, cversion: parentCVersion, childCount: parent.childCount + 1 });
        pending.set(path, { version: 0, cversion: 0, childCount: 0, ephemeralOwner });
        return { type: "create", path, data: op.data, ephemeralOwner, parentCVersion };
      }
      case "delete": {
        if (!isValidPath(op.path) || SPECIAL_PATHS.includes(op.path)) fail("BADARGUMENTS");
        const parentName = parentPath(op.path);
        const parent = pending.need(parentName);
        if (parentName === READ_ONLY_PATH) fail("NOAUTH");
        const node = pending.need(op.path);
        checkVersion(node.version, op.version);
        if (node.childCount > 0) fail("NOTEMPTY");
        pending.set(parentName, { ...parent, childCount: parent.childCount - 1 });
        pending.set(op.path, null);
        return { type: "delete", path: op.path };
      }
      case "setData": {
        if (!isValidPath(op.path)) fail("BADARGUMENTS");
        const node = pending.need(op.path);
        if (op.path === READ_ONLY_PATH) fail("NOAUTH");
        const version = checkVersion(node.version, op.version);
        pending.set(op.path, { ...node, version });
        return { type: "setData", path: op.path, data: op.data, version };
      }
      case "check": {
        if (!isValidPath(op.path)) fail("BADARGUMENTS");
        const node = pending.need(op.path);
        // CheckVersionTxn carries checkAndIncVersion's result, as ZooKeeper's does (nothing reads it).
        return { type: "check", path: op.path, version: checkVersion(node.version, op.version) };
      }
    }
  }

  // ---- every server ----

  /**
   * Every server: applies a committed txn in zxid order (DataTree.processTxn). Returns the reply the client
   * gets and the watch triggers, in the order ZooKeeper fires them.
   */
  apply(entry: ZkTxnEntry): { reply: ZkReply; triggers: WatchTrigger[] } {
    const triggers: WatchTrigger[] = [];
    const { header, txn } = entry;
    let reply: ZkReply;
    if (txn.type === "multi") {
      reply = this.applyMulti(header, txn.txns, triggers);
    } else {
      const result = this.applySub(header, txn, triggers);
      reply = { code: result.code };
      if (txn.type === "create" && result.code === "OK") {
        reply.path = txn.path;
        reply.stat = this.statOf(txn.path);
      }
      if (txn.type === "setData" && result.code === "OK") reply.stat = result.stat;
    }
    if (header.zxid > this.lastProcessedZxid) this.lastProcessedZxid = header.zxid;
    return { reply, triggers };
  }

  private applyMulti(header: ZkTxnHeader, txns: ZkTxn[], triggers: WatchTrigger[]): ZkReply {
    const failed = txns.some((t) => t.type === "error");
    let postFailed = false;
    let code: ZkCode = "OK";
    const results: ZkOpResult[] = [];
    for (const sub of txns) {
      let effective = sub;
      if (sub.type === "error") postFailed = true;
      else if (failed) {
        // DataTree.processTxn: in a failed multi, sub-txns before the failing one answer OK, after it
        // RUNTIMEINCONSISTENCY, and none is applied.
        effective = { type: "error", code: postFailed ? "RUNTIMEINCONSISTENCY" : "OK", op: opOf(sub) };
      }
      const result = this.applySub(header, effective, triggers);
      results.push(result);
      if (result.code !== "OK" && code === "OK") code = result.code;
    }
    return { code, results };
  }

  /** One (sub-)transaction; a failure here changes nothing and becomes the result's code (processTxn's catch). */
  private applySub(header: ZkTxnHeader, txn: ZkTxn, triggers: WatchTrigger[]): ZkOpResult {
    const op = opOf(txn);
    try {
      switch (txn.type) {
        case "createSession":
          this.sessions.set(header.sessionId, txn.timeoutMs);
          return { op, code: "OK" };
        case "closeSession":
          this.killSession(header.sessionId, header.zxid, triggers);
          return { op, code: "OK" };
        case "create":
          this.createNode(txn.path, txn.data, txn.ephemeralOwner, txn.parentCVersion, header, triggers);
          return { op, code: "OK", path: txn.path };
        case "delete":
          this.deleteNode(txn.path, header.zxid, triggers);
          return { op, code: "OK" };
        case "setData":
          return { op, code: "OK", stat: this.setData(txn.path, txn.data, txn.version, header, triggers) };
        case "check":
          return { op, code: "OK" };
        case "error":
          return { op, code: txn.code };
        case "multi":
          throw new Error("a multi inside a multi");
      }
    } catch (e) {
      if (e instanceof ZkFailure) return { op, code: e.code };
      throw e;
    }
  }

  private createNode(
    path: string,
    data: string,
    ephemeralOwner: SessionId,
    parentCVersion: number,
    header: ZkTxnHeader,
    triggers: WatchTrigger[],
  ): void {
    const parentName = parentPath(path);
    const name = childName(path);
    const parent = this.nodes.get(parentName) ?? fail("NONODE");
    if (parent.children.has(name)) fail("NODEEXISTS");
    // Only move forward (a replayed create must not lower a newer cversion/pzxid).
    if (parentCVersion > parent.cversion) {
      parent.cversion = parentCVersion;
      parent.pzxid = header.zxid;
    }
    parent.children.add(name);
    this.nodes.set(path, newNode(data, header.zxid, header.time, ephemeralOwner));
    if (ephemeralOwner !== 0) {
      let mine = this.ephemeralsBySession.get(ephemeralOwner);
      if (!mine) {
        mine = new Set();
        this.ephemeralsBySession.set(ephemeralOwner, mine);
      }
      mine.add(path);
    }
    triggers.push({ path, event: "NodeCreated" }, { path: parentName, event: "NodeChildrenChanged" });
  }

  private deleteNode(path: string, zxid: Zxid, triggers: WatchTrigger[]): void {
    const parentName = parentPath(path);
    const parent = this.nodes.get(parentName) ?? fail("NONODE");
    // As ZooKeeper: the parent's pzxid moves (only forward) even if the child is already gone; cversion does
    // not change here (the count of creations), though clients see it grow through 2 × cversion − numChildren.
    parent.children.delete(childName(path));
    if (zxid > parent.pzxid) parent.pzxid = zxid;
    const node = this.nodes.get(path) ?? fail("NONODE");
    this.nodes.delete(path);
    if (node.ephemeralOwner !== 0) {
      const mine = this.ephemeralsBySession.get(node.ephemeralOwner);
      mine?.delete(path);
      if (mine?.size === 0) this.ephemeralsBySession.delete(node.ephemeralOwner);
    }
    triggers.push({ path, event: "NodeDeleted" }, { path: parentName, event: "NodeChildrenChanged" });
  }

  private setData(path: string, data: string, version: number, header: ZkTxnHeader, triggers: WatchTrigger[]): Stat {
    const node = this.nodes.get(path) ?? fail("NONODE");
    node.data = data;
    node.dataLength = utf8Length(data);
    node.mtime = header.time;
    node.mzxid = header.zxid;
    node.version = version;
    triggers.push({ path, event: "NodeDataChanged" });
    return this.statOfNode(node);
  }

  /** Ends a session: its ephemerals are deleted in path order, each firing its watches; the session is gone. */
  private killSession(sessionId: SessionId, zxid: Zxid, triggers: WatchTrigger[]): void {
    for (const path of this.ephemerals(sessionId)) {
      try {
        this.deleteNode(path, zxid, triggers);
      } catch (e) {
        if (!(e instanceof ZkFailure)) throw e;
      }
    }
    this.ephemeralsBySession.delete(sessionId);
    this.sessions.delete(sessionId);
  }

  // ---- reads ----

  getData(path: string): ZkReply {
    if (!isValidPath(path)) return { code: "BADARGUMENTS" };
    const node = this.nodes.get(path);
    if (!node) return { code: "NONODE" };
    return { code: "OK", data: node.data, stat: this.statOfNode(node) };
  }

  /** OK with stat null when the node does not exist (the server answers NONODE; clients turn it into null). */
  exists(path: string): ZkReply {
    if (!isValidPath(path)) return { code: "BADARGUMENTS" };
    return { code: "OK", stat: this.statOf(path) };
  }

  getChildren(path: string): ZkReply {
    if (!isValidPath(path)) return { code: "BADARGUMENTS" };
    const node = this.nodes.get(path);
    if (!node) return { code: "NONODE" };
    return { code: "OK", children: [...node.children].sort(), stat: this.statOfNode(node) };
  }

  /** The Stat of a node as clients see it, or null. */
  statOf(path: string): Stat | null {
    const node = this.nodes.get(path);
    return node ? this.statOfNode(node) : null;
  }

  private statOfNode(n: ZNode): Stat {
    return {
      czxid: n.czxid,
      mzxid: n.mzxid,
      ctime: n.ctime,
      mtime: n.mtime,
      version: n.version,
      cversion: n.cversion * 2 - n.children.size,
      aversion: n.aversion,
      ephemeralOwner: n.ephemeralOwner,
      dataLength: n.dataLength,
      numChildren: n.children.size,
      pzxid: n.pzxid,
    };
  }

  /** The session's ephemeral znodes, sorted. */
  ephemerals(sessionId: SessionId): string[] {
    const mine = this.ephemeralsBySession.get(sessionId);
    return mine ? sortedKeys(mine) : [];
  }

  /** Every session that owns at least one ephemeral znode, ascending. */
  ephemeralOwners(): SessionId[] {
    return [...this.ephemeralsBySession.keys()].sort((a, b) => a - b);
  }

  nodeCount(): number {
    return this.nodes.size;
  }

  /** Every znode path, sorted. */
  paths(): string[] {
    return sortedKeys(this.nodes);
  }

  // ---- copies ----

  clone(): DataTree {
    const t = new DataTree();
    t.nodes.clear();
    for (const [path, node] of this.nodes) t.nodes.set(path, copyNode(node));
    for (const [id, timeout] of this.sessions) t.sessions.set(id, timeout);
    for (const [id, paths] of this.ephemeralsBySession) t.ephemeralsBySession.set(id, new Set(paths));
    t.lastProcessedZxid = this.lastProcessedZxid;
    return t;
  }

  snapshot(): DataTreeSnapshot {
    return {
      lastProcessedZxid: this.lastProcessedZxid,
      sessions: [...this.sessions].sort((a, b) => a[0] - b[0]),
      nodes: sortedKeys(this.nodes).map((path) => {
        const n = this.nodes.get(path)!;
        return {
          path,
          data: n.data,
          czxid: n.czxid,
          mzxid: n.mzxid,
          ctime: n.ctime,
          mtime: n.mtime,
          version: n.version,
          cversion: n.cversion,
          aversion: n.aversion,
          ephemeralOwner: n.ephemeralOwner,
          pzxid: n.pzxid,
        };
      }),
    };
  }

  static fromSnapshot(s: DataTreeSnapshot): DataTree {
    const t = new DataTree();
    t.nodes.clear();
    for (const z of s.nodes) {
      t.nodes.set(z.path, {
        data: z.data,
        dataLength: utf8Length(z.data),
        czxid: z.czxid,
        mzxid: z.mzxid,
        ctime: z.ctime,
        mtime: z.mtime,
        version: z.version,
        cversion: z.cversion,
        aversion: z.aversion,
        ephemeralOwner: z.ephemeralOwner,
        pzxid: z.pzxid,
        children: new Set(),
      });
    }
    for (const z of s.nodes) {
      if (z.path === "/") continue;
      const parent = t.nodes.get(parentPath(z.path));
      if (!parent) throw new Error(`snapshot: ${z.path} has no parent`);
      parent.children.add(childName(z.path));
      if (z.ephemeralOwner !== 0) {
        let mine = t.ephemeralsBySession.get(z.ephemeralOwner);
        if (!mine) {
          mine = new Set();
          t.ephemeralsBySession.set(z.ephemeralOwner, mine);
        }
        mine.add(z.path);
      }
    }
    if (!t.nodes.has("/")) throw new Error("snapshot: no root");
    for (const [id, timeout] of s.sessions) t.sessions.set(id, timeout);
    t.lastProcessedZxid = s.lastProcessedZxid;
    return t;
  }

  /**
   * A deterministic hash of every znode (path, data, stat) and of the session table — not of
   * lastProcessedZxid — for comparing replicas in tests.
   */
  digest(): string {
    let h1 = 0x811c9dc5;
    let h2 = 0x9747b28c;
    const feed = (s: string) => {
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        h1 = Math.imul(h1 ^ c, 0x01000193);
        h2 = Math.imul(h2 ^ c, 0x5bd1e995);
        h2 ^= h2 >>> 15;
      }
      h1 = Math.imul(h1 ^ 0x1f, 0x01000193); // field separator
      h2 = Math.imul(h2 ^ 0x1f, 0x5bd1e995);
    };
    for (const path of sortedKeys(this.nodes)) {
      const n = this.nodes.get(path)!;
      feed(path);
      feed(n.data);
      feed(
        [n.czxid, n.mzxid, n.ctime, n.mtime, n.version, n.cversion, n.aversion, n.ephemeralOwner, n.pzxid].join(","),
      );
    }
    for (const [id, timeout] of [...this.sessions].sort((a, b) => a[0] - b[0])) feed(`s${id}:${timeout}`);
    const hex = (h: number) => (h >>> 0).toString(16).padStart(8, "0");
    return hex(h1) + hex(h2);
  }
}

/** The ZkOpResult.op of a sub-txn. */
function opOf(txn: ZkTxn): ZkWriteOp["op"] {
  switch (txn.type) {
    case "create":
    case "delete":
    case "setData":
    case "check":
      return txn.type;
    case "error":
      return txn.op ?? "check";
    default:
      return "check";
  }
}
