import { expect } from "chai";
import { DEFAULT_TCP_RETRANSMIT_US, TCP_RTO_MIN_US, retransmissionTimeoutUs } from "../../src/net/network.ts";
import type { TraceEvent } from "../../src/sim/trace.ts";
import { between, makeNet, type Net } from "./helpers.ts";

/** Constant 10 ms latency: every transmission that gets through arrives 10 ms after it was sent. */
const LATENCY_US = 10_000;
const constant = (tcpRetransmitUs?: number) => ({
  latency: { dist: "constant" as const, us: LATENCY_US },
  ...(tcpRetransmitUs === undefined ? {} : { tcpRetransmitUs }),
});

function events(t: Net, kinds: string[]): TraceEvent[] {
  const out: TraceEvent[] = [];
  t.world.trace.observe((e) => out.push(e), kinds);
  return out;
}

describe("Network TCP retransmission of lost messages (the loss fault)", () => {
  it("the RTO is Linux's: 200 ms, doubled per consecutive loss, capped at 120 s", () => {
    expect(TCP_RTO_MIN_US).to.equal(200_000);
    expect([1, 2, 3, 4].map(retransmissionTimeoutUs)).to.deep.equal([200_000, 400_000, 800_000, 1_600_000]);
    expect(retransmissionTimeoutUs(10)).to.equal(102_400_000);
    expect(retransmissionTimeoutUs(11)).to.equal(120_000_000);
    expect(retransmissionTimeoutUs(40)).to.equal(120_000_000);
  });

  it("a lost message is retransmitted after 200 ms and the messages sent after it on the link wait for it", () => {
    const t = makeNet(["a", "b", "c"], constant());
    const trace = events(t, ["drop", "retransmit"]);
    const rule = t.net.loss(1, ["a"], ["b"]);
    t.send("a", "b", 1); // lost
    t.send("a", "c", 9); // another link: unaffected
    t.at(1000, () => t.net.removeRule(rule));
    t.at(10_000, () => t.send("a", "b", 2)); // arrives at 20 ms, waits behind 1
    t.at(20_000, () => t.send("a", "b", 3));
    t.at(100_000, () => {
      expect(t.net.linkState("a", "b")).to.deep.include({ retransmitting: 1, blocked: 2, epoch: 0 });
    });
    t.run();
    // In send order, gap-free, all at once when the retransmitted head arrives (200 ms RTO + 10 ms).
    expect(between(t.log, "a", "b").map((r) => [r.seq, r.t])).to.deep.equal([
      [1, 210_000],
      [2, 210_000],
      [3, 210_000],
    ]);
    expect(between(t.log, "a", "c").map((r) => [r.seq, r.t])).to.deep.equal([[9, 10_000]]);
    expect(trace.map((e) => [e.t, e.kind, e.node, e.to, e.mid, e.attempt, e.rtoUs])).to.deep.equal([
      [200_000, "retransmit", "a", "b", 1, 1, 200_000],
    ]);
    expect(t.net.linkState("a", "b")).to.deep.include({ retransmitting: 0, blocked: 0, epoch: 0 });
    expect(t.net.stats).to.deep.include({ sent: 4, delivered: 4, dropped: 0, lost: 1, retransmitted: 1, resets: 0 });
  });

  it("the RTO doubles with each consecutive loss of a message and is back to 200 ms for the next lost one", () => {
    const t = makeNet(["a", "b"], constant());
    const trace = events(t, ["retransmit"]);
    const first = t.net.loss(1, ["a"], ["b"]);
    t.send("a", "b", 1);
    t.at(1_000_000, () => t.net.removeRule(first)); // the retransmission at 1.4 s gets through
    t.at(2_000_000, () => {
      const second = t.net.loss(1, ["a"], ["b"]);
      t.send("a", "b", 2);
      t.at(2_100_000, () => t.net.removeRule(second));
    });
    t.run();
    expect(trace.map((e) => [e.t, e.mid, e.attempt, e.rtoUs])).to.deep.equal([
      [200_000, 1, 1, 200_000],
      [600_000, 1, 2, 400_000],
      [1_400_000, 1, 3, 800_000],
      [2_200_000, 2, 1, 200_000],
    ]);
    expect(t.log.map((r) => [r.seq, r.t])).to.deep.equal([
      [1, 1_410_000],
      [2, 2_210_000],
    ]);
    expect(t.net.stats).to.deep.include({ lost: 4, retransmitted: 4, dropped: 0, resets: 0 });
  });

  it("a message still lost tcpRetransmitUs after its first loss resets the connection, dropping it and all behind it", () => {
    const t = makeNet(["a", "b"], constant());
    expect(t.net.tcpRetransmitUs).to.equal(DEFAULT_TCP_RETRANSMIT_US);
    const trace = events(t, ["drop", "retransmit"]);
    const rule = t.net.loss(1, ["a"], ["b"]);
    t.send("a", "b", 1);
    t.at(1_000_000, () => t.send("a", "b", 2));
    t.at(9_000_000, () => t.send("a", "b", 3));
    t.at(10_500_000, () => t.net.removeRule(rule));
    t.at(11_000_000, () => t.send("a", "b", 4)); // the new connection
    t.run();
    // Retransmissions of 1 at 0.2, 0.6, 1.4, 3.0 and 6.2 s; the next would come at 12.6 s, past the 10 s bound.
    expect(trace.filter((e) => e.kind === "retransmit" && e.mid === 1).map((e) => e.t)).to.deep.equal([
      200_000, 600_000, 1_400_000, 3_000_000, 6_200_000,
    ]);
    expect(trace.filter((e) => e.kind === "drop").map((e) => [e.t, e.mid, e.reason])).to.deep.equal([
      [10_000_000, 1, "loss"],
      [10_000_000, 2, "loss"],
      [10_000_000, 3, "loss"],
    ]);
    expect(t.log.map((r) => [r.seq, r.t])).to.deep.equal([[4, 11_010_000]]);
    expect(t.net.linkState("a", "b").epoch).to.equal(1);
    expect(t.net.stats).to.deep.include({ delivered: 1, dropped: 3, resets: 1 });
  });

  it("with tcpRetransmitUs 0 a loss resets the connection at once", () => {
    const t = makeNet(["a", "b"], constant(0));
    const trace = events(t, ["drop", "retransmit"]);
    t.net.loss(1, ["a"], ["b"]);
    t.send("a", "b", 1);
    t.run();
    expect(trace.map((e) => [e.t, e.kind, e.mid, e.reason])).to.deep.equal([[0, "drop", 1, "loss"]]);
    expect(t.net.linkState("a", "b").epoch).to.equal(1);
    expect(t.net.stats).to.deep.include({ lost: 1, retransmitted: 0, dropped: 1, resets: 1 });
  });

  it("a cut while a message is being retransmitted holds the link's messages in send order; the heal sends them at once", () => {
    const t = makeNet(["a", "b"], constant());
    const trace = events(t, ["drop", "retransmit"]);
    t.send("a", "b", 1); // in flight at the cut
    t.at(2000, () => {
      const rule = t.net.loss(1, ["a"], ["b"]);
      t.send("a", "b", 2); // lost: retransmission due at 202 ms
      t.net.removeRule(rule);
    });
    t.at(3000, () => t.send("a", "b", 3)); // arrives at 13 ms, blocked behind 2
    t.at(5000, () => t.net.partitionOneWay(["a"], ["b"]));
    t.at(6000, () => t.send("a", "b", 4)); // held by the cut
    t.at(100_000, () => t.net.heal());
    t.run();
    expect(t.log.map((r) => [r.seq, r.t])).to.deep.equal([
      [1, 110_000],
      [2, 110_000],
      [3, 110_000],
      [4, 110_000],
    ]);
    // The cut's retransmission replaces the RTO's: no retransmission of 2 at 202 ms.
    expect(trace.map((e) => [e.t, e.kind, e.count, e.mid])).to.deep.equal([[100_000, "retransmit", 4, undefined]]);
    expect(t.net.stats).to.deep.include({ delivered: 4, dropped: 0, lost: 1, resets: 0 });
  });

  it("a lossy link under steady load delivers everything in order, each lost message late by its RTOs", () => {
    const t = makeNet(["a", "b"], constant(), 11);
    t.net.loss(0.3, ["a"], ["b"]);
    const n = 2000;
    for (let i = 0; i < n; i++) t.at(i * 5000, () => t.send("a", "b", i));
    t.run();
    const got = between(t.log, "a", "b");
    if (t.net.stats.resets === 0) expect(got.map((r) => r.seq)).to.deep.equal([...Array(n).keys()]);
    for (let i = 1; i < got.length; i++) expect(got[i].seq).to.be.greaterThan(got[i - 1].seq);
    // A message is late only by RTOs (multiples of 200 ms) or by waiting for an earlier one.
    const lateByOwnLoss = got.filter((r, i) => r.t - r.sentAt > LATENCY_US && (i === 0 || got[i - 1].t < r.t));
    for (const r of lateByOwnLoss) expect((r.t - r.sentAt - LATENCY_US) % TCP_RTO_MIN_US).to.equal(0);
    expect(t.net.stats.lost).to.be.greaterThan(500);
  });
});
