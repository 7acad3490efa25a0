import { expect } from "chai";
import { batchSizeBytes } from "../../../src/broker/log/records.ts";
import { partitionForKey } from "../../../src/clients/partitioner.ts";
import { ms } from "../../../src/sim/time.ts";
import { FakeCluster } from "./fake-cluster.ts";
import { plan, runDriver } from "./harness.ts";

const NO_IDEMPOTENCE = { "enable.idempotence": false } as const;

/** How many records of `plan` values fit in a batch of `batchSize` bytes (records 1 ms apart). */
function recordsPerBatch(batchSize: number): number {
  let n = 1;
  const records = (k: number) => Array.from({ length: k }, (_, i) => ({ offsetDelta: i, timestampDelta: i, key: null, value: "v000", headers: [] }));
  while (batchSizeBytes(records(n + 1)) <= batchSize) n++;
  return n;
}

describe("KafkaProducer: accumulator and sender", () => {
  it("fills batches up to batch.size: a full batch goes at once, without waiting for linger.ms", () => {
    const cluster = new FakeCluster(1);
    const perBatch = recordsPerBatch(200);
    const { driver } = runDriver(cluster, { ...NO_IDEMPOTENCE, "batch.size": 200, "linger.ms": 10_000 }, plan(30, 1), { closeAtMs: 20_000 });
    const sizes = cluster.produces.map((p) => p.batches[0].values.length);
    expect(perBatch).to.be.greaterThan(2);
    // Every batch but the last (sent by close) is full; each left when the next record did not fit.
    expect(sizes.slice(0, -1)).to.deep.equal(Array(sizes.length - 1).fill(perBatch));
    expect(sizes.reduce((a, b) => a + b, 0)).to.equal(30);
    const firstFullAt = ms(10 + perBatch); // the record that did not fit arrived at 10 + perBatch ms
    expect(cluster.produces[0].t).to.equal(firstFullAt + ms(1));
    // Offsets follow the log, in send order.
    expect(driver.results.map((r) => ("offset" in r.result ? r.result.offset : null))).to.deep.equal([...Array(30).keys()]);
    expect(cluster.log(0)).to.deep.equal(plan(30, 1).map((r) => r.value));
  });

  it("holds a batch for linger.ms in virtual time, then sends it with everything appended meanwhile", () => {
    const cluster = new FakeCluster(1);
    runDriver(cluster, { ...NO_IDEMPOTENCE, "linger.ms": 50 }, plan(10, 7), { closeAtMs: 1000 });
    // Records at 10, 17, …, 73 ms; the first batch was created at 10 ms and is sendable at 60 ms.
    expect(cluster.produces.map((p) => [p.t, p.batches[0].values.length])).to.deep.equal([
      [ms(61), 8],
      [ms(116 + 1), 2], // the second batch was created at 66 ms
    ]);
  });

  it("with linger.ms=0 sends at once, and batches only what piles up behind max.in.flight", () => {
    const cluster = new FakeCluster(1);
    cluster.responseDelayMs = 20;
    runDriver(cluster, { ...NO_IDEMPOTENCE, "max.in.flight.requests.per.connection": 2 }, plan(20, 1));
    expect(cluster.maxOutstanding).to.equal(2);
    const sizes = cluster.produces.map((p) => p.batches[0].values.length);
    expect(sizes.slice(0, 2)).to.deep.equal([1, 1]);
    expect(Math.max(...sizes)).to.be.greaterThan(1);
    expect(cluster.log(0)).to.have.length(20);
  });

  it("never has more than max.in.flight.requests.per.connection requests unanswered per broker", () => {
    for (const maxInFlight of [1, 3, 5]) {
      const cluster = new FakeCluster(4, [1]);
      cluster.responseDelayMs = 30;
      runDriver(cluster, { ...NO_IDEMPOTENCE, "max.in.flight.requests.per.connection": maxInFlight }, plan(60, 0.5, (i) => `k${i}`));
      expect(cluster.maxOutstanding, `max.in.flight ${maxInFlight}`).to.equal(maxInFlight);
      expect([...cluster.logs.values()].reduce((n, log) => n + log.length, 0)).to.equal(60);
    }
  });

  it("carries at most one batch per partition in a Produce, and batches of several partitions to their leader together", () => {
    const cluster = new FakeCluster(4, [1]);
    cluster.responseDelayMs = 10;
    runDriver(cluster, { ...NO_IDEMPOTENCE, "max.in.flight.requests.per.connection": 1 }, plan(40, 0.25, (i) => `k${i}`));
    for (const produce of cluster.produces) {
      const partitions = produce.batches.map((b) => b.partition);
      expect(new Set(partitions).size).to.equal(partitions.length);
    }
    expect(Math.max(...cluster.produces.map((p) => p.batches.length))).to.be.greaterThan(1);
    for (const partition of cluster.logs.keys()) for (const value of cluster.log(partition)) expect(partitionForKey(`k${Number(value!.slice(1))}`, 4)).to.equal(partition);
  });

  it("retries after a leader failover: NOT_LEADER_OR_FOLLOWER, a metadata refresh, then the new leader", () => {
    const cluster = new FakeCluster(1);
    cluster.behaviour = (broker) => {
      if (broker === 1 && cluster.leaders[0] === 1) cluster.moveLeader(0, 2); // leadership moves as the first produce lands
      return "normal";
    };
    const { driver, events } = runDriver(cluster, { ...NO_IDEMPOTENCE, acks: 1, "max.in.flight.requests.per.connection": 1 }, plan(3, 1));
    expect(cluster.produces[0].broker).to.equal(1);
    expect(cluster.produces.slice(1).map((p) => p.broker)).to.deep.equal(Array(cluster.produces.length - 1).fill(2));
    expect(driver.results.map((r) => r.result)).to.deep.equal([
      { partition: 0, offset: 0, attempts: 2 },
      { partition: 0, offset: 1, attempts: 1 },
      { partition: 0, offset: 2, attempts: 1 },
    ]);
    expect(events.filter((e) => e.kind === "producer-retry").map((e) => e.error)).to.deep.equal(["NOT_LEADER_OR_FOLLOWER"]);
    expect(cluster.metadataRequests).to.be.greaterThanOrEqual(3); // bootstrap, the topic, the refresh
  });

  it("waits while the partition has no leader, refreshing metadata, then sends", () => {
    const cluster = new FakeCluster(1);
    cluster.leaders[0] = -1;
    const { driver } = runDriver(cluster, NO_IDEMPOTENCE, plan(1, 1), {
      setup: (world) => world.kernel.after(ms(500), { handleEvent: () => cluster.moveLeader(0, 2) }, 0),
    });
    expect(cluster.produces.map((p) => p.broker)).to.deep.equal([2]);
    expect(driver.results[0].result).to.deep.equal({ partition: 0, offset: 0, attempts: 1 });
    // retry.backoff.ms (100) apart while the leader is unknown.
    expect(cluster.metadataRequests).to.be.within(5, 8);
  });

  it("a request timeout disconnects the broker: every request in flight to it fails and is retried", () => {
    const cluster = new FakeCluster(1);
    cluster.behaviour = (_broker, _partition, _batch, attempt) => (attempt === 0 ? "silent" : "normal");
    const { driver, events } = runDriver(cluster, { ...NO_IDEMPOTENCE, "request.timeout.ms": 1000, "max.in.flight.requests.per.connection": 5 }, plan(3, 1));
    const disconnects = events.filter((e) => e.kind === "producer-disconnect");
    expect(disconnects).to.have.length(1);
    expect(disconnects[0]).to.include({ broker: "broker-1", inFlight: 3 });
    const retries = events.filter((e) => e.kind === "producer-retry");
    expect(retries.map((e) => e.error)).to.deep.equal(["REQUEST_TIMED_OUT", "REQUEST_TIMED_OUT", "REQUEST_TIMED_OUT"]);
    // Silent is not "not appended": the retries duplicate. Each failed batch went back to the front of the deque
    // (no idempotence), so the retries also run in reverse order — Kafka's reordering with in-flight > 1.
    expect(cluster.log(0)).to.deep.equal(["v000", "v001", "v002", "v002", "v001", "v000"]);
    const byValue = [...driver.results].sort((a, b) => a.value.localeCompare(b.value));
    expect(byValue.map((r) => r.result)).to.deep.equal([5, 4, 3].map((offset) => ({ partition: 0, offset, attempts: 2 })));
  });

  it("without idempotence, retries can reorder batches when max.in.flight > 1", () => {
    const cluster = new FakeCluster(1);
    cluster.behaviour = (_b, _p, batch, attempt) => (batch.records[0].value === "v000" && attempt === 0 ? { error: "NOT_ENOUGH_REPLICAS", append: false } : "normal");
    runDriver(cluster, { ...NO_IDEMPOTENCE, "max.in.flight.requests.per.connection": 2 }, plan(2, 0.1));
    expect(cluster.log(0)).to.deep.equal(["v001", "v000"]);
  });

  it("with max.in.flight=1 a retried batch keeps its place: no reordering", () => {
    const cluster = new FakeCluster(1);
    cluster.behaviour = (_b, _p, batch, attempt) => (batch.records[0].value === "v000" && attempt === 0 ? { error: "NOT_ENOUGH_REPLICAS", append: false } : "normal");
    runDriver(cluster, { ...NO_IDEMPOTENCE, "max.in.flight.requests.per.connection": 1 }, plan(2, 0.1));
    expect(cluster.log(0)).to.deep.equal(["v000", "v001"]);
  });

  it("fails a batch at delivery.timeout.ms: unknown outcome once sent, surely not written if never sent", () => {
    const silent = new FakeCluster(1);
    silent.behaviour = () => "silent";
    const config = { ...NO_IDEMPOTENCE, "request.timeout.ms": 1000, "delivery.timeout.ms": 2500, "retry.backoff.ms": 100 };
    const sent = runDriver(silent, config, plan(1, 1));
    expect(sent.driver.results[0].result).to.deep.equal({ partition: 0, error: "DELIVERY_TIMEOUT", maybeAppended: true, attempts: 3 });
    expect(sent.driver.results[0].doneAt - sent.driver.results[0].sentAt).to.equal(ms(2500));

    const leaderless = new FakeCluster(1);
    leaderless.leaders[0] = -1;
    const never = runDriver(leaderless, config, plan(1, 1));
    expect(never.driver.results[0].result).to.deep.equal({ partition: 0, error: "DELIVERY_TIMEOUT", maybeAppended: false, attempts: 0 });
    expect(leaderless.produces).to.have.length(0);
  });

  it("fails at once on a non-retriable error, surely not written; a certain error after an unknown one is still unknown", () => {
    const tooLarge = new FakeCluster(1);
    tooLarge.behaviour = () => ({ error: "MESSAGE_TOO_LARGE", append: false });
    const failed = runDriver(tooLarge, NO_IDEMPOTENCE, plan(1, 1));
    expect(failed.driver.results[0].result).to.deep.equal({ partition: 0, error: "MESSAGE_TOO_LARGE", maybeAppended: false, attempts: 1 });

    const mixed = new FakeCluster(1);
    mixed.behaviour = (_b, _p, _batch, attempt) => (attempt === 0 ? "silent" : { error: "NOT_ENOUGH_REPLICAS", append: false });
    const info = runDriver(mixed, { ...NO_IDEMPOTENCE, retries: 1, "request.timeout.ms": 500 }, plan(1, 1));
    expect(info.driver.results[0].result).to.deep.equal({ partition: 0, error: "NOT_ENOUGH_REPLICAS", maybeAppended: true, attempts: 2 });
  });

  it("with acks=0 completes each record as soon as its request is sent, outcome unknown", () => {
    const cluster = new FakeCluster(1);
    const { driver } = runDriver(cluster, { acks: 0 }, plan(3, 1));
    expect(driver.results.map((r) => r.result)).to.deep.equal(Array(3).fill({ partition: 0, error: "NO_ACKS", maybeAppended: true, attempts: 1 }));
    expect(driver.results.every((r) => r.doneAt === r.sentAt)).to.equal(true);
    expect(cluster.produces.every((p) => p.acks === 0 && p.batches[0].producerId === -1)).to.equal(true);
    expect(cluster.log(0)).to.deep.equal(["v000", "v001", "v002"]);
  });

  it("sticks to one partition for null keys until it produced enough, then switches at random", () => {
    const cluster = new FakeCluster(4, [1]);
    const batchSize = 300;
    const { driver } = runDriver(cluster, { ...NO_IDEMPOTENCE, "batch.size": batchSize, "linger.ms": 5000 }, plan(120, 1), { closeAtMs: 10_000 });
    const runs: { partition: number; length: number }[] = [];
    for (const p of driver.partitions) {
      if (runs.at(-1)?.partition === p) runs.at(-1)!.length++;
      else runs.push({ partition: p, length: 1 });
    }
    const perBatch = recordsPerBatch(batchSize);
    // Switching needs batch.size bytes and a full last batch, or 2 × batch.size bytes: more than one batch.
    for (const run of runs.slice(0, -1)) expect(run.length).to.be.within(perBatch + 1, 2 * perBatch + 2);
    expect(new Set(driver.partitions).size).to.be.greaterThan(1);
    // Every partition's batches hold consecutive records of one run.
    for (const produce of cluster.produces) for (const batch of produce.batches) expect(batch.values.length).to.be.at.most(perBatch);
  });

  it("a record for a topic without metadata waits up to max.block.ms, then fails unsent", () => {
    const cluster = new FakeCluster(1);
    cluster.topicError = "UNKNOWN_TOPIC_OR_PARTITION";
    const { driver } = runDriver(cluster, { ...NO_IDEMPOTENCE, "max.block.ms": 1000 }, plan(2, 100));
    expect(driver.results.map((r) => [r.result, r.doneAt - r.sentAt])).to.deep.equal([
      [{ partition: -1, error: "MAX_BLOCK_TIMEOUT", maybeAppended: false, attempts: 0 }, ms(1000)],
      [{ partition: -1, error: "MAX_BLOCK_TIMEOUT", maybeAppended: false, attempts: 0 }, ms(1000)],
    ]);
  });

  it("refreshes metadata every metadata.max.age.ms while open", () => {
    const cluster = new FakeCluster(1);
    runDriver(cluster, { ...NO_IDEMPOTENCE, "metadata.max.age.ms": 1000 }, plan(1, 1), { closeAtMs: 5500 });
    // At start (bootstrap, no topics yet), for the new topic at once (10 ms), then every second.
    expect(cluster.metadataRequests).to.equal(7);
  });
});
