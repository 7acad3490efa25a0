/**
 * The era presets: each switch takes its fixed value from the release that shipped the fix, and every preset
 * runs a small scenario to a verdict. The table below is docs/versions.md's, read at Kafka's release tags.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { KAFKA_VERSIONS, resolveBrokerSettings, versionBefore, type Compat, type KafkaVersion } from "../../src/broker/config.ts";
import { DEFAULT_COMPAT } from "../../src/broker/config.ts";
import { validateScenario } from "../../src/scenario/load.ts";
import { Compat as CompatSchema } from "../../src/scenario/spec.ts";
import { runScenario } from "../../src/scenario/run.ts";

/** Switch → [value before the fix, value from the fix on, first preset with the fix]. */
const FIXED_IN: ReadonlyArray<[keyof Compat, unknown, unknown, KafkaVersion]> = [
  ["fetchSessions", false, true, "1.1"],
  ["epochCacheOnElection", false, true, "2.1"],
  ["caughtUpFollowerStaysInSync", false, true, "2.1"],
  ["isrJoinNeedsEpochStart", false, true, "2.1"],
  ["outOfRangeTruncation", "halt-unless-unclean", "truncate", "2.1"],
  ["fetcherRestart", "leader-change", "epoch-change", "2.1"],
  ["controllerEpochCheck", false, true, "2.1"],
  ["brokerEpochs", false, true, "2.2"],
  ["fullMetadataToNewBrokersOnly", false, true, "2.2"],
  ["memberIdRequired", false, true, "2.2"],
  ["offlineReplicasOnFailover", false, true, "2.4"],
  ["staticMembership", false, true, "2.4"],
  ["isrUpdate", "zk-direct", "alter-isr", "2.7"],
  ["rebalanceInProgressOnSyncHeartbeat", true, false, "2.7"],
  ["pendingSyncTimeout", false, true, "3.3"],
  ["reelectionResetsNonIsrFetchTime", false, true, "3.3"],
  ["transactionVerification", false, true, "3.x"],
  ["hwNeedsMinIsr", false, true, "3.x"],
];

describe("version presets", () => {
  it("lists the presets oldest first, 3.x last", () => {
    expect(KAFKA_VERSIONS).to.deep.equal(["0.10.2", "0.11", "1.1", "2.0", "2.1", "2.2", "2.4", "2.7", "3.3", "3.x"]);
    expect(versionBefore("2.0", "2.1")).to.equal(true);
    expect(versionBefore("2.1", "2.1")).to.equal(false);
  });

  for (const [key, before, after, release] of FIXED_IN) {
    it(`${key}: ${JSON.stringify(before)} before ${release}, ${JSON.stringify(after)} from ${release} on`, () => {
      for (const version of KAFKA_VERSIONS) {
        const expected = versionBefore(version, release) ? before : after;
        expect(resolveBrokerSettings(version).compat[key], version).to.equal(expected);
      }
    });
  }

  it("truncation: high watermark (0.10.2), KIP-101 (0.11, 1.1), KIP-279 (2.0), KIP-320 (2.1 on)", () => {
    const modes = KAFKA_VERSIONS.map((v) => resolveBrokerSettings(v).compat.truncation);
    expect(modes).to.deep.equal(["high-watermark", "kip-101", "kip-101", "kip-279", "kip-320", "kip-320", "kip-320", "kip-320", "kip-320", "kip-320"]);
  });

  it("KIP-841's check is off in 2.7, the only alter-isr preset before 3.3", () => {
    expect(resolveBrokerSettings("2.7").compat.ineligibleReplicaCheck).to.equal(false);
    expect(resolveBrokerSettings("3.3").compat.ineligibleReplicaCheck).to.equal(true);
  });

  it("config defaults per era: unclean election, topic deletion, offsets retention, KIP-537 timeouts", () => {
    const row = (key: string): unknown[] => KAFKA_VERSIONS.map((v) => (resolveBrokerSettings(v).all as Record<string, unknown>)[key] ?? (resolveBrokerSettings(v).replication as unknown as Record<string, unknown>)[key]);
    expect(row("unclean.leader.election.enable")).to.deep.equal([true, false, false, false, false, false, false, false, false, false]);
    expect(row("delete.topic.enable")).to.deep.equal([false, false, true, true, true, true, true, true, true, true]);
    expect(row("offsets.retention.minutes")).to.deep.equal([1440, 1440, 1440, 10_080, 10_080, 10_080, 10_080, 10_080, 10_080, 10_080]);
    expect(row("replica.lag.time.max.ms")).to.deep.equal([10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 30_000, 30_000, 30_000]);
    expect(row("zookeeper.session.timeout.ms")).to.deep.equal([6000, 6000, 6000, 6000, 6000, 6000, 6000, 18_000, 18_000, 18_000]);
    expect(row("group.max.session.timeout.ms")).to.deep.equal([300_000, 300_000, 300_000, 300_000, 300_000, 300_000, 1_800_000, 1_800_000, 1_800_000, 1_800_000]);
    expect(row("group.initial.rebalance.delay.ms")).to.deep.equal([0, 3000, 3000, 3000, 3000, 3000, 3000, 3000, 3000, 3000]);
  });

  it("the scenario format accepts every compat switch, with its default value", () => {
    expect(Object.keys(CompatSchema.shape).sort()).to.deep.equal(Object.keys(DEFAULT_COMPAT).sort());
    expect(CompatSchema.parse({ ...DEFAULT_COMPAT })).to.deep.equal({ ...DEFAULT_COMPAT });
  });

  it("explicit compat entries win over the preset", () => {
    expect(resolveBrokerSettings("2.0", {}, { fetcherRestart: "epoch-skip" }).compat.fetcherRestart).to.equal("epoch-skip");
  });

  for (const file of ["scenarios/happy-path.json", "scenarios/leader-failover.json"]) {
    it(`every preset runs ${file} to a verdict, without a model error`, function () {
      this.timeout(120_000);
      const raw = JSON.parse(readFileSync(file, "utf8")) as { cluster: Record<string, unknown> };
      for (const version of KAFKA_VERSIONS) {
        const scenario = validateScenario({ ...raw, cluster: { ...raw.cluster, version } }, file);
        const result = runScenario(scenario, { seed: 1 });
        expect(result.verdict, `${version}: ${result.error ?? result.detail ?? ""}`).to.not.be.oneOf(["model-error", "stalled", "wall-limit", "memory-limit"]);
        expect(result.stats.events, version).to.be.greaterThan(1000);
      }
    });
  }
});
