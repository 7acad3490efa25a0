/**
 * The consumer against the real brokers, controller and ZooKeeper: a scenario world (built without consumer
 * clients, which the scenario builder does not wire yet) plus a consumer workload host. After the settle phase
 * the consumer has read every partition's final committed log, in offset order.
 */

import { expect } from "chai";
import { readFileSync } from "node:fs";
import { ReplicationCheckers } from "../../../src/check/replication.ts";
import { buildWorld } from "../../../src/scenario/build.ts";
import { FaultInjector } from "../../../src/scenario/faults.ts";
import { parseScenarioText, validateScenario } from "../../../src/scenario/load.ts";
import type { HostDisk } from "../../../src/sim/host.ts";
import { parseDuration } from "../../../src/sim/time.ts";
import type { TraceEvent } from "../../../src/sim/trace.ts";
import { ConsumerWorkload } from "../../../src/workload/consumer-workload.ts";

const ROOT = new URL("../../..", import.meta.url);
const diskStub: HostDisk = { onCrash() {}, onPowerLoss() {} };

type Spec = Record<string, unknown>;

function scenarioFile(name: string): Spec {
  return parseScenarioText(readFileSync(new URL(`scenarios/${name}.json`, ROOT), "utf8"), `${name}.json`) as Spec;
}

interface Outcome {
  events: TraceEvent[];
  replication: ReplicationCheckers;
  /** The consumer's last read value per (partition, offset): later reads of an offset replace earlier ones. */
  read: Map<string, Map<number, string | null>>;
}

function runWithConsumer(spec: Spec): Outcome {
  const scenario = validateScenario(spec, "test.json");
  const built = buildWorld(scenario, scenario.seed);
  const { world } = built;
  const events: TraceEvent[] = [];
  const replication = new ReplicationCheckers();
  world.trace.observe((event) => {
    events.push(event);
    replication.observe(event);
  });
  world.addHost("c1", diskStub, (context) => new ConsumerWorkload(context, { bootstrap: built.brokers, topics: ["t"], config: { "request.timeout.ms": 5000 } }));
  const injector = new FaultInjector({ world, network: built.network, disks: built.disks, groups: built.groups, special: built.special, admin: built.admin });
  injector.schedule(scenario.faults);
  for (const host of world.hosts) host.start();
  const duration = parseDuration(scenario.duration)!;
  const end = duration + parseDuration(scenario.settle)!;
  let verdict = world.kernel.run({ untilUs: duration, maxEvents: 20_000_000 });
  expect(verdict.reason).to.equal("time-limit");
  injector.settle();
  verdict = world.kernel.run({ untilUs: end, maxEvents: 20_000_000 });
  if (verdict.reason === "model-error") throw verdict.error;
  expect(verdict.reason).to.equal("time-limit");
  const read = new Map<string, Map<number, string | null>>();
  for (const e of events) {
    if (e.kind !== "op" || e.f !== "poll" || e.type !== "ok") continue;
    const tp = `${String(e.topic)}-${String(e.partition)}`;
    const offsets = read.get(tp) ?? new Map<number, string | null>();
    read.set(tp, offsets);
    (e.offsets as number[]).forEach((offset, i) => offsets.set(offset, (e.values as (string | null)[])[i]));
  }
  return { events, replication, read };
}

/** The consumer read exactly the final committed log of each partition (from offset `from` on). */
function expectReadEverything(outcome: Outcome, partitions: string[], from = 0): void {
  for (const tp of partitions) {
    const log = outcome.replication.committedLog(tp)!;
    expect(log, tp).to.not.equal(null);
    const committed: (string | null)[] = [];
    for (let offset = log.logStartOffset; offset < log.highWatermark; offset++) committed.push(log.recordsAt(offset)[0]?.value ?? null);
    const read = outcome.read.get(tp) ?? new Map();
    for (let k = log.logStartOffset; k < from; k++) committed.shift();
    const readValues = [...read.entries()].filter(([offset]) => offset >= Math.max(from, log.logStartOffset) && offset < log.highWatermark).sort((a, b) => a[0] - b[0]).map(([, v]) => v);
    expect(committed.length, `${tp} has committed records`).to.be.greaterThan(20);
    expect(readValues, tp).to.deep.equal(committed);
    // Nothing read beyond the final HW.
    expect([...read.keys()].every((offset) => offset < log.highWatermark), tp).to.equal(true);
  }
}

describe("consumer against the brokers", function () {
  this.timeout(120_000);

  it("reads every committed record of every partition through a leader failover, validating its position with the new leader", () => {
    const spec = scenarioFile("leader-failover");
    spec.topics = [{ name: "t", partitions: 2, replicationFactor: 3, config: { "min.insync.replicas": 2 } }];
    const outcome = runWithConsumer(spec);
    expectReadEverything(outcome, ["t-0", "t-1"]);
    const validations = outcome.events.filter((e) => e.kind === "consumer-validate");
    expect(validations.length, "a KIP-320 validation after the leader change").to.be.greaterThan(0);
    expect(validations.every((e) => e.truncated === false)).to.equal(true);
    expect(outcome.events.filter((e) => e.kind === "op" && e.f === "poll" && e.type === "info")).to.deep.equal([]);
    const config = outcome.events.find((e) => e.kind === "client-config" && e.process === "c1");
    expect(config).to.include({ role: "consumer", "auto.offset.reset": "earliest" });
  });
});

describe("consumer against the brokers, when committed records are lost", function () {
  this.timeout(120_000);

  for (const name of ["kip-101-data-loss", "kip-279-divergence", "kip-279-fixed"]) {
    it(`${name}: notices the lost records (truncation detected or offset out of range) and ends with the final committed log`, () => {
      const outcome = runWithConsumer(scenarioFile(name));
      const infos = outcome.events.filter((e) => e.kind === "op" && e.f === "poll" && e.type === "info");
      // Whatever the consumer noticed on the way is an info poll of a known kind, never fatal with a reset policy.
      expect(infos.every((e) => (e.error === "LOG_TRUNCATION" || e.error === "OFFSET_OUT_OF_RANGE") && e.fatal === undefined)).to.equal(true);
      if (name !== "kip-279-fixed") expect(infos.map((e) => e.error), "the consumer had read records that were lost").to.include("LOG_TRUNCATION");
      // KIP-320 validation asks only for the epoch of the last record read: a consumer that read the unclean
      // leader's records (epoch 1, from offset 21) hears from the next leader "epoch 0 ends at 40" and resumes
      // at 40, never reading that leader's 21..39 (SubscriptionState.maybeCompleteValidation compares offsets
      // only). Since peers hear a crashed broker at once the consumer fails over fast enough to do so in
      // kip-279-fixed; from the offset it was reset to, it reads the final log.
      const resets = outcome.events.filter((e) => e.kind === "consumer-validate" && e.truncated === true).map((e) => e.endOffset as number);
      expectReadEverything(outcome, ["t-0"], name === "kip-279-fixed" ? Math.max(0, ...resets) : 0);
    });
  }
});
