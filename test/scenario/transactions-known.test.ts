/**
 * The transaction scenarios of scenarios/ (docs/scenarios.md "Known failures", docs/transactions.md "Tour of the
 * transaction scenarios"), swept over a few seeds: each meets its expectation, and what its description claims
 * happens in the trace — the coordinator's timeout abort and the fenced producer, the new coordinator re-sending
 * a PrepareCommit transaction's markers after a failover, write cycles (G0) between two producers' committed
 * transactions, a zombie producer fenced by its successor with none of its fenced records read as committed.
 */

import { expect } from "chai";
import type { TraceEvent } from "../../src/sim/trace.ts";
import { kinds, ops, run, scenarioFile, S, type Run, type Spec } from "./helpers.ts";

const SEEDS = [1, 2]; // the library test runs every scenario at seeds 1–5 against its expectation

const memo = new Map<string, Run>();
function runAt(name: string, seed: number): Run {
  const key = `${name}@${seed}`;
  let entry = memo.get(key);
  if (entry === undefined) memo.set(key, (entry = run(scenarioFile(name), seed)));
  return entry;
}

function expectationMet(r: Run, what: string): void {
  expect(r.result.expectationProblems.join("; "), what).to.equal("");
}

interface Send {
  topic: string;
  partition: number;
  value: string;
  offset: number;
}

function committedTxns(events: TraceEvent[], process?: string): TraceEvent[] {
  return ops(events, "ok", (e) => e.f === "txn" && e.result === "commit" && (process === undefined || e.process === process));
}

function valuesRead(events: TraceEvent[], process: string): Set<string> {
  return new Set(ops(events, "ok", (e) => e.f === "poll" && e.process === process).flatMap((e) => e.values as string[]));
}

function lastProducerTxnState(events: TraceEvent[], process: string): TraceEvent {
  const states = kinds(events, "producer-txn-state", (e) => e.node === process);
  return states[states.length - 1];
}

describe("transaction scenarios (scenarios/transactions-*.json)", function () {
  this.timeout(120_000);

  for (const seed of SEEDS) {
    describe(`seed ${seed}`, () => {
      it("transactions-tour: read_committed reads exactly the committed records; read_uncommitted the aborted ones too", () => {
        const r = runAt("transactions-tour", seed);
        expectationMet(r, "transactions-tour");
        const committed = committedTxns(r.events).flatMap((e) => (e.sends as Send[]).map((s) => s.value));
        const aborted = ops(r.events, "ok", (e) => e.f === "txn" && e.result === "abort").flatMap((e) => (e.sends as Send[]).map((s) => s.value));
        expect(aborted.length).to.be.greaterThan(0);
        expect([...valuesRead(r.events, "c-committed")].sort()).to.deep.equal([...committed].sort());
        const uncommitted = valuesRead(r.events, "c-uncommitted");
        for (const value of aborted) expect(uncommitted.has(value), value).to.equal(true);
        expect(kinds(r.events, "txn-marker-written", (e) => e.result === "ABORT").length).to.be.greaterThan(0);
      });

      it("transactions-timeout-abort: the coordinator aborts the paused transaction; p1 is fenced and closes", () => {
        const r = runAt("transactions-timeout-abort", seed);
        expectationMet(r, "transactions-timeout-abort");
        const abort = kinds(r.events, "txn-timeout-abort");
        expect(abort).to.have.length(1);
        expect(abort[0].producerEpoch).to.equal(1);
        expect(abort[0].t).to.be.within(8 * S, 28 * S);
        expect(lastProducerTxnState(r.events, "p1").state).to.equal("FATAL_ERROR");
        expect(lastProducerTxnState(r.events, "p1").error).to.equal("PRODUCER_FENCED");
        expect(kinds(r.events, "producer-closed", (e) => e.node === "p1")).to.have.length(1);
        // The transaction p1 was in when it froze ended without committing (fail, or info: a commit was under way).
        const last = ops(r.events, "invoke", (e) => e.f === "txn").at(-1)!;
        const end = kinds(r.events, "op", (e) => e.f === "txn" && e.opId === last.opId && e.type !== "invoke");
        expect(end).to.have.length(1);
        expect(end[0].type).to.be.oneOf(["fail", "info"]);
        const read = valuesRead(r.events, "c-committed");
        const committed = new Set(committedTxns(r.events).flatMap((e) => (e.sends as Send[]).map((s) => s.value)));
        expect([...read].filter((v) => !committed.has(v))).to.deep.equal([]);
      });

      it("transactions-coordinator-failover: the new coordinator loads the PrepareCommit transaction and re-sends its markers", () => {
        const r = runAt("transactions-coordinator-failover", seed);
        expectationMet(r, "transactions-coordinator-failover");
        const crash = kinds(r.events, "host-crash")[0];
        const old = crash.node;
        // The crash came between PrepareCommit and CompleteCommit on the old coordinator.
        const before = kinds(r.events, "txn-state", (e) => e.node === old && e.transactionalId === "tx-1" && e.seq < crash.seq);
        expect(before.at(-1)!.state).to.equal("PrepareCommit");
        const loaded = kinds(r.events, "txn-coordinator-loaded", (e) => e.node !== old && e.t > crash.t && (e.pendingCompletion as number) >= 1);
        expect(loaded).to.have.length(1);
        const coordinator = loaded[0].node;
        const resent = kinds(r.events, "txn-markers-sent", (e) => e.node === coordinator && e.seq > loaded[0].seq && e.coordinatorEpoch === loaded[0].coordinatorEpoch);
        expect(resent.length).to.be.greaterThan(0);
        expect(resent[0].t).to.equal(loaded[0].t);
        expect(resent[0].result).to.equal("COMMIT");
        // Every partition of the transaction gets its COMMIT marker from the new coordinator's epoch.
        const partitions = new Set((before.at(-1)!.partitions as string[]) ?? []);
        const written = new Set(
          kinds(r.events, "txn-marker-written", (e) => e.coordinatorEpoch === loaded[0].coordinatorEpoch && e.result === "COMMIT").map((e) => `${String(e.topic)}-${String(e.partition)}`),
        );
        for (const tp of partitions) expect(written.has(tp), tp).to.equal(true);
        // The commit completes soon after the load (a marker to the crashed broker is refused at once, not after request.timeout.ms).
        const complete = kinds(r.events, "txn-state", (e) => e.node === coordinator && e.state === "CompleteCommit" && e.seq > loaded[0].seq)[0];
        expect(complete.t - loaded[0].t, "CompleteCommit after the load").to.be.below(5 * S);
        // Nothing lost: every committed record read once.
        const committed = committedTxns(r.events).flatMap((e) => (e.sends as Send[]).map((s) => s.value));
        expect(committed).to.have.length(60);
        expect([...valuesRead(r.events, "c-committed")].sort()).to.deep.equal([...committed].sort());
      });

      it("transactions-g0-write-cycle: some pairs of committed transactions are ordered differently in x-0 and y-0 (G0), and that is no violation", () => {
        const r = runAt("transactions-g0-write-cycle", seed);
        expectationMet(r, "transactions-g0-write-cycle");
        const first = (e: TraceEvent) => {
          const at: Record<string, number> = {};
          for (const s of e.sends as Send[]) at[`${s.topic}-${s.partition}`] = Math.min(at[`${s.topic}-${s.partition}`] ?? Infinity, s.offset);
          return at;
        };
        const p1 = committedTxns(r.events, "p1").map(first);
        const p2 = committedTxns(r.events, "p2").map(first);
        expect(p1).to.have.length(50);
        expect(p2).to.have.length(50);
        let cycles = 0;
        for (const a of p1) for (const b of p2) if (a["x-0"] < b["x-0"] !== a["y-0"] < b["y-0"]) cycles++;
        expect(cycles, "G0 pairs").to.be.at.least(5);
        expect(valuesRead(r.events, "c-committed").size).to.equal(200);
      });

      it("transactions-zombie-fenced: p1 ends fenced and no committed read holds a record of its fenced transaction", () => {
        const r = runAt("transactions-zombie-fenced", seed);
        expectationMet(r, "transactions-zombie-fenced");
        expect(r.result.violations.map((v) => v.name)).to.not.include("zombie-write");
        const p1 = lastProducerTxnState(r.events, "p1");
        expect([p1.state, p1.error]).to.deep.equal(["FATAL_ERROR", "PRODUCER_FENCED"]);
        // p2's epoch is above every epoch p1 wrote with.
        const p2Epochs = committedTxns(r.events, "p2").map((e) => e.producerEpoch as number);
        expect(p2Epochs.length).to.equal(20);
        expect(Math.min(...p2Epochs)).to.be.greaterThan(0);
        const fenced = ops(r.events, "fail", (e) => e.f === "txn" && e.process === "p1");
        expect(fenced).to.have.length(1);
        const read = valuesRead(r.events, "c-committed");
        for (const s of fenced[0].sends as Send[]) expect(read.has(s.value), s.value).to.equal(false);
      });
    });
  }

  it("a commit waits for a send still blocked on its topic's metadata (the record is in the transaction it was sent in)", () => {
    // Found with an early G0 variant: p2's first record to y waited for y's metadata, the commit did not, and the
    // record landed in p2's next transaction while its first txn op listed it with partition -1, offset -1.
    const spec = scenarioFile("transactions-g0-write-cycle") as Spec & { topics: Spec[]; clients: { workload: Spec }[] };
    spec.faults = [];
    for (const topic of spec.topics) delete topic.assignment;
    spec.clients[0].workload = { ...spec.clients[0].workload, ratePerSec: 10 };
    spec.clients[1].workload = { ...spec.clients[1].workload, topics: ["y", "x"], ratePerSec: 9 };
    const r = run(spec, 3);
    const sends = committedTxns(r.events).flatMap((e) => e.sends as Send[]);
    expect(sends.length).to.equal(200);
    expect(sends.filter((s) => s.offset < 0 || s.partition < 0)).to.deep.equal([]);
  });
});
