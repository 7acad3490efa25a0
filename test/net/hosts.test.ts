import { expect } from "chai";
import type { TraceEvent } from "../../src/sim/trace.ts";
import { makeNet } from "./helpers.ts";

const constant = (us: number) => ({ latency: { dist: "constant" as const, us } });

function trace(t: ReturnType<typeof makeNet>): TraceEvent[] {
  const events: TraceEvent[] = [];
  t.world.trace.observe((e) => {
    if (e.kind === "drop" || e.kind === "deliver") events.push(e);
  });
  return events;
}

describe("Network and host failures", () => {
  it("a message to a crashed host is dropped as host-down", () => {
    const t = makeNet(["a", "b"], constant(1000));
    const events = trace(t);
    t.send("a", "b", 1);
    t.at(500, () => t.hosts.get("b")!.crash());
    t.run();
    expect(t.log).to.deep.equal([]);
    expect(events.map((e) => [e.t, e.kind, e.node, e.reason])).to.deep.equal([[1000, "drop", "a", "host-down"]]);
    expect(t.net.stats).to.deep.equal({ sent: 1, delivered: 0, dropped: 1, lost: 0, retransmitted: 0, resets: 0 });
  });

  it("a message sent to a host that is down (or never started) is dropped", () => {
    const t = makeNet(["a", "b"], constant(1000));
    t.hosts.get("b")!.crash();
    t.send("a", "b", 1);
    const c = t.world.addHost("c", { onCrash() {}, onPowerLoss() {} }, () => ({
      onStart() {},
      onTimer() {},
      onMessage() {
        throw new Error("must not be delivered");
      },
    }));
    t.send("a", "c", 2);
    t.run();
    expect(c.state).to.equal("stopped");
    expect(t.net.stats.dropped).to.equal(2);
  });

  it("a message to a paused host is handled when it resumes", () => {
    const t = makeNet(["a", "b"], constant(1000));
    const events = trace(t);
    t.hosts.get("b")!.pause(5000);
    t.send("a", "b", 1);
    t.at(2000, () => t.send("a", "b", 2));
    t.run();
    expect(t.log.map((r) => [r.seq, r.t])).to.deep.equal([
      [1, 5000],
      [2, 5000],
    ]);
    // The network delivered them on arrival; the paused process handled them on resume.
    expect(events.map((e) => [e.t, e.kind])).to.deep.equal([
      [1000, "deliver"],
      [3000, "deliver"],
    ]);
  });

  it("a message sent before a crash and restart is not delivered to the new incarnation", () => {
    const t = makeNet(["a", "b"], constant(1000));
    const events = trace(t);
    const b = t.hosts.get("b")!;
    t.send("a", "b", 1);
    t.at(200, () => b.crash());
    t.at(300, () => b.start());
    t.at(400, () => t.send("a", "b", 2));
    t.run();
    expect(t.log.map((r) => [r.seq, r.t, r.incarnation])).to.deep.equal([[2, 1400, 2]]);
    expect(events.map((e) => [e.t, e.kind, e.reason])).to.deep.equal([
      [1000, "drop", "host-down"],
      [1400, "deliver", undefined],
    ]);
  });

  it("messages in flight from a crashed sender are still delivered (documented simplification)", () => {
    const t = makeNet(["a", "b"], constant(1000));
    t.send("a", "b", 1);
    t.at(100, () => t.hosts.get("a")!.crash());
    t.run();
    expect(t.log.map((r) => r.seq)).to.deep.equal([1]);
  });

  it("a crashed sender cannot send", () => {
    const t = makeNet(["a", "b"], constant(1000));
    const a = t.hosts.get("a")!;
    const context = a.context!;
    a.crash();
    context.send("b", { type: "Ping" });
    t.run();
    expect(t.net.stats.sent).to.equal(0);
  });
});

describe("Network: connection refused (Process.onConnectionRefused)", () => {
  it("a message to a crashed or stopped process is answered by a reset its sender hears of", () => {
    const t = makeNet(["a", "b", "c"], constant(1000));
    t.hosts.get("b")!.crash();
    t.send("a", "b", 1);
    t.at(5000, () => t.hosts.get("c")!.shutdown());
    t.at(6000, () => t.send("a", "c", 2));
    t.run();
    expect(t.refused).to.deep.equal([
      { t: 1000, node: "a", peer: "b" },
      { t: 7000, node: "a", peer: "c" },
    ]);
  });

  it("a message in flight when its receiver's process died is dropped; its sender heard of the close once, at the crash", () => {
    const t = makeNet(["a", "b"], constant(1000));
    t.send("a", "b", 1);
    t.at(200, () => t.hosts.get("b")!.crash());
    t.at(400, () => t.hosts.get("b")!.start());
    t.at(2000, () => t.hosts.get("b")!.crash());
    t.at(2100, () => t.send("a", "b", 2));
    t.run();
    expect(t.log).to.deep.equal([]);
    // The second crash found no connection (the first closed it); the send after it met a reset on arrival.
    expect(t.refused).to.deep.equal([
      { t: 200, node: "a", peer: "b" },
      { t: 3100, node: "a", peer: "b" },
    ]);
  });

  it("a powered-off machine answers nothing: the sender is not told", () => {
    const t = makeNet(["a", "b"], constant(1000));
    t.hosts.get("b")!.powerLoss();
    t.send("a", "b", 1);
    t.run();
    expect(t.net.stats.dropped).to.equal(1);
    expect(t.refused).to.deep.equal([]);
  });

  it("a paused sender hears of the reset when it resumes", () => {
    const t = makeNet(["a", "b"], constant(1000));
    t.hosts.get("b")!.crash();
    t.send("a", "b", 1);
    t.at(500, () => t.hosts.get("a")!.pause(3000));
    t.run();
    expect(t.refused).to.deep.equal([{ t: 3500, node: "a", peer: "b" }]);
  });
});

describe("Network: a process that dies closes its connections (Transport.processGone)", () => {
  it("peers that had a connection hear of a crash or a shutdown at once; a peer that never sent does not", () => {
    const t = makeNet(["a", "b", "c"], constant(1000));
    t.send("a", "b", 1);
    t.at(5000, () => t.hosts.get("b")!.crash());
    t.at(6000, () => t.hosts.get("b")!.start());
    t.at(7000, () => t.send("c", "b", 2));
    t.at(9000, () => t.hosts.get("b")!.shutdown());
    t.run();
    expect(t.refused).to.deep.equal([
      { t: 5000, node: "a", peer: "b" },
      // a's connection closed with the crash: only c, which connected since, hears of the shutdown.
      { t: 9000, node: "c", peer: "b" },
    ]);
  });

  it("the reset is lost on a cut link from the dead host; the peer meets it on its first message after the heal", () => {
    const t = makeNet(["a", "b"], constant(1000));
    t.send("a", "b", 1);
    t.at(4000, () => t.net.partitionOneWay(["b"], ["a"]));
    t.at(5000, () => t.hosts.get("b")!.crash());
    t.at(6000, () => t.send("a", "b", 2)); // reaches b's machine, but the reset cannot come back
    t.at(8000, () => t.net.heal());
    t.at(9000, () => t.send("a", "b", 3));
    t.run();
    expect(t.refused).to.deep.equal([{ t: 10_000, node: "a", peer: "b" }]);
  });

  it("a power loss closes nothing: its peers only learn by timeouts", () => {
    const t = makeNet(["a", "b"], constant(1000));
    t.send("a", "b", 1);
    t.at(5000, () => t.hosts.get("b")!.powerLoss());
    t.run();
    expect(t.refused).to.deep.equal([]);
  });
});
