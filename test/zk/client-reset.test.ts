import { expect } from "chai";
import { Ensemble } from "./ensemble.ts";

/**
 * ClientCnxn and a server's process crash: the server's OS resets the connection, so the client moves to the
 * next server at once (after startConnect's random 0–1 s sleep) and keeps its session; a powered-off server sends
 * nothing, so the client waits out its read timeout (2/3 of the session timeout). A client's crash does not end
 * its session: its ephemeral znodes stay until the session times out.
 */
const SESSION_MS = 6000;

function connected(seed: number) {
  const zk = new Ensemble({ servers: 3, clients: ["c1"], sessionTimeoutMs: SESSION_MS, seed }).startServers();
  zk.runUntil(() => zk.stable());
  const c1 = zk.startClient("c1");
  zk.runUntil(() => c1.client.state === "CONNECTED");
  expect(zk.call("c1", (z, done) => z.create("/eph", "", { ephemeral: true }, done)).code).to.equal("OK");
  const server = c1.client.connectedServer!;
  const isLeader = server === `zk-${zk.leader()!.sid}`;
  return { zk, c1, server, isLeader, session: c1.client.sessionId };
}

/** Virtual µs from `fault` of the client's server until it is connected to another server. */
function failover(seed: number, fault: "crash" | "powerLoss") {
  const { zk, c1, server, isLeader, session } = connected(seed);
  if (isLeader) return null; // a leader's crash needs an election too; followers only here
  if (fault === "crash") zk.world.host(server).crash();
  else zk.world.host(server).powerLoss();
  const start = zk.world.now;
  expect(zk.runUntil(() => c1.client.state === "CONNECTED" && c1.client.connectedServer !== server, 20_000)).to.equal(true);
  expect(c1.client.sessionId, "the session survives the move").to.equal(session);
  expect(zk.leader()!.tree.exists("/eph").stat, "the ephemeral survives the move").to.not.equal(null);
  return zk.world.now - start;
}

describe("ZooKeeper client: a server's connection reset vs silence", () => {
  it("a server's process crash: the client moves to another server within ~1 s, keeping its session", () => {
    const delays = [1, 2, 3, 4, 5, 6].map((seed) => failover(seed, "crash")).filter((d) => d !== null);
    expect(delays.length).to.be.at.least(2);
    for (const delay of delays) expect(delay).to.be.below(1_100_000);
  });

  it("a server's power loss: the client waits out its read timeout (2/3 of the session timeout)", () => {
    const delays = [1, 2, 3, 4, 5, 6].map((seed) => failover(seed, "powerLoss")).filter((d) => d !== null);
    expect(delays.length).to.be.at.least(2);
    // The read timeout counts from the last message heard (a ping answer, at most readTimeout/2 before the fault).
    for (const delay of delays) expect(delay).to.be.above(1_900_000);
  });

  it("a client's process crash does not end its session: its ephemeral stays until the session times out", () => {
    const { zk } = connected(1);
    zk.world.host("c1").crash();
    const crashedAt = zk.world.now;
    zk.runFor(SESSION_MS - 1000);
    expect(zk.leader()!.tree.exists("/eph").stat, "still there before the session timeout").to.not.equal(null);
    expect(zk.runUntil(() => zk.leader()!.tree.exists("/eph").stat === null, 20_000)).to.equal(true);
    expect(zk.world.now - crashedAt).to.be.at.least(SESSION_MS * 1000);
  });
});

describe("ZooKeeper quorum: the leader's connection reset vs silence", () => {
  /** Virtual µs from the leader's `fault` until both followers have left it. */
  function followersLeave(fault: "crash" | "powerLoss"): number {
    const zk = new Ensemble({ servers: 3, seed: 1 }).startServers();
    zk.runUntil(() => zk.stable());
    const leader = `zk-${zk.leader()!.sid}`;
    if (fault === "crash") zk.world.host(leader).crash();
    else zk.world.host(leader).powerLoss();
    const start = zk.world.now;
    expect(zk.runUntil(() => zk.servers().every((s) => s.state === "LOOKING" || zk.leader() !== null && `zk-${zk.leader()!.sid}` !== leader), 30_000)).to.equal(true);
    return zk.world.now - start;
  }

  it("a follower whose leader's process crashed stops following at once, not after syncLimit ticks", () => {
    expect(followersLeave("crash")).to.be.below(50_000);
  });

  it("a powered-off leader: the followers wait syncLimit × tickTime of silence", () => {
    expect(followersLeave("powerLoss")).to.be.above(1_000_000);
  });
});
