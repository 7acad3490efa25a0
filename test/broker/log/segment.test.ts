import { expect } from "chai";
import fc from "fast-check";
import { DEFAULT_LOG_CONFIG, type LogConfig } from "../../../src/broker/log/config.ts";
import { OffsetIndex } from "../../../src/broker/log/indexes.ts";
import { LeaderEpochFileCache } from "../../../src/broker/log/leader-epoch-cache.ts";
import { makeBatch, nextOffset, type RecordBatch } from "../../../src/broker/log/records.ts";
import { baseOffsetOfFile, LogSegment, segmentFileName } from "../../../src/broker/log/segment.ts";
import { makeBroker } from "./helpers.ts";

function batch(base: number, count: number, timestamp = 0, epoch = 0, value = "x".repeat(20)): RecordBatch {
  return makeBatch({
    baseOffset: base,
    partitionLeaderEpoch: epoch,
    records: Array.from({ length: count }, () => ({ key: null, value, timestamp })),
  });
}

function segmentWith(config: Partial<LogConfig> = {}, base = 0) {
  const rig = makeBroker();
  const full = { ...DEFAULT_LOG_CONFIG, ...config };
  const segment = LogSegment.create(rig.disk, "d/t-0", base, full, 0);
  if (typeof segment === "string") throw new Error(segment);
  return { rig, segment, config: full };
}

function fill(segment: LogSegment, batches: number, perBatch = 2, timestamp = (i: number) => i * 10): void {
  let offset = segment.nextOffset;
  for (let i = 0; i < batches; i++) {
    const b = batch(offset, perBatch, timestamp(i));
    expect(segment.append(b, 0)).to.equal(null);
    offset = nextOffset(b);
  }
}

describe("LogSegment", () => {
  it("is named by its 20-digit base offset", () => {
    expect(segmentFileName("kafka-logs/t-0", 368769)).to.equal("kafka-logs/t-0/00000000000000368769.log");
    expect(baseOffsetOfFile("kafka-logs/t-0/00000000000000368769.log")).to.equal(368769);
    expect(baseOffsetOfFile("kafka-logs/t-0/leader-epoch-checkpoint")).to.equal(null);
  });

  it("writes one chunk per batch and keeps size, next offset and the largest timestamp", () => {
    const { rig, segment } = segmentWith();
    fill(segment, 5, 3, (i) => [50, 10, 70, 20, 30][i]);
    expect(rig.disk.chunkCount(segment.fileName)).to.equal(5);
    expect(segment.sizeBytes).to.equal(rig.disk.sizeBytes(segment.fileName));
    expect(segment.nextOffset).to.equal(15);
    expect([segment.maxTimestamp, segment.offsetOfMaxTimestamp]).to.deep.equal([70, 8]);
  });

  it("adds an offset-index entry once more than index.interval.bytes were written since the last", () => {
    const { segment } = segmentWith({ "index.interval.bytes": 250 });
    const size = batch(0, 2).sizeBytes;
    fill(segment, 40);
    const expected = Math.floor((40 - 1) / (Math.floor(250 / size) + 1));
    expect(segment.offsetIndex.entries).to.equal(expected);
    // Every entry points at the batch whose last offset it names.
    for (let target = 0; target < 80; target += 7) {
      const position = segment.offsetIndex.lookup(target);
      expect(position.bytePosition).to.equal(position.chunk * size);
      expect(position.chunk * 2).to.be.at.most(target);
    }
  });

  it("the offset index finds the largest entry at or below the target", () => {
    const index = new OffsetIndex(10);
    index.append(5, 2, 200);
    index.append(9, 4, 400);
    index.append(20, 7, 700);
    expect([4, 5, 8, 9, 19, 20, 99].map((t) => index.lookup(t).chunk)).to.deep.equal([0, 2, 2, 4, 4, 7, 7]);
    index.truncateTo(9);
    expect([index.entries, index.lastOffset()]).to.deep.equal([1, 5]);
    expect(() => index.append(5, 8, 800)).to.throw(/must increase/);
  });

  it("asserts increasing offsets on append", () => {
    const { segment } = segmentWith();
    fill(segment, 2);
    expect(() => segment.append(batch(1, 1), 0)).to.throw(/increasing offsets/);
  });

  it("truncateTo removes the batch holding the offset, its index entries, and recomputes the largest timestamp", () => {
    const { rig, segment } = segmentWith({ "index.interval.bytes": 100 });
    fill(segment, 20, 2, (i) => (i === 15 ? 999 : i));
    expect(segment.maxTimestamp).to.equal(999);
    const result = segment.truncateTo(21, 5);
    if (typeof result === "string") throw new Error(result);
    expect(result.removed?.baseOffset).to.equal(20);
    expect(rig.disk.chunkCount(segment.fileName)).to.equal(10);
    expect(segment.nextOffset).to.equal(20);
    expect(segment.maxTimestamp).to.equal(9);
    expect(segment.offsetIndex.lastOffset()).to.be.below(21);
    expect(segment.read(19, 1000, Infinity, true)).to.deep.include({ error: null });
    expect(segment.read(20, 1000, Infinity, true)).to.equal(null);
  });

  it("a read starts at the first batch whose last offset reaches the target, across gaps, truncations and index entries", () => {
    // translateOffset binary-searches per-batch last offsets; the model is a scan of every batch appended.
    const step = fc.record({ gap: fc.nat(3), count: fc.integer({ min: 1, max: 3 }), truncate: fc.option(fc.nat(60), { freq: 6 }) });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), fc.array(fc.nat(130), { minLength: 1, maxLength: 10 }), (steps, targets) => {
        const { segment } = segmentWith({ "index.interval.bytes": 150 });
        let model: RecordBatch[] = [];
        for (const { gap, count, truncate } of steps) {
          if (truncate !== null) {
            const result = segment.truncateTo(truncate, 0);
            if (typeof result === "string") throw new Error(result);
            expect(result.removed?.baseOffset ?? null).to.equal(model.find((b) => nextOffset(b) - 1 >= truncate)?.baseOffset ?? null);
            model = model.filter((b) => nextOffset(b) - 1 < truncate);
            continue;
          }
          const appended = batch(segment.nextOffset + gap, count);
          expect(segment.append(appended, 0)).to.equal(null);
          model.push(appended);
        }
        for (const target of targets) {
          const read = segment.read(target, 1, Infinity, true);
          const expected = model.find((b) => nextOffset(b) - 1 >= target);
          if (expected === undefined) expect(read).to.equal(null);
          else expect(read).to.deep.equal({ error: null, batches: [expected], sizeBytes: expected.sizeBytes });
        }
      }),
    );
  });

  it("truncating to the base empties it and resets its creation time", () => {
    const { segment } = segmentWith();
    fill(segment, 3);
    segment.truncateTo(0, 777);
    expect([segment.isEmpty, segment.nextOffset, segment.createdMs, segment.maxTimestamp]).to.deep.equal([true, 0, 777, -1]);
  });

  it("shouldRoll: by size, by time from the first batch's timestamp, when the index is full, on offset overflow", () => {
    const params = { maxSegmentMs: 1000, maxSegmentBytes: 1000, maxTimestampInMessages: 0, maxOffsetInMessages: 0, messagesSize: 10, nowMs: 0 };
    const { segment } = segmentWith({ "segment.index.bytes": 16, "index.interval.bytes": 0 });
    const shouldRoll = (p: typeof params) => segment.shouldRoll(p.maxSegmentMs, p.maxSegmentBytes, p.maxTimestampInMessages, p.maxOffsetInMessages, p.messagesSize, p.nowMs);
    expect(shouldRoll(params)).to.equal(null);
    fill(segment, 1, 2, () => 100);
    expect(shouldRoll({ ...params, maxTimestampInMessages: 1100 })).to.equal(null);
    expect(shouldRoll({ ...params, maxTimestampInMessages: 1101 })).to.equal("segment.ms");
    expect(shouldRoll({ ...params, messagesSize: 1000 - segment.sizeBytes + 1 })).to.equal("segment.bytes");
    expect(shouldRoll({ ...params, maxOffsetInMessages: 2 ** 31 })).to.equal("offset-overflow");
    fill(segment, 2);
    expect(segment.offsetIndex.isFull()).to.equal(true);
    expect(shouldRoll(params)).to.equal("index-full");
  });

  it("without timestamps, segment.ms counts from the segment's creation on the local clock", () => {
    const { segment } = segmentWith();
    fill(segment, 1, 1, () => -1);
    expect(segment.timeWaitedForRoll(5000, -1)).to.equal(5000);
  });

  it("load rebuilds everything from the file; recovery assigns the batches' epochs and stops at the first batch failing its CRC", () => {
    const { rig, segment, config } = segmentWith({ "index.interval.bytes": 100 });
    let offset = 0;
    for (let i = 0; i < 10; i++) {
      const b = batch(offset, 2, i, i < 5 ? 1 : 3);
      segment.append(b, 0);
      offset = nextOffset(b);
    }
    const trusted = LogSegment.load(rig.disk, "d/t-0", 0, config, 0, false, null);
    if (typeof trusted === "string") throw new Error(trusted);
    expect([trusted.segment.nextOffset, trusted.segment.sizeBytes, trusted.segment.offsetIndex.entries]).to.deep.equal([
      segment.nextOffset,
      segment.sizeBytes,
      segment.offsetIndex.entries,
    ]);
    const cache = new LeaderEpochFileCache(null);
    rig.disk.corrupt(rig.world.rng.fork("f"), segment.fileName);
    const recovered = LogSegment.load(rig.disk, "d/t-0", 0, config, 0, true, cache);
    if (typeof recovered === "string") throw new Error(recovered);
    const cut = recovered.recovery.invalid!;
    expect(cut.reason).to.equal("crc");
    expect(recovered.segment.nextOffset).to.equal(cut.baseOffset);
    expect(rig.disk.chunkCount(segment.fileName)).to.equal(cut.baseOffset / 2);
    expect(cache.entries()).to.deep.equal(
      [{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 10 }].filter((e) => e.startOffset < cut.baseOffset),
    );
  });
});
