/**
 * The loader's messages for the mistakes a new user makes (issue 19): enum values listed, a misspelt key named
 * with the closest known key (and not also reported as missing), real Kafka keys that are not modelled yet, JSON
 * syntax errors with line and column, every problem of a file at once, one node where a list is expected.
 */

import { expect } from "chai";
import { loadScenario, ScenarioError, validateScenario } from "../../src/scenario/load.ts";
import { closestKey, editDistance, knownKeys } from "../../src/scenario/load-issues.ts";
import { Scenario } from "../../src/scenario/spec.ts";

const cluster = () => ({
  name: "k",
  duration: "10s",
  cluster: { zookeeper: { servers: 1 }, brokers: 3 },
  topics: [{ name: "t", partitions: 1, replicationFactor: 3 }],
  clients: [{ id: "p1", type: "producer", config: { acks: "all" } as Record<string, unknown>, workload: { topic: "t", messages: 10, ratePerSec: 10 } }],
  faults: [] as unknown[],
});

function problemsOf(value: unknown): string[] {
  try {
    validateScenario(value, "s.json");
  } catch (error) {
    expect(error).to.be.instanceOf(ScenarioError);
    return (error as ScenarioError).problems.map((problem) => `${problem.path}: ${problem.expected}`);
  }
  throw new Error("expected a ScenarioError");
}

describe("scenario loading: problems a new user can act on", () => {
  it("lists an enum's allowed values and what was found", () => {
    const doc = cluster();
    doc.clients[0].config.acks = 2;
    expect(problemsOf(doc)).to.deep.equal(['$.clients[0].config.acks: expected one of "all", "1", "0", "-1", found 2']);
    const consumer = { ...cluster(), clients: [{ id: "c1", type: "consumer", topics: ["t"], config: { "auto.offset.reset": "first" } }] };
    expect(problemsOf(consumer)).to.deep.equal(['$.clients[0].config["auto.offset.reset"]: expected one of "earliest", "latest", "none", found "first"']);
  });

  it("names a misspelt key as unknown with the closest known key, not the required key as missing", () => {
    const { duration, ...rest } = cluster();
    expect(problemsOf({ ...rest, durattion: duration })).to.deep.equal(['$.durattion: unknown key: did you mean "duration"? (required, and missing)']);
    const doc = cluster();
    doc.clients[0].config = { "linger.msec": 5 };
    expect(problemsOf(doc)).to.deep.equal(['$.clients[0].config["linger.msec"]: unknown key: did you mean "linger.ms"?']);
    // Nothing close: the plain message.
    expect(problemsOf({ ...cluster(), colour: "red" })).to.deep.equal(["$.colour: unknown key (not part of the scenario format)"]);
  });

  it("says a real Kafka config key is not modelled yet", () => {
    const doc = cluster();
    doc.clients[0].config["compression.type"] = "gzip";
    const [problem] = problemsOf(doc);
    expect(problem).to.match(/^\$\.clients\[0\]\.config\["compression\.type"\]: not modelled yet \(a real Kafka producer config/);
    const broker = { ...cluster(), cluster: { zookeeper: { servers: 1 }, brokers: 3, config: { "num.io.threads": 8 } } };
    expect(problemsOf(broker)[0]).to.match(/config\["num\.io\.threads"\]: not modelled yet \(a real Kafka broker config/);
  });

  it("reports every problem of the file, schema and semantic ones", () => {
    const doc = cluster();
    doc.clients[0].config = { acks: 2, "linger.ms": -5 };
    expect(problemsOf(doc)).to.have.length(2);
    const semantic = cluster();
    semantic.clients[0].workload.topic = "nope";
    semantic.faults = [
      { at: "1s", type: "crash", node: "broker-9" },
      { at: "2s", type: "crash", node: "broker-7" },
    ];
    expect(problemsOf(semantic)).to.deep.equal([
      '$.clients[0].workload.topic: expected a topic of the scenario (t), found "nope"',
      '$.faults[0].node: expected one of the cluster\'s nodes (zk-1, broker-1, broker-2, broker-3, admin, p1), found "broker-9"',
      '$.faults[1].node: expected one of the cluster\'s nodes (zk-1, broker-1, broker-2, broker-3, admin, p1), found "broker-7"',
    ]);
  });

  it("gives JSON syntax errors a line and a column", () => {
    expect(() => loadScenario('{\n  "name": "x",\n  "seed": 1,,\n}\n', "bad.json")).to.throw(ScenarioError, /^bad\.json: line 3, column 13: expected valid JSON/);
    expect(() => loadScenario("", "empty.json")).to.throw(ScenarioError, /^empty\.json: line 1, column 1: expected valid JSON/);
  });

  it("accepts one node where a list of nodes is expected", () => {
    const oneWay = { ...cluster(), faults: [{ at: "1s", type: "partition", from: "broker-1", to: "broker-2" }] };
    const fault = validateScenario(oneWay, "s.json").faults[0] as { from: unknown; to: unknown };
    expect(fault.from).to.deep.equal(["broker-1"]);
    expect(fault.to).to.deep.equal(["broker-2"]);
    const groups = { ...cluster(), faults: [{ at: "1s", type: "partition", groups: ["broker-1", "rest"] }] };
    expect((validateScenario(groups, "s.json").faults[0] as { groups: unknown }).groups).to.deep.equal([["broker-1"], "rest"]);
    const powerLoss = { ...cluster(), faults: [{ at: "1s", type: "power-loss", nodes: "broker-2" }] };
    expect((validateScenario(powerLoss, "s.json").faults[0] as { nodes: unknown }).nodes).to.deep.equal(["broker-2"]);
  });

  it("finds the keys an object allows through unions and defaults, and the closest one", () => {
    const doc = cluster();
    const faultKeys = knownKeys(Scenario, { ...doc, faults: [{ type: "pause", at: "1s" }] }, ["faults", 0]);
    expect(faultKeys).to.include.members(["type", "at", "node", "for", "note"]);
    expect(faultKeys).to.not.include("groups");
    expect(knownKeys(Scenario, doc, ["clients", 0, "config"])).to.include("linger.ms");
    expect(closestKey("durattion", ["duration", "settle"])).to.equal("duration");
    expect(closestKey("xyz", ["duration", "settle"])).to.equal(null);
    expect(editDistance("acks", "akcs")).to.equal(1);
    expect(editDistance("", "abc")).to.equal(3);
  });
});
