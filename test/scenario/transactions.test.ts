/**
 * Transactions end to end in a scenario: a transactional producer spanning two topics, with every third
 * transaction aborted on purpose, and two consumers — read_committed and read_uncommitted — reading both topics.
 * The read_committed consumer returns every committed record once and no aborted one; the read_uncommitted one
 * returns the aborted records too (so the filter is what keeps them out); lost-write counts only committed
 * transactions' sends.
 */

import { expect } from "chai";
import type { TraceEvent } from "../../src/sim/trace.ts";
import { partitionForGroup } from "../../src/protocol/group.ts";
import { kinds, ops, run, runOnce, violationNames, type Spec } from "./helpers.ts";

const spec = (): Spec => ({
  name: "transactions-e2e",
  duration: "20s",
  settle: "10s",
  cluster: {
    zookeeper: { servers: 1 },
    brokers: 3,
    config: { "transaction.state.log.num.partitions": 3, "offsets.topic.num.partitions": 3 },
  },
  topics: [
    { name: "a", partitions: 2, replicationFactor: 3, config: { "min.insync.replicas": 2 } },
    { name: "b", partitions: 2, replicationFactor: 3, config: { "min.insync.replicas": 2 } },
  ],
  clients: [
    {
      id: "p1",
      type: "producer",
      config: { acks: "all", "transactional.id": "tx-1" },
      workload: { topics: ["a", "b"], messages: 120, ratePerSec: 60, startAt: "1s", keys: 8, transaction: { records: 8, abortEvery: 3 } },
    },
    { id: "rc", type: "consumer", topics: ["a", "b"], config: { "isolation.level": "read_committed" } },
    { id: "ru", type: "consumer", topics: ["a", "b"] },
  ],
  faults: [],
});

function valuesRead(events: TraceEvent[], process: string): string[] {
  return ops(events, "ok", (e) => e.f === "poll" && e.process === process).flatMap((e) => e.values as string[]);
}

describe("transactions in a scenario", () => {
  const r = () => runOnce("e2e", spec);

  it("runs every transaction to its planned outcome, spanning both topics", () => {
    const { events } = r();
    const ended = ops(events, "ok", (e) => e.f === "txn");
    expect(ended.length).to.equal(15);
    expect(ended.filter((e) => e.result === "abort").map((e) => e.opId)).to.deep.equal([2, 5, 8, 11, 14]);
    for (const txn of ended) {
      const topics = new Set((txn.sends as { topic: string }[]).map((s) => s.topic));
      expect([...topics].sort()).to.deep.equal(["a", "b"]);
    }
    expect(kinds(events, "txn-marker-written").length).to.be.at.least(30);
  });

  it("read_committed returns each committed record once and no aborted one; read_uncommitted returns the aborted ones too", () => {
    const { events } = r();
    const ended = ops(events, "ok", (e) => e.f === "txn");
    const committed = ended.filter((e) => e.result === "commit").flatMap((e) => (e.sends as { value: string }[]).map((s) => s.value));
    const aborted = ended.filter((e) => e.result === "abort").flatMap((e) => (e.sends as { value: string }[]).map((s) => s.value));
    const rc = valuesRead(events, "rc");
    expect([...rc].sort()).to.deep.equal([...committed].sort());
    const ru = new Set(valuesRead(events, "ru"));
    expect(aborted.every((value) => ru.has(value))).to.equal(true);
    expect(ops(events, "ok", (e) => e.f === "poll" && e.process === "rc").every((e) => e.isolationLevel === "read_committed")).to.equal(true);
    expect(ops(events, "ok", (e) => e.f === "poll" && e.process === "ru").some((e) => e.isolationLevel !== undefined)).to.equal(false);
  });

  it("finds no violation (aborted transactions' sends are not lost writes)", () => {
    expect(violationNames(r())).to.deep.equal([]);
  });
});

describe("the transactionCoordinatorOf selector", () => {
  it("crashes the broker leading the transactional id's __transaction_state partition; the transactions go on after failover", () => {
    const { events } = run({ ...spec(), duration: "45s", faults: [{ at: "3s", type: "crash", node: { transactionCoordinatorOf: "tx-1" }, for: "5s" }] });
    const partition = partitionForGroup("tx-1", 3);
    const loaded = kinds(events, "txn-coordinator-loaded", (e) => e.partition === partition);
    const fault = kinds(events, "fault", (e) => e.type === "crash")[0];
    expect(fault.nodes).to.deep.equal([loaded[0].node]);
    expect(loaded.length).to.be.at.least(2);
    expect(loaded[1].node).to.not.equal(loaded[0].node);
    expect(ops(events, "ok", (e) => e.f === "txn").length).to.equal(15);
  });

  it("is refused at load for an id no producer has", () => {
    expect(() => run({ ...spec(), faults: [{ at: "3s", type: "crash", node: { transactionCoordinatorOf: "tx-9" } }] })).to.throw(
      /\$\.faults\[0\]\.node\.transactionCoordinatorOf: expected a transactional\.id of the scenario's producers \(tx-1\), found "tx-9"/,
    );
  });
});

describe("transaction.timeout.ms above the brokers' transaction.max.timeout.ms", () => {
  it("is answered INVALID_TRANSACTION_TIMEOUT by the coordinator: initTransactions fails (fatal) and the producer closes", () => {
    const base = spec();
    const clients = (base.clients as Spec[]).map((c) => (c.id === "p1" ? { ...c, config: { ...(c.config as Spec), "transaction.timeout.ms": 1_000_000 } } : c));
    const { events } = run({ ...base, clients });
    const states = kinds(events, "producer-txn-state", (e) => e.node === "p1");
    expect(states.map((e) => e.state)).to.deep.equal(["INITIALIZING", "FATAL_ERROR"]);
    expect(states[1].error).to.equal("INVALID_TRANSACTION_TIMEOUT");
    expect(ops(events, "invoke", (e) => e.f === "txn")).to.deep.equal([]);
    expect(kinds(events, "producer-closed", (e) => e.node === "p1")).to.have.length(1);
  });
});
