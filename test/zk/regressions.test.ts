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

/** Records every trace event of `kind` (an observer on the ensemble's trace). */
function record(zk: Ensemble, kind: string): Record<string, unknown>[] {
  const seen: Record<string, unknown>[] = [];
  zk.world.trace.observe((e) => { if (e.kind === kind) seen.push(e as unknown as Record<string, unknown>); });
  return seen;
}

/** A stable ensemble with client c1 connected to a follower; returns the leader's and that follower's names. */
function stableWithClient(zk: Ensemble): { leader: string; follower: string } {
  zk.startServers();
  expect(zk.runUntil(() => zk.stable(), 10_000)).to.equal(true);
  const leader = `zk-${zk.leader()!.sid}`;
  const follower = zk.names.find((name) => name !== leader)!;
  zk.addClient("c1", [follower]);
  const c1 = zk.startClient("c1");
  expect(zk.runUntil(() => c1.client.state === "CONNECTED", 5_000)).to.equal(true);
  return { leader, follower };
}

/** Every running server holds `paths` once the ensemble is stable again. */
function convergesWith(zk: Ensemble, paths: string[]): void {
  expect(zk.runUntil(() => zk.servers().length === 3 && zk.servers().every((s) => s.serving) && zk.leader() !== null, 30_000)).to.equal(true);
  zk.runFor(1_000);
  for (const server of zk.servers()) {
    for (const path of paths) expect(server.tree.exists(path).stat, `zk-${server.sid} lacks ${path}`).to.not.equal(null);
  }
}

// ZAB assumes a gap-free FIFO stream. The network retransmits a lost message (no gaps), but a connection that
// resets drops what it held: the messages after it come on a new connection, which the server notices by the
// connection id. With tcpRetransmitUs 0 a lost message resets its connection at once, which is how these tests
// cut one out.
/** A learner connection found broken by its connection id (a reset): the follower's and the leader's reasons. */
const BROKEN = ["connection to leader broken", "connection broken"];

describe("regression: a message lost on the learner connection resets it, and the follower and leader notice and recover", () => {
  it("a follower that missed a COMMIT rejoins rather than apply the next COMMIT out of order", () => {
    const zk = new Ensemble({ servers: 3, seed: 3, sessionTimeoutMs: 30_000, tcpRetransmitUs: 0 });
    const { leader, follower } = stableWithClient(zk);
    const drops = record(zk, "drop");
    const delivered = record(zk, "deliver");
    const abandons = record(zk, "zk-follower-abandon");
    zk.client("c1").client.create("/a", "", {}, () => {});
    // The PROPOSAL of /a reaches the follower; its COMMIT is lost.
    expect(step(zk, 5_000, () => delivered.some((e) => e.node === follower && e.type === "ZkProposal"))).to.equal(true);
    const rule = zk.network.loss(1, [leader], [follower]);
    expect(step(zk, 5_000, () => drops.some((e) => e.to === follower && e.type === "ZkCommit"))).to.equal(true);
    zk.network.removeRule(rule);
    // The next write's PROPOSAL and COMMIT arrive on a new connection: unnoticed, a COMMIT not at the head of the pending queue.
    zk.client("c1").client.create("/b", "", {}, () => {});
    zk.runFor(2_000);
    expect(abandons.some((e) => e.node === follower && BROKEN.includes(e.reason as string))).to.equal(true);
    convergesWith(zk, ["/a", "/b"]);
  });

  it("a follower that missed a PROPOSAL rejoins rather than take its COMMIT for another txn", () => {
    const zk = new Ensemble({ servers: 3, seed: 4, sessionTimeoutMs: 30_000, tcpRetransmitUs: 0 });
    const { leader, follower } = stableWithClient(zk);
    const drops = record(zk, "drop");
    const abandons = record(zk, "zk-follower-abandon");
    const rule = zk.network.loss(1, [leader], [follower]);
    // c1's follower forwards the create; the leader's PROPOSAL of /a to it is lost, then the link works again.
    zk.client("c1").client.create("/a", "", {}, () => {});
    expect(step(zk, 5_000, () => drops.some((e) => e.to === follower && e.type === "ZkProposal"))).to.equal(true);
    zk.network.removeRule(rule);
    zk.runFor(2_000);
    expect(abandons.some((e) => e.node === follower && BROKEN.includes(e.reason as string))).to.equal(true);
    convergesWith(zk, ["/a"]);
  });

  it("a leader that missed a learner's ACK drops the learner, so the proposal does not wait for it forever", () => {
    const zk = new Ensemble({ servers: 3, seed: 5, sessionTimeoutMs: 30_000, tcpRetransmitUs: 0 });
    const { leader, follower } = stableWithClient(zk);
    const other = zk.names.find((name) => name !== leader && name !== follower)!;
    zk.world.host(other).crash(); // the leader and `follower` are the quorum
    const drops = record(zk, "drop");
    const delivered = record(zk, "deliver");
    const lost = record(zk, "zk-learner-lost");
    let reply: string | null = null;
    zk.client("c1").client.create("/a", "", {}, (r) => (reply = r.code));
    // The follower forwards the create and logs its PROPOSAL; its ACK is lost.
    expect(step(zk, 5_000, () => delivered.some((e) => e.node === follower && e.type === "ZkProposal"))).to.equal(true);
    const rule = zk.network.loss(1, [follower], [leader]);
    expect(step(zk, 5_000, () => drops.some((e) => e.node === follower && e.type === "ZkAck"))).to.equal(true);
    zk.network.removeRule(rule);
    // Unnoticed, the leader would keep pinging the learner and /a would never commit (nor fail).
    expect(zk.runUntil(() => reply !== null, 30_000), "the create got an answer").to.equal(true);
    expect(lost.some((e) => e.node === leader && BROKEN.includes(e.reason as string))).to.equal(true);
    zk.world.host(other).start();
    // /a was on a quorum's disk (the leader's and the follower's): the next epoch commits it.
    convergesWith(zk, ["/a"]);
  });
});

describe("regression: a txn log write error ends the server's role (ZooKeeperServer state ERROR), not the run", () => {
  it("a leader whose disk is full while it expires two sessions leaves its role and rejoins once the disk works", () => {
    const zk = new Ensemble({ servers: 3, seed: 1, sessionTimeoutMs: 4_000, clients: ["c1", "c2"] }).startServers();
    expect(zk.runUntil(() => zk.stable(), 10_000)).to.equal(true);
    const leader = zk.leader()!;
    const leaderName = `zk-${leader.sid}`;
    for (const client of ["c1", "c2"]) zk.startClient(client);
    expect(zk.runUntil(() => ["c1", "c2"].every((c) => zk.client(c).client.state === "CONNECTED"), 5_000)).to.equal(true);
    const sessions = ["c1", "c2"].map((c) => zk.client(c).client.sessionId);
    // Both touch their sessions at once and die: the two sessions expire in the same tick.
    for (const client of ["c1", "c2"]) zk.client(client).client.exists("/", false, () => {});
    zk.runFor(20);
    for (const client of ["c1", "c2"]) zk.world.host(client).crash();
    const expiring = record(zk, "zk-session-expiring");
    const abandons = record(zk, "zk-leader-abandon");
    zk.disks.get(leaderName)!.fill();
    zk.runFor(8_000);
    // Its first closeSession cannot be logged: it leaves its role there, proposing nothing more.
    const first = expiring.find((e) => e.node === leaderName);
    expect(first, "a session expires on the old leader").to.not.equal(undefined);
    expect(expiring.filter((e) => e.node === leaderName)).to.have.length(1);
    expect(abandons.some((e) => e.node === leaderName && e.reason === "internal error" && e.t === first!.t)).to.equal(true);
    expect(leader.fatal, "a txn log error is not fatal to the process").to.equal(false);
    // The others form a quorum and expire the sessions; the old leader rejoins once its disk has room.
    zk.disks.get(leaderName)!.clearFaults();
    expect(zk.runUntil(() => zk.servers().every((s) => s.serving) && zk.leader() !== null, 30_000)).to.equal(true);
    zk.runFor(10_000);
    for (const server of zk.servers()) {
      for (const sessionId of sessions) expect(server.tree.sessions.has(sessionId), `zk-${server.sid} still has the session`).to.equal(false);
    }
    expect(leader.serving).to.equal(true);
  });
});
