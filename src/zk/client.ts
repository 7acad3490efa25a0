/**
 * The ZooKeeper client library a Kafka broker embeds: the Java client's ClientCnxn send loop (connect, ping,
 * read and connect timeouts, reconnect to the next server keeping the session, cleanup on connection loss),
 * ZooKeeper.java's asynchronous API and ZKWatchManager, as an explicit message-and-timer state machine that
 * the owning process feeds with its messages and "zk-client:" timers. It simplifies the wire: a connection
 * is the ZkConnect handshake on the network's ordered link (no TCP handshake, auth, chroot or read-only
 * mode), and callbacks run inside the owning process's events instead of an EventThread — except failures of
 * calls made on a dead or closing client, which come back on a zero-delay timer so a retrying caller never
 * recurses. The link's connection id stands in for the socket: a message from the server on another
 * connection than the one its ZkConnectResponse came on means the TCP connection was reset in between
 * (messages may be missing), which ClientCnxn sees as an IOException — a connection loss. So is a reset by
 * the server's OS (its process crashed: onConnectionRefused): ClientCnxn.SendThread.run catches the socket's
 * "Unable to read additional data from server … likely server has closed socket" (or "Connection refused" on
 * an attempt) and moves on to the next server at once, after startConnect's random sleep, instead of waiting
 * out its read timeout (2/3 of the session timeout) or connect timeout; a machine that is off or paused sends
 * no reset, and only those timeouts tell.
 */

import { assert } from "../sim/assert.ts";
import type { Message, ProcessContext } from "../sim/host.ts";
import type { Rng } from "../sim/rng.ts";
import { ms, type Micros } from "../sim/time.ts";
import type {
  SessionId,
  ZkClientState,
  ZkCode,
  ZkConnectRequest,
  ZkConnectResponse,
  ZkOp,
  ZkPing,
  ZkPong,
  ZkReply,
  ZkRequest,
  ZkResponse,
  ZkWatchEvent,
  ZkWatchEventType,
  ZkWriteOp,
  Zxid,
} from "../protocol/zk.ts";
import { Fifo } from "./client-queue.ts";
import { ZkHostProvider } from "./client-hosts.ts";
import { ZkClientWatches, type HeldWatches } from "./client-watches.ts";

export type { HeldWatches } from "./client-watches.ts";

export interface ZkClientConfig {
  /** Host names of the ZooKeeper servers (zk-1, zk-2, …): the connect string. */
  servers: string[];
  /** Requested session timeout; the server negotiates it within [2, 20] × tickTime. */
  sessionTimeoutMs: number;
  /**
   * ZooKeeper 3.6's zookeeper.request.timeout (0 or absent = none): a request outstanding this long fails
   * with REQUESTTIMEOUT and the connection is dropped, failing the others with CONNECTIONLOSS.
   */
  requestTimeoutMs?: number;
}

export interface ZkClientListener {
  onStateChange?(state: ZkClientState, previous: ZkClientState): void;
  /** One-shot watch firings, in arrival order (only those that trigger a watch this client holds). */
  onWatchEvent?(event: ZkWatchEventType, path: string): void;
}

export type ZkCallback = (reply: ZkReply) => void;

/** Every timer tag of the client starts with this; the owning process routes those timers to onTimer. */
export const ZK_CLIENT_TIMER_PREFIX = "zk-client:";

const TAG_CONNECT = "zk-client:connect";
const TAG_CONNECT_TIMEOUT = "zk-client:connect-timeout";
const TAG_READ_TIMEOUT = "zk-client:read-timeout";
const TAG_PING = "zk-client:ping";
const TAG_REQUEST_TIMEOUT = "zk-client:request-timeout";
const TAG_DELIVER = "zk-client:deliver";

/** ClientCnxn.startConnect: Thread.sleep(r.nextInt(1000)) before every attempt but the first. */
export const RECONNECT_BACKOFF_MS_MAX = 999;
/** ClientCnxn's hostProvider.next(1000): the sleep after a full round of servers without a connection. */
export const HOST_SPIN_DELAY_MS = 1000;
/** ClientCnxn.MAX_SEND_PING_INTERVAL: a ping goes out after at most this long without sending. */
export const MAX_SEND_PING_INTERVAL_MS = 10_000;

// Replies shared by every failed request: callers read them, never write them.
const CONNECTION_LOSS: ZkReply = Object.freeze({ code: "CONNECTIONLOSS" as ZkCode }) as ZkReply;
const SESSION_EXPIRED: ZkReply = Object.freeze({ code: "SESSIONEXPIRED" as ZkCode }) as ZkReply;
const REQUEST_TIMEOUT: ZkReply = Object.freeze({ code: "REQUESTTIMEOUT" as ZkCode }) as ZkReply;
const CLOSE_DONE: ZkReply = Object.freeze({ code: "OK" as ZkCode }) as ZkReply;

const SIZE_CONNECT_BYTES = 48;
const SIZE_REQUEST_BYTES = 64;
const SIZE_PING_BYTES = 16;

/**
 * ClientCnxn's ping schedule: timeToNextPing = readTimeout/2 − idleSend − (idleSend > 1000 ? 1000 : 0),
 * or idleSend > MAX_SEND_PING_INTERVAL. Returns the idle-send time (ms) at which a ping goes out.
 */
export function pingIdleMs(readTimeoutMs: number): number {
  const half = Math.floor(readTimeoutMs / 2);
  const due = half <= 1000 ? half : Math.max(1001, half - 1000);
  return Math.min(due, MAX_SEND_PING_INTERVAL_MS + 1);
}

/** A request from submission to its callback (ClientCnxn.Packet). */
interface Packet {
  /** Assigned when sent; 0 while queued. */
  xid: number;
  readonly request: ZkOp;
  readonly cb: ZkCallback;
  /** Local clock when submitted (the request timeout counts from here, as submitRequest's wait does). */
  readonly submittedUs: Micros;
  /** Local clock when sent (the read timeout counts from here while it is the oldest unanswered). */
  sentUs: Micros;
}

/** A callback to run on the next "zk-client:deliver" timer. */
interface Deferred {
  readonly cb: ZkCallback;
  readonly reply: ZkReply;
}

export class ZkClient {
  private current: ZkClientState = "DISCONNECTED";
  private started = false;
  /** close() was called: no reconnect; requests fail at once (ClientCnxn's `closing`). */
  private closing = false;
  private session: SessionId = 0;
  private passwd = 0;
  private negotiatedMs = 0;
  private zxid: Zxid = 0;
  /** The server of the current connection attempt or connection; null before the first attempt. */
  private server: string | null = null;
  /** The network connection (link epoch) the current connection's ZkConnectResponse came on. */
  private connection = -1;
  private readonly hosts: ZkHostProvider;
  private readonly watches = new ZkClientWatches();
  private readonly rng: Rng;
  private readonly requestTimeoutUs: Micros;

  // ClientCnxn's timeouts: from the requested timeout until one is negotiated.
  private readTimeoutUs: Micros;
  private connectTimeoutUs: Micros;
  private pingIdleUs: Micros;

  /** Local clock of the last message sent to / heard from the server (idleSend / idleRecv). */
  private lastSentUs: Micros = 0;
  private lastHeardUs: Micros = 0;
  /** Bumped on every new attempt and every drop: connection timers carry it, so a stale one is ignored. */
  private epoch = 0;
  private connectTimer = -1;
  private connectTimeoutTimer = -1;
  private readTimer = -1;
  private pingTimer = -1;
  private requestTimer = -1;
  private deliverTimer = -1;
  private ping: ZkPing | null = null;

  private nextXid = 1;
  /** Xids below this were sent on an earlier connection: their late replies are ignored. */
  private firstXidOfConnection = 1;
  /** Sent, awaiting their reply, in xid order (pendingQueue). */
  private readonly pending = new Fifo<Packet>();
  /** Submitted while not connected, sent on connect (outgoingQueue). */
  private readonly outgoing = new Fifo<Packet>();
  private deferred: Deferred[] = [];
  private closeCallbacks: (() => void)[] = [];

  constructor(
    private readonly context: ProcessContext,
    private readonly config: ZkClientConfig,
    private readonly listener: ZkClientListener,
  ) {
    assert(config.sessionTimeoutMs > 0, "zookeeper session timeout must be > 0 ms");
    const requestTimeoutMs = config.requestTimeoutMs ?? 0;
    assert(requestTimeoutMs >= 0, "zookeeper.request.timeout must be >= 0 ms");
    // A stream of its own, so the client's draws never shift the owning process's stream.
    this.rng = context.rng.fork("zk-client");
    this.hosts = new ZkHostProvider(config.servers, this.rng);
    this.requestTimeoutUs = ms(requestTimeoutMs);
    this.readTimeoutUs = ms(Math.floor((config.sessionTimeoutMs * 2) / 3));
    this.connectTimeoutUs = ms(Math.floor(config.sessionTimeoutMs / this.hosts.size));
    this.pingIdleUs = ms(pingIdleMs(Math.floor((config.sessionTimeoutMs * 2) / 3)));
  }

  // ------------------------------------------------------------------------------------------- inspection

  get state(): ZkClientState {
    return this.current;
  }

  /** 0 until the first connection; kept after expiry or close (the id the session had). */
  get sessionId(): SessionId {
    return this.session;
  }

  /** 0 until the first connection. */
  get negotiatedTimeoutMs(): number {
    return this.negotiatedMs;
  }

  get lastZxidSeen(): Zxid {
    return this.zxid;
  }

  /** The server this client is connected to, or null when not CONNECTED. */
  get connectedServer(): string | null {
    return this.current === "CONNECTED" ? this.server : null;
  }

  /** The shuffled server list, in the order the client tries it. */
  get serverOrder(): readonly string[] {
    return this.hosts.servers;
  }

  /** Requests sent and not yet answered plus requests queued for the next connection. */
  get outstandingRequests(): number {
    return this.pending.length + this.outgoing.length;
  }

  /** Whether this client holds a watch of `kind` on `path`. */
  holdsWatch(kind: keyof HeldWatches, path: string): boolean {
    return this.watches.has(kind, path);
  }

  // ---------------------------------------------------------------------------------------------- control

  /** Begins connecting to the first server of the shuffled list, at once (CONNECTING). */
  start(): void {
    assert(!this.started, "ZkClient.start called twice");
    if (this.current === "CLOSED") return;
    this.started = true;
    this.hosts.next();
    this.sendConnect();
  }

  /**
   * ZooKeeper.close(): when connected, sends closeSession and becomes CLOSED on its reply (or when the
   * connection drops first); otherwise CLOSED at once, failing queued requests with CONNECTIONLOSS. The
   * session is then gone for this client: later calls fail with SESSIONEXPIRED, as ClientCnxn's
   * conLossPacket does once the state is CLOSED (and with CONNECTIONLOSS while the close is under way).
   */
  close(cb?: () => void): void {
    if (this.current === "CLOSED" || this.current === "EXPIRED") {
      if (cb !== undefined) this.defer(() => cb(), CLOSE_DONE);
      return;
    }
    if (cb !== undefined) this.closeCallbacks.push(cb);
    if (this.closing) return;
    this.closing = true;
    if (this.current === "CONNECTED") {
      const packet: Packet = {
        xid: 0,
        request: { op: "closeSession" },
        cb: () => this.finishClose(SESSION_EXPIRED),
        submittedUs: this.context.monotonicNow(),
        sentUs: 0,
      };
      this.sendPacket(packet);
      this.armRequestTimer();
      return;
    }
    this.finishClose(CONNECTION_LOSS);
  }

  // --------------------------------------------------------------------------------------------------- API

  create(path: string, data: string, mode: { ephemeral?: boolean; sequential?: boolean }, cb: ZkCallback): void {
    const ephemeral = mode.ephemeral === true;
    const sequential = mode.sequential === true;
    this.submit({ op: "create", path, data, ephemeral, sequential }, cb);
  }

  /** version -1 = any version. */
  delete(path: string, version: number, cb: ZkCallback): void {
    this.submit({ op: "delete", path, version }, cb);
  }

  /** version -1 = any version. */
  setData(path: string, data: string, version: number, cb: ZkCallback): void {
    this.submit({ op: "setData", path, data, version }, cb);
  }

  getData(path: string, watch: boolean, cb: ZkCallback): void {
    this.submit({ op: "getData", path, watch }, cb);
  }

  exists(path: string, watch: boolean, cb: ZkCallback): void {
    this.submit({ op: "exists", path, watch }, cb);
  }

  getChildren(path: string, watch: boolean, cb: ZkCallback): void {
    this.submit({ op: "getChildren", path, watch }, cb);
  }

  multi(ops: ZkWriteOp[], cb: ZkCallback): void {
    this.submit({ op: "multi", ops }, cb);
  }

  sync(path: string, cb: ZkCallback): void {
    this.submit({ op: "sync", path }, cb);
  }

  // ------------------------------------------------------------------------------------------------ events

  /**
   * Consumes the ZooKeeper server→client messages (returns true), whether or not they are current.
   * `connection` is the network connection the message came on (Process.onMessage's link epoch).
   */
  onMessage(from: string, message: Message, connection = 0): boolean {
    switch (message.type) {
      case "ZkConnectResponse":
        if (this.current === "CONNECTING" && from === this.server) {
          this.onConnectResponse(message as ZkConnectResponse, connection);
        }
        return true;
      case "ZkResponse":
        // Replies reach only the connection they were sent on: CONNECTED here, and xid not from an older one.
        if (this.onConnection(from, connection)) this.onResponse(message as ZkResponse);
        return true;
      case "ZkPong":
        if (this.onConnection(from, connection)) {
          this.lastHeardUs = this.context.monotonicNow();
          this.seeZxid((message as ZkPong).zxid);
        }
        return true;
      case "ZkWatchEvent":
        if (this.onConnection(from, connection)) this.onWatchEvent(message as ZkWatchEvent);
        return true;
      case "ZkDisconnect":
        // The server closed the connection (lost quorum, session moved, closed or expired): as a read timeout.
        if (this.current === "CONNECTING" && from === this.server) this.dropConnection(null);
        else if (this.onConnection(from, connection)) this.dropConnection(null);
        return true;
      default:
        return false;
    }
  }

  /**
   * Is this message from the server of the current connection, on that connection? One from that server on
   * another connection means the TCP connection was reset since (whatever was in flight is lost): the
   * connection is dropped, exactly as on a read timeout, and the message is not used.
   */
  private onConnection(from: string, connection: number): boolean {
    if (this.current !== "CONNECTED" || from !== this.server) return false;
    if (connection === this.connection) return true;
    this.dropConnection(null);
    return false;
  }

  /**
   * The owning process's Process.onConnectionRefused: `peer`'s OS reset our connection or refused our attempt
   * (its process is gone). ClientCnxn.SendThread.run's catch: cleanup() (requests fail with CONNECTIONLOSS)
   * and the next server after the random startConnect sleep; the session lives on if that reconnect comes
   * within the session timeout. Returns whether it concerned this client's server.
   */
  onConnectionRefused(peer: string): boolean {
    if (peer !== this.server) return false;
    if (this.current !== "CONNECTED" && this.current !== "CONNECTING") return false;
    this.dropConnection(null);
    return true;
  }

  /** Handles the client's own timers (tags starting "zk-client:"); returns false for any other timer. */
  onTimer(tag: string, data: unknown): boolean {
    switch (tag) {
      case TAG_CONNECT:
        if (data === this.epoch) {
          this.connectTimer = -1;
          this.sendConnect();
        }
        return true;
      case TAG_CONNECT_TIMEOUT:
        if (data === this.epoch) {
          this.connectTimeoutTimer = -1;
          if (this.current === "CONNECTING") this.dropConnection(null);
        }
        return true;
      case TAG_READ_TIMEOUT:
        if (data === this.epoch) this.onReadTimer();
        return true;
      case TAG_PING:
        if (data === this.epoch) this.onPingTimer();
        return true;
      case TAG_REQUEST_TIMEOUT:
        this.onRequestTimer();
        return true;
      case TAG_DELIVER:
        this.onDeliverTimer();
        return true;
      default:
        if (tag.startsWith(ZK_CLIENT_TIMER_PREFIX)) assert(false, `unknown ZooKeeper client timer ${tag}`);
        return false;
    }
  }

  // ------------------------------------------------------------------------------------------- connecting

  /** primeConnection: ZkConnect with the session (0 for a new one), lastZxidSeen and the watches held. */
  private sendConnect(): void {
    this.epoch++;
    const server = this.hosts.current;
    this.server = server;
    this.firstXidOfConnection = this.nextXid;
    const message: ZkConnectRequest = {
      type: "ZkConnect",
      protocolVersion: 0,
      lastZxidSeen: this.zxid,
      timeoutMs: this.negotiatedMs > 0 ? this.negotiatedMs : this.config.sessionTimeoutMs,
      sessionId: this.session,
      passwd: this.passwd,
      sizeBytes: SIZE_CONNECT_BYTES,
    };
    const held = this.watches.held();
    if (held !== undefined) message.watches = held;
    this.setState("CONNECTING");
    if (this.current !== "CONNECTING") return; // the listener closed the client
    const now = this.context.monotonicNow();
    this.lastSentUs = now;
    this.lastHeardUs = now;
    this.context.send(server, message);
    this.connectTimeoutTimer = this.context.setTimer(this.connectTimeoutUs, TAG_CONNECT_TIMEOUT, this.epoch);
  }

  private onConnectResponse(response: ZkConnectResponse, connection: number): void {
    if (response.refused !== undefined) {
      // The server closes the socket (not in a quorum, or behind our lastZxidSeen): try the next one.
      this.dropConnection(null);
      return;
    }
    if (response.timeoutMs <= 0) {
      this.expire();
      return;
    }
    if (response.sessionId === 0) assert(false, "ZkConnectResponse accepts a session without a session id");
    // A late answer to an earlier attempt on this link (say, a new session from a server that was paused):
    // that connection is long gone, so wait for the answer to this one.
    if (this.session !== 0 && response.sessionId !== this.session) return;
    this.cancel(this.connectTimeoutTimer);
    this.connectTimeoutTimer = -1;
    this.connection = connection;
    this.session = response.sessionId;
    this.passwd = response.passwd;
    this.negotiatedMs = response.timeoutMs;
    const readTimeoutMs = Math.floor((response.timeoutMs * 2) / 3);
    this.readTimeoutUs = ms(readTimeoutMs);
    this.connectTimeoutUs = ms(Math.floor(response.timeoutMs / this.hosts.size));
    this.pingIdleUs = ms(pingIdleMs(readTimeoutMs));
    this.ping = { type: "ZkPing", sessionId: this.session, sizeBytes: SIZE_PING_BYTES };
    this.hosts.onConnected();
    this.lastHeardUs = this.context.monotonicNow();
    this.current = "CONNECTED";
    // Queued requests go out first, in order, before the listener can submit anything new.
    while (this.outgoing.length > 0) this.sendPacket(this.outgoing.shift()!);
    this.readTimer = this.context.setTimer(this.readTimeoutUs, TAG_READ_TIMEOUT, this.epoch);
    this.pingTimer = this.context.setTimer(this.pingIdleUs, TAG_PING, this.epoch);
    this.announce("CONNECTING");
  }

  /**
   * ClientCnxn's cleanup(): the connection (or attempt) is gone. Sent and queued requests fail in order with
   * CONNECTIONLOSS (`timedOut`, if any, with REQUESTTIMEOUT); the client reconnects to the next server with
   * the same session — it never expires a session on its own: only a server can say so.
   */
  private dropConnection(timedOut: Packet | null): void {
    const live = this.current === "CONNECTED" || this.current === "CONNECTING";
    if (live) {
      this.cancelConnectionTimers();
      this.epoch++;
    }
    const failed = this.detachRequests();
    if (this.closing) {
      for (let i = 0; i < failed.length; i++) {
        this.defer(failed[i].cb, failed[i] === timedOut ? REQUEST_TIMEOUT : CONNECTION_LOSS);
      }
      this.finishClose(CONNECTION_LOSS);
      return;
    }
    if (live) {
      this.scheduleReconnect();
      this.setState("DISCONNECTED");
    }
    for (let i = 0; i < failed.length; i++) {
      const packet = failed[i];
      packet.cb(packet === timedOut ? REQUEST_TIMEOUT : CONNECTION_LOSS);
    }
  }

  /** Next server after a random 0–999 ms backoff, plus 1 s when a whole round of servers failed. */
  private scheduleReconnect(): void {
    const spin = this.hosts.next();
    const delayMs = (spin ? HOST_SPIN_DELAY_MS : 0) + this.rng.int(0, RECONNECT_BACKOFF_MS_MAX);
    this.connectTimer = this.context.setTimer(ms(delayMs), TAG_CONNECT, this.epoch);
  }

  /** A server answered our reconnect with timeout 0: the session is gone, and so is this client. */
  private expire(): void {
    this.cancelConnectionTimers();
    this.epoch++;
    const failed = this.detachRequests();
    this.watches.clear();
    if (this.context.tracing) this.context.trace("zk-session-expired", { sessionId: this.session });
    this.setState("EXPIRED");
    for (let i = 0; i < failed.length; i++) failed[i].cb(SESSION_EXPIRED);
  }

  /** The end of close(): CLOSED; what is still outstanding fails with `reply`; the close callbacks run (deferred). */
  private finishClose(reply: ZkReply): void {
    if (this.current === "CLOSED" || this.current === "EXPIRED") return;
    this.cancelConnectionTimers();
    this.epoch++;
    this.watches.clear();
    const failed = this.detachRequests();
    for (let i = 0; i < failed.length; i++) this.defer(failed[i].cb, reply);
    const callbacks = this.closeCallbacks;
    this.closeCallbacks = [];
    for (const cb of callbacks) this.defer(() => cb(), CLOSE_DONE);
    this.setState("CLOSED");
  }

  // ---------------------------------------------------------------------------------------------- requests

  private submit(request: ZkOp, cb: ZkCallback): void {
    if (this.current === "EXPIRED" || this.current === "CLOSED") {
      this.defer(cb, SESSION_EXPIRED);
      return;
    }
    if (this.closing) {
      this.defer(cb, CONNECTION_LOSS);
      return;
    }
    const packet: Packet = { xid: 0, request, cb, submittedUs: this.context.monotonicNow(), sentUs: 0 };
    if (this.current === "CONNECTED") this.sendPacket(packet);
    else this.outgoing.push(packet);
    this.armRequestTimer();
  }

  private sendPacket(packet: Packet): void {
    packet.xid = this.nextXid++;
    this.pending.push(packet);
    const message: ZkRequest = {
      type: "ZkRequest",
      sessionId: this.session,
      xid: packet.xid,
      request: packet.request,
      sizeBytes: SIZE_REQUEST_BYTES,
    };
    const now = this.context.monotonicNow();
    packet.sentUs = now;
    this.lastSentUs = now;
    this.context.send(this.server!, message);
  }

  /**
   * Replies come back in xid order. One ahead of the oldest pending request means a request or reply was
   * lost on the link (the network's loss faults): as ClientCnxn's "Xid out of order" IOException, the
   * connection is dropped. One going backwards (already answered) or never sent is a server bug: a model
   * assertion.
   */
  private onResponse(response: ZkResponse): void {
    const xid = response.xid;
    if (xid < this.firstXidOfConnection) return; // a late reply to an earlier connection
    if (xid >= this.nextXid) assert(false, `ZkResponse for xid ${xid}, which was never sent`);
    const packet = this.pending.peek();
    if (packet === undefined) assert(false, `ZkResponse xid ${xid} with no request pending`);
    if (xid < packet.xid) {
      assert(false, `ZkResponse out of xid order: xid ${xid} while xid ${packet.xid} is the oldest pending`);
    }
    this.lastHeardUs = this.context.monotonicNow();
    if (xid !== packet.xid) {
      this.dropConnection(null);
      return;
    }
    this.pending.shift();
    this.seeZxid(response.zxid);
    this.watches.registerOnReply(packet.request, response.reply);
    packet.cb(response.reply);
  }

  private onWatchEvent(event: ZkWatchEvent): void {
    this.lastHeardUs = this.context.monotonicNow();
    this.seeZxid(event.zxid);
    if (this.watches.materialize(event.event, event.path)) this.listener.onWatchEvent?.(event.event, event.path);
  }

  private seeZxid(zxid: Zxid): void {
    if (zxid > this.zxid) this.zxid = zxid;
  }

  // ------------------------------------------------------------------------------------------------ timers

  /**
   * idleRecv ≥ readTimeout → connection lost. A ZooKeeper server answers a session's pings in order behind
   * its requests, so a request left unanswered starves the pongs too: the silence counts from the oldest
   * unanswered request's send time, whichever way the server orders its pongs. (So a request lost on a live
   * link — which TCP would have retransmitted — ends as CONNECTIONLOSS instead of hanging.)
   */
  private onReadTimer(): void {
    this.readTimer = -1;
    let heard = this.lastHeardUs;
    const oldest = this.pending.peek();
    if (oldest !== undefined && oldest.sentUs < heard) heard = oldest.sentUs;
    const idle = this.context.monotonicNow() - heard;
    if (idle >= this.readTimeoutUs) {
      this.dropConnection(null);
      return;
    }
    this.readTimer = this.context.setTimer(this.readTimeoutUs - idle, TAG_READ_TIMEOUT, this.epoch);
  }

  private onPingTimer(): void {
    this.pingTimer = -1;
    const now = this.context.monotonicNow();
    let wait = this.pingIdleUs - (now - this.lastSentUs);
    if (wait <= 0) {
      this.lastSentUs = now;
      this.context.send(this.server!, this.ping!);
      wait = this.pingIdleUs;
    }
    this.pingTimer = this.context.setTimer(wait, TAG_PING, this.epoch);
  }

  private armRequestTimer(): void {
    if (this.requestTimeoutUs === 0 || this.requestTimer !== -1) return;
    this.requestTimer = this.context.setTimer(this.requestTimeoutUs, TAG_REQUEST_TIMEOUT);
  }

  /** One timer serves every request: the oldest outstanding one is always the first to time out. */
  private onRequestTimer(): void {
    this.requestTimer = -1;
    const oldest = this.pending.peek() ?? this.outgoing.peek();
    if (oldest === undefined) return;
    const waited = this.context.monotonicNow() - oldest.submittedUs;
    if (waited < this.requestTimeoutUs) {
      this.requestTimer = this.context.setTimer(this.requestTimeoutUs - waited, TAG_REQUEST_TIMEOUT);
      return;
    }
    // submitRequest's wait ran out: REQUESTTIMEOUT, then cleanAndNotifyState() drops the connection.
    this.dropConnection(oldest);
  }

  private defer(cb: ZkCallback, reply: ZkReply): void {
    this.deferred.push({ cb, reply });
    if (this.deliverTimer === -1) this.deliverTimer = this.context.setTimer(0, TAG_DELIVER);
  }

  private onDeliverTimer(): void {
    this.deliverTimer = -1;
    const batch = this.deferred;
    this.deferred = [];
    // Callbacks deferred by these callbacks wait for the next timer: a retry loop advances the event count.
    for (let i = 0; i < batch.length; i++) batch[i].cb(batch[i].reply);
  }

  // ------------------------------------------------------------------------------------------------ helpers

  private detachRequests(): Packet[] {
    if (this.pending.length === 0 && this.outgoing.length === 0) return [];
    const failed = this.pending.drain();
    const queued = this.outgoing.drain();
    for (let i = 0; i < queued.length; i++) failed.push(queued[i]);
    return failed;
  }

  private cancelConnectionTimers(): void {
    this.cancel(this.connectTimer);
    this.cancel(this.connectTimeoutTimer);
    this.cancel(this.readTimer);
    this.cancel(this.pingTimer);
    this.connectTimer = -1;
    this.connectTimeoutTimer = -1;
    this.readTimer = -1;
    this.pingTimer = -1;
  }

  private cancel(timer: number): void {
    if (timer !== -1) this.context.cancelTimer(timer);
  }

  private setState(next: ZkClientState): void {
    const previous = this.current;
    if (previous === next) return;
    this.current = next;
    this.announce(previous);
  }

  /** Traces the change to the current state and tells the listener. */
  private announce(previous: ZkClientState): void {
    const next = this.current;
    if (this.context.tracing) {
      this.context.trace("zk-client-state", { from: previous, to: next, server: this.server, sessionId: this.session });
    }
    this.listener.onStateChange?.(next, previous);
  }
}
