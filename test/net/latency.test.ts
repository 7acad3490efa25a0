import { expect } from "chai";
import { Rng } from "../../src/sim/rng.ts";
import { ModelAssertionError } from "../../src/sim/assert.ts";
import { latencySampler, minLatency, sampleLatency, validateLatency, type LatencySpec } from "../../src/net/latency.ts";
import { makeNet } from "./helpers.ts";

function samples(spec: LatencySpec, count: number, seed = "latency"): number[] {
  const sample = latencySampler(spec, new Rng(seed));
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(sample());
  return out;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe("latency distributions", () => {
  it("constant gives exactly its value and draws no randomness", () => {
    const rng = new Rng("x");
    const twin = new Rng("x");
    expect(samples({ dist: "constant", us: 1234 }, 100)).to.deep.equal(new Array(100).fill(1234));
    expect(sampleLatency({ dist: "constant", us: 7.6 }, rng)).to.equal(8);
    expect(rng.float()).to.equal(twin.float());
  });

  it("uniform stays within [minUs, maxUs], hits both ends and averages the midpoint", () => {
    const xs = samples({ dist: "uniform", minUs: 1000, maxUs: 1010 }, 20_000);
    for (const x of xs) {
      expect(Number.isInteger(x)).to.equal(true);
      expect(x).to.be.within(1000, 1010);
    }
    expect(xs).to.include(1000);
    expect(xs).to.include(1010);
    expect(mean(xs)).to.be.closeTo(1005, 0.2);
  });

  it("normal is clamped at minUs and centred on meanUs", () => {
    const xs = samples({ dist: "normal", meanUs: 2000, stddevUs: 1000, minUs: 500 }, 20_000);
    for (const x of xs) {
      expect(Number.isInteger(x)).to.equal(true);
      expect(x).to.be.at.least(500);
    }
    expect(xs.filter((x) => x === 500).length).to.be.greaterThan(0); // the clamp is hit (P(x<500) ≈ 6.7%)
    const unclamped = samples({ dist: "normal", meanUs: 20_000, stddevUs: 1000, minUs: 0 }, 20_000);
    expect(mean(unclamped)).to.be.closeTo(20_000, 30);
  });

  it("exponential is minUs plus a tail, with meanUs the overall mean", () => {
    const xs = samples({ dist: "exponential", meanUs: 3000, minUs: 1000 }, 40_000);
    for (const x of xs) {
      expect(Number.isInteger(x)).to.equal(true);
      expect(x).to.be.at.least(1000);
    }
    expect(mean(xs)).to.be.closeTo(3000, 40);
    expect(Math.max(...xs)).to.be.greaterThan(10_000);
  });

  it("never goes negative, even with a zero floor", () => {
    for (const x of samples({ dist: "normal", meanUs: 0, stddevUs: 1000, minUs: 0 }, 5000)) {
      expect(x).to.be.at.least(0);
      expect(Object.is(x, -0)).to.equal(false);
    }
    for (const x of samples({ dist: "exponential", meanUs: 0, minUs: 0 }, 1000)) expect(x).to.equal(0);
  });

  it("minLatency is the distribution's floor", () => {
    expect(minLatency({ dist: "constant", us: 5 })).to.equal(5);
    expect(minLatency({ dist: "uniform", minUs: 3, maxUs: 9 })).to.equal(3);
    expect(minLatency({ dist: "normal", meanUs: 10, stddevUs: 1, minUs: 4 })).to.equal(4);
    expect(minLatency({ dist: "exponential", meanUs: 10, minUs: 2 })).to.equal(2);
  });

  it("rejects invalid specs with a model assertion", () => {
    const bad: unknown[] = [
      { dist: "constant", us: -1 },
      { dist: "constant", us: NaN },
      { dist: "uniform", minUs: 10, maxUs: 5 },
      { dist: "normal", meanUs: 10, stddevUs: -1, minUs: 0 },
      { dist: "exponential", meanUs: 1, minUs: 2 },
      { dist: "pareto", us: 1 },
    ];
    for (const spec of bad) expect(() => validateLatency(spec as LatencySpec)).to.throw(ModelAssertionError);
  });

  it("network deliveries take a latency drawn from the configured distribution", () => {
    const t = makeNet(["a", "b"], { latency: { dist: "uniform", minUs: 1000, maxUs: 5000 } });
    for (let i = 0; i < 500; i++) t.at(i * 10_000, () => t.send("a", "b"));
    t.run();
    expect(t.log).to.have.length(500);
    const latencies = t.log.map((r) => r.t - r.sentAt);
    for (const l of latencies) expect(l).to.be.within(1000, 5000);
    expect(new Set(latencies).size).to.be.greaterThan(100);
    expect(mean(latencies)).to.be.closeTo(3000, 200);
  });
});
