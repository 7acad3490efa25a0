/**
 * ZooKeeper's StaticHostProvider: the connect string's servers, shuffled once, tried round-robin; after a
 * full round without a successful connection the client sleeps `spinDelay` (1 s) before trying again.
 * Simplified: host names only (no DNS resolution, no reconfig-driven rebalancing).
 */

import { assert } from "../sim/assert.ts";
import type { Rng } from "../sim/rng.ts";

export class ZkHostProvider {
  readonly servers: readonly string[];
  private currentIndex = -1;
  /** Index of the last server the client connected to; -1 before the first next(). */
  private lastIndex = -1;

  constructor(servers: readonly string[], rng: Rng) {
    assert(servers.length > 0, "a ZooKeeper client needs at least one server");
    assert(new Set(servers).size === servers.length, "a ZooKeeper client's server list has duplicates");
    this.servers = rng.shuffle(servers);
  }

  get size(): number {
    return this.servers.length;
  }

  /** The server of the current (or last) connection attempt. */
  get current(): string {
    assert(this.currentIndex >= 0, "no ZooKeeper server chosen yet");
    return this.servers[this.currentIndex];
  }

  /**
   * Moves to the next server. Returns true when StaticHostProvider.next(spinDelay) would sleep first: the
   * round came back to the last server the client was connected to (never on the very first call).
   */
  next(): boolean {
    this.currentIndex = (this.currentIndex + 1) % this.servers.length;
    const spin = this.currentIndex === this.lastIndex;
    if (this.lastIndex === -1) this.lastIndex = 0;
    return spin;
  }

  /** A connection succeeded: a full round is now counted from this server. */
  onConnected(): void {
    this.lastIndex = this.currentIndex;
  }
}
