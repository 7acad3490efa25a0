import { expect } from "chai";
import { partitionForKey } from "../../../src/clients/partitioner.ts";
import { estimateSizeInBytesUpperBound } from "../../../src/clients/producer/batch.ts";
import { ms } from "../../../src/sim/time.ts";
import { FakeCluster } from "./fake-cluster.ts";
import { runDriver, runWorkload, type PlannedRecord } from "./harness.ts";

const NO_IDEMPOTENCE = { "enable.idempotence": false } as const;
const BATCH_SIZE = 16_384;
const BUFFER_MEMORY = 65_536;
/** A value of 4,000 bytes: four records fill a 16,384-byte batch, so every batch holds at most four. */
const BIG = "x".repeat(4000);

/** `count` records of BIG values every `everyMs` from 10 ms, values distinguished by their first bytes. */
function bigPlan(count: number, everyMs: number, key: (i: number) => string | null = () => null): PlannedRecord[] {
  return Array.from({ length: count }, (_, i) => ({ atMs: 10 + i * everyMs, key: key(i), value: `v${String(i).padStart(3, "0")}${BIG}` }));
}

const label = (value: string | null) => value?.slice(0, 4) ?? null;

describe("KafkaProducer: buffer.memory (BufferPool)", () => {
  it("keeps the accumulator within buffer.memory against a slow cluster; records beyond it fail after max.block.ms", () => {
    const cluster = new FakeCluster(1);
    cluster.responseDelayMs = 1000;
    const { driver } = runDriver(
      cluster,
      { ...NO_IDEMPOTENCE, "batch.size": BATCH_SIZE, "buffer.memory": BUFFER_MEMORY, "max.block.ms": 500, "max.in.flight.requests.per.connection": 1 },
      bigPlan(100, 1),
    );
    const available = driver.bufferAvailableAfterSend;
    expect(Math.min(...available), "never more than buffer.memory in batches").to.be.at.least(0);
    expect(Math.min(...available), "the buffer did fill").to.equal(0);
    expect(driver.producer.bufferAvailableBytes, "every byte is given back").to.equal(BUFFER_MEMORY);
    const failed = driver.results.filter((r) => "error" in r.result);
    expect(failed.length).to.be.greaterThan(0);
    for (const r of failed) {
      expect(r.result).to.deep.equal({ partition: -1, error: "BUFFER_EXHAUSTED", maybeAppended: false, attempts: 0 });
      expect(r.doneAt - r.sentAt, "failed after max.block.ms").to.equal(ms(500));
    }
    // What got memory is in the log, in send order, and nothing else.
    const ok = driver.results.filter((r) => "offset" in r.result).map((r) => r.value);
    expect(cluster.log(0)).to.deep.equal(ok);
    expect(ok.length + failed.length).to.equal(100);
  });

  it("memory freed by completed batches unblocks the waiting records in send order", () => {
    const cluster = new FakeCluster(1);
    cluster.responseDelayMs = 100;
    const records = bigPlan(40, 1);
    const { driver } = runDriver(cluster, { ...NO_IDEMPOTENCE, "batch.size": BATCH_SIZE, "buffer.memory": BUFFER_MEMORY }, records);
    expect(driver.results.every((r) => "offset" in r.result)).to.equal(true);
    expect(cluster.log(0).map(label)).to.deep.equal(records.map((r) => label(r.value)));
    // Four batches (at most 16 records) fit; send() returned -1 for the records that had to wait.
    const blocked = driver.partitions.findIndex((p) => p === -1);
    expect(blocked).to.be.within(4, 16);
    expect(driver.partitions.slice(0, blocked).every((p) => p === 0)).to.equal(true);
    // The first record that waited left only when the first batch completed (a response after 100 ms).
    const firstDone = Math.min(...driver.results.map((r) => r.doneAt));
    const carrying = cluster.produces.find((p) => p.batches.some((b) => b.values.map(label).includes(label(records[blocked].value))))!;
    expect(carrying.t).to.be.at.least(firstDone);
  });

  it("a waiting record that needs a large batch holds up smaller ones behind it (FIFO, as BufferPool's waiters)", () => {
    const cluster = new FakeCluster(1);
    cluster.responseDelayMs = 100;
    const huge = `big${"y".repeat(30_000)}`;
    const records: PlannedRecord[] = [...bigPlan(16, 0.1), { atMs: 12, key: null, value: huge }, { atMs: 13, key: null, value: "small" }];
    const { driver } = runDriver(cluster, { ...NO_IDEMPOTENCE, "batch.size": BATCH_SIZE, "buffer.memory": BUFFER_MEMORY }, records);
    const order = cluster.log(0).map(label);
    expect(order.indexOf("big")).to.be.lessThan(order.indexOf("smal"));
    expect(driver.results.every((r) => "offset" in r.result)).to.equal(true);
    // The large record's batch took its own size, not batch.size: it needed two batches' worth freed.
    expect(estimateSizeInBytesUpperBound(null, huge)).to.be.greaterThan(BATCH_SIZE);
  });

  it("while a record waits for memory every batch is sendable (ready's exhausted), without waiting for linger.ms", () => {
    const cluster = new FakeCluster(3, [1]);
    const keys = ["a", "b", "c", "d", "e", "f", "g", "h"];
    const byPartition = [0, 1, 2].map((p) => keys.find((k) => partitionForKey(k, 3) === p)!);
    const records: PlannedRecord[] = byPartition.map((key, i) => ({ atMs: 10 + i, key, value: `v${i}` }));
    const { driver } = runDriver(
      cluster,
      { ...NO_IDEMPOTENCE, "batch.size": 1000, "buffer.memory": 2000, "linger.ms": 10_000 },
      records,
      { closeAtMs: 60_000 },
    );
    // The third record waits for memory at 12 ms: the two lingering batches go at once, free it, and it follows.
    expect(cluster.produces[0].t).to.equal(ms(12 + 1)); // one millisecond on the wire
    expect(driver.results.map((r) => [label(r.value), r.doneAt < ms(1000)])).to.deep.equal([
      ["v0", true],
      ["v1", true],
      ["v2", false], // its own batch lingers: nothing waits for memory any more
    ]);
  });

  it("a record larger than buffer.memory or max.request.size fails at once with RECORD_TOO_LARGE", () => {
    const cluster = new FakeCluster(1);
    const records: PlannedRecord[] = [
      { atMs: 10, key: null, value: "z".repeat(70_000) },
      { atMs: 11, key: null, value: "z".repeat(2_000_000) },
      { atMs: 12, key: null, value: "fits" },
    ];
    const { driver } = runDriver(cluster, { ...NO_IDEMPOTENCE, "buffer.memory": BUFFER_MEMORY, "max.request.size": 1_048_576 }, records);
    expect(driver.results.map((r) => [label(r.value), "error" in r.result ? r.result.error : "ok"])).to.deep.equal([
      ["zzzz", "RECORD_TOO_LARGE"],
      ["zzzz", "RECORD_TOO_LARGE"],
      ["fits", "ok"],
    ]);
    expect(driver.results.slice(0, 2).map((r) => r.doneAt - r.sentAt), "at once").to.deep.equal([0, 0]);
    expect(driver.partitions).to.deep.equal([-1, -1, 0]);
    expect(cluster.log(0)).to.deep.equal(["fits"]);
  });

  it("a batch.size above buffer.memory can never be allocated: every record fails at once", () => {
    const cluster = new FakeCluster(1);
    const { driver } = runDriver(cluster, { ...NO_IDEMPOTENCE, "batch.size": 20_000, "buffer.memory": 10_000 }, [{ atMs: 10, key: null, value: "v" }]);
    expect(driver.results.map((r) => r.result)).to.deep.equal([{ partition: -1, error: "ILLEGAL_ARGUMENT", maybeAppended: false, attempts: 0 }]);
  });

  it("the workload's history records fail for the records that ran out of buffer memory", () => {
    const cluster = new FakeCluster(1);
    cluster.responseDelayMs = 2000;
    const { ops } = runWorkload(
      cluster,
      { ...NO_IDEMPOTENCE, "buffer.memory": 2 * BATCH_SIZE, "max.block.ms": 100 },
      { messages: 200, ratePerSec: 10_000 },
    );
    const outcomes = ops.filter((op) => op.type !== "invoke");
    const exhausted = outcomes.filter((op) => op.error === "BUFFER_EXHAUSTED");
    expect(exhausted.length).to.be.greaterThan(0);
    expect(exhausted.every((op) => op.type === "fail")).to.equal(true);
    expect(outcomes).to.have.length(200);
    const ok = outcomes.filter((op) => op.type === "ok").map((op) => op.value);
    expect(cluster.log(0)).to.deep.equal(ok);
    // One application thread: no send() while one is blocked — each exhausted record's fail comes before the next invoke.
    for (const op of exhausted) {
      const invokeAt = ops.findIndex((o) => o.type === "invoke" && o.value === op.value);
      const next = ops.slice(invokeAt + 1).find((o) => o.type === "invoke");
      if (next !== undefined) expect(next.t, `${String(op.value)}: the next send waits for its send() to return`).to.be.at.least(op.t);
      expect(op.t - ops[invokeAt].t, "it waited max.block.ms").to.equal(ms(100));
    }
  });
});
