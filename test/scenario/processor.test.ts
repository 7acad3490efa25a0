/**
 * The exactly-once processor (consume-transform-produce) in scenarios: its output holds each input record below
 * the group's committed offset exactly once under exactly_once_v2, even with a zombie instance; at_least_once
 * with the same zombie duplicates records, which the exactly-once check reports as duplicate-write. Also the
 * loader's rules for processors.
 */

import { expect } from "chai";
import { ScenarioError, validateScenario } from "../../src/scenario/load.ts";
import type { TraceEvent } from "../../src/sim/trace.ts";
import { ops, run, runOnce, violationNames, type Spec } from "./helpers.ts";

type Guarantee = "exactly_once_v2" | "at_least_once";

function spec(guarantee: Guarantee, zombie: boolean): Spec {
  const processor = (id: string) => ({
    id,
    type: "processor",
    group: "eos",
    input: "in",
    output: "out",
    config: { "processing.guarantee": guarantee, "session.timeout.ms": 6000, "heartbeat.interval.ms": 2000 },
    workload: { processMs: 50, startAt: "2s" },
  });
  return {
    name: `processor-${guarantee}`,
    duration: "45s",
    settle: "15s",
    cluster: { zookeeper: { servers: 1 }, brokers: 3, config: { "transaction.state.log.num.partitions": 3, "offsets.topic.num.partitions": 3 } },
    topics: [
      { name: "in", partitions: 2, replicationFactor: 3, config: { "min.insync.replicas": 2 } },
      { name: "out", partitions: 2, replicationFactor: 3, config: { "min.insync.replicas": 2 } },
    ],
    clients: [
      { id: "p1", type: "producer", config: { acks: "all" }, workload: { topic: "in", messages: 300, ratePerSec: 30, startAt: "1s", keys: 10 } },
      processor("x1"),
      processor("x2"),
      { id: "v1", type: "consumer", topics: ["out"], config: { "isolation.level": "read_committed" } },
    ],
    faults: zombie ? [{ at: "15s", type: "pause", node: "x1", for: "15s" }] : [],
  };
}

function outputsRead(events: TraceEvent[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const poll of ops(events, "ok", (e) => e.f === "poll" && e.process === "v1")) {
    for (const value of poll.values as string[]) counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  return counts;
}

describe("the exactly-once processor", () => {
  it("writes each input record's derived value exactly once, in transactions that commit the input offsets", () => {
    const { events } = runOnce("eos", () => spec("exactly_once_v2", false));
    const inputs = ops(events, "ok", (e) => e.f === "send" && e.process === "p1").map((e) => e.value as string);
    const counts = outputsRead(events);
    expect(inputs.length).to.equal(300);
    expect(inputs.every((value) => counts.get(`${value}>out`) === 1)).to.equal(true);
    const txns = ops(events, "ok", (e) => e.f === "txn");
    expect(txns.length).to.be.greaterThan(4);
    expect(txns.every((e) => (e.offsets as { group: string }).group === "eos")).to.equal(true);
  });

  it("fences a zombie instance under exactly_once_v2 (no duplicate, no violation)", () => {
    const r = runOnce("eos-zombie", () => spec("exactly_once_v2", true));
    expect(violationNames(r)).to.deep.equal([]);
    expect([...outputsRead(r.events).values()].every((n) => n === 1)).to.equal(true);
    // The zombie's transaction failed: its TxnOffsetCommit carried a generation the group had left behind.
    expect(ops(r.events, "fail", (e) => e.f === "txn" && e.process === "x1").length).to.be.at.least(1);
  });

  it("duplicates the zombie's records under at_least_once, reported as duplicate-write", () => {
    const r = runOnce("alo-zombie", () => spec("at_least_once", true));
    expect(violationNames(r)).to.include("duplicate-write");
    expect([...outputsRead(r.events).values()].some((n) => n > 1)).to.equal(true);
  });

  it("finds nothing wrong under at_least_once without a zombie", () => {
    expect(violationNames(run(spec("at_least_once", false)))).to.deep.equal([]);
  });
});

describe("scenario loading: processors", () => {
  function errorOf(value: unknown): string {
    try {
      validateScenario(value, "p.json");
    } catch (error) {
      expect(error).to.be.instanceOf(ScenarioError);
      return (error as Error).message;
    }
    throw new Error("expected a ScenarioError");
  }
  const withProcessor = (changes: Record<string, unknown>, version?: string): Spec => {
    const s = spec("exactly_once_v2", false);
    const clients = (s.clients as Record<string, unknown>[]).map((c) => (c.id === "x1" ? { ...c, ...changes } : c));
    const cluster = version === undefined ? s.cluster : { ...(s.cluster as Spec), version };
    return { ...s, clients, cluster };
  };

  it("refuses a processor without input or output, naming the key", () => {
    expect(errorOf(withProcessor({ input: undefined }))).to.equal('p.json: $.clients[1].input: expected "input": the topic the processor reads');
    expect(errorOf(withProcessor({ output: undefined }))).to.equal('p.json: $.clients[1].output: expected "output": the topic the processor writes');
  });

  it("refuses an unknown topic and an output equal to the input", () => {
    expect(errorOf(withProcessor({ output: "zz" }))).to.equal('p.json: $.clients[1].output: expected a topic of the scenario (in, out), found "zz"');
    expect(errorOf(withProcessor({ output: "in" }))).to.equal('p.json: $.clients[1].output: expected an output topic other than the input ("in")');
  });

  it("refuses a transactional.id with at_least_once, and exactly_once_v2 before 3.3 (the name came with 3.0)", () => {
    expect(errorOf(withProcessor({ config: { "processing.guarantee": "at_least_once", "transactional.id": "t" } }))).to.match(/\["transactional\.id"\]: expected no transactional\.id/);
    expect(errorOf(withProcessor({}, "2.7"))).to.match(/\["processing\.guarantee"\]: expected cluster\.version "3\.3" or later for exactly_once_v2/);
    expect(() => validateScenario(withProcessor({}, "3.3"), "p.json")).to.not.throw();
  });
});
