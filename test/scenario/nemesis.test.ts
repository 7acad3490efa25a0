import { expect } from "chai";
import { ScenarioError, validateScenario } from "../../src/scenario/load.ts";
import { nemesisProblem, planNemesis } from "../../src/scenario/nemesis.ts";
import { Rng } from "../../src/sim/rng.ts";
import { run, type Spec } from "./helpers.ts";
import type { TraceEvent } from "../../src/sim/trace.ts";

function chaos(nemesis: Spec, extra: Spec = {}): Spec {
  return {
    name: "nemesis",
    seed: 1,
    duration: "30s",
    settle: "15s",
    cluster: { zookeeper: { servers: 3 }, brokers: 3, config: { "zookeeper.session.timeout.ms": 6000, "replica.lag.time.max.ms": 5000 } },
    topics: [{ name: "t", partitions: 2, replicationFactor: 3, config: { "min.insync.replicas": 2 } }],
    clients: [{ id: "p1", type: "producer", config: { acks: "all" }, workload: { topic: "t", messages: 600, ratePerSec: 40, startAt: "1s" } }],
    nemesis,
    ...extra,
  };
}

const plan = (spec: Spec, seed: number | string) => planNemesis(validateScenario(spec, "n.json"), Rng.fromSeed(seed).fork("nemesis"));
const nemesisFaults = (events: TraceEvent[]) => events.filter((e) => e.kind === "nemesis-fault").map((e) => e.fault as Record<string, unknown>);

function loadError(spec: Spec): string {
  try {
    validateScenario(spec, "n.json");
  } catch (error) {
    expect(error).to.be.instanceOf(ScenarioError);
    return (error as Error).message;
  }
  throw new Error("expected a ScenarioError");
}

describe("nemesis", () => {
  const ALL_TYPES = { types: ["crash", "power-loss", "pause", "shutdown", "partition", "clock-skew", "loss", "delay", "slow", "disk-slow"], targets: "all" };

  it("draws its plan from the seed: the same seed gives the same schedule, another seed another", () => {
    const spec = chaos(ALL_TYPES);
    const first = plan(spec, 1);
    expect(first.length).to.be.greaterThan(3);
    expect(plan(spec, 1)).to.deep.equal(first);
    expect(plan(spec, 2)).to.not.deep.equal(first);
    // Every planned fault is an ordinary, valid fault of the scenario format.
    expect(() => validateScenario({ ...chaos(ALL_TYPES), nemesis: undefined, faults: first }, "n.json")).to.not.throw();
    expect(new Set(first.map((f) => f.type)).size).to.be.greaterThan(3);
  });

  it("fires its plan in the run, records each resolved fault in the trace, and runs deterministically", () => {
    const spec = chaos({ types: ["crash", "pause", "partition"] });
    const a = run(spec);
    const b = run(spec);
    expect(a.result.stats.traceHash).to.equal(b.result.stats.traceHash);
    expect(run(spec, 2).result.stats.traceHash).to.not.equal(a.result.stats.traceHash);
    const planned = plan(spec, 1);
    const fired = nemesisFaults(a.events);
    const skipped = a.events.filter((e) => e.kind === "fault-skipped" && e.nemesis === true);
    expect(fired.length + skipped.length).to.equal(planned.length);
    expect(fired.length).to.be.greaterThan(0);
    // Read back from the trace: the planned times and types, with node names in place of role selectors.
    for (const fault of fired) {
      const twin = planned.find((p) => p.at === fault.at)!;
      expect(fault.type).to.equal(twin.type);
      const node = fault.type === "partition" ? (fault.groups as string[][])[0][0] : fault.node;
      expect(node).to.be.a("string").and.match(/^(broker|zk)-\d$/);
    }
    // Each fired nemesis fault went through the ordinary injector: one `fault` event right after it.
    const faultEvents = a.events.filter((e) => e.kind === "fault");
    expect(faultEvents.length).to.equal(fired.length);
    expect(a.result.stats.faults).to.equal(fired.length);
  });

  it("leaves the fixed fault list's random draws alone", () => {
    const faults = [{ at: ["3s", "9s"], type: "pause", node: { random: "broker" }, for: "1s" }];
    const fixedOnly = run({ ...chaos({}), nemesis: undefined, faults });
    const withNemesis = run({ ...chaos({ types: ["delay"] }), faults });
    const pause = (events: TraceEvent[]) => events.find((e) => e.kind === "fault" && e.type === "pause")!;
    expect(pause(withNemesis.events).t).to.equal(pause(fixedOnly.events).t);
    expect(pause(withNemesis.events).nodes).to.deep.equal(pause(fixedOnly.events).nodes);
  });

  it("keeps at most maxConcurrent faults in progress", () => {
    for (const maxConcurrent of [1, 2, 3]) {
      const planned = plan(chaos({ ...ALL_TYPES, intervalMs: [100, 1500], durationMs: [1000, 6000], maxConcurrent }), 5);
      let peak = 0;
      for (const fault of planned) {
        const at = fault.at as number;
        const overlapping = planned.filter((other) => (other.at as number) <= at && at < (other.at as number) + ((other as { for?: number }).for ?? 0));
        peak = Math.max(peak, overlapping.length);
      }
      expect(peak, `maxConcurrent ${maxConcurrent}`).to.equal(maxConcurrent);
    }
  });

  it("respects startAt and stopAt", () => {
    const planned = plan(chaos({ intervalMs: [200, 500], maxConcurrent: 10, startAt: "10s", stopAt: "20s" }), 3);
    expect(planned.length).to.be.greaterThan(5);
    for (const fault of planned) expect(fault.at as number).to.be.within(10_000, 19_999);
  });

  /** The most ZooKeeper servers and brokers that were out of service at once, replayed from the trace. */
  function peakDown(events: TraceEvent[]): { zk: number; brokers: number } {
    const down = new Set<string>();
    const isolatedUntil = new Map<string, number>();
    const peak = { zk: 0, brokers: 0 };
    for (const event of events) {
      if (/^host-(crash|power-loss|pause|shutdown)$/.test(event.kind)) down.add(event.node);
      if (event.kind === "host-start" || event.kind === "host-resume") down.delete(event.node);
      if (event.kind === "settle") break;
      if (event.kind === "nemesis-fault") {
        const fault = event.fault as Record<string, unknown>;
        if (fault.type === "partition") isolatedUntil.set((fault.groups as string[][])[0][0], event.t + (fault.for as number) * 1000);
      }
      const out = (prefix: string) =>
        [1, 2, 3].filter((i) => down.has(`${prefix}-${i}`) || (isolatedUntil.get(`${prefix}-${i}`) ?? 0) > event.t).length;
      peak.zk = Math.max(peak.zk, out("zk"));
      peak.brokers = Math.max(peak.brokers, out("broker"));
    }
    return peak;
  }

  it("with minority: true never takes down a majority of ZooKeeper or of the replicas at once", () => {
    const nemesis = { types: ["crash", "power-loss", "pause", "partition"], targets: "all", intervalMs: [100, 800], durationMs: [2000, 5000], maxConcurrent: 4 };
    const unsafe = run(chaos(nemesis));
    const safe = run(chaos({ ...nemesis, minority: true }));
    // Without the rule the same schedule does take majorities down (so this test can fail) …
    const unsafePeak = peakDown(unsafe.events);
    expect(Math.max(unsafePeak.zk, unsafePeak.brokers)).to.be.greaterThan(1);
    // … with it, at most one of three is ever out of service, and skipped faults say why.
    expect(peakDown(safe.events)).to.deep.equal({ zk: 1, brokers: 1 });
    const reasons = safe.events.filter((e) => e.kind === "fault-skipped" && e.nemesis === true).map((e) => String(e.reason));
    expect(reasons.some((reason) => reason.startsWith("minority"))).to.equal(true);
  });

  it("rejects bad nemesis settings with one-line errors naming the path", () => {
    expect(loadError(chaos({ intervalMs: [5000, 1000] }))).to.equal("n.json: $.nemesis.intervalMs: expected [min, max] milliseconds with min <= max");
    expect(loadError(chaos({ intervalMs: [0, 1000] }))).to.match(/^n\.json: \$\.nemesis\.intervalMs\[0\]: /);
    expect(loadError(chaos({ types: ["crash", "explode"] }))).to.match(/^n\.json: \$\.nemesis\.types\[1\]: .*"crash"/);
    expect(loadError(chaos({ types: [] }))).to.match(/^n\.json: \$\.nemesis\.types: /);
    expect(loadError(chaos({ maxConcurrent: 0 }))).to.match(/^n\.json: \$\.nemesis\.maxConcurrent: /);
    expect(loadError(chaos({ targets: "clients" }))).to.match(/^n\.json: \$\.nemesis\.targets: /);
    expect(loadError(chaos({ every: "2s" }))).to.equal("n.json: $.nemesis.every: unknown key (not part of the scenario format)");
    for (const message of [loadError(chaos({ intervalMs: "often" })), loadError(chaos({ minority: "yes" }))]) expect(message).to.not.contain("\n");
  });

  it("names a target group the cluster does not have, and an inverted window", () => {
    // The loader turns each problem into its one-line error.
    expect(() => validateScenario({ name: "d", duration: "5s", cluster: { demo: { nodes: 3 } }, nemesis: {} }, "d.json")).to.throw(
      ScenarioError,
      'd.json: $.nemesis.targets: expected a target group with nodes in this cluster, found "brokers" (no such nodes)',
    );
    const demoAll = validateScenario({ name: "d", duration: "5s", cluster: { demo: { nodes: 3 } }, nemesis: { targets: "all" } }, "d.json");
    expect(nemesisProblem(demoAll)).to.equal(null);
    expect(() => validateScenario(chaos({ startAt: "9s", stopAt: "3s" }), "n.json")).to.throw(ScenarioError, "n.json: $.nemesis.stopAt: expected stopAt at or after startAt");
    expect(nemesisProblem(validateScenario(chaos({}), "n.json"))).to.equal(null);
  });
});

describe("nemesis: consumer groups", () => {
  const withGroup = (nemesis: Spec): Spec =>
    chaos(nemesis, {
      cluster: { zookeeper: { servers: 3 }, brokers: 3, config: { "zookeeper.session.timeout.ms": 6000, "replica.lag.time.max.ms": 5000, "offsets.topic.num.partitions": 3 } },
      clients: [
        { id: "p1", type: "producer", config: { acks: "all" }, workload: { topic: "t", messages: 600, ratePerSec: 40, startAt: "1s" } },
        { id: "c1", type: "consumer", group: "g1", topics: ["t"], config: { "session.timeout.ms": 6000 } },
        { id: "c2", type: "consumer", group: "g1", topics: ["t"], config: { "session.timeout.ms": 6000 } },
        { id: "c3", type: "consumer", topics: ["t"] },
      ],
    });

  it('"consumers" aims at group consumers and their coordinator only, and is refused without a group', () => {
    const planned = plan(withGroup({ types: ["crash", "pause", "partition"], targets: "consumers", intervalMs: [500, 1000] }), 3);
    expect(planned.length).to.be.greaterThan(5);
    const targets = planned.map((fault) => JSON.stringify(fault.type === "partition" ? (fault.groups as unknown[][])[0][0] : (fault as { node: unknown }).node));
    expect(new Set(targets)).to.deep.equal(new Set(['"c1"', '"c2"', '{"coordinatorOf":"g1"}']));
    expect(loadError(chaos({ types: ["crash"], targets: "consumers" }))).to.match(/\$\.nemesis\.targets: expected a target group with nodes/);
  });

  it("resolves {coordinatorOf} to the broker leading the group's __consumer_offsets partition when the fault fires", () => {
    const { events } = run(withGroup({ types: ["crash"], targets: "consumers", intervalMs: [8000, 9000], durationMs: [2000, 3000] }));
    const fired = nemesisFaults(events);
    expect(fired.length).to.be.greaterThan(0);
    for (const fault of fired) expect(String(fault.node)).to.match(/^(c1|c2|broker-[123])$/);
    const coordinatorCrash = fired.find((fault) => String(fault.node).startsWith("broker-"));
    expect(coordinatorCrash, "this seed crashes the coordinator").to.not.equal(undefined);
    // The crashed broker led g1's partition at that moment: a group-state for g1 was last traced on it.
    const at = events.find((e) => e.kind === "nemesis-fault" && e.fault === coordinatorCrash)!.t;
    const last = events.filter((e) => e.kind === "group-state" && e.group === "g1" && e.t <= at).at(-1);
    expect(last?.node).to.equal(coordinatorCrash!.node);
  });
});
