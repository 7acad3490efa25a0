import { expect } from "chai";
import { murmur2, partitionForKey, toPositive } from "../../src/clients/partitioner.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

describe("murmur2 partitioner", () => {
  it("matches Kafka's Utils.murmur2 (UtilsTest.testMurmur2 vectors)", () => {
    const cases: [string, number][] = [
      ["21", -973932308],
      ["foobar", -790332482],
      ["a-little-bit-long-string", -985981536],
      ["a-little-bit-longer-string", -1486304829],
      ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
      ["abc", 479470107],
      ["", 275646681],
    ];
    for (const [input, expected] of cases) expect(murmur2(bytes(input)), input).to.equal(expected);
  });

  it("places a key at toPositive(murmur2) % partitions", () => {
    expect(toPositive(-790332482)).to.equal(1357151166);
    expect(partitionForKey("foobar", 50)).to.equal(16);
    expect(toPositive(-2147483648)).to.equal(0);
  });
});
