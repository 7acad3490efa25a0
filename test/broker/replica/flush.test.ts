import { expect } from "chai";
import { readFileSync } from "node:fs";
import { brokerHost } from "../../../src/protocol/kafka.ts";
import { validateScenario } from "../../../src/scenario/load.ts";
import { runScenario } from "../../../src/scenario/run.ts";
import type { TraceEvent } from "../../../src/sim/trace.ts";
import { ReplicaCluster, type ClusterOptions } from "./harness.ts";

// flush.messages = 1 with a slow fsync: Kafka flushes inside UnifiedLog.append, so the follower's fetcher thread
// (processPartitionData) and the leader's request handler (appendRecordsToLeader) go on only after the fsync.

const SLOW_FSYNC = { fsyncMinUs: 50_000, fsyncMaxUs: 50_000 };

/** t-0 on [1..brokers], led by broker 1 (epoch 1, every replica in the ISR). */
function started(options: ClusterOptions): ReplicaCluster {
  const cluster = new ReplicaCluster({ topicConfig: { "flush.messages": 1 }, ...options });
  cluster.updateMetadata();
  cluster.runFor(20);
  cluster.leaderAndIsr({ leader: 1, leaderEpoch: 1, isr: cluster.brokerIds });
  cluster.runFor(100);
  return cluster;
}

/** The first event after `fromUs` matching `match`. */
function firstAfter(events: TraceEvent[], fromUs: number, match: (event: TraceEvent) => boolean): TraceEvent | undefined {
  return events.find((event) => event.t > fromUs && match(event));
}

describe("Replication with flush.messages: the fsync blocks the appender", () => {
  it("a follower's next fetch (its log end offset) leaves only once its append is durable", () => {
    const cluster = started({ brokers: 2, disks: { 2: SLOW_FSYNC } });
    // At every advance of the leader's HW, the follower's copy of the records below it is on its disk.
    const violations: string[] = [];
    cluster.world.trace.observe((event) => {
      if (event.node !== "broker-1" || event.kind !== "hwm") return;
      const durable = cluster.partition(2)!.log.recoveryPoint;
      const highWatermark = event.highWatermark as number;
      if (highWatermark > durable) violations.push(`HW ${highWatermark} above broker-2's recovery point ${durable} at ${event.t}`);
    });
    const ids = ["a", "b", "c"].map((value) => cluster.producer.produce(1, value));
    expect(cluster.runUntil(() => ids.every((id) => cluster.producer.responses.has(id)), 5000)).to.equal(true);
    expect(ids.map((id) => cluster.producer.error(id))).to.deep.equal(["NONE", "NONE", "NONE"]);
    expect(violations).to.deep.equal([]);
    // The fetch after each append goes out when the 50 ms fsync returned, not at the append.
    const appends = cluster.eventsOf("log-append", "broker-2");
    expect(appends.length).to.be.greaterThan(0);
    for (const append of appends) {
      const next = firstAfter(cluster.events, append.t - 1, (e) => e.node === "broker-2" && e.kind === "send" && e.type === "Fetch");
      expect(next, `the fetch after the append at ${append.t}`).to.not.equal(undefined);
      expect(next!.t - append.t).to.be.at.least(50_000);
    }
    for (const id of [1, 2]) expect(cluster.values(id)).to.deep.equal(["a", "b", "c"]);
  });

  it("a follower losing power during its fsync does not cost an acknowledged write when it is elected", () => {
    const cluster = started({ brokers: 2, disks: { 2: SLOW_FSYNC } });
    const id = cluster.producer.produce(1, "x");
    expect(cluster.runUntil(() => cluster.partition(2)!.log.logEndOffset === 1, 1000)).to.equal(true);
    // 10 ms into the follower's 50 ms fsync: its record is not durable, so it must not have been acknowledged.
    cluster.runFor(10);
    const acknowledged = cluster.producer.error(id) === "NONE";
    expect(acknowledged).to.equal(false);
    expect(cluster.partition(1)!.log.highWatermark).to.equal(0);
    cluster.world.host(brokerHost(2)).powerLoss();
    // The leader dies too; the follower comes back and is elected (it was in the ISR).
    cluster.world.host(brokerHost(1)).crash();
    cluster.world.host(brokerHost(2)).start();
    cluster.runFor(100);
    cluster.leaderAndIsr({ leader: 2, leaderEpoch: 2, isr: [2] }, [2]);
    cluster.runFor(100);
    expect(cluster.partition(2)!.isLeader).to.equal(true);
    if (acknowledged) expect(cluster.values(2)).to.include("x");
  });

  it("a follower that starts following another leader during its fsync fetches from it only after the fsync", () => {
    const cluster = started({ brokers: 3, disks: { 2: SLOW_FSYNC } });
    const id = cluster.producer.produce(1, "x");
    expect(cluster.runUntil(() => [2, 3].every((b) => cluster.partition(b)!.log.logEndOffset === 1), 1000)).to.equal(true);
    const appendUs = cluster.eventsOf("log-append", "broker-2")[0].t;
    // Broker 3 takes over (epoch 2) while broker 2's 50 ms fsync runs: broker 2 gets a new fetcher, for broker 3.
    cluster.leaderAndIsr({ leader: 3, leaderEpoch: 2, isr: [1, 2, 3] });
    const violations: string[] = [];
    cluster.world.trace.observe((event) => {
      if (event.node !== "broker-3" || event.kind !== "hwm") return;
      const durable = cluster.partition(2)!.log.recoveryPoint;
      const highWatermark = event.highWatermark as number;
      if (highWatermark > durable) violations.push(`HW ${highWatermark} above broker-2's recovery point ${durable} at ${event.t}`);
    });
    expect(cluster.runUntil(() => cluster.partition(3)!.log.highWatermark === 1, 2000)).to.equal(true);
    expect(violations).to.deep.equal([]);
    const firstToNewLeader = firstAfter(cluster.events, appendUs, (e) => e.node === "broker-2" && e.kind === "send" && e.to === "broker-3");
    expect(firstToNewLeader).to.not.equal(undefined);
    expect(firstToNewLeader!.t - appendUs).to.be.at.least(50_000);
    // Broker 1 never had broker 2's fetch for offset 1 before it stepped down.
    expect(cluster.producer.error(id)).to.equal("NOT_LEADER_OR_FOLLOWER");
  });

  it("the leader answers a produce only once its own append is durable (acks=1 and acks=all)", () => {
    const cluster = started({ brokers: 2, disks: { 1: SLOW_FSYNC } });
    const sentUs = cluster.world.now;
    const one = cluster.producer.produce(1, "y", 1);
    const all = cluster.producer.produce(1, "z", -1);
    const answers: { correlationId: number; atUs: number; durable: number }[] = [];
    cluster.world.trace.observe((event) => {
      if (event.node !== "broker-1" || event.kind !== "send" || event.type !== "ProduceResponse") return;
      answers.push({ correlationId: answers.length + 1, atUs: event.t, durable: cluster.partition(1)!.log.recoveryPoint });
    });
    expect(cluster.runUntil(() => cluster.producer.responses.has(one) && cluster.producer.responses.has(all), 2000)).to.equal(true);
    expect([cluster.producer.error(one), cluster.producer.error(all)]).to.deep.equal(["NONE", "NONE"]);
    expect(answers).to.have.length(2);
    expect(answers[0].durable).to.be.at.least(1);
    expect(answers[1].durable).to.be.at.least(2);
    for (const answer of answers) expect(answer.atUs - sentUs).to.be.at.least(50_000);
  });

  it("a single-replica ISR moves its HW only after the append's fsync", () => {
    const cluster = started({ brokers: 1, disks: { 1: SLOW_FSYNC } });
    const id = cluster.producer.produce(1, "w", -1);
    cluster.runFor(40);
    expect(cluster.partition(1)!.log.logEndOffset).to.equal(1);
    expect(cluster.partition(1)!.log.highWatermark).to.equal(0);
    expect(cluster.producer.responses.has(id)).to.equal(false);
    cluster.runFor(30);
    expect(cluster.partition(1)!.log.highWatermark).to.equal(1);
    expect(cluster.producer.error(id)).to.equal("NONE");
  });
});

describe("harsh-safe seed 251: a follower's fetch raced its flush.messages fsync", function () {
  this.timeout(120_000);

  it("shows no violation (the follower reported offset 171 before its fsync, lost power, and was elected)", () => {
    const file = "test/fixtures/repro/harsh-safe.json";
    const scenario = validateScenario(JSON.parse(readFileSync(file, "utf8")), file);
    const result = runScenario(scenario, { seed: 251, hash: false });
    expect(result.error, "model error").to.equal(undefined);
    expect(result.violations.map((v) => `${v.name} ${JSON.stringify(v.evidence).slice(0, 200)}`)).to.deep.equal([]);
  });
});
