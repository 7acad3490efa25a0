import { expect } from "chai";
import { valid, type Chunk } from "../../src/disk/disk.ts";
import { MemorySink } from "../../src/sim/trace.ts";
import { contents, makeRig, readAll, runUntil } from "./helpers.ts";

const UNSYNCED = ["u1", "u2", "u3", "u4", "u5"];

/**
 * A process that, on its first start, writes one record, fsyncs it, then (on the fsync callback) writes
 * five more without syncing. Every start records what it read from its disk.
 */
function writerRig(seed: number) {
  const seen: string[][] = [];
  const rig = makeRig(
    {
      onStart(context) {
        const disk = context.disk;
        seen.push(readAll(disk, "log"));
        if (context.incarnation > 1) return;
        disk.append("log", "s1", 100);
        disk.fsync("log", context, (error) => {
          expect(error).to.equal(null);
          for (const data of UNSYNCED) disk.append("log", data, 100);
        });
      },
    },
    {},
    seed,
  );
  return { ...rig, seen };
}

describe("Disk under crash and power loss", () => {
  it("a crash keeps unsynced data: the page cache survives the process", () => {
    const { world, host, disk, seen } = writerRig(1);
    host.start();
    runUntil(world, 10_000);
    expect(disk.durableView("log").length).to.equal(1);
    host.crash();
    host.start();
    expect(seen[1]).to.deep.equal(["s1", ...UNSYNCED]);
  });

  it("a power loss keeps the synced data plus a prefix of the unsynced writes, the last maybe torn", () => {
    const survivorCounts = new Set<number>();
    let tornSeen = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const { world, host, seen } = writerRig(seed);
      host.start();
      runUntil(world, 10_000);
      host.powerLoss();
      host.start();
      const after = seen[1];
      // Never a synced chunk lost.
      expect(after[0]).to.equal("s1");
      const kept = after.slice(1);
      // Never more than the unsynced writes, and always a prefix of them (the last possibly torn).
      expect(kept.length).to.be.at.most(UNSYNCED.length);
      kept.forEach((data, index) => {
        const last = index === kept.length - 1;
        expect(data).to.be.oneOf(last ? [UNSYNCED[index], UNSYNCED[index] + "~torn"] : [UNSYNCED[index]]);
      });
      survivorCounts.add(kept.length);
      if (kept.length > 0 && kept[kept.length - 1].endsWith("~torn")) tornSeen++;
    }
    expect(survivorCounts.has(0), "some power loss loses every unsynced write").to.equal(true);
    expect(survivorCounts.has(UNSYNCED.length), "some power loss keeps every unsynced write").to.equal(true);
    expect(survivorCounts.size, "kept counts vary with the seed").to.be.at.least(4);
    expect(tornSeen, "some power loss tears the last kept write").to.be.greaterThan(0);
  });

  it("a torn chunk fails its CRC and is half the size; the disk's byte count follows", () => {
    for (let seed = 1; seed <= 60; seed++) {
      const { world, host, disk } = writerRig(seed);
      host.start();
      runUntil(world, 10_000);
      host.powerLoss();
      const result = disk.read("log");
      if (result.error !== null) throw new Error(result.error);
      const chunks: readonly Chunk[] = result.chunks;
      const last = chunks[chunks.length - 1];
      if (last.damage !== "torn") continue;
      expect(valid(last)).to.equal(false);
      expect(last.sizeBytes).to.equal(50);
      expect(disk.usedBytes()).to.equal(100 * (chunks.length - 1) + 50);
      expect(disk.sizeBytes("log")).to.equal(disk.usedBytes());
      return;
    }
    expect.fail("no seed tore a chunk");
  });

  it("after a power loss what survived is durable: a second power loss changes nothing", () => {
    for (let seed = 1; seed <= 10; seed++) {
      const { world, host, disk } = writerRig(seed);
      host.start();
      runUntil(world, 10_000);
      host.powerLoss();
      const first = readAll(disk, "log");
      expect(disk.dirtyBytes()).to.equal(0);
      expect(contents(disk.durableView("log"))).to.deep.equal(first);
      host.powerLoss();
      expect(readAll(disk, "log")).to.deep.equal(first);
    }
  });

  it("the same seed gives the same power-loss outcome; the seed matters", () => {
    const outcome = (seed: number): string => {
      const { world, host, disk } = writerRig(seed);
      host.start();
      runUntil(world, 10_000);
      host.powerLoss();
      return readAll(disk, "log").join();
    };
    const outcomes = new Set<string>();
    for (let seed = 1; seed <= 12; seed++) {
      expect(outcome(seed)).to.equal(outcome(seed));
      outcomes.add(outcome(seed));
    }
    expect(outcomes.size).to.be.greaterThan(1);
  });

  it("traces disk-power-loss per affected file when tracing is on", () => {
    const { world, host, disk } = writerRig(3);
    const sink = new MemorySink();
    world.trace.addSink(sink);
    disk.writeFile("clean", "c", 1);
    host.start();
    runUntil(world, 10_000);
    disk.syncAll();
    disk.append("log", "late", 1);
    host.powerLoss();
    const events = sink.lines.map((line) => JSON.parse(line)).filter((event) => event.kind === "disk-power-loss");
    // "clean" was fully synced: not affected.
    expect(events.map((event) => event.file)).to.deep.equal(["log"]);
    expect(events[0]).to.include({ node: "n1", restoredChunks: 0 });
    expect(events[0].keptChunks + events[0].lostChunks).to.equal(1);
    expect(events[0].torn).to.be.a("boolean");
  });

  it("a restarted process sees exactly the disk: it rebuilds from read() and recovers past damaged chunks", () => {
    // The process keeps an in-memory log mirroring its file; on start it rebuilds it from the disk and, like
    // Kafka's log recovery, truncates the file at the first invalid chunk. Each tick it appends and sometimes
    // fsyncs. Whatever the failures, the rebuilt state equals the disk's content.
    for (let seed = 1; seed <= 20; seed++) {
      let memory: string[] = [];
      let next = 0;
      const rig = makeRig(
        {
          onStart(context) {
            const result = context.disk.read("log");
            memory = [];
            if (result.error === null) {
              for (const chunk of result.chunks) {
                if (!valid(chunk)) break;
                memory.push(String(chunk.data));
              }
              context.disk.truncate("log", memory.length);
            }
            context.setTimer(1_000_000, "tick");
          },
          onTimer(context) {
            const record = `r${next++}`;
            if (context.disk.append("log", record, 10) === null) memory.push(record);
            if (context.rng.chance(0.3)) context.disk.fsync("log", context);
            context.setTimer(1_000_000, "tick");
          },
        },
        {},
        seed,
      );
      const { world, host, disk } = rig;
      const failures = rig.world.rng.fork("failures");
      host.start();
      for (let round = 1; round <= 8; round++) {
        runUntil(world, round * 20_000_000 + failures.int(0, 10_000_000));
        const cached = readAll(disk, "log");
        const durable = contents(disk.durableView("log"));
        const powerLoss = failures.chance(0.5);
        if (powerLoss) host.powerLoss();
        else host.crash();
        host.start();
        expect(readAll(disk, "log")).to.deep.equal(memory);
        // A crash loses nothing; a power loss keeps at least the durable view and never invents records.
        if (!powerLoss) expect(memory).to.deep.equal(cached);
        expect(memory.slice(0, durable.length)).to.deep.equal(durable);
        expect(cached.slice(0, memory.length)).to.deep.equal(memory);
      }
    }
  });
});
