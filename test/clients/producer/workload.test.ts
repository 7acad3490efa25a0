import { expect } from "chai";
import { Rng } from "../../../src/sim/rng.ts";
import { keyChooser } from "../../../src/workload/key-distribution.ts";
import { FakeCluster } from "./fake-cluster.ts";
import { runWorkload, summary } from "./harness.ts";

describe("producer workload", () => {
  it("sends unique values at the rate, records invoke then ok with partition and offset, and emits client-config", () => {
    const cluster = new FakeCluster(1);
    const { ops, events, workload } = runWorkload(cluster, { acks: "all" }, { messages: 3, ratePerSec: 100 });
    expect(summary(ops)).to.deep.equal([
      ["invoke", "p1-000000", -1, null, null], // at 0 ms, before any metadata: partition not known yet
      ["ok", "p1-000000", 0, 0, null],
      ["invoke", "p1-000001", 0, null, null],
      ["ok", "p1-000001", 0, 1, null],
      ["invoke", "p1-000002", 0, null, null],
      ["ok", "p1-000002", 0, 2, null],
    ]);
    expect(ops.filter((op) => op.type === "invoke").map((op) => op.t)).to.deep.equal([0, 10_000, 20_000]);
    expect(ops[1]).to.include({ process: "p1", f: "send", opId: 0, topic: "t", key: null, attempts: 1 });
    const config = events.find((e) => e.kind === "client-config")!;
    expect(config).to.include({ process: "p1", role: "producer", acks: "all", "enable.idempotence": true, "max.in.flight.requests.per.connection": 5 });
    expect(workload.completedCount).to.equal(3);
    expect(workload.producer.isClosed).to.equal(true);
  });

  it("records info for an unknown outcome and fail for a record surely not written", () => {
    const silent = new FakeCluster(1);
    silent.behaviour = () => "silent";
    const info = runWorkload(silent, { "request.timeout.ms": 1000, "delivery.timeout.ms": 1500 }, { messages: 1 });
    expect(summary(info.ops)[1]).to.deep.equal(["info", "p1-000000", 0, null, "DELIVERY_TIMEOUT"]);

    const rejected = new FakeCluster(1);
    rejected.behaviour = () => ({ error: "NOT_ENOUGH_REPLICAS", append: false });
    const fail = runWorkload(rejected, { "request.timeout.ms": 1000, "delivery.timeout.ms": 1500 }, { messages: 1 });
    expect(summary(fail.ops)[1]).to.deep.equal(["fail", "p1-000000", 0, null, "DELIVERY_TIMEOUT"]);
  });

  it("with acks=0 records info right after each invoke", () => {
    const { ops } = runWorkload(new FakeCluster(1), { acks: "0" }, { messages: 2 });
    expect(summary(ops).map((row) => (row as unknown[])[0])).to.deep.equal(["invoke", "info", "invoke", "info"]);
    expect(ops[1].error).to.equal("NO_ACKS");
  });

  it("stops at stopAt and starts at startAt", () => {
    const { ops } = runWorkload(new FakeCluster(1), {}, { messages: 100, ratePerSec: 100, startAtMs: 50, stopAtMs: 85 });
    expect(ops.filter((op) => op.type === "invoke").map((op) => op.t)).to.deep.equal([50_000, 60_000, 70_000, 80_000]);
  });

  it("draws keys uniformly or with 80 % on the first 20 % of keys, deterministically from the seed", () => {
    const draw = (distribution: "uniform" | "hot", seed: string) => {
      const next = keyChooser(10, distribution, new Rng(seed));
      return Array.from({ length: 5000 }, () => next());
    };
    const hot = draw("hot", "a");
    const share = hot.filter((k) => k === "k0" || k === "k1").length / hot.length;
    expect(share).to.be.within(0.77, 0.83);
    expect(new Set(hot).size).to.equal(10);
    const uniform = draw("uniform", "a");
    expect(uniform.filter((k) => k === "k0").length / uniform.length).to.be.within(0.08, 0.12);
    expect(draw("hot", "a")).to.deep.equal(hot);
    expect(draw("hot", "b")).to.not.deep.equal(hot);
    expect(keyChooser(undefined, "uniform", new Rng("a"))()).to.equal(null);
  });
});
