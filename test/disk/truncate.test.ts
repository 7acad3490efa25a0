import { expect } from "chai";
import { contents, makeRig, readAll, runUntil } from "./helpers.ts";

describe("Disk truncation and durability", () => {
  it("a truncation below the synced length is not durable until the journal commits it: a power loss brings the durable chunks back", () => {
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

  it("an fsync of another file commits the journal: the truncation is durable (ext4's one running transaction)", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const { world, disk } = makeRig({}, {}, seed);
      for (const data of ["a", "b", "c", "d", "e"]) disk.append("log", data, 10);
      disk.syncAll();
      disk.truncate("log", 2);
      disk.writeFile("checkpoint.tmp", "cp", 10);
      let done = false;
      disk.fsync("checkpoint.tmp", null, () => (done = true));
      expect(contents(disk.durableView("log")), "before the commit").to.deep.equal(["a", "b", "c", "d", "e"]);
      runUntil(world, 10_000);
      expect(done).to.equal(true);
      expect(contents(disk.durableView("log"))).to.deep.equal(["a", "b"]);
      disk.onPowerLoss(world.rng.fork("power"));
      expect(readAll(disk, "log")).to.deep.equal(["a", "b"]);
    }
  });

  it("an fsync issued before the truncation does not commit it", () => {
    const { world, disk } = makeRig();
    for (const data of ["a", "b", "c"]) disk.append("log", data, 10);
    disk.append("other", "o", 10);
    disk.syncAll();
    disk.append("other", "p", 10);
    disk.fsync("other", null);
    disk.truncate("log", 1);
    runUntil(world, 10_000);
    expect(contents(disk.durableView("log"))).to.deep.equal(["a", "b", "c"]);
    disk.onPowerLoss(world.rng.fork("power"));
    expect(readAll(disk, "log")).to.deep.equal(["a", "b", "c"]);
  });

  it("an fsync voided by a power loss commits nothing", () => {
    const { world, disk } = makeRig();
    for (const data of ["a", "b", "c"]) disk.append("log", data, 10);
    disk.syncAll();
    disk.truncate("log", 1);
    disk.append("other", "o", 10);
    disk.fsync("other", null);
    disk.onPowerLoss(world.rng.fork("power"));
    runUntil(world, 10_000);
    expect(readAll(disk, "log")).to.deep.equal(["a", "b", "c"]);
  });

  it("the journal's periodic commit makes a truncation durable within journalCommitIntervalUs, with no fsync", () => {
    for (const truncateAtUs of [1, 4_999_999, 5_000_000, 7_300_000]) {
      const { world, disk } = makeRig({}, { journalCommitIntervalUs: 5_000_000 });
      for (const data of ["a", "b", "c"]) disk.append("log", data, 10);
      disk.syncAll();
      runUntil(world, truncateAtUs);
      disk.truncate("log", 1);
      const commitUs = (Math.floor(truncateAtUs / 5_000_000) + 1) * 5_000_000;
      runUntil(world, commitUs - 1);
      expect(contents(disk.durableView("log")), `truncated at ${truncateAtUs}: before the commit`).to.deep.equal(["a", "b", "c"]);
      runUntil(world, commitUs);
      expect(contents(disk.durableView("log")), `truncated at ${truncateAtUs}: after the commit`).to.deep.equal(["a"]);
      disk.onPowerLoss(world.rng.fork("power"));
      expect(readAll(disk, "log")).to.deep.equal(["a"]);
    }
  });

  it("a commit covers the older of two pending truncations only: the newer one's chunks still come back", () => {
    const { world, disk } = makeRig();
    for (const data of ["a", "b", "c", "d"]) disk.append("log", data, 10);
    disk.syncAll();
    disk.truncate("log", 3); // pending truncation 1 cuts "d"
    disk.append("other", "o", 10);
    disk.fsync("other", null); // commits truncation 1 once it completes
    disk.truncate("log", 1); // pending truncation 2 cuts "b", "c": after the fsync's call
    runUntil(world, 10_000);
    expect(contents(disk.durableView("log"))).to.deep.equal(["a", "b", "c"]);
    disk.onPowerLoss(world.rng.fork("power"));
    expect(readAll(disk, "log")).to.deep.equal(["a", "b", "c"]);
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
