import { expect } from "chai";
import { run, scenarioFile, withCluster, type Spec } from "./helpers.ts";

/**
 * Configurations that once spun the simulator at one instant (issue 14): every shipped-scenario variant here
 * must reach its end time well within its event limit.
 */
describe("zero-time loops", () => {
  /** happy-path for 10 s + 1 s settle with `config` on every broker, at most 1 M events. */
  function happyPath(config: Spec): Spec {
    return { ...withCluster(scenarioFile("happy-path"), { config }), duration: "10s", settle: "1s", limits: { maxEvents: 1_000_000 } };
  }

  for (const lag of [0, 1]) {
    it(`replica.lag.time.max.ms ${lag} (isr-expiration period 0; fetch wait <= lag as KafkaConfig demands): the run reaches 11 s`, () => {
      const { result, events } = run(happyPath({ "replica.lag.time.max.ms": lag, "replica.fetch.wait.max.ms": lag }));
      expect(result.verdict).to.equal("time-limit");
      expect(result.stats.simulatedMs).to.equal(11_000);
      expect(result.stats.events).to.be.below(1_000_000);
      // As in Kafka 3.4+, the task ran once at start-up, before any partition had a leader: no shrink for lag.
      expect(events.filter((e) => e.kind === "isr-shrink")).to.deep.equal([]);
      expect(result.violations).to.deep.equal([]);
    });
  }
});
