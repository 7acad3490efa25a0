/** Test harness: a ZooKeeper ensemble and client processes embedding ZkClient, on one simulated world. */

import { Disk, type DiskConfig } from "../../src/disk/disk.ts";
import { Network } from "../../src/net/network.ts";
import type { ZkClientState, ZkReply, ZkWatchEvent, ZkWatchEventType } from "../../src/protocol/zk.ts";
import type { Message, Process, ProcessContext } from "../../src/sim/host.ts";
import { ms } from "../../src/sim/time.ts";
import { World } from "../../src/sim/world.ts";
import type { Verdict } from "../../src/sim/kernel.ts";
import { ZkClient, type ZkClientConfig } from "../../src/zk/client.ts";
import { ZkServer, zkServerConfig, type ZkServerConfig } from "../../src/zk/server.ts";

export class ClientProcess implements Process {
  client!: ZkClient;
  readonly states: ZkClientState[] = [];
  readonly events: { event: ZkWatchEventType; path: string; t: number }[] = [];
  /** Every ZkWatchEvent that reached this host, as sent (before the client filters it), with its sender. */
  readonly watchMessages: { from: string; event: ZkWatchEvent }[] = [];

  constructor(
    readonly context: ProcessContext<Disk>,
    private readonly config: ZkClientConfig,
  ) {}

  onStart(): void {
    this.client = new ZkClient(this.context, this.config, {
      onStateChange: (state) => this.states.push(state),
      onWatchEvent: (event, path) => this.events.push({ event, path, t: this.context.host.kernel.now }),
    });
    this.client.start();
  }
  onMessage(from: string, message: Message, connection: number): void {
    if (message.type === "ZkWatchEvent") this.watchMessages.push({ from, event: message as ZkWatchEvent });
    this.client.onMessage(from, message, connection);
  }
  onTimer(tag: string, data: unknown): void {
    this.client.onTimer(tag, data);
  }
  onConnectionRefused(peer: string): void {
    this.client.onConnectionRefused(peer);
  }
}

export interface EnsembleOptions {
  servers?: number;
  seed?: number;
  clients?: string[];
  sessionTimeoutMs?: number;
  server?: Partial<ZkServerConfig>;
  /** Disk settings of every host (e.g. a slow fsync). */
  disk?: Partial<DiskConfig>;
  /** Servers each client may connect to (default: all). */
  clientServers?: (client: string) => string[];
  /** The network's TCP retransmission bound (0: a lost message resets its connection at once). */
  tcpRetransmitUs?: number;
}

export class Ensemble {
  readonly world: World;
  readonly network: Network;
  readonly names: string[];
  readonly disks = new Map<string, Disk>();

  constructor(readonly options: EnsembleOptions = {}) {
    const count = options.servers ?? 3;
    this.world = new World(options.seed ?? 1);
    this.network = new Network(this.world, { latency: { dist: "uniform", minUs: 1000, maxUs: 3000 }, tcpRetransmitUs: options.tcpRetransmitUs });
    this.names = Array.from({ length: count }, (_, i) => `zk-${i + 1}`);
    this.names.forEach((name, i) => {
      const disk = new Disk(this.world, name, options.disk);
      this.disks.set(name, disk);
      this.world.addHost(name, disk, (context) => new ZkServer(context, zkServerConfig(i + 1, this.names, options.server)));
    });
    for (const client of options.clients ?? []) this.addClient(client);
  }

  /** Adds a client host (not started) connecting to `servers` (default: clientServers, else all). */
  addClient(name: string, servers?: string[]): void {
    const disk = new Disk(this.world, name);
    this.disks.set(name, disk);
    const list = servers ?? this.options.clientServers?.(name) ?? this.names;
    const config = { servers: list, sessionTimeoutMs: this.options.sessionTimeoutMs ?? 6000 };
    this.world.addHost(name, disk, (context) => new ClientProcess(context, config));
  }

  startServers(): this {
    for (const name of this.names) this.world.host(name).start();
    return this;
  }

  startClient(name: string): ClientProcess {
    this.world.host(name).start();
    return this.client(name);
  }

  server(name: string): ZkServer {
    return this.world.host(name).process as ZkServer;
  }

  servers(): ZkServer[] {
    return this.names.filter((name) => this.world.host(name).isUp()).map((name) => this.server(name));
  }

  client(name: string): ClientProcess {
    return this.world.host(name).process as ClientProcess;
  }

  leader(): ZkServer | null {
    const leaders = this.servers().filter((server) => server.state === "LEADING" && server.serving);
    return leaders.length === 1 ? leaders[0] : null;
  }

  /** Runs until `predicate` holds (checked every 10 ms of virtual time) or `limitMs` passes. */
  runUntil(predicate: () => boolean, limitMs = 60_000): boolean {
    const end = this.world.now + ms(limitMs);
    while (this.world.now < end) {
      if (predicate()) return true;
      this.check(this.world.kernel.run({ untilUs: Math.min(end, this.world.now + ms(10)), maxEvents: 10_000_000 }));
    }
    return predicate();
  }

  runFor(durationMs: number): void {
    this.check(this.world.kernel.run({ untilUs: this.world.now + ms(durationMs), maxEvents: 50_000_000 }));
  }

  /** A model assertion inside the run fails the test instead of being swallowed. */
  private check(verdict: Verdict): void {
    if (verdict.reason === "model-error") throw verdict.error;
  }

  /** Issues a call and runs until its callback; returns the reply. */
  call(client: string, issue: (zk: ZkClient, done: (reply: ZkReply) => void) => void, limitMs = 30_000): ZkReply {
    let reply: ZkReply | null = null;
    issue(this.client(client).client, (r) => (reply = r));
    this.runUntil(() => reply !== null, limitMs);
    if (reply === null) throw new Error(`no reply within ${limitMs} ms`);
    return reply;
  }

  /** True once every running server serves, with one leader. */
  stable(): boolean {
    const servers = this.servers();
    return this.leader() !== null && servers.every((server) => server.serving);
  }
}
