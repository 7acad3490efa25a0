import { expect } from "chai";
import fc from "fast-check";
import { ProducerBatch } from "../../../src/clients/producer/batch.ts";
import { InFlightBatches } from "../../../src/clients/producer/in-flight-batches.ts";

const TIMEOUT_US = 100;

type Op =
  | { op: "add"; partition: number; createdUs: number }
  | { op: "remove"; pick: number }
  | { op: "expire"; nowUs: number }
  | { op: "next"; nowUs: number }
  | { op: "all" };

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant("add" as const), partition: fc.integer({ min: 0, max: 4 }), createdUs: fc.integer({ min: 0, max: 200 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("remove" as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("expire" as const), nowUs: fc.integer({ min: 0, max: 400 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("next" as const), nowUs: fc.integer({ min: 0, max: 400 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("all" as const) }) },
);

/** The Sender's former inFlightBatches: an insertion-ordered Map from topic-partition to list, a key dropped when its list empties. */
class MapModel {
  readonly map = new Map<string, ProducerBatch[]>();

  add(batch: ProducerBatch): void {
    const list = this.map.get(batch.topicPartition) ?? [];
    list.push(batch);
    this.map.set(batch.topicPartition, list);
  }

  remove(batch: ProducerBatch): void {
    const list = this.map.get(batch.topicPartition);
    if (list === undefined) return;
    const index = list.indexOf(batch);
    if (index >= 0) list.splice(index, 1);
    if (list.length === 0) this.map.delete(batch.topicPartition);
  }

  takeExpired(nowUs: number): ProducerBatch[] {
    const expired: ProducerBatch[] = [];
    for (const batches of this.map.values()) {
      while (batches.length > 0 && batches[0].hasReachedDeliveryTimeout(TIMEOUT_US, nowUs)) expired.push(batches.shift()!);
    }
    return expired;
  }

  nextExpiryUs(nowUs: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const batches of this.map.values()) for (const batch of batches) if (batch.createdUs + TIMEOUT_US > nowUs) next = Math.min(next, batch.createdUs + TIMEOUT_US);
    return next;
  }

  all(): ProducerBatch[] {
    return [...this.map.values()].flat();
  }
}

describe("InFlightBatches", () => {
  it("visits, expires and drops partitions exactly as an insertion-ordered map whose emptied keys are deleted", () => {
    fc.assert(
      fc.property(fc.array(opArbitrary, { maxLength: 300, size: "large" }), (ops) => {
        const inFlight = new InFlightBatches();
        const model = new MapModel();
        const added: ProducerBatch[] = [];
        // Batches compared by identity: their index in `added`.
        const ids = (batches: readonly ProducerBatch[]): number[] => batches.map((batch) => added.indexOf(batch));
        for (const step of ops) {
          if (step.op === "add") {
            const batch = new ProducerBatch("t", step.partition, step.createdUs, 16_384, 16_384);
            added.push(batch);
            inFlight.add(batch);
            model.add(batch);
          } else if (step.op === "remove") {
            if (added.length === 0) continue;
            // Any batch ever added, in flight or not (the Sender also removes batches already expired).
            const batch = added[step.pick % added.length];
            inFlight.remove(batch);
            model.remove(batch);
          } else if (step.op === "expire") {
            expect(ids(inFlight.takeExpired(TIMEOUT_US, step.nowUs) ?? [])).to.deep.equal(ids(model.takeExpired(step.nowUs)));
          } else if (step.op === "next") {
            expect(inFlight.nextExpiryUs(TIMEOUT_US, step.nowUs)).to.equal(model.nextExpiryUs(step.nowUs));
          } else {
            expect(ids(inFlight.all())).to.deep.equal(ids(model.all()));
          }
          expect(inFlight.isEmpty).to.equal(model.map.size === 0);
        }
      }),
      { numRuns: 300 },
    );
  });
});
