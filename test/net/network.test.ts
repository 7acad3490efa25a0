import { expect } from "chai";
import fc from "fast-check";
import { World } from "../../src/sim/world.ts";
import { ModelAssertionError } from "../../src/sim/assert.ts";
import type { TraceEvent } from "../../src/sim/trace.ts";
import { Network, minLatency, type LatencySpec } from "../../src/net/network.ts";
import { between, makeNet } from "./helpers.ts";

const latencyArb: fc.Arbitrary<LatencySpec> = fc.oneof(
  fc.record({ dist: fc.constant("constant" as const), us: fc.integer({ min: 0, max: 5000 }) }),
  fc
    .tuple(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 10_000 }))
    .map(([minUs, width]) => ({ dist: "uniform" as const, minUs, maxUs: minUs + width })),
  fc
    .tuple(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 2000 }))
    .map(([meanUs, stddevUs, minUs]) => ({ dist: "normal" as const, meanUs, stddevUs, minUs })),
  fc
    .tuple(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 0, max: 5000 }))
    .map(([minUs, extra]) => ({ dist: "exponential" as const, meanUs: minUs + extra, minUs })),
);

const scheduleArb = fc.record({
  hosts: fc.integer({ min: 2, max: 4 }),
  latency: latencyArb,
  bandwidth: fc.option(fc.integer({ min: 1000, max: 10_000_000 }), { nil: undefined }),
  loss: fc.option(fc.double({ min: 0, max: 0.5, noNaN: true }), { nil: undefined }),
  seed: fc.integer(),
  sends: fc.array(
    fc.record({
      t: fc.integer({ min: 0, max: 20_000 }),
      src: fc.nat(3),
      dst: fc.nat(3),
      size: fc.integer({ min: 0, max: 5000 }),
    }),
    { minLength: 1, maxLength: 80 },
  ),
});

describe("Network links", () => {
  it("property: per link, delivery order is send order and no message beats the minimum latency", () => {
    fc.assert(
      fc.property(scheduleArb, (s) => {
        const names = ["n0", "n1", "n2", "n3"].slice(0, s.hosts);
        const t = makeNet(names, { latency: s.latency, bandwidthBytesPerSec: s.bandwidth }, s.seed);
        if (s.loss !== undefined) t.net.loss(s.loss);
        const sent: { from: string; to: string; seq: number; size: number }[] = [];
        for (const send of s.sends) {
          const from = names[send.src % s.hosts];
          const to = names[send.dst % s.hosts];
          t.at(send.t, () => {
            const seq = sent.length;
            sent.push({ from, to, seq, size: send.size });
            t.send(from, to, seq, send.size);
          });
        }
        t.run();
        const floor = minLatency(s.latency);
        for (const from of names) {
          for (const to of names) {
            const expected = sent.filter((m) => m.from === from && m.to === to).map((m) => m.seq);
            const got = between(t.log, from, to).map((r) => r.seq);
            if (s.loss === undefined) {
              expect(got).to.deep.equal(expected);
            } else if (t.net.stats.resets === 0) {
              // TCP retransmits what a lossy link lost: everything arrives, in send order.
              expect(got).to.deep.equal(expected);
            } else {
              // A connection that reset dropped what it held: a subsequence, still in send order.
              for (let i = 1; i < got.length; i++) expect(got[i]).to.be.greaterThan(got[i - 1]);
              for (const seq of got) expect(expected).to.include(seq);
            }
          }
        }
        for (const r of t.log) {
          const size = sent[r.seq].size;
          const transmit = s.bandwidth === undefined ? 0 : Math.ceil((size * 1e6) / s.bandwidth);
          expect(r.t).to.be.at.least(r.sentAt + floor + transmit);
        }
        expect(t.net.stats.sent).to.equal(sent.length);
        expect(t.net.stats.delivered + t.net.stats.dropped).to.equal(sent.length);
        expect(t.net.inFlight).to.equal(0);
      }),
      { numRuns: 300, seed: 42 },
    );
  });

  it("same-time deliveries on one link keep send order (FIFO clamp)", () => {
    // Latency 0..5ms: later messages can draw a shorter latency and must wait for earlier ones.
    const t = makeNet(["a", "b"], { latency: { dist: "uniform", minUs: 0, maxUs: 5000 } });
    for (let i = 0; i < 200; i++) t.send("a", "b");
    t.run();
    expect(t.log.map((r) => r.seq)).to.deep.equal([...Array(200).keys()]);
    for (let i = 1; i < t.log.length; i++) expect(t.log[i].t).to.be.at.least(t.log[i - 1].t);
  });

  it("same seed gives an identical delivery log and trace; a different seed differs", () => {
    const runOnce = (seed: number) => {
      const t = makeNet(["a", "b", "c"], { latency: { dist: "exponential", meanUs: 3000, minUs: 500 } }, seed);
      t.world.trace.enableHash();
      t.net.loss(0.1);
      const names = ["a", "b", "c"];
      for (let i = 0; i < 600; i++) {
        t.at(i * 97, () => t.send(names[i % 3], names[(i * 7 + 1) % 3]));
      }
      t.run();
      return { log: JSON.stringify(t.log), hash: t.world.trace.hash(), stats: { ...t.net.stats } };
    };
    const first = runOnce(7);
    const again = runOnce(7);
    const other = runOnce(8);
    expect(again.log).to.equal(first.log);
    expect(again.hash).to.equal(first.hash);
    expect(again.stats).to.deep.equal(first.stats);
    expect(other.log).to.not.equal(first.log);
    expect(other.hash).to.not.equal(first.hash);
  });

  it("traces send, deliver and drop with their fields", () => {
    const t = makeNet(["a", "b", "c"], { latency: { dist: "constant", us: 1000 }, tcpRetransmitUs: 0 });
    const events: TraceEvent[] = [];
    t.world.trace.observe((e) => events.push(e));
    t.net.partition([["a"], ["c"]]);
    t.send("a", "b", 0, 250);
    t.send("a", "c", 1);
    t.run();
    const pick = (e: TraceEvent) => {
      const { seq: _seq, ...rest } = e;
      return rest;
    };
    expect(events.map(pick)).to.deep.equal([
      { t: 0, node: "a", kind: "send", to: "b", type: "Ping", mid: 1, bytes: 250 },
      { t: 0, node: "a", kind: "send", to: "c", type: "Ping", mid: 2, bytes: 100 },
      { t: 0, node: "a", kind: "drop", to: "c", type: "Ping", mid: 2, reason: "partition" },
      { t: 1000, node: "b", kind: "deliver", from: "a", type: "Ping", mid: 1 },
    ]);
  });

  it("emits no trace events when nothing consumes the trace", () => {
    const t = makeNet(["a", "b"], { latency: { dist: "constant", us: 10 } });
    t.net.loss(0.5);
    for (let i = 0; i < 100; i++) t.send("a", "b");
    t.run();
    expect(t.world.trace.on).to.equal(false);
    expect(t.world.trace.count).to.equal(0);
    expect(t.net.stats.sent).to.equal(100);
  });

  it("counts sent, delivered and dropped", () => {
    const t = makeNet(["a", "b", "c"], { latency: { dist: "constant", us: 10 }, tcpRetransmitUs: 0 });
    t.net.partition([["a"], ["b"]]);
    t.send("a", "b");
    t.send("a", "c");
    t.send("c", "a");
    expect(t.net.inFlight).to.equal(2);
    t.run();
    expect(t.net.stats).to.deep.equal({ sent: 3, delivered: 2, dropped: 1, lost: 0, retransmitted: 0, resets: 2 }); // a→b and b→a
  });

  it("a send to an unknown host is a model assertion (a model-error verdict inside a run)", () => {
    const t = makeNet(["a"], { latency: { dist: "constant", us: 10 } });
    expect(() => t.net.send(t.hosts.get("a")!, "nobody", { type: "Ping" })).to.throw(ModelAssertionError, /nobody/);
    t.at(5, () => t.send("a", "ghost"));
    const verdict = t.world.kernel.run({ untilUs: 100, maxEvents: 100 });
    expect(verdict.reason).to.equal("model-error");
    expect(verdict.error).to.be.instanceOf(ModelAssertionError);
  });

  it("becomes the world's transport and rejects bad configs", () => {
    const world = new World(1);
    const net = new Network(world, { latency: { dist: "constant", us: 1 } });
    expect(world.transport).to.equal(net);
    expect(() => new Network(new World(1), { latency: { dist: "uniform", minUs: 5, maxUs: 1 } })).to.throw(
      ModelAssertionError,
    );
    expect(
      () => new Network(new World(1), { latency: { dist: "constant", us: 1 }, bandwidthBytesPerSec: 0 }),
    ).to.throw(ModelAssertionError);
  });

  it("hosts added after the network exists get links; existing links keep their in-flight messages and order", () => {
    const t = makeNet(["a", "b"], { latency: { dist: "uniform", minUs: 100, maxUs: 20_000 } });
    t.net.partition([["a"], ["b"]]);
    t.net.heal();
    const cutEpoch = t.net.linkState("a", "b").epoch;
    for (let i = 0; i < 50; i++) t.at(i * 10, () => t.send("a", "b"));
    t.at(250, () => {
      t.addHost("c");
      t.addHost("d");
    });
    t.at(300, () => {
      t.send("c", "a", 1000);
      t.send("a", "d", 1001);
    });
    t.run();
    expect(between(t.log, "a", "b").map((r) => r.seq)).to.deep.equal([...Array(50).keys()]);
    expect(between(t.log, "c", "a").map((r) => r.seq)).to.deep.equal([1000]);
    expect(between(t.log, "a", "d").map((r) => r.seq)).to.deep.equal([1001]);
    expect(t.net.linkState("a", "b").epoch).to.equal(cutEpoch);
  });

  it("rules apply to hosts added later where their selectors say so", () => {
    const t = makeNet(["a", "b"], { latency: { dist: "constant", us: 10 } });
    t.net.partition([["a"], ["b"]]);
    t.net.delay(500);
    t.addHost("c");
    expect(t.net.canReach("a", "b")).to.equal(false);
    expect(t.net.canReach("a", "c")).to.equal(true); // c is in no group
    expect(t.net.linkState("c", "a").extraDelayUs).to.equal(500); // "all nodes" includes c
  });

  it("a node's link to itself works and is untouched by faults", () => {
    const t = makeNet(["a", "b"], { latency: { dist: "constant", us: 10 } });
    t.net.partition([["a"], ["b"]]);
    t.net.partitionOneWay(["a"], ["a", "b"]);
    t.net.loss(1);
    t.send("a", "a");
    t.run();
    expect(t.log.map((r) => [r.from, r.to, r.t])).to.deep.equal([["a", "a", 10]]);
  });
});
