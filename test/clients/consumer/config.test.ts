import { expect } from "chai";
import { consumerConfig, consumerConfigProblem, describeConsumerConfig } from "../../../src/clients/consumer/config.ts";
import { commonProtocol } from "../../../src/clients/consumer/consumer-coordinator.ts";
import { TestCooperativeAssignor, TestRangeAssignor } from "./group-harness.ts";

describe("consumer config", () => {
  it("has Kafka 3.x group defaults", () => {
    const config = consumerConfig("c1", { "group.id": "g" });
    expect(config["session.timeout.ms"]).to.equal(45_000);
    expect(config["heartbeat.interval.ms"]).to.equal(3_000);
    expect(config["max.poll.interval.ms"]).to.equal(300_000);
    expect(config["max.poll.records"]).to.equal(500);
    expect(config["enable.auto.commit"]).to.equal(true);
    expect(config["auto.commit.interval.ms"]).to.equal(5_000);
    expect(config["partition.assignment.strategy"]).to.deep.equal(["range", "cooperative-sticky"]);
    expect(config["default.api.timeout.ms"]).to.equal(60_000);
  });

  for (const version of ["0.10.2", "2.0", "2.4"] as const) {
    it(`has ${version}'s session timeout (10 s) and strategy ([range])`, () => {
      const config = consumerConfig("c1", { "group.id": "g" }, version);
      expect(config["session.timeout.ms"]).to.equal(10_000);
      expect(config["partition.assignment.strategy"]).to.deep.equal(["range"]);
    });
  }

  it("lets overrides win over the version's defaults", () => {
    expect(consumerConfig("c1", { "group.id": "g", "session.timeout.ms": 30_000 }, "2.0")["session.timeout.ms"]).to.equal(30_000);
  });

  it("does not auto-commit without a group, and records no group keys then", () => {
    const config = consumerConfig("c1");
    expect(config["enable.auto.commit"]).to.equal(false);
    const described = describeConsumerConfig(config);
    expect(described).to.not.have.property("group.id");
    expect(described).to.not.have.property("session.timeout.ms");
    expect(described).to.have.property("fetch.max.wait.ms", 500);
    expect(describeConsumerConfig(consumerConfig("c1", { "group.id": "g" }))).to.have.property("group.id", "g");
  });

  it("refuses a heartbeat interval not below the session timeout", () => {
    expect(consumerConfigProblem(consumerConfig("c1", { "group.id": "g", "heartbeat.interval.ms": 45_000 }))).to.match(/heartbeat\.interval\.ms/);
    expect(consumerConfigProblem(consumerConfig("c1", { "group.id": "g" }))).to.equal(null);
  });

  it("picks the rebalance protocol every assignor supports (range + cooperative-sticky: EAGER)", () => {
    expect(commonProtocol([new TestRangeAssignor(), new TestCooperativeAssignor()])).to.equal("EAGER");
    expect(commonProtocol([new TestCooperativeAssignor()])).to.equal("COOPERATIVE");
  });
});
