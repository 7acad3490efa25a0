/**
 * `zk-ephemeral-leak`: an ephemeral znode that outlives its session. ZooKeeper deletes a session's
 * ephemerals in the same transaction that closes (or expires) it, so on any server a znode whose
 * ephemeralOwner is not in that server's session table is a leak. Read-only: it inspects each server's
 * data tree and reports each leaked znode once, with its owner and the server holding it.
 */

import type { SessionId } from "../protocol/zk.ts";
import type { Micros } from "../sim/time.ts";
import type { Violation } from "./violation.ts";

/** What the checker needs to see of a ZooKeeper server. */
export interface ZkServerView {
  name: string;
  tree: {
    readonly sessions: ReadonlyMap<SessionId, number>;
    readonly lastProcessedZxid: number;
    ephemeralOwners(): SessionId[];
    ephemerals(sessionId: SessionId): string[];
  };
}

export class EphemeralLeakChecker {
  private readonly reported = new Set<string>();
  readonly violations: Violation[] = [];

  /** Checks every server's tree now; returns the new violations. */
  check(servers: readonly ZkServerView[], now: Micros): Violation[] {
    const found: Violation[] = [];
    for (const server of servers) {
      for (const owner of server.tree.ephemeralOwners()) {
        if (server.tree.sessions.has(owner)) continue;
        for (const path of server.tree.ephemerals(owner)) {
          const key = `${server.name}|${path}|${owner}`;
          if (this.reported.has(key)) continue;
          this.reported.add(key);
          found.push({
            name: "zk-ephemeral-leak",
            time: now,
            nodes: [server.name],
            evidence: { path, ephemeralOwner: `0x${owner.toString(16)}`, server: server.name, zxid: `0x${server.tree.lastProcessedZxid.toString(16)}` },
          });
        }
      }
    }
    this.violations.push(...found);
    return found;
  }
}
