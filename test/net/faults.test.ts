import { expect } from "chai";
import { ModelAssertionError } from "../../src/sim/assert.ts";
import type { TraceEvent } from "../../src/sim/trace.ts";
import { between, makeNet, type Net } from "./helpers.ts";

const NAMES = ["a", "b", "c", "d", "e"];
const constant = (us: number) => ({ latency: { dist: "constant" as const, us } });

/** Sends one message on every ordered pair of distinct hosts, runs, and returns the delivered pairs "a>b". */
function allPairs(t: Net, names = NAMES): string[] {
  t.log.length = 0;
  for (const from of names) for (const to of names) if (from !== to) t.send(from, to);
  t.run();
  return t.log.map((r) => `${r.from}>${r.to}`).sort();
}

function pairsExcept(cut: string[], names = NAMES): string[] {
  const out: string[] = [];
  for (const from of names) {
    for (const to of names) if (from !== to && !cut.includes(`${from}>${to}`)) out.push(`${from}>${to}`);
  }
  return out.sort();
}

function drops(t: Net): TraceEvent[] {
  const events: TraceEvent[] = [];
  t.world.trace.observe((e) => {
    if (e.kind === "drop") events.push(e);
  });
  return events;
}

describe("Network faults", () => {
  describe("partitions", () => {
    it("a two-way partition cuts links between groups both ways and leaves the rest", () => {
      const t = makeNet(NAMES, constant(100));
      const dropped = drops(t);
      t.net.partition([["a", "b"], ["c", "d"]]);
      const cut = ["a>c", "a>d", "b>c", "b>d", "c>a", "c>b", "d>a", "d>b"];
      expect(allPairs(t)).to.deep.equal(pairsExcept(cut));
      expect(dropped.map((e) => `${e.node}>${String(e.to)}`).sort()).to.deep.equal(cut.sort());
      expect(dropped.every((e) => e.reason === "partition")).to.equal(true);
      expect(t.net.canReach("a", "c")).to.equal(false);
      expect(t.net.canReach("c", "a")).to.equal(false);
      expect(t.net.canReach("a", "b")).to.equal(true);
      // e is in no group: it keeps every link.
      for (const other of ["a", "b", "c", "d"]) {
        expect(t.net.canReach("e", other)).to.equal(true);
        expect(t.net.canReach(other, "e")).to.equal(true);
      }
    });

    it("a one-way partition cuts only the from → to direction", () => {
      const t = makeNet(NAMES, constant(100));
      t.net.partitionOneWay(["a"], ["b", "c"]);
      expect(allPairs(t)).to.deep.equal(pairsExcept(["a>b", "a>c"]));
      expect(t.net.canReach("b", "a")).to.equal(true);
      expect(t.net.canReach("a", "b")).to.equal(false);
    });

    it("heal restores every link", () => {
      const t = makeNet(NAMES, constant(100));
      t.net.partition([["a"], ["b", "c"], ["d"]]);
      t.net.partitionOneWay(["e"], ["a"]);
      t.net.loss(1, ["b"]);
      expect(allPairs(t).length).to.be.lessThan(20);
      t.net.heal();
      expect(t.net.rules).to.have.length(0);
      expect(allPairs(t)).to.deep.equal(pairsExcept([]));
    });

    it("with tcpRetransmitUs 0, messages in flight when a partition starts are dropped at once, even if it heals before they were due", () => {
      const t = makeNet(["a", "b", "c"], { ...constant(10_000), tcpRetransmitUs: 0 });
      const dropped = drops(t);
      t.send("a", "b", 1);
      t.send("b", "a", 2);
      t.send("c", "a", 3);
      t.at(1000, () => t.net.partition([["a"], ["b"]]));
      t.at(2000, () => t.net.heal());
      t.at(3000, () => t.send("a", "b", 4));
      t.run();
      expect(t.log.map((r) => [r.seq, r.t])).to.deep.equal([
        [3, 10_000],
        [4, 13_000],
      ]);
      expect(dropped.map((e) => [e.t, e.node, e.to, e.reason])).to.deep.equal([
        [1000, "a", "b", "partition"],
        [1000, "b", "a", "partition"],
      ]);
    });

    it("a new connection after a reset does not wait behind the broken one's messages", () => {
      const t = makeNet(["a", "b"], { ...constant(10_000), tcpRetransmitUs: 0 });
      t.net.delay(90_000);
      t.send("a", "b", 1); // due at 100ms, lost to the cut below
      t.net.partition([["a"], ["b"]]);
      t.net.heal();
      t.send("a", "b", 2); // new connection: 10ms
      t.run();
      expect(t.log.map((r) => [r.seq, r.t])).to.deep.equal([[2, 10_000]]);
    });

    it("removing one partition rule leaves the others in force", () => {
      const t = makeNet(NAMES, constant(100));
      const ab = t.net.partition([["a"], ["b"]]);
      const cd = t.net.partitionOneWay(["c"], ["d"]);
      const ab2 = t.net.partition([["a", "e"], ["b"]]);
      expect(t.net.removeRule(ab)).to.equal(true);
      // ab2 still separates a and b.
      expect(allPairs(t)).to.deep.equal(pairsExcept(["a>b", "b>a", "e>b", "b>e", "c>d"]));
      expect(t.net.removeRule(ab2)).to.equal(true);
      expect(allPairs(t)).to.deep.equal(pairsExcept(["c>d"]));
      expect(t.net.removeRule(ab)).to.equal(false);
      expect(t.net.rules.map((r) => r.id)).to.deep.equal([cd]);
      t.net.removeRule(cd);
      expect(allPairs(t)).to.deep.equal(pairsExcept([]));
    });

    it("an open link stays the same connection while other rules come and go", () => {
      const t = makeNet(["a", "b", "c"], constant(10_000));
      t.send("a", "b", 1);
      t.at(100, () => {
        const r = t.net.partition([["a"], ["c"]]);
        t.net.loss(0.5, ["c"]);
        t.net.removeRule(r);
      });
      t.run();
      expect(t.log.map((r) => r.seq)).to.deep.equal([1]);
    });

    it("rejects rules that name unknown hosts or put a host in two groups", () => {
      const t = makeNet(["a", "b"], constant(1));
      expect(() => t.net.partition([["a"], ["zz"]])).to.throw(ModelAssertionError, /zz/);
      expect(() => t.net.partition([["a"], ["a", "b"]])).to.throw(ModelAssertionError);
      expect(() => t.net.partitionOneWay(["a"], ["q"])).to.throw(ModelAssertionError);
      expect(() => t.net.loss(0.1, ["x"])).to.throw(ModelAssertionError);
      expect(() => t.net.slowNode("y", 2)).to.throw(ModelAssertionError);
      expect(() => t.net.loss(1.5)).to.throw(ModelAssertionError);
      expect(() => t.net.delay(-1)).to.throw(ModelAssertionError);
      expect(() => t.net.bandwidth(0)).to.throw(ModelAssertionError);
      expect(() => t.net.slowNode("a", 0)).to.throw(ModelAssertionError);
      expect(t.net.rules).to.have.length(0);
    });
  });

  describe("loss", () => {
    it("loses close to the configured fraction of transmissions, and TCP retransmits every lost message", () => {
      // No reset within the run: every message arrives, in order, however often it was lost on the way.
      const t = makeNet(["a", "b"], { ...constant(10), tcpRetransmitUs: 1e12 }, 3);
      const dropped = drops(t);
      t.net.loss(0.3);
      const n = 20_000;
      for (let i = 0; i < n; i++) t.at(i * 1000, () => t.send("a", "b", i));
      t.run();
      const { lost, retransmitted } = t.net.stats;
      expect(lost / (lost + n)).to.be.closeTo(0.3, 0.015);
      expect(retransmitted).to.equal(lost);
      expect(dropped).to.deep.equal([]);
      expect(t.log.map((r) => r.seq)).to.deep.equal([...Array(n).keys()]);
    });

    it("applies only to the selected links", () => {
      const t = makeNet(["a", "b", "c"], constant(10));
      t.net.loss(1, ["a"], ["b"]);
      expect(allPairs(t, ["a", "b", "c"])).to.deep.equal(pairsExcept(["a>b"], ["a", "b", "c"]));
      expect(t.net.canReach("a", "b")).to.equal(true); // lossy, not cut
    });

    it("combines several rules as 1 - Π(1 - r)", () => {
      const t = makeNet(["a", "b"], { ...constant(10), tcpRetransmitUs: 1e12 }, 5);
      const r1 = t.net.loss(0.5);
      t.net.loss(0.5, ["a"]);
      expect(t.net.linkState("a", "b").lossRate).to.equal(0.75);
      expect(t.net.linkState("b", "a").lossRate).to.equal(0.5);
      const n = 4000;
      for (let i = 0; i < n; i++) t.send("a", "b");
      t.run(1e13);
      expect(t.log.length).to.equal(n);
      expect(t.net.stats.lost / (t.net.stats.lost + n)).to.be.closeTo(0.75, 0.015);
      t.net.removeRule(r1);
      expect(t.net.linkState("a", "b").lossRate).to.equal(0.5);
    });
  });

  describe("delay, bandwidth and slow nodes", () => {
    it("delay rules add latency to the selected links and add up", () => {
      const t = makeNet(["a", "b", "c"], constant(1000));
      const d1 = t.net.delay(5000, ["a"]);
      t.net.delay(2000, undefined, ["b"]);
      t.send("a", "b");
      t.send("b", "a");
      t.send("a", "c");
      t.send("c", "b");
      t.run();
      const at = (from: string, to: string) => between(t.log, from, to)[0].t;
      expect(at("a", "b")).to.equal(8000);
      expect(at("b", "a")).to.equal(1000);
      expect(at("a", "c")).to.equal(6000);
      expect(at("c", "b")).to.equal(3000);
      t.net.removeRule(d1);
      expect(t.net.linkState("a", "b").extraDelayUs).to.equal(2000);
    });

    it("a bandwidth cap serialises messages on a link", () => {
      const latency = 500;
      const t = makeNet(["a", "b", "c"], { ...constant(latency), bandwidthBytesPerSec: 1_000_000 });
      const n = 40;
      const size = 1000; // 1 ms each at 1 MB/s
      for (let i = 0; i < n; i++) t.send("a", "b", i, size);
      t.send("a", "c", 99, size); // another link: not queued behind a → b
      t.run();
      const ab = between(t.log, "a", "b");
      expect(ab.map((r) => r.t)).to.deep.equal([...Array(n).keys()].map((i) => (i + 1) * 1000 + latency));
      expect(ab[n - 1].t).to.be.at.least((n * size * 1e6) / 1_000_000);
      expect(between(t.log, "a", "c")[0].t).to.equal(1000 + latency);
    });

    it("bandwidth rules take the smallest cap, and an idle link starts transmitting at once", () => {
      const t = makeNet(["a", "b"], { ...constant(0), bandwidthBytesPerSec: 1_000_000 });
      t.net.bandwidth(2_000_000);
      const slow = t.net.bandwidth(250_000, ["a"], ["b"]);
      expect(t.net.linkState("a", "b").bandwidthBytesPerSec).to.equal(250_000);
      expect(t.net.linkState("b", "a").bandwidthBytesPerSec).to.equal(1_000_000);
      for (let i = 0; i < 4; i++) t.send("a", "b", i, 1000); // 4 ms each
      t.at(100_000, () => t.send("a", "b", 10, 1000));
      t.run();
      expect(t.log.map((r) => r.t)).to.deep.equal([4000, 8000, 12_000, 16_000, 104_000]);
      t.net.removeRule(slow);
      expect(t.net.linkState("a", "b").bandwidthBytesPerSec).to.equal(1_000_000);
    });

    it("message size defaults to 100 bytes", () => {
      const t = makeNet(["a", "b"], { ...constant(0), bandwidthBytesPerSec: 100_000 });
      t.send("a", "b");
      t.run();
      expect(t.log[0].t).to.equal(1000);
    });

    it("a slow node multiplies the latency of its links", () => {
      const t = makeNet(["a", "b", "c", "d"], constant(1000));
      const rule = t.net.slowNode("b", 3);
      t.net.slowNode("c", 2);
      const pairs = [
        ["a", "b"],
        ["b", "a"],
        ["a", "c"],
        ["b", "c"],
        ["a", "d"],
      ];
      for (const [from, to] of pairs) t.send(from, to);
      t.run();
      expect(pairs.map(([from, to]) => between(t.log, from, to)[0].t)).to.deep.equal([3000, 3000, 2000, 6000, 1000]);
      t.net.removeRule(rule);
      expect(t.net.linkState("a", "b").slowFactor).to.equal(1);
      expect(t.net.linkState("b", "c").slowFactor).to.equal(2);
    });
  });
});
