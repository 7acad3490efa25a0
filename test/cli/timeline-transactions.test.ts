/** Transactions in `kafkasim run`'s key events and `kafkasim timeline`: which events show, and their one-line labels. */

import { expect } from "chai";
import { KeyEventSink } from "../../src/cli/run-command.ts";
import { describeTransactionEvent } from "../../src/cli/timeline-transactions.ts";
import type { TraceEvent } from "../../src/sim/trace.ts";

const at = (kind: string, fields: Record<string, unknown>, node = "broker-1"): TraceEvent => ({ t: 1_000_000, seq: 1, node, kind, ...fields });

describe("transaction key events", () => {
  it("labels the ending transitions, timeouts, coordinator moves, refused verifications and fatal producers", () => {
    const prepare = describeTransactionEvent(at("txn-state", { transactionalId: "tx-1", state: "PrepareCommit", previousState: "Ongoing", producerId: 0, producerEpoch: 0, partitions: ["a-0", "b-1"] }));
    expect(prepare).to.deep.equal({ glyph: "✓", label: "tx-1 PrepareCommit pid 0/0 (a-0,b-1)" });
    expect(describeTransactionEvent(at("txn-state", { transactionalId: "tx-1", state: "PrepareEpochFence", producerId: 0, producerEpoch: 1, partitions: [] }))!.label).to.equal("tx-1 PrepareEpochFence pid 0/1");
    expect(describeTransactionEvent(at("txn-timeout-abort", { transactionalId: "tx-1", producerId: 3, producerEpoch: 1 }))!.label).to.equal("tx-1 timed out: the coordinator aborts it (pid 3/1)");
    expect(describeTransactionEvent(at("txn-coordinator-loaded", { partition: 0, coordinatorEpoch: 1, transactionalIds: 1, pendingCompletion: 1 }))!.label).to.equal(
      "coordinator loaded __transaction_state-0 (epoch 1): 1 ids, 1 to complete",
    );
    expect(describeTransactionEvent(at("txn-verification", { topic: "t", partition: 0, transactionalId: "tx-1", result: "INVALID_TXN_STATE" }))!.label).to.equal(
      "verification refused t-0 for tx-1: INVALID_TXN_STATE",
    );
    expect(describeTransactionEvent(at("producer-txn-state", { transactionalId: "tx-1", state: "FATAL_ERROR", error: "PRODUCER_FENCED" }, "p1"))!.label).to.equal("tx-1 producer fatal: PRODUCER_FENCED");
  });

  it("leaves routine events to the trace: Ongoing and Complete transitions, verified appends, other producer states", () => {
    expect(describeTransactionEvent(at("txn-state", { transactionalId: "tx-1", state: "Ongoing" }))).to.equal(null);
    expect(describeTransactionEvent(at("txn-state", { transactionalId: "tx-1", state: "CompleteCommit" }))).to.equal(null);
    expect(describeTransactionEvent(at("txn-verification", { result: "verified" }))).to.equal(null);
    expect(describeTransactionEvent(at("producer-txn-state", { state: "READY" }, "p1"))).to.equal(null);
  });

  it("the run summary keeps the transaction key events, counted apart from the cluster's, and skips routine ones", () => {
    const sink = new KeyEventSink();
    for (let i = 0; i < 100; i++) sink.write(JSON.stringify(at("broker-registered", { brokerEpoch: i })));
    sink.write(JSON.stringify(at("txn-state", { transactionalId: "tx-1", state: "Ongoing" })));
    sink.write(JSON.stringify(at("txn-timeout-abort", { transactionalId: "tx-1", producerId: 0, producerEpoch: 1 })));
    expect(sink.events.map((e) => e.kind).filter((k) => k.startsWith("txn"))).to.deep.equal(["txn-timeout-abort"]);
    expect(sink.seen).to.equal(101);
  });
});
