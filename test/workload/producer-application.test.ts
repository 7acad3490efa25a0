import { expect } from "chai";
import fc from "fast-check";
import { valueFor } from "../../src/workload/producer-application.ts";

/** A workload's values are `${process}-${n padded to 6}` (the history's and the checkers' identities of records). */
describe("producer workload values", () => {
  it("are the process, a dash and the sequence number padded to six digits, as padStart pads it", () => {
    fc.assert(
      fc.property(fc.string(), fc.oneof(fc.nat(1_000_000), fc.nat()), (process, n) => {
        expect(valueFor(`${process}-`, n)).to.equal(`${process}-${String(n).padStart(6, "0")}`);
      }),
      { numRuns: 2000 },
    );
    expect(valueFor("p1-", 0)).to.equal("p1-000000");
    expect(valueFor("p1-", 123_456)).to.equal("p1-123456");
    expect(valueFor("p1-", 1_234_567)).to.equal("p1-1234567");
  });
});
