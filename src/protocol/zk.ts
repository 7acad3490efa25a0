/**
 * ZooKeeper's client-facing protocol as plain data: error codes (KeeperException.Code), znode Stat,
 * operations, replies, watch events and the client↔server messages. No bytes on the wire: each message
 * is an object whose `type` names it in the trace. Server↔server (quorum) messages live in src/zk/.
 */

import type { Message } from "../sim/host.ts";

/** KeeperException.Code, by name (the value is what ZooKeeper puts on the wire). */
export const ZK_CODES = {
  OK: 0,
  SYSTEMERROR: -1,
  RUNTIMEINCONSISTENCY: -2,
  DATAINCONSISTENCY: -3,
  CONNECTIONLOSS: -4,
  MARSHALLINGERROR: -5,
  UNIMPLEMENTED: -6,
  OPERATIONTIMEOUT: -7,
  BADARGUMENTS: -8,
  UNKNOWNSESSION: -12,
  APIERROR: -100,
  NONODE: -101,
  NOAUTH: -102,
  BADVERSION: -103,
  NOCHILDRENFOREPHEMERALS: -108,
  NODEEXISTS: -110,
  NOTEMPTY: -111,
  SESSIONEXPIRED: -112,
  INVALIDCALLBACK: -113,
  SESSIONMOVED: -118,
  NOTREADONLY: -119,
  REQUESTTIMEOUT: -122,
} as const;

/** A ZooKeeper result code by name: Kafka errors and ZooKeeper errors are typed values, never exceptions. */
export type ZkCode = keyof typeof ZK_CODES;

/** zxid = (epoch << 32) | counter, kept as a JS number (exact while epoch < 2^21). */
export type Zxid = number;
export const ZXID_EPOCH_FACTOR = 4_294_967_296; // 2^32

export function makeZxid(epoch: number, counter: number): Zxid {
  return epoch * ZXID_EPOCH_FACTOR + counter;
}

export function zxidEpoch(zxid: Zxid): number {
  return Math.floor(zxid / ZXID_EPOCH_FACTOR);
}

export function zxidCounter(zxid: Zxid): number {
  return zxid % ZXID_EPOCH_FACTOR;
}

/** A session id (the leader's sid in the top byte, as ZooKeeper's SessionTrackerImpl.initializeNextSession). */
export type SessionId = number;

/** org.apache.zookeeper.data.Stat. Times are milliseconds of the leader's local clock. */
export interface Stat {
  czxid: Zxid;
  mzxid: Zxid;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  /** The owning session of an ephemeral znode; 0 for persistent ones. */
  ephemeralOwner: SessionId;
  dataLength: number;
  numChildren: number;
  pzxid: Zxid;
}

/** Write operations (they go through the leader and become transactions). */
export type ZkWriteOp =
  | { op: "create"; path: string; data: string; ephemeral: boolean; sequential: boolean }
  | { op: "delete"; path: string; version: number }
  | { op: "setData"; path: string; data: string; version: number }
  | { op: "check"; path: string; version: number };

/** Read operations (served by the server the client is connected to, possibly stale). */
export type ZkReadOp =
  | { op: "getData"; path: string; watch: boolean }
  | { op: "exists"; path: string; watch: boolean }
  | { op: "getChildren"; path: string; watch: boolean }
  /** Makes the connected server catch up with the leader before later reads of this session. */
  | { op: "sync"; path: string };

export type ZkOp =
  | ZkWriteOp
  | ZkReadOp
  /** Atomic: all sub-operations or none; `check` only makes sense inside a multi. */
  | { op: "multi"; ops: ZkWriteOp[] }
  /** Ends the session: its ephemerals are deleted. */
  | { op: "closeSession" };

/** One sub-result of a multi (OpResult): ops before a failing op get OK, the failing one its code, the rest RUNTIMEINCONSISTENCY. */
export interface ZkOpResult {
  op: ZkWriteOp["op"];
  code: ZkCode;
  /** create: the actual path (with the sequential suffix). */
  path?: string;
  /** setData: the new stat. */
  stat?: Stat;
}

/** The reply to any operation; fields present depend on the operation. */
export interface ZkReply {
  code: ZkCode;
  /** create: the actual path created. */
  path?: string;
  /** getData, exists (null when the node does not exist and code is OK), setData, getChildren. */
  stat?: Stat | null;
  data?: string;
  /** getChildren: child names (not paths), sorted. */
  children?: string[];
  /** multi: one per sub-operation. */
  results?: ZkOpResult[];
}

export type ZkWatchEventType = "NodeCreated" | "NodeDeleted" | "NodeDataChanged" | "NodeChildrenChanged";

// ---- client ↔ server messages ----

/** Opens (sessionId 0) or re-attaches (sessionId ≠ 0) a session on the server the client connects to. */
export interface ZkConnectRequest extends Message {
  type: "ZkConnect";
  protocolVersion: 0;
  /** The highest zxid the client has seen: a server behind it refuses the connection (client tries another). */
  lastZxidSeen: Zxid;
  timeoutMs: number;
  sessionId: SessionId;
  passwd: number;
  /**
   * Watches the client still holds, re-registered on the new server (ClientCnxn's SetWatches): the server
   * fires at once those whose znode changed after lastZxidSeen, and registers the rest.
   */
  watches?: { data: string[]; exist: string[]; child: string[] };
}

/**
 * The server's answer. `timeoutMs` 0 with `sessionId` 0 means the session has expired (the client moves
 * to EXPIRED); `refused` means the server cannot serve now (not in a quorum, or behind lastZxidSeen).
 */
export interface ZkConnectResponse extends Message {
  type: "ZkConnectResponse";
  timeoutMs: number;
  sessionId: SessionId;
  passwd: number;
  refused?: "not-serving" | "behind-client";
}

export interface ZkRequest extends Message {
  type: "ZkRequest";
  sessionId: SessionId;
  /** Client-assigned, increasing per session (cxid); replies come back in xid order. */
  xid: number;
  request: ZkOp;
}

export interface ZkResponse extends Message {
  type: "ZkResponse";
  xid: number;
  /** The zxid of the server's last applied transaction when it answered. */
  zxid: Zxid;
  reply: ZkReply;
}

/** Client heartbeat (xid -2 in ZooKeeper); the server answers ZkPong and touches the session. */
export interface ZkPing extends Message {
  type: "ZkPing";
  sessionId: SessionId;
}

export interface ZkPong extends Message {
  type: "ZkPong";
  zxid: Zxid;
}

/** A one-shot watch firing (xid -1 in ZooKeeper). */
export interface ZkWatchEvent extends Message {
  type: "ZkWatchEvent";
  event: ZkWatchEventType;
  path: string;
  zxid: Zxid;
}

/** The server drops the connection (it lost its quorum, or the session was closed or moved). */
export interface ZkDisconnect extends Message {
  type: "ZkDisconnect";
  reason: "not-serving" | "session-closed" | "session-expired";
}

export type ZkClientToServer = ZkConnectRequest | ZkRequest | ZkPing;
export type ZkServerToClient = ZkConnectResponse | ZkResponse | ZkPong | ZkWatchEvent | ZkDisconnect;

/** Client connection states (Watcher.Event.KeeperState + the client's own CONNECTING). */
export type ZkClientState = "CONNECTING" | "CONNECTED" | "DISCONNECTED" | "EXPIRED" | "CLOSED";
