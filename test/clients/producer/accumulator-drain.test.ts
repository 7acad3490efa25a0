import { expect } from "chai";
import fc from "fast-check";
import { RecordAccumulator } from "../../../src/clients/producer/accumulator.ts";
import { ProducerBatch, sizeUpperBoundFromLengths, type PendingRecord } from "../../../src/clients/producer/batch.ts";
import { PRODUCER_DEFAULTS, type ProducerConfig } from "../../../src/clients/producer/config.ts";
import type { ProducerMetadata } from "../../../src/clients/producer/metadata.ts";
import { StickyPartitioner } from "../../../src/clients/partitioner.ts";
import type { Micros } from "../../../src/sim/time.ts";

/**
 * RecordAccumulator.drain visits only the partitions with queued batches: the batches drained, their order and
 * the drain index that the next drain starts from are those of Kafka's walk over every partition the node leads
 * (RecordAccumulator.drainBatchesForOneNode), here a reference model of it.
 */

const TOPIC = "t";
const HOSTS = ["broker-1", "broker-2", "broker-3"];

/**
 * `partitions` partitions led round-robin by HOSTS, until move() gives one another leader (a new version, and
 * new partitionsForHost lists, as ProducerMetadata.update makes): what drain needs of the producer's metadata.
 */
function metadata(partitions: number): ProducerMetadata & { move(partition: number, host: string): void } {
  const leaders = Array.from({ length: partitions }, (_, p) => HOSTS[p % HOSTS.length]);
  let byHost = new Map<string, { topic: string; partition: number; topicPartition: string }[]>();
  const rebuild = (): void => {
    byHost = new Map(HOSTS.map((h) => [h, [] as { topic: string; partition: number; topicPartition: string }[]]));
    for (let p = 0; p < partitions; p++) byHost.get(leaders[p])!.push({ topic: TOPIC, partition: p, topicPartition: `${TOPIC}-${p}` });
  };
  rebuild();
  const meta = {
    version: 0,
    partitionCount: () => partitions,
    availablePartitions: () => [],
    leaderHost: (_topic: string, p: number) => leaders[p],
    partitionsForHost: (host: string) => byHost.get(host)!,
    move: (partition: number, host: string) => {
      leaders[partition] = host;
      meta.version++;
      rebuild();
    },
  };
  return meta as unknown as ProducerMetadata & { move(partition: number, host: string): void };
}

function record(value: string): PendingRecord {
  return { key: null, value, keyLength: -1, valueLength: value.length, timestamp: 0, callback: () => {} };
}

type Step = { append: number; bytes: number } | { drain: number } | { move: number; to: number };

/** Kafka's walk: from the drain index, every partition of the host once; stops at max.request.size. */
class ReferenceDrain {
  readonly deques = new Map<string, { label: string; bytes: number }[]>();
  readonly drainIndex = new Map<string, number>();

  constructor(
    private readonly meta: ProducerMetadata,
    private readonly maxRequestSize: number,
  ) {}

  drain(host: string): string[] {
    const parts = this.meta.partitionsForHost(host);
    const drained: string[] = [];
    if (parts.length === 0) return drained;
    let size = 0;
    let index = (this.drainIndex.get(host) ?? 0) % parts.length;
    const start = index;
    let last = index;
    do {
      const tp = parts[index].topicPartition;
      last = index;
      index = (index + 1) % parts.length;
      const first = this.deques.get(tp)?.[0];
      if (first === undefined) continue;
      if (size + first.bytes > this.maxRequestSize && drained.length > 0) break;
      this.deques.get(tp)!.shift();
      size += first.bytes;
      drained.push(first.label);
    } while (index !== start);
    this.drainIndex.set(host, last);
    return drained;
  }
}

describe("RecordAccumulator.drain over the partitions with queued batches", () => {
  it("drains what Kafka's walk over every partition of the node drains, in its order, from the same index", () => {
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ append: fc.nat(29), bytes: fc.integer({ min: 1, max: 700 }) }),
      fc.record({ drain: fc.nat(HOSTS.length - 1) }),
      fc.record({ move: fc.nat(29), to: fc.nat(HOSTS.length - 1) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.array(step, { maxLength: 120, size: "max" }), (partitions, steps) => {
        const meta = metadata(partitions);
        // batch.size 1: every record opens its own batch; max.request.size small enough to stop some drains.
        const config: ProducerConfig = { ...PRODUCER_DEFAULTS, "bootstrap.servers": [], "batch.size": 1, "max.request.size": 2000 } as ProducerConfig;
        const accumulator = new RecordAccumulator(config, meta, null, new StickyPartitioner(1, { int: () => 0 } as never));
        const reference = new ReferenceDrain(meta, 2000);
        const now = 1_000_000 as Micros;
        let n = 0;
        for (const s of steps) {
          if ("append" in s) {
            const partition = s.append % partitions;
            // Each batch is told apart by its creation time.
            const createdUs = n++ as Micros;
            const label = String(createdUs);
            const value = label.padEnd(s.bytes, ".");
            accumulator.append(TOPIC, partition, record(value), sizeUpperBoundFromLengths(-1, value.length), createdUs);
            // batch.size 1: the record has a batch of its own, of this size.
            const alone = new ProducerBatch(TOPIC, partition, now, 1, 1);
            alone.tryAppend(record(value));
            const tp = `${TOPIC}-${partition}`;
            if (!reference.deques.has(tp)) reference.deques.set(tp, []);
            reference.deques.get(tp)!.push({ label, bytes: alone.sizeBytes });
            continue;
          }
          if ("move" in s) {
            meta.move(s.move % partitions, HOSTS[s.to]);
            continue;
          }
          const host = HOSTS[s.drain];
          accumulator.ready(now);
          const hosts = { size: 1, get: () => host } as never;
          const result = accumulator.drain(hosts, now);
          const drained = result.hosts.size === 0 ? [] : result.batches.get(0);
          expect(drained.map((b) => String(b.createdUs))).to.deep.equal(reference.drain(host));
          // Each batch carries its own partition's key (the accumulator hands over its deque's key string).
          expect(drained.map((b) => b.topicPartition)).to.deep.equal(drained.map((b) => `${b.topic}-${b.partition}`));
        }
      }),
      { numRuns: 300 },
    );
  });
});
