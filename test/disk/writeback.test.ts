import { expect } from "chai";
import { contents, makeRig, readAll, runUntil } from "./helpers.ts";

const S = 1_000_000;

describe("Disk writeback", () => {
  it("data older than 30 s is durable from the next 5 s flusher wake-up, exactly", () => {
    const { world, disk } = makeRig();
    disk.append("log", "at-0", 1); // durable from 30 s
    runUntil(world, 1);
    disk.append("log", "at-1us", 1); // 30 s + 1 µs rounds up to 35 s
    runUntil(world, 5 * S);
    disk.append("log", "at-5s", 1); // 35 s exactly
    runUntil(world, 5 * S + 1);
    disk.append("log", "at-5s+1us", 1); // 40 s
    const durableAt = (t: number): string[] => {
      runUntil(world, t);
      return contents(disk.durableView("log"));
    };
    expect(durableAt(30 * S - 1)).to.deep.equal([]);
    expect(durableAt(30 * S)).to.deep.equal(["at-0"]);
    expect(durableAt(35 * S - 1)).to.deep.equal(["at-0"]);
    expect(durableAt(35 * S)).to.deep.equal(["at-0", "at-1us", "at-5s"]);
    expect(durableAt(40 * S - 1)).to.deep.equal(["at-0", "at-1us", "at-5s"]);
    expect(disk.dirtyBytes()).to.equal(1);
    expect(durableAt(40 * S)).to.deep.equal(["at-0", "at-1us", "at-5s", "at-5s+1us"]);
    expect(disk.dirtyBytes()).to.equal(0);
  });

  it("a power loss after the writeback point never loses the data; one just before it may", () => {
    let lostBefore = 0;
    for (let seed = 1; seed <= 30; seed++) {
      for (const [when, mustKeep] of [[35 * S, true], [35 * S - 1, false]] as const) {
        const { world, disk } = makeRig({}, {}, seed);
        runUntil(world, 1);
        for (const data of ["a", "b", "c"]) disk.append("log", data, 1);
        runUntil(world, when);
        disk.onPowerLoss(world.rng.fork("power"));
        const kept = readAll(disk, "log");
        if (mustKeep) expect(kept).to.deep.equal(["a", "b", "c"]);
        else if (kept.join() !== "a,b,c") lostBefore++;
      }
    }
    expect(lostBefore).to.be.greaterThan(0);
  });

  it("costs no kernel events", () => {
    const { world, disk } = makeRig();
    for (let i = 0; i < 100; i++) disk.append(`f${i % 7}`, i, 1);
    expect(world.kernel.queue.size).to.equal(0);
    const verdict = world.kernel.run({ untilUs: 100 * S, maxEvents: 10 });
    expect(verdict).to.include({ reason: "quiescent", events: 0 });
    expect(disk.dirtyBytes()).to.equal(0);
  });

  it("follows writebackUs and writebackIntervalUs from the config", () => {
    const { world, disk } = makeRig({}, { writebackUs: 2 * S, writebackIntervalUs: 3 * S });
    runUntil(world, 500_000);
    disk.append("log", "a", 1); // 2.5 s rounds up to 3 s
    runUntil(world, 3 * S - 1);
    expect(disk.durableView("log")).to.deep.equal([]);
    runUntil(world, 3 * S);
    expect(contents(disk.durableView("log"))).to.deep.equal(["a"]);
  });

  it("writing back data appended after a truncation also makes the truncation durable", () => {
    const { world, disk } = makeRig();
    for (const data of ["a", "b", "c"]) disk.append("log", data, 1);
    disk.syncAll();
    disk.truncate("log", 1);
    expect(contents(disk.durableView("log"))).to.deep.equal(["a", "b", "c"]);
    disk.append("log", "x", 1);
    runUntil(world, 30 * S);
    expect(contents(disk.durableView("log"))).to.deep.equal(["a", "x"]);
    disk.onPowerLoss(world.rng.fork("power"));
    expect(readAll(disk, "log")).to.deep.equal(["a", "x"]);
  });
});
