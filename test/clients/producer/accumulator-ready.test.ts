import { expect } from "chai";
import fc from "fast-check";
import { RecordAccumulator, type ReadyCheckResult } from "../../../src/clients/producer/accumulator.ts";
import { sizeUpperBoundFromLengths, type ProducerBatch, type PendingRecord } from "../../../src/clients/producer/batch.ts";
import { PRODUCER_DEFAULTS, type ProducerConfig } from "../../../src/clients/producer/config.ts";
import type { ProducerMetadata } from "../../../src/clients/producer/metadata.ts";
import { StickyPartitioner } from "../../../src/clients/partitioner.ts";
import type { Micros } from "../../../src/sim/time.ts";

/**
 * RecordAccumulator.ready keeps its last answer while nothing it reads has changed (issue 18), and each deque
 * its leader host until the metadata changes. Oracle: the same accumulator made to compute afresh — after any
 * sequence of appends, drains, retries, mutes, flushes, expiries, leader moves and clock steps, the kept answer
 * is the fresh one. Likewise nextExpiryUs, which keeps the earliest creation time of the queued batches: it is
 * the earliest over every deque, and expiredBatches, which skips its scan while none can have expired.
 */

const TOPIC = "t";
const PARTITIONS = 6;
const HOSTS = ["broker-1", "broker-2", "broker-3"];

/** Mutable leaders (null: unknown) and the version the accumulator keys its caches on. */
class FakeMetadata {
  version = 0;
  readonly leaders: (string | null)[] = Array.from({ length: PARTITIONS }, (_, p) => HOSTS[p % HOSTS.length]);
  partitionCount(): number {
    return PARTITIONS;
  }
  availablePartitions(): number[] {
    return [];
  }
  leaderHost(_topic: string, partition: number): string | null {
    return this.leaders[partition];
  }
  partitionsForHost(host: string): { topic: string; partition: number; topicPartition: string }[] {
    const parts = [];
    for (let p = 0; p < PARTITIONS; p++) if (this.leaders[p] === host) parts.push({ topic: TOPIC, partition: p, topicPartition: `${TOPIC}-${p}` });
    return parts;
  }
}

function record(bytes: number): PendingRecord {
  return { key: null, value: "v".repeat(bytes), keyLength: -1, valueLength: bytes, timestamp: 0, callback: () => {} };
}

type Step =
  | { op: "append"; partition: number; bytes: number }
  | { op: "drain"; host: number }
  | { op: "retry" }
  | { op: "complete" }
  | { op: "mute"; partition: number }
  | { op: "unmute"; partition: number }
  | { op: "flush" }
  | { op: "endFlush" }
  | { op: "close" }
  | { op: "abort" }
  | { op: "expire" }
  | { op: "leader"; partition: number; host: number }
  | { op: "tick"; us: number }
  | { op: "memory" };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant("append" as const), partition: fc.nat(PARTITIONS - 1), bytes: fc.integer({ min: 1, max: 400 }) }),
  fc.record({ op: fc.constant("drain" as const), host: fc.nat(HOSTS.length - 1) }),
  fc.record({ op: fc.constant("retry" as const) }),
  fc.record({ op: fc.constant("complete" as const) }),
  fc.record({ op: fc.constant("mute" as const), partition: fc.nat(PARTITIONS - 1) }),
  fc.record({ op: fc.constant("unmute" as const), partition: fc.nat(PARTITIONS - 1) }),
  fc.record({ op: fc.constant("flush" as const) }),
  fc.record({ op: fc.constant("endFlush" as const) }),
  fc.record({ op: fc.constant("close" as const) }),
  fc.record({ op: fc.constant("abort" as const) }),
  fc.record({ op: fc.constant("expire" as const) }),
  fc.record({ op: fc.constant("leader" as const), partition: fc.nat(PARTITIONS - 1), host: fc.nat(HOSTS.length) }),
  fc.record({ op: fc.constant("tick" as const), us: fc.integer({ min: 0, max: 120_000 }) }),
  fc.record({ op: fc.constant("memory" as const) }),
);

function snapshot(result: ReadyCheckResult): { hosts: string[]; next: number; unknown: string[] } {
  const hosts = [];
  for (let i = 0; i < result.readyHosts.size; i++) hosts.push(result.readyHosts.get(i));
  const unknown = [];
  for (let i = 0; i < result.unknownLeaderTopics.size; i++) unknown.push(result.unknownLeaderTopics.get(i));
  return { hosts, next: result.nextReadyCheckUs, unknown };
}

/** ready() computed afresh: the kept answer and the deques' kept leaders forgotten, the leaders then restored. */
function freshReady(accumulator: RecordAccumulator, nowUs: Micros): ReturnType<typeof snapshot> {
  const internals = accumulator as unknown as { readyStale: boolean; routes: { leaders: (string | null)[]; leaderVersions: number[] } };
  const routes = internals.routes;
  const leaders = [...routes.leaders];
  const versions = [...routes.leaderVersions];
  internals.readyStale = true;
  routes.leaderVersions.fill(-1);
  const fresh = snapshot(accumulator.ready(nowUs));
  routes.leaders.splice(0, leaders.length, ...leaders);
  routes.leaderVersions.splice(0, versions.length, ...versions);
  return fresh;
}

/** The oracle of nextExpiryUs: delivery.timeout.ms after the earliest queued batch, over every deque. */
function earliestExpiry(accumulator: RecordAccumulator, deliveryTimeoutUs: number): number {
  const deques = (accumulator as unknown as { dequeList: ProducerBatch[][] }).dequeList;
  let next = Number.POSITIVE_INFINITY;
  for (const deque of deques) for (const batch of deque) next = Math.min(next, batch.createdUs + deliveryTimeoutUs);
  return next;
}

/** The oracle of expiredBatches: every deque's front batches past delivery.timeout.ms, deque by deque. */
function expiredAtFront(accumulator: RecordAccumulator, nowUs: number, deliveryTimeoutUs: number): ProducerBatch[] {
  const deques = (accumulator as unknown as { dequeList: ProducerBatch[][] }).dequeList;
  const expired: ProducerBatch[] = [];
  for (const deque of deques) {
    for (const batch of deque) {
      if (!batch.hasReachedDeliveryTimeout(deliveryTimeoutUs, nowUs)) break;
      expired.push(batch);
    }
  }
  return expired;
}

describe("RecordAccumulator.ready's kept answer and kept earliest expiry", () => {
  it("are what a fresh ready() and a scan of every deque compute, after any sequence of changes", () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 10, maxLength: 80, size: "max" }), (steps) => {
        const meta = new FakeMetadata();
        // Small batches (several per deque, some full), linger and backoff within the clock steps, a small buffer.
        const config = {
          ...PRODUCER_DEFAULTS,
          "bootstrap.servers": [],
          "batch.size": 600,
          "linger.ms": 20,
          "retry.backoff.ms": 30,
          "delivery.timeout.ms": 200,
          "buffer.memory": 1300,
        } as ProducerConfig;
        const accumulator = new RecordAccumulator(config, meta as unknown as ProducerMetadata, null, new StickyPartitioner(600, { int: () => 0 } as never));
        let nowUs = 1_000_000 as Micros;
        const inFlight: ProducerBatch[] = [];
        for (const s of steps) {
          switch (s.op) {
            case "append": {
              const bytes = sizeUpperBoundFromLengths(-1, s.bytes);
              accumulator.append(TOPIC, s.partition, record(s.bytes), bytes, nowUs);
              break;
            }
            case "drain": {
              const hosts = { size: 1, get: () => HOSTS[s.host] } as never;
              const drained = accumulator.drain(hosts, nowUs);
              for (let i = 0; i < drained.batches.size; i++) inFlight.push(...drained.batches.get(i));
              break;
            }
            case "retry":
              if (inFlight.length > 0) accumulator.reenqueue(inFlight.shift()!, nowUs);
              break;
            case "complete":
              if (inFlight.length > 0) accumulator.deallocate(inFlight.shift()!);
              break;
            case "mute":
              accumulator.mutePartition(`${TOPIC}-${s.partition}`);
              break;
            case "unmute":
              accumulator.unmutePartition(`${TOPIC}-${s.partition}`);
              break;
            case "flush":
              accumulator.beginFlush();
              break;
            case "endFlush":
              for (const batch of inFlight.splice(0)) accumulator.deallocate(batch);
              for (const batch of accumulator.takeQueuedBatches()) accumulator.deallocate(batch);
              accumulator.maybeEndFlush();
              break;
            case "abort":
              for (const batch of accumulator.takeUndrainedBatches()) accumulator.deallocate(batch);
              break;
            case "close":
              accumulator.close();
              break;
            case "expire": {
              const expected = expiredAtFront(accumulator, nowUs, 200_000);
              const expired = accumulator.expiredBatches(nowUs);
              expect(expired).to.have.ordered.members(expected);
              for (const batch of expired) accumulator.deallocate(batch);
              break;
            }
            case "leader":
              meta.leaders[s.partition] = s.host === HOSTS.length ? null : HOSTS[s.host];
              meta.version++;
              break;
            case "tick":
              nowUs = (nowUs + s.us) as Micros;
              break;
            case "memory":
              accumulator.endMemoryWait();
              break;
          }
          const kept = snapshot(accumulator.ready(nowUs));
          expect(kept).to.deep.equal(freshReady(accumulator, nowUs));
          expect(accumulator.nextExpiryUs()).to.equal(earliestExpiry(accumulator, 200_000));
        }
      }),
      { numRuns: 400 },
    );
  });
});
