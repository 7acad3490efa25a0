/**
 * A ZooKeeper probe client for scenarios before brokers exist: it keeps a session, registers an ephemeral
 * znode the way a Kafka broker registers /brokers/ids/<id> (creating missing parents, retrying while a
 * previous session's node still exists), and writes a counter every `writeEveryMs`. When its session
 * expires it does what Kafka's ZooKeeperClient does: it builds a new client and registers again.
 */

import type { Disk } from "../disk/disk.ts";
import type { ZkClientState, ZkReply } from "../protocol/zk.ts";
import type { Message, Process, ProcessContext } from "../sim/host.ts";
import { ms } from "../sim/time.ts";
import { ZkClient } from "../zk/client.ts";

export interface ZkSessionConfig {
  servers: readonly string[];
  sessionTimeoutMs: number;
  /** Ephemeral znode to hold (e.g. /brokers/ids/1); none when absent. */
  ephemeral?: string;
  /** Persistent znode whose data is set to a counter every writeEveryMs; none when absent. */
  writePath?: string;
  writeEveryMs: number;
  /** Back-off before retrying a failed registration (NODEEXISTS of the old session, connection loss). */
  retryBackoffMs: number;
}

const TIMER_WRITE = "zk-session:write";
const TIMER_REGISTER = "zk-session:register";

export class ZkSessionProbe implements Process {
  private client!: ZkClient;
  private registered = false;
  private registering = false;
  private counter = 0;
  private generation = 0;

  constructor(
    private readonly context: ProcessContext<Disk>,
    private readonly config: ZkSessionConfig,
  ) {}

  onStart(): void {
    this.connect();
    if (this.config.writePath !== undefined) this.context.setTimer(ms(this.config.writeEveryMs), TIMER_WRITE);
  }

  private connect(): void {
    const generation = ++this.generation;
    this.registered = false;
    this.registering = false;
    this.client = new ZkClient(
      this.context,
      { servers: [...this.config.servers], sessionTimeoutMs: this.config.sessionTimeoutMs },
      { onStateChange: (state) => generation === this.generation && this.onState(state) },
    );
    this.client.start();
  }

  private onState(state: ZkClientState): void {
    if (state === "CONNECTED" && !this.registered) this.register();
    if (state === "EXPIRED") {
      this.trace("zk-session-lost", { sessionId: `0x${this.client.sessionId.toString(16)}` });
      this.connect();
    }
  }

  private register(): void {
    const path = this.config.ephemeral;
    if (path === undefined || this.registering || this.registered) return;
    this.registering = true;
    this.createWithParents(path, this.context.node, { ephemeral: true }, (reply) => this.onRegistered(reply));
  }

  /** Creates the missing persistent parents of `path` (as KafkaZkClient.createRecursive), then `path`. */
  private createWithParents(path: string, data: string, mode: { ephemeral?: boolean }, done: (reply: ZkReply) => void): void {
    const parents = path.split("/").slice(1, -1).map((_, i, parts) => "/" + parts.slice(0, i + 1).join("/"));
    const createFrom = (index: number): void => {
      if (index === parents.length) {
        this.client.create(path, data, mode, done);
        return;
      }
      this.client.create(parents[index], "", {}, (reply) => {
        if (reply.code === "OK" || reply.code === "NODEEXISTS") createFrom(index + 1);
        else done(reply);
      });
    };
    createFrom(0);
  }

  private onRegistered(reply: ZkReply): void {
    if (reply.code === "OK") {
      this.registering = false;
      this.registered = true;
      this.trace("zk-registered", { path: this.config.ephemeral, sessionId: `0x${this.client.sessionId.toString(16)}` });
      return;
    }
    this.retryRegister(reply);
  }

  private retryRegister(reply: ZkReply): void {
    this.registering = false;
    this.trace("zk-register-failed", { path: this.config.ephemeral, code: reply.code });
    const generation = this.generation;
    this.context.setTimer(ms(this.config.retryBackoffMs), TIMER_REGISTER, generation);
  }

  onTimer(tag: string, data: unknown): void {
    if (this.client.onTimer(tag, data)) return;
    if (tag === TIMER_REGISTER) {
      if (data === this.generation && this.client.state === "CONNECTED") this.register();
    } else if (tag === TIMER_WRITE) {
      const path = this.config.writePath!;
      const value = String(++this.counter);
      this.client.setData(path, value, -1, (reply) => {
        if (reply.code === "NONODE") this.createWithParents(path, value, {}, () => {});
      });
      this.context.setTimer(ms(this.config.writeEveryMs), TIMER_WRITE);
    }
  }

  onMessage(from: string, message: Message, connection: number): void {
    this.client.onMessage(from, message, connection);
  }

  /** Process.onConnectionRefused: a ZooKeeper server's process is gone; the client moves on at once. */
  onConnectionRefused(peer: string): void {
    this.client.onConnectionRefused(peer);
  }

  private trace(kind: string, fields: Record<string, unknown>): void {
    if (this.context.tracing) this.context.trace(kind, fields);
  }
}
