// Property test of exactly-once processing over arbitrary fault schedules (fast-check). A small cluster
// (3 ZooKeeper servers, 3 brokers, topics in and out with 2 partitions RF 3, min.insync.replicas 2, unclean
// election off, KIP-890 verification on as in 3.x; __consumer_offsets and __transaction_state with 2 partitions),
// one idempotent acks=all producer writing in, two exactly-once processors (group eos) in → out and a
// read_committed verifier of out, under a random schedule of processor crashes, pauses and partitions, faults
// aimed at the group and transaction coordinators, and broker faults. No schedule may show aborted-read,
// zombie-write, hanging-transaction, a lost or duplicated output record, or any replication or group violation.
//
// The same generator with processing.guarantee at_least_once must find duplicate-write: the check has teeth.
// Runs: KAFKASIM_EOS_PROPERTY_RUNS (default 15); fast-check's seed is fixed in test/setup.ts.

import { expect } from "chai";
import fc from "fast-check";
import { validateScenario } from "../../src/scenario/load.ts";
import { runScenario } from "../../src/scenario/run.ts";

const RUNS = Number(process.env.KAFKASIM_EOS_PROPERTY_RUNS ?? 15);
/** The at-least-once property must fail within this many generated schedules. */
const FIND_BUDGET = 60;
const PROCESSORS = ["x1", "x2"];
const BROKERS = ["broker-1", "broker-2", "broker-3"];

type Ref = string | { coordinatorOf: string } | { transactionCoordinatorOf: string };
type Fault = Record<string, unknown> & { type: string; at: number };

const atMs = fc.integer({ min: 40, max: 200 }).map((tenths) => tenths * 100); // 4 s … 20 s
const lengthMs = fc.integer({ min: 5, max: 150 }).map((tenths) => tenths * 100); // 0.5 s … 15 s
const processor: fc.Arbitrary<Ref> = fc.constantFrom(...PROCESSORS);
const broker: fc.Arbitrary<Ref> = fc.oneof(
  fc.constantFrom<Ref>(...BROKERS),
  fc.constant<Ref>({ coordinatorOf: "eos" }),
  fc.constantFrom<Ref>(...PROCESSORS.map((id) => ({ transactionCoordinatorOf: id }))),
);

function nodeFault(node: fc.Arbitrary<Ref>): fc.Arbitrary<Fault> {
  return fc.oneof(
    fc.record({ type: fc.constant("crash"), at: atMs, node, for: lengthMs }),
    fc.record({ type: fc.constant("pause"), at: atMs, node, for: lengthMs }),
    fc.record({ type: fc.constant("partition"), at: atMs, groups: node.map((n) => [[n], "rest"]), for: lengthMs }),
  );
}

const schedule = fc.array(fc.oneof({ weight: 1, arbitrary: nodeFault(processor) }, { weight: 1, arbitrary: nodeFault(broker) }), { minLength: 1, maxLength: 4 });

function eosScenario(faults: Fault[], guarantee = "exactly_once_v2"): Record<string, unknown> {
  const topic = (name: string) => ({ name, partitions: 2, replicationFactor: 3 });
  return {
    name: "eos-property",
    seed: 1,
    duration: "40s",
    settle: "30s",
    cluster: {
      zookeeper: { servers: 3 },
      brokers: 3,
      config: {
        "zookeeper.session.timeout.ms": 6000,
        "replica.lag.time.max.ms": 10_000,
        "unclean.leader.election.enable": false,
        "min.insync.replicas": 2,
        "offsets.topic.num.partitions": 2,
        "transaction.state.log.num.partitions": 2,
        "group.initial.rebalance.delay.ms": 500,
      },
    },
    topics: [topic("in"), topic("out")],
    clients: [
      { id: "p1", type: "producer", config: { acks: "all", "enable.idempotence": true, "request.timeout.ms": 5000 }, workload: { topic: "in", messages: 1200, ratePerSec: 40, startAt: "1s", keys: 20 } },
      ...PROCESSORS.map((id) => ({
        id,
        type: "processor",
        group: "eos",
        input: "in",
        output: "out",
        config: { "processing.guarantee": guarantee, "session.timeout.ms": 6000, "heartbeat.interval.ms": 1000, "request.timeout.ms": 5000, "max.poll.records": 50, "transaction.timeout.ms": 10_000 },
        workload: { processMs: 5, startAt: "1s" },
      })),
      { id: "v1", type: "consumer", topics: ["out"], config: { "isolation.level": "read_committed" } },
    ],
    faults,
    expect: { violations: [] },
  };
}

const EOS_SAFETY = ["aborted-read", "zombie-write", "hanging-transaction", "lost-write", "duplicate-write"];
const OTHER_SAFETY = ["double-assignment", "lost-commit", "divergent-log", "two-leaders", "hwm-regression", "reordered-write"];

describe("exactly-once processing over arbitrary fault schedules", function () {
  this.timeout(900_000);

  it(`an exactly_once_v2 pipeline under a safe configuration shows none of ${EOS_SAFETY.join(", ")} (${RUNS} schedules)`, () => {
    fc.assert(
      fc.property(schedule, (faults) => {
        const result = runScenario(validateScenario(eosScenario(faults), "eos-property.json"), { hash: false });
        expect(result.error, "model error").to.equal(undefined);
        const names = [...new Set(result.violations.map((v) => v.name))];
        expect(names.filter((name) => EOS_SAFETY.includes(name) || OTHER_SAFETY.includes(name)), JSON.stringify(faults)).to.deep.equal([]);
      }),
      { numRuns: RUNS },
    );
  });

  it("the same pipeline at_least_once: the generator finds duplicate-write", () => {
    const details = fc.check(
      fc.property(schedule, (faults) => {
        const result = runScenario(validateScenario(eosScenario(faults, "at_least_once"), "eos-property.json"), { hash: false });
        return !result.violations.some((v) => v.name === "duplicate-write");
      }),
      { numRuns: FIND_BUDGET, endOnFailure: true },
    );
    expect(details.failed, `no duplicate-write in ${FIND_BUDGET} schedules`).to.equal(true);
  });

  it("premise: without faults every input record reaches the output once and transactions commit", () => {
    const result = runScenario(validateScenario(eosScenario([]), "eos-property.json"), { hash: false });
    expect(result.violations).to.deep.equal([]);
  });
});
