// Property test of the consumer-group invariants over arbitrary fault schedules (fast-check). A small cluster
// (3 ZooKeeper servers, 3 brokers, topic t with 3 partitions RF 3, __consumer_offsets with 2 partitions RF 3,
// unclean election off, min.insync.replicas 2), one idempotent acks=all producer and a group of three consumers
// committing synchronously after processing, under a random schedule of consumer crashes, pauses and
// partitions, coordinator-targeted faults ({"coordinatorOf": "g1"}) and broker faults. No schedule may show
// double-assignment, lost-commit or skipped-record, nor any replication violation.
//
// The same generator with commits before processing (at-most-once) must find skipped-record: the checkers have
// teeth. Runs: KAFKASIM_GROUP_PROPERTY_RUNS (default 25); fast-check's seed is fixed in test/setup.ts.

import { expect } from "chai";
import fc from "fast-check";
import { validateScenario } from "../../src/scenario/load.ts";
import { runScenario } from "../../src/scenario/run.ts";

const RUNS = Number(process.env.KAFKASIM_GROUP_PROPERTY_RUNS ?? 25);
/** The at-most-once property must fail within this many generated schedules. */
const FIND_BUDGET = 100;
const CONSUMERS = ["c1", "c2", "c3"];
const BROKERS = ["broker-1", "broker-2", "broker-3"];

type Ref = string | { coordinatorOf: string };
type Fault = Record<string, unknown> & { type: string; at: number };

const atMs = fc.integer({ min: 30, max: 200 }).map((tenths) => tenths * 100); // 3 s … 20 s
const lengthMs = fc.integer({ min: 5, max: 150 }).map((tenths) => tenths * 100); // 0.5 s … 15 s
const consumer: fc.Arbitrary<Ref> = fc.constantFrom(...CONSUMERS);
const brokerOrCoordinator: fc.Arbitrary<Ref> = fc.oneof(fc.constantFrom<Ref>(...BROKERS), fc.constant<Ref>({ coordinatorOf: "g1" }));

function nodeFault(node: fc.Arbitrary<Ref>): fc.Arbitrary<Fault> {
  return fc.oneof(
    fc.record({ type: fc.constant("crash"), at: atMs, node, for: lengthMs }),
    fc.record({ type: fc.constant("pause"), at: atMs, node, for: lengthMs }),
    fc.record({ type: fc.constant("partition"), at: atMs, groups: node.map((n) => [[n], "rest"]), for: lengthMs }),
  );
}

const schedule = fc.array(fc.oneof({ weight: 2, arbitrary: nodeFault(consumer) }, { weight: 1, arbitrary: nodeFault(brokerOrCoordinator) }), { minLength: 1, maxLength: 4 });

function scenarioOf(faults: Fault[], commit = "sync-after-process"): Record<string, unknown> {
  return {
    name: "group-property",
    seed: 1,
    duration: "40s",
    settle: "25s",
    cluster: {
      zookeeper: { servers: 3 },
      brokers: 3,
      config: {
        "zookeeper.session.timeout.ms": 6000,
        "replica.lag.time.max.ms": 10_000,
        "unclean.leader.election.enable": false,
        "min.insync.replicas": 2,
        "offsets.topic.num.partitions": 2,
        "group.initial.rebalance.delay.ms": 500,
      },
    },
    topics: [{ name: "t", partitions: 3, replicationFactor: 3 }],
    clients: [
      { id: "p1", type: "producer", config: { acks: "all", "enable.idempotence": true, "request.timeout.ms": 5000 }, workload: { topic: "t", messages: 3000, ratePerSec: 60, startAt: "1s" } },
      ...CONSUMERS.map((id) => ({
        id,
        type: "consumer",
        group: "g1",
        topics: ["t"],
        config: { "enable.auto.commit": false, "session.timeout.ms": 6000, "heartbeat.interval.ms": 1000, "request.timeout.ms": 5000, "max.poll.interval.ms": 15_000, "max.poll.records": 50 },
        workload: { processMs: 5, commit, startAt: "1s" },
      })),
    ],
    faults,
    expect: { violations: [] },
  };
}

const GROUP_SAFETY = ["double-assignment", "lost-commit", "skipped-record"];
const REPLICATION_SAFETY = ["lost-write", "divergent-log", "two-leaders", "hwm-regression", "duplicate-write", "reordered-write"];

describe("consumer-group properties over arbitrary fault schedules", function () {
  this.timeout(900_000);

  it(`committing after processing under a safe configuration, no schedule shows ${GROUP_SAFETY.join(", ")} (${RUNS} schedules)`, () => {
    fc.assert(
      fc.property(schedule, (faults) => {
        const result = runScenario(validateScenario(scenarioOf(faults), "group-property.json"), { hash: false });
        expect(result.error, "model error").to.equal(undefined);
        const names = [...new Set(result.violations.map((v) => v.name))];
        expect(names.filter((name) => GROUP_SAFETY.includes(name) || REPLICATION_SAFETY.includes(name)), JSON.stringify(faults)).to.deep.equal([]);
      }),
      { numRuns: RUNS },
    );
  });

  it("committing before processing, the generator finds skipped-record (at-most-once)", () => {
    const details = fc.check(
      fc.property(schedule, (faults) => {
        const result = runScenario(validateScenario(scenarioOf(faults, "before-process"), "group-property.json"), { hash: false });
        return !result.violations.some((v) => v.name === "skipped-record");
      }),
      { numRuns: FIND_BUDGET, endOnFailure: true },
    );
    expect(details.failed, `no skipped-record in ${FIND_BUDGET} schedules`).to.equal(true);
  });

  it("premise: without faults the group forms, every member processes records and commits", () => {
    const result = runScenario(validateScenario(scenarioOf([]), "group-property.json"), { hash: false });
    expect(result.violations).to.deep.equal([]);
    expect(result.stats.duplicateDeliveries ?? 0).to.equal(0);
  });
});
