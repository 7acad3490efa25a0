/**
 * The transaction known failures (scenarios/kafka-14402-*, kafka-17754-*, eos-zombie-*) swept over seeds 6–8 (the
 * library test sweeps 1–5 against each file's `expect`): each historical twin shows its violation at some seed
 * (here: at every one) and each safe twin shows none at any, with the mechanism visible in the trace — the late Produce opening a transaction no marker closes, the
 * leader's verification refusing it, the next transaction's COMMIT marker committing aborted records, the
 * zombie processor's transaction aborted.
 */

import { expect } from "chai";
import { validateScenario } from "../../src/scenario/load.ts";
import { runScenario } from "../../src/scenario/run.ts";
import { kinds, ops, run, scenarioFile } from "./helpers.ts";

const SEEDS = [6, 7, 8];

/** The violation names of one seed, run as explore runs it (checkers on, no trace kept). */
function violations(name: string, seed: number): string[] {
  const result = runScenario(validateScenario(scenarioFile(name), `${name}.json`), { seed, hash: false });
  expect(result.error, `${name} seed ${seed}: model error`).to.equal(undefined);
  return [...new Set(result.violations.map((v) => v.name))].sort();
}

describe("transaction known failures over seeds", function () {
  this.timeout(600_000);

  const pairs = [
    { broken: "kafka-14402-hanging-transaction", shows: "hanging-transaction", fixed: "kafka-14402-verified" },
    { broken: "kafka-17754-late-write", shows: "aborted-read", fixed: "kafka-17754-epoch-bump" },
    { broken: "eos-zombie-at-least-once", shows: "duplicate-write", fixed: "eos-zombie-fenced" },
  ];
  for (const pair of pairs) {
    it(`${pair.broken} shows ${pair.shows}; ${pair.fixed} shows nothing (seeds ${SEEDS[0]}..${SEEDS[SEEDS.length - 1]})`, () => {
      const brokenSeeds = SEEDS.filter((seed) => violations(pair.broken, seed).includes(pair.shows));
      expect(brokenSeeds.length, `${pair.broken}: seeds showing ${pair.shows}`).to.be.greaterThan(0);
      for (const seed of SEEDS) expect(violations(pair.fixed, seed), `${pair.fixed} seed ${seed}`).to.deep.equal([]);
    });
  }
});

describe("transaction known failures: the mechanism in the trace (seed 1)", function () {
  this.timeout(120_000);

  it("14402: the late Produce opens a transaction after the ABORT marker; with verification it is refused", () => {
    const broken = run(scenarioFile("kafka-14402-hanging-transaction")).events;
    const abort = kinds(broken, "txn-marker-written", (e) => e.result === "ABORT")[0];
    const lso = kinds(broken, "txn-lso", (e) => e.topicPartition === "t-0");
    // The LSO's last move is to just past the ABORT marker; the HW moves on past it (the late records), the LSO never.
    expect(lso[lso.length - 1].lastStableOffset).to.equal((abort.offset as number) + 1);
    const hang = run(scenarioFile("kafka-14402-hanging-transaction")).result.violations.find((v) => v.name === "hanging-transaction")!;
    expect((hang.evidence as { lastStableOffset: number }).lastStableOffset).to.equal((abort.offset as number) + 1);
    expect((hang.evidence as { highWatermark: number }).highWatermark).to.be.greaterThan((abort.offset as number) + 1);
    expect(kinds(broken, "txn-verification")).to.have.length(0);
    const fixed = run(scenarioFile("kafka-14402-verified")).events;
    const refused = kinds(fixed, "txn-verification", (e) => e.result === "INVALID_PRODUCER_EPOCH");
    expect(refused.length).to.be.greaterThan(0);
    expect(kinds(fixed, "txn-verification", (e) => e.result === "verified").every((e) => e.t < refused[0].t)).to.equal(true);
  });

  it("17754: the next transaction's COMMIT marker commits the aborted records; with the epoch bump the marker fences them", () => {
    const broken = run(scenarioFile("kafka-17754-late-write"));
    const read = broken.result.violations.find((v) => v.name === "aborted-read")!;
    const evidence = read.evidence as { transaction: { producerEpoch: number }; marker: { result: string; producerEpoch: number } };
    expect(evidence.marker.result).to.equal("COMMIT");
    expect(evidence.marker.producerEpoch).to.be.greaterThan(evidence.transaction.producerEpoch);
    const fixed = run(scenarioFile("kafka-17754-epoch-bump")).events;
    const failed = ops(fixed, "fail", (e) => e.f === "txn")[0];
    const abort = kinds(fixed, "txn-marker-written", (e) => e.result === "ABORT")[0];
    expect(abort.producerEpoch).to.equal((failed.producerEpoch as number) + 1);
  });

  it("zombie processor: x1's transaction aborts under exactly_once_v2; its outputs are read twice under at_least_once", () => {
    const fixed = run(scenarioFile("eos-zombie-fenced")).events;
    expect(ops(fixed, "fail", (e) => e.f === "txn" && e.process === "x1" && e.t > 30e6).length).to.be.at.least(1);
    const broken = run(scenarioFile("eos-zombie-at-least-once")).events;
    expect(ops(broken, "fail", (e) => e.f === "commit" && e.process === "x1" && e.error === "CommitFailedException").length).to.be.at.least(1);
  });
});
