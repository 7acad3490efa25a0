// Properties of the partition log against a reference model (a list of batches with their offsets): after any
// sequence of leader appends, truncations, high-watermark moves, log-start moves, retention, flushes, time and
// crashes, the log reads back exactly what the model holds, offsets strictly increasing; retention never deletes
// the active segment nor anything at or above the high watermark; a crash loses nothing; a power loss loses only
// unsynced data, never leaves an invalid batch behind, and keeps a prefix when there is one segment.
import { expect } from "chai";
import fc from "fast-check";
import type { LogConfig } from "../../../src/broker/log/config.ts";
import type { Log } from "../../../src/broker/log/log.ts";
import { lastOffset } from "../../../src/broker/log/records.ts";
import { batchOf, makeBroker, readOffsets, runFor, type BrokerRig } from "./helpers.ts";

type Op =
  | { kind: "append"; count: number; bumpEpoch: boolean }
  | { kind: "truncate"; fraction: number }
  | { kind: "hw"; fraction: number }
  | { kind: "logStart"; fraction: number }
  | { kind: "retention" }
  | { kind: "flush" }
  | { kind: "advance"; ms: number }
  | { kind: "crash" };

const fraction = fc.double({ min: 0, max: 1, noNaN: true });
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("append" as const), count: fc.integer({ min: 1, max: 4 }), bumpEpoch: fc.boolean() }), weight: 8 },
  { arbitrary: fc.record({ kind: fc.constant("truncate" as const), fraction }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("hw" as const), fraction }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant("logStart" as const), fraction }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("retention" as const) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("flush" as const) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 40 }) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("crash" as const) }), weight: 1 },
);

const CONFIG: Partial<LogConfig> = { "segment.bytes": 300, "index.interval.bytes": 90, "retention.bytes": 500 };

interface ModelBatch {
  base: number;
  values: string[];
}

/** What the log should hold: its batches (offsets contiguous inside a batch), log start, end and HW. */
class Model {
  batches: ModelBatch[] = [];
  logStart = 0;
  logEnd = 0;
  hw = 0;

  records(): [number, string][] {
    const out: [number, string][] = [];
    for (const batch of this.batches) {
      batch.values.forEach((value, i) => {
        if (batch.base + i >= this.logStart) out.push([batch.base + i, value]);
      });
    }
    return out;
  }

  static of(log: Log): Model {
    const model = new Model();
    for (const batch of log.batchesFrom(0)) {
      model.batches.push({ base: batch.baseOffset, values: batch.records.map((r) => r.value ?? "") });
    }
    model.logStart = log.logStartOffset;
    model.logEnd = log.logEndOffset;
    model.hw = log.highWatermark;
    return model;
  }
}

function logOf(rig: BrokerRig): Log {
  return rig.manager().getOrCreateLog("t", 0) as Log;
}

/** Checks the log against the model: same records (offsets strictly increasing), same offsets. */
function check(log: Log, model: Model): void {
  const records = readOffsets(log);
  for (let i = 1; i < records.length; i++) expect(records[i][0]).to.be.greaterThan(records[i - 1][0]);
  expect(records).to.deep.equal(model.records());
  expect([log.logStartOffset, log.highWatermark, log.logEndOffset]).to.deep.equal([model.logStart, model.hw, model.logEnd]);
  // read(offset) returns the batch holding it (or the first after a gap) from the model.
  for (const [offset] of records) {
    const read = log.read(offset, 1);
    if (read.error !== null) throw new Error(read.error);
    const holding = model.batches.find((b) => b.base + b.values.length - 1 >= offset)!;
    expect(read.batches[0].baseOffset).to.equal(holding.base);
  }
}

function apply(rig: BrokerRig, model: Model, step: Op, epoch: { value: number }, written: Map<number, Set<string>>, counter: { n: number }): void {
  const log = logOf(rig);
  switch (step.kind) {
    case "append": {
      if (step.bumpEpoch) epoch.value++;
      const result = log.appendAsLeader(batchOf(step.count, `w${counter.n++}`), epoch.value);
      if (result.error !== null) throw new Error(result.error);
      expect(result.firstOffset).to.equal(model.logEnd);
      const values = result.batch.records.map((r) => r.value!);
      model.batches.push({ base: result.firstOffset, values });
      values.forEach((v, i) => {
        const set = written.get(result.firstOffset + i) ?? new Set<string>();
        set.add(v);
        written.set(result.firstOffset + i, set);
      });
      model.logEnd = lastOffset(result.batch) + 1;
      return;
    }
    case "truncate": {
      const target = Math.floor(step.fraction * model.logEnd);
      log.truncateTo(target);
      if (target >= model.logEnd) return;
      model.batches = model.batches.filter((b) => b.base + b.values.length - 1 < target);
      model.logEnd = target;
      model.logStart = Math.min(model.logStart, target);
      model.hw = Math.min(model.hw, target);
      for (const entry of log.leaderEpochCache.entries()) expect(entry.startOffset).to.be.below(Math.max(1, target));
      return;
    }
    case "hw": {
      const hw = model.logStart + Math.floor(step.fraction * (model.logEnd - model.logStart + 1));
      log.updateHighWatermark(hw);
      model.hw = Math.min(hw, model.logEnd);
      return;
    }
    case "logStart": {
      // At most the high watermark: Kafka refuses a log start offset beyond it (OFFSET_OUT_OF_RANGE).
      const target = model.logStart + Math.floor(step.fraction * (model.hw - model.logStart));
      const result = log.maybeIncrementLogStartOffset(target);
      expect(result.error).to.equal(null);
      model.logStart = Math.max(model.logStart, target);
      return;
    }
    case "retention": {
      const active = log.activeSegment;
      const before = new Set(log.segments);
      const startBefore = model.logStart;
      log.deleteOldSegments(0);
      const deleted = [...before].filter((s) => !log.segments.includes(s));
      if (deleted.includes(active)) {
        // Kafka rolled first: the old active segment was wholly below the HW and the new one is empty.
        expect(log.activeSegment.isEmpty).to.equal(true);
        expect(log.activeSegment.baseOffset).to.equal(model.logEnd);
        expect(model.hw).to.equal(model.logEnd);
      }
      for (const segment of deleted) expect(segment.nextOffset).to.be.at.most(model.hw);
      expect(log.logStartOffset).to.be.at.least(startBefore);
      expect(log.logStartOffset).to.be.at.most(model.hw);
      model.logStart = log.logStartOffset;
      return;
    }
    case "flush":
      log.flush();
      return;
    case "advance":
      runFor(rig.world, step.ms);
      return;
    case "crash": {
      const before = readOffsets(log);
      const logEndBefore = log.logEndOffset;
      rig.host.crash();
      rig.host.start();
      const after = logOf(rig);
      // Nothing lost: every record read before is read after (the log start may go back to its checkpoint).
      const afterRecords = new Map(readOffsets(after));
      for (const [offset, value] of before) expect(afterRecords.get(offset)).to.equal(value);
      expect(after.logEndOffset).to.be.at.most(logEndBefore);
      Object.assign(model, Model.of(after));
      return;
    }
  }
}

describe("Log properties", () => {
  it("reads back what was appended, offsets strictly increasing, through truncations, retention and crashes", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 1000 }), (ops, seed) => {
        const rig = makeBroker({ seed, topicConfig: () => CONFIG });
        const model = new Model();
        const written = new Map<number, Set<string>>();
        const epoch = { value: 0 };
        const counter = { n: 0 };
        for (const step of ops) {
          apply(rig, model, step, epoch, written, counter);
          check(logOf(rig), model);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("a truncation followed by appends yields a contiguous log and an epoch cache inside it", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 20 }), fraction, fc.integer({ min: 1, max: 6 }), (sizes, cut, more) => {
        const rig = makeBroker({ topicConfig: () => CONFIG });
        const log = logOf(rig);
        sizes.forEach((count, i) => log.appendAsLeader(batchOf(count, `a${i}`), i));
        const target = Math.floor(cut * log.logEndOffset);
        const batchStart = [...log.batchesFrom(0)].find((b) => lastOffset(b) >= target)?.baseOffset ?? target;
        log.truncateTo(target);
        for (let i = 0; i < more; i++) log.appendAsLeader(batchOf(2, `b${i}`), 100 + i);
        const offsets = readOffsets(log).map(([o]) => o);
        const expected = [...Array(batchStart).keys(), ...[...Array(2 * more).keys()].map((i) => target + i)];
        expect(offsets).to.deep.equal(expected);
        const entries = log.leaderEpochCache.entries();
        for (let i = 1; i < entries.length; i++) expect(entries[i].startOffset).to.be.greaterThan(entries[i - 1].startOffset);
        expect(entries[entries.length - 1]).to.deep.equal({ epoch: 100 + more - 1, startOffset: target + 2 * (more - 1) });
      }),
      { numRuns: 200 },
    );
  });

  it("a power loss keeps every synced record, never an invalid batch, and only records once written there", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant("append" as const), fc.constant("flush" as const), fc.integer({ min: 0, max: 8 })), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.boolean(),
        (steps, seed, small) => {
          const rig = makeBroker({ seed, topicConfig: () => (small ? CONFIG : {}) });
          let log = logOf(rig);
          let n = 0;
          const written: string[] = [];
          for (const step of steps) {
            if (step === "append") {
              const result = log.appendAsLeader(batchOf(1, `p${n++}`), 0);
              if (result.error !== null) throw new Error(result.error);
              written.push(result.batch.records[0].value!);
            } else if (step === "flush") log.flush();
            else runFor(rig.world, step);
          }
          const recoveryPoint = log.recoveryPoint;
          rig.host.powerLoss();
          rig.host.start();
          log = logOf(rig);
          const after = readOffsets(log);
          for (const [offset, value] of after) expect(value).to.equal(written[offset]);
          const survivors = new Set(after.map(([o]) => o));
          for (let offset = 0; offset < recoveryPoint; offset++) expect(survivors.has(offset)).to.equal(true);
          for (const segment of log.segments) {
            for (let offset = segment.baseOffset; offset < segment.nextOffset; offset++) expect(log.read(offset, 1).error).to.equal(null);
          }
          if (!small) expect(after.map(([o]) => o)).to.deep.equal([...Array(after.length).keys()]);
        },
      ),
      { numRuns: 200 },
    );
  });
});
