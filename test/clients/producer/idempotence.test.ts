import { expect } from "chai";
import { FakeCluster, PRODUCER_ID } from "./fake-cluster.ts";
import { plan, runDriver } from "./harness.ts";

describe("KafkaProducer: idempotence", () => {
  it("asks InitProducerId first, then stamps every batch with the producer id, epoch 0 and per-partition sequences", () => {
    const cluster = new FakeCluster(2, [1]);
    const { events } = runDriver(cluster, { "batch.size": 200, "linger.ms": 5 }, plan(40, 0.5, (i) => `key-${i % 2}`));
    const firstProduce = events.find((e) => e.kind === "send" && e.type === "Produce")!;
    const init = events.find((e) => e.kind === "send" && e.type === "InitProducerId")!;
    expect(init.t).to.be.lessThan(firstProduce.t);
    expect(cluster.initProducerIdRequests).to.equal(1);
    for (const partition of [0, 1]) {
      const batches = cluster.produces.flatMap((p) => p.batches).filter((b) => b.partition === partition);
      expect(batches.length).to.be.greaterThan(1);
      let next = 0;
      for (const batch of batches) {
        expect([batch.producerId, batch.producerEpoch, batch.baseSequence]).to.deep.equal([PRODUCER_ID, 0, next]);
        next += batch.values.length;
      }
      expect(cluster.log(partition)).to.have.length(next);
    }
  });

  it("retries a timed-out batch with the same sequence: the broker deduplicates it", () => {
    const cluster = new FakeCluster(1);
    cluster.behaviour = (_b, _p, _batch, attempt) => (attempt === 0 ? "silent" : "normal"); // appended, response lost
    const { driver } = runDriver(cluster, { "request.timeout.ms": 500 }, plan(1, 1));
    const sent = cluster.produces.map((p) => p.batches[0]);
    expect(sent.map((b) => [b.values[0], b.producerEpoch, b.baseSequence])).to.deep.equal([
      ["v000", 0, 0],
      ["v000", 0, 0],
    ]);
    expect(cluster.log(0)).to.deep.equal(["v000"]);
    expect(driver.results[0].result).to.deep.equal({ partition: 0, offset: 0, attempts: 2 });
  });

  it("keeps order across a retry with max.in.flight 5: later batches are rejected out of sequence and retried after", () => {
    const cluster = new FakeCluster(1);
    cluster.behaviour = (_b, _p, batch, attempt) => (batch.records[0].value === "v001" && attempt === 0 ? { error: "NOT_ENOUGH_REPLICAS", append: false } : "normal");
    // v000 first, alone (a broker accepts any first sequence from a producer it does not know yet).
    const records = [{ atMs: 10, key: null, value: "v000" }, ...plan(3, 0.1, () => null, 20).slice(1)];
    const { driver, events } = runDriver(cluster, {}, records);
    expect(cluster.log(0)).to.deep.equal(["v000", "v001", "v002"]);
    expect(events.filter((e) => e.kind === "producer-retry").map((e) => e.error)).to.include("OUT_OF_ORDER_SEQUENCE_NUMBER");
    expect(events.filter((e) => e.kind === "producer-epoch-bump")).to.have.length(0);
    const offsets = [...driver.results].sort((a, b) => a.value.localeCompare(b.value)).map((r) => ("offset" in r.result ? r.result.offset : null));
    expect(offsets).to.deep.equal([0, 1, 2]);
  });

  it("on UNKNOWN_PRODUCER_ID bumps the epoch locally (KIP-360) and resends from sequence 0", () => {
    const cluster = new FakeCluster(1);
    cluster.sequenceChecks = false;
    let lost = false;
    cluster.behaviour = (_b, _p, batch) => {
      if (batch.records[0].value === "v002" && !lost) {
        lost = true;
        return { error: "UNKNOWN_PRODUCER_ID", append: false, logStartOffset: 0 };
      }
      return "normal";
    };
    const { driver, events } = runDriver(cluster, {}, plan(4, 5));
    const sent = cluster.produces.map((p) => [p.batches[0].values[0], p.batches[0].producerEpoch, p.batches[0].baseSequence]);
    expect(sent).to.deep.equal([
      ["v000", 0, 0],
      ["v001", 0, 1],
      ["v002", 0, 2],
      ["v002", 1, 0],
      ["v003", 1, 1],
    ]);
    expect(events.filter((e) => e.kind === "producer-epoch-bump").map((e) => [e.producerId, e.producerEpoch])).to.deep.equal([[PRODUCER_ID, 1]]);
    expect(cluster.initProducerIdRequests).to.equal(1); // no new InitProducerId: the idempotent producer bumps locally
    expect(driver.results.every((r) => "offset" in r.result)).to.equal(true);
  });

  it("refuses max.in.flight > 5 when enable.idempotence is set explicitly", () => {
    const cluster = new FakeCluster(1);
    expect(() => runDriver(cluster, { "enable.idempotence": true, "max.in.flight.requests.per.connection": 6 }, plan(1, 1))).to.throw(/at most 5/);
  });
});
