/** The JMX sampler: `metrics` events per live JVM, the MBeans operators watch, and a model untouched by sampling. */

import { expect } from "chai";
import { validateScenario } from "../../src/scenario/load.ts";
import { runScenario } from "../../src/scenario/run.ts";
import { MemorySink, parseTrace, type TraceEvent } from "../../src/sim/trace.ts";
import { S, scenarioFile, type Spec } from "./helpers.ts";

type MBeans = Record<string, Record<string, number | null>>;

function traced(spec: Spec, metricsIntervalMs?: number): { events: TraceEvent[]; lines: string[]; stats: { events: number; traceHash: string } } {
  const scenario = validateScenario(spec, `${String(spec.name)}.json`);
  const sink = new MemorySink();
  const result = runScenario(scenario, { sinks: [sink], ...(metricsIntervalMs === undefined ? {} : { metricsIntervalMs }) });
  expect(result.error, "model error").to.equal(undefined);
  return { events: parseTrace(sink.lines.join("\n")).events, lines: sink.lines.slice(1), stats: result.stats };
}

const cache = new Map<string, TraceEvent[]>();
function metricsOf(name: string): TraceEvent[] {
  if (!cache.has(name)) cache.set(name, traced(scenarioFile(name)).events.filter((e) => e.kind === "metrics"));
  return cache.get(name)!;
}

function value(event: TraceEvent, mbean: string, attribute = "Value"): number {
  const attributes = (event.mbeans as MBeans)[mbean];
  expect(attributes, `${event.node} at ${event.t}: ${mbean}`).to.not.equal(undefined);
  return attributes[attribute] as number;
}

const URP = "kafka.server:type=ReplicaManager,name=UnderReplicatedPartitions";
const SHRINKS = "kafka.server:type=ReplicaManager,name=IsrShrinksPerSec";
const ACTIVE = "kafka.controller:type=KafkaController,name=ActiveControllerCount";
const OFFLINE = "kafka.controller:type=KafkaController,name=OfflinePartitionsCount";
const UNCLEAN = "kafka.controller:type=ControllerStats,name=UncleanLeaderElectionsPerSec";
const NER = "kafka.network:type=RequestMetrics,name=ErrorsPerSec,request=Produce,error=NOT_ENOUGH_REPLICAS";
const FETCH_FOLLOWER = "kafka.network:type=RequestMetrics,name=RequestsPerSec,request=FetchFollower,version=12";

/** A model line without its seq (the metrics lines take seq numbers). */
function withoutSeq(line: string): string {
  return line.replace(/^\{"t":(\d+),"seq":\d+,/, '{"t":$1,');
}

describe("JMX metrics in the trace", function () {
  this.timeout(300_000);

  it("leaves the model's own trace lines unchanged (same scenario with metrics on and off)", () => {
    for (const name of ["isr-shrink-expand", "leader-failover"]) {
      const on = traced(scenarioFile(name));
      const off = traced(scenarioFile(name), 0);
      expect(off.lines.some((line) => line.includes('"kind":"metrics"'))).to.equal(false);
      const model = on.lines.filter((line) => !line.includes('"kind":"metrics"'));
      expect(model.length, name).to.equal(off.lines.length);
      expect(model.map(withoutSeq), name).to.deep.equal(off.lines.map(withoutSeq));
      expect(on.stats.events, "stats.events counts model events only").to.equal(off.stats.events);
      expect(on.lines.length).to.be.greaterThan(off.lines.length);
    }
  });

  it("samples every interval, only hosts that are up and not paused, with intervalUs", () => {
    const events = metricsOf("leader-failover");
    expect(events.every((e) => e.t % S === 0 && e.intervalUs === S)).to.equal(true);
    const crashed = traced(scenarioFile("leader-failover"), 0).events.find((e) => e.kind === "host-crash")!;
    const restarted = traced(scenarioFile("leader-failover"), 0).events.find((e) => e.kind === "host-start" && e.node === crashed.node && e.t > crashed.t)!;
    const during = events.filter((e) => e.node === crashed.node && e.t > crashed.t && e.t < restarted.t);
    expect(during, "a crashed JVM answers no JMX").to.have.length(0);
    // A restart is a new JVM: counters start again from 0.
    const before = events.filter((e) => e.node === crashed.node && e.t < crashed.t).at(-1)!;
    const after = events.find((e) => e.node === crashed.node && e.t > restarted.t)!;
    expect(value(after, "kafka.network:type=RequestMetrics,name=RequestsPerSec,request=Produce,version=9", "Count")).to.be.below(
      value(before, "kafka.network:type=RequestMetrics,name=RequestsPerSec,request=Produce,version=9", "Count"),
    );
  });

  it("UnderReplicatedPartitions rises on the leader when a follower drops out of the ISR and falls back after it rejoins; IsrShrinksPerSec counts", () => {
    // broker-1 leads t-0 with [1, 2, 3]; broker-3 is cut off from it from 8 s to 30 s.
    const leader = metricsOf("isr-shrink-expand").filter((e) => e.node === "broker-1");
    const at = (t: number) => leader.find((e) => e.t === t * S)!;
    expect(value(at(7), URP)).to.equal(0);
    expect(value(at(7), SHRINKS, "Count")).to.equal(0);
    expect(value(at(25), URP)).to.equal(1);
    expect(value(at(25), SHRINKS, "Count")).to.equal(1);
    expect(value(at(25), SHRINKS, "OneMinuteRate") + value(at(30), SHRINKS, "OneMinuteRate")).to.be.greaterThan(0);
    expect(value(leader.at(-1)!, URP)).to.equal(0);
  });

  it("ActiveControllerCount sums to 1 across the brokers in steady state", () => {
    const events = metricsOf("happy-path").filter((e) => e.node.startsWith("broker-") && e.t >= 3 * S);
    const times = [...new Set(events.map((e) => e.t))];
    expect(times.length).to.be.greaterThan(5);
    for (const t of times) {
      const sum = events.filter((e) => e.t === t).reduce((total, e) => total + value(e, ACTIVE), 0);
      expect(sum, `at ${t}`).to.equal(1);
    }
    // Only the active controller reports offline partitions (and here there are none).
    expect(events.every((e) => value(e, OFFLINE) === 0)).to.equal(true);
  });

  it("OfflinePartitionsCount > 0 on the controller while every replica of a partition is down", () => {
    // unclean-election-off: broker-2 is down 5–22 s, broker-1 (the last ISR member) 20–35 s.
    const events = metricsOf("unclean-election-off");
    const offline = events.filter((e) => e.node.startsWith("broker-") && value(e, OFFLINE) > 0);
    expect(offline.length).to.be.greaterThan(0);
    expect(offline.every((e) => value(e, ACTIVE) === 1)).to.equal(true);
    expect(offline.every((e) => e.t > 20 * S && e.t <= 36 * S)).to.equal(true);
    expect(events.filter((e) => e.node.startsWith("broker-")).every((e) => value(e, UNCLEAN, "Count") === 0)).to.equal(true);
  });

  it("UncleanLeaderElectionsPerSec counts an unclean election", () => {
    const events = metricsOf("unclean-election").filter((e) => e.node.startsWith("broker-"));
    expect(events.some((e) => value(e, UNCLEAN, "Count") >= 1)).to.equal(true);
  });

  it("NOT_ENOUGH_REPLICAS shows in the leader's ErrorsPerSec (zero line before it)", () => {
    const leader = metricsOf("not-enough-replicas").filter((e) => e.node === "broker-1");
    expect(value(leader.find((e) => e.t === 5 * S)!, NER, "Count")).to.equal(0);
    expect(value(leader.at(-1)!, NER, "Count")).to.be.greaterThan(0);
    expect(value(leader.at(-1)!, FETCH_FOLLOWER, "Count")).to.be.greaterThan(0);
    const follower = metricsOf("not-enough-replicas").filter((e) => e.node === "broker-2");
    expect(value(follower.at(-1)!, NER, "Count")).to.equal(0);
    expect(value(follower.at(-1)!, FETCH_FOLLOWER, "Count"), "a follower serves no fetches").to.equal(0);
  });

  it("producer record-send-total matches acknowledged sends plus retried records; the consumer's lag drains to 0", () => {
    const { events } = traced(scenarioFile("happy-path"));
    const acked = events.filter((e) => e.kind === "op" && e.node === "p1" && e.type === "ok" && e.f === "send").length;
    expect(acked).to.equal(200);
    const retried = events.filter((e) => e.kind === "producer-retry" && e.node === "p1").length;
    const producer = events.filter((e) => e.kind === "metrics" && e.node === "p1").at(-1)!;
    const attributes = (producer.mbeans as MBeans)["kafka.producer:type=producer-metrics,client-id=p1"];
    // Kafka counts a record in every Produce request that carries it: a retried batch counts again.
    expect(attributes["record-retry-total"]).to.equal(retried);
    expect(attributes["record-send-total"]).to.equal(acked + retried);
    expect(attributes["record-error-total"]).to.equal(0);
    expect(attributes["requests-in-flight"]).to.equal(0);
    const consumer = events.filter((e) => e.kind === "metrics" && e.node === "c1").at(-1)!;
    const mbeans = consumer.mbeans as MBeans;
    const consumed = events.filter((e) => e.kind === "op" && e.node === "c1" && e.type === "ok").reduce((n, e) => n + (e.offsets as number[]).length, 0);
    expect(mbeans["kafka.consumer:type=consumer-fetch-manager-metrics,client-id=c1"]["records-consumed-total"]).to.equal(consumed);
    expect(mbeans["kafka.consumer:type=consumer-fetch-manager-metrics,client-id=c1,topic=t,partition=0"]["records-lag"]).to.equal(0);
    expect(mbeans["kafka.consumer:type=consumer-fetch-manager-metrics,client-id=c1,topic=t,partition=1"]["records-lag"]).to.equal(0);
  });

  it("producer record-error-total counts every record that failed for good", () => {
    const { events } = traced(scenarioFile("not-enough-replicas"));
    const ops = events.filter((e) => e.kind === "op" && e.node === "p1" && e.f === "send");
    const failed = ops.filter((e) => e.type === "fail" || e.type === "info").length;
    expect(failed).to.be.greaterThan(0);
    const producer = events.filter((e) => e.kind === "metrics" && e.node === "p1").at(-1)!;
    const attributes = (producer.mbeans as MBeans)["kafka.producer:type=producer-metrics,client-id=p1"];
    expect(attributes["record-error-total"]).to.equal(failed);
    expect(attributes["record-send-total"]).to.equal(ops.filter((e) => e.type !== "invoke").length);
  });
});
