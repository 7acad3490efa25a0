import { expect } from "chai";
import type { ConsumerConfig } from "../../../src/clients/consumer/config.ts";
import { Network } from "../../../src/net/network.ts";
import type { FetchRequest, ListOffsetsRequest, OffsetsForLeaderEpochRequest } from "../../../src/protocol/kafka.ts";
import type { HostDisk } from "../../../src/sim/host.ts";
import { ms } from "../../../src/sim/time.ts";
import type { TraceEvent } from "../../../src/sim/trace.ts";
import { World } from "../../../src/sim/world.ts";
import { ConsumerWorkload } from "../../../src/workload/consumer-workload.ts";
import { FakeBroker, FakeCluster } from "./fake-cluster.ts";

const diskStub: HostDisk = { onCrash() {}, onPowerLoss() {} };

interface Harness {
  world: World;
  cluster: FakeCluster;
  events: TraceEvent[];
  workload: ConsumerWorkload;
  /** Runs the world up to `atMs` of virtual time. */
  runTo(atMs: number): void;
  /** ok polls as [partition, offset, value] triples, in order. */
  reads(): [number, number, string | null][];
  infos(): TraceEvent[];
}

function harness(cluster: FakeCluster, config: Partial<ConsumerConfig> = {}): Harness {
  const world = new World(1);
  new Network(world, { latency: { dist: "constant", us: 1000 } });
  const events: TraceEvent[] = [];
  world.trace.observe((event) => events.push(event));
  for (const id of cluster.brokerIds) world.addHost(`broker-${id}`, diskStub, (context) => new FakeBroker(context, id, cluster)).start();
  let workload: ConsumerWorkload | null = null;
  world
    .addHost("c1", diskStub, (context) => (workload = new ConsumerWorkload(context, { bootstrap: ["broker-1"], topics: ["t"], config })))
    .start();
  const h: Harness = {
    world,
    cluster,
    events,
    workload: workload!,
    runTo(atMs) {
      const verdict = world.kernel.run({ untilUs: ms(atMs), maxEvents: 1_000_000 });
      if (verdict.reason === "model-error") throw verdict.error;
      expect(verdict.reason).to.be.oneOf(["time-limit", "quiescent"]);
    },
    reads() {
      const out: [number, number, string | null][] = [];
      for (const e of events) {
        if (e.kind !== "op" || e.f !== "poll" || e.type !== "ok") continue;
        const offsets = e.offsets as number[];
        const values = e.values as (string | null)[];
        offsets.forEach((offset, i) => out.push([e.partition as number, offset, values[i]]));
      }
      return out;
    },
    infos() {
      return events.filter((e) => e.kind === "op" && e.f === "poll" && e.type === "info");
    },
  };
  return h;
}

function values(reads: [number, number, string | null][], partition: number): (string | null)[] {
  return reads.filter(([p]) => p === partition).map(([, , value]) => value);
}

describe("consumer", () => {
  it("assigns every partition from metadata, resets to the earliest offset, and advances positions as it reads", () => {
    const cluster = new FakeCluster(2).append(0, ["a0", "a1"]).append(1, ["b0"]);
    const h = harness(cluster);
    h.runTo(100);
    expect(h.workload.consumer.assignment.map((s) => s.topicPartition)).to.deep.equal(["t-0", "t-1"]);
    expect(values(h.reads(), 0)).to.deep.equal(["a0", "a1"]);
    expect(values(h.reads(), 1)).to.deep.equal(["b0"]);
    expect(h.workload.consumer.position("t", 0)).to.equal(2);
    expect(h.workload.consumer.position("t", 1)).to.equal(1);
    // Later records, committed while the consumer long-polls, arrive at their offsets in order.
    cluster.append(0, ["a2", "a3"]).append(1, ["b1"]);
    cluster.changed();
    h.runTo(200);
    expect(h.reads().filter(([p]) => p === 0).map(([, offset]) => offset)).to.deep.equal([0, 1, 2, 3]);
    expect(values(h.reads(), 1)).to.deep.equal(["b0", "b1"]);
    expect(h.workload.consumer.position("t", 0)).to.equal(4);
    expect(h.workload.recordsRead).to.equal(6);
    // History and config events.
    const config = h.events.find((e) => e.kind === "client-config")!;
    expect(config).to.include({ process: "c1", role: "consumer", "auto.offset.reset": "earliest", "fetch.max.wait.ms": 500, "isolation.level": "read_uncommitted" });
    const ok = h.events.find((e) => e.kind === "op" && e.type === "ok")!;
    expect(ok).to.include({ process: "c1", f: "poll", topic: "t", leaderEpoch: 0 });
    expect(h.infos()).to.deep.equal([]);
  });

  it("fetches from each leader with the consumer replica id, KIP-320 epoch and fetch configs, one fetch in flight per node", () => {
    const cluster = new FakeCluster(3, [1, 2]).append(0, ["x"]);
    const h = harness(cluster);
    h.runTo(3000);
    const fetches = cluster.seen("Fetch").map((r) => ({ broker: r.broker, time: r.time, request: r.request as FetchRequest }));
    expect(fetches.length).to.be.greaterThan(2);
    const first = fetches[0].request;
    expect(first).to.include({ replicaId: -1, minBytes: 1, maxWaitMs: 500, maxBytes: 52_428_800, isolationLevel: 0 });
    expect(first.partitions[0]).to.include({ currentLeaderEpoch: 0, partitionMaxBytes: 1_048_576 });
    // Partitions 0 and 2 are led by broker-1, partition 1 by broker-2: one request each carries its leader's partitions.
    expect(fetches.filter((f) => f.broker === 1).every((f) => f.request.partitions.map((p) => p.partition).join() === "0,2")).to.equal(true);
    expect(fetches.filter((f) => f.broker === 2).every((f) => f.request.partitions.map((p) => p.partition).join() === "1")).to.equal(true);
    // One in flight per node: a broker's next fetch only after the previous answer — a round trip after the
    // first (which found "x"), a long poll of 500 ms + 2 ms after the idle ones.
    for (const broker of [1, 2]) {
      const times = fetches.filter((f) => f.broker === broker).map((f) => f.time);
      const gaps = times.slice(1).map((t, i) => t - times[i]);
      expect(gaps.slice(broker === 1 ? 1 : 0).every((gap) => gap === ms(502)), `broker-${broker} gaps ${gaps.join()}`).to.equal(true);
      if (broker === 1) expect(gaps[0]).to.equal(ms(2));
    }
  });

  it("long-polls: an idle fetch is answered after fetch.max.wait.ms, a fetch waiting for data as soon as it is committed", () => {
    const cluster = new FakeCluster(1);
    const h = harness(cluster);
    h.runTo(2000);
    const idle = cluster.seen("Fetch").map((r) => r.time);
    // Received after metadata (2 ms), ListOffsets (2 ms) and 1 ms on the wire; then one every 502 ms.
    expect(idle.slice(0, 4)).to.deep.equal([5_000, 507_000, 1_009_000, 1_511_000]);
    cluster.append(0, ["late"]);
    cluster.changed();
    h.runTo(2100);
    const ok = h.events.filter((e) => e.kind === "op" && e.type === "ok");
    expect(ok.map((e) => e.t)).to.deep.equal([2_001_000]);
    // With fetch.max.wait.ms 100 the idle loop is faster.
    const fast = new FakeCluster(1);
    const h2 = harness(fast, { "fetch.max.wait.ms": 100 });
    h2.runTo(1000);
    expect(fast.seen("Fetch").length).to.equal(10);
  });

  it("auto.offset.reset: earliest reads what was there, latest only what comes after, none fails the partition", () => {
    const earliest = harness(new FakeCluster(1).append(0, ["old0", "old1"]), { "auto.offset.reset": "earliest" });
    const latest = harness(new FakeCluster(1).append(0, ["old0", "old1"]), { "auto.offset.reset": "latest" });
    const none = harness(new FakeCluster(1).append(0, ["old0", "old1"]), { "auto.offset.reset": "none" });
    for (const h of [earliest, latest, none]) {
      h.runTo(100);
      h.cluster.append(0, ["new2"]);
      h.cluster.changed();
      h.runTo(200);
    }
    expect(values(earliest.reads(), 0)).to.deep.equal(["old0", "old1", "new2"]);
    expect(values(latest.reads(), 0)).to.deep.equal(["new2"]);
    expect(latest.reads()[0][1]).to.equal(2);
    expect((earliest.cluster.seen("ListOffsets")[0].request as ListOffsetsRequest).partitions[0].timestamp).to.equal(-2);
    expect((latest.cluster.seen("ListOffsets")[0].request as ListOffsetsRequest).partitions[0].timestamp).to.equal(-1);
    expect(none.reads()).to.deep.equal([]);
    expect(none.cluster.seen("Fetch")).to.deep.equal([]);
    expect(none.infos().map((e) => [e.error, e.fatal])).to.deep.equal([["NO_OFFSET_FOR_PARTITION", true]]);
  });

  it("follows a leader change: metadata refresh, KIP-320 validation with the last fetched epoch, reading on from the new leader", () => {
    const cluster = new FakeCluster(1, [1, 2]).append(0, ["v0", "v1", "v2"]);
    const h = harness(cluster);
    h.runTo(100);
    expect(h.workload.consumer.position("t", 0)).to.equal(3);
    // A clean election: broker-2 leads at epoch 1 with the same log, then appends.
    cluster.elect(0, 2).append(0, ["v3"]);
    cluster.changed();
    h.runTo(1000);
    expect(values(h.reads(), 0)).to.deep.equal(["v0", "v1", "v2", "v3"]);
    expect(h.reads().map(([, offset]) => offset)).to.deep.equal([0, 1, 2, 3]);
    const validations = cluster.seen("OffsetsForLeaderEpoch").map((r) => ({ broker: r.broker, request: r.request as OffsetsForLeaderEpochRequest }));
    expect(validations).to.have.length(1);
    expect(validations[0].broker).to.equal(2);
    expect(validations[0].request).to.include({ replicaId: -1 });
    expect(validations[0].request.partitions[0]).to.include({ currentLeaderEpoch: 1, leaderEpoch: 0 });
    // The old leader answered FENCED_LEADER_EPOCH or NOT_LEADER_OR_FOLLOWER; the fetches after validation carry epoch 1.
    const toNew = cluster.seen("Fetch", 2).map((r) => (r.request as FetchRequest).partitions[0]);
    expect(toNew.length).to.be.greaterThan(0);
    expect(toNew.every((p) => p.currentLeaderEpoch === 1)).to.equal(true);
    expect(h.infos()).to.deep.equal([]);
    const ok = h.events.filter((e) => e.kind === "op" && e.type === "ok");
    expect(ok[ok.length - 1]).to.include({ leaderEpoch: 1, leader: "broker-2" });
  });

  it("detects log truncation after an unclean election and resets to the leader's end offset for its epoch", () => {
    const cluster = new FakeCluster(1, [1, 2]).append(0, ["v0", "v1", "v2", "v3", "v4"]);
    const h = harness(cluster);
    h.runTo(100);
    expect(h.workload.consumer.position("t", 0)).to.equal(5);
    // broker-2 held only v0..v2 and is elected uncleanly; it appends w3, w4 at epoch 1.
    cluster.elect(0, 2, 3).append(0, ["w3", "w4"]);
    cluster.changed();
    h.runTo(1000);
    const infos = h.infos();
    expect(infos).to.have.length(1);
    expect(infos[0]).to.include({ f: "poll", error: "LOG_TRUNCATION", position: 5, offsetEpoch: 0, leaderEpoch: 1, endOffset: 3, endEpoch: 0, resetTo: 3, leader: "broker-2" });
    expect(h.reads().map(([, offset, value]) => `${offset}:${value}`)).to.deep.equal(["0:v0", "1:v1", "2:v2", "3:v3", "4:v4", "3:w3", "4:w4"]);
    expect(h.workload.consumer.position("t", 0)).to.equal(5);
  });

  it("without a reset policy, a detected truncation is fatal for the partition (LogTruncationException)", () => {
    const cluster = new FakeCluster(1, [1, 2]);
    const h = harness(cluster, { "auto.offset.reset": "none" });
    // "none" cannot start without a committed offset: so this test seeds the position through earliest first.
    h.runTo(100);
    expect(h.infos().map((e) => e.error)).to.deep.equal(["NO_OFFSET_FOR_PARTITION"]);
    const withPolicy = harness(new FakeCluster(1, [1, 2]).append(0, ["v0", "v1", "v2"]), { "auto.offset.reset": "earliest" });
    withPolicy.runTo(100);
    // Switch the policy off mid-run, as a consumer re-created with none and the same positions would behave.
    (withPolicy.workload.consumer as unknown as { defaultResetStrategy: null }).defaultResetStrategy = null;
    withPolicy.cluster.elect(0, 2, 1).append(0, ["w1"]);
    withPolicy.cluster.changed();
    withPolicy.runTo(1000);
    expect(withPolicy.infos().map((e) => [e.error, e.fatal, e.endOffset])).to.deep.equal([["LOG_TRUNCATION", true, 1]]);
    expect(values(withPolicy.reads(), 0)).to.deep.equal(["v0", "v1", "v2"]);
    expect(withPolicy.workload.consumer.assignment[0].failed).to.equal("LOG_TRUNCATION");
  });

  it("resets by auto.offset.reset after OFFSET_OUT_OF_RANGE (records deleted under the position)", () => {
    const cluster = new FakeCluster(1).append(0, ["v0", "v1"]);
    const h = harness(cluster);
    h.runTo(100);
    // Retention deleted everything up to 5 and new records came: the position 2 is below the log start.
    const p = cluster.partitions[0];
    p.records = [{ value: "v5", epoch: 0 }, { value: "v6", epoch: 0 }];
    p.logStartOffset = 5;
    p.highWatermark = 7;
    cluster.changed();
    h.runTo(1000);
    expect(h.infos().map((e) => [e.error, e.fetchOffset, e.resetTo])).to.deep.equal([["OFFSET_OUT_OF_RANGE", 2, "earliest"]]);
    expect(h.reads().map(([, offset, value]) => `${offset}:${value}`)).to.deep.equal(["0:v0", "1:v1", "5:v5", "6:v6"]);
  });

  it("UNKNOWN_LEADER_EPOCH (metadata ahead of the broker) is retried after retry.backoff.ms; stale metadata epochs are ignored", () => {
    const cluster = new FakeCluster(1, [1, 2]).append(0, ["v0"]);
    const h = harness(cluster);
    h.runTo(100);
    // Metadata says epoch 1 on broker-1, which still is at epoch 0 (the next refresh, after the idle fetch returns).
    cluster.partitions[0].metadata = { leader: 1, leaderEpoch: 1 };
    h.workload.consumer.metadata.requestUpdate();
    h.runTo(1000);
    // The new epoch means validating the position first: broker-1 answers UNKNOWN_LEADER_EPOCH, retried every
    // retry.backoff.ms (100 ms, plus a metadata round trip), not in a tight loop.
    const asks = cluster.seen("OffsetsForLeaderEpoch", 1).map((r) => ({ time: r.time, request: r.request as OffsetsForLeaderEpochRequest }));
    expect(asks.length).to.be.within(3, 5);
    expect(asks.every((a) => a.request.partitions[0].currentLeaderEpoch === 1)).to.equal(true);
    for (let i = 1; i < asks.length; i++) expect(asks[i].time - asks[i - 1].time).to.be.at.least(ms(100));
    expect(h.events.filter((e) => e.kind === "consumer-validate-error").map((e) => e.error)).to.include("UNKNOWN_LEADER_EPOCH");
    cluster.append(0, ["v1"]);
    cluster.changed();
    h.runTo(1100);
    expect(values(h.reads(), 0)).to.deep.equal(["v0"]);
    // The broker catches up: reading resumes at epoch 1.
    cluster.partitions[0].leaderEpoch = 1;
    cluster.partitions[0].metadata = undefined;
    h.runTo(1500);
    expect(values(h.reads(), 0)).to.deep.equal(["v0", "v1"]);
    // An older epoch in a later metadata answer does not move the consumer back.
    cluster.partitions[0].metadata = { leader: 2, leaderEpoch: 0 };
    h.workload.consumer.metadata.requestUpdate();
    h.runTo(2500);
    const staleAnswers = cluster.seen("Metadata").filter((r) => r.time > ms(1500));
    expect(staleAnswers.length, "metadata was refreshed while the stale answer stood").to.be.greaterThan(0);
    cluster.append(0, ["v2"]);
    cluster.changed();
    h.runTo(3000);
    expect(values(h.reads(), 0)).to.deep.equal(["v0", "v1", "v2"]);
    expect(cluster.seen("Fetch", 2)).to.deep.equal([]);
    expect(cluster.seen("OffsetsForLeaderEpoch", 2)).to.deep.equal([]);
  });

  it("a silent leader: the fetch times out after request.timeout.ms, metadata names the new leader, reading goes on", () => {
    const cluster = new FakeCluster(1, [1, 2]).append(0, ["v0"]);
    const h = harness(cluster, { "request.timeout.ms": 2000 });
    h.runTo(100);
    cluster.silent.add(1);
    h.runTo(700);
    cluster.elect(0, 2).append(0, ["v1"]);
    h.runTo(5000);
    expect(values(h.reads(), 0)).to.deep.equal(["v0", "v1"]);
    const resumed = h.events.find((e) => e.kind === "op" && e.type === "ok" && e.leader === "broker-2")!;
    // The fetch sent at ~506 ms times out at ~2506 ms; metadata (asked of another broker), validation, fetch follow.
    expect(resumed.t).to.be.within(ms(2506), ms(2700));
  });
});
