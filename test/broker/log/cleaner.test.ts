import { expect } from "chai";
import fc from "fast-check";
import {
  compactSegments,
  deleteHorizonOf,
  dirtyRatio,
  firstUncleanableOffset,
  NO_TIMESTAMP,
  segmentSizeBytes,
} from "../../../src/broker/log/cleaner.ts";
import type { CleanableSegment, CleanOptions, CleanResult } from "../../../src/broker/log/cleaner.ts";
import { BATCH_HEADER_BYTES, batchSizeBytes, lastOffset, makeBatch, nextOffset } from "../../../src/broker/log/records.ts";
import type { ControlType, NewBatch, RecordBatch } from "../../../src/broker/log/records.ts";

// ---------------------------------------------------------------------------------------------------------------------
// A minimal log around compactSegments (UnifiedLog as LogCleanerTest drives it): append, roll, clean.

const RETENTION = 86_400_000; // LogCleanerTest's tombstoneRetentionMs
const LARGE_TIME = 1e13; // LogCleanerTest's largeTimestamp: far past every record

interface MutableSegment {
  baseOffset: number;
  batches: RecordBatch[];
  lastModifiedMs: number;
}

type AppendSpec = Omit<NewBatch, "baseOffset" | "partitionLeaderEpoch">;

class TestLog {
  segments: MutableSegment[] = [{ baseOffset: 0, batches: [], lastModifiedMs: 0 }];
  clock = 1_000;
  leo = 0;
  private readonly sequences = new Map<number, number>();

  get activeBase(): number {
    return this.segments[this.segments.length - 1].baseOffset;
  }

  append(spec: AppendSpec): RecordBatch {
    const batch = makeBatch({ ...spec, baseOffset: this.leo, partitionLeaderEpoch: 0 });
    const active = this.segments[this.segments.length - 1];
    active.batches.push(batch);
    active.lastModifiedMs = this.clock;
    this.leo = nextOffset(batch);
    return batch;
  }

  record(key: string | null, value: string | null, timestamp = this.clock): RecordBatch {
    return this.append({ records: [{ key, value, timestamp }] });
  }

  /** appendIdempotentAsLeader / appendTransactionalAsLeader: keys as keys and values, consecutive sequences. */
  producer(producerId: number, keys: number[], transactional: boolean, producerEpoch = 0): RecordBatch {
    const seq = this.sequences.get(producerId) ?? 0;
    this.sequences.set(producerId, seq + keys.length);
    return this.append({
      producerId,
      producerEpoch,
      baseSequence: seq,
      isTransactional: transactional,
      records: keys.map((k) => ({ key: String(k), value: String(k), timestamp: this.clock })),
    });
  }

  marker(producerId: number, type: ControlType, producerEpoch = 0): RecordBatch {
    return this.append({
      producerId,
      producerEpoch,
      isTransactional: true,
      isControl: true,
      controlType: type,
      // ControlRecordType key (version, type) and EndTransactionMarker value (version, coordinator epoch)
      records: [{ key: "\u0000\u0000\u0000" + (type === "COMMIT" ? "\u0001" : "\u0000"), value: "\u0000\u0000\u0000\u0000\u0000\u0000", timestamp: this.clock }],
    });
  }

  roll(baseOffset = this.leo): void {
    const active = this.segments[this.segments.length - 1];
    if (active.batches.length === 0 && active.baseOffset === baseOffset) return; // UnifiedLog.roll on an empty segment
    this.segments.push({ baseOffset, batches: [], lastModifiedMs: this.clock });
    this.leo = baseOffset;
  }

  clean(firstDirtyOffset: number, nowMs: number, extra: Partial<CleanOptions> = {}): CleanResult {
    const result = compactSegments(this.segments, {
      nowMs,
      deleteRetentionMs: RETENTION,
      minCompactionLagMs: 0,
      firstDirtyOffset,
      activeSegmentBaseOffset: this.activeBase,
      ...extra,
    });
    this.segments = result.segments;
    return result;
  }

  /** LogCleanerTest.runTwoPassClean: the first pass sets delete horizons, the second passes them. */
  twoPassClean(firstDirtyOffset: number, nowMs: number): number {
    this.clean(firstDirtyOffset, nowMs);
    return this.clean(firstDirtyOffset, nowMs + RETENTION + 1).cleanedUpTo;
  }

  batches(): RecordBatch[] {
    return this.segments.flatMap((s) => s.batches);
  }

  /** LogTestUtils.keysInLog: keys of data records with a key and a value. */
  keys(): number[] {
    return this.batches()
      .filter((b) => !b.isControl)
      .flatMap((b) => b.records.filter((r) => r.key !== null && r.value !== null).map((r) => Number(r.key)));
  }

  /** LogCleanerTest.offsetsInLog: offsets of records (control records too) with a key and a value. */
  offsets(): number[] {
    return this.batches().flatMap((b) => b.records.filter((r) => r.key !== null && r.value !== null).map((r) => b.baseOffset + r.offsetDelta));
  }

  lastOffsetsPerBatch(): number[] {
    return this.batches().map(lastOffset);
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Invariants every cleaning round must keep.

interface FlatRecord {
  offset: number;
  key: string | null;
  value: string | null;
  timestamp: number;
  headers: unknown;
}

function flatten(batch: RecordBatch): FlatRecord[] {
  return batch.records.map((r) => ({
    offset: batch.baseOffset + r.offsetDelta,
    key: r.key,
    value: r.value,
    timestamp: batch.firstTimestamp + r.timestampDelta,
    headers: r.headers,
  }));
}

function allRecords(segments: readonly { batches: readonly RecordBatch[] }[]): FlatRecord[] {
  return segments.flatMap((s) => s.batches.flatMap(flatten));
}

/** Offsets are never changed, data is never invented, sizes are right, and the uncleanable part is untouched. */
function checkRoundInvariants(before: readonly CleanableSegment[], result: CleanResult, options: CleanOptions): void {
  const original = new Map<number, RecordBatch>();
  for (const s of before) for (const b of s.batches) original.set(b.baseOffset, b);
  const originalRecords = new Map(allRecords(before).map((r) => [r.offset, r]));

  expect(result.firstUncleanableOffset).to.be.at.most(options.activeSegmentBaseOffset);
  let previousNext = -Infinity;
  for (const segment of result.segments) {
    for (const batch of segment.batches) {
      const from = original.get(batch.baseOffset);
      expect(from, `batch at ${batch.baseOffset} existed`).to.not.equal(undefined);
      // Offsets never change: same base offset, same last offset (v2 keeps lastOffsetDelta), same producer fields.
      expect(batch.lastOffsetDelta).to.equal(from!.lastOffsetDelta);
      expect(batch.baseOffset).to.be.at.least(segment.baseOffset);
      expect(batch.baseOffset).to.be.at.least(previousNext);
      previousNext = nextOffset(batch);
      expect([batch.producerId, batch.producerEpoch, batch.baseSequence, batch.isControl, batch.isTransactional]).to.deep.equal([
        from!.producerId,
        from!.producerEpoch,
        from!.baseSequence,
        from!.isControl,
        from!.isTransactional,
      ]);
      // Sizes are recomputed.
      expect(batch.sizeBytes).to.equal(batchSizeBytes(batch.records));
      if (batch.records.length === 0) {
        expect(batch.sizeBytes).to.equal(BATCH_HEADER_BYTES);
        expect(batch.firstTimestamp).to.equal(NO_TIMESTAMP);
      } else {
        expect(batch.maxTimestamp).to.equal(Math.max(...flatten(batch).map((r) => r.timestamp)));
      }
      const horizon = deleteHorizonOf(batch);
      if (horizon !== null) expect(batch.firstTimestamp).to.equal(horizon);
      // Records are the original ones (offset, key, value, absolute timestamp, headers), in order.
      let previous = -1;
      for (const record of flatten(batch)) {
        expect(record).to.deep.equal(originalRecords.get(record.offset));
        expect(record.offset).to.be.greaterThan(previous);
        expect(record.offset).to.be.at.most(lastOffset(batch));
        previous = record.offset;
      }
    }
  }
  // Segments at or past the first uncleanable offset (so the active segment) and past cleanedUpTo are untouched.
  const untouched = before.filter((s) => s.baseOffset >= Math.min(result.firstUncleanableOffset, result.cleanedUpTo));
  const tail = result.segments.slice(result.segments.length - untouched.length);
  expect(tail.map((s) => s.baseOffset)).to.deep.equal(untouched.map((s) => s.baseOffset));
  for (let i = 0; i < untouched.length; i++) {
    expect(tail[i].batches.length).to.equal(untouched[i].batches.length);
    tail[i].batches.forEach((b, j) => expect(b).to.equal(untouched[i].batches[j]));
  }
  expect(result.cleanedUpTo).to.be.at.most(Math.max(options.firstDirtyOffset, result.firstUncleanableOffset));
  expect(result.cleanedUpTo).to.be.at.least(options.firstDirtyOffset);
  // Every record of the input is either kept or counted as removed.
  expect(allRecords(result.segments).length + result.recordsRemoved).to.equal(allRecords(before).length);
}

// ---------------------------------------------------------------------------------------------------------------------
// Generators.

interface AppendOp {
  kind: "append";
  records: { key: string | null; value: string | null }[];
  producerId: number;
  dt: number;
}
interface RollOp {
  kind: "roll";
  dt: number;
}
type LogOp = AppendOp | RollOp;

function logOpArb(opts: { keyless: boolean; producers: boolean }): fc.Arbitrary<LogOp> {
  const key = opts.keyless ? fc.option(fc.constantFrom("a", "b", "c", "d", "e"), { nil: null, freq: 8 }) : fc.constantFrom("a", "b", "c", "d", "e");
  const record = fc.record({ key, value: fc.option(fc.string({ maxLength: 4 }), { nil: null, freq: 4 }) });
  const append: fc.Arbitrary<LogOp> = fc.record({
    kind: fc.constant("append" as const),
    records: fc.array(record, { minLength: 1, maxLength: 3 }),
    producerId: opts.producers ? fc.constantFrom(-1, -1, 1, 2) : fc.constant(-1),
    dt: fc.integer({ min: 0, max: 40 }),
  });
  const roll: fc.Arbitrary<LogOp> = fc.record({ kind: fc.constant("roll" as const), dt: fc.integer({ min: 0, max: 40 }) });
  return fc.oneof({ arbitrary: append, weight: 5 }, { arbitrary: roll, weight: 1 });
}

function applyOp(log: TestLog, op: LogOp): void {
  log.clock += op.dt;
  if (op.kind === "roll") {
    log.roll();
    return;
  }
  if (op.producerId >= 0) {
    log.append({
      producerId: op.producerId,
      producerEpoch: 0,
      baseSequence: 0,
      records: op.records.map((r) => ({ ...r, timestamp: log.clock })),
    });
  } else {
    log.append({ records: op.records.map((r) => ({ ...r, timestamp: log.clock })) });
  }
}

function buildLog(ops: readonly LogOp[]): TestLog {
  const log = new TestLog();
  for (const op of ops) applyOp(log, op);
  return log;
}

/** An independent LogCleanerManager.cleanableOffsets + calculateCleanableBytes for logs without transactions. */
function naiveFirstUncleanable(segments: readonly CleanableSegment[], o: CleanOptions): number {
  let bound = o.activeSegmentBaseOffset;
  if (o.minCompactionLagMs > 0) {
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i];
      const end = i + 1 < segments.length ? segments[i + 1].baseOffset : Infinity;
      if (s.baseOffset >= o.activeSegmentBaseOffset) break;
      if (end <= o.firstDirtyOffset) continue;
      const stamps = s.batches.map((b) => b.maxTimestamp).filter((t) => t >= 0);
      const largest = stamps.length > 0 ? Math.max(...stamps) : s.lastModifiedMs;
      if (largest > o.nowMs - o.minCompactionLagMs) {
        bound = Math.min(bound, s.baseOffset);
        break;
      }
    }
  }
  const u = Math.max(o.firstDirtyOffset, bound);
  let fu = o.activeSegmentBaseOffset;
  for (const s of segments) if (s.baseOffset <= u && s.baseOffset < o.activeSegmentBaseOffset) fu = s.baseOffset;
  if (u >= o.activeSegmentBaseOffset) fu = o.activeSegmentBaseOffset;
  return fu;
}

function snapshot(segments: readonly CleanableSegment[]): CleanableSegment[] {
  return segments.map((s) => ({ baseOffset: s.baseOffset, batches: [...s.batches], lastModifiedMs: s.lastModifiedMs }));
}

const RUNS = 300;

// ---------------------------------------------------------------------------------------------------------------------

describe("log cleaner (compactSegments)", () => {
  describe("properties", () => {
    it("agrees with a naive latest-value-per-key model over the cleaned range, touching nothing else", () => {
      fc.assert(
        fc.property(
          fc.array(logOpArb({ keyless: true, producers: false }), { minLength: 1, maxLength: 40 }),
          fc.boolean(),
          fc.nat(),
          fc.constantFrom(0, 0, 30, 200),
          fc.integer({ min: 0, max: 300 }),
          (ops, finalRoll, dirtySeed, lag, nowAfter) => {
            const log = buildLog(ops);
            if (finalRoll) log.roll();
            const before = snapshot(log.segments);
            const options: CleanOptions = {
              nowMs: log.clock + nowAfter,
              deleteRetentionMs: RETENTION,
              minCompactionLagMs: lag,
              firstDirtyOffset: dirtySeed % (log.leo + 1),
              activeSegmentBaseOffset: log.activeBase,
            };
            const result = compactSegments(before, options);
            checkRoundInvariants(before, result, options);

            const fu = naiveFirstUncleanable(before, options);
            expect(result.firstUncleanableOffset).to.equal(fu);
            const records = allRecords(before);
            if (fu <= options.firstDirtyOffset) {
              expect(result.cleanedUpTo).to.equal(options.firstDirtyOffset);
              expect(allRecords(result.segments)).to.deep.equal(records);
              return;
            }
            expect(result.cleanedUpTo).to.equal(fu);
            // Latest offset per key over the dirty range [firstDirty, fu).
            const latest = new Map<string, number>();
            for (const r of records) if (r.key !== null && r.offset >= options.firstDirtyOffset && r.offset < fu) latest.set(r.key, r.offset);
            const expected = records.filter((r) => r.offset >= fu || (r.key !== null && r.offset >= (latest.get(r.key) ?? -1)));
            expect(allRecords(result.segments)).to.deep.equal(expected);
            // Fresh tombstones are never dropped by the round that first sees them.
            expect(result.tombstonesRemoved).to.equal(records.filter((r) => r.value === null && !expected.includes(r)).length);
          },
        ),
        { numRuns: RUNS },
      );
    });

    it("over many rounds keeps exactly the newest record per key below the cleaning point, expiring tombstones after delete.retention.ms", () => {
      const opArb = fc.oneof(
        { arbitrary: logOpArb({ keyless: false, producers: true }), weight: 6 },
        { arbitrary: fc.record({ kind: fc.constant("clean" as const), dt: fc.integer({ min: 0, max: 150 }) }), weight: 1 },
      );
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), fc.constantFrom(0, 1, 50, 100), fc.constantFrom(0, 0, 40), (ops, retention, lag) => {
          const log = new TestLog();
          let checkpoint = 0;
          // The model: every record ever appended, which are still alive, and each batch's horizon.
          const appended: (FlatRecord & { batch: number })[] = [];
          const removed = new Set<number>();
          const horizons = new Map<number, number>();
          const lastOfProducer = new Map<number, number>();
          for (const op of ops) {
            if (op.kind !== "clean") {
              const leo = log.leo;
              applyOp(log, op);
              if (op.kind === "append") {
                const batch = log.segments[log.segments.length - 1].batches.at(-1)!;
                expect(batch.baseOffset).to.equal(leo);
                for (const r of flatten(batch)) appended.push({ ...r, batch: batch.baseOffset });
                if (batch.producerId >= 0) lastOfProducer.set(batch.producerId, lastOffset(batch));
              }
              continue;
            }
            log.clock += op.dt;
            const before = snapshot(log.segments);
            const options: CleanOptions = {
              nowMs: log.clock,
              deleteRetentionMs: retention,
              minCompactionLagMs: lag,
              firstDirtyOffset: checkpoint,
              activeSegmentBaseOffset: log.activeBase,
            };
            const result = compactSegments(before, options);
            checkRoundInvariants(before, result, options);
            const fu = naiveFirstUncleanable(before, options);
            expect(result.firstUncleanableOffset).to.equal(fu);
            if (fu > checkpoint) {
              expect(result.cleanedUpTo).to.equal(fu);
              const latest = new Map<string, number>();
              for (const r of appended) if (r.offset < fu) latest.set(r.key!, r.offset);
              for (const r of appended) {
                if (r.offset >= fu || removed.has(r.offset)) continue;
                const horizon = horizons.get(r.batch);
                if (latest.get(r.key!) !== r.offset) removed.add(r.offset);
                else if (r.value === null && horizon !== undefined && options.nowMs >= horizon) removed.add(r.offset);
              }
              for (const r of appended) {
                if (r.offset < fu && r.value === null && !removed.has(r.offset) && !horizons.has(r.batch)) {
                  horizons.set(r.batch, options.nowMs + retention);
                }
              }
              checkpoint = fu;
            } else {
              expect(result.cleanedUpTo).to.equal(checkpoint);
            }
            log.segments = result.segments;
            const alive = appended.filter((r) => !removed.has(r.offset)).map(({ batch: _b, ...r }) => r);
            expect(allRecords(log.segments)).to.deep.equal(alive);
            for (const b of log.batches()) {
              if (b.records.length > 0) expect(deleteHorizonOf(b)).to.equal(horizons.get(b.baseOffset) ?? null);
            }
            // Each producer's last batch survives (maybe as an empty header), for its sequence and epoch.
            const lastOffsets = new Set(log.batches().filter((b) => b.producerId >= 0).map(lastOffset));
            for (const [, last] of lastOfProducer) if (last < fu) expect(lastOffsets.has(last)).to.equal(true);
          }
        }),
        { numRuns: RUNS },
      );
    });

    it("is idempotent: recleaning a compacted log changes nothing until tombstones pass their delete horizon", () => {
      fc.assert(
        fc.property(
          fc.array(logOpArb({ keyless: true, producers: true }), { minLength: 1, maxLength: 40 }),
          fc.constantFrom(0, 30),
          fc.integer({ min: 1, max: 1000 }),
          (ops, lag, retention) => {
            const log = buildLog(ops);
            log.roll();
            const options: CleanOptions = {
              nowMs: log.clock + 100,
              deleteRetentionMs: retention,
              minCompactionLagMs: lag,
              firstDirtyOffset: 0,
              activeSegmentBaseOffset: log.activeBase,
            };
            const once = compactSegments(log.segments, options);
            // The same round again, from scratch or from the new checkpoint: nothing changes.
            const again = compactSegments(once.segments, options);
            expect(again.segments).to.deep.equal(once.segments);
            expect(again.recordsRemoved).to.equal(0);
            expect(again.cleanedUpTo).to.equal(once.cleanedUpTo);
            const resumed = compactSegments(once.segments, { ...options, firstDirtyOffset: once.cleanedUpTo });
            expect(resumed.segments).to.deep.equal(once.segments);
            // Just before the horizon: still nothing. At the horizon: exactly the surviving tombstones go. (Without
            // a compaction lag here, since moving the clock would also move the lag's bound.)
            const noLag = { ...options, minCompactionLagMs: 0 };
            const first = compactSegments(log.segments, noLag);
            const early = compactSegments(first.segments, { ...noLag, nowMs: options.nowMs + retention - 1 });
            expect(early.segments).to.deep.equal(first.segments);
            const late = compactSegments(first.segments, { ...noLag, nowMs: options.nowMs + retention });
            checkRoundInvariants(first.segments, late, { ...noLag, nowMs: options.nowMs + retention });
            const fu = first.firstUncleanableOffset;
            const survivors = allRecords(first.segments);
            const expected = survivors.filter((r) => r.offset >= fu || r.value !== null);
            expect(allRecords(late.segments)).to.deep.equal(expected);
            expect(late.tombstonesRemoved).to.equal(survivors.length - expected.length);
            // And then it is stable again.
            const after = compactSegments(late.segments, { ...noLag, nowMs: options.nowMs + 10 * retention });
            expect(after.segments).to.deep.equal(late.segments);
          },
        ),
        { numRuns: RUNS },
      );
    });

    it("with a bounded offset map, makes progress every round and converges to the unbounded result", () => {
      fc.assert(
        fc.property(fc.array(logOpArb({ keyless: false, producers: false }), { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 3 }), (ops, slots) => {
          const log = buildLog(ops);
          log.roll();
          const base: CleanOptions = {
            nowMs: log.clock,
            deleteRetentionMs: RETENTION,
            minCompactionLagMs: 0,
            firstDirtyOffset: 0,
            activeSegmentBaseOffset: log.activeBase,
          };
          const full = compactSegments(log.segments, base);
          let segments: CleanableSegment[] = log.segments;
          let checkpoint = 0;
          for (let round = 0; checkpoint < log.activeBase; round++) {
            expect(round).to.be.lessThan(log.leo + 2);
            const options = { ...base, firstDirtyOffset: checkpoint, maxOffsetMapEntries: slots };
            const result = compactSegments(segments, options);
            checkRoundInvariants(segments, result, options);
            expect(result.cleanedUpTo).to.be.greaterThan(checkpoint);
            checkpoint = result.cleanedUpTo;
            segments = result.segments;
          }
          expect(allRecords(segments)).to.deep.equal(allRecords(full.segments));
        }),
        { numRuns: RUNS },
      );
    });

    it("with transactions, drops aborted data, never cleans an open transaction, and keeps markers while their data lives", () => {
      type TxnOp =
        | { kind: "data"; key: string; value: string | null; pid: number; dt: number }
        | { kind: "marker"; pid: number; type: ControlType; dt: number }
        | { kind: "roll"; dt: number }
        | { kind: "clean"; dt: number };
      const dt = fc.integer({ min: 0, max: 30 });
      const opArb: fc.Arbitrary<TxnOp> = fc.oneof(
        { arbitrary: fc.record({ kind: fc.constant("data" as const), key: fc.constantFrom("a", "b", "c"), value: fc.option(fc.constantFrom("x", "y"), { nil: null, freq: 4 }), pid: fc.constantFrom(-1, 1, 2), dt }), weight: 6 },
        { arbitrary: fc.record({ kind: fc.constant("marker" as const), pid: fc.constantFrom(1, 2), type: fc.constantFrom<ControlType>("COMMIT", "ABORT"), dt }), weight: 2 },
        { arbitrary: fc.record({ kind: fc.constant("roll" as const), dt }), weight: 1 },
        { arbitrary: fc.record({ kind: fc.constant("clean" as const), dt: fc.integer({ min: 0, max: 200 }) }), weight: 1 },
      );
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), (ops) => {
          const log = new TestLog();
          let checkpoint = 0;
          // Independent bookkeeping: which data offsets are aborted, which transaction each belongs to.
          const open = new Map<number, number[]>(); // pid -> offsets of its open transaction's records
          const aborted = new Set<number>();
          const txnOfMarker = new Map<number, number[]>(); // marker offset -> its transaction's offsets
          for (const op of ops) {
            log.clock += op.dt;
            if (op.kind === "data") {
              const b =
                op.pid < 0
                  ? log.record(op.key, op.value)
                  : log.append({ producerId: op.pid, producerEpoch: 0, baseSequence: 0, isTransactional: true, records: [{ key: op.key, value: op.value, timestamp: log.clock }] });
              if (op.pid >= 0) open.set(op.pid, [...(open.get(op.pid) ?? []), b.baseOffset]);
            } else if (op.kind === "marker") {
              const m = log.marker(op.pid, op.type);
              const txn = open.get(op.pid) ?? [];
              txnOfMarker.set(m.baseOffset, txn);
              if (op.type === "ABORT") for (const o of txn) aborted.add(o);
              open.delete(op.pid);
            } else if (op.kind === "roll") {
              log.roll();
            } else {
              const before = snapshot(log.segments);
              const options: CleanOptions = {
                nowMs: log.clock,
                deleteRetentionMs: 100,
                minCompactionLagMs: 0,
                firstDirtyOffset: checkpoint,
                activeSegmentBaseOffset: log.activeBase,
              };
              const result = compactSegments(before, options);
              checkRoundInvariants(before, result, options);
              let firstOpen = Infinity;
              for (const offsets of open.values()) firstOpen = Math.min(firstOpen, offsets[0]);
              expect(result.firstUncleanableOffset).to.be.at.most(Math.max(checkpoint, firstOpen));
              log.segments = result.segments;
              checkpoint = result.cleanedUpTo;
              const live = new Set(allRecords(log.segments).map((r) => r.offset));
              const dataBefore = allRecords(before).filter((r) => !txnOfMarker.has(r.offset));
              for (const r of dataBefore) {
                if (r.offset >= checkpoint) expect(live.has(r.offset)).to.equal(true);
                else if (aborted.has(r.offset)) expect(live.has(r.offset)).to.equal(false);
              }
              // Latest committed/plain value per key below the checkpoint survives unless it is an expired tombstone.
              const latest = new Map<string, FlatRecord>();
              for (const r of dataBefore) if (r.offset < checkpoint && !aborted.has(r.offset)) latest.set(r.key!, r);
              for (const r of latest.values()) if (r.value !== null) expect(live.has(r.offset)).to.equal(true);
              // A marker stays while any record of its transaction is still in the log.
              const batchesAfter = new Set(log.batches().map((b) => b.baseOffset));
              for (const [marker, txn] of txnOfMarker) {
                if (txn.some((o) => batchesAfter.has(o))) expect(live.has(marker), `marker ${marker}`).to.equal(true);
              }
            }
          }
        }),
        { numRuns: RUNS },
      );
    });
  });

  describe("basic compaction", () => {
    it("keeps the newest value per key over the dirty range, keeps offsets, and recomputes sizes", () => {
      const log = new TestLog();
      log.append({
        records: [
          { key: "a", value: "1", timestamp: 100 },
          { key: "b", value: "1", timestamp: 101 },
          { key: "a", value: "2", timestamp: 102 },
        ],
      });
      log.record("b", "2", 103);
      log.roll();
      log.record("c", "1", 104);
      const result = log.clean(0, LARGE_TIME);
      expect(result.cleanedUpTo).to.equal(4);
      expect(result.recordsRemoved).to.equal(2);
      const [first, second] = log.segments[0].batches;
      // The first batch kept only offset 2, but its base offset and last offset delta are unchanged.
      expect(first.baseOffset).to.equal(0);
      expect(first.lastOffsetDelta).to.equal(2);
      expect(first.records).to.deep.equal([{ offsetDelta: 2, timestampDelta: 0, key: "a", value: "2", headers: [] }]);
      expect(first.firstTimestamp).to.equal(102); // the base timestamp is the first retained record's
      expect(first.maxTimestamp).to.equal(102);
      expect(first.sizeBytes).to.equal(batchSizeBytes(first.records));
      expect(first.sizeBytes).to.be.lessThan(makeBatch({ baseOffset: 0, partitionLeaderEpoch: 0, records: [{ key: "a", value: "1", timestamp: 100 }, { key: "b", value: "1", timestamp: 101 }, { key: "a", value: "2", timestamp: 102 }] }).sizeBytes);
      expect(flatten(second)).to.deep.equal([{ offset: 3, key: "b", value: "2", timestamp: 103, headers: [] }]);
      // The active segment is left alone.
      expect(log.segments[1].batches[0].records[0].key).to.equal("c");
    });

    it("returns an unchanged batch object when nothing in it is removed", () => {
      const log = new TestLog();
      const kept = log.record("a", "1");
      log.record("b", "1");
      log.roll();
      log.clean(0, LARGE_TIME);
      expect(log.segments[0].batches[0]).to.equal(kept);
    });

    it("does nothing when there is no dirty closed segment (testLogCleanerStats' checkpoint semantics)", () => {
      const log = new TestLog();
      log.record("a", "1");
      log.record("a", "2");
      const before = log.batches();
      const result = log.clean(0, LARGE_TIME); // only the active segment
      expect(result.cleanedUpTo).to.equal(0);
      expect(log.batches()).to.deep.equal(before);
    });

    it("cleans previously cleaned segments against new dirty keys (testPartialSegmentClean with a 1-key map)", () => {
      const log = new TestLog();
      for (const k of [0, 1, 0, 1, 0]) log.record(String(k), String(k));
      log.roll();
      let result = log.clean(2, LARGE_TIME, { maxOffsetMapEntries: 1 });
      expect(result.cleanedUpTo).to.equal(3);
      expect(log.keys()).to.deep.equal([1, 0, 1, 0]);
      expect(log.offsets()).to.deep.equal([1, 2, 3, 4]);
      result = log.clean(3, LARGE_TIME, { maxOffsetMapEntries: 1 });
      expect(log.keys()).to.deep.equal([0, 1, 0]);
      expect(log.offsets()).to.deep.equal([2, 3, 4]);
      result = log.clean(4, LARGE_TIME, { maxOffsetMapEntries: 1 });
      expect(log.keys()).to.deep.equal([1, 0]);
      expect(log.offsets()).to.deep.equal([3, 4]);
      expect(result.cleanedUpTo).to.equal(5);
    });

    it("removes keyless records from the cleaned range (testCleaningWithUnkeyedMessages)", () => {
      const log = new TestLog();
      for (let i = 0; i < 4; i++) log.record(null, String(i));
      log.roll();
      for (let i = 4; i < 8; i++) log.record(String(i), String(i));
      log.roll();
      log.record(null, "active");
      const keyedBytes = segmentSizeBytes(log.segments[1]);
      const result = log.clean(0, LARGE_TIME);
      expect(result.recordsRemoved).to.equal(4);
      // The keyless batches vanish (the batch ending at the round's upper bound is keyed, in segment 1).
      expect(log.segments[0].batches).to.deep.equal([]);
      expect(segmentSizeBytes(log.segments[1])).to.equal(keyedBytes);
      expect(log.segments[2].batches[0].records[0].key).to.equal(null); // the active segment is not cleaned
    });

    it("passes offset gaps between segments (testCleaningBeyondMissingOffsets)", () => {
      const log = new TestLog();
      for (let i = 0; i < 10; i++) log.record(String(i), String(i));
      log.roll(15);
      for (let i = 15; i < 25; i++) log.record(String(i), String(i));
      log.roll(30);
      log.record("1015", "1015");
      expect(log.clean(0, LARGE_TIME).cleanedUpTo).to.equal(30);
    });

    it("retains the emptied last batch of the round so the last offset is not lost (testCleanSegmentsRetainingLastEmptyBatch)", () => {
      const log = new TestLog();
      log.record("a", "1");
      log.record(null, "x"); // ends at the round's upper bound, and is removed as keyless
      log.roll();
      log.record("b", "1");
      log.clean(0, LARGE_TIME);
      expect(log.lastOffsetsPerBatch()).to.deep.equal([0, 1, 2]);
      const empty = log.segments[0].batches[1];
      expect(empty.records).to.deep.equal([]);
      expect(empty.sizeBytes).to.equal(BATCH_HEADER_BYTES);
      expect(empty.firstTimestamp).to.equal(NO_TIMESTAMP);
      expect(empty.maxTimestamp).to.equal(1000);
    });

    it("keeps emptied segments rather than deleting them, with their last-modified time", () => {
      const log = new TestLog();
      log.record("a", "1");
      log.clock = 5000;
      log.roll();
      log.record("a", "2");
      log.roll();
      log.record("z", "active");
      log.clean(0, LARGE_TIME);
      expect(log.segments.map((s) => s.baseOffset)).to.deep.equal([0, 1, 2]);
      expect(log.segments[0].batches).to.deep.equal([]);
      expect(log.segments[0].lastModifiedMs).to.equal(1000);
      expect(log.segments[1].lastModifiedMs).to.equal(5000);
    });

    it("rejects unsorted segments", () => {
      const seg = (baseOffset: number): CleanableSegment => ({ baseOffset, batches: [], lastModifiedMs: 0 });
      expect(() => compactSegments([seg(5), seg(3)], { nowMs: 0, deleteRetentionMs: 0, minCompactionLagMs: 0, firstDirtyOffset: 0, activeSegmentBaseOffset: 3 })).to.throw(/sorted/);
    });
  });

  describe("uncleanable section", () => {
    it("never cleans at or beyond the active segment, nor segments within min.compaction.lag.ms (testCleaningWithUncleanableSection)", () => {
      const log = new TestLog();
      for (let seg = 0; seg < 5; seg++) {
        for (let i = 0; i < 6; i++) log.record(String(i % 3), `${seg}-${i}`, 1000 * seg + i);
        log.clock = 1000 * seg + 10;
        log.roll();
      }
      log.record("0", "active", 6000);
      const before = snapshot(log.segments);
      // now - lag = 2500: segment 2 (timestamps 2000..2005) is cleanable, segment 3 (3000..) is not.
      const result = log.clean(0, 4000, { minCompactionLagMs: 1500 });
      expect(result.firstUncleanableOffset).to.equal(18);
      expect(result.cleanedUpTo).to.equal(18);
      expect(log.keys().length).to.equal(3 + 12 + 1);
      for (let i = 3; i < 6; i++) expect(log.segments[i].batches).to.deep.equal(before[i].batches);
      // The lag bound is a timestamp bound: a record timestamped in the future keeps its whole segment dirty.
      const seg: CleanableSegment[] = [
        { baseOffset: 0, batches: [makeBatch({ baseOffset: 0, partitionLeaderEpoch: 0, records: [{ key: "a", value: "1", timestamp: 10 }, { key: "a", value: "2", timestamp: 99_999 }] })], lastModifiedMs: 10 },
        { baseOffset: 2, batches: [], lastModifiedMs: 10 },
      ];
      expect(compactSegments(seg, { nowMs: 1000, deleteRetentionMs: 0, minCompactionLagMs: 1, firstDirtyOffset: 0, activeSegmentBaseOffset: 2 }).recordsRemoved).to.equal(0);
      expect(compactSegments(seg, { nowMs: 1000, deleteRetentionMs: 0, minCompactionLagMs: 0, firstDirtyOffset: 0, activeSegmentBaseOffset: 2 }).recordsRemoved).to.equal(1);
    });

    it("uses a segment's last-modified time for the lag when it has no timestamps (LogSegment.largestTimestamp)", () => {
      const segments: CleanableSegment[] = [
        { baseOffset: 0, batches: [makeBatch({ baseOffset: 0, partitionLeaderEpoch: 0, records: [{ key: "a", value: "1", timestamp: 10 }] })], lastModifiedMs: 10 },
        { baseOffset: 1, batches: [], lastModifiedMs: 900 },
        { baseOffset: 5, batches: [], lastModifiedMs: 950 },
      ];
      expect(firstUncleanableOffset(segments, { nowMs: 1000, minCompactionLagMs: 200, firstDirtyOffset: 0, activeSegmentBaseOffset: 5 })).to.equal(1);
      expect(firstUncleanableOffset(segments, { nowMs: 1000, minCompactionLagMs: 50, firstDirtyOffset: 0, activeSegmentBaseOffset: 5 })).to.equal(5);
    });

    it("stops at the segment holding the last stable offset", () => {
      const log = new TestLog();
      log.record("a", "1");
      log.roll();
      log.record("a", "2");
      log.record("a", "3");
      log.roll();
      log.record("a", "4");
      const result = log.clean(0, LARGE_TIME, { lastStableOffset: 2 });
      expect(result.firstUncleanableOffset).to.equal(1);
      expect(log.offsets()).to.deep.equal([0, 1, 2, 3]);
    });
  });

  describe("tombstones and the delete horizon (KIP-534)", () => {
    it("keeps a tombstone through the first cleaning, stamping the horizon, and drops it once now >= horizon", () => {
      const log = new TestLog();
      log.record("a", "1", 100);
      log.record("a", null, 200);
      log.record("b", "1", 300);
      log.roll();
      log.record("c", "1", 400);
      const first = log.clean(0, 10_000);
      expect(first.tombstonesRemoved).to.equal(0);
      const tomb = log.segments[0].batches[0];
      expect(flatten(tomb)).to.deep.equal([{ offset: 1, key: "a", value: null, timestamp: 200, headers: [] }]);
      expect(deleteHorizonOf(tomb)).to.equal(10_000 + RETENTION);
      expect(tomb.firstTimestamp).to.equal(10_000 + RETENTION);
      expect(tomb.records[0].timestampDelta).to.equal(200 - 10_000 - RETENTION);
      expect(tomb.sizeBytes).to.equal(batchSizeBytes(tomb.records));
      // A batch without tombstones gets no horizon.
      expect(deleteHorizonOf(log.segments[0].batches[1])).to.equal(null);
      // A second round before the horizon neither removes it nor moves the horizon.
      log.clean(0, 10_000 + RETENTION - 1);
      expect(deleteHorizonOf(log.segments[0].batches[0])).to.equal(10_000 + RETENTION);
      expect(log.offsets()).to.deep.equal([2, 3]);
      expect(flatten(log.segments[0].batches[0])[0].value).to.equal(null);
      // At the horizon it goes.
      const last = log.clean(0, 10_000 + RETENTION);
      expect(last.tombstonesRemoved).to.equal(1);
      expect(log.batches().map((b) => b.baseOffset)).to.deep.equal([2, 3]);
    });

    it("keeps a tombstone in the dirty section regardless of its own timestamp (testCleanTombstone)", () => {
      const log = new TestLog();
      log.record("0", "0", 10 + RETENTION + 10_000);
      log.roll();
      log.clean(0, 10);
      log.record("0", null, 0);
      log.roll();
      log.clean(1, 10);
      // (Kafka groups both segments into one; here they stay apart and the first one is emptied.)
      expect(log.segments[0].batches.map(lastOffset)).to.deep.equal([]);
      expect(log.segments[1].batches.map(lastOffset)).to.deep.equal([1]);
      expect(log.batches().flatMap(flatten).map((r) => r.value)).to.deep.equal([null]);
      log.record("1", "1", 10);
      log.roll();
      log.clean(2, 10);
      expect(log.batches().flatMap(flatten).map((r) => r.offset)).to.deep.equal([1, 2]);
    });

    it("removes all deleted keys once past the horizon (testCleaningWithDeletes)", () => {
      const log = new TestLog();
      for (let i = 0; i < 20; i++) log.record(String(i), String(i));
      log.roll();
      for (let i = 0; i < 20; i += 2) log.record(String(i), null);
      log.roll();
      log.record("z", "z");
      log.twoPassClean(0, 1000);
      const keys = new Set(log.batches().flatMap(flatten).map((r) => r.key));
      for (let i = 0; i < 20; i += 2) expect(keys.has(String(i))).to.equal(false);
      expect(keys.size).to.equal(11);
    });
  });

  describe("producer state (isBatchLastRecordOfProducer)", () => {
    it("retains each producer's last batch as an empty header (testLogCleanerRetainsProducerLastSequence)", () => {
      const log = new TestLog();
      log.record("0", "0");
      log.append({ producerId: 1, producerEpoch: 0, baseSequence: 0, records: [{ key: "0", value: "1", timestamp: 0 }] });
      log.append({ producerId: 2, producerEpoch: 0, baseSequence: 0, records: [{ key: "0", value: "2", timestamp: 0 }] });
      log.append({ producerId: 3, producerEpoch: 0, baseSequence: 0, records: [{ key: "0", value: "3", timestamp: 0 }] });
      log.append({ producerId: 2, producerEpoch: 0, baseSequence: 1, records: [{ key: "1", value: "1", timestamp: 0 }] });
      log.roll();
      log.clean(0, LARGE_TIME);
      expect(log.lastOffsetsPerBatch()).to.deep.equal([1, 3, 4]);
      expect(log.keys()).to.deep.equal([0, 1]);
      expect(log.offsets()).to.deep.equal([3, 4]);
      const empty = log.batches()[0];
      expect([empty.producerId, empty.baseSequence, empty.records.length, empty.sizeBytes]).to.deep.equal([1, 0, 0, BATCH_HEADER_BYTES]);
    });

    it("keeps sequence numbers for duplicate detection (testDuplicateCheckAfterCleaning)", () => {
      const log = new TestLog();
      log.producer(1, [1, 2, 3], false);
      log.producer(2, [3, 1, 4], false);
      log.producer(3, [1, 4], false);
      log.roll();
      log.clean(0, LARGE_TIME);
      expect(log.lastOffsetsPerBatch()).to.deep.equal([2, 5, 7]);
      expect(log.keys()).to.deep.equal([2, 3, 1, 4]);
      expect(log.offsets()).to.deep.equal([1, 3, 6, 7]);
      log.producer(4, [2], false);
      log.roll();
      log.clean(0, LARGE_TIME);
      expect(log.lastOffsetsPerBatch()).to.deep.equal([2, 5, 7, 8]);
      expect(log.keys()).to.deep.equal([3, 1, 4, 2]);
      expect(log.offsets()).to.deep.equal([3, 6, 7, 8]);
    });

    it("uses the producer state the caller passes instead of the derived one", () => {
      const log = new TestLog();
      log.append({ producerId: 1, producerEpoch: 0, baseSequence: 0, records: [{ key: "a", value: "1", timestamp: 0 }] });
      log.record("a", "2");
      log.roll();
      log.record("z", "z");
      const expired = compactSegments(log.segments, {
        nowMs: LARGE_TIME,
        deleteRetentionMs: RETENTION,
        minCompactionLagMs: 0,
        firstDirtyOffset: 0,
        activeSegmentBaseOffset: log.activeBase,
        activeProducers: new Map(),
      });
      expect(expired.segments[0].batches.map(lastOffset)).to.deep.equal([1]);
      log.clean(0, LARGE_TIME);
      expect(log.lastOffsetsPerBatch()).to.deep.equal([0, 1, 2]);
    });
  });

  describe("transactions (CleanedTransactionMetadata)", () => {
    it("testBasicTransactionAwareCleaning", () => {
      const log = new TestLog();
      log.producer(1, [1, 2], true);
      log.producer(2, [2, 3], true);
      log.producer(1, [3, 4], true);
      log.marker(1, "ABORT");
      log.marker(2, "COMMIT");
      log.producer(1, [2], true);
      log.marker(1, "COMMIT");
      log.roll();
      log.clean(0, LARGE_TIME);
      expect(log.keys()).to.deep.equal([3, 2]);
      expect(log.offsets()).to.deep.equal([3, 6, 7, 8, 9]);
    });

    it("testCleanWithTransactionsSpanningSegments", () => {
      const log = new TestLog();
      log.producer(1, [1, 2], true);
      log.producer(3, [2, 3], true);
      log.producer(2, [3, 4], true);
      log.roll();
      log.producer(2, [5, 6], true);
      log.producer(3, [6, 7], true);
      log.producer(1, [7, 8], true);
      log.marker(2, "ABORT");
      log.producer(3, [8, 9], true);
      log.marker(3, "COMMIT");
      log.producer(1, [9, 10], true);
      log.marker(1, "ABORT");
      // Only the first segment is cleanable.
      const dirtyOffset = log.clean(0, LARGE_TIME).cleanedUpTo;
      expect(log.keys()).to.deep.equal([2, 3, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10]);
      log.roll();
      log.producer(2, [11], true);
      log.producer(1, [12], true);
      log.clean(dirtyOffset, LARGE_TIME);
      expect(log.keys()).to.deep.equal([2, 3, 6, 7, 8, 9, 11, 12]);
    });

    it("does not clean an open transaction (the last stable offset)", () => {
      const log = new TestLog();
      log.record("a", "1");
      log.roll();
      log.producer(1, [7], true);
      log.record("a", "2");
      log.roll();
      log.record("a", "3");
      log.roll();
      const result = log.clean(0, LARGE_TIME);
      expect(result.firstUncleanableOffset).to.equal(1);
      expect(log.offsets()).to.deep.equal([0, 1, 2, 3]);
      log.marker(1, "COMMIT");
      log.roll();
      log.clean(result.cleanedUpTo, LARGE_TIME);
      expect(log.offsets()).to.deep.equal([1, 3, 4]);
    });

    it("testCommitMarkerRemoval", () => {
      const log = new TestLog();
      log.producer(1, [1], true);
      log.producer(1, [2, 3], true);
      log.marker(1, "COMMIT");
      log.producer(1, [2], true);
      log.marker(1, "COMMIT");
      log.roll();
      let dirtyOffset = log.clean(0, LARGE_TIME).cleanedUpTo;
      expect(log.keys()).to.deep.equal([1, 3, 2]);
      expect(log.offsets()).to.deep.equal([0, 2, 3, 4, 5]);
      log.producer(1, [1, 3], true);
      log.marker(1, "COMMIT");
      log.roll();
      dirtyOffset = log.clean(dirtyOffset, LARGE_TIME).cleanedUpTo;
      expect(log.keys()).to.deep.equal([2, 1, 3]);
      expect(log.offsets()).to.deep.equal([3, 4, 5, 6, 7, 8]);
      // Nothing is dirty now, so a round does nothing. (Kafka's test cleans the clean section again here, because
      // its FakeOffsetMap keeps the previous round's latestOffset; recleaning from offset 0 models that.)
      expect(log.clean(dirtyOffset, LARGE_TIME).cleanedUpTo).to.equal(dirtyOffset);
      log.clean(0, LARGE_TIME); // the marker at 3 has no data left: it gets its delete horizon, and stays
      expect(log.offsets()).to.deep.equal([3, 4, 5, 6, 7, 8]);
      log.clean(0, LARGE_TIME + RETENTION + 1);
      expect(log.keys()).to.deep.equal([2, 1, 3]);
      expect(log.offsets()).to.deep.equal([4, 5, 6, 7, 8]);
    });

    it("testDeletedBatchesWithNoMessagesRead", () => {
      const log = new TestLog();
      log.producer(1, [1], true);
      log.marker(1, "ABORT");
      log.producer(1, [2], true);
      log.producer(1, [2], true);
      log.marker(1, "COMMIT");
      log.roll();
      log.clean(0, LARGE_TIME);
      expect(log.keys()).to.deep.equal([2]);
      expect(log.offsets()).to.deep.equal([1, 3, 4]);
      log.twoPassClean(0, LARGE_TIME);
      expect(log.keys()).to.deep.equal([2]);
      expect(log.offsets()).to.deep.equal([3, 4]);
    });

    it("testCommitMarkerRetentionWithEmptyBatch", () => {
      const log = new TestLog();
      log.producer(1, [2, 3], true); // 0, 1
      log.roll();
      log.producer(2, [2, 3], true); // 2, 3
      log.marker(2, "COMMIT"); // 4
      log.roll();
      log.record("2", "2"); // 5
      log.record("3", "3"); // 6
      log.marker(1, "COMMIT"); // 7
      log.roll();
      let dirtyOffset = log.clean(0, LARGE_TIME).cleanedUpTo;
      expect(log.keys()).to.deep.equal([2, 3]);
      expect(log.offsets()).to.deep.equal([4, 5, 6, 7]);
      expect(log.lastOffsetsPerBatch()).to.deep.equal([1, 3, 4, 5, 6, 7]);
      dirtyOffset = log.clean(0, LARGE_TIME).cleanedUpTo; // Kafka recleans the clean section here
      expect(log.offsets()).to.deep.equal([4, 5, 6, 7]);
      expect(log.lastOffsetsPerBatch()).to.deep.equal([1, 3, 4, 5, 6, 7]);
      log.producer(2, [1], true); // 8
      log.marker(2, "COMMIT"); // 9
      log.roll();
      expect(log.clean(dirtyOffset, LARGE_TIME).cleanedUpTo).to.equal(10);
      expect(log.keys()).to.deep.equal([2, 3, 1]);
      expect(log.offsets()).to.deep.equal([4, 5, 6, 7, 8, 9]);
      expect(log.lastOffsetsPerBatch()).to.deep.equal([1, 4, 5, 6, 7, 8, 9]);
      log.clean(0, LARGE_TIME);
      log.clean(0, LARGE_TIME + RETENTION + 1);
      expect(log.keys()).to.deep.equal([2, 3, 1]);
      expect(log.offsets()).to.deep.equal([5, 6, 7, 8, 9]);
      expect(log.lastOffsetsPerBatch()).to.deep.equal([1, 5, 6, 7, 8, 9]);
    });

    it("testCleanEmptyControlBatch: an emptied marker stays as the producer's epoch holder", () => {
      const log = new TestLog();
      log.marker(1, "COMMIT"); // 0
      log.record("2", "2"); // 1
      log.record("3", "3"); // 2
      log.roll();
      const dirtyOffset = log.twoPassClean(0, LARGE_TIME);
      expect(log.keys()).to.deep.equal([2, 3]);
      expect(log.offsets()).to.deep.equal([1, 2]);
      expect(log.lastOffsetsPerBatch()).to.deep.equal([0, 1, 2]);
      const empty = log.batches()[0];
      expect([empty.isControl, empty.records.length, empty.controlType, empty.sizeBytes]).to.deep.equal([true, 0, undefined, BATCH_HEADER_BYTES]);
      log.clean(dirtyOffset, Number.MAX_SAFE_INTEGER);
      log.clean(0, Number.MAX_SAFE_INTEGER);
      expect(log.lastOffsetsPerBatch()).to.deep.equal([0, 1, 2]);
    });

    it("testCommittedTransactionSpanningSegments and testAbortedTransactionSpanningSegments", () => {
      const committed = new TestLog();
      committed.producer(1, [1], true);
      committed.roll();
      committed.marker(1, "COMMIT");
      committed.roll();
      committed.twoPassClean(0, LARGE_TIME);
      expect(committed.offsets()).to.deep.equal([0, 1]);
      expect(committed.lastOffsetsPerBatch()).to.deep.equal([0, 1]);

      const aborted = new TestLog();
      aborted.producer(1, [1], true);
      aborted.roll();
      aborted.marker(1, "ABORT");
      aborted.roll();
      aborted.clean(0, LARGE_TIME);
      expect(aborted.offsets()).to.deep.equal([1]);
      expect(aborted.lastOffsetsPerBatch()).to.deep.equal([0, 1]);
      aborted.clean(0, Number.MAX_SAFE_INTEGER);
      expect(aborted.offsets()).to.deep.equal([1]);
      expect(aborted.lastOffsetsPerBatch()).to.deep.equal([0, 1]);
    });

    it("testAbortMarkerRemoval", () => {
      const log = new TestLog();
      log.producer(1, [1], true);
      log.producer(1, [2, 3], true);
      log.marker(1, "ABORT");
      log.producer(1, [3], true);
      log.marker(1, "COMMIT");
      log.roll();
      log.clean(0, LARGE_TIME);
      expect(log.keys()).to.deep.equal([3]);
      expect(log.offsets()).to.deep.equal([3, 4, 5]);
      log.twoPassClean(0, LARGE_TIME);
      expect(log.keys()).to.deep.equal([3]);
      expect(log.offsets()).to.deep.equal([4, 5]);
    });

    it("testEmptyBatchRemovalWithSequenceReuse", () => {
      const log = new TestLog();
      log.append({ producerId: 1, producerEpoch: 0, baseSequence: 0, isTransactional: true, records: [{ key: "1", value: "1", timestamp: 0 }] });
      log.marker(1, "COMMIT");
      log.append({ producerId: 1, producerEpoch: 0, baseSequence: 0, isTransactional: true, records: [{ key: "2", value: "2", timestamp: 0 }] });
      log.marker(1, "COMMIT");
      log.record("1", "1");
      log.record("2", "1");
      log.roll();
      log.clean(0, LARGE_TIME);
      expect(log.offsets()).to.deep.equal([1, 3, 4, 5]);
      expect(log.lastOffsetsPerBatch()).to.deep.equal([1, 2, 3, 4, 5]);
      log.twoPassClean(0, LARGE_TIME);
      expect(log.offsets()).to.deep.equal([3, 4, 5]);
      expect(log.lastOffsetsPerBatch()).to.deep.equal([2, 3, 4, 5]);
    });

    it("testAbortMarkerRetentionWithEmptyBatch and testLogCleanerRetainsLastSequenceEvenIfTransactionAborted", () => {
      const log = new TestLog();
      log.producer(1, [2, 3], true); // 0..1
      log.marker(1, "ABORT"); // 2
      log.roll();
      let dirtyOffset = log.clean(0, LARGE_TIME).cleanedUpTo;
      expect(log.keys()).to.deep.equal([]);
      expect(log.offsets()).to.deep.equal([2]);
      expect(log.lastOffsetsPerBatch()).to.deep.equal([1, 2]);
      log.twoPassClean(0, LARGE_TIME);
      expect(log.offsets()).to.deep.equal([2]);
      expect(log.lastOffsetsPerBatch()).to.deep.equal([1, 2]);
      // Kafka's test appends this transactionally and cleans past the open transaction because it hands the
      // cleaner its bound directly; the real bound (the LSO) would stop there, so here it is an idempotent batch.
      log.producer(1, [1], false); // 3
      log.roll();
      dirtyOffset = log.clean(dirtyOffset, LARGE_TIME).cleanedUpTo;
      expect(log.keys()).to.deep.equal([1]);
      expect(log.offsets()).to.deep.equal([2, 3]); // the marker stays: this round read the empty aborted batch
      expect(log.lastOffsetsPerBatch()).to.deep.equal([2, 3]);
      log.twoPassClean(0, LARGE_TIME);
      expect(log.keys()).to.deep.equal([1]);
      expect(log.offsets()).to.deep.equal([3]);
      expect(log.lastOffsetsPerBatch()).to.deep.equal([3]);
      expect(dirtyOffset).to.equal(4);
    });

    it("keeps a marker that bumped the producer epoch as the producer's last entry (as an empty header)", () => {
      const log = new TestLog();
      log.producer(1, [1], true, 0); // 0
      log.marker(1, "ABORT", 1); // 1: the coordinator aborted with a bumped epoch
      log.record("2", "2"); // 2
      log.roll();
      log.clean(0, LARGE_TIME);
      expect(log.lastOffsetsPerBatch()).to.deep.equal([1, 2]); // aborted data gone; marker kept (data was read)
      log.twoPassClean(0, LARGE_TIME);
      expect(log.lastOffsetsPerBatch()).to.deep.equal([1, 2]);
      const holder = log.batches()[0];
      expect([holder.isControl, holder.producerEpoch, holder.records.length]).to.deep.equal([true, 1, 0]);
    });

    it("marks a marker of an empty transaction with a delete horizon and then removes it", () => {
      const log = new TestLog();
      log.producer(1, [1], true);
      log.marker(1, "COMMIT");
      log.producer(1, [1], true);
      log.marker(1, "COMMIT");
      log.roll();
      log.clean(0, 5000);
      // The first round read the transaction's batch (removing its superseded record): the marker stays as is.
      expect(log.lastOffsetsPerBatch()).to.deep.equal([1, 2, 3]);
      expect(deleteHorizonOf(log.batches()[0])).to.equal(null);
      log.clean(0, 6000);
      const marker = log.batches()[0];
      expect(deleteHorizonOf(marker)).to.equal(6000 + RETENTION);
      expect(marker.firstTimestamp).to.equal(6000 + RETENTION);
      expect(marker.sizeBytes).to.equal(batchSizeBytes(marker.records));
      expect(deleteHorizonOf(log.batches()[2])).to.equal(null); // its transaction still has data
      log.clean(0, 6000 + RETENTION - 1);
      expect(log.lastOffsetsPerBatch()).to.deep.equal([1, 2, 3]);
      log.clean(0, 6000 + RETENTION);
      expect(log.lastOffsetsPerBatch()).to.deep.equal([2, 3]);
    });
  });

  describe("segment grouping (segmentBytes)", () => {
    it("merges consecutive cleaned segments up to segment.bytes of their pre-cleaning size (testSegmentGrouping)", () => {
      const log = new TestLog();
      for (let i = 0; i < 9; i++) {
        log.record("hello", "hello");
        log.roll();
      }
      log.record("hello", "active");
      const size = segmentSizeBytes(log.segments[0]);
      const huge = compactSegments(log.segments, { nowMs: LARGE_TIME, deleteRetentionMs: 0, minCompactionLagMs: 0, firstDirtyOffset: 0, activeSegmentBaseOffset: 9, segmentBytes: 2 ** 31 - 1 });
      expect(huge.segments.map((s) => s.baseOffset)).to.deep.equal([0, 9]);
      expect(huge.segments[0].batches.map(lastOffset)).to.deep.equal([8]);
      const tiny = compactSegments(log.segments, { nowMs: LARGE_TIME, deleteRetentionMs: 0, minCompactionLagMs: 0, firstDirtyOffset: 0, activeSegmentBaseOffset: 9, segmentBytes: 1 });
      expect(tiny.segments.map((s) => s.baseOffset)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      const three = compactSegments(log.segments, { nowMs: LARGE_TIME, deleteRetentionMs: 0, minCompactionLagMs: 0, firstDirtyOffset: 0, activeSegmentBaseOffset: 9, segmentBytes: 3 * size + 1 });
      expect(three.segments.map((s) => s.baseOffset)).to.deep.equal([0, 3, 6, 9]);
      expect(three.segments.map((s) => s.lastModifiedMs)).to.deep.equal(log.segments.filter((_, i) => i % 3 === 2 || i === 9).map((s) => s.lastModifiedMs));
    });
  });

  describe("dirtyRatio", () => {
    it("is cleanable bytes over clean plus cleanable bytes (testLogToCleanWithUncleanableSection)", () => {
      const log = new TestLog();
      for (let i = 0; i < 6; i++) {
        log.record("1", "x".repeat(25));
        log.roll();
      }
      const segs = log.segments;
      const sizes = segs.map(segmentSizeBytes);
      expect(dirtyRatio(segs, 2, 4)).to.be.closeTo((sizes[2] + sizes[3]) / (sizes[0] + sizes[1] + sizes[2] + sizes[3]), 1e-9);
      expect(dirtyRatio(segs, 0, log.activeBase)).to.equal(1);
      expect(dirtyRatio(segs, log.activeBase, log.activeBase)).to.equal(0);
      // With min.compaction.lag.ms the cleanable part ends earlier, as the cleaner's will.
      expect(dirtyRatio(segs, 2, 6, { nowMs: log.clock, minCompactionLagMs: 1 })).to.equal(0);
      expect(dirtyRatio([], 0, 0)).to.equal(0);
    });

    it("drops as the log is compacted", () => {
      const log = new TestLog();
      for (let i = 0; i < 20; i++) log.record(String(i % 2), String(i));
      log.roll();
      log.record("z", "z");
      expect(dirtyRatio(log.segments, 0, log.activeBase)).to.equal(1);
      const { cleanedUpTo } = log.clean(0, LARGE_TIME);
      expect(dirtyRatio(log.segments, cleanedUpTo, log.activeBase)).to.equal(0);
      for (let i = 0; i < 4; i++) log.record(String(i), "v");
      log.roll();
      const ratio = dirtyRatio(log.segments, cleanedUpTo, log.activeBase);
      expect(ratio).to.be.greaterThan(0).and.lessThan(1);
    });
  });
});
