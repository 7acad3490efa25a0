import { expect } from "chai";
import fc from "fast-check";
import { CachedPartition, FetchSession } from "../../../src/broker/replica/fetch-session.ts";
import { topicPartitionKey, type FetchPartition, type TopicPartitionRef } from "../../../src/protocol/kafka.ts";

/**
 * A fetch session's order (fetch-session.ts): kept as copy-on-write arrays, it must be the order Kafka's
 * ImplicitLinkedHashCollection gives — here an insertion-ordered Map as the oracle: an added partition goes to
 * the end, a forgotten one leaves, an answered one is removed and put back at the end.
 */

const TOPIC = "t";

function fetchOf(partition: number, fetchOffset: number): FetchPartition {
  return { topic: TOPIC, partition, currentLeaderEpoch: 1, fetchOffset, logStartOffset: 0, partitionMaxBytes: 1 << 20, lastFetchedEpoch: -1 };
}

type Step =
  | { kind: "update"; add: number[]; forget: number[] }
  | { kind: "answer"; answered: boolean[] };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("update" as const), add: fc.array(fc.nat(7), { maxLength: 4 }), forget: fc.array(fc.nat(7), { maxLength: 3 }) }),
  fc.record({ kind: fc.constant("answer" as const), answered: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }) }),
);

describe("fetch session order (copy-on-write arrays against an insertion-ordered map)", () => {
  it("adds, forgets and answered partitions moved last give the map's order; a context's array never changes", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat(7), { minLength: 1, maxLength: 8 }), fc.array(step, { maxLength: 30 }), (initial, steps) => {
        const map = new Map<string, CachedPartition>();
        for (const p of initial) map.set(topicPartitionKey(TOPIC, p), CachedPartition.of(fetchOf(p, 0)));
        const session = new FetchSession(1, true, map, 0, 0, 1);
        const oracle = [...map.keys()];
        let offset = 1;
        for (const s of steps) {
          const before = session.partitions;
          const beforeKeys = before.map((p) => p.key);
          if (s.kind === "update") {
            const fetches = s.add.map((p) => fetchOf(p, offset++));
            const toForget: TopicPartitionRef[] = s.forget.map((p) => ({ topic: TOPIC, partition: p }));
            session.update(fetches, toForget);
            for (const f of fetches) {
              const key = topicPartitionKey(TOPIC, f.partition);
              if (!oracle.includes(key)) oracle.push(key);
            }
            for (const f of toForget) {
              const at = oracle.indexOf(topicPartitionKey(TOPIC, f.partition));
              if (at >= 0) oracle.splice(at, 1);
            }
            // An added or updated partition that stays holds the request's (last) data for it.
            const last = new Map(fetches.map((f) => [topicPartitionKey(TOPIC, f.partition), f.fetchOffset]));
            for (const [key, fetchOffset] of last) if (oracle.includes(key)) expect(session.partitionMap.get(key)!.fetchOffset).to.equal(fetchOffset);
          } else {
            const answered = before.map((_, i) => s.answered[i]);
            session.moveAnsweredLast(before, answered);
            const moved = beforeKeys.filter((_, i) => answered[i]);
            for (const key of moved) {
              oracle.splice(oracle.indexOf(key), 1);
              oracle.push(key);
            }
          }
          // The array a context read is as it was.
          expect(before.map((p) => p.key)).to.deep.equal(beforeKeys);
          expect(session.partitions.map((p) => p.key)).to.deep.equal(oracle);
          expect([...session.partitionMap.keys()].sort()).to.deep.equal([...oracle].sort());
          expect(session.keysOf(session.partitions)).to.deep.equal(oracle);
          expect(session.size).to.equal(oracle.length);
        }
      }),
      { numRuns: 300 },
    );
  });
});
