import { expect } from "chai";
import { ModelAssertionError } from "../../src/sim/assert.ts";
import { contents, makeRig, readAll, runUntil } from "./helpers.ts";

describe("Disk files", () => {
  it("append creates the file and records each write as one chunk in the page cache", () => {
    const { world, disk } = makeRig();
    expect(disk.exists("log")).to.equal(false);
    expect(disk.append("log", "a", 10)).to.equal(null);
    runUntil(world, 7);
    expect(disk.append("log", "b", 20)).to.equal(null);
    const result = disk.read("log");
    expect(result.error).to.equal(null);
    if (result.error !== null) return;
    expect(result.chunks).to.deep.equal([
      { data: "a", sizeBytes: 10, writtenAtUs: 0, damage: "none" },
      { data: "b", sizeBytes: 20, writtenAtUs: 7, damage: "none" },
    ]);
    expect(disk.chunkCount("log")).to.equal(2);
    expect(disk.sizeBytes("log")).to.equal(30);
    expect(disk.usedBytes()).to.equal(30);
    expect(disk.dirtyBytes()).to.equal(30);
  });

  it("read returns a range of chunks, ENOENT for a missing file, and asserts on a range outside the file", () => {
    const { disk } = makeRig();
    for (const data of ["a", "b", "c", "d"]) disk.append("log", data, 1);
    const middle = disk.read("log", 1, 3);
    expect(middle.error === null && contents(middle.chunks)).to.deep.equal(["b", "c"]);
    const tail = disk.read("log", 2);
    expect(tail.error === null && contents(tail.chunks)).to.deep.equal(["c", "d"]);
    expect(disk.read("nope")).to.deep.equal({ error: "ENOENT" });
    expect(() => disk.read("log", 3, 5)).to.throw(ModelAssertionError);
    expect(() => disk.read("log", 3, 2)).to.throw(ModelAssertionError);
    expect(disk.chunkCount("nope")).to.equal(0);
    expect(disk.sizeBytes("nope")).to.equal(0);
  });

  it("read returns a snapshot: later appends and truncations do not change it", () => {
    const { disk } = makeRig();
    disk.append("log", "a", 1);
    const before = disk.read("log");
    disk.append("log", "b", 1);
    disk.truncate("log", 0);
    expect(before.error === null && contents(before.chunks)).to.deep.equal(["a"]);
  });

  it("writeFile replaces the content with one chunk", () => {
    const { disk } = makeRig();
    disk.append("cp", "old-1", 10);
    disk.append("cp", "old-2", 10);
    expect(disk.writeFile("cp", "new", 5)).to.equal(null);
    expect(readAll(disk, "cp")).to.deep.equal(["new"]);
    expect(disk.usedBytes()).to.equal(5);
    expect(disk.writeFile("fresh", "x", 1)).to.equal(null);
    expect(readAll(disk, "fresh")).to.deep.equal(["x"]);
  });

  it("list returns sorted names under a prefix; create, exists and delete", () => {
    const { disk } = makeRig();
    disk.append("topic-0/0010.log", "x", 1);
    disk.append("topic-0/0000.log", "x", 2);
    disk.append("checkpoint", "x", 4);
    expect(disk.create("topic-1/0000.log")).to.equal(null);
    expect(disk.create("checkpoint")).to.equal(null); // exists: unchanged
    expect(disk.chunkCount("checkpoint")).to.equal(1);
    expect(disk.list()).to.deep.equal(["checkpoint", "topic-0/0000.log", "topic-0/0010.log", "topic-1/0000.log"]);
    expect(disk.list("topic-0/")).to.deep.equal(["topic-0/0000.log", "topic-0/0010.log"]);
    expect(disk.delete("topic-0/0000.log")).to.equal(null);
    expect(disk.exists("topic-0/0000.log")).to.equal(false);
    expect(disk.usedBytes()).to.equal(5);
    expect(disk.delete("topic-0/0000.log")).to.equal("ENOENT");
    expect(disk.truncate("nope", 0)).to.equal("ENOENT");
  });

  it("truncate keeps a prefix and frees its bytes; truncating beyond the end is a model error", () => {
    const { disk } = makeRig();
    for (const [data, size] of [["a", 1], ["b", 2], ["c", 4]] as const) disk.append("log", data, size);
    expect(disk.truncate("log", 3)).to.equal(null);
    expect(disk.truncate("log", 1)).to.equal(null);
    expect(readAll(disk, "log")).to.deep.equal(["a"]);
    expect(disk.usedBytes()).to.equal(1);
    expect(() => disk.truncate("log", 2)).to.throw(ModelAssertionError);
  });

  it("rename is atomic: `to` is replaced whole, `from` disappears, the replaced bytes are freed", () => {
    const { disk } = makeRig();
    disk.writeFile("cp", "v1", 100);
    disk.writeFile("cp.tmp", "v2", 40);
    expect(disk.rename("cp.tmp", "cp")).to.equal(null);
    expect(disk.exists("cp.tmp")).to.equal(false);
    expect(readAll(disk, "cp")).to.deep.equal(["v2"]);
    expect(disk.usedBytes()).to.equal(40);
    expect(disk.rename("cp.tmp", "cp")).to.equal("ENOENT");
    expect(disk.rename("cp", "cp")).to.equal(null);
    expect(readAll(disk, "cp")).to.deep.equal(["v2"]);
  });

  it("the checkpoint pattern (write tmp, fsync, rename) survives a power loss; unsynced renamed data may not", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const { world, disk } = makeRig({}, {}, seed);
      disk.writeFile("cp", "v1", 10);
      disk.syncAll();
      disk.writeFile("cp.tmp", "v2", 10);
      let synced = false;
      disk.fsync("cp.tmp", null, (error) => {
        expect(error).to.equal(null);
        synced = true;
        disk.rename("cp.tmp", "cp");
      });
      runUntil(world, 10_000);
      expect(synced).to.equal(true);
      disk.writeFile("other.tmp", "v3", 10);
      disk.rename("other.tmp", "other"); // renamed without fsync: the rename is durable, the data is not
      disk.onPowerLoss(world.rng.fork("power"));
      expect(readAll(disk, "cp")).to.deep.equal(["v2"]);
      expect(disk.exists("cp.tmp")).to.equal(false);
      expect(disk.exists("other")).to.equal(true);
      expect(["", "v3", "v3~torn"]).to.include(readAll(disk, "other").join());
    }
  });
});
