/**
 * A tiny built-in process for exercising the kernel end to end before Kafka exists: each node pings a
 * random peer every `pingIntervalMs`; the receiver appends the ping to its log file (fsyncing every
 * `flushEvery` records, or never when 0 — Kafka's default) and answers Pong; the sender times out after
 * `requestTimeoutMs`. On start a node recovers its log the way Kafka does: scan, stop at the first record
 * whose CRC fails (torn or flipped), truncate there. Not a Kafka model — a probe for crashes, power loss,
 * partitions and pauses.
 */

import type { Message, Process, ProcessContext } from "../sim/host.ts";
import { ms } from "../sim/time.ts";
import { valid, type Disk } from "../disk/disk.ts";

export interface PingPongConfig {
  peers: readonly string[];
  pingIntervalMs: number;
  requestTimeoutMs: number;
  /** fsync the log every this many appended records; 0 = never (left to writeback). */
  flushEvery: number;
}

export const PINGPONG_DEFAULTS: Omit<PingPongConfig, "peers"> = {
  pingIntervalMs: 100,
  requestTimeoutMs: 1000,
  flushEvery: 0,
};

export interface Ping extends Message {
  readonly type: "Ping";
  readonly id: number;
}

export interface Pong extends Message {
  readonly type: "Pong";
  readonly id: number;
}

interface LogRecord {
  from: string;
  id: number;
}

const LOG_FILE = "pings.log";

export class PingPongNode implements Process {
  private nextId = 1;
  /** Outstanding pings: id → timeout timer. */
  private readonly inflight = new Map<number, number>();
  private readonly peers: string[];
  private appendedSinceFlush = 0;
  /** Records in the log (rebuilt from disk on start). */
  logRecords = 0;
  pongs = 0;
  timeouts = 0;

  constructor(
    private readonly context: ProcessContext<Disk>,
    private readonly config: PingPongConfig,
  ) {
    this.peers = config.peers.filter((peer) => peer !== context.node);
  }

  onStart(): void {
    this.recover();
    this.context.setTimer(ms(this.config.pingIntervalMs), "ping");
  }

  onTimer(tag: string, data: unknown): void {
    if (tag === "ping") {
      this.sendPing();
      this.context.setTimer(ms(this.config.pingIntervalMs), "ping");
    } else if (tag === "timeout") {
      const id = data as number;
      if (this.inflight.delete(id)) {
        this.timeouts++;
        if (this.context.tracing) this.context.trace("ping-timeout", { id });
      }
    }
  }

  onMessage(from: string, message: Message): void {
    if (message.type === "Ping") {
      this.onPing(from, message as Ping);
    } else if (message.type === "Pong") {
      const id = (message as Pong).id;
      const timer = this.inflight.get(id);
      if (timer === undefined) return; // late answer after its timeout
      this.inflight.delete(id);
      this.context.cancelTimer(timer);
      this.pongs++;
      if (this.context.tracing) this.context.trace("pong", { from, id });
    }
  }

  private sendPing(): void {
    if (this.peers.length === 0) return;
    const to = this.context.rng.pick(this.peers);
    const id = this.nextId++;
    this.inflight.set(id, this.context.setTimer(ms(this.config.requestTimeoutMs), "timeout", id));
    const ping: Ping = { type: "Ping", id, sizeBytes: 64 };
    this.context.send(to, ping);
  }

  private onPing(from: string, ping: Ping): void {
    const record: LogRecord = { from, id: ping.id };
    const error = this.context.disk.append(LOG_FILE, record, 32);
    if (error !== null) {
      // A failed write is answered with silence: the sender's timeout reports it.
      if (this.context.tracing) this.context.trace("append-failed", { error });
      return;
    }
    this.logRecords++;
    const pong: Pong = { type: "Pong", id: ping.id, sizeBytes: 64 };
    if (this.config.flushEvery > 0 && ++this.appendedSinceFlush >= this.config.flushEvery) {
      this.appendedSinceFlush = 0;
      // Answer only once the record is durable, as ZooKeeper does with its txn log.
      this.context.disk.fsync(LOG_FILE, this.context, (syncError) => {
        if (syncError === null) this.context.send(from, pong);
      });
      return;
    }
    this.context.send(from, pong);
  }

  private recover(): void {
    const disk = this.context.disk;
    if (!disk.exists(LOG_FILE)) {
      if (this.context.tracing) this.context.trace("log-recovered", { records: 0, truncated: 0 });
      return;
    }
    const read = disk.read(LOG_FILE);
    if (read.error !== null) {
      if (this.context.tracing) this.context.trace("log-recovery-failed", { error: read.error });
      return;
    }
    let validRecords = 0;
    while (validRecords < read.chunks.length && valid(read.chunks[validRecords])) validRecords++;
    const truncated = read.chunks.length - validRecords;
    if (truncated > 0) disk.truncate(LOG_FILE, validRecords);
    this.logRecords = validRecords;
    if (this.context.tracing) this.context.trace("log-recovered", { records: validRecords, truncated });
  }
}
