import { expect } from "chai";
import { Ensemble } from "./ensemble.ts";
import { TXN_LOG } from "../../src/zk/storage.ts";
import type { ZkTxnEntry } from "../../src/zk/txn.ts";

describe("ZooKeeper ensemble", function () {
  this.timeout(60_000);

  it("elects the server with the highest (epoch, zxid, sid) and serves", () => {
    const zk = new Ensemble({ servers: 3 }).startServers();
    expect(zk.runUntil(() => zk.stable(), 10_000)).to.equal(true);
    expect(zk.leader()!.sid).to.equal(3);
    expect(zk.servers().map((s) => s.state)).to.deep.equal(["FOLLOWING", "FOLLOWING", "LEADING"]);
    expect(zk.servers().every((s) => s.currentEpoch === 1)).to.equal(true);
  });

  it("a one-server ensemble leads on its own and serves a client after a restart", () => {
    const zk = new Ensemble({ servers: 1, clients: ["c1"] }).startServers();
    expect(zk.runUntil(() => zk.stable() && zk.servers()[0].serving, 5_000)).to.equal(true);
    expect(zk.leader()!.sid).to.equal(1);
    const c1 = zk.startClient("c1");
    expect(zk.runUntil(() => c1.client.state === "CONNECTED", 5_000)).to.equal(true);
    expect(zk.call("c1", (z, done) => z.create("/a", "1", {}, done)).code).to.equal("OK");
    zk.world.host("zk-1").crash();
    zk.world.host("zk-1").start();
    expect(zk.runUntil(() => zk.servers().length === 1 && zk.servers()[0].serving, 10_000)).to.equal(true);
    zk.runFor(5_000); // the client notices the lost connection and reconnects to the restarted server
    zk.runUntil(() => c1.client.state === "CONNECTED", 20_000);
    expect(zk.call("c1", (z, done) => z.getData("/a", false, done))).to.include({ code: "OK", data: "1" });
  });

  it("a client connects, writes through the leader and reads from its server", () => {
    const zk = new Ensemble({ servers: 3, clients: ["c1"] }).startServers();
    zk.runUntil(() => zk.stable());
    const c1 = zk.startClient("c1");
    expect(zk.runUntil(() => c1.client.state === "CONNECTED")).to.equal(true);
    expect(c1.client.negotiatedTimeoutMs).to.equal(6000);
    const created = zk.call("c1", (z, done) => z.create("/a", "1", {}, done));
    expect(created).to.include({ code: "OK", path: "/a" });
    const read = zk.call("c1", (z, done) => z.getData("/a", false, done));
    expect(read.code).to.equal("OK");
    expect(read.data).to.equal("1");
    zk.runFor(100);
    const digests = zk.servers().map((s) => s.tree.digest());
    expect(new Set(digests).size).to.equal(1);
  });
});

describe("ZooKeeper under faults", function () {
  this.timeout(120_000);

  function connected(servers = 3, clients = ["c1"], sessionTimeoutMs = 6000, seed = 1) {
    const zk = new Ensemble({ servers, clients, sessionTimeoutMs, seed }).startServers();
    zk.runUntil(() => zk.stable());
    for (const client of clients) {
      const process = zk.startClient(client);
      zk.runUntil(() => process.client.state === "CONNECTED");
    }
    return zk;
  }

  it("re-elects after the leader crashes; committed data survives; the session survives", () => {
    const zk = connected(3, ["c1"], 20_000);
    for (let i = 0; i < 5; i++) expect(zk.call("c1", (z, done) => z.create(`/n${i}`, `v${i}`, {}, done)).code).to.equal("OK");
    const oldLeader = zk.leader()!;
    const sessionId = zk.client("c1").client.sessionId;
    zk.world.host(`zk-${oldLeader.sid}`).crash();
    expect(zk.runUntil(() => zk.stable(), 30_000)).to.equal(true);
    expect(zk.leader()!.sid).to.not.equal(oldLeader.sid);
    expect(zk.leader()!.currentEpoch).to.equal(2);
    // The client hears the crashed server's reset at once and moves on (a powered-off one: after its read timeout).
    const c1 = zk.client("c1").client;
    expect(zk.runUntil(() => c1.state === "CONNECTED" && c1.connectedServer !== `zk-${oldLeader.sid}`, 30_000)).to.equal(true);
    const after = zk.call("c1", (z, done) => z.create("/after", "x", {}, done));
    expect(after.code).to.equal("OK");
    expect(zk.client("c1").client.sessionId).to.equal(sessionId);
    const children = zk.call("c1", (z, done) => z.getChildren("/", false, done));
    expect(children.children).to.include.members(["n0", "n1", "n2", "n3", "n4", "after"]);
    // The crashed server comes back and catches up.
    zk.world.host(`zk-${oldLeader.sid}`).start();
    expect(zk.runUntil(() => zk.servers().length === 3 && zk.stable(), 30_000)).to.equal(true);
    zk.runFor(500);
    expect(new Set(zk.servers().map((s) => s.tree.digest())).size).to.equal(1);
  });

  it("a minority partition cannot commit; the majority elects and keeps working", () => {
    const zk = connected(3, ["c1", "c2"], 30_000);
    const leader = zk.leader()!;
    const leaderName = `zk-${leader.sid}`;
    const others = zk.names.filter((n) => n !== leaderName);
    // c1 can only reach the old leader; c2 only the others.
    const commits: string[] = [];
    zk.world.trace.observe((e) => {
      if (e.kind === "zk-commit") commits.push(`${e.node} ${String(e.path ?? e.txn)}`);
    });
    zk.network.partition([[leaderName, "c1"], [...others, "c2"]]);
    let minorityReply: string | null = null;
    zk.client("c1").client.create("/minority", "x", {}, (r) => (minorityReply = r.code));
    zk.runFor(20_000);
    // The isolated leader logged the proposal but never committed it, and stopped serving.
    expect(commits.filter((c) => c.startsWith(leaderName))).to.deep.equal([]);
    expect(zk.server(leaderName).serving).to.equal(false);
    expect(minorityReply).to.equal("CONNECTIONLOSS");
    const newLeader = zk.leader()!;
    expect(newLeader.sid).to.not.equal(leader.sid);
    expect(zk.runUntil(() => zk.client("c2").client.state === "CONNECTED", 30_000)).to.equal(true);
    expect(zk.call("c2", (z, done) => z.create("/majority", "y", {}, done)).code).to.equal("OK");
    zk.network.heal();
    expect(zk.runUntil(() => zk.servers().every((s) => s.serving) && zk.servers().every((s) => s.tree.lastProcessedZxid === newLeader.tree.lastProcessedZxid), 60_000)).to.equal(true);
    expect(zk.server(leaderName).tree.exists("/minority").stat).to.equal(null);
    expect(zk.server(leaderName).tree.exists("/majority").stat).to.not.equal(null);
  });

  it("session expiry deletes ephemerals; a paused client learns of it only when it resumes", () => {
    const zk = connected(3, ["c1", "c2"], 6000);
    expect(zk.call("c1", (z, done) => z.create("/brokers", "", {}, done)).code).to.equal("OK");
    expect(zk.call("c1", (z, done) => z.create("/brokers/1", "b1", { ephemeral: true }, done)).code).to.equal("OK");
    const watched = zk.call("c2", (z, done) => z.exists("/brokers/1", true, done));
    expect(watched.stat).to.not.equal(null);
    zk.world.host("c1").pause(20_000_000);
    // The leader expires the session after ~6 s; the ephemeral goes on every server.
    expect(zk.runUntil(() => zk.servers().every((s) => s.tree.exists("/brokers/1").stat === null), 15_000)).to.equal(true);
    expect(zk.client("c2").events.map((e) => `${e.event} ${e.path}`)).to.deep.equal(["NodeDeleted /brokers/1"]);
    // Still paused: the zombie client believes it is connected.
    expect(zk.client("c1").client.state).to.equal("CONNECTED");
    zk.runUntil(() => zk.world.host("c1").state === "running", 20_000);
    expect(zk.runUntil(() => zk.client("c1").client.state === "EXPIRED", 20_000)).to.equal(true);
    expect(zk.client("c1").states).to.include("DISCONNECTED");
    const late = zk.call("c1", (z, done) => z.create("/late", "", {}, done));
    expect(late.code).to.equal("SESSIONEXPIRED");
  });

  it("watches fire once", () => {
    const zk = connected(3, ["c1", "c2"]);
    zk.call("c1", (z, done) => z.create("/w", "0", {}, done));
    zk.call("c2", (z, done) => z.getData("/w", true, done));
    zk.call("c1", (z, done) => z.setData("/w", "1", -1, done));
    zk.call("c1", (z, done) => z.setData("/w", "2", -1, done));
    zk.runFor(200);
    expect(zk.client("c2").events.map((e) => e.event)).to.deep.equal(["NodeDataChanged"]);
  });

  it("recovers after a power loss of a minority and catches up", () => {
    const zk = connected(3, ["c1"], 20_000);
    const follower = zk.servers().find((s) => s.state === "FOLLOWING")!;
    const name = `zk-${follower.sid}`;
    for (let i = 0; i < 20; i++) zk.call("c1", (z, done) => z.create(`/p${i}`, "", {}, done));
    zk.world.host(name).powerLoss();
    for (let i = 20; i < 30; i++) zk.call("c1", (z, done) => z.create(`/p${i}`, "", {}, done));
    zk.world.host(name).start();
    expect(zk.runUntil(() => zk.servers().length === 3 && zk.servers().every((s) => s.serving), 30_000)).to.equal(true);
    zk.runFor(500);
    expect(new Set(zk.servers().map((s) => s.tree.digest())).size).to.equal(1);
    expect(zk.server(name).tree.getChildren("/").children).to.include("p29");
  });
});

describe("ZooKeeper durability", function () {
  this.timeout(120_000);

  it("acknowledges a write only once a quorum has it on disk: power loss of every server right after the ack loses nothing", () => {
    for (let seed = 1; seed <= 12; seed++) {
      // A slow disk (20–50 ms fsyncs) widens the window in which an early ACK would be exposed.
      const disk = { fsyncMinUs: 20_000, fsyncMaxUs: 50_000 };
      const zk = new Ensemble({ servers: 3, clients: ["c1"], sessionTimeoutMs: 30_000, seed, disk }).startServers();
      zk.runUntil(() => zk.stable());
      const client = zk.startClient("c1");
      zk.runUntil(() => client.client.state === "CONNECTED");
      let acked = false;
      client.client.create("/durable", "x", {}, (reply) => {
        expect(reply.code).to.equal("OK");
        // The invariant behind it: at the ack, a quorum's txn log holds the create durably.
        const durable = zk.names.filter((name) =>
          zk.disks.get(name)!.durableView(TXN_LOG).some((chunk) => (chunk.data as ZkTxnEntry).txn.type === "create"),
        );
        expect(durable.length, `seed ${seed}: durable on ${durable.join(", ")}`).to.be.at.least(2);
        acked = true;
        for (const name of zk.names) zk.world.host(name).powerLoss();
      });
      zk.runUntil(() => acked, 10_000);
      expect(acked).to.equal(true);
      for (const name of zk.names) zk.world.host(name).start();
      expect(zk.runUntil(() => zk.servers().every((s) => s.serving) && zk.leader() !== null, 60_000)).to.equal(true);
      expect(zk.leader()!.tree.exists("/durable").stat, `seed ${seed}`).to.not.equal(null);
    }
  });
});

describe("ZooKeeper and clock skew", function () {
  this.timeout(60_000);

  function withEphemeral(seed: number, timeoutMs: number) {
    const zk = new Ensemble({ servers: 3, clients: ["c1"], sessionTimeoutMs: timeoutMs, seed }).startServers();
    zk.runUntil(() => zk.stable());
    const c1 = zk.startClient("c1");
    zk.runUntil(() => c1.client.state === "CONNECTED");
    expect(zk.call("c1", (z, done) => z.create("/eph", "", { ephemeral: true }, done)).code).to.equal("OK");
    return { zk, c1, leader: `zk-${zk.leader()!.sid}` };
  }

  it("session expiry measures elapsed time on the monotonic clock: a wall-clock step does not expire a live session", () => {
    for (let seed = 1; seed <= 5; seed++) {
      const { zk, c1, leader } = withEphemeral(seed, 4000);
      zk.world.host(leader).clock.skew(zk.world.now, 60_000_000, 0);
      zk.runFor(5_000);
      expect(c1.client.state, `seed ${seed}`).to.equal("CONNECTED");
      expect(zk.leader()!.tree.exists("/eph").stat, `seed ${seed}`).to.not.equal(null);
    }
  });

  it("a backwards wall-clock step does not keep a dead client's ephemeral alive", () => {
    const { zk } = withEphemeral(1, 6000);
    const leader = `zk-${zk.leader()!.sid}`;
    zk.world.host(leader).clock.skew(zk.world.now, -60_000_000, 0);
    zk.world.host("c1").crash();
    const start = zk.world.now;
    expect(zk.runUntil(() => zk.servers().every((s) => s.tree.exists("/eph").stat === null), 30_000)).to.equal(true);
    expect(zk.world.now - start).to.be.lessThan(10_000_000);
  });
});
