import { expect } from "chai";
import { valid, type DiskError } from "../../src/disk/disk.ts";
import { MemorySink } from "../../src/sim/trace.ts";
import { contents, makeRig, readAll, runUntil } from "./helpers.ts";

describe("Disk faults", () => {
  it("a write-error fault fails every mutating call with EIO and changes nothing; clearFaults heals", () => {
    const { disk } = makeRig();
    disk.append("log", "a", 1);
    disk.append("other", "o", 1);
    disk.setFaults({ writeError: true });
    expect(disk.append("log", "b", 1)).to.equal("EIO");
    expect(disk.append("new", "b", 1)).to.equal("EIO");
    expect(disk.writeFile("log", "b", 1)).to.equal("EIO");
    expect(disk.truncate("log", 0)).to.equal("EIO");
    expect(disk.create("new")).to.equal("EIO");
    expect(disk.delete("log")).to.equal("EIO");
    expect(disk.rename("log", "other")).to.equal("EIO");
    expect(readAll(disk, "log")).to.deep.equal(["a"]);
    expect(readAll(disk, "other")).to.deep.equal(["o"]);
    expect(disk.list()).to.deep.equal(["log", "other"]);
    expect(disk.usedBytes()).to.equal(2);
    disk.clearFaults();
    expect(disk.append("log", "b", 1)).to.equal(null);
    expect(readAll(disk, "log")).to.deep.equal(["a", "b"]);
  });

  it("an fsync-error fault completes the fsync with EIO and makes nothing durable", () => {
    const { world, disk } = makeRig();
    disk.append("log", "a", 1);
    disk.setFaults({ fsyncError: true });
    const calls: (DiskError | null)[] = [];
    disk.fsync("log", null, (error) => calls.push(error));
    expect(calls).to.deep.equal([]); // never synchronously
    runUntil(world, 10_000);
    expect(calls).to.deep.equal(["EIO"]);
    expect(disk.durableView("log")).to.deep.equal([]);
    disk.clearFaults();
    disk.fsync("log", null, (error) => calls.push(error));
    runUntil(world, 20_000);
    expect(calls).to.deep.equal(["EIO", null]);
    expect(contents(disk.durableView("log"))).to.deep.equal(["a"]);
  });

  it("ENOSPC when a write would exceed the capacity; freeing space makes room again", () => {
    const { disk } = makeRig({}, { capacityBytes: 100 });
    expect(disk.append("log", "a", 60)).to.equal(null);
    expect(disk.append("log", "b", 50)).to.equal("ENOSPC");
    expect(disk.append("log", "c", 40)).to.equal(null);
    expect(disk.usedBytes()).to.equal(100);
    expect(disk.append("log", "d", 1)).to.equal("ENOSPC");
    expect(disk.writeFile("cp", "x", 1)).to.equal("ENOSPC");
    expect(disk.exists("cp")).to.equal(false);
    expect(readAll(disk, "log")).to.deep.equal(["a", "c"]);
    // writeFile counts the bytes it replaces.
    expect(disk.writeFile("log", "whole", 100)).to.equal(null);
    expect(disk.writeFile("log", "too-big", 101)).to.equal("ENOSPC");
    expect(readAll(disk, "log")).to.deep.equal(["whole"]);
    expect(disk.truncate("log", 0)).to.equal(null);
    expect(disk.append("log", "e", 100)).to.equal(null);
  });

  it("fill() makes the next write fail with ENOSPC until space is freed or faults are cleared", () => {
    const { disk } = makeRig();
    disk.append("a", "a", 30);
    disk.append("b", "b", 20);
    disk.fill();
    expect(disk.append("a", "more", 1)).to.equal("ENOSPC");
    expect(disk.delete("b")).to.equal(null);
    expect(disk.append("a", "more", 20)).to.equal(null);
    expect(disk.append("a", "more", 1)).to.equal("ENOSPC");
    disk.setFaults({ capacityBytes: 1_000 });
    expect(disk.append("a", "more", 1)).to.equal(null);
    disk.fill();
    disk.clearFaults();
    expect(disk.append("a", "more", 1_000_000)).to.equal(null);
  });

  it("corrupt() flips one chunk in the cache and on the medium; valid() detects it", () => {
    const { world, disk } = makeRig();
    const sink = new MemorySink();
    world.trace.addSink(sink);
    for (const data of ["a", "b", "c", "d"]) disk.append("log", data, 10);
    disk.syncAll();
    const flipped = disk.corrupt(world.rng.fork("corrupt"), "log");
    expect(flipped).to.not.equal(null);
    const { file, chunk } = flipped!;
    expect(file).to.equal("log");
    const read = disk.read("log");
    if (read.error !== null) throw new Error(read.error);
    read.chunks.forEach((each, index) => expect(valid(each)).to.equal(index !== chunk));
    expect(read.chunks[chunk]).to.include({ data: ["a", "b", "c", "d"][chunk], damage: "flipped", sizeBytes: 10 });
    expect(disk.durableView("log")[chunk].damage).to.equal("flipped");
    // The power loss keeps the flipped chunk: the damage is on the medium.
    disk.onPowerLoss(world.rng.fork("power"));
    expect(readAll(disk, "log")[chunk]).to.match(/~flipped$/);
    const events = sink.lines.map((line) => JSON.parse(line)).filter((event) => event.kind === "disk-corrupt");
    expect(events).to.have.length(1);
    expect(events[0]).to.include({ node: "n1", file: "log", chunk });
  });

  it("corrupt() without a name picks among non-empty files, deterministically per rng", () => {
    const picks = new Set<string>();
    for (let seed = 1; seed <= 30; seed++) {
      const { world, disk } = makeRig({}, {}, seed);
      disk.create("empty");
      for (const name of ["x", "y", "z"]) for (let i = 0; i < 3; i++) disk.append(name, i, 1);
      const first = disk.corrupt(world.rng.fork("corrupt"));
      const { disk: twin, world: twinWorld } = makeRig({}, {}, seed);
      twin.create("empty");
      for (const name of ["x", "y", "z"]) for (let i = 0; i < 3; i++) twin.append(name, i, 1);
      expect(twin.corrupt(twinWorld.rng.fork("corrupt"))).to.deep.equal(first);
      expect(first!.file).to.not.equal("empty");
      picks.add(`${first!.file}/${first!.chunk}`);
    }
    expect(picks.size).to.be.greaterThan(4);
    const { world, disk } = makeRig();
    disk.create("empty");
    expect(disk.corrupt(world.rng.fork("c"))).to.equal(null);
    expect(disk.corrupt(world.rng.fork("c"), "empty")).to.equal(null);
    expect(disk.corrupt(world.rng.fork("c"), "missing")).to.equal(null);
  });
});
