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
