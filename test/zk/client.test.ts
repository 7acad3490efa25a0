import { expect } from "chai";
import fc from "fast-check";
import { World } from "../../src/sim/world.ts";
import { Network, TCP_RTO_MIN_US } from "../../src/net/network.ts";
import { ModelAssertionError } from "../../src/sim/assert.ts";
import type { Host, Message, Process, ProcessContext } from "../../src/sim/host.ts";
import type { Verdict } from "../../src/sim/kernel.ts";
import type { TraceEvent } from "../../src/sim/trace.ts";
import type {
  ZkClientState,
  ZkCode,
  ZkConnectRequest,
  ZkReply,
  ZkRequest,
  ZkServerToClient,
  ZkWatchEventType,
} from "../../src/protocol/zk.ts";
import { pingIdleMs, ZkClient, type ZkClientConfig } from "../../src/zk/client.ts";
import { diskStub, FakeZkEnsemble } from "./fake-server.ts";

const MS = 1000;
const SERVERS = ["zk-1", "zk-2", "zk-3"];
const CLIENT = "broker-1";
const LATENCY_US = 1000;

/** The owning process: routes the client's messages and timers to it, and nothing else arrives. */
class ClientProcess implements Process {
  readonly client: ZkClient;

  constructor(
    context: ProcessContext,
    config: ZkClientConfig,
    private readonly harness: Harness,
    private readonly autoStart: boolean,
  ) {
    this.client = new ZkClient(context, config, {
      onStateChange: (state, previous) => {
        harness.states.push({ t: harness.world.now, state, previous });
        harness.onState?.(state);
      },
      onWatchEvent: (event, path) => harness.watchEvents.push({ t: harness.world.now, event, path }),
    });
  }

  onStart(): void {
    this.harness.client = this.client;
    if (this.autoStart) this.client.start();
  }

  onMessage(from: string, message: Message, connection: number): void {
    if (!this.client.onMessage(from, message, connection)) throw new Error(`unexpected ${message.type} from ${from}`);
  }

  onTimer(tag: string, data: unknown): void {
    if (!this.client.onTimer(tag, data)) throw new Error(`unexpected timer ${tag}`);
  }
}

interface Harness {
  world: World;
  net: Network;
  ensemble: FakeZkEnsemble;
  host: Host;
  client: ZkClient;
  states: { t: number; state: ZkClientState; previous: ZkClientState }[];
  watchEvents: { t: number; event: ZkWatchEventType; path: string }[];
  trace: TraceEvent[];
  onState?: (state: ZkClientState) => void;
  /** Runs `action` at absolute virtual time `tMs`. */
  at(tMs: number, action: () => void): void;
  /** Runs to `untilMs`; throws on a model error. */
  run(untilMs: number): void;
  runVerdict(untilMs: number): Verdict;
  /** ZkConnect messages the client sent (reached a server or not), with their target and time. */
  connects(): { t: number; to: string; message: ZkConnectRequest }[];
}

interface SetupOptions {
  seed?: number;
  sessionTimeoutMs?: number;
  requestTimeoutMs?: number;
  servers?: string[];
  autoStart?: boolean;
  /** The network's tcpRetransmitUs (default: the network's default). */
  tcpRetransmitUs?: number;
}

function setup(options: SetupOptions = {}): Harness {
  const world = new World(options.seed ?? 1);
  const net = new Network(world, {
    latency: { dist: "constant", us: LATENCY_US },
    ...(options.tcpRetransmitUs === undefined ? {} : { tcpRetransmitUs: options.tcpRetransmitUs }),
  });
  const trace: TraceEvent[] = [];
  world.trace.observe((event) => trace.push(event));
  const ensemble = new FakeZkEnsemble(world, options.servers ?? SERVERS);
  const config: ZkClientConfig = {
    servers: options.servers ?? SERVERS,
    sessionTimeoutMs: options.sessionTimeoutMs ?? 6000,
  };
  if (options.requestTimeoutMs !== undefined) config.requestTimeoutMs = options.requestTimeoutMs;
  const sent: { t: number; to: string; message: ZkConnectRequest }[] = [];
  const driver = { handleEvent: (_kind: number, a: unknown) => (a as () => void)() };
  const harness: Harness = {
    world,
    net,
    ensemble,
    host: null as unknown as Host,
    client: null as unknown as ZkClient,
    states: [],
    watchEvents: [],
    trace,
    at(tMs, action) {
      world.kernel.at(tMs * MS, driver, 0, action);
    },
    runVerdict(untilMs) {
      return world.kernel.run({ untilUs: untilMs * MS, maxEvents: 5_000_000 });
    },
    run(untilMs) {
      const verdict = harness.runVerdict(untilMs);
      if (verdict.reason === "model-error") throw verdict.error;
      expect(verdict.reason).to.not.equal("event-limit");
    },
    connects: () => sent,
  };
  // Record every ZkConnect the client sends, including those a partition drops.
  const transport = world.transport;
  const send = transport.send.bind(transport);
  transport.send = (from, to, message) => {
    if (message.type === "ZkConnect") sent.push({ t: world.now, to, message: message as ZkConnectRequest });
    send(from, to, message);
  };
  const autoStart = options.autoStart ?? true;
  harness.host = world.addHost(CLIENT, diskStub, (context) => new ClientProcess(context, config, harness, autoStart));
  harness.host.start();
  return harness;
}

/** Collects replies by label, with the time each arrived. */
function recorder(h: Harness): {
  done: { label: string; code: ZkCode; t: number; reply: ZkReply }[];
  cb(label: string): (reply: ZkReply) => void;
} {
  const done: { label: string; code: ZkCode; t: number; reply: ZkReply }[] = [];
  return { done, cb: (label) => (reply) => done.push({ label, code: reply.code, t: h.world.now, reply }) };
}

/** The ZkRequests the fake servers received, in order. */
function requests(h: Harness): ZkRequest[] {
  return h.ensemble.log.filter((e) => e.message.type === "ZkRequest").map((e) => e.message as ZkRequest);
}

/** A scripted message from a server to the client. */
function reply(h: Harness, server: string, message: ZkServerToClient): void {
  h.ensemble.server(server).send(CLIENT, message);
}

function stateNames(h: Harness): ZkClientState[] {
  return h.states.map((s) => s.state);
}

function timeOf(h: Harness, state: ZkClientState, after = 0): number {
  const found = h.states.find((s) => s.state === state && s.t >= after);
  if (found === undefined) throw new Error(`never ${state} after ${after}`);
  return found.t;
}

describe("ZooKeeper client: connecting", () => {
  it("connects to the first server of its shuffled list and takes the negotiated timeout", () => {
    for (const [requested, negotiated] of [
      [1000, 4000],
      [18000, 18000],
      [100000, 40000],
    ]) {
      const h = setup({ sessionTimeoutMs: requested });
      h.run(100);
      expect(stateNames(h)).to.deep.equal(["CONNECTING", "CONNECTED"]);
      expect(h.client.negotiatedTimeoutMs).to.equal(negotiated);
      expect(h.client.sessionId).to.not.equal(0);
      expect(h.client.connectedServer).to.equal(h.client.serverOrder[0]);
      expect([...h.client.serverOrder].sort()).to.deep.equal(SERVERS);
      const connect = h.connects()[0].message;
      expect(connect).to.include({ protocolVersion: 0, lastZxidSeen: 0, timeoutMs: requested, sessionId: 0 });
      expect(connect.passwd).to.equal(0);
      expect(connect.watches).to.equal(undefined);
    }
  });

  it("traces every state change with the server and session id", () => {
    const h = setup();
    h.run(100);
    const changes = h.trace.filter((e) => e.kind === "zk-client-state");
    expect(changes.map((e) => [e.from, e.to, e.server])).to.deep.equal([
      ["DISCONNECTED", "CONNECTING", h.client.serverOrder[0]],
      ["CONNECTING", "CONNECTED", h.client.serverOrder[0]],
    ]);
    expect(changes[1].sessionId).to.equal(h.client.sessionId);
    expect(changes.every((e) => e.node === CLIENT)).to.equal(true);
  });

  it("shuffles the server list from the seed: the same seed gives the same order, seeds differ", () => {
    const orders = new Set<string>();
    for (let seed = 1; seed <= 12; seed++) {
      const a = setup({ seed }).client.serverOrder.join();
      expect(setup({ seed }).client.serverOrder.join()).to.equal(a);
      orders.add(a);
    }
    expect(orders.size).to.be.greaterThan(1);
  });

  it("tries servers round-robin: no wait at first, 0–999 ms before each retry, 1 s more after a full round", () => {
    const h = setup({ sessionTimeoutMs: 6000 });
    for (const server of SERVERS) h.ensemble.server(server).silent = true;
    h.run(60_000);
    const connects = h.connects();
    const order = h.client.serverOrder;
    expect(connects.length).to.be.greaterThan(10);
    expect(connects[0].t).to.equal(0);
    const connectTimeoutUs = 2000 * MS; // 6000 ms / 3 servers
    const backoffs: number[] = [];
    connects.forEach((c, i) => {
      expect(c.to).to.equal(order[i % order.length]);
      expect(c.message.sessionId).to.equal(0);
      if (i === 0) return;
      const spin = i % order.length === 0 ? 1000 * MS : 0;
      const backoff = c.t - connects[i - 1].t - connectTimeoutUs - spin;
      expect(backoff).to.be.within(0, 999 * MS);
      backoffs.push(backoff);
    });
    expect(new Set(backoffs).size).to.be.greaterThan(1);
    expect(stateNames(h).includes("CONNECTED")).to.equal(false);
  });

  it("counts a full round of servers from the one it was last connected to", () => {
    const h = setup({ sessionTimeoutMs: 6000 });
    h.run(100);
    const order = h.client.serverOrder;
    h.ensemble.server(order[0]).silent = true;
    h.run(10_000);
    expect(h.client.connectedServer).to.equal(order[1]);
    for (const server of SERVERS) h.ensemble.server(server).silent = true;
    h.run(40_000);
    const retries = h.connects().slice(2);
    expect(retries.slice(0, 4).map((c) => c.to)).to.deep.equal([order[2], order[0], order[1], order[2]]);
    const connectTimeoutUs = 2000 * MS;
    for (let i = 1; i < 4; i++) {
      const gap = retries[i].t - retries[i - 1].t - connectTimeoutUs;
      // The spin delay comes before retrying the server of the last connection, not before order[0].
      if (retries[i].to === order[1]) expect(gap).to.be.within(1000 * MS, 1999 * MS);
      else expect(gap).to.be.within(0, 999 * MS);
    }
  });

  it("moves on to the next server when a server refuses the connection", () => {
    const h = setup();
    const order = setup().client.serverOrder; // same seed, same shuffle
    h.ensemble.server(order[0]).refuse = "not-serving";
    h.ensemble.server(order[1]).refuse = "behind-client";
    h.run(5000);
    expect(stateNames(h)).to.deep.equal([
      ...["CONNECTING", "DISCONNECTED"],
      ...["CONNECTING", "DISCONNECTED"],
      ...["CONNECTING", "CONNECTED"],
    ]);
    expect(h.client.connectedServer).to.equal(order[2]);
    expect(h.connects().map((c) => c.to)).to.deep.equal([...order]);
    // Refusals are answered, not timed out: each retry follows its refusal within the backoff.
    expect(timeOf(h, "CONNECTED")).to.be.below(2 * 999 * MS + 10 * LATENCY_US);
  });

  it("sends requests made before connecting once connected, in order", () => {
    const h = setup({ autoStart: false });
    const r = recorder(h);
    h.run(0);
    h.client.create("/a", "1", {}, r.cb("a"));
    h.client.create("/a/b", "2", {}, r.cb("b"));
    h.client.getData("/a/b", false, r.cb("c"));
    expect(h.client.outstandingRequests).to.equal(3);
    h.run(100);
    expect(r.done).to.deep.equal([]);
    h.client.start();
    h.run(200);
    expect(r.done.map((d) => [d.label, d.code])).to.deep.equal([
      ["a", "OK"],
      ["b", "OK"],
      ["c", "OK"],
    ]);
    expect(r.done[2].reply.data).to.equal("2");
    expect(requests(h).map((request) => request.xid)).to.deep.equal([1, 2, 3]);
  });
});

describe("ZooKeeper client: liveness", () => {
  it("computes ClientCnxn's ping schedule", () => {
    expect(pingIdleMs(1000)).to.equal(500);
    expect(pingIdleMs(2666)).to.equal(1001);
    expect(pingIdleMs(4000)).to.equal(1001);
    expect(pingIdleMs(12000)).to.equal(5000);
    expect(pingIdleMs(26666)).to.equal(10001);
  });

  it("pings keep an idle session connected", () => {
    const h = setup({ sessionTimeoutMs: 6000 });
    h.run(60_000);
    expect(stateNames(h)).to.deep.equal(["CONNECTING", "CONNECTED"]);
    const pings = h.ensemble.log.filter((e) => e.message.type === "ZkPing");
    expect(pings.length).to.be.greaterThan(50);
    // Idle for readTimeout/2 - 1 s (6000 × 2/3 / 2 - 1000 < 1001, so 1001 ms) → ping.
    for (let i = 1; i < pings.length; i++) expect(pings[i].t - pings[i - 1].t).to.equal(1001 * MS);
    expect(h.ensemble.expired).to.deep.equal([]);
  });

  it("does not ping while requests keep the connection busy", () => {
    const h = setup({ sessionTimeoutMs: 18000 });
    const tick = (): void => {
      h.client.exists("/", false, () => {});
      if (h.world.now < 30_000 * MS) h.at(h.world.now / MS + 1000, tick);
    };
    h.at(100, tick);
    h.run(30_000);
    expect(h.ensemble.log.filter((e) => e.message.type === "ZkPing")).to.deep.equal([]);
    // The replies are what keeps the read timeout away.
    expect(stateNames(h)).to.deep.equal(["CONNECTING", "CONNECTED"]);
  });

  it("a silent server makes it DISCONNECTED after 2/3 of the session timeout; it fails over, same session", () => {
    const h = setup({ sessionTimeoutMs: 6000 });
    h.run(100);
    const first = h.client.connectedServer!;
    const sessionId = h.client.sessionId;
    h.at(10_000, () => (h.ensemble.server(first).silent = true));
    h.run(20_000);
    const heard = h.trace.filter((e) => e.kind === "deliver" && e.node === CLIENT && e.t <= 10_000 * MS);
    const lastHeard = heard[heard.length - 1].t;
    expect(timeOf(h, "DISCONNECTED")).to.equal(lastHeard + 4000 * MS);
    expect(stateNames(h)).to.deep.equal(["CONNECTING", "CONNECTED", "DISCONNECTED", "CONNECTING", "CONNECTED"]);
    expect(h.client.sessionId).to.equal(sessionId);
    expect(h.client.connectedServer).to.equal(h.client.serverOrder[1]);
    const reconnect = h.connects()[1].message;
    expect(reconnect).to.include({ sessionId, timeoutMs: 6000 });
    expect(reconnect.passwd).to.equal(h.ensemble.sessions.get(sessionId)!.passwd);
    expect(h.ensemble.expired).to.deep.equal([]);
  });

  it("ignores a late connect answer for another session while reconnecting", () => {
    const h = setup({ sessionTimeoutMs: 6000 });
    h.run(100);
    const sessionId = h.client.sessionId;
    const order = h.client.serverOrder;
    h.ensemble.server(order[0]).silent = true;
    h.onState = (state) => {
      if (state !== "CONNECTING") return;
      // Arrives before the real answer: a session the server created for an attempt the client gave up on.
      reply(h, order[1], { type: "ZkConnectResponse", timeoutMs: 6000, sessionId: 77, passwd: 1 });
    };
    h.run(10_000);
    expect(h.client.state).to.equal("CONNECTED");
    expect(h.client.connectedServer).to.equal(order[1]);
    expect(h.client.sessionId).to.equal(sessionId);
    const sent = h.ensemble.log.filter((e) => e.server === order[1] && e.message.type !== "ZkConnect");
    expect(sent.length).to.be.greaterThan(0);
    expect(sent.every((e) => (e.message as ZkRequest).sessionId === sessionId)).to.equal(true);
  });

  it("treats a ZkDisconnect from its server as a lost connection and learns of the expiry on reconnect", () => {
    const h = setup({ sessionTimeoutMs: 1000 });
    h.run(100);
    const sessionId = h.client.sessionId;
    h.at(1000, () => h.ensemble.expire(sessionId));
    h.run(5000);
    // The reconnect asks for the negotiated timeout (4000), not the requested one.
    expect(h.connects().map((c) => [c.message.sessionId, c.message.timeoutMs])).to.deep.equal([
      [0, 1000],
      [sessionId, 4000],
    ]);
    expect(stateNames(h).slice(2)).to.deep.equal(["DISCONNECTED", "CONNECTING", "EXPIRED"]);
    expect(timeOf(h, "DISCONNECTED")).to.equal(1000 * MS + LATENCY_US);
    expect(h.trace.filter((e) => e.kind === "zk-session-expired").map((e) => e.sessionId)).to.deep.equal([sessionId]);
  });

  it("fails pending requests, then queued ones, with CONNECTIONLOSS in request order when the connection drops", () => {
    const h = setup({ sessionTimeoutMs: 6000 });
    const r = recorder(h);
    h.run(100);
    const first = h.client.connectedServer!;
    h.at(1000, () => {
      h.ensemble.server(first).silent = true;
      h.client.create("/a", "", {}, r.cb("a"));
      h.client.setData("/a", "x", -1, r.cb("b"));
      h.client.getData("/a", true, r.cb("c"));
    });
    h.onState = (state) => {
      if (state === "DISCONNECTED" && r.done.length === 0) {
        // Callbacks of the failed requests have not run yet; new requests are queued for the next server.
        h.client.create("/d", "", {}, r.cb("d"));
        h.client.create("/e", "", {}, r.cb("e"));
      }
    };
    h.run(10_000);
    const lost = timeOf(h, "DISCONNECTED");
    expect(r.done.slice(0, 3).map((d) => [d.label, d.code, d.t])).to.deep.equal([
      ["a", "CONNECTIONLOSS", lost],
      ["b", "CONNECTIONLOSS", lost],
      ["c", "CONNECTIONLOSS", lost],
    ]);
    expect(r.done.slice(3).map((d) => [d.label, d.code])).to.deep.equal([
      ["d", "OK"],
      ["e", "OK"],
    ]);
    expect(r.done[3].t).to.be.greaterThan(timeOf(h, "CONNECTED", lost));
    expect(h.client.holdsWatch("data", "/a")).to.equal(false);
    expect([...h.ensemble.nodes.keys()]).to.deep.equal(["/", "/d", "/e"]);
  });

  it("fails queued requests with CONNECTIONLOSS when a connection attempt fails", () => {
    const h = setup({ sessionTimeoutMs: 6000, autoStart: false });
    const r = recorder(h);
    for (const server of SERVERS) h.ensemble.server(server).silent = true;
    h.run(0);
    h.client.create("/a", "", {}, r.cb("a"));
    h.client.exists("/a", true, r.cb("b"));
    h.client.start();
    h.run(10_000);
    expect(r.done.map((d) => [d.label, d.code, d.t])).to.deep.equal([
      ["a", "CONNECTIONLOSS", 2000 * MS],
      ["b", "CONNECTIONLOSS", 2000 * MS],
    ]);
    expect(h.client.outstandingRequests).to.equal(0);
  });
});

describe("ZooKeeper client: session expiry", () => {
  it("a partitioned client stays DISCONNECTED/CONNECTING past its session timeout, learns of expiry on healing", () => {
    const h = setup({ sessionTimeoutMs: 6000 });
    const r = recorder(h);
    h.run(100);
    const sessionId = h.client.sessionId;
    let partition = -1;
    h.at(5000, () => (partition = h.net.partition([[CLIENT], SERVERS])));
    h.run(40_000);
    const during = h.states.filter((s) => s.t > 5000 * MS);
    expect(during.length).to.be.greaterThan(10);
    expect(new Set(during.map((s) => s.state))).to.deep.equal(new Set(["DISCONNECTED", "CONNECTING"]));
    expect(h.client.sessionId).to.equal(sessionId);
    // The ensemble has long given up on the session; the client cannot know.
    h.ensemble.checkExpiry();
    expect(h.ensemble.expired).to.deep.equal([sessionId]);
    h.onState = (state) => {
      if (state === "CONNECTING" && h.world.now > 40_000 * MS) h.client.getData("/", false, r.cb("queued"));
    };
    h.net.removeRule(partition);
    h.run(50_000);
    expect(h.client.state).to.equal("EXPIRED");
    expect(h.states[h.states.length - 1]).to.include({ state: "EXPIRED", previous: "CONNECTING" });
    expect(h.trace.filter((e) => e.kind === "zk-session-expired").map((e) => e.sessionId)).to.deep.equal([sessionId]);
    expect(r.done.map((d) => [d.label, d.code])).to.deep.equal([["queued", "SESSIONEXPIRED"]]);

    // EXPIRED is terminal: calls fail with SESSIONEXPIRED (on a zero-delay timer, never inside the call).
    h.client.create("/late", "", {}, r.cb("late"));
    expect(r.done.length).to.equal(1);
    h.run(50_001);
    expect(r.done.map((d) => [d.label, d.code])).to.deep.equal([
      ["queued", "SESSIONEXPIRED"],
      ["late", "SESSIONEXPIRED"],
    ]);
    const connects = h.connects().length;
    h.run(100_000);
    expect(h.connects().length).to.equal(connects);
    expect(h.client.state).to.equal("EXPIRED");
  });

  it("a host paused past its session timeout resumes CONNECTED, then learns of the expiry on reconnect", () => {
    const h = setup({ sessionTimeoutMs: 6000 });
    h.run(100);
    h.at(5000, () => h.host.pause(20_000 * MS));
    h.run(24_999);
    expect(stateNames(h)).to.deep.equal(["CONNECTING", "CONNECTED"]);
    h.run(40_000);
    const after = h.states.slice(2);
    expect(after[0].t).to.be.at.least(25_000 * MS);
    expect(after.map((s) => s.state)).to.deep.equal(["DISCONNECTED", "CONNECTING", "EXPIRED"]);
  });

  it("a short pause leaves the session connected", () => {
    const h = setup({ sessionTimeoutMs: 6000 });
    h.run(100);
    h.at(5000, () => h.host.pause(2000 * MS));
    h.run(20_000);
    expect(stateNames(h)).to.deep.equal(["CONNECTING", "CONNECTED"]);
    expect(h.ensemble.expired).to.deep.equal([]);
  });

  it("a retry loop on SESSIONEXPIRED advances time instead of recursing", () => {
    const h = setup();
    h.run(100);
    h.ensemble.expire(h.client.sessionId);
    h.run(3000);
    expect(h.client.state).to.equal("EXPIRED");
    let attempts = 0;
    const retry = (): void => {
      attempts++;
      h.client.exists("/", false, retry);
    };
    retry();
    const verdict = h.world.kernel.run({ untilUs: 1e12, maxEvents: 10_000 });
    expect(verdict.reason).to.equal("event-limit");
    expect(attempts).to.be.greaterThan(5000);
  });
});

describe("ZooKeeper client: watches", () => {
  it("registers watches only on replies that set them, fires each once, and re-sends the rest on reconnect", () => {
    const h = setup({ sessionTimeoutMs: 6000 });
    const r = recorder(h);
    h.run(100);
    const first = h.client.connectedServer!;
    h.client.create("/a", "1", {}, r.cb("create"));
    h.client.getData("/a", true, r.cb("data-a"));
    h.client.getData("/missing", true, r.cb("data-missing"));
    h.client.exists("/b", true, r.cb("exists-b"));
    h.client.getChildren("/", true, r.cb("children"));
    h.client.getChildren("/nope", true, r.cb("children-nope"));
    h.client.exists("/c", false, r.cb("exists-c"));
    h.run(200);
    expect(r.done.map((d) => d.code)).to.deep.equal(["OK", "OK", "NONODE", "OK", "OK", "NONODE", "OK"]);
    expect(h.client.holdsWatch("data", "/a")).to.equal(true);
    expect(h.client.holdsWatch("data", "/missing")).to.equal(false);
    expect(h.client.holdsWatch("exist", "/missing")).to.equal(false);
    expect(h.client.holdsWatch("exist", "/b")).to.equal(true);
    expect(h.client.holdsWatch("child", "/")).to.equal(true);
    expect(h.client.holdsWatch("child", "/nope")).to.equal(false);
    expect(h.client.holdsWatch("exist", "/c")).to.equal(false);

    h.client.setData("/a", "2", -1, r.cb("set-a"));
    h.client.create("/b", "", {}, r.cb("create-b"));
    h.run(300);
    expect(h.watchEvents.map((e) => [e.event, e.path])).to.deep.equal([
      ["NodeDataChanged", "/a"],
      ["NodeCreated", "/b"],
      ["NodeChildrenChanged", "/"],
    ]);
    // One-shot: the registrations are gone, and a repeated event reaches nobody.
    expect(h.client.holdsWatch("data", "/a")).to.equal(false);
    const session = h.ensemble.sessions.get(h.client.sessionId)!;
    h.ensemble.deliver(session, "NodeDataChanged", "/a");
    h.ensemble.deliver(session, "NodeChildrenChanged", "/");
    h.run(400);
    expect(h.watchEvents.length).to.equal(3);

    // Held watches go out with the reconnect; one set by a request lost with the connection does not.
    h.client.getData("/b", true, r.cb("data-b"));
    h.client.exists("/z", true, r.cb("exists-z"));
    h.client.getChildren("/a", true, r.cb("children-a"));
    h.run(500);
    h.ensemble.server(first).silent = true;
    h.client.getData("/a", true, r.cb("lost"));
    h.run(10_000);
    expect(r.done[r.done.length - 1]).to.include({ label: "lost", code: "CONNECTIONLOSS" });
    const reconnect = h.connects()[1].message;
    expect(reconnect.watches).to.deep.equal({ data: ["/b"], exist: ["/z"], child: ["/a"] });
    expect(reconnect.lastZxidSeen).to.equal(h.ensemble.zxid);
    expect(h.client.state).to.equal("CONNECTED");

    // Re-registered on the new server: a change fires there.
    h.client.create("/z", "", {}, r.cb("create-z"));
    h.run(10_100);
    expect(h.watchEvents.slice(3).map((e) => [e.event, e.path])).to.deep.equal([["NodeCreated", "/z"]]);
  });

  it("exists registers a data watch when the node exists and an exist watch on NONODE or a null stat", () => {
    const h = setup();
    h.run(100);
    const server = h.ensemble.server(h.client.connectedServer!);
    h.client.create("/n", "", {}, () => {});
    h.client.exists("/n", true, () => {});
    h.client.exists("/null-stat", true, () => {});
    h.run(200);
    server.override = (request) => (request.op === "exists" ? { code: "NONODE" } : null);
    h.client.exists("/nonode", true, () => {});
    h.run(300);
    server.override = null;
    expect(h.client.holdsWatch("data", "/n")).to.equal(true);
    expect(h.client.holdsWatch("exist", "/null-stat")).to.equal(true);
    expect(h.client.holdsWatch("exist", "/nonode")).to.equal(true);
    expect(h.client.holdsWatch("data", "/nonode")).to.equal(false);
    // A deletion triggers data, exist and child registrations alike, and calls the watcher once.
    const session = h.ensemble.sessions.get(h.client.sessionId)!;
    h.ensemble.deliver(session, "NodeDeleted", "/null-stat");
    h.client.getChildren("/n", true, () => {});
    h.run(400);
    expect(h.client.holdsWatch("child", "/n")).to.equal(true);
    h.client.delete("/n", -1, () => {});
    h.run(500);
    expect(h.watchEvents.map((e) => [e.event, e.path])).to.deep.equal([
      ["NodeDeleted", "/null-stat"],
      ["NodeDeleted", "/n"],
    ]);
    expect(h.client.holdsWatch("exist", "/null-stat")).to.equal(false);
    expect(h.client.holdsWatch("data", "/n")).to.equal(false);
    expect(h.client.holdsWatch("child", "/n")).to.equal(false);
  });
});

describe("ZooKeeper client: replies", () => {
  it("tracks lastZxidSeen from replies, pongs and watch events (the maximum)", () => {
    const h = setup();
    h.run(100);
    h.client.create("/a", "", {}, () => {});
    h.run(200);
    expect(h.client.lastZxidSeen).to.equal(h.ensemble.zxid);
    // Another session writes; the next pong carries the new zxid.
    const other = h.ensemble.newSession(6000);
    h.ensemble.apply(other, { op: "create", path: "/b", data: "", ephemeral: false, sequential: false });
    const before = h.client.lastZxidSeen;
    h.run(3000);
    expect(h.client.lastZxidSeen).to.equal(h.ensemble.zxid);
    expect(h.client.lastZxidSeen).to.be.greaterThan(before);
    // An older zxid never lowers it.
    const server = h.ensemble.server(h.client.connectedServer!);
    reply(h, server.name, { type: "ZkPong", zxid: 1 });
    h.run(3100);
    expect(h.client.lastZxidSeen).to.equal(h.ensemble.zxid);
    // A watch event carries the zxid of the change that fired it, before any pong or reply.
    h.client.getData("/b", true, () => {});
    h.run(3200);
    h.ensemble.apply(other, { op: "setData", path: "/b", data: "x", version: -1 });
    h.run(3200 + 2);
    expect(h.watchEvents.map((e) => e.path)).to.deep.equal(["/b"]);
    expect(h.client.lastZxidSeen).to.equal(h.ensemble.zxid);
  });

  it("ignores messages from servers other than the one it is connected to", () => {
    const h = setup();
    const r = recorder(h);
    h.run(100);
    const other = SERVERS.find((s) => s !== h.client.connectedServer)!;
    const stale = h.ensemble.server(other);
    h.client.create("/a", "", {}, r.cb("a"));
    reply(h, stale.name, { type: "ZkResponse", xid: 99, zxid: 1e15, reply: { code: "OK" } });
    reply(h, stale.name, { type: "ZkWatchEvent", event: "NodeCreated", path: "/a", zxid: 1e15 });
    reply(h, stale.name, { type: "ZkDisconnect", reason: "not-serving" });
    reply(h, stale.name, { type: "ZkConnectResponse", timeoutMs: 0, sessionId: 0, passwd: 0 });
    h.run(1000);
    expect(stateNames(h)).to.deep.equal(["CONNECTING", "CONNECTED"]);
    expect(r.done.map((d) => d.code)).to.deep.equal(["OK"]);
    expect(h.client.lastZxidSeen).to.be.below(1e15);
    expect(h.client.onMessage(other, { type: "Produce" })).to.equal(false);
    expect(h.client.onTimer("replica-fetch", undefined)).to.equal(false);
  });

  it("a reply ahead of the oldest pending xid means a lost message: the connection is dropped", () => {
    const h = setup();
    const r = recorder(h);
    h.run(100);
    const first = h.client.connectedServer!;
    h.ensemble.server(first).reverseReplies = 2;
    h.client.create("/a", "", {}, r.cb("a"));
    h.client.create("/b", "", {}, r.cb("b"));
    h.run(5000);
    const lost = timeOf(h, "DISCONNECTED");
    expect(lost).to.equal(100 * MS + 2 * LATENCY_US);
    expect(r.done.map((d) => [d.label, d.code, d.t])).to.deep.equal([
      ["a", "CONNECTIONLOSS", lost],
      ["b", "CONNECTIONLOSS", lost],
    ]);
    expect(h.client.state).to.equal("CONNECTED");
    expect(h.client.connectedServer).to.not.equal(first);
  });

  it("a request lost on a live link is retransmitted by TCP: it and the one behind it complete, in order, after the RTO", () => {
    const h = setup();
    const r = recorder(h);
    h.run(100);
    const rule = h.net.loss(1, [CLIENT], SERVERS);
    h.client.create("/lost", "", {}, r.cb("lost"));
    h.net.removeRule(rule);
    h.client.create("/next", "", {}, r.cb("next"));
    h.run(1000);
    expect(r.done.map((d) => [d.label, d.code])).to.deep.equal([
      ["lost", "OK"],
      ["next", "OK"],
    ]);
    expect(r.done[0].t).to.be.at.least(100 * MS + TCP_RTO_MIN_US);
    expect(h.client.state).to.equal("CONNECTED");
  });

  it("a watch event lost while its server's link was briefly cut: the next message comes on a new connection", () => {
    // tcpRetransmitUs 0: the cut resets the connection at once instead of retransmitting.
    const h = setup({ sessionTimeoutMs: 6000, tcpRetransmitUs: 0 });
    const r = recorder(h);
    h.run(100);
    const first = h.client.connectedServer!;
    const sessionId = h.client.sessionId;
    h.client.create("/w", "", {}, r.cb("create"));
    h.client.getData("/w", true, r.cb("watch"));
    h.run(200);
    expect(h.client.holdsWatch("data", "/w")).to.equal(true);
    // Only the server → client direction is cut, for 100 ms: the server notices nothing, and neither the read
    // timeout (4 s) nor the session timeout comes near.
    const other = h.ensemble.newSession(6000);
    let cut = -1;
    h.at(500, () => (cut = h.net.partitionOneWay([first], [CLIENT])));
    h.at(510, () => h.ensemble.apply(other, { op: "setData", path: "/w", data: "x", version: -1 }));
    h.at(600, () => h.net.removeRule(cut));
    h.run(599);
    expect(h.trace.some((e) => e.kind === "drop" && e.type === "ZkWatchEvent" && e.to === CLIENT)).to.equal(true);
    expect(h.watchEvents).to.deep.equal([]);
    h.run(5000);
    // The pong to the next ping (1001 ms after the last send) is the first message on the new connection.
    const lost = timeOf(h, "DISCONNECTED");
    const pong = h.trace.find((e) => e.kind === "deliver" && e.type === "ZkPong" && e.node === CLIENT && e.t > 600 * MS)!;
    expect(lost).to.equal(pong.t);
    expect(lost).to.be.below(2000 * MS);
    expect(stateNames(h)).to.deep.equal(["CONNECTING", "CONNECTED", "DISCONNECTED", "CONNECTING", "CONNECTED"]);
    expect(h.client.sessionId).to.equal(sessionId);
    // The watch it still holds goes out with the reconnect, and the new server fires the change it missed.
    expect(h.connects()[1].message.watches).to.deep.equal({ data: ["/w"], exist: [], child: [] });
    expect(h.watchEvents.map((e) => [e.event, e.path])).to.deep.equal([["NodeDataChanged", "/w"]]);
    expect(h.watchEvents[0].t).to.be.above(lost);
    expect(h.client.lastZxidSeen).to.equal(h.ensemble.zxid);
  });

  it("a reply lost in a short partition: the next message, on a new connection, fails it with CONNECTIONLOSS", () => {
    // tcpRetransmitUs 0: the cut resets the connection at once instead of retransmitting.
    const h = setup({ sessionTimeoutMs: 6000, tcpRetransmitUs: 0 });
    const r = recorder(h);
    h.run(100);
    const first = h.client.connectedServer!;
    h.client.create("/a", "", {}, r.cb("create"));
    h.run(1000);
    // The request reaches the server at 1001 ms; its reply is in flight when the partition cuts the link.
    h.client.getData("/a", false, r.cb("lost"));
    let partition = -1;
    h.at(1001.5, () => (partition = h.net.partition([[CLIENT], [first]])));
    h.at(1100, () => h.net.removeRule(partition));
    h.run(1100);
    expect(h.trace.some((e) => e.kind === "drop" && e.type === "ZkResponse" && e.to === CLIENT)).to.equal(true);
    expect(h.client.state).to.equal("CONNECTED");
    h.run(6000);
    // Not the read timeout (4 s after the request was sent): the first message from the server after healing.
    const lost = timeOf(h, "DISCONNECTED");
    expect(lost).to.be.below(3000 * MS);
    expect(r.done.map((d) => [d.label, d.code, d.t])).to.deep.equal([
      ["create", "OK", 100 * MS + 2 * LATENCY_US],
      ["lost", "CONNECTIONLOSS", lost],
    ]);
    expect(h.client.state).to.equal("CONNECTED");
    h.client.getData("/a", false, r.cb("retry"));
    h.run(6100);
    expect(r.done[2]).to.include({ label: "retry", code: "OK" });
  });

  it("a reply for an xid already answered trips a model assertion", () => {
    const h = setup();
    h.run(100);
    h.ensemble.server(h.client.connectedServer!).duplicateReplies = true;
    h.client.create("/a", "", {}, () => {});
    h.client.create("/b", "", {}, () => {});
    const verdict = h.runVerdict(1000);
    expect(verdict.reason).to.equal("model-error");
    expect(verdict.error).to.be.instanceOf(ModelAssertionError);
    expect(verdict.error!.message).to.match(/out of xid order: xid 1 while xid 2 is the oldest pending/);
  });

  it("a reply with no request pending, or for an xid never sent, trips a model assertion", () => {
    for (const [xid, message] of [
      [1, /xid 1 with no request pending/],
      [5, /xid 5, which was never sent/],
    ] as const) {
      const h = setup();
      h.run(100);
      h.client.create("/a", "", {}, () => {});
      h.run(200);
      reply(h, h.client.connectedServer!, { type: "ZkResponse", xid, zxid: 0, reply: { code: "OK" } });
      const verdict = h.runVerdict(1000);
      expect(verdict.reason).to.equal("model-error");
      expect(verdict.error!.message).to.match(message);
    }
  });

  it("a request outstanding past zookeeper.request.timeout fails with REQUESTTIMEOUT and drops the connection", () => {
    const h = setup({ sessionTimeoutMs: 30_000, requestTimeoutMs: 3000 });
    const r = recorder(h);
    h.run(100);
    const first = h.client.connectedServer!;
    h.ensemble.server(first).dropRequests = true;
    h.at(5000, () => h.client.create("/a", "", {}, r.cb("a")));
    h.at(6000, () => h.client.create("/b", "", {}, r.cb("b")));
    h.run(7999);
    expect(r.done).to.deep.equal([]);
    h.run(20_000);
    expect(r.done.map((d) => [d.label, d.code, d.t])).to.deep.equal([
      ["a", "REQUESTTIMEOUT", 8000 * MS],
      ["b", "CONNECTIONLOSS", 8000 * MS],
    ]);
    expect(timeOf(h, "DISCONNECTED")).to.equal(8000 * MS);
    expect(stateNames(h)).to.deep.equal(["CONNECTING", "CONNECTED", "DISCONNECTED", "CONNECTING", "CONNECTED"]);
    expect(h.client.connectedServer).to.not.equal(first);
  });

  it("a request unanswered for the read timeout drops the connection even while pongs arrive", () => {
    const h = setup({ sessionTimeoutMs: 30_000 });
    const r = recorder(h);
    h.run(100);
    const first = h.client.connectedServer!;
    h.ensemble.server(first).dropRequests = true;
    h.at(1000, () => h.client.create("/a", "", {}, r.cb("a")));
    h.run(60_000);
    const pongs = h.trace.filter((e) => e.kind === "deliver" && e.type === "ZkPong" && e.t < 21_000 * MS);
    expect(pongs.length).to.be.greaterThan(0);
    // readTimeout = 20 s from the send at 1 s, though the server kept answering pings.
    expect(r.done.map((d) => [d.label, d.code, d.t])).to.deep.equal([["a", "CONNECTIONLOSS", 21_000 * MS]]);
    expect(stateNames(h)).to.deep.equal(["CONNECTING", "CONNECTED", "DISCONNECTED", "CONNECTING", "CONNECTED"]);
    expect(h.client.connectedServer).to.not.equal(first);
  });

  it("supports every operation against the fake server", () => {
    const h = setup();
    const r = recorder(h);
    h.run(100);
    h.client.create("/p", "", {}, r.cb("p"));
    h.client.create("/p/s-", "x", { sequential: true }, r.cb("seq0"));
    h.client.create("/p/s-", "y", { sequential: true, ephemeral: true }, r.cb("seq1"));
    h.client.setData("/p", "v1", 0, r.cb("set"));
    h.client.setData("/p", "v2", 0, r.cb("set-bad"));
    h.client.getChildren("/p", false, r.cb("children"));
    h.client.multi(
      [
        { op: "check", path: "/p", version: 1 },
        { op: "create", path: "/q", data: "", ephemeral: false, sequential: false },
      ],
      r.cb("multi"),
    );
    h.client.sync("/p", r.cb("sync"));
    h.client.delete("/q", -1, r.cb("delete"));
    h.run(1000);
    const by = new Map(r.done.map((d) => [d.label, d.reply]));
    expect(r.done.map((d) => d.label)).to.deep.equal([
      ...["p", "seq0", "seq1", "set", "set-bad"],
      ...["children", "multi", "sync", "delete"],
    ]);
    expect(by.get("seq0")!.path).to.equal("/p/s-0000000000");
    expect(by.get("seq1")!.path).to.equal("/p/s-0000000001");
    expect(by.get("set")!.stat!.version).to.equal(1);
    expect(by.get("set-bad")!.code).to.equal("BADVERSION");
    expect(by.get("children")!.children).to.deep.equal(["s-0000000000", "s-0000000001"]);
    expect(by.get("multi")!.results!.map((x) => x.code)).to.deep.equal(["OK", "OK"]);
    expect(by.get("delete")!.code).to.equal("OK");
  });
});

describe("ZooKeeper client: close", () => {
  it("close sends closeSession, becomes CLOSED on its reply, and the session's ephemerals are gone", () => {
    const h = setup();
    const r = recorder(h);
    h.run(100);
    h.client.create("/e", "", { ephemeral: true }, r.cb("e"));
    h.run(200);
    expect(h.ensemble.nodes.has("/e")).to.equal(true);
    let closedAt = -1;
    h.client.close(() => (closedAt = h.world.now));
    h.client.create("/during", "", {}, r.cb("during"));
    expect(h.client.state).to.equal("CONNECTED");
    h.run(300);
    expect(h.client.state).to.equal("CLOSED");
    expect(closedAt).to.equal(timeOf(h, "CLOSED"));
    expect(timeOf(h, "CLOSED")).to.equal(200 * MS + 2 * LATENCY_US);
    expect(h.ensemble.nodes.has("/e")).to.equal(false);
    expect(requests(h).map((request) => request.request.op)).to.deep.equal(["create", "closeSession"]);
    h.client.getData("/", false, r.cb("after"));
    let again = false;
    h.client.close(() => (again = true));
    h.run(400);
    expect(r.done.map((d) => [d.label, d.code])).to.deep.equal([
      ["e", "OK"],
      ["during", "CONNECTIONLOSS"],
      ["after", "SESSIONEXPIRED"],
    ]);
    expect(again).to.equal(true);
    // No pings, no reconnects, no timers left after close.
    const verdict = h.runVerdict(60_000);
    expect(verdict.reason).to.equal("quiescent");
    expect(verdict.events).to.equal(0);
  });

  it("close while disconnected is immediate: queued requests fail with CONNECTIONLOSS and no reconnect follows", () => {
    const h = setup({ sessionTimeoutMs: 6000 });
    const r = recorder(h);
    h.run(100);
    h.net.partition([[CLIENT], SERVERS]);
    h.run(6000);
    expect(h.client.state).to.be.oneOf(["DISCONNECTED", "CONNECTING"]);
    h.client.create("/q", "", {}, r.cb("q"));
    let closed = false;
    h.client.close(() => (closed = true));
    expect(h.client.state).to.equal("CLOSED");
    expect(closed).to.equal(false);
    h.run(6000);
    expect(closed).to.equal(true);
    expect(r.done.map((d) => [d.label, d.code])).to.deep.equal([["q", "CONNECTIONLOSS"]]);
    const connects = h.connects().length;
    h.net.heal();
    h.run(60_000);
    expect(h.connects().length).to.equal(connects);
    expect(h.client.state).to.equal("CLOSED");
  });

  it("close completes when the connection drops before closeSession is answered", () => {
    const h = setup({ sessionTimeoutMs: 6000 });
    const r = recorder(h);
    h.run(100);
    h.ensemble.server(h.client.connectedServer!).silent = true;
    h.client.create("/a", "", {}, r.cb("a"));
    h.client.close(() => r.done.push({ label: "close", code: "OK", t: h.world.now, reply: { code: "OK" } }));
    h.run(10_000);
    expect(stateNames(h)).to.deep.equal(["CONNECTING", "CONNECTED", "CLOSED"]);
    expect(r.done.map((d) => [d.label, d.code])).to.deep.equal([
      ["a", "CONNECTIONLOSS"],
      ["close", "OK"],
    ]);
    expect(h.connects().length).to.equal(1);
  });
});

describe("ZooKeeper client: determinism and properties", () => {
  function chaos(seed: number): string {
    const h = setup({ seed, sessionTimeoutMs: 6000 });
    h.world.trace.enableHash();
    h.at(2000, () => h.net.partition([[CLIENT, "zk-1"], ["zk-2", "zk-3"]]));
    h.at(3000, () => h.ensemble.server("zk-1").silent = true);
    for (let t = 100; t < 30_000; t += 700) h.at(t, () => h.client.exists("/", t % 3 === 0, () => {}));
    h.at(20_000, () => h.net.heal());
    h.run(40_000);
    return h.world.trace.hash();
  }

  it("the same seed gives the same trace; another seed another", () => {
    expect(chaos(5)).to.equal(chaos(5));
    expect(chaos(5)).to.not.equal(chaos(6));
  });

  it("under random faults every callback runs once, in request order, and only a server expires the session", () => {
    type Step =
      | { kind: "request"; op: number; path: number; watch: boolean }
      | { kind: "partition"; forMs: number }
      | { kind: "silence"; server: number; forMs: number }
      | { kind: "pause"; forMs: number }
      | { kind: "refuse"; server: number; forMs: number }
      | { kind: "server-pause"; server: number; forMs: number }
      | { kind: "expire" };
    const server = fc.integer({ min: 0, max: 2 });
    const forMs = fc.integer({ min: 100, max: 15_000 });
    const request = fc.record({
      kind: fc.constant("request" as const),
      op: fc.integer({ min: 0, max: 4 }),
      path: fc.integer({ min: 0, max: 3 }),
      watch: fc.boolean(),
    });
    const step: fc.Arbitrary<Step> = fc.oneof(
      { weight: 12, arbitrary: request },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("partition" as const), forMs }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("silence" as const), server, forMs }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("pause" as const), forMs }) },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant("refuse" as const),
          server,
          forMs: fc.integer({ min: 100, max: 5000 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("server-pause" as const), server, forMs }) },
      { weight: 1, arbitrary: fc.constant({ kind: "expire" as const }) },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 4000, max: 20_000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 60_000 }), step), { minLength: 10, maxLength: 60 }),
        fc.option(fc.integer({ min: 0, max: 60_000 }), { nil: undefined }),
        (seed, sessionTimeoutMs, steps, closeAt) => {
          const h = setup({ seed, sessionTimeoutMs, requestTimeoutMs: seed % 2 === 0 ? 5000 : 0 });
          const calls: number[] = [];
          const inOrder: number[] = [];
          let next = 0;
          let closeCalled = false;
          const paths = ["/a", "/b", "/a/c", "/"];
          for (const [t, s] of [...steps].sort((x, y) => x[0] - y[0])) {
            h.at(t, () => {
              switch (s.kind) {
                case "request": {
                  const id = next++;
                  const live = h.client.state !== "EXPIRED" && h.client.state !== "CLOSED" && !closeCalled;
                  const cb = (): void => {
                    calls.push(id);
                    if (live) inOrder.push(id);
                  };
                  const path = paths[s.path];
                  if (s.op === 0) h.client.create(path, "", { ephemeral: s.watch }, cb);
                  else if (s.op === 1) h.client.getData(path, s.watch, cb);
                  else if (s.op === 2) h.client.exists(path, s.watch, cb);
                  else if (s.op === 3) h.client.getChildren(path, s.watch, cb);
                  else h.client.setData(path, "x", -1, cb);
                  return;
                }
                case "partition": {
                  const rule = h.net.partition([[CLIENT], SERVERS]);
                  h.at(t + s.forMs, () => h.net.removeRule(rule));
                  return;
                }
                case "silence": {
                  const server = h.ensemble.server(SERVERS[s.server]);
                  server.silent = true;
                  h.at(t + s.forMs, () => (server.silent = false));
                  return;
                }
                case "pause":
                  h.host.pause(s.forMs * MS);
                  return;
                case "refuse": {
                  const server = h.ensemble.server(SERVERS[s.server]);
                  server.refuse = "not-serving";
                  h.at(t + s.forMs, () => (server.refuse = null));
                  return;
                }
                case "server-pause":
                  h.world.host(SERVERS[s.server]).pause(s.forMs * MS);
                  return;
                case "expire":
                  h.ensemble.expire(h.client.sessionId);
                  return;
              }
            });
          }
          if (closeAt !== undefined) {
            h.at(closeAt, () => {
              closeCalled = true;
              h.client.close();
            });
          }
          h.run(200_000);
          expect([...calls].sort((a, b) => a - b)).to.deep.equal([...Array(next).keys()]);
          expect(inOrder).to.deep.equal([...inOrder].sort((a, b) => a - b));
          if (h.client.state === "EXPIRED") expect(h.ensemble.expired).to.include(h.client.sessionId);
          else expect(h.client.state).to.be.oneOf(closeCalled ? ["CLOSED"] : ["CONNECTED"]);
          expect(h.client.outstandingRequests).to.equal(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
