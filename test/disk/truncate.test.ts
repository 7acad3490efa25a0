import { expect } from "chai";
import { contents, makeRig, readAll, runUntil } from "./helpers.ts";

describe("Disk truncation and durability", () => {
  it("a truncation below the synced length is not durable: a power loss brings the durable chunks back", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const { world, disk } = makeRig({}, {}, seed);
      for (const data of ["a", "b", "c", "d", "e"]) disk.append("log", data, 10);
      disk.syncAll();
      disk.truncate("log", 2);
      disk.append("log", "x", 10); // unsynced: lost, and the old tail comes back
      expect(readAll(disk, "log")).to.deep.equal(["a", "b", "x"]);
      expect(contents(disk.durableView("log"))).to.deep.equal(["a", "b", "c", "d", "e"]);
      disk.onPowerLoss(world.rng.fork("power"));
      expect(readAll(disk, "log")).to.deep.equal(["a", "b", "c", "d", "e"]);
      expect(disk.usedBytes()).to.equal(50);
      expect(disk.dirtyBytes()).to.equal(0);
    }
  });

  it("data written back before a truncation is durable even if nobody looked in between", () => {
    const { world, disk } = makeRig();
    for (const data of ["a", "b", "c"]) disk.append("log", data, 1);
    runUntil(world, 30_000_000); // written back by now; the disk materializes that lazily
    disk.truncate("log", 1);
    disk.onPowerLoss(world.rng.fork("power"));
    expect(readAll(disk, "log")).to.deep.equal(["a", "b", "c"]);
  });

  it("repeated truncations keep the whole durable view", () => {
    const { world, disk } = makeRig();
    for (const data of ["a", "b", "c", "d", "e"]) disk.append("log", data, 1);
    disk.syncAll();
    disk.truncate("log", 4);
    disk.append("log", "x", 1);
    disk.truncate("log", 2);
    disk.truncate("log", 1);
    expect(contents(disk.durableView("log"))).to.deep.equal(["a", "b", "c", "d", "e"]);
    disk.onPowerLoss(world.rng.fork("power"));
    expect(readAll(disk, "log")).to.deep.equal(["a", "b", "c", "d", "e"]);
  });

  it("an fsync after the truncation makes the truncation durable", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const { world, disk } = makeRig({}, {}, seed);
      for (const data of ["a", "b", "c", "d", "e"]) disk.append("log", data, 10);
      disk.syncAll();
      disk.truncate("log", 2);
      let done = false;
      disk.fsync("log", null, () => (done = true));
      runUntil(world, 10_000);
      expect(done).to.equal(true);
      expect(contents(disk.durableView("log"))).to.deep.equal(["a", "b"]);
      disk.onPowerLoss(world.rng.fork("power"));
      expect(readAll(disk, "log")).to.deep.equal(["a", "b"]);
    }
  });

  it("a truncation above the synced length only drops unsynced chunks", () => {
    const outcomes = new Set<string>();
    for (let seed = 1; seed <= 30; seed++) {
      const { world, disk } = makeRig({}, {}, seed);
      disk.append("log", "a", 1);
      disk.append("log", "b", 1);
      disk.syncAll();
      for (const data of ["c", "d", "e"]) disk.append("log", data, 1);
      disk.truncate("log", 3);
      expect(contents(disk.durableView("log"))).to.deep.equal(["a", "b"]);
      disk.onPowerLoss(world.rng.fork("power"));
      const kept = readAll(disk, "log").join();
      expect(["a,b", "a,b,c", "a,b,c~torn"]).to.include(kept);
      outcomes.add(kept);
    }
    expect(outcomes.size).to.equal(3);
  });

  it("writeFile over a synced file is not durable until fsync: a power loss brings back the old content", () => {
    const { world, disk } = makeRig();
    disk.writeFile("cp", "v1", 10);
    disk.syncAll();
    disk.writeFile("cp", "v2", 10);
    disk.onPowerLoss(world.rng.fork("power"));
    expect(readAll(disk, "cp")).to.deep.equal(["v1"]);
  });
});
