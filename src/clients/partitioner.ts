/**
 * The producer's key partitioner: Kafka's Utils.murmur2 (32-bit MurmurHash2, seed 0x9747b28c) over the key's
 * UTF-8 bytes, then Utils.toPositive(hash) % numPartitions, as DefaultPartitioner / BuiltInPartitioner place a
 * keyed record. Java's int arithmetic is reproduced with Math.imul and `| 0`; the result is Java's signed int.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const R = 24;

const encoder = new TextEncoder();

/** Utils.murmur2(byte[]): a signed 32-bit hash. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = (data[i4] & 0xff) | ((data[i4 + 1] & 0xff) << 8) | ((data[i4 + 2] & 0xff) << 16) | ((data[i4 + 3] & 0xff) << 24);
    k = Math.imul(k, M);
    k ^= k >>> R;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  const tail = length & ~3;
  const remaining = length % 4;
  // Java's switch falls through from case 3 to case 1.
  if (remaining === 3) h ^= (data[tail + 2] & 0xff) << 16;
  if (remaining >= 2) h ^= (data[tail + 1] & 0xff) << 8;
  if (remaining >= 1) {
    h ^= data[tail] & 0xff;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Utils.toPositive: clears the sign bit (not Math.abs: Integer.MIN_VALUE maps to 0). */
export function toPositive(hash: number): number {
  return hash & 0x7fffffff;
}

/** The partition of a keyed record among `numPartitions` partitions. */
export function partitionForKey(key: string, numPartitions: number): number {
  return toPositive(murmur2(encoder.encode(key))) % numPartitions;
}

/** A source of uniform random integers in [min, max] (the producer's seeded stream). */
export interface RandomInts {
  int(min: number, max: number): number;
}

/**
 * BuiltInPartitioner's sticky partitioning of records without a key (KIP-480, KIP-794 in 3.3): every such
 * record of a topic goes to the current sticky partition; once batch.size bytes were produced to it and its
 * last batch is full — or 2 × batch.size bytes in any case — the next partition is drawn uniformly among the
 * partitions with a leader (all partitions when none has one). It may draw the same partition again, as
 * Kafka's does. Simplification: partitioner.adaptive.partitioning.enable=false (no queue-size weighting).
 */
export class StickyPartitioner {
  private readonly current = new Map<string, { partition: number; producedBytes: number }>();

  constructor(
    private readonly batchSize: number,
    private readonly random: RandomInts,
  ) {}

  /** The topic's current sticky partition, choosing one when there is none (peekCurrentPartitionInfo). */
  partition(topic: string, numPartitions: number, available: readonly number[]): number {
    let info = this.current.get(topic);
    if (info === undefined || info.partition >= numPartitions) {
      info = { partition: this.nextPartition(numPartitions, available), producedBytes: 0 };
      this.current.set(topic, info);
    }
    return info.partition;
  }

  /** updatePartitionInfo: counts appended bytes and maybe switches to another partition. */
  onAppend(topic: string, appendedBytes: number, enableSwitch: boolean, numPartitions: number, available: readonly number[]): void {
    const info = this.current.get(topic);
    if (info === undefined) return;
    info.producedBytes += appendedBytes;
    if ((info.producedBytes >= this.batchSize && enableSwitch) || info.producedBytes >= this.batchSize * 2) {
      this.current.set(topic, { partition: this.nextPartition(numPartitions, available), producedBytes: 0 });
    }
  }

  private nextPartition(numPartitions: number, available: readonly number[]): number {
    if (available.length > 0) return available[this.random.int(0, available.length - 1)];
    return this.random.int(0, numPartitions - 1);
  }
}
