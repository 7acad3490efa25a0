/**
 * Test harness for the producer: a Driver process that owns a KafkaProducer and sends scripted records at
 * given times (closing it at the end), and helpers that run a world of fake brokers with a Driver or with the
 * producer workload and collect the results and the "op" history.
 */

import { expect } from "chai";
import { resolveProducerConfig, type ProducerConfigInput } from "../../../src/clients/producer/config.ts";
import { KafkaProducer, type SendResult } from "../../../src/clients/producer/producer.ts";
import type { Message, Process, ProcessContext } from "../../../src/sim/host.ts";
import { ms } from "../../../src/sim/time.ts";
import type { TraceEvent } from "../../../src/sim/trace.ts";
import type { World } from "../../../src/sim/world.ts";
import { ProducerWorkload, type ProducerWorkloadSpec } from "../../../src/workload/producer-workload.ts";
import { diskStub, fakeWorld, TOPIC, type FakeCluster } from "./fake-cluster.ts";

export const BOOTSTRAP = ["broker-1", "broker-2"];

export interface PlannedRecord {
  atMs: number;
  key: string | null;
  value: string;
}

export interface DriverResult {
  value: string;
  /** Virtual time of the send() call and of the callback, µs. */
  sentAt: number;
  doneAt: number;
  result: SendResult;
}

/** Sends the planned records at their times; closes the producer at `closeAtMs` (default: after the last). */
export class Driver implements Process {
  readonly producer: KafkaProducer;
  readonly results: DriverResult[] = [];
  readonly partitions: number[] = [];
  /** The producer's buffer-available-bytes after each send(). */
  readonly bufferAvailableAfterSend: number[] = [];

  constructor(
    private readonly context: ProcessContext,
    config: ProducerConfigInput,
    private readonly plan: PlannedRecord[],
    private readonly closeAtMs?: number,
  ) {
    const resolved = resolveProducerConfig(BOOTSTRAP, config);
    if (!resolved.ok) throw new Error(resolved.error);
    this.producer = new KafkaProducer(context, resolved.config);
  }

  onStart(): void {
    this.producer.start();
    this.producer.partitionsFor(TOPIC); // fetch the topic's metadata before the first record
    this.plan.forEach((record, i) => this.context.setTimer(ms(record.atMs), "driver:send", i));
    const closeAt = this.closeAtMs ?? Math.max(0, ...this.plan.map((r) => r.atMs));
    this.context.setTimer(ms(closeAt), "driver:close");
  }

  onMessage(from: string, message: Message): void {
    this.producer.onMessage(from, message);
  }

  onConnectionRefused(peer: string): void {
    this.producer.onConnectionRefused(peer);
  }

  onTimer(tag: string, data: unknown): void {
    if (this.producer.onTimer(tag, data)) return;
    if (tag === "driver:close") {
      this.producer.close();
      return;
    }
    const record = this.plan[data as number];
    const sentAt = this.context.now();
    const partition = this.producer.send({ topic: TOPIC, key: record.key, value: record.value }, (result) => {
      this.results.push({ value: record.value, sentAt, doneAt: this.context.now(), result });
    });
    this.partitions.push(partition);
    this.bufferAvailableAfterSend.push(this.producer.bufferAvailableBytes);
  }
}

/** `count` records with values v000… every `everyMs` from `startMs`. */
export function plan(count: number, everyMs: number, key: (i: number) => string | null = () => null, startMs = 10): PlannedRecord[] {
  return Array.from({ length: count }, (_, i) => ({ atMs: startMs + i * everyMs, key: key(i), value: `v${String(i).padStart(3, "0")}` }));
}

export interface DriverRun {
  world: World;
  driver: Driver;
  events: TraceEvent[];
}

function runToQuiescence(world: World, untilMs: number): void {
  const verdict = world.kernel.run({ untilUs: ms(untilMs), maxEvents: 2_000_000 });
  if (verdict.reason === "model-error") throw verdict.error;
  expect(verdict.reason, "the producer's work is bounded: the world goes quiet").to.equal("quiescent");
}

export function runDriver(
  cluster: FakeCluster,
  config: ProducerConfigInput,
  records: PlannedRecord[],
  options: { closeAtMs?: number; untilMs?: number; setup?: (world: World) => void } = {},
): DriverRun {
  const world = fakeWorld(cluster);
  const events: TraceEvent[] = [];
  world.trace.observe((event) => events.push(event));
  let driver: Driver | null = null;
  const host = world.addHost("p1", diskStub, (context) => (driver = new Driver(context, config, records, options.closeAtMs)));
  options.setup?.(world);
  host.start();
  runToQuiescence(world, options.untilMs ?? 3_600_000);
  return { world, driver: driver!, events };
}

export interface WorkloadRun {
  world: World;
  workload: ProducerWorkload;
  ops: TraceEvent[];
  events: TraceEvent[];
}

export function runWorkload(
  cluster: FakeCluster,
  config: ProducerConfigInput,
  spec: Partial<ProducerWorkloadSpec>,
  untilMs = 3_600_000,
  setup?: (world: World) => void,
): WorkloadRun {
  const world = fakeWorld(cluster);
  const events: TraceEvent[] = [];
  world.trace.observe((event) => events.push(event));
  let workload: ProducerWorkload | null = null;
  const host = world.addHost("p1", diskStub, (context) => {
    workload = new ProducerWorkload(context, { bootstrap: BOOTSTRAP, config, workload: { topic: TOPIC, messages: 4, ratePerSec: 100, ...spec } });
    return workload;
  });
  setup?.(world);
  host.start();
  runToQuiescence(world, untilMs);
  return { world, workload: workload!, ops: events.filter((e) => e.kind === "op"), events };
}

/** [type, value, partition, offset, error] per history event. */
export function summary(ops: TraceEvent[]): unknown[] {
  return ops.map((op) => [op.type, op.value, op.partition, op.offset ?? null, op.error ?? null]);
}
