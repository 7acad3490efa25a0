import { expect } from "chai";
import { validateScenario } from "../../src/scenario/load.ts";
import { runScenario } from "../../src/scenario/run.ts";
import { MemorySink, parseTrace } from "../../src/sim/trace.ts";

function run(faults: unknown[], extra: Record<string, unknown> = {}) {
  const scenario = validateScenario(
    { name: "f", seed: 3, duration: "10s", settle: "1s", cluster: { demo: { nodes: 3, pingIntervalMs: 20, requestTimeoutMs: 200 } }, faults, ...extra },
    "f.json",
  );
  const sink = new MemorySink();
  const result = runScenario(scenario, { sinks: [sink] });
  return { result, events: parseTrace(sink.lines.join("\n")).events };
}

describe("fault injector", () => {
  it("carries a fault's note into its trace event", () => {
    const scenario = validateScenario(
      {
        name: "noted",
        duration: "3s",
        cluster: { demo: { nodes: 3 } },
        faults: [
          { at: "1s", type: "crash", node: "node-1", until: "2s", note: "node-1 dies: watch its peers' pings time out." },
          { at: "1s", type: "partition", groups: [["node-2"], ["node-3"]], note: "a cut" },
          { at: "1.5s", type: "heal" },
        ],
      },
      "noted.json",
    );
    const sink = new MemorySink();
    runScenario(scenario, { sinks: [sink] });
    const faults = parseTrace(sink.lines.join("\n")).events.filter((e) => e.kind === "fault");
    expect(faults.map((e) => e.note)).to.deep.equal(["node-1 dies: watch its peers' pings time out.", "a cut", undefined]);
  });

  it("a one-way partition drops only from→to, and `until` ends it", () => {
    // tcpRetransmitMs 0: the cut resets the connection at once (no retransmission), so sends are dropped.
    const { events } = run([{ at: "2s", type: "partition", from: ["node-1"], to: ["node-2"], until: "4s" }], { network: { tcpRetransmitMs: 0 } });
    const drops = events.filter((e) => e.kind === "drop");
    expect(drops.length).to.be.greaterThan(0);
    for (const drop of drops) {
      expect([drop.node, drop.to]).to.deep.equal(["node-1", "node-2"]);
      expect(drop.t).to.be.within(2_000_000, 4_000_000);
    }
    // node-2 → node-1 still flows during the cut.
    const reverse = events.filter((e) => e.kind === "deliver" && e.node === "node-1" && e.from === "node-2" && e.t > 2_100_000 && e.t < 3_900_000);
    expect(reverse.length).to.be.greaterThan(0);
    expect(events.find((e) => e.kind === "fault-end")!.t).to.equal(4_000_000);
  });

  it("a disk error makes appends fail while it lasts", () => {
    const { events } = run([{ at: "2s", type: "disk-error", node: "node-2", op: "write", for: "1s" }]);
    const failed = events.filter((e) => e.kind === "append-failed");
    expect(failed.length).to.be.greaterThan(0);
    expect(failed.every((e) => e.node === "node-2" && e.error === "EIO" && e.t >= 2_000_000 && e.t < 3_000_000)).to.equal(true);
  });

  it("a full disk answers ENOSPC until healed at settle", () => {
    const { events } = run([{ at: "9s", type: "disk-full", node: "node-3" }]);
    const failed = events.filter((e) => e.kind === "append-failed");
    expect(failed.length).to.be.greaterThan(0);
    expect(failed.every((e) => e.error === "ENOSPC" && e.t >= 9_000_000 && e.t < 10_000_000)).to.equal(true);
  });

  it("a bit flip is caught by the CRC check when the node recovers its log", () => {
    const { events } = run([
      { at: "5s", type: "corrupt", node: "node-1", file: "pings.log" },
      { at: "6s", type: "crash", node: "node-1", for: "100ms" },
    ]);
    const corrupt = events.find((e) => e.kind === "disk-corrupt")!;
    const recovered = events.find((e) => e.kind === "log-recovered" && e.node === "node-1" && e.t > 6_000_000)!;
    expect(recovered.records).to.equal(corrupt.chunk);
    expect(recovered.truncated as number).to.be.greaterThan(0);
  });

  it("clock skew shows in the node's local clock, and is reset when it ends", () => {
    const { events } = run([{ at: "1s", type: "clock-skew", node: "node-1", offsetMs: 5000, for: "1s" }]);
    expect(events.filter((e) => e.kind === "fault").map((e) => [e.type, e.offsetMs])).to.deep.equal([["clock-skew", 5000]]);
    expect(events.filter((e) => e.kind === "fault-end")).to.have.length(1);
  });

  it("skips faults due after the duration and restarts what is down at settle", () => {
    const { result, events } = run([
      { at: "9s", type: "power-loss", nodes: ["node-1", "node-2"] },
      { at: "10.5s", type: "crash", node: "node-3" },
    ]);
    expect(events.filter((e) => e.kind === "fault-skipped").map((e) => e.type)).to.deep.equal(["crash"]);
    expect(result.hosts.map((h) => [h.state, h.incarnation])).to.deep.equal([["running", 2], ["running", 2], ["running", 1]]);
  });

  it("resolves {random} selectors from the seed: same seed, same node", () => {
    const pick = () => run([{ at: "1s", type: "crash", node: { random: "node" } }]).events.find((e) => e.kind === "fault")!.nodes;
    expect(pick()).to.deep.equal(pick());
  });
});
