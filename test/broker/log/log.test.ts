import { expect } from "chai";
import type { Log } from "../../../src/broker/log/log.ts";
import { makeBatch } from "../../../src/broker/log/records.ts";
import { batchOf, makeBroker, readOffsets, readValues, runFor, SMALL_SEGMENTS } from "./helpers.ts";
import type { LogConfig } from "../../../src/broker/log/config.ts";

function logWith(config: Partial<LogConfig> = {}) {
  const rig = makeBroker({ topicConfig: () => config });
  const log = rig.manager().getOrCreateLog("t", 0) as Log;
  return { rig, log };
}

function leaderAppend(log: Log, count: number, epoch = 0, prefix = "v", timestamp = 0) {
  const result = log.appendAsLeader(batchOf(count, prefix, timestamp), epoch);
  if (result.error !== null) throw new Error(result.error);
  return result;
}

describe("Log: appends", () => {
  it("assigns consecutive offsets from the log end and stamps the leader epoch", () => {
    const { log } = logWith();
    const first = leaderAppend(log, 3, 5);
    const second = leaderAppend(log, 2, 5);
    expect([first.firstOffset, first.lastOffset, second.firstOffset, second.lastOffset]).to.deep.equal([0, 2, 3, 4]);
    expect(first.batch.partitionLeaderEpoch).to.equal(5);
    expect(log.logEndOffset).to.equal(5);
    expect(readValues(log)).to.deep.equal(["v-0", "v-1", "v-2", "v-0", "v-1"]);
  });

  it("assigns an epoch in the cache on the first batch of a new epoch only", () => {
    const { log } = logWith();
    leaderAppend(log, 2, 1);
    leaderAppend(log, 2, 1);
    leaderAppend(log, 1, 3);
    expect(log.leaderEpochCache.entries()).to.deep.equal([
      { epoch: 1, startOffset: 0 },
      { epoch: 3, startOffset: 4 },
    ]);
  });

  it("a follower keeps the leader's offsets and epochs; gaps are allowed, going backwards is not", () => {
    const { log } = logWith();
    const batch = (base: number, count: number, epoch: number) =>
      makeBatch({ baseOffset: base, partitionLeaderEpoch: epoch, records: Array.from({ length: count }, (_, i) => ({ key: null, value: `f${base + i}`, timestamp: 0 })) });
    expect(log.appendAsFollower(batch(0, 2, 1)).error).to.equal(null);
    expect(log.appendAsFollower(batch(5, 1, 2)).error).to.equal(null);
    expect(log.logEndOffset).to.equal(6);
    expect(log.appendAsFollower(batch(4, 1, 2))).to.deep.equal({ error: "UNEXPECTED_APPEND_OFFSET" });
    expect(log.leaderEpochCache.entries()).to.deep.equal([
      { epoch: 1, startOffset: 0 },
      { epoch: 2, startOffset: 5 },
    ]);
    expect(readOffsets(log)).to.deep.equal([[0, "f0"], [1, "f1"], [5, "f5"]]);
  });

  it("rejects a batch larger than max.message.bytes or segment.bytes, appending nothing", () => {
    const { log } = logWith({ "max.message.bytes": 100 });
    expect(log.appendAsLeader(batchOf(10), 0)).to.deep.equal({ error: "MESSAGE_TOO_LARGE" });
    const small = logWith({ "segment.bytes": 100 });
    expect(small.log.appendAsLeader(batchOf(10), 0)).to.deep.equal({ error: "RECORD_LIST_TOO_LARGE" });
    expect(log.logEndOffset).to.equal(0);
  });

  it("a disk error is KAFKA_STORAGE_ERROR and takes the log dir offline", () => {
    const failures: string[] = [];
    const rig = makeBroker({ onLogDirFailure: (what, error) => failures.push(`${what}:${error}`) });
    const log = rig.manager().getOrCreateLog("t", 0) as Log;
    rig.disk.setFaults({ writeError: true });
    expect(log.appendAsLeader(batchOf(1), 0)).to.deep.equal({ error: "KAFKA_STORAGE_ERROR" });
    expect(failures).to.deep.equal(["append:EIO"]);
    rig.disk.clearFaults();
    expect(log.read(0, 100)).to.deep.equal({ error: "KAFKA_STORAGE_ERROR" });
    expect(rig.manager().offline).to.equal(true);
  });
});

describe("Log: reads", () => {
  it("OFFSET_OUT_OF_RANGE below the log start and beyond the log end; empty at the end", () => {
    const { log } = logWith();
    leaderAppend(log, 3);
    expect(log.read(4, 100)).to.deep.equal({ error: "OFFSET_OUT_OF_RANGE" });
    expect(log.read(3, 100)).to.deep.include({ error: null, batches: [] });
    log.updateHighWatermark(3);
    expect(log.maybeIncrementLogStartOffset(2)).to.deep.equal({ error: null, updated: true });
    expect(log.read(1, 100)).to.deep.equal({ error: "OFFSET_OUT_OF_RANGE" });
  });

  it("a read inside a batch returns the whole batch holding the offset", () => {
    const { log } = logWith();
    leaderAppend(log, 5);
    const read = log.read(3, 1000);
    if (read.error !== null) throw new Error(read.error);
    expect(read.batches.map((b) => b.baseOffset)).to.deep.equal([0]);
  });

  it("stops before the caller's bound (the high watermark for consumers)", () => {
    const { log } = logWith();
    leaderAppend(log, 2);
    leaderAppend(log, 2);
    leaderAppend(log, 2);
    log.updateHighWatermark(4);
    expect(readValues(log, log.highWatermark)).to.have.length(4);
    expect(log.read(4, 1000, log.highWatermark)).to.deep.include({ error: null, batches: [] });
    expect(readValues(log)).to.have.length(6);
  });

  it("honours maxBytes in whole batches, always returning the first batch (KIP-74)", () => {
    const { log } = logWith();
    for (let i = 0; i < 4; i++) leaderAppend(log, 3);
    const size = batchOf(3).sizeBytes;
    const two = log.read(0, 2 * size + 1);
    const tiny = log.read(0, 1);
    const none = log.read(0, 1, log.logEndOffset, false);
    if (two.error !== null || tiny.error !== null || none.error !== null) throw new Error("read failed");
    expect(two.batches).to.have.length(2);
    expect(tiny.batches).to.have.length(1);
    expect(none.batches).to.have.length(0);
  });

  it("finds the batch through the sparse index in a long segment", () => {
    const { log } = logWith({ "index.interval.bytes": 200 });
    for (let i = 0; i < 200; i++) leaderAppend(log, 2, 0, `b${i}`);
    expect(log.activeSegment.offsetIndex.entries).to.be.greaterThan(10);
    for (const offset of [0, 1, 57, 200, 399]) {
      const read = log.read(offset, 1);
      if (read.error !== null) throw new Error(read.error);
      expect(read.batches[0].baseOffset).to.equal(offset - (offset % 2));
      expect(read.batches[0].records[0].value).to.equal(`b${Math.floor(offset / 2)}-0`);
    }
  });

  it("a read returns data from one segment only, as Kafka reads", () => {
    const { log } = logWith(SMALL_SEGMENTS);
    for (let i = 0; i < 12; i++) leaderAppend(log, 1);
    expect(log.segments.length).to.be.greaterThan(2);
    const read = log.read(0, 1 << 20);
    if (read.error !== null) throw new Error(read.error);
    expect(read.batches.length).to.equal(log.segments[0].batchCount);
  });

  it("a bit-flipped batch is CORRUPT_MESSAGE to its reader (the reader's CRC check)", () => {
    const { rig, log } = logWith();
    leaderAppend(log, 1);
    leaderAppend(log, 1);
    const chunks = rig.disk.chunkCount(log.activeSegment.fileName);
    expect(chunks).to.equal(2);
    // Flip until the second chunk is the damaged one (corrupt picks a random chunk).
    for (let i = 0; i < 50 && log.read(1, 100).error === null; i++) rig.disk.corrupt(rig.world.rng.fork(`c${i}`), log.activeSegment.fileName);
    expect(log.read(1, 100)).to.deep.equal({ error: "CORRUPT_MESSAGE" });
  });
});

describe("Log: truncation and high watermark", () => {
  it("truncates at batch boundaries: the batch holding the offset goes, the log end is the target", () => {
    const { log } = logWith();
    leaderAppend(log, 3, 0, "a");
    leaderAppend(log, 3, 1, "b");
    leaderAppend(log, 3, 2, "c");
    log.updateHighWatermark(9);
    expect(log.truncateTo(4)).to.deep.equal({ error: null, truncated: true });
    expect(log.logEndOffset).to.equal(4);
    expect(readOffsets(log)).to.deep.equal([[0, "a-0"], [1, "a-1"], [2, "a-2"]]);
    expect(log.highWatermark).to.equal(4);
    expect(log.leaderEpochCache.entries()).to.deep.equal([
      { epoch: 0, startOffset: 0 },
      { epoch: 1, startOffset: 3 },
    ]);
    // The next append continues at the log end.
    expect(leaderAppend(log, 1, 3, "d").firstOffset).to.equal(4);
  });

  it("truncating at or past the end only trims a dangling epoch entry", () => {
    const { log } = logWith();
    leaderAppend(log, 2, 0);
    log.maybeAssignEpochStartOffset(1, 2);
    expect(log.truncateTo(5)).to.deep.equal({ error: null, truncated: false });
    expect(log.leaderEpochCache.latestEpoch()).to.equal(0);
  });

  it("truncation deletes later segments and clamps the recovery point", () => {
    const { rig, log } = logWith(SMALL_SEGMENTS);
    for (let i = 0; i < 12; i++) leaderAppend(log, 1);
    runFor(rig.world, 100);
    const files = rig.disk.list(`${log.dir}/`).filter((n) => n.endsWith(".log"));
    expect(files.length).to.be.greaterThan(2);
    log.truncateTo(2);
    expect(log.segments).to.have.length(1);
    expect(rig.disk.list(`${log.dir}/`).filter((n) => n.endsWith(".log"))).to.have.length(1);
    expect(log.recoveryPoint).to.be.at.most(2);
  });

  it("truncating below the first segment truncates fully and starts there", () => {
    const { log } = logWith();
    log.truncateFullyAndStartAt(10);
    leaderAppend(log, 2, 4);
    expect([log.logStartOffset, log.logEndOffset]).to.deep.equal([10, 12]);
    log.truncateTo(5);
    expect([log.logStartOffset, log.logEndOffset, log.highWatermark]).to.deep.equal([5, 5, 5]);
    expect(log.leaderEpochCache.entries()).to.deep.equal([]);
  });

  it("clamps the high watermark into [log start, log end] and never lets the log start pass it", () => {
    const { log } = logWith();
    leaderAppend(log, 5);
    expect(log.updateHighWatermark(9)).to.equal(5);
    expect(log.updateHighWatermark(-3)).to.equal(0);
    expect(log.maybeIncrementHighWatermark(3)).to.equal(true);
    expect(log.maybeIncrementHighWatermark(2)).to.equal(false);
    expect(log.maybeIncrementLogStartOffset(4)).to.deep.equal({ error: "OFFSET_OUT_OF_RANGE" });
    expect(() => log.maybeIncrementHighWatermark(6)).to.throw(/beyond the log end/);
  });
});

describe("Log: rolling and flushing", () => {
  it("rolls when the next batch would pass segment.bytes, and flushes the old segment", () => {
    const { rig, log } = logWith({ "segment.bytes": 300 });
    const size = batchOf(2).sizeBytes;
    const perSegment = Math.floor(300 / size);
    for (let i = 0; i < perSegment; i++) leaderAppend(log, 2);
    expect(log.segments).to.have.length(1);
    leaderAppend(log, 2);
    expect(log.segments).to.have.length(2);
    expect(log.activeSegment.baseOffset).to.equal(2 * perSegment);
    expect(log.recoveryPoint).to.equal(0);
    runFor(rig.world, 10);
    expect(log.recoveryPoint).to.equal(2 * perSegment);
    expect(rig.disk.durableView(log.segments[0].fileName)).to.have.length(perSegment);
  });

  it("rolls by segment.ms measured from the first batch's timestamp", () => {
    const { log } = logWith({ "segment.ms": 1000 });
    leaderAppend(log, 1, 0, "v", 5000);
    leaderAppend(log, 1, 0, "v", 5900);
    expect(log.segments).to.have.length(1);
    leaderAppend(log, 1, 0, "v", 6001);
    expect(log.segments).to.have.length(2);
  });

  it("never fsyncs with the defaults; flush.messages = 1 makes every append durable", () => {
    const lazy = logWith();
    leaderAppend(lazy.log, 1);
    runFor(lazy.rig.world, 1000);
    expect(lazy.log.recoveryPoint).to.equal(0);
    expect(lazy.rig.disk.durableView(lazy.log.activeSegment.fileName)).to.have.length(0);

    const eager = logWith({ "flush.messages": 1 });
    leaderAppend(eager.log, 1);
    leaderAppend(eager.log, 1);
    runFor(eager.rig.world, 100);
    expect(eager.log.recoveryPoint).to.equal(2);
    expect(eager.rig.disk.durableView(eager.log.activeSegment.fileName)).to.have.length(2);
  });

  it("an append that reaches flush.messages says so and reports when its fsync returned (Kafka flushes inside the append)", () => {
    const rig = makeBroker({ topicConfig: () => ({ "flush.messages": 2 }), disk: { fsyncMinUs: 50_000, fsyncMaxUs: 50_000 } });
    const log = rig.manager().getOrCreateLog("t", 0) as Log;
    const flushed: { error: string | null; recoveryPoint: number; atUs: number }[] = [];
    const onFlushed = (error: "KAFKA_STORAGE_ERROR" | null): void => {
      flushed.push({ error, recoveryPoint: log.recoveryPoint, atUs: rig.world.now });
    };
    const first = log.appendAsLeader(batchOf(1), 0);
    expect(first.error === null && first.flushing).to.equal(false);
    const startUs = rig.world.now;
    const flushesBefore = log.appendFlushCount;
    const second = log.appendAsLeader(batchOf(1), 0);
    log.whenAppendsFlushed(onFlushed, flushesBefore);
    expect(second.error === null && second.flushing).to.equal(true);
    runFor(rig.world, 49);
    expect(flushed).to.deep.equal([]);
    expect(log.recoveryPoint).to.equal(0);
    runFor(rig.world, 2);
    // The callback runs once the records are durable: the recovery point has moved already.
    expect(flushed).to.deep.equal([{ error: null, recoveryPoint: 2, atUs: startUs + 50_000 }]);
    expect(rig.disk.durableView(log.activeSegment.fileName)).to.have.length(2);
  });

  it("appendFlushing holds while an append's flush runs; whenAppendsFlushed waits for the last one", () => {
    const rig = makeBroker({ topicConfig: () => ({ "flush.messages": 1 }), disk: { fsyncMinUs: 10_000, fsyncMaxUs: 30_000 } });
    const log = rig.manager().getOrCreateLog("t", 0) as Log;
    const woken: number[] = [];
    const waiter = (): void => {
      woken.push(log.recoveryPoint);
    };
    log.whenAppendsFlushed(waiter);
    expect(woken).to.deep.equal([0]);
    leaderAppend(log, 1);
    leaderAppend(log, 1);
    log.flush(); // a flush of nobody's append does not count
    expect(log.appendFlushing).to.equal(true);
    log.whenAppendsFlushed(waiter);
    log.whenAppendsFlushed(waiter);
    runFor(rig.world, 40);
    expect(log.appendFlushing).to.equal(false);
    expect(woken).to.deep.equal([0, 2]);
  });

  it("an append's failed fsync reports KAFKA_STORAGE_ERROR and takes the log offline", () => {
    const rig = makeBroker({ topicConfig: () => ({ "flush.messages": 1 }) });
    const log = rig.manager().getOrCreateLog("t", 0) as Log;
    rig.disk.setFaults({ fsyncError: true });
    const errors: (string | null)[] = [];
    const batch = makeBatch({ baseOffset: 0, partitionLeaderEpoch: 0, records: [{ key: null, value: "a", timestamp: 0 }] });
    const appended = log.appendAsFollower(batch);
    log.whenAppendsFlushed((error) => errors.push(error), 0);
    expect(appended.error === null && appended.flushing).to.equal(true);
    runFor(rig.world, 100);
    expect(errors).to.deep.equal(["KAFKA_STORAGE_ERROR"]);
    expect(log.offline).to.equal(true);
    expect(log.recoveryPoint).to.equal(0);
  });

  it("an append's flush reports its end even when the log was closed meanwhile", () => {
    const { rig, log } = logWith({ "flush.messages": 1 });
    const errors: (string | null)[] = [];
    leaderAppend(log, 1);
    const flushesBefore = log.appendFlushCount;
    const appended = log.appendAsLeader(batchOf(1), 0);
    log.whenAppendsFlushed((error) => errors.push(error), flushesBefore);
    expect(appended.error === null && appended.flushing).to.equal(true);
    log.close();
    runFor(rig.world, 100);
    expect(errors).to.deep.equal([null]);
  });

  it("flush.ms makes the flusher fsync a log whose last flush is that old", () => {
    const rig = makeBroker({ config: { "log.flush.scheduler.interval.ms": 1000 }, topicConfig: () => ({ "flush.ms": 5000 }) });
    const log = rig.manager().getOrCreateLog("t", 0) as Log;
    leaderAppend(log, 1);
    // The flusher first runs after log.initial.task.delay.ms (30 s): the log was never flushed, so it is.
    runFor(rig.world, 29_900);
    expect(log.recoveryPoint).to.equal(0);
    runFor(rig.world, 200);
    expect(log.recoveryPoint).to.equal(1);
    leaderAppend(log, 1);
    runFor(rig.world, 4000);
    expect(log.recoveryPoint).to.equal(1);
    runFor(rig.world, 2500);
    expect(log.recoveryPoint).to.equal(2);
  });

  it("a flush that races with a truncation does not move the recovery point", () => {
    const { rig, log } = logWith();
    for (let i = 0; i < 3; i++) leaderAppend(log, 1);
    log.flush();
    log.truncateTo(1);
    leaderAppend(log, 3);
    runFor(rig.world, 100);
    // The fsync covered offsets 0..2 as of the call; 1.. were replaced by unsynced data.
    expect(log.recoveryPoint).to.equal(0);
  });
});

describe("Log: retention", () => {
  function filled(config: Partial<LogConfig>, batches = 12) {
    const made = logWith({ ...SMALL_SEGMENTS, ...config });
    for (let i = 0; i < batches; i++) leaderAppend(made.log, 1, 0, `r${i}`, i * 1000);
    return made;
  }

  it("retention.bytes deletes the oldest whole segments, only below the high watermark", () => {
    const { log } = filled({ "retention.bytes": 300 });
    const segmentsBefore = log.segments.length;
    expect(log.deleteOldSegments(0)).to.equal(0);
    log.updateHighWatermark(log.logEndOffset);
    const deleted = log.deleteOldSegments(0);
    expect(deleted).to.be.greaterThan(0);
    expect(log.segments.length).to.equal(segmentsBefore - deleted);
    expect(log.logStartOffset).to.equal(log.segments[0].baseOffset);
    expect(log.sizeInBytes).to.be.at.least(300 - log.segments[0].sizeBytes);
  });

  it("retention stops at the segment holding the high watermark", () => {
    const { log } = filled({ "retention.bytes": 1 });
    expect(log.segments.length).to.equal(3);
    log.updateHighWatermark(log.segments[1].baseOffset + 1);
    expect(log.deleteOldSegments(0)).to.equal(1);
    expect(log.logStartOffset).to.equal(log.segments[0].baseOffset);
    expect(log.segments.length).to.equal(2);
  });

  it("retention.ms deletes segments whose newest record is older than the limit", () => {
    const { log } = filled({ "retention.ms": 5000 });
    log.updateHighWatermark(log.logEndOffset);
    log.deleteOldSegments(13_000);
    for (const segment of log.segments.slice(0, -1)) expect(13_000 - segment.largestTimestamp).to.be.at.most(5000);
    expect(log.logStartOffset).to.be.greaterThan(0);
  });

  it("when every segment is expired, rolls first so the active segment itself is never deleted", () => {
    const { log } = filled({ "retention.ms": 10 }, 3);
    log.updateHighWatermark(log.logEndOffset);
    const active = log.activeSegment;
    log.deleteOldSegments(1_000_000);
    expect(log.segments).to.have.length(1);
    expect(log.activeSegment).to.not.equal(active);
    expect(log.activeSegment.isEmpty).to.equal(true);
    expect([log.logStartOffset, log.logEndOffset]).to.deep.equal([3, 3]);
  });

  it("a log start offset moved past whole segments deletes them; the epoch cache follows", () => {
    const { log } = filled({});
    log.maybeAssignEpochStartOffset(0, 0);
    log.updateHighWatermark(log.logEndOffset);
    const target = log.segments[1].baseOffset + 1;
    log.maybeIncrementLogStartOffset(target);
    log.deleteOldSegments(0);
    expect(log.segments[0].baseOffset).to.be.at.most(target);
    expect(log.segments[1].baseOffset).to.be.greaterThan(target);
    expect(log.logStartOffset).to.equal(target);
    expect(log.leaderEpochCache.entries()).to.deep.equal([{ epoch: 0, startOffset: target }]);
  });

  it("cleanup.policy compact keeps retention by time and size off", () => {
    const { log } = filled({ "cleanup.policy": "compact", "retention.ms": 1, "retention.bytes": 1 });
    log.updateHighWatermark(log.logEndOffset);
    expect(log.deleteOldSegments(1_000_000)).to.equal(0);
  });
});
