import { expect } from "chai";
import { batchSizeBytes, makeBatch, NO_HEADERS } from "../../../src/broker/log/records.ts";

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
