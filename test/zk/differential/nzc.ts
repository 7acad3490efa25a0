/**
 * A thin, typed, promise-based session over node-zookeeper-client 1.1.3 that sends raw protocol records
 * (jute) instead of going through the library's convenience methods. Those methods have quirks that would
 * hide the server's behaviour: Transaction turns version 0 into -1 (`version || -1`), every method rejects
 * paths with its own (different) validation, and the client-side watcher table drops events. Here every
 * server answer comes back as is: the reply header's error code and zxid, the payload, and every watch
 * notification the server sent on this session's connection, in arrival order.
 */

import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

// ---- the parts of node-zookeeper-client this file uses ----

interface JuteRecord {
  [field: string]: unknown;
}
type JuteRecordClass = new (...args: unknown[]) => JuteRecord;
interface JuteModule {
  OP_CODES: Record<string, number>;
  Request: new (header: JuteRecord, payload: unknown) => unknown;
  TransactionRequest: new (ops: unknown[]) => unknown;
  protocol: Record<string, JuteRecordClass>;
}
interface JuteResponse {
  header: { xid: number; zxid: Buffer | undefined; err: number };
  payload: JuteRecord | null;
}
interface ConnectionManager {
  queue(request: unknown, callback: (error: unknown, response?: JuteResponse) => void): void;
  watcherManager: { emit(event: { type: number; path: string }): void };
}
interface NzcClient {
  connect(): void;
  close(): void;
  once(event: string, listener: (...args: unknown[]) => void): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
  getSessionId(): Buffer;
  connectionManager: ConnectionManager;
}
interface NzcModule {
  createClient(
    connectString: string,
    options: { sessionTimeout: number; spinDelay: number; retries: number },
  ): NzcClient;
  ACL: { OPEN_ACL_UNSAFE: { toRecord(): unknown }[] };
  Path: { validate(path: string): void };
}

const nzc = require("node-zookeeper-client") as NzcModule;
const jute = require("node-zookeeper-client/lib/jute/index.js") as JuteModule;
const nzcPath = require("node-zookeeper-client/lib/Path.js") as { validate(path: string): void };

export const OP = jute.OP_CODES;

/** CreateMode flags. */
export function createFlags(ephemeral: boolean, sequential: boolean): number {
  return (ephemeral ? 1 : 0) | (sequential ? 2 : 0);
}

/** node-zookeeper-client's own path check (an AssertionError when the path is invalid). */
export function nzcPathIsValid(path: string): boolean {
  try {
    nzcPath.validate(path);
    return true;
  } catch {
    return false;
  }
}

/** A 64-bit jute long (zxid, session id, ephemeral owner) as a bigint. */
export function long(buffer: Buffer | undefined): bigint {
  return buffer && buffer.length === 8 ? buffer.readBigInt64BE(0) : 0n;
}

export interface RawStat {
  czxid: bigint;
  mzxid: bigint;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: bigint;
  dataLength: number;
  numChildren: number;
  pzxid: bigint;
}

export function rawStat(record: unknown): RawStat {
  const s = record as Record<string, unknown>;
  return {
    czxid: long(s.czxid as Buffer),
    mzxid: long(s.mzxid as Buffer),
    version: s.version as number,
    cversion: s.cversion as number,
    aversion: s.aversion as number,
    ephemeralOwner: long(s.ephemeralOwner as Buffer),
    dataLength: s.dataLength as number,
    numChildren: s.numChildren as number,
    pzxid: long(s.pzxid as Buffer),
  };
}

export interface RawReply {
  err: number;
  zxid: bigint;
  payload: JuteRecord | null;
}

/** A multi sub-operation as TransactionRequest takes it. */
export type RawMultiOp =
  | { type: number; path: string; data: Buffer; acls: unknown[]; mode: number }
  | { type: number; path: string; data?: Buffer; version: number };

export interface RawEvent {
  type: number;
  path: string;
}

/** Watcher.Event.EventType numbers. */
export const EVENT_NAMES: Record<number, "NodeCreated" | "NodeDeleted" | "NodeDataChanged" | "NodeChildrenChanged"> = {
  1: "NodeCreated",
  2: "NodeDeleted",
  3: "NodeDataChanged",
  4: "NodeChildrenChanged",
};

export class RawSession {
  /** Watch notifications received, in order. */
  readonly events: RawEvent[] = [];
  readonly sessionId: bigint;
  private closed = false;

  private constructor(private readonly client: NzcClient) {
    this.sessionId = long(client.getSessionId());
    const manager = client.connectionManager.watcherManager;
    const original = manager.emit.bind(manager);
    manager.emit = (event) => {
      this.events.push({ type: event.type, path: event.path });
      original(event);
    };
  }

  static open(connectString: string, timeoutMs = 10_000): Promise<RawSession> {
    const client = nzc.createClient(connectString, { sessionTimeout: timeoutMs, spinDelay: 100, retries: 0 });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`cannot connect to ZooKeeper at ${connectString}`)), 10_000);
      client.once("connected", () => {
        clearTimeout(timer);
        resolve(new RawSession(client));
      });
      client.connect();
    });
  }

  /** Sends one request record and resolves with the server's answer (never rejects for ZooKeeper errors). */
  request(type: number, payload: unknown): Promise<RawReply> {
    const header = new jute.protocol.RequestHeader();
    header.type = type;
    const request = new jute.Request(header, payload);
    return new Promise((resolve, reject) => {
      this.client.connectionManager.queue(request, (_error, response) => {
        if (!response) {
          reject(new Error(`no response from ZooKeeper: ${String(_error)}`));
          return;
        }
        resolve({ err: response.header.err, zxid: long(response.header.zxid), payload: response.payload });
      });
    });
  }

  record(name: string, fields: Record<string, unknown>): JuteRecord {
    const r = new jute.protocol[name]();
    Object.assign(r, fields);
    return r;
  }

  create(path: string, data: string, flags: number): Promise<RawReply> {
    return this.request(
      OP.CREATE,
      this.record("CreateRequest", {
        path,
        data: Buffer.from(data, "utf8"),
        acl: nzc.ACL.OPEN_ACL_UNSAFE.map((a) => a.toRecord()),
        flags,
      }),
    );
  }

  delete(path: string, version: number): Promise<RawReply> {
    return this.request(OP.DELETE, this.record("DeleteRequest", { path, version }));
  }

  setData(path: string, data: string, version: number): Promise<RawReply> {
    return this.request(OP.SET_DATA, this.record("SetDataRequest", { path, data: Buffer.from(data, "utf8"), version }));
  }

  getData(path: string, watch: boolean): Promise<RawReply> {
    return this.request(OP.GET_DATA, this.record("GetDataRequest", { path, watch }));
  }

  exists(path: string, watch: boolean): Promise<RawReply> {
    return this.request(OP.EXISTS, this.record("ExistsRequest", { path, watch }));
  }

  getChildren(path: string, watch: boolean): Promise<RawReply> {
    return this.request(OP.GET_CHILDREN2, this.record("GetChildren2Request", { path, watch }));
  }

  multi(ops: RawMultiOp[]): Promise<RawReply> {
    return this.request(OP.MULTI, new jute.TransactionRequest(ops));
  }

  static createOp(path: string, data: string, flags: number): RawMultiOp {
    return { type: OP.CREATE, path, data: Buffer.from(data, "utf8"), acls: nzc.ACL.OPEN_ACL_UNSAFE, mode: flags };
  }

  static deleteOp(path: string, version: number): RawMultiOp {
    return { type: OP.DELETE, path, version };
  }

  static setDataOp(path: string, data: string, version: number): RawMultiOp {
    return { type: OP.SET_DATA, path, data: Buffer.from(data, "utf8"), version };
  }

  static checkOp(path: string, version: number): RawMultiOp {
    return { type: OP.CHECK, path, version };
  }

  /** Closes the session (its ephemerals are deleted) and waits until the connection is gone. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, 5000);
      this.client.once("disconnected", () => {
        clearTimeout(timer);
        resolve();
      });
      this.client.close();
    });
  }
}
