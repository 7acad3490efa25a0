import { expect } from "chai";
import fc from "fast-check";
import { batchSizeBytes, batchWithRecords, makeBatch, makeEndTxnMarker, NO_HEADERS, withBaseOffset, withLeaderEpoch, withoutRecords } from "../../../src/broker/log/records.ts";

describe("Record batches", () => {
  it("records without headers share one frozen empty headers array (no object per record kept in the logs)", () => {
    const batch = makeBatch({ baseOffset: 0, partitionLeaderEpoch: 0, records: [{ key: null, value: "a", timestamp: 1 }, { key: "k", value: "b", timestamp: 2 }] });
    expect(batch.records[0].headers).to.equal(NO_HEADERS);
    expect(batch.records[1].headers).to.equal(NO_HEADERS);
    expect(Object.isFrozen(NO_HEADERS)).to.equal(true);
    expect(batch.sizeBytes).to.equal(batchSizeBytes(batch.records));
  });

  it("keeps a record's own headers", () => {
    const headers = [{ key: "h", value: "v" }];
    const batch = makeBatch({ baseOffset: 0, partitionLeaderEpoch: 0, records: [{ key: null, value: "a", timestamp: 1, headers }] });
    expect(batch.records[0].headers).to.equal(headers);
  });
});

describe("Record batches stored compactly", () => {
  const recordSpec = fc.record({
    key: fc.option(fc.string({ maxLength: 4 })),
    value: fc.option(fc.string({ maxLength: 6 })),
    timestamp: fc.integer({ min: 0, max: 2_000_000 }),
    headers: fc.option(fc.array(fc.record({ key: fc.string({ maxLength: 3 }), value: fc.option(fc.string({ maxLength: 3 })) }), { maxLength: 2 }), { nil: undefined }),
  });

  it("reads every record back through records and the accessors, with Kafka's sizes", () => {
    fc.assert(
      fc.property(fc.array(recordSpec, { minLength: 1, maxLength: 6 }), fc.nat(1000), (specs, baseOffset) => {
        const batch = makeBatch({ baseOffset, partitionLeaderEpoch: 3, producerId: 5, producerEpoch: 1, baseSequence: 9, isTransactional: true, records: specs });
        const first = specs[0].timestamp;
        const expected = specs.map((r, i) => ({ offsetDelta: i, timestampDelta: r.timestamp - first, key: r.key, value: r.value, headers: r.headers ?? NO_HEADERS }));
        expect(batch.records).to.deep.equal(expected);
        expect(batch.recordCount).to.equal(specs.length);
        for (let i = 0; i < specs.length; i++) {
          expect(batch.keyAt(i)).to.equal(specs[i].key);
          expect(batch.valueAt(i)).to.equal(specs[i].value);
          expect(batch.offsetDeltaAt(i)).to.equal(i);
          expect(batch.timestampDeltaAt(i)).to.equal(specs[i].timestamp - first);
        }
        expect(batch.sizeBytes).to.equal(batchSizeBytes(expected));
        expect(batch.maxTimestamp).to.equal(Math.max(...specs.map((r) => r.timestamp)));
        expect(batch.lastOffsetDelta).to.equal(specs.length - 1);
        const restamped = withLeaderEpoch(withBaseOffset(batch, baseOffset + 7), 4);
        expect(restamped.records).to.deep.equal(expected);
        expect([restamped.baseOffset, restamped.partitionLeaderEpoch, restamped.sizeBytes]).to.deep.equal([baseOffset + 7, 4, batch.sizeBytes]);
        expect([restamped.producerId, restamped.producerEpoch, restamped.baseSequence, restamped.isTransactional, restamped.isControl]).to.deep.equal([5, 1, 9, true, false]);
      }),
    );
  });

  it("a single plain record is kept as the batch's own fields: no records array and no record object", () => {
    const batch = makeBatch({ baseOffset: 0, partitionLeaderEpoch: 0, records: [{ key: "k1", value: "v", timestamp: 5 }] });
    const kept = Object.values(batch).filter((field) => typeof field === "object" && field !== null);
    expect(kept).to.deep.equal([]);
    // Built on demand, not kept: each read is a new array.
    expect(batch.records).to.not.equal(batch.records);
  });

  it("a restamped batch shares its records' storage with the produced one", () => {
    const batch = makeBatch({ baseOffset: 0, partitionLeaderEpoch: -1, records: [{ key: null, value: "a", timestamp: 1 }, { key: null, value: "b", timestamp: 2 }] });
    const stored = withBaseOffset(batch, 10);
    const shared = Object.values(batch).filter((field) => typeof field === "object" && field !== null);
    expect(shared).to.have.length(1);
    expect(Object.values(stored)).to.include(shared[0]);
  });

  it("read_committed's emptied batch keeps the header and the size, without records", () => {
    const batch = makeBatch({ baseOffset: 4, partitionLeaderEpoch: 0, producerId: 2, producerEpoch: 0, isTransactional: true, records: [{ key: null, value: "a", timestamp: 1 }] });
    const emptied = withoutRecords(batch);
    expect([emptied.recordCount, emptied.records.length, emptied.baseOffset, emptied.sizeBytes, emptied.isTransactional]).to.deep.equal([0, 0, 4, batch.sizeBytes, true]);
  });

  it("a marker's control type and a cleaned batch's delete horizon are attributes", () => {
    const marker = makeEndTxnMarker({ producerId: 1, producerEpoch: 0, coordinatorEpoch: 3, controlType: "ABORT", timestamp: 7 });
    expect([marker.isControl, marker.isTransactional, marker.controlType, marker.deleteHorizonMs]).to.deep.equal([true, true, "ABORT", undefined]);
    const cleaned = batchWithRecords(marker, marker.records, 7, 7, marker.sizeBytes, 100);
    expect([cleaned.deleteHorizonMs, cleaned.firstTimestamp, cleaned.controlType]).to.deep.equal([100, 100, "ABORT"]);
  });
});
