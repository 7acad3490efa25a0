import { expect } from "chai";
import { partitionForKey } from "../../src/clients/partitioner.ts";
import { TestProducer, type TestProducerConfig } from "../../src/clients/test-producer.ts";
import { Network } from "../../src/net/network.ts";
import type { HostDisk } from "../../src/sim/host.ts";
import type { TraceEvent } from "../../src/sim/trace.ts";
import { World } from "../../src/sim/world.ts";
import { FakeBroker, fakeCluster, type FakeCluster } from "./fake-broker.ts";

const diskStub: HostDisk = { onCrash() {}, onPowerLoss() {} };

const BASE: TestProducerConfig = {
  bootstrap: ["broker-1", "broker-2"],
  acks: -1,
  requestTimeoutMs: 100,
  retries: 2,
  retryBackoffMs: 10,
  topic: "t",
  messages: 4,
  ratePerSec: 100,
};

interface Run {
  world: World;
  ops: TraceEvent[];
  retries: TraceEvent[];
  producer: TestProducer;
}

function runProducer(cluster: FakeCluster, config: Partial<TestProducerConfig> = {}, setup?: (world: World) => void): Run {
  const world = new World(1);
  new Network(world, { latency: { dist: "constant", us: 1000 } });
  const ops: TraceEvent[] = [];
  const retries: TraceEvent[] = [];
  world.trace.observe((event) => {
    if (event.kind === "op") ops.push(event);
    if (event.kind === "producer-retry") retries.push(event);
  });
  for (const id of [1, 2, 3]) world.addHost(`broker-${id}`, diskStub, (context) => new FakeBroker(context, id, cluster, "t")).start();
  let producer: TestProducer | null = null;
  const host = world.addHost("p1", diskStub, (context) => (producer = new TestProducer(context, { ...BASE, ...config })));
  setup?.(world);
  host.start();
  const verdict = world.kernel.run({ untilUs: 600_000_000, maxEvents: 1_000_000 });
  if (verdict.reason === "model-error") throw verdict.error;
  expect(verdict.reason, "the producer's work is bounded: the world goes quiet").to.equal("quiescent");
  return { world, ops, retries, producer: producer! };
}

function summary(ops: TraceEvent[]): unknown[] {
  return ops.map((op) => [op.type, op.opId, op.value, op.partition, op.offset ?? null, op.error ?? null]);
}

describe("test producer", () => {
  it("learns the leaders, sends one value per interval round-robin, and records invoke/ok with offsets", () => {
    const cluster = fakeCluster(2);
    const { ops, producer } = runProducer(cluster);
    expect(summary(ops)).to.deep.equal([
      ["invoke", 0, "p1-000000", 0, null, null],
      ["ok", 0, "p1-000000", 0, 0, null],
      ["invoke", 1, "p1-000001", 1, null, null],
      ["ok", 1, "p1-000001", 1, 0, null],
      ["invoke", 2, "p1-000002", 0, null, null],
      ["ok", 2, "p1-000002", 0, 1, null],
      ["invoke", 3, "p1-000003", 1, null, null],
      ["ok", 3, "p1-000003", 1, 1, null],
    ]);
    // Each value went to its partition's leader (partition 0 on broker-1, partition 1 on broker-2), with acks=all.
    expect(cluster.produces.map((p) => [p.broker, p.partition, p.acks])).to.deep.equal([
      [1, 0, -1],
      [2, 1, -1],
      [1, 0, -1],
      [2, 1, -1],
    ]);
    // One every 10 ms (100/s); the first waits for the metadata round trip (2 ms).
    const invokes = ops.filter((op) => op.type === "invoke").map((op) => op.t);
    expect(invokes).to.deep.equal([2_000, 10_000, 20_000, 30_000]);
    expect(producer.completedCount).to.equal(4);
    expect(ops[1]).to.include({ process: "p1", f: "send", topic: "t", key: null, attempts: 1 });
  });

  it("places keyed values by murmur2", () => {
    const cluster = fakeCluster(3);
    const { ops } = runProducer(cluster, { keys: 3, messages: 6 });
    const invokes = ops.filter((op) => op.type === "invoke");
    expect(invokes.map((op) => op.key)).to.deep.equal(["k0", "k1", "k2", "k0", "k1", "k2"]);
    for (const op of invokes) expect(op.partition).to.equal(partitionForKey(op.key as string, 3));
  });

  it("refreshes metadata on NOT_LEADER_OR_FOLLOWER and resends the same value to the new leader: one op", () => {
    const cluster = fakeCluster(1);
    cluster.produceBehaviour = (broker) => {
      if (broker === 1) cluster.leaders[0] = 2; // leadership moved before the first produce arrived
      return "normal";
    };
    const { ops, retries } = runProducer(cluster, { messages: 1, acks: 1 });
    expect(summary(ops)).to.deep.equal([
      ["invoke", 0, "p1-000000", 0, null, null],
      ["ok", 0, "p1-000000", 0, 0, null],
    ]);
    expect(ops[1].attempts).to.equal(2);
    expect(retries.map((r) => r.error)).to.deep.equal(["NOT_LEADER_OR_FOLLOWER"]);
    expect(cluster.produces.map((p) => p.broker)).to.deep.equal([1, 2]);
    expect(cluster.metadataRequests).to.be.greaterThanOrEqual(2);
  });

  it("completes as info after request timeouts exhaust the retries (the value may be in the log)", () => {
    const cluster = fakeCluster(1);
    cluster.produceBehaviour = () => "silent";
    const { ops } = runProducer(cluster, { messages: 1, retries: 2 });
    expect(summary(ops)).to.deep.equal([
      ["invoke", 0, "p1-000000", 0, null, null],
      ["info", 0, "p1-000000", 0, null, "TIMEOUT"],
    ]);
    expect(ops[1].attempts).to.equal(3);
    expect(cluster.produces).to.have.length(3);
  });

  it("completes as fail on NOT_ENOUGH_REPLICAS (never appended), as info on NOT_ENOUGH_REPLICAS_AFTER_APPEND", () => {
    const cluster = fakeCluster(1);
    cluster.produceBehaviour = () => ({ error: "NOT_ENOUGH_REPLICAS", append: false });
    const fail = runProducer(cluster, { messages: 1, retries: 1 });
    expect(summary(fail.ops)).to.deep.equal([
      ["invoke", 0, "p1-000000", 0, null, null],
      ["fail", 0, "p1-000000", 0, null, "NOT_ENOUGH_REPLICAS"],
    ]);
    expect(fail.ops[1].attempts).to.equal(2);

    const after = fakeCluster(1);
    after.produceBehaviour = () => ({ error: "NOT_ENOUGH_REPLICAS_AFTER_APPEND", append: true });
    const info = runProducer(after, { messages: 1, retries: 0 });
    expect(summary(info.ops)).to.deep.equal([
      ["invoke", 0, "p1-000000", 0, null, null],
      ["info", 0, "p1-000000", 0, null, "NOT_ENOUGH_REPLICAS_AFTER_APPEND"],
    ]);
  });

  it("is info, not fail, when an earlier attempt's outcome is unknown even if the last error is certain", () => {
    const cluster = fakeCluster(1);
    cluster.produceBehaviour = (_broker, _partition, attempt) => (attempt === 0 ? "silent" : { error: "NOT_ENOUGH_REPLICAS", append: false });
    const { ops } = runProducer(cluster, { messages: 1, retries: 1 });
    expect(summary(ops)[1]).to.deep.equal(["info", 0, "p1-000000", 0, null, "NOT_ENOUGH_REPLICAS"]);
  });

  it("treats NOT_LEADER_OR_FOLLOWER under acks=all as unknown (DelayedProduce answers it after the append)", () => {
    const cluster = fakeCluster(1);
    cluster.produceBehaviour = () => ({ error: "NOT_LEADER_OR_FOLLOWER", append: true });
    const { ops } = runProducer(cluster, { messages: 1, retries: 0 });
    expect(summary(ops)[1]).to.deep.equal(["info", 0, "p1-000000", 0, null, "NOT_LEADER_OR_FOLLOWER"]);
    const acks1 = runProducer(cluster, { messages: 1, retries: 0, acks: 1 });
    expect(summary(acks1.ops)[1]).to.deep.equal(["fail", 0, "p1-000000", 0, null, "NOT_LEADER_OR_FOLLOWER"]);
  });

  it("with acks=0 records every send as info at once", () => {
    const cluster = fakeCluster(1);
    const { ops } = runProducer(cluster, { messages: 2, acks: 0 });
    expect(summary(ops)).to.deep.equal([
      ["invoke", 0, "p1-000000", 0, null, null],
      ["info", 0, "p1-000000", 0, null, "NO_ACKS"],
      ["invoke", 1, "p1-000001", 0, null, null],
      ["info", 1, "p1-000001", 0, null, "NO_ACKS"],
    ]);
    expect(cluster.logs.get(0)).to.deep.equal(["p1-000000", "p1-000001"]);
  });

  it("rotates to another bootstrap broker when Metadata times out", () => {
    const cluster = fakeCluster(1, [2]);
    const { ops } = runProducer(cluster, { messages: 1 }, (world) => world.host("broker-1").crash());
    expect(summary(ops)).to.deep.equal([
      ["invoke", 0, "p1-000000", 0, null, null],
      ["ok", 0, "p1-000000", 0, 0, null],
    ]);
  });

  it("waits and refreshes while a partition has no leader, then sends", () => {
    const cluster = fakeCluster(1);
    cluster.leaders[0] = -1;
    let asked = 0;
    const world = runProducer(cluster, { messages: 1 }, (w) => {
      w.trace.observe((event) => {
        if (event.kind === "deliver" && event.type === "Metadata" && ++asked === 3) cluster.leaders[0] = 2;
      });
    });
    expect(summary(world.ops)).to.deep.equal([
      ["invoke", 0, "p1-000000", 0, null, null],
      ["ok", 0, "p1-000000", 0, 0, null],
    ]);
    expect(cluster.produces.map((p) => p.broker)).to.deep.equal([2]);
    expect(cluster.metadataRequests).to.equal(3);
  });

  it("gives up within delivery.timeout.ms when no metadata ever comes, and goes quiet", () => {
    const cluster = fakeCluster(1);
    cluster.topicError = "UNKNOWN_TOPIC_OR_PARTITION";
    const { ops } = runProducer(cluster, { messages: 2, deliveryTimeoutMs: 500 });
    expect(summary(ops)).to.deep.equal([
      ["invoke", 0, "p1-000000", -1, null, null],
      ["fail", 0, "p1-000000", -1, null, "TIMEOUT"],
      ["invoke", 1, "p1-000001", -1, null, null],
      ["fail", 1, "p1-000001", -1, null, "TIMEOUT"],
    ]);
    expect(ops[1].t).to.equal(500_000);
  });

  it("stops creating values at stopAtMs", () => {
    const cluster = fakeCluster(1);
    const { ops } = runProducer(cluster, { messages: 100, stopAtMs: 25 });
    expect(ops.filter((op) => op.type === "invoke").length).to.equal(3); // at 0, 10 and 20 ms
  });
});
