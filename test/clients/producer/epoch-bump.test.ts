/**
 * When the idempotent producer bumps its epoch locally (KIP-360), and what happens to the batches in flight —
 * checked against Kafka 3.6's TransactionManager (canRetry, handleFailedBatch, markSequenceUnresolved,
 * maybeResolveSequences, bumpIdempotentProducerEpoch) and TxnPartitionEntry.startSequencesAtBeginning:
 * - a batch that expires (delivery.timeout.ms) after being sent fails to the user, is never resent, and the
 *   epoch is bumped only once nothing is in flight for the partition (unresolved sequences);
 * - an OUT_OF_ORDER_SEQUENCE_NUMBER on the batch right after the last acknowledged one is taken for a gap in the
 *   log: the bump is applied at the next Sender step, with batches still in flight, whose sequences are
 *   rewritten from 0 under the new epoch. When that batch was in fact written but is older than the broker's
 *   five cached batches of the producer (ProducerStateEntry), it is written a second time — Kafka's own
 *   duplicate, reachable after a leader change (scenarios/idempotent-epoch-bump-duplicates.json).
 */

import { expect } from "chai";
import { FakeCluster, PRODUCER_ID } from "./fake-cluster.ts";
import { plan, runDriver } from "./harness.ts";
import { ms } from "../../../src/sim/time.ts";
import { kinds, run, scenarioFile, violationNames } from "../../scenario/helpers.ts";

/** [first value, producer epoch, base sequence] of every batch the brokers received, in order. */
function sends(cluster: FakeCluster): [string | null, number, number][] {
  return cluster.produces.flatMap((p) => p.batches.map((b): [string | null, number, number] => [b.values[0], b.producerEpoch, b.baseSequence]));
}

describe("KafkaProducer: idempotent epoch bumps (KIP-360)", () => {
  it("fails a batch that expired after being sent and never resends it; later batches use the bumped epoch", () => {
    const cluster = new FakeCluster(1, [1]);
    cluster.behaviour = (_b, _p, batch) => (batch.records[0].value === "v000" ? "silent" : "normal"); // appended, never answered
    const config = { "request.timeout.ms": 1000, "delivery.timeout.ms": 1500, "linger.ms": 0 };
    const { driver, events } = runDriver(cluster, config, [
      { atMs: 10, key: null, value: "v000" },
      { atMs: 1600, key: null, value: "v001" },
    ]);
    expect(driver.results[0]).to.deep.include({ value: "v000", result: { partition: 0, error: "DELIVERY_TIMEOUT", maybeAppended: true, attempts: 2 } });
    // Its sequence is unresolved (it may be in the log): with nothing left in flight and the last ack not right
    // before the next sequence, the producer bumps (maybeResolveSequences) — v000 is not part of the new epoch.
    expect(sends(cluster)).to.deep.equal([
      ["v000", 0, 0],
      ["v000", 0, 0],
      ["v001", 1, 0],
    ]);
    const bump = events.find((e) => e.kind === "producer-epoch-bump")!;
    expect([bump.producerId, bump.producerEpoch]).to.deep.equal([PRODUCER_ID, 1]);
    expect(bump.t).to.be.at.least(events.find((e) => e.kind === "producer-expire")!.t);
    expect(cluster.log(0)).to.deep.equal(["v000", "v001"]);
    expect(driver.results[1]).to.deep.include({ value: "v001", result: { partition: 0, offset: 1, attempts: 1 } });
  });

  it("holds new batches while an expired batch's sequence is unresolved and batches are in flight, then resolves without a bump", () => {
    const cluster = new FakeCluster(1, [1]);
    // v000 is appended and never answered; v001's first attempt is appended and not answered, its retry is.
    cluster.behaviour = (_b, _p, batch, attempt) => {
      const value = batch.records[0].value;
      return value === "v000" || (value === "v001" && attempt === 0) ? "silent" : "normal";
    };
    const config = { "request.timeout.ms": 1000, "delivery.timeout.ms": 1500, "linger.ms": 0 };
    const { driver, events } = runDriver(cluster, config, [
      { atMs: 10, key: null, value: "v000" },
      { atMs: 1200, key: null, value: "v001" },
      { atMs: 1600, key: null, value: "v002" },
    ]);
    const expiredAt = events.find((e) => e.kind === "producer-expire")!.t;
    const v001Acked = driver.results.find((r) => r.value === "v001")!;
    const v002Sent = cluster.produces.find((p) => p.batches[0].values[0] === "v002")!;
    // v002 waited (RecordAccumulator.shouldStopDrainBatchesForPartition: hasUnresolvedSequence) until v001, sent
    // after v000, was acknowledged: the last ack then precedes the next sequence, so nothing is bumped.
    expect(expiredAt).to.be.lessThan(ms(1600));
    expect(v002Sent.t).to.be.at.least(v001Acked.doneAt);
    expect(sends(cluster)).to.deep.equal([
      ["v000", 0, 0],
      ["v000", 0, 0],
      ["v001", 0, 1],
      ["v001", 0, 1],
      ["v002", 0, 2],
    ]);
    expect(events.filter((e) => e.kind === "producer-epoch-bump")).to.have.length(0);
    expect(cluster.log(0)).to.deep.equal(["v000", "v001", "v002"]);
    expect(driver.results.map((r) => [r.value, "offset" in r.result ? r.result.offset : r.result.error])).to.deep.equal([
      ["v000", "DELIVERY_TIMEOUT"],
      ["v001", 1],
      ["v002", 2],
    ]);
  });

  it("does not bump on OUT_OF_ORDER_SEQUENCE_NUMBER for a batch that is not the next sequence: it waits for the earlier one", () => {
    const cluster = new FakeCluster(1, [1]);
    // v001's first attempt is lost before the append; v002 behind it meets a gap and is retried in order.
    cluster.behaviour = (_b, _p, batch, attempt) => (batch.records[0].value === "v001" && attempt === 0 ? { error: "NOT_ENOUGH_REPLICAS", append: false } : "normal");
    const { events } = runDriver(cluster, {}, [{ atMs: 10, key: null, value: "v000" }, ...plan(3, 0.1, () => null, 20).slice(1)]);
    expect(events.some((e) => e.kind === "producer-retry" && e.error === "OUT_OF_ORDER_SEQUENCE_NUMBER")).to.equal(true);
    expect(events.filter((e) => e.kind === "producer-epoch-bump")).to.have.length(0);
    expect(cluster.log(0)).to.deep.equal(["v000", "v001", "v002"]);
  });

  it("as Kafka: a written batch older than the broker's five cached batches is taken for a gap, the epoch bumped, and it is written twice", () => {
    const cluster = new FakeCluster(1, [1, 2]);
    cluster.leaders = [1];
    cluster.behaviour = (broker, _p, batch, attempt) => {
      const value = batch.records[0].value;
      if (broker === 1 && value === "v000") {
        // The old leader appends v000 and hands leadership to broker-2 before its response goes out.
        cluster.moveLeader(0, 2);
        return "silent";
      }
      // The new leader appends the next five batches but cannot acknowledge them yet (acks=all, HW stuck).
      if (broker === 2 && value !== "v000" && attempt === 0 && batch.producerEpoch === 0) return "silent";
      return "normal";
    };
    const config = { "request.timeout.ms": 1000, "delivery.timeout.ms": 30_000, "linger.ms": 0, "metadata.max.age.ms": 50 };
    const { driver, events } = runDriver(cluster, config, plan(6, 100));
    // v000 is still in flight to broker-1 when v001…v005 go to broker-2 (in flight is per connection).
    expect(sends(cluster).slice(0, 6)).to.deep.equal([
      ["v000", 0, 0],
      ["v001", 0, 1],
      ["v002", 0, 2],
      ["v003", 0, 3],
      ["v004", 0, 4],
      ["v005", 0, 5],
    ]);
    // v000's retry reaches broker-2, which holds it but no longer among the producer's last five batches.
    const outOfOrder = events.find((e) => e.kind === "producer-retry" && e.error === "OUT_OF_ORDER_SEQUENCE_NUMBER")!;
    expect([outOfOrder.baseSequence, outOfOrder.producerEpoch]).to.deep.equal([0, 0]);
    // lastAckedSequence is -1 and v000 has sequence 0: "the next sequence", so a gap → epoch bump, every batch
    // in flight rewritten from sequence 0 (TxnPartitionEntry.startSequencesAtBeginning) and sent again.
    expect(events.filter((e) => e.kind === "producer-epoch-bump").map((e) => e.producerEpoch)).to.deep.equal([1]);
    expect(sends(cluster).filter(([, epoch]) => epoch === 1)).to.deep.equal([
      ["v000", 1, 0],
      ["v001", 1, 1],
      ["v002", 1, 2],
      ["v003", 1, 3],
      ["v004", 1, 4],
      ["v005", 1, 5],
    ]);
    expect(cluster.log(0)).to.deep.equal(["v000", "v001", "v002", "v003", "v004", "v005", "v000", "v001", "v002", "v003", "v004", "v005"]);
    // Every record is acknowledged, at its second offset: the first copies are duplicates nobody was told about.
    const offsets = [...driver.results].sort((a, b) => a.value.localeCompare(b.value)).map((r) => ("offset" in r.result ? r.result.offset : null));
    expect(offsets).to.deep.equal([6, 7, 8, 9, 10, 11]);
  });
});

describe("scenarios/idempotent-epoch-bump-duplicates (Kafka's own duplicate after a leader change)", function () {
  this.timeout(120_000);
  const spec = scenarioFile("idempotent-epoch-bump-duplicates");

  it("shows duplicate-write and nothing else at seeds 1..5", () => {
    for (let seed = 1; seed <= 5; seed++) {
      const r = run(spec, seed);
      expect(violationNames(r), `seed ${seed}`).to.deep.equal(["duplicate-write"]);
      expect(r.result.expectationProblems, `seed ${seed}`).to.deep.equal([]);
    }
  });

  it("duplicates exactly the batches rewritten by the bump that followed OUT_OF_ORDER_SEQUENCE_NUMBER on the next sequence", () => {
    const r = run(spec, 1);
    const outOfOrder = kinds(r.events, "producer-retry", (e) => e.error === "OUT_OF_ORDER_SEQUENCE_NUMBER");
    const bumps = kinds(r.events, "producer-epoch-bump");
    expect(bumps.map((e) => e.producerEpoch)).to.deep.equal([1]);
    expect(outOfOrder.map((e) => [e.producerEpoch, e.t])).to.deep.equal([[0, bumps[0].t]]);
    // The out-of-order batch was the oldest unanswered one: every duplicated value starts there, was first
    // appended before the bump and acknowledged after it, at its second offset.
    const duplicates = r.result.violations.filter((v) => v.name === "duplicate-write");
    expect(duplicates.length).to.be.greaterThan(5);
    for (const violation of duplicates) {
      const evidence = violation.evidence as { value: string; offsets: number[]; ops: { type: string; time: number; offset?: number }[] };
      const ok = evidence.ops.find((op) => op.type === "ok")!;
      expect(ok.time, evidence.value).to.be.greaterThan(bumps[0].t);
      expect(ok.offset, evidence.value).to.equal(evidence.offsets[1]);
    }
    const firstDuplicate = Math.min(...duplicates.map((v) => Number((v.evidence as { value: string }).value.slice(3))));
    expect(firstDuplicate).to.equal(outOfOrder[0].baseSequence);
  });
});
