/**
 * Every numeric config key at the edges of the range the loader accepts (Kafka's ConfigDef type and validator,
 * narrowed where the model documents why): each edge value either loads and runs to a verdict that is not a
 * model error or a stall, within a bounded number of events — or is refused by the loader in one line. Values
 * just outside the range are refused in one line naming the allowed range.
 */

import { expect } from "chai";
import { validateScenario, ScenarioError } from "../../src/scenario/load.ts";
import { runScenario } from "../../src/scenario/run.ts";
import {
  allowedRange,
  BROKER_NUMBER_DEFS,
  CONSUMER_NUMBER_DEFS,
  PRODUCER_NUMBER_DEFS,
  TOPIC_NUMBER_DEFS,
  type NumberDef,
} from "../../src/scenario/config-def.ts";

const ONE_LINE = /^[^\n]+\.json: \$[^\n]*: expected [^\n]+$/;

function base(): Record<string, unknown> {
  return {
    name: "config-edge",
    duration: "6s",
    settle: "2s",
    cluster: { zookeeper: { servers: 1 }, brokers: 2, config: { "zookeeper.session.timeout.ms": 6000 } },
    topics: [{ name: "t", partitions: 1, replicationFactor: 2, config: {} }],
    clients: [
      { id: "p1", type: "producer", config: { acks: "all" }, workload: { topic: "t", messages: 40, ratePerSec: 20, startAt: "1s" } },
      { id: "c1", type: "consumer", topics: ["t"], config: {} },
    ],
    faults: [{ at: "3s", type: "crash", node: { leaderOf: "t-0" }, for: "1s" }],
    limits: { maxEvents: 400_000, maxEventsPerInstant: 50_000 },
  };
}

type Place = "cluster" | "topic" | "producer" | "consumer";

function withKey(place: Place, key: string, value: unknown): Record<string, unknown> {
  const spec = base() as {
    cluster: { config: Record<string, unknown> };
    topics: { config: Record<string, unknown> }[];
    clients: { config: Record<string, unknown> }[];
  };
  const target = { cluster: spec.cluster.config, topic: spec.topics[0].config, producer: spec.clients[0].config, consumer: spec.clients[1].config }[place];
  target[key] = value;
  return spec;
}

/** The edges worth running: the range's ends (LONGs beyond 2^53 as Long.MAX_VALUE), and 0 / -1 / 1 when inside. */
function edges(d: NumberDef): number[] {
  const [low, high] = allowedRange(d);
  const values = new Set<number>([low, high]);
  for (const v of [-1, 0, 1]) if (v >= low && v <= high) values.add(v);
  return [...values];
}

const GROUPS: [Place, Readonly<Record<string, NumberDef>>][] = [
  ["cluster", BROKER_NUMBER_DEFS],
  ["topic", TOPIC_NUMBER_DEFS],
  ["producer", PRODUCER_NUMBER_DEFS],
  ["consumer", CONSUMER_NUMBER_DEFS],
];

describe("config ranges: Kafka's ConfigDef in the loader", function () {
  this.timeout(300_000);

  for (const [place, defs] of GROUPS) {
    it(`${place} keys at the edges of their range run to a verdict or are refused in one line`, () => {
      const failures: string[] = [];
      for (const [key, d] of Object.entries(defs)) {
        for (const value of edges(d)) {
          let scenario;
          try {
            scenario = validateScenario(withKey(place, key, value), "edge.json");
          } catch (error) {
            // A cross-key rule (KafkaConfig.validateValues) may refuse an edge value: one line, never a throw.
            if (!(error instanceof ScenarioError)) throw error;
            expect(error.message).to.match(ONE_LINE);
            continue;
          }
          const result = runScenario(scenario, { hash: false });
          if (result.verdict === "model-error" || result.verdict === "stalled") failures.push(`${key}=${value}: ${result.verdict} ${result.error ?? result.detail ?? ""}`.split("\n")[0]);
        }
      }
      expect(failures).to.deep.equal([]);
    });
  }

  it("values just outside the range, fractional integers and non-numbers are refused in one line naming the range", () => {
    for (const [place, defs] of GROUPS) {
      for (const [key, d] of Object.entries(defs)) {
        const [low, high] = allowedRange(d);
        // Below Long.MIN_VALUE and above Long.MAX_VALUE there is no other double: those ends are checked by type.
        const bad: unknown[] = ["10", null];
        if (low - 1 !== low) bad.push(low - 1);
        if (high * 2 + 1 !== high && Number.isFinite(high * 2 + 1)) bad.push(high * 2 + 1);
        if (d.type !== "DOUBLE") bad.push(Math.max(low, Math.min(high - 1, 0)) + 0.5);
        for (const value of bad) {
          const attempt = () => validateScenario(withKey(place, key, value), "edge.json");
          expect(attempt, `${key}=${String(value)}`).to.throw(ScenarioError, /expected (an integer|a number) in \[|expected replica.fetch.wait.max.ms/);
          try {
            attempt();
          } catch (error) {
            expect((error as Error).message).to.match(ONE_LINE);
          }
        }
      }
    }
  });

  it("refuses the values of the robustness report with the JSON path and the allowed range", () => {
    const cases: [Place, string, unknown, RegExp][] = [
      ["cluster", "zookeeper.session.timeout.ms", 0, /\[1, 2147483647\]/],
      ["cluster", "log.segment.bytes", -1, /\[14, 2147483647\].*atLeast\(14\)/],
      ["topic", "flush.messages", 0, /atLeast\(1\)/],
      ["cluster", "log.cleaner.backoff.ms", 0.5, /an integer/],
      ["cluster", "message.max.bytes", -1000, /atLeast\(0\)/],
      ["cluster", "log.index.size.max.bytes", 1, /atLeast\(4\)/],
      ["cluster", "log.roll.ms", -1, /atLeast\(1\)/],
      ["cluster", "log.index.interval.bytes", -1, /atLeast\(0\)/],
      ["cluster", "replica.high.watermark.checkpoint.interval.ms", 0.5, /an integer/],
      ["cluster", "log.retention.check.interval.ms", 0.0001, /atLeast\(1\)/],
      ["cluster", "replica.lag.time.max.ms", -0.5, /an integer/],
      ["cluster", "replica.fetch.wait.max.ms", 1e308, /\[0, 2147483647\]/],
      ["cluster", "controller.socket.timeout.ms", 1e308, /2147483647/],
      ["cluster", "replica.fetch.max.bytes", -1, /atLeast\(0\)/],
    ];
    for (const [place, key, value, range] of cases) {
      const attempt = () => validateScenario(withKey(place, key, value), "edge.json");
      expect(attempt, `${key}=${String(value)}`).to.throw(ScenarioError, range);
      try {
        attempt();
      } catch (error) {
        const path = place === "cluster" ? `$.cluster.config["${key}"]` : `$.topics[0].config["${key}"]`;
        expect((error as Error).message).to.contain(path);
      }
    }
  });

  it("keeps Kafka's special values: a negative log.retention.ms is unlimited, Long.MAX_VALUE is never", () => {
    const retention = validateScenario(withKey("cluster", "log.retention.ms", -1000), "edge.json");
    expect(retention.cluster.config["log.retention.ms" as keyof typeof retention.cluster.config]).to.equal(-1);
    expect(() => validateScenario(withKey("cluster", "log.retention.ms", 0), "edge.json")).to.throw(ScenarioError, /unlimited/);
    const never = validateScenario(withKey("topic", "flush.ms", 9223372036854775807), "edge.json");
    expect((never.topics[0].config as Record<string, unknown>)["flush.ms"]).to.equal(Number.MAX_SAFE_INTEGER);
    const result = runScenario(retention, { hash: false });
    expect(result.verdict).to.not.equal("model-error");
  });

  it("applies KafkaConfig.validateValues' rules between keys", () => {
    expect(() => validateScenario(withKey("cluster", "replica.lag.time.max.ms", 100), "edge.json")).to.throw(ScenarioError, /replica.fetch.wait.max.ms \(500\) ≤ replica.lag.time.max.ms \(100\)/);
    expect(() => validateScenario(withKey("cluster", "replica.socket.timeout.ms", 499), "edge.json")).to.throw(ScenarioError, /replica.socket.timeout.ms/);
  });
});
