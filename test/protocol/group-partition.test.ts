/** The coordinators' partition for a group or transactional id: Utils.abs(id.hashCode) % partitions, as Kafka. */

import { expect } from "chai";
import { javaStringHashCode, partitionForGroup, utilsAbs } from "../../src/protocol/group.ts";

describe("partitionForGroup (GroupMetadataManager / TransactionStateManager.partitionFor)", () => {
  it("hashes as java.lang.String.hashCode", () => {
    expect(javaStringHashCode("g1")).to.equal(3242);
    expect(javaStringHashCode("consumer-group")).to.equal(-1738392088);
    expect(javaStringHashCode("polygenelubricants")).to.equal(-2147483648);
  });

  it("takes Utils.abs of a negative hash (not hash & 0x7fffffff)", () => {
    // |-1738392088| % 50 = 38; (-1738392088 & 0x7fffffff) % 50 would be 10.
    expect(partitionForGroup("consumer-group", 50)).to.equal(38);
    expect(partitionForGroup("g1", 50)).to.equal(42);
  });

  it("maps Integer.MIN_VALUE to 0, as Utils.abs does", () => {
    expect(utilsAbs(-2147483648)).to.equal(0);
    expect(partitionForGroup("polygenelubricants", 50)).to.equal(0);
  });
});
