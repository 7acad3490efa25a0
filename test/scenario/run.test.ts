import { expect } from "chai";
import { validateScenario } from "../../src/scenario/load.ts";
import { checkScenarioDeterminism, judge, runScenario } from "../../src/scenario/run.ts";
import { MemorySink, parseTrace, type TraceEvent } from "../../src/sim/trace.ts";
import type { ScenarioInput } from "../../src/scenario/spec.ts";

function scenario(extra: Partial<ScenarioInput> = {}) {
  return validateScenario(
    {
      name: "t",
      seed: 5,
      duration: "20s",
      settle: "2s",
      cluster: { demo: { nodes: 3, pingIntervalMs: 50, requestTimeoutMs: 300 } },
      faults: [
        { at: "2s", type: "partition", groups: [["node-1"], "rest"], for: "2s" },
        { at: ["5s", "9s"], type: "crash", node: { random: "node" }, for: "1s" },
        { at: "12s", type: "pause", node: "node-2", for: "1s" },
      ],
      ...extra,
    },
    "t.json",
  );
}

function traced(s = scenario(), seed?: number) {
  const sink = new MemorySink();
  const result = runScenario(s, { sinks: [sink], seed });
  return { result, events: parseTrace(sink.lines.join("\n")).events };
}

describe("scenario runs", () => {
  it("same scenario and seed give the same trace hash; different seeds differ", () => {
    const a = runScenario(scenario());
    const b = runScenario(scenario());
    const c = runScenario(scenario(), { seed: 6 });
    expect(a.stats.traceHash).to.equal(b.stats.traceHash);
    expect(a.stats.events).to.equal(b.stats.events);
    expect(c.stats.traceHash).to.not.equal(a.stats.traceHash);
  });

  it("the self-check finds no divergence in a deterministic run", () => {
    const report = checkScenarioDeterminism(scenario());
    expect(report.identical).to.equal(true);
    expect(report.lines).to.be.greaterThan(1000);
  });

  it("runs to duration + settle and ends with a verdict and every node back up", () => {
    const { result, events } = traced();
    expect(result.verdict).to.equal("time-limit");
    expect(result.stats.simulatedMs).to.equal(22_000);
    expect(result.expectationMet).to.equal(true);
    expect(result.hosts.every((host) => host.state === "running")).to.equal(true);
    const faults = events.filter((e) => e.kind === "fault").map((e) => e.type);
    expect(faults).to.deep.equal(["partition", "crash", "pause"]);
    const crash = events.find((e) => e.kind === "fault" && e.type === "crash")!;
    expect(crash.t).to.be.within(5_000_000, 9_000_000);
  });

  it("a 2 s partition only delays messages (TCP retransmission); with tcpRetransmitMs 500 it drops them while it lasts", () => {
    const held = traced().events;
    expect(held.filter((e) => e.kind === "drop" && e.reason === "partition")).to.deep.equal([]);
    const retransmits = held.filter((e) => e.kind === "retransmit");
    expect(retransmits.length).to.be.greaterThan(0);
    expect(retransmits.every((e) => e.t === 4_000_000 && (e.node === "node-1" || e.to === "node-1"))).to.equal(true);
    const { events } = traced(scenario({ network: { tcpRetransmitMs: 500 } }));
    const drops = events.filter((e) => e.kind === "drop" && e.reason === "partition");
    expect(drops.length).to.be.greaterThan(0);
    for (const drop of drops) {
      expect(drop.t).to.be.within(2_500_000, 4_000_000);
      expect(drop.node === "node-1" || drop.to === "node-1").to.equal(true);
    }
  });

  it("a pause defers everything to the resume, then handles the backlog", () => {
    const { events } = traced();
    const during = events.filter((e) => e.node === "node-2" && e.t > 12_000_000 && e.t < 13_000_000 && (e.kind === "pong" || e.kind === "ping-timeout"));
    expect(during).to.deep.equal([]);
    const resume = events.find((e) => e.node === "node-2" && e.kind === "host-resume")!;
    expect(resume.t).to.equal(13_000_000);
    expect(resume.backlog as number).to.be.greaterThan(0);
  });

  it("crash keeps the unsynced log; power loss loses its tail (and the node recovers by CRC)", () => {
    const crashRun = traced(scenario({ faults: [{ at: "10s", type: "crash", node: "node-1", for: "1s" }] }));
    const lost = (events: TraceEvent[]) => events.filter((e) => e.kind === "disk-power-loss");
    expect(lost(crashRun.events)).to.deep.equal([]);
    const recovered = crashRun.events.filter((e) => e.kind === "log-recovered" && e.node === "node-1");
    expect(recovered.at(-1)!.records as number).to.be.greaterThan(100);

    const powerRun = traced(scenario({ faults: [{ at: "10s", type: "power-loss", node: "node-1", for: "1s" }] }));
    const losses = lost(powerRun.events);
    expect(losses).to.have.length(1);
    expect(losses[0].lostChunks as number).to.be.greaterThan(0);
  });

  it("judges expectations: expected violations must appear, others must be allowed", () => {
    const s = scenario({ expect: { violations: ["lost-write"], allow: ["duplicate-write"] } });
    expect(judge(s, [])).to.deep.equal(["expected violation lost-write did not appear"]);
    const v = (name: "lost-write" | "duplicate-write" | "divergent-log") => ({ name, time: 0, nodes: [], evidence: {} });
    expect(judge(s, [v("lost-write"), v("duplicate-write")])).to.deep.equal([]);
    expect(judge(s, [v("lost-write"), v("divergent-log")])).to.deep.equal(["unexpected violation divergent-log"]);
  });

  it("ends at the event limit with an unmet expectation instead of running forever", () => {
    const result = runScenario(scenario({ limits: { maxEvents: 500 } }));
    expect(result.verdict).to.equal("event-limit");
    expect(result.expectationMet).to.equal(false);
    expect(result.stats.events).to.equal(500);
  });

  it("turns a model error while starting the processes into a model-error verdict, never an exception", () => {
    const s = validateScenario(
      {
        name: "bad-start",
        duration: "5s",
        cluster: { zookeeper: { servers: 1 }, brokers: 1 },
      },
      "bad-start.json",
    );
    // A value the loader refuses, forced in behind its back: the model asserts while the broker starts.
    (s.cluster.config as Record<string, unknown>)["zookeeper.session.timeout.ms"] = 0;
    const result = runScenario(s);
    expect(result.verdict).to.equal("model-error");
    expect(result.error).to.contain("session timeout");
    expect(result.expectationMet).to.equal(false);
    expect(result.expectationProblems[0]).to.match(/^the model failed an assertion: /);
  });

  it("names a plain exception of model code as such, not as an assertion", () => {
    const s = scenario();
    (s as Record<string, unknown>).faults = null; // not a list: scheduling the faults throws a TypeError
    const result = runScenario(s);
    expect(result.verdict).to.equal("model-error");
    expect(result.expectationProblems[0]).to.match(/^the model threw TypeError: /);
  });

  it("ends with the guard's verdict and the statistics so far, and the trace up to there is the full run's", () => {
    let calls = 0;
    const full = traced();
    const sink = new MemorySink();
    const result = runScenario(scenario(), {
      sinks: [sink],
      guardEveryEvents: 1000,
      guard: (now) => (++calls === 3 ? { reason: "wall-limit", detail: `stopped at ${now}` } : null),
    });
    expect(result.verdict).to.equal("wall-limit");
    expect(result.detail).to.match(/^stopped at \d+/);
    expect(result.expectationMet).to.equal(false);
    expect(result.stats.events).to.be.greaterThan(0).and.lessThan(full.result.stats.events);
    const lines = sink.lines;
    const fullLines = full.events.length;
    expect(lines.length).to.be.lessThan(fullLines);
    const again = new MemorySink();
    runScenario(scenario(), { sinks: [again] });
    expect(again.lines.slice(0, lines.length - 1)).to.deep.equal(lines.slice(0, lines.length - 1));
  });

  it("a guard that never answers changes nothing: same trace hash", () => {
    const plain = runScenario(scenario());
    const guarded = runScenario(scenario(), { guard: () => null, guardEveryEvents: 777 });
    expect(guarded.stats.traceHash).to.equal(plain.stats.traceHash);
    expect(guarded.stats.events).to.equal(plain.stats.events);
  });
});
