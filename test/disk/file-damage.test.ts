import { expect } from "chai";
import type { Damage } from "../../src/disk/chunk.ts";
import { DiskFile } from "../../src/disk/file.ts";

describe("DiskFile damage column", () => {
  it("an appended chunk reads back with the damage it was written with (a restored torn or flipped chunk keeps it)", () => {
    const file = new DiskFile();
    const damages: Damage[] = ["none", "torn", "flipped", "none", "flipped"];
    damages.forEach((damage, i) => file.append(i, 10, i, damage));
    file.append("default", 10, 9);
    expect([...damages.keys(), damages.length].map((i) => file.damageAt(i))).to.deep.equal([...damages, "none"]);
  });
});
