import { expect } from "chai";
import { DEFAULT_TCP_RETRANSMIT_US } from "../../src/net/network.ts";
import type { TraceEvent } from "../../src/sim/trace.ts";
import { between, makeNet, type Net } from "./helpers.ts";

const constant = (us: number, tcpRetransmitUs = 1_000_000) => ({ latency: { dist: "constant" as const, us }, tcpRetransmitUs });

function events(t: Net, kinds: string[]): TraceEvent[] {
  const out: TraceEvent[] = [];
  t.world.trace.observe((e) => out.push(e), kinds);
  return out;
}

/** Records the connection number of every delivery (the recorder in helpers.ts does not). */
function connections(t: Net): number[] {
  const out: number[] = [];
  t.world.trace.observe((e) => {
    if (e.kind === "deliver") out.push(t.net.linkState(String(e.from), e.node).epoch);
  }, ["deliver"]);
  return out;
}

describe("Network TCP retransmission through cuts", () => {
  it("defaults to 10 s", () => {
    const t = makeNet(["a", "b"], { latency: { dist: "constant", us: 1 } });
    expect(t.net.tcpRetransmitUs).to.equal(DEFAULT_TCP_RETRANSMIT_US).and.equal(10_000_000);
  });

  it("a short cut holds in-flight and new messages and delivers them in order after the heal, on the same connection", () => {
    const t = makeNet(["a", "b", "c"], constant(10_000));
    const trace = events(t, ["drop", "retransmit"]);
    const epochBefore = t.net.linkState("a", "b").epoch;
    t.send("a", "b", 1); // in flight when the cut begins (due at 10 ms)
    t.send("a", "b", 2);
    t.send("a", "c", 9); // another link: unaffected
    t.at(5000, () => t.net.partition([["a"], ["b"]]));
    t.at(6000, () => t.send("a", "b", 3)); // sent during the cut
    t.at(7000, () => t.send("a", "b", 4));
    t.at(200_000, () => {
      expect(t.net.linkState("a", "b").held).to.equal(4);
      t.net.heal();
      t.send("a", "b", 5); // sent after the heal: after the retransmitted ones
    });
    t.run();
    // Nothing arrived during the cut; all of it after the heal, in send order, with fresh latency.
    expect(between(t.log, "a", "b").map((r) => [r.seq, r.t])).to.deep.equal([
      [1, 210_000],
      [2, 210_000],
      [3, 210_000],
      [4, 210_000],
      [5, 210_000],
    ]);
    expect(between(t.log, "a", "c").map((r) => [r.seq, r.t])).to.deep.equal([[9, 10_000]]);
    expect(t.net.linkState("a", "b").epoch).to.equal(epochBefore);
    expect(trace.filter((e) => e.kind === "drop")).to.deep.equal([]);
    expect(trace.map((e) => [e.t, e.kind, e.node, e.to, e.count, e.cutUs])).to.deep.equal([[200_000, "retransmit", "a", "b", 4, 195_000]]);
    expect(t.net.stats).to.deep.include({ sent: 6, delivered: 6, dropped: 0, retransmitted: 4, resets: 0 });
  });

  it("keeps per-link FIFO behind messages still in flight on the healed link, and the connection number", () => {
    const t = makeNet(["a", "b"], { latency: { dist: "uniform", minUs: 1000, maxUs: 50_000 }, tcpRetransmitUs: 1_000_000 }, 7);
    const seen = connections(t);
    for (let i = 0; i < 20; i++) t.at(i * 3000, () => t.send("a", "b", i));
    t.at(10_000, () => t.net.partitionOneWay(["a"], ["b"]));
    t.at(30_000, () => t.net.heal());
    t.at(31_000, () => t.net.partitionOneWay(["a"], ["b"]));
    t.at(40_000, () => t.net.heal());
    t.run();
    expect(between(t.log, "a", "b").map((r) => r.seq)).to.deep.equal([...Array(20).keys()]);
    expect(new Set(seen).size).to.equal(1);
  });

  it("a cut longer than tcpRetransmitUs resets the connection: held messages dropped, epoch bumped", () => {
    const t = makeNet(["a", "b"], constant(10_000));
    const trace = events(t, ["drop", "retransmit"]);
    const epochBefore = t.net.linkState("a", "b").epoch;
    t.send("a", "b", 1); // in flight at the cut
    t.at(5000, () => t.net.partition([["a"], ["b"]]));
    t.at(6000, () => t.send("a", "b", 2)); // held, then dropped at the reset
    t.at(2_000_000, () => t.send("a", "b", 3)); // after the reset: dropped at once
    t.at(3_000_000, () => t.net.heal());
    t.at(3_100_000, () => t.send("a", "b", 4)); // the new connection
    t.run();
    expect(between(t.log, "a", "b").map((r) => [r.seq, r.t])).to.deep.equal([[4, 3_110_000]]);
    expect(trace.map((e) => [e.t, e.kind, e.mid, e.reason])).to.deep.equal([
      [1_005_000, "drop", 1, "partition"],
      [1_005_000, "drop", 2, "partition"],
      [2_000_000, "drop", 3, "partition"],
    ]);
    expect(t.net.linkState("a", "b").epoch).to.equal(epochBefore + 1);
    expect(t.net.stats).to.deep.include({ delivered: 1, dropped: 3, retransmitted: 0, resets: 2 }); // a→b and b→a
  });

  it("a message held for a host that goes down (or restarts) during the cut is still dropped as host-down", () => {
    const t = makeNet(["a", "b", "c"], constant(10_000));
    const trace = events(t, ["drop"]);
    t.send("a", "b", 1);
    t.send("a", "c", 2);
    t.at(5000, () => t.net.partition([["a"], ["b", "c"]]));
    t.at(6000, () => t.hosts.get("b")!.crash());
    t.at(7000, () => t.hosts.get("c")!.crash());
    t.at(8000, () => t.hosts.get("c")!.start());
    t.at(100_000, () => t.net.heal());
    t.run();
    expect(t.log).to.deep.equal([]);
    expect(trace.map((e) => [e.t, e.to, e.reason])).to.deep.equal([
      [110_000, "b", "host-down"],
      [110_000, "c", "host-down"],
    ]);
  });
});
