import { expect } from "chai";
import { validateScenario } from "../../src/scenario/load.ts";
import { runScenario } from "../../src/scenario/run.ts";
import { MemorySink, parseTrace } from "../../src/sim/trace.ts";

function run(faults: unknown[], extra: Record<string, unknown> = {}) {
  const scenario = validateScenario(
    {
      name: "zk",
      seed: 4,
      duration: "40s",
      settle: "20s",
      cluster: { zookeeper: { servers: 3 } },
      clients: [
        { id: "s1", type: "zk-session", config: { "zookeeper.session.timeout.ms": 6000 }, workload: { ephemeral: "/brokers/ids/1" } },
        { id: "s2", type: "zk-session", config: { "zookeeper.session.timeout.ms": 6000 }, workload: { ephemeral: "/brokers/ids/2" } },
      ],
      faults,
      ...extra,
    },
    "zk.json",
  );
  const sink = new MemorySink();
  const result = runScenario(scenario, { sinks: [sink] });
  return { result, events: parseTrace(sink.lines.join("\n")).events };
}

describe("ZooKeeper in scenarios", function () {
  this.timeout(60_000);

  it("the zk-leader selector resolves to the serving leader when the fault fires", () => {
    const { events } = run([{ at: "5s", type: "crash", node: "zk-leader", for: "5s" }]);
    const leaderAtFault = events.filter((e) => e.kind === "zk-serving" && e.role === "LEADING" && e.t < 5_000_000).at(-1)!;
    const fault = events.find((e) => e.kind === "fault")!;
    expect(fault.nodes).to.deep.equal([leaderAtFault.node]);
    // A new leader takes over (with a new epoch) while the old one is down.
    const next = events.find((e) => e.kind === "zk-serving" && e.role === "LEADING" && e.t > 5_000_000)!;
    expect(next.node).to.not.equal(leaderAtFault.node);
    expect(next.epoch).to.equal(2);
  });

  it("a fault aimed at zk-leader is skipped while there is no leader", () => {
    const { events } = run([
      { at: "5s", type: "partition", groups: [["zk-1"], ["zk-2"], ["zk-3"]], for: "25s" },
      { at: "20s", type: "crash", node: "zk-leader" },
    ]);
    const skipped = events.filter((e) => e.kind === "fault-skipped");
    expect(skipped.map((e) => [e.type, e.reason])).to.deep.equal([["crash", "no zk-leader right now"]]);
  });

  it("a paused session is expired by the leader, its ephemeral deleted, and the client re-registers afterwards", () => {
    const { result, events } = run([{ at: "10s", type: "pause", node: "s1", for: "10s" }]);
    expect(result.expectationMet).to.equal(true);
    const kinds = events.filter((e) => e.node === "s1" || e.kind === "zk-session-expiring").map((e) => e.kind);
    const order = ["host-pause", "zk-session-expiring", "host-resume", "zk-session-lost", "zk-registered"];
    let at = -1;
    for (const kind of order) {
      const index = kinds.indexOf(kind, at + 1);
      expect(index, `${kind} after ${order[order.indexOf(kind) - 1] ?? "start"}`).to.be.greaterThan(at);
      at = index;
    }
    const deleted = events.filter((e) => e.kind === "zk-commit" && e.txn === "closeSession" && e.expired === true);
    expect(deleted).to.have.length(1);
    expect(result.violations).to.deep.equal([]);
  });
});
