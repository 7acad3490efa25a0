import { expect } from "chai";
import fc from "fast-check";
import { ProducerBatch, type PendingRecord } from "../../../src/clients/producer/batch.ts";
import { batchSizeBytes, makeBatch, nullableLength } from "../../../src/broker/log/records.ts";

const nullableText = fc.option(fc.string({ unit: "binary", maxLength: 300 }), { nil: null });

describe("ProducerBatch.toRecordBatch", () => {
  it("hands makeBatch the size it summed while appending: the size makeBatch measures from the records itself", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ key: nullableText, value: nullableText, timestamp: fc.integer({ min: 0, max: 2 ** 40 }) }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 20_000 }),
        (records, batchSize) => {
          const batch = new ProducerBatch("t", 0, 0, batchSize, batchSize);
          const appended: PendingRecord[] = [];
          for (const { key, value, timestamp } of records) {
            const pending: PendingRecord = { key, value, keyLength: nullableLength(key), valueLength: nullableLength(value), timestamp, callback: () => {} };
            if (batch.tryAppend(pending) === null) break;
            appended.push(pending);
          }
          const wire = batch.toRecordBatch();
          // The oracle: makeBatch measuring every key and value (no size given), and the records' own sizes.
          const measured = makeBatch({ baseOffset: 0, partitionLeaderEpoch: -1, records: appended });
          expect(wire.sizeBytes).to.equal(measured.sizeBytes);
          expect(wire.sizeBytes).to.equal(batchSizeBytes(wire.records));
        },
      ),
      { numRuns: 300 },
    );
  });
});
