/**
 * The loader's rules for group consumers: one line naming the file, the JSON path, what was expected.
 */

import { expect } from "chai";
import { ScenarioError, validateScenario } from "../../src/scenario/load.ts";

type Consumer = Record<string, unknown>;

const scenario = (consumer: Consumer, extra: Record<string, unknown> = {}) => ({
  name: "g",
  duration: "10s",
  cluster: { zookeeper: { servers: 1 }, brokers: 3 },
  topics: [{ name: "t", partitions: 3, replicationFactor: 3 }],
  clients: [{ id: "c1", type: "consumer", topics: ["t"], ...consumer }],
  faults: [] as unknown[],
  ...extra,
});

function errorOf(value: unknown): string {
  try {
    validateScenario(value, "g.json");
  } catch (error) {
    expect(error).to.be.instanceOf(ScenarioError);
    return (error as Error).message;
  }
  throw new Error("expected a ScenarioError");
}

describe("scenario loading: consumer groups", () => {
  it("accepts a group by \"group\" or by config[\"group.id\"], with the group configs and a workload", () => {
    const a = validateScenario(scenario({ group: "g1", config: { "session.timeout.ms": 10_000, "partition.assignment.strategy": "range, org.apache.kafka.clients.consumer.CooperativeStickyAssignor" }, workload: { processMs: 5, commit: "auto" } }), "g.json");
    const client = a.clients[0] as { config: Record<string, unknown>; workload: { processMs: number } };
    expect(client.config["partition.assignment.strategy"]).to.deep.equal(["range", "org.apache.kafka.clients.consumer.CooperativeStickyAssignor"]);
    expect(client.workload.processMs).to.equal(5);
    validateScenario(scenario({ config: { "group.id": "g1", "enable.auto.commit": false }, workload: { commit: "sync-after-process" } }), "g.json");
  });

  it("refuses a group that disagrees with config[\"group.id\"]", () => {
    expect(errorOf(scenario({ group: "g1", config: { "group.id": "g2" } }))).to.equal('g.json: $.clients[0].config["group.id"]: expected the same group as "group" ("g1"), found "g2"');
  });

  it("refuses group configs and a workload without a group", () => {
    expect(errorOf(scenario({ config: { "session.timeout.ms": 10_000 } }))).to.match(/^g\.json: \$\.clients\[0\]\.config\["session\.timeout\.ms"\]: expected a group/);
    expect(errorOf(scenario({ workload: { processMs: 1 } }))).to.match(/^g\.json: \$\.clients\[0\]\.workload: expected a group/);
  });

  it("refuses an unknown assignor, listing the allowed ones", () => {
    expect(errorOf(scenario({ group: "g1", config: { "partition.assignment.strategy": ["range", "fair"] } }))).to.equal(
      'g.json: $.clients[0].config["partition.assignment.strategy"]: expected assignor names ("range", "roundrobin", "sticky", "cooperative-sticky" or Kafka\'s class names), as a list or a comma-separated string',
    );
  });

  it("refuses a commit mode that contradicts enable.auto.commit", () => {
    expect(errorOf(scenario({ group: "g1", config: { "enable.auto.commit": false }, workload: { commit: "auto" } }))).to.match(/\$\.clients\[0\]\.workload\.commit: expected a manual commit mode/);
    expect(errorOf(scenario({ group: "g1", config: { "enable.auto.commit": true }, workload: { commit: "before-process" } }))).to.match(/\$\.clients\[0\]\.config\["enable\.auto\.commit"\]: expected enable\.auto\.commit false/);
  });

  it("refuses a heartbeat at or above the session timeout (Kafka's Heartbeat refuses it), with the version's default session timeout", () => {
    expect(errorOf(scenario({ group: "g1", config: { "heartbeat.interval.ms": 45_000 } }))).to.match(/heartbeat\.interval\.ms\"\]: expected heartbeat\.interval\.ms \(45000\) below session\.timeout\.ms \(45000\)/);
    // Before 3.0 the default session timeout is 10 s.
    expect(errorOf(scenario({ group: "g1", config: { "heartbeat.interval.ms": 12_000 } }, { cluster: { zookeeper: { servers: 1 }, brokers: 3, version: "2.4" } }))).to.match(/below session\.timeout\.ms \(10000\)/);
  });

  it("accepts a session timeout outside the brokers' bounds (the coordinator answers INVALID_SESSION_TIMEOUT)", () => {
    validateScenario(scenario({ group: "g1", config: { "session.timeout.ms": 4000, "heartbeat.interval.ms": 1000 } }), "g.json");
  });

  it("refuses static membership and the cooperative assignor on releases that did not have them", () => {
    const old = { cluster: { zookeeper: { servers: 1 }, brokers: 3, version: "2.0" } };
    expect(errorOf(scenario({ group: "g1", config: { "group.instance.id": "i1" } }, old))).to.match(/group\.instance\.id"\]: expected cluster\.version "2\.4" or later/);
    expect(errorOf(scenario({ group: "g1", config: { "partition.assignment.strategy": ["range", "cooperative-sticky"] } }, old))).to.match(/partition\.assignment\.strategy"\]\[1\]: expected cluster\.version "2\.4" or later/);
  });

  it("accepts {\"coordinatorOf\": group} for a group of the scenario and refuses an unknown group", () => {
    validateScenario(scenario({ group: "g1" }, { faults: [{ type: "crash", at: "1s", node: { coordinatorOf: "g1" } }] }), "g.json");
    expect(errorOf(scenario({ group: "g1" }, { faults: [{ type: "crash", at: "1s", node: { coordinatorOf: "g2" } }] }))).to.equal(
      'g.json: $.faults[0].node.coordinatorOf: expected a consumer group of the scenario\'s clients (g1), found "g2"',
    );
  });
});

describe("scenario loading: a group consumer without topics", () => {
  it("is refused in one line naming the path", () => {
    expect(errorOf(scenario({ group: "g1", topics: [] }))).to.equal("g.json: $.clients[0].topics: expected at least one topic (the topics the consumer reads; a group member subscribes to them)");
    const { topics: _omitted, ...noTopics } = { ...scenario({ group: "g1" }).clients[0] };
    expect(errorOf({ ...scenario({}), clients: [noTopics] })).to.match(/^g\.json: \$\.clients\[0\]\.topics: expected a list of topic names/);
  });
});
