/**
 * The world owns everything shared: the kernel (clock + event queue), the root random stream, the trace,
 * the transport and the hosts. Model code never reaches it directly — only through its ProcessContext —
 * so the network and the disks stay pluggable parts (madsim's and turmoil's habit).
 */

import { assert } from "./assert.ts";
import { Host, type HostDisk, type ProcessFactory, type Transport } from "./host.ts";
import { Kernel } from "./kernel.ts";
import { Rng } from "./rng.ts";
import { Trace } from "./trace.ts";

export class World {
  readonly kernel = new Kernel();
  readonly trace: Trace;
  readonly rng: Rng;
  readonly hosts: Host[] = [];
  private readonly byName = new Map<string, Host>();
  private transportImpl: Transport | null = null;

  constructor(readonly seed: number | string) {
    this.trace = new Trace(this.kernel);
    this.rng = Rng.fromSeed(seed);
  }

  get transport(): Transport {
    assert(this.transportImpl !== null, "world has no transport: create the network first");
    return this.transportImpl;
  }

  setTransport(transport: Transport): void {
    assert(this.transportImpl === null, "world already has a transport");
    this.transportImpl = transport;
  }

  /** Adds a stopped host; call host.start() to boot its process. */
  addHost<D extends HostDisk>(name: string, disk: D, factory: ProcessFactory<D>): Host<D> {
    assert(!this.byName.has(name), `duplicate host name ${name}`);
    const host = new Host<D>(
      name,
      this.hosts.length,
      this.kernel,
      this.trace,
      this.transport,
      disk,
      factory,
      this.rng.fork(`host/${name}`),
    );
    this.hosts.push(host as unknown as Host);
    this.byName.set(name, host as unknown as Host);
    return host;
  }

  host(name: string): Host {
    const host = this.byName.get(name);
    assert(host !== undefined, `no host named ${name}`);
    return host;
  }

  findHost(name: string): Host | undefined {
    return this.byName.get(name);
  }

  get now(): number {
    return this.kernel.now;
  }
}
