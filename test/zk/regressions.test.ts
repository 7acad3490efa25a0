import { expect } from "chai";
import { Ensemble } from "./ensemble.ts";

/** Runs one event at a time until `stop()` holds or limitMs passes (to hit narrow windows exactly). */
function step(zk: Ensemble, limitMs: number, stop: () => boolean): boolean {
  const end = zk.world.now + limitMs * 1000;
  while (zk.world.now < end) {
    if (stop()) return true;
    const verdict = zk.world.kernel.run({ untilUs: end, maxEvents: 1 });
    if (verdict.reason === "quiescent" || verdict.reason === "time-limit") break;
  }
  return stop();
}

// Regression tests for bugs found in review: each failed before its fix.

describe("regression: a syncing follower must not ACK before it has persisted the new epoch", () => {
  for (const seed of [1, 2, 3, 4, 5]) it(`keeps an acknowledged write (seed ${seed})`, () => {
    const zk = new Ensemble({ servers: 3, clients: ["c1"], sessionTimeoutMs: 30_000, seed, clientServers: () => ["zk-3"] });
    zk.world.host("zk-2").start();
    zk.world.host("zk-3").start();
    zk.runUntil(() => zk.leader() !== null && zk.server("zk-2").serving, 10_000);
    expect(zk.leader()!.sid).to.equal(3);
    const c1 = zk.startClient("c1");
    zk.runUntil(() => c1.client.state === "CONNECTED", 5_000);
    expect(zk.call("c1", (z, done) => z.create("/a", "", {}, done)).code).to.equal("OK");
    // zk-2 is cut off from the leader (the leader keeps leading for syncLimit); zk-1 starts and syncs.
    zk.network.partition([["zk-2"], ["zk-3", "c1"]]);
    let commitT = false;
    zk.world.trace.observe((e) => { if (e.node === "zk-3" && e.kind === "zk-commit" && e.path === "/t") commitT = true; });
    let acked = false;
    c1.client.create("/t", "", {}, (r) => { if (r.code === "OK") acked = true; });
    zk.runFor(50); // /t is proposed; only the leader has acknowledged it
    expect(commitT).to.equal(false);
    zk.world.host("zk-1").start();
    expect(step(zk, 5_000, () => commitT)).to.equal(true);
    zk.world.host("zk-1").crash(); // before its currentEpoch fsync completes (kill -9: its page cache survives)
    zk.runUntil(() => acked, 1_000);
    expect(acked, "/t acknowledged to the client").to.equal(true);
    zk.world.host("zk-3").crash(); // the old leader stays down
    zk.network.heal();
    zk.world.host("zk-1").start();
    expect(zk.runUntil(() => zk.stable() && zk.servers().every((s) => s.serving), 30_000)).to.equal(true);
    zk.world.host("zk-3").start();
    zk.runUntil(() => zk.servers().length === 3 && zk.servers().every((s) => s.serving), 30_000);
    zk.runFor(1000);
    expect(zk.leader()!.tree.exists("/t").stat, "acknowledged /t lost").to.not.equal(null);
  });
});

describe("regression: a write from a closing or closed session becomes SESSIONEXPIRED (checkSession)", () => {
  it("a late ephemeral create from a paused server's backlog does not outlive its session", () => {
    const zk = new Ensemble({ servers: 3, clients: ["c1"], sessionTimeoutMs: 4000, seed: 1, clientServers: () => ["zk-1"] }).startServers();
    zk.runUntil(() => zk.stable() && zk.servers().every((s) => s.serving), 10_000);
    const c1 = zk.startClient("c1");
    zk.runUntil(() => c1.client.state === "CONNECTED", 5_000);
    // zk-1 (a follower) stalls for 9 s (a GC pause shorter than syncLimit × tickTime = 10 s) with the create in its backlog.
    zk.world.host("zk-1").pause(9_000_000);
    c1.client.create("/e", "", { ephemeral: true }, () => {});
    zk.runFor(20_000);
    for (const s of zk.servers()) {
      const leaked = s.tree.ephemeralOwners().filter((owner) => !s.tree.sessions.has(owner));
      expect(leaked, `zk-${s.sid}: ephemeral of a dead session`).to.deep.equal([]);
    }
  });
});
