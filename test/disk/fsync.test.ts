import { expect } from "chai";
import type { DiskError } from "../../src/disk/disk.ts";
import { contents, makeRig, readAll, runUntil } from "./helpers.ts";

describe("Disk fsync", () => {
  it("makes the data durable only at completion, after a latency in [fsyncMinUs, fsyncMaxUs]", () => {
    const latencies = new Set<number>();
    for (let seed = 1; seed <= 20; seed++) {
      const { world, disk } = makeRig({}, { fsyncMinUs: 1_000, fsyncMaxUs: 5_000 }, seed);
      disk.append("log", "a", 10);
      disk.append("log", "b", 10);
      let completedAt = -1;
      disk.fsync("log", null, (error) => {
        expect(error).to.equal(null);
        completedAt = world.now;
        expect(contents(disk.durableView("log"))).to.deep.equal(["a", "b"]);
      });
      expect(disk.durableView("log")).to.deep.equal([]);
      runUntil(world, 999);
      expect(disk.durableView("log")).to.deep.equal([]);
      expect(disk.dirtyBytes()).to.equal(20);
      runUntil(world, 5_000);
      expect(completedAt).to.be.within(1_000, 5_000);
      expect(disk.dirtyBytes()).to.equal(0);
      latencies.add(completedAt);
    }
    expect(latencies.size).to.be.greaterThan(5);
  });

  it("makes durable only what was written before the call", () => {
    const { world, disk } = makeRig();
    disk.append("log", "a", 1);
    disk.fsync("log", null);
    disk.append("log", "b", 1);
    runUntil(world, 10_000);
    expect(contents(disk.durableView("log"))).to.deep.equal(["a"]);
    expect(disk.dirtyBytes()).to.equal(1);
  });

  it("a power loss during the latency voids the fsync: the data may be lost and the process never hears back", () => {
    const keptCounts = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      const calls: (DiskError | null)[] = [];
      const { world, disk, host } = makeRig(
        {
          onStart(context) {
            for (const data of ["a", "b", "c", "d", "e"]) context.disk.append("log", data, 1);
            context.disk.fsync("log", context, (error) => calls.push(error));
          },
        },
        { fsyncMinUs: 1_000, fsyncMaxUs: 1_000 },
        seed,
      );
      host.start();
      runUntil(world, 500);
      host.powerLoss();
      const kept = readAll(disk, "log");
      keptCounts.add(kept.length);
      runUntil(world, 10_000);
      expect(calls).to.deep.equal([]);
      expect(readAll(disk, "log")).to.deep.equal(kept);
    }
    expect(keptCounts.has(5)).to.equal(true);
    expect([...keptCounts].some((count) => count < 5), "some power loss loses data being fsynced").to.equal(true);
  });

  it("an fsync issued before a power loss makes nothing durable, even data written after it (EIO)", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const { world, disk } = makeRig({}, { fsyncMinUs: 1_000, fsyncMaxUs: 1_000 }, seed);
      disk.append("log", "a", 1);
      disk.append("log", "b", 1);
      const calls: (DiskError | null)[] = [];
      disk.fsync("log", null, (error) => calls.push(error));
      runUntil(world, 200);
      disk.onPowerLoss(world.rng.fork("power"));
      const survived = readAll(disk, "log");
      disk.append("log", "x", 1);
      disk.append("log", "y", 1);
      runUntil(world, 10_000);
      expect(calls).to.deep.equal(["EIO"]);
      expect(contents(disk.durableView("log"))).to.deep.equal(survived);
    }
  });

  it("a crash during the latency: the fsync completes on the disk, the callback is dropped", () => {
    const calls: (DiskError | null)[] = [];
    const { world, disk, host } = makeRig({
      onStart(context) {
        if (context.incarnation > 1) return;
        context.disk.append("log", "a", 1);
        context.disk.fsync("log", context, (error) => calls.push(error));
      },
    });
    host.start();
    runUntil(world, 500);
    host.crash();
    host.start();
    runUntil(world, 10_000);
    expect(calls).to.deep.equal([]);
    expect(contents(disk.durableView("log"))).to.deep.equal(["a"]);
    host.powerLoss();
    expect(readAll(disk, "log")).to.deep.equal(["a"]);
  });

  it("while the host is paused the completion is deferred to the resume", () => {
    let calledAt = -1;
    const { world, disk, host } = makeRig({
      onStart(context) {
        context.disk.append("log", "a", 1);
        context.disk.fsync("log", context, () => (calledAt = world.now));
      },
    });
    host.start();
    host.pause(20_000);
    runUntil(world, 10_000);
    expect(calledAt).to.equal(-1);
    expect(contents(disk.durableView("log"))).to.deep.equal(["a"]);
    runUntil(world, 30_000);
    expect(calledAt).to.equal(20_000);
  });

  it("a truncation during the latency clamps what the fsync persists; later writes stay unsynced", () => {
    const { world, disk } = makeRig();
    for (const data of ["a", "b", "c"]) disk.append("log", data, 1);
    disk.syncAll();
    disk.append("log", "d", 1);
    disk.fsync("log", null);
    disk.truncate("log", 1);
    disk.append("log", "x", 1);
    disk.append("log", "y", 1);
    disk.append("log", "z", 1);
    runUntil(world, 10_000);
    expect(contents(disk.durableView("log"))).to.deep.equal(["a"]);
    expect(disk.dirtyBytes()).to.equal(3);
  });

  it("fsync of a missing file reports ENOENT at completion; fsyncExtraUs slows every fsync", () => {
    const { world, disk } = makeRig({}, { fsyncMinUs: 1_000, fsyncMaxUs: 1_000 });
    const calls: string[] = [];
    disk.fsync("nope", null, (error) => calls.push(`${world.now}:${error}`));
    disk.append("log", "a", 1);
    disk.setFaults({ fsyncExtraUs: 50_000 });
    disk.fsync("log", null, (error) => calls.push(`${world.now}:${error}`));
    runUntil(world, 100_000);
    expect(calls).to.deep.equal(["1000:ENOENT", "51000:null"]);
  });

  it("schedules exactly one kernel event per fsync", () => {
    const { world, disk } = makeRig();
    disk.append("log", "a", 1);
    disk.fsync("log", null);
    disk.fsync("log", null);
    expect(world.kernel.queue.size).to.equal(2);
    expect(world.kernel.run({ untilUs: 1_000_000, maxEvents: 100 }).events).to.equal(2);
  });
});
