import { expect } from "chai";
import { TransactionCheckers } from "../../src/check/transactions.ts";
import type { Violation } from "../../src/check/violation.ts";
import { Script } from "./events.ts";

const TID = "tx-1";
const PID = 7;

type Outcome = "ok" | "fail" | "info";

/** A transactions script: the `txn` ops, read_committed polls and broker events of tx-contract.md. */
class TxnScript extends Script {
  txn(process: string, opId: number, type: "invoke" | Outcome, values: string[], options: { result?: "commit" | "abort"; epoch?: number; offsets?: number[]; pid?: number } = {}): this {
    return this.at(1000, process, "op", {
      process,
      type,
      f: "txn",
      opId,
      transactionalId: TID,
      producerId: options.pid ?? PID,
      producerEpoch: options.epoch ?? 0,
      ...(options.result === undefined ? {} : { result: options.result }),
      sends: values.map((value, i) => ({ topic: "t", partition: 0, value, offset: options.offsets?.[i] ?? -1 })),
      ...(type === "fail" || type === "info" ? { error: "REQUEST_TIMED_OUT" } : {}),
    });
  }

  /** A poll of t-0 returning `values` at `offsets`; read_committed unless `uncommitted`. */
  poll(process: string, offsets: number[], values: string[], uncommitted = false): this {
    return this.at(1000, process, "op", {
      process,
      type: "ok",
      f: "poll",
      topic: "t",
      partition: 0,
      offsets,
      values,
      ...(uncommitted ? {} : { isolationLevel: "read_committed" }),
    });
  }

  state(state: string, epoch: number, pid = PID): this {
    return this.at(1000, "broker-1", "txn-state", { transactionalId: TID, state, previousState: "", producerId: pid, producerEpoch: epoch, partitions: ["t-0"], coordinatorEpoch: 0, partition: 3 });
  }

  marker(result: "COMMIT" | "ABORT", offset: number, epoch = 0): this {
    return this.at(1000, "broker-2", "txn-marker-written", { topic: "t", partition: 0, producerId: PID, producerEpoch: epoch, result, offset, coordinatorEpoch: 0 });
  }

  lso(lastStableOffset: number, highWatermark: number, dtUs = 1000): this {
    return this.at(dtUs, "broker-2", "txn-lso", { topicPartition: "t-0", lastStableOffset, highWatermark });
  }
}

function run(script: Script, checkers = new TransactionCheckers()): Violation[] {
  const online: Violation[] = [];
  for (const event of script.events) {
    const found = checkers.observe(event);
    if (found !== null) online.push(found);
  }
  return [...online, ...checkers.check(script.now)];
}

function named(violations: Violation[], name: string): Violation[] {
  return violations.filter((v) => v.name === name);
}

describe("transaction checkers", () => {
  describe("one value sent by two transactions (a processor's aborted try and the committed retry)", () => {
    /** x1 (pid 7) aborted "v>out" unacknowledged; x3 (pid 9) committed it; the leader appended it at 5 under `writer`. */
    function retried(writer: number): Violation[] {
      const s = new TxnScript()
        .txn("x1", 1, "invoke", ["v>out"])
        .txn("x1", 1, "ok", ["v>out"], { result: "abort" })
        .txn("x3", 1, "invoke", ["v>out"], { pid: 9 })
        .at(1000, "broker-2", "log-append", { topicPartition: "t-0", baseOffset: 5, lastOffset: 5, asLeader: true, offsets: [5], values: ["v>out"], isTransactional: true, producerId: writer, producerEpoch: 0 })
        .txn("x3", 1, "ok", ["v>out"], { result: "commit", pid: 9, offsets: [5] })
        .poll("v1", [5], ["v>out"]);
      return run(s);
    }

    it("judges the record by the producer id the leader appended it with: the committed copy is no aborted read", () => {
      expect(retried(9)).to.deep.equal([]);
    });

    it("still flags the aborted transaction's own copy", () => {
      expect(named(retried(7), "aborted-read")).to.have.length(1);
    });
  });

  describe("aborted-read", () => {
    it("flags a read_committed poll of an aborted transaction's records", () => {
      const s = new TxnScript().txn("p1", 1, "invoke", ["p1-000000", "p1-000001"]).txn("p1", 1, "ok", ["p1-000000", "p1-000001"], { result: "abort" }).poll("c1", [0, 1], ["p1-000000", "p1-000001"]);
      const found = named(run(s), "aborted-read");
      expect(found).to.have.length(1);
      expect(found[0].nodes).to.deep.equal(["c1", "p1"]);
      expect(found[0].evidence).to.deep.include({ consumer: "c1", count: 2, fate: "aborted" });
      expect((found[0].evidence.transaction as Record<string, unknown>).result).to.equal("abort");
    });

    it("flags a failed transaction's record", () => {
      const s = new TxnScript().txn("p1", 1, "invoke", ["p1-000000"]).txn("p1", 1, "fail", ["p1-000000"]).poll("c1", [0], ["p1-000000"]);
      expect(named(run(s), "aborted-read")).to.have.length(1);
    });

    it("flags a record of a transaction still open at the end of the run (no outcome, no marker)", () => {
      const s = new TxnScript().txn("p1", 1, "invoke", ["p1-000000"]).poll("c1", [0], ["p1-000000"]);
      const found = named(run(s), "aborted-read");
      expect(found).to.have.length(1);
      expect(found[0].evidence.fate).to.equal("open");
    });

    it("flags a crashed producer's transaction that the coordinator aborted (ABORT marker)", () => {
      const s = new TxnScript().txn("p1", 1, "invoke", ["p1-000000"]).host("p1", "host-crash").marker("ABORT", 1).poll("c1", [0], ["p1-000000"]);
      const found = named(run(s), "aborted-read");
      expect(found).to.have.length(1);
      expect(found[0].evidence.fate).to.equal("aborted");
    });

    it("does not flag an info (unknown) outcome", () => {
      const s = new TxnScript().txn("p1", 1, "invoke", ["p1-000000"]).txn("p1", 1, "info", ["p1-000000"]).poll("c1", [0], ["p1-000000"]);
      expect(run(s)).to.deep.equal([]);
    });

    it("does not flag a committed transaction", () => {
      const s = new TxnScript().txn("p1", 1, "invoke", ["p1-000000"]).txn("p1", 1, "ok", ["p1-000000"], { result: "commit", offsets: [0] }).poll("c1", [0], ["p1-000000"]);
      expect(run(s)).to.deep.equal([]);
    });

    it("does not flag a transaction without outcome that its COMMIT marker ended (the producer crashed after EndTxn)", () => {
      const s = new TxnScript().txn("p1", 1, "invoke", ["p1-000000"]).host("p1", "host-crash").marker("COMMIT", 1).poll("c1", [0], ["p1-000000"]);
      expect(run(s)).to.deep.equal([]);
    });

    it("does not flag a read_uncommitted consumer reading an aborted transaction", () => {
      const s = new TxnScript().txn("p1", 1, "invoke", ["p1-000000"]).txn("p1", 1, "ok", ["p1-000000"], { result: "abort" }).poll("c1", [0], ["p1-000000"], true);
      expect(run(s)).to.deep.equal([]);
    });

    it("does not flag a value an aborted transaction sent but a committed one wrote at the offset read", () => {
      const s = new TxnScript()
        .txn("p1", 1, "invoke", ["p1-000000"])
        .txn("p1", 1, "ok", ["p1-000000"], { result: "abort" })
        .txn("p1", 2, "invoke", ["p1-000000"])
        .txn("p1", 2, "ok", ["p1-000000"], { result: "commit", offsets: [2] })
        .poll("c1", [2], ["p1-000000"]);
      expect(run(s)).to.deep.equal([]);
    });

    it("names a transaction by its host's incarnation: opId 1 after a restart is another transaction", () => {
      const s = new TxnScript()
        .txn("p1", 1, "invoke", ["p1-000000"])
        .txn("p1", 1, "ok", ["p1-000000"], { result: "commit", offsets: [0] })
        .host("p1", "host-crash")
        .host("p1", "host-start")
        .txn("p1", 1, "invoke", ["p1-000001"], { epoch: 1 })
        .txn("p1", 1, "ok", ["p1-000001"], { result: "abort", epoch: 1 })
        .poll("c1", [0, 1], ["p1-000000", "p1-000001"]);
      const found = named(run(s), "aborted-read");
      expect(found).to.have.length(1);
      expect(found[0].evidence.records).to.deep.equal([{ topicPartition: "t-0", offset: 1, value: "p1-000001", readAt: s.now }]);
    });
  });

  describe("zombie-write", () => {
    /** p1 (epoch 0) begins a transaction; a new instance p1b gets epoch 1 from the coordinator, fencing it. */
    function fenced(): TxnScript {
      return new TxnScript().state("Ongoing", 0).txn("p1", 1, "invoke", ["p1-000000"]).state("PrepareEpochFence", 0).state("PrepareAbort", 1).state("CompleteAbort", 1);
    }

    it("flags a fenced epoch's record visible to read_committed", () => {
      const s = fenced().poll("c1", [0], ["p1-000000"]);
      const found = named(run(s), "zombie-write");
      expect(found).to.have.length(1);
      expect(found[0].evidence.fencedBy).to.deep.include({ state: "PrepareAbort", producerId: PID, producerEpoch: 1, coordinator: "broker-1" });
      expect((found[0].evidence.transaction as Record<string, unknown>).producerEpoch).to.equal(0);
    });

    it("does not flag it when no read_committed consumer saw it (the zombie was aborted; a read_uncommitted consumer may)", () => {
      const s = fenced().txn("p1", 1, "fail", ["p1-000000"]).poll("c1", [0], ["p1-000000"], true);
      expect(run(s)).to.deep.equal([]);
    });

    it("does not flag a transaction a new coordinator completed (its PrepareCommit written by a coordinator that failed before tracing it)", () => {
      const s = new TxnScript()
        .state("Ongoing", 0)
        .txn("p1", 1, "invoke", ["p1-000000"])
        .state("CompleteCommit", 0)
        .txn("p1", 1, "ok", ["p1-000000"], { result: "commit", offsets: [0] })
        .state("PrepareAbort", 1)
        .state("CompleteAbort", 1)
        .poll("c1", [0], ["p1-000000"]);
      expect(run(s)).to.deep.equal([]);
    });

    it("does not flag a transaction committed before the new epoch (the producer came back later)", () => {
      const s = new TxnScript()
        .state("Ongoing", 0)
        .txn("p1", 1, "invoke", ["p1-000000"])
        .state("PrepareCommit", 0)
        .state("CompleteCommit", 0)
        .txn("p1", 1, "ok", ["p1-000000"], { result: "commit", offsets: [0] })
        .host("p1", "host-crash")
        .host("p1", "host-start")
        .state("Empty", 1)
        .poll("c1", [0], ["p1-000000"]);
      expect(run(s)).to.deep.equal([]);
    });

    it("does not flag a commit under KIP-890's per-transaction epoch bump (PrepareCommit at the next epoch)", () => {
      const s = new TxnScript()
        .state("Ongoing", 0)
        .txn("p1", 1, "invoke", ["p1-000000"])
        .state("PrepareCommit", 1)
        .state("CompleteCommit", 1)
        .txn("p1", 1, "ok", ["p1-000000"], { result: "commit", offsets: [0] })
        .state("Ongoing", 1)
        .poll("c1", [0], ["p1-000000"]);
      expect(run(s)).to.deep.equal([]);
    });
  });

  describe("hanging-transaction", () => {
    const MAX_MS = 60_000;
    const BOUND_US = (MAX_MS + 10_000) * 1000;

    /** p1's transaction wrote offset 5 of t-0 and holds the LSO there. */
    function held(outcome: "none" | "crash" | Outcome): TxnScript {
      const s = new TxnScript().txn("p1", 1, "invoke", ["p1-000005"]).at(1000, "p1", "op", { process: "p1", type: "ok", f: "send", opId: 2, txnOpId: 1, transactionalId: TID, producerId: PID, producerEpoch: 0, value: "p1-000005", topic: "t", partition: 0, offset: 5 }).lso(5, 6);
      if (outcome === "crash") s.host("p1", "host-crash");
      else if (outcome !== "none") s.txn("p1", 1, outcome, ["p1-000005"], { result: "commit", offsets: [5] });
      return s;
    }

    it("flags an LSO stuck past the bound after the producer's host went down", () => {
      const s = held("crash").at(BOUND_US + 1, "broker-2", "tick");
      const found = named(run(s, new TransactionCheckers(MAX_MS)), "hanging-transaction");
      expect(found).to.have.length(1);
      expect(found[0].nodes).to.deep.equal(["broker-2", "p1"]);
      expect(found[0].evidence).to.deep.include({ topicPartition: "t-0", lastStableOffset: 5, highWatermark: 6, transactionMaxTimeoutMs: MAX_MS });
      expect((found[0].evidence.holder as Record<string, unknown>).process).to.equal("p1");
    });

    it("flags it online when the LSO finally moves, once", () => {
      const s = held("ok").lso(7, 7, BOUND_US + 1);
      const checkers = new TransactionCheckers(MAX_MS);
      const online = s.events.map((event) => checkers.observe(event)).filter((v) => v !== null);
      expect(online).to.have.length(1);
      expect(checkers.check(s.now)).to.deep.equal([]);
    });

    it("counts a holder the history does not know (a late write) as gone from the start", () => {
      const s = new TxnScript().lso(3, 4).at(BOUND_US + 1, "broker-2", "tick");
      const found = named(run(s, new TransactionCheckers(MAX_MS)), "hanging-transaction");
      expect(found).to.have.length(1);
      expect(found[0].evidence.holder).to.equal(null);
    });

    it("starts stuck when the HW passes an unchanged LSO (hwm event)", () => {
      const s = new TxnScript().lso(3, 3).at(1000, "broker-2", "hwm", { topicPartition: "t-0", highWatermark: 4, previous: 3, leaderEpoch: 0, role: "leader" }).at(BOUND_US + 1, "broker-2", "tick");
      expect(named(run(s, new TransactionCheckers(MAX_MS)), "hanging-transaction")).to.have.length(1);
      const notStuck = new TxnScript().lso(3, 3).at(BOUND_US + 1, "broker-2", "tick");
      expect(run(notStuck, new TransactionCheckers(MAX_MS))).to.deep.equal([]);
    });

    it("does not flag it within the bound", () => {
      const s = held("crash").at(BOUND_US - 10_000, "broker-2", "tick");
      expect(run(s, new TransactionCheckers(MAX_MS))).to.deep.equal([]);
    });

    it("does not flag a producer that is up with the transaction still going", () => {
      const s = held("none").at(BOUND_US + 1, "broker-2", "tick");
      expect(run(s, new TransactionCheckers(MAX_MS))).to.deep.equal([]);
    });

    it("does not flag a producer that comes back and aborts (the LSO moves within the bound)", () => {
      const s = held("crash").host("p1", "host-start").txn("p1", 1, "invoke", [], { epoch: 1 }).marker("ABORT", 6, 1).lso(7, 7).at(BOUND_US + 1, "broker-2", "tick");
      expect(run(s, new TransactionCheckers(MAX_MS))).to.deep.equal([]);
    });

    it("uses Kafka's default transaction.max.timeout.ms (900000) without a setting", () => {
      const s = held("crash").at(BOUND_US + 1, "broker-2", "tick");
      expect(run(s)).to.deep.equal([]);
    });
  });

  it("stores nothing and reports nothing for a run without transactions", () => {
    const s = new Script().op("p1", "invoke", 1, "p1-000000", 0).op("p1", "ok", 1, "p1-000000", 0, 0).hwm("broker-1", "t-0", 1, 0).at(1000, "c1", "op", { process: "c1", type: "ok", f: "poll", topic: "t", partition: 0, offsets: [0], values: ["p1-000000"] });
    const checkers = new TransactionCheckers();
    expect(run(s, checkers)).to.deep.equal([]);
    expect(checkers.active).to.equal(false);
    expect(checkers.history.transactions.size).to.equal(0);
    expect(checkers.history.reads).to.have.length(0);
  });
});
