import { expect } from "chai";
import type { ProducerConfigInput } from "../../../src/clients/producer/config.ts";
import { Disk } from "../../../src/disk/disk.ts";
import { buildWorld } from "../../../src/scenario/build.ts";
import { validateScenario } from "../../../src/scenario/load.ts";
import { ms } from "../../../src/sim/time.ts";
import type { TraceEvent } from "../../../src/sim/trace.ts";
import { ProducerWorkload } from "../../../src/workload/producer-workload.ts";

interface E2eRun {
  ops: TraceEvent[];
  appends: TraceEvent[];
  events: TraceEvent[];
  workload: ProducerWorkload;
}

/** ZooKeeper, three real brokers, topic t (2 partitions, RF 3, min.insync.replicas 2) and a producer workload. */
function runAgainstBrokers(config: ProducerConfigInput, crashLeaderAtMs: number | null): E2eRun {
  const scenario = validateScenario(
    {
      name: "producer-e2e",
      seed: 3,
      duration: "40s",
      cluster: { zookeeper: { servers: 1 }, brokers: 3 },
      topics: [{ name: "t", partitions: 2, replicationFactor: 3, config: { "min.insync.replicas": 2 } }],
      network: { latencyMs: [1, 3] },
    },
    "producer-e2e.json",
  );
  const built = buildWorld(scenario, 3);
  const { world } = built;
  const events: TraceEvent[] = [];
  world.trace.observe((event) => events.push(event));
  let workload: ProducerWorkload | null = null;
  world.addHost("p1", new Disk(world, "p1"), (context) => {
    workload = new ProducerWorkload(context, {
      bootstrap: built.brokers,
      config,
      workload: { topic: "t", messages: 300, ratePerSec: 50, keys: 8, startAtMs: 3000 },
    });
    return workload;
  });
  for (const host of world.hosts) host.start();
  if (crashLeaderAtMs !== null) {
    let crashed: string | null = null;
    world.kernel.after(ms(crashLeaderAtMs), { handleEvent: () => (crashed = built.special("leaderOf:t-0")) && world.host(crashed).crash() }, 0);
    world.kernel.after(ms(crashLeaderAtMs + 4000), { handleEvent: () => crashed !== null && world.host(crashed).start() }, 0);
  }
  const verdict = world.kernel.run({ untilUs: ms(40_000), maxEvents: 5_000_000 });
  if (verdict.reason === "model-error") throw verdict.error;
  return { ops: events.filter((e) => e.kind === "op"), appends: events.filter((e) => e.kind === "log-append"), events, workload: workload! };
}

/** Every ok'd value was appended at its offset on some replica of its partition. */
function expectOkInLog(run: E2eRun): void {
  const appended = new Map<string, string>();
  for (const append of run.appends) {
    const offsets = append.offsets as number[];
    const values = append.values as (string | null)[];
    offsets.forEach((offset, i) => appended.set(`${append.topicPartition as string}@${offset}/${values[i]}`, ""));
  }
  for (const op of run.ops.filter((o) => o.type === "ok")) expect(appended.has(`t-${op.partition as number}@${op.offset as number}/${op.value as string}`), op.value as string).to.equal(true);
}

describe("KafkaProducer against the broker model", function () {
  this.timeout(120_000);

  it("acks=all without idempotence: every value completes ok, spread by key, in the leaders' logs", () => {
    const run = runAgainstBrokers({ "enable.idempotence": false, "linger.ms": 5 }, null);
    const completions = run.ops.filter((o) => o.type !== "invoke");
    expect(completions).to.have.length(300);
    expect(completions.every((o) => o.type === "ok")).to.equal(true);
    expect(new Set(completions.map((o) => o.partition))).to.deep.equal(new Set([0, 1]));
    expectOkInLog(run);
    expect(run.workload.producer.isClosed).to.equal(true);
  });

  it("acks=all across a leader crash: retries move to the new leader and every ok'd value is in the log", () => {
    const run = runAgainstBrokers({ "enable.idempotence": false, "request.timeout.ms": 3000, "delivery.timeout.ms": 30_000 }, 5000);
    const completions = run.ops.filter((o) => o.type !== "invoke");
    expect(completions).to.have.length(300);
    expect(run.events.some((e) => e.kind === "producer-retry" || e.kind === "producer-disconnect")).to.equal(true);
    expect(completions.filter((o) => o.type === "ok").length).to.be.greaterThan(250);
    expectOkInLog(run);
  });

  it("idempotent (the default) once the brokers answer InitProducerId", function () {
    const run = runAgainstBrokers({}, null);
    if (!run.events.some((e) => e.kind === "producer-id")) this.skip(); // broker-side idempotence not there yet
    const completions = run.ops.filter((o) => o.type !== "invoke");
    expect(completions.every((o) => o.type === "ok")).to.equal(true);
    expectOkInLog(run);
  });
});
