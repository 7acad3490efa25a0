// Startup recovery (LogLoader) under the three ways a broker stops: a crash (the page cache survives), a power
// loss (the unsynced tail is lost, the last kept write maybe torn) and a clean shutdown (checkpoints trusted).
import { expect } from "chai";
import { CLEAN_SHUTDOWN_FILE } from "../../../src/broker/log/checkpoint.ts";
import type { Log } from "../../../src/broker/log/log.ts";
import { batchOf, makeBroker, readOffsets, readValues, runFor, SMALL_SEGMENTS, type BrokerRig } from "./helpers.ts";
import type { LogConfig } from "../../../src/broker/log/config.ts";

function logOf(rig: BrokerRig): Log {
  return rig.manager().getOrCreateLog("t", 0) as Log;
}

function appendValues(log: Log, prefix: string, count: number, epoch = 0): string[] {
  const values: string[] = [];
  for (let i = 0; i < count; i++) {
    const result = log.appendAsLeader(batchOf(1, `${prefix}${i}`), epoch);
    if (result.error !== null) throw new Error(result.error);
    values.push(`${prefix}${i}-0`);
  }
  return values;
}

function restart(rig: BrokerRig, how: "crash" | "power-loss" | "shutdown"): Log {
  if (how === "crash") rig.host.crash();
  else if (how === "power-loss") rig.host.powerLoss();
  else rig.host.shutdown();
  rig.host.start();
  return logOf(rig);
}

describe("Log recovery", () => {
  it("a crash loses nothing: the page cache survives and recovery re-reads it", () => {
    const rig = makeBroker({ topicConfig: () => SMALL_SEGMENTS });
    const values = appendValues(logOf(rig), "x", 20);
    const log = restart(rig, "crash");
    expect(readValues(log)).to.deep.equal(values);
    const report = rig.manager().recoveryReports[0];
    expect(report.clean).to.equal(false);
    expect(report.truncated).to.equal(null);
    expect(report.segmentsRecovered).to.equal(log.segments.length);
  });

  it("a power loss keeps the synced prefix and a prefix of the rest; a torn last batch is cut", () => {
    let tornSeen = 0;
    const lengths = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      const rig = makeBroker({ seed, trace: true });
      let log = logOf(rig);
      const synced = appendValues(log, "s", 7);
      log.flush();
      runFor(rig.world, 20);
      expect(log.recoveryPoint).to.equal(7);
      const unsynced = appendValues(log, "u", 8);
      log = restart(rig, "power-loss");
      const after = readValues(log);
      expect(after.slice(0, 7)).to.deep.equal(synced);
      expect(after.slice(7)).to.deep.equal(unsynced.slice(0, after.length - 7));
      expect(log.logEndOffset).to.equal(after.length);
      lengths.add(after.length);
      const torn = rig.events.some((e) => e.kind === "disk-power-loss" && e.file === log.activeSegment.fileName && e.torn === true);
      const report = rig.manager().recoveryReports[0];
      if (torn) {
        tornSeen++;
        expect(report.truncated).to.deep.include({ offset: log.logEndOffset, reason: "torn" });
      } else {
        expect(report.truncated).to.equal(null);
      }
      // Nothing invalid is left: every batch reads back.
      for (let offset = 0; offset < log.logEndOffset; offset++) expect(log.read(offset, 1).error).to.equal(null);
    }
    expect(tornSeen).to.be.greaterThan(0);
    expect(lengths.size).to.be.greaterThan(3);
  });

  it("with rolls, each segment keeps a prefix of its unsynced batches: an offset gap is possible, as in Kafka", () => {
    let gaps = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const rig = makeBroker({ seed, topicConfig: () => SMALL_SEGMENTS });
      let log = logOf(rig);
      const written = [...appendValues(log, "s", 7)];
      log.flush();
      runFor(rig.world, 20);
      written.push(...appendValues(log, "u", 8));
      log = restart(rig, "power-loss");
      const after = readOffsets(log);
      // Every surviving record is the one written at its offset, and the synced ones all survive.
      for (const [offset, value] of after) expect(value).to.equal(written[offset]);
      expect(after.slice(0, 7).map(([o]) => o)).to.deep.equal([0, 1, 2, 3, 4, 5, 6]);
      for (const segment of log.segments) {
        const inSegment = after.filter(([o]) => o >= segment.baseOffset && o < segment.nextOffset).map(([o]) => o);
        expect(inSegment).to.deep.equal([...Array(segment.nextOffset - segment.baseOffset).keys()].map((i) => segment.baseOffset + i));
      }
      expect(log.logEndOffset).to.equal(log.activeSegment.nextOffset);
      if (after.length < log.logEndOffset) gaps++;
    }
    // The roll's flush of the old segment was still in flight: its lost tail leaves a gap below a newer segment.
    expect(gaps).to.be.greaterThan(0);
  });

  it("a bit-flip is caught by the CRC check on an unclean restart and the log is truncated there", () => {
    const rig = makeBroker({ seed: 3 });
    const values = appendValues(logOf(rig), "b", 10);
    const file = logOf(rig).activeSegment.fileName;
    const flipped = rig.disk.corrupt(rig.world.rng.fork("flip"), file);
    if (flipped === null) throw new Error("nothing flipped");
    const log = restart(rig, "crash");
    expect(log.logEndOffset).to.equal(flipped.chunk);
    expect(readValues(log)).to.deep.equal(values.slice(0, flipped.chunk));
    expect(rig.manager().recoveryReports[0].truncated).to.deep.include({ offset: flipped.chunk, reason: "crc" });
  });

  it("drops every segment after the first invalid batch", () => {
    const rig = makeBroker({ seed: 5, topicConfig: () => SMALL_SEGMENTS });
    appendValues(logOf(rig), "d", 20);
    const first = logOf(rig).segments[0];
    const segmentsBefore = logOf(rig).segments.length;
    rig.disk.corrupt(rig.world.rng.fork("flip"), first.fileName);
    const log = restart(rig, "crash");
    expect(log.segments).to.have.length(1);
    expect(rig.manager().recoveryReports[0].segmentsDeleted).to.equal(segmentsBefore - 1);
    expect(rig.disk.list(`${log.dir}/`).filter((n) => n.endsWith(".log"))).to.have.length(1);
  });

  it("re-reads only from the segment holding the checkpointed recovery point", () => {
    const rig = makeBroker({ seed: 9, topicConfig: () => SMALL_SEGMENTS });
    let log = logOf(rig);
    appendValues(log, "r", 20);
    runFor(rig.world, 20);
    rig.manager().checkpointRecoveryPoints();
    runFor(rig.world, 20);
    const recoveryPoint = log.recoveryPoint;
    expect(recoveryPoint).to.equal(log.activeSegment.baseOffset);
    // A flip below the recovery point goes unnoticed by recovery (the segment is trusted)...
    rig.disk.corrupt(rig.world.rng.fork("flip"), log.segments[0].fileName);
    log = restart(rig, "crash");
    const report = rig.manager().recoveryReports[0];
    expect(report.truncated).to.equal(null);
    expect(report.segmentsRecovered).to.equal(1);
    expect(log.logEndOffset).to.equal(20);
    expect(log.recoveryPoint).to.equal(recoveryPoint);
    // ...but not by its readers.
    const corrupt = [...Array(log.segments[0].batchCount).keys()].some((o) => log.read(o, 1).error === "CORRUPT_MESSAGE");
    expect(corrupt).to.equal(true);
  });

  it("a clean shutdown and restart trusts the checkpoints: recovery point = log end, no re-scan", () => {
    const rig = makeBroker({ seed: 4, topicConfig: () => SMALL_SEGMENTS });
    let log = logOf(rig);
    const values = appendValues(log, "c", 12);
    log.updateHighWatermark(10);
    log.maybeIncrementLogStartOffset(7);
    log = restart(rig, "shutdown");
    expect(rig.manager().hadCleanShutdown).to.equal(true);
    expect(rig.disk.exists(`kafka-logs/${CLEAN_SHUTDOWN_FILE}`)).to.equal(false);
    expect([log.logStartOffset, log.highWatermark, log.logEndOffset, log.recoveryPoint]).to.deep.equal([7, 10, 12, 12]);
    expect(readValues(log)).to.deep.equal(values.slice(7));
    expect(rig.manager().recoveryReports[0]).to.deep.include({ clean: true, segmentsRecovered: 0 });
    // A power loss right after a clean shutdown loses nothing: everything was made durable.
    rig.host.shutdown();
    rig.host.powerLoss();
    rig.host.start();
    expect(readValues(logOf(rig))).to.deep.equal(values.slice(7));
  });

  it("a bit-flip after a clean shutdown is not caught by recovery, which trusts the segments", () => {
    const rig = makeBroker({ seed: 6 });
    appendValues(logOf(rig), "t", 6);
    const file = logOf(rig).activeSegment.fileName;
    rig.host.shutdown();
    rig.disk.corrupt(rig.world.rng.fork("flip"), file);
    rig.host.start();
    const log = logOf(rig);
    expect(log.logEndOffset).to.equal(6);
    expect(rig.manager().recoveryReports[0].truncated).to.equal(null);
  });

  it("the marker is deleted at startup: a crash after a clean restart recovers again", () => {
    const rig = makeBroker();
    appendValues(logOf(rig), "m", 3);
    restart(rig, "shutdown");
    expect(rig.manager().hadCleanShutdown).to.equal(true);
    restart(rig, "crash");
    expect(rig.manager().hadCleanShutdown).to.equal(false);
    expect(rig.manager().recoveryReports[0].clean).to.equal(false);
  });

  it("rebuilds the leader-epoch cache from the batches when its checkpoint write did not complete", () => {
    const rig = makeBroker({ seed: 2 });
    let log = logOf(rig);
    appendValues(log, "e", 2, 1);
    appendValues(log, "e", 2, 2);
    appendValues(log, "e", 2, 4);
    // The process dies before any checkpoint fsync completes; a power loss leaves the checkpoint missing.
    log = restart(rig, "power-loss");
    const entries = log.leaderEpochCache.entries();
    expect(entries.length).to.be.at.most(3);
    for (const entry of entries) expect(entry.startOffset).to.be.below(log.logEndOffset);
    expect(entries).to.deep.equal(
      [
        { epoch: 1, startOffset: 0 },
        { epoch: 2, startOffset: 2 },
        { epoch: 4, startOffset: 4 },
      ].filter((e) => e.startOffset < log.logEndOffset),
    );
  });

  it("the leader-epoch checkpoint survives a crash and is trimmed to the recovered log", () => {
    const rig = makeBroker({ seed: 8, topicConfig: (): Partial<LogConfig> => ({ "flush.messages": 1 }) });
    let log = logOf(rig);
    appendValues(log, "k", 3, 1);
    appendValues(log, "k", 3, 2);
    runFor(rig.world, 50);
    log = restart(rig, "power-loss");
    expect(log.logEndOffset).to.equal(6);
    expect(log.leaderEpochCache.entries()).to.deep.equal([
      { epoch: 1, startOffset: 0 },
      { epoch: 2, startOffset: 3 },
    ]);
    log.truncateTo(2);
    runFor(rig.world, 50);
    log = restart(rig, "crash");
    expect(log.leaderEpochCache.entries()).to.deep.equal([{ epoch: 1, startOffset: 0 }]);
  });

  it("a follower's truncation is durable once the recovery-point checkpoint after it is fsynced: a power loss does not bring the records back", () => {
    // LogManager.truncateTo truncates the segment (FileChannel.truncate, no fsync), then checkpoints the
    // recovery points (fsync + rename + directory fsync): on ext4 that fsync commits the journal transaction
    // holding the truncation. Seed 11 of harsh-safe: the truncated records came back after a power loss 5 s
    // later and the checkers lost track of them.
    for (let seed = 1; seed <= 10; seed++) {
      const rig = makeBroker({ seed, topicConfig: (): Partial<LogConfig> => ({ "flush.messages": 1 }) });
      let log = logOf(rig);
      const kept = appendValues(log, "k", 4, 1);
      appendValues(log, "t", 2, 1);
      runFor(rig.world, 50);
      expect(rig.disk.durableView(log.activeSegment.fileName)).to.have.length(6);
      rig.manager().truncateTo(log, 4);
      runFor(rig.world, 4_900);
      log = restart(rig, "power-loss");
      expect(readValues(log)).to.deep.equal(kept);
      expect(log.logEndOffset).to.equal(4);
    }
  });

  it("a truncation with no fsync after it comes back on a power loss before the journal's next commit", () => {
    const rig = makeBroker({ topicConfig: (): Partial<LogConfig> => ({ "flush.messages": 1 }) });
    let log = logOf(rig);
    const values = appendValues(log, "k", 6, 1);
    runFor(rig.world, 50);
    log.truncateTo(4); // Log.truncateTo alone: no recovery-point checkpoint follows
    log = restart(rig, "power-loss");
    expect(readValues(log)).to.deep.equal(values);
  });

  it("the high-watermark checkpoint is stale by up to its interval after a power loss (KIP-101's ingredient)", () => {
    const intervalMs = 5000;
    for (const crashAtMs of [2_000, 7_400, 9_990, 12_345]) {
      const rig = makeBroker({ seed: crashAtMs, topicConfig: () => ({ "flush.messages": 1 }) });
      const log = logOf(rig);
      rig.manager().scheduleHighWatermarkCheckpoints();
      const history: { atMs: number; hw: number }[] = [];
      // One record and one HW step every 100 ms: the HW moves much faster than it is checkpointed.
      while (rig.world.now < crashAtMs * 1000) {
        appendValues(log, "h", 1);
        runFor(rig.world, 50);
        log.updateHighWatermark(log.logEndOffset);
        history.push({ atMs: rig.world.now / 1000, hw: log.highWatermark });
        runFor(rig.world, 50);
      }
      const hwBefore = log.highWatermark;
      const after = restart(rig, "power-loss");
      // Every record was fsynced: the log is whole, only the HW went back.
      expect(after.logEndOffset).to.equal(log.logEndOffset);
      expect(after.highWatermark).to.be.below(hwBefore);
      const lastCheckpointMs = Math.floor((crashAtMs - 1) / intervalMs) * intervalMs;
      const expected = [...history].reverse().find((h) => h.atMs <= lastCheckpointMs)?.hw ?? 0;
      expect(after.highWatermark).to.equal(expected);
      expect(hwBefore - after.highWatermark).to.be.at.most((intervalMs / 100) + 1);
    }
  });

  it("restores the log start offset from its checkpoint and drops the data below it", () => {
    const rig = makeBroker({ topicConfig: () => SMALL_SEGMENTS });
    let log = logOf(rig);
    appendValues(log, "l", 12);
    log.updateHighWatermark(12);
    log.maybeIncrementLogStartOffset(6);
    rig.manager().checkpointLogStartOffsets();
    runFor(rig.world, 20);
    log = restart(rig, "crash");
    expect(log.logStartOffset).to.equal(6);
    expect(log.read(5, 100)).to.deep.equal({ error: "OFFSET_OUT_OF_RANGE" });
    expect(log.read(6, 100).error).to.equal(null);
  });
});
