/**
 * Runs the online invariant checkers beside a scenario: passive observers that read node state through
 * read-only views every `intervalMs` of virtual time and once more at the end, recording violations
 * (each violation is traced as a `violation` event on its first node). Today: zk-ephemeral-leak.
 */

import { EphemeralLeakChecker, type ZkServerView } from "../check/zk.ts";
import type { Violation } from "../check/violation.ts";
import type { EventTarget } from "../sim/kernel.ts";
import { ms } from "../sim/time.ts";
import type { ZkServer } from "../zk/server.ts";
import type { BuiltWorld } from "./build.ts";

const EVENT_CHECK = 1;

export class OnlineCheckers implements EventTarget {
  private readonly ephemeralLeaks = new EphemeralLeakChecker();

  constructor(
    private readonly built: BuiltWorld,
    private readonly violations: Violation[],
    private readonly intervalMs = 100,
  ) {}

  start(): void {
    if (this.built.zkServers.length > 0) this.built.world.kernel.after(ms(this.intervalMs), this, EVENT_CHECK);
  }

  handleEvent(): void {
    this.checkNow();
    this.built.world.kernel.after(ms(this.intervalMs), this, EVENT_CHECK);
  }

  finish(): void {
    this.checkNow();
  }

  private checkNow(): void {
    const { world, zkServers } = this.built;
    const views: ZkServerView[] = [];
    for (const name of zkServers) {
      const host = world.host(name);
      if (!host.isUp()) continue;
      const server = host.process as ZkServer;
      views.push({ name, tree: server.tree });
    }
    for (const violation of this.ephemeralLeaks.check(views, world.now)) this.record(violation);
  }

  private record(violation: Violation): void {
    this.violations.push(violation);
    this.built.world.trace.emit(violation.nodes[0] ?? "checker", "violation", {
      name: violation.name,
      evidence: violation.evidence,
    });
  }
}
