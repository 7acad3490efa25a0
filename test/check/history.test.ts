import { expect } from "chai";
import { LostWriteChecker } from "../../src/check/history.ts";
import { ReplicationCheckers } from "../../src/check/replication.ts";
import type { Violation } from "../../src/check/violation.ts";
import { Script } from "./events.ts";

const TP = "t-0";
const B1 = "broker-1";
const B2 = "broker-2";

function lostWrites(script: Script): Violation[] {
  const replication = new ReplicationCheckers();
  const history = new LostWriteChecker();
  for (const event of script.events) {
    replication.observe(event);
    history.observe(event);
  }
  return history.check((tp) => replication.committedLog(tp), script.now);
}

/** p1 writes v0 and v1 (ok at offsets 0, 1) to broker-1, replicated to broker-2, HW 2. */
function acked(): Script {
  return new Script()
    .leader(B1, TP, 1, [1, 2], 0, 0)
    .follower(B2, TP, 1, 1, 0, 0)
    .op("p1", "invoke", 0, "v0", 0)
    .append(B1, TP, 0, 1, ["v0"], true)
    .op("p1", "invoke", 1, "v1", 0)
    .append(B1, TP, 1, 1, ["v1"], true)
    .append(B2, TP, 0, 1, ["v0", "v1"])
    .hwm(B1, TP, 2, 1)
    .op("p1", "ok", 0, "v0", 0, 0)
    .op("p1", "ok", 1, "v1", 0, 1);
}

/** broker-1 leads t-0 alone; p1's transaction 7 wrote v0 and v1 (acknowledged), then ended with `outcome`; the leader then lost them. */
function transactionLost(outcome: { type: string; result: string } | null): Violation[] {
  const script = new Script().leader(B1, TP, 1, [1], 0, 0);
  for (const [opId, value] of [[0, "v0"], [1, "v1"]] as const) {
    script.append(B1, TP, opId, 1, [value], true);
    script.at(1000, "p1", "op", { process: "p1", type: "ok", f: "send", opId, value, key: null, topic: "t", partition: 0, offset: opId, txnOpId: 7 });
  }
  script.hwm(B1, TP, 2, 1);
  if (outcome !== null) script.at(1000, "p1", "op", { process: "p1", f: "txn", opId: 7, ...outcome, sends: [] });
  // An unclean election: broker-2, with an empty log, leads and writes w0 and w1 where v0 and v1 were.
  script.host(B1, "host-crash").leader(B2, TP, 2, [2], 0, 0).append(B2, TP, 0, 2, ["w0", "w1"], true).hwm(B2, TP, 2, 2);
  return lostWrites(script);
}

describe("lost-write checker: transactional sends", () => {
  it("counts a transaction's acknowledged sends once its txn op ends ok with result commit", () => {
    expect(transactionLost({ type: "ok", result: "commit" }).map((v) => v.evidence.value)).to.deep.equal(["v0", "v1"]);
  });

  it("ignores the sends of an aborted, failed, unknown or unfinished transaction", () => {
    expect(transactionLost({ type: "ok", result: "abort" })).to.deep.equal([]);
    expect(transactionLost({ type: "fail", result: "abort" })).to.deep.equal([]);
    expect(transactionLost({ type: "info", result: "commit" })).to.deep.equal([]);
    expect(transactionLost(null)).to.deep.equal([]);
  });
});

describe("lost-write checker", () => {
  it("finds nothing when every acknowledged value is committed", () => {
    expect(lostWrites(acked())).to.deep.equal([]);
  });

  it("reports an acknowledged value the new leader's committed log lacks, with its evidence", () => {
    // broker-2 truncates to a stale HW (1), is elected, and writes w1 where v1 was.
    const script = acked()
      .truncate(B2, TP, 1)
      .host(B1, "host-crash")
      .leader(B2, TP, 2, [2], 1, 1)
      .append(B2, TP, 1, 2, ["w1"], true)
      .hwm(B2, TP, 2, 2);
    const found = lostWrites(script);
    expect(found).to.have.length(1);
    expect(found[0]).to.deep.include({ name: "lost-write", time: script.now, nodes: ["p1", B2] });
    expect(found[0].evidence).to.deep.include({
      value: "v1",
      process: "p1",
      opId: 1,
      topicPartition: TP,
      ackedOffset: 1,
      committedSource: "leader",
      highWatermark: 2,
      recordNow: [{ offset: 1, value: "w1", partitionLeaderEpoch: 2 }],
    });
    expect(found[0].evidence.ackedAt).to.be.a("number");
  });

  it("never reports a failed write that appears, nor an info write that is absent", () => {
    const script = acked()
      .op("p1", "invoke", 2, "v2", 0)
      .append(B1, TP, 2, 1, ["v2"], true)
      .append(B2, TP, 2, 1, ["v2"])
      .hwm(B1, TP, 3, 1)
      .op("p1", "fail", 2, "v2", 0)
      .op("p1", "invoke", 3, "v3", 0)
      .op("p1", "info", 3, "v3", 0);
    expect(lostWrites(script)).to.deep.equal([]);
  });

  it("does not count a record above the leader's HW as committed", () => {
    const script = acked().append(B1, TP, 2, 1, ["v2"], true).op("p1", "ok", 2, "v2", 0, 2);
    const found = lostWrites(script);
    expect(found.map((v) => v.evidence.value)).to.deep.equal(["v2"]);
  });

  it("without a leader, reads the union of the replicas' records below the last committed offset", () => {
    const script = acked().host(B1, "host-crash").host(B2, "host-crash");
    expect(lostWrites(script)).to.deep.equal([]);
    // One replica lost v1 in a power loss: the other still holds it, so it is not (yet) lost.
    const partial = acked()
      .host(B1, "host-power-loss")
      .host(B1, "host-start")
      .at(1000, B1, "log-recovery", { topicPartition: TP, logEndOffset: 1, logStartOffset: 0 })
      .host(B2, "host-crash");
    expect(lostWrites(partial)).to.deep.equal([]);
    const both = partial.host(B2, "host-power-loss").host(B2, "host-start").at(1000, B2, "log-recovery", { topicPartition: TP, logEndOffset: 1, logStartOffset: 0 });
    const found = lostWrites(both);
    expect(found.map((v) => v.evidence.value)).to.deep.equal(["v1"]);
    expect(found[0].evidence).to.include({ committedSource: "replicas", highWatermark: 2 });
  });

  it("skips a write acknowledged below the leader's log start (deleted by retention)", () => {
    const script = acked().at(1000, B1, "log-retention-delete", { topicPartition: TP, reason: "time", baseOffsets: [0], bytes: 1, logStartOffset: 1 });
    expect(lostWrites(script)).to.deep.equal([]);
  });
});
