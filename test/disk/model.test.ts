// Property: a reference model that copies arrays predicts the disk's page-cache view and durable view after
// every operation, and bounds what a power loss may leave: the durable view plus (when the durable view is a
// prefix of the cache) a prefix of the unsynced suffix, its last chunk possibly torn. A truncation below the
// durable prefix leaves the durable view alone until the journal commits it: at an fsync of any file issued
// after it, or at the journal's periodic commit.
import { expect } from "chai";
import fc from "fast-check";
import type { Chunk, DiskError } from "../../src/disk/disk.ts";
import { makeRig, runUntil } from "./helpers.ts";

const WRITEBACK_US = 30_000_000;
const INTERVAL_US = 5_000_000;
const JOURNAL_US = 4_000_000;
const FILES = ["a", "b"];

interface ModelChunk {
  readonly id: number;
  readonly sizeBytes: number;
  readonly writtenAtUs: number;
  readonly torn: boolean;
}

/** A truncation the journal has not committed: the durable chunks it cut from the cache. */
interface ModelTruncation {
  readonly seq: number;
  readonly atUs: number;
  readonly cut: readonly ModelChunk[];
}

interface ModelFile {
  cache: ModelChunk[];
  durable: ModelChunk[];
  pending: ModelTruncation[];
}

interface ModelFsync {
  readonly file: ModelFile | null;
  /** The cache as of the call, clamped by later truncations. */
  snapshot: ModelChunk[];
  readonly epoch: number;
  /** Truncations made before the call (on any file): the journal commit this fsync forces covers them. */
  readonly truncationSeq: number;
}

type Op =
  | { kind: "append"; file: number; sizeBytes: number }
  | { kind: "writeFile"; file: number; sizeBytes: number }
  | { kind: "truncate"; file: number; fraction: number }
  | { kind: "fsync"; file: number }
  | { kind: "syncAll" }
  | { kind: "advance"; us: number }
  | { kind: "powerLoss" };

/** `inspect`: compare both views after the op (inspecting materializes writeback, so not always). */
type Step = Op & { inspect: boolean };

const file = fc.integer({ min: 0, max: FILES.length - 1 });
const sizeBytes = fc.integer({ min: 1, max: 99 });
const fraction = fc.double({ min: 0, max: 1, noNaN: true });
const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("append" as const), file, sizeBytes }), weight: 6 },
  { arbitrary: fc.record({ kind: fc.constant("writeFile" as const), file, sizeBytes }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("truncate" as const), file, fraction }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("fsync" as const), file }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant("syncAll" as const) }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant("advance" as const),
      us: fc.oneof(fc.integer({ min: 0, max: 6_000 }), fc.integer({ min: 0, max: 40_000_000 })),
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ kind: fc.constant("powerLoss" as const) }), weight: 2 },
);

/** Length of the common prefix of two arrays, by identity. */
function commonPrefix(x: readonly ModelChunk[], y: readonly ModelChunk[]): number {
  let i = 0;
  while (i < x.length && i < y.length && x[i] === y[i]) i++;
  return i;
}

function key(chunk: { readonly torn: boolean; readonly id: number } | Chunk): string {
  if ("damage" in chunk) return `${String(chunk.data)}${chunk.damage === "torn" ? "~" : ""}`;
  return `${chunk.id}${chunk.torn ? "~" : ""}`;
}

/** How often each interesting case came up over all runs, so the property cannot pass vacuously. */
const seen = {
  writeback: 0,
  clampedFsync: 0,
  voidedFsync: 0,
  restored: 0,
  keptUnsynced: 0,
  torn: 0,
  journalByOtherFsync: 0,
  journalByTimer: 0,
};

const stepArbitrary: fc.Arbitrary<Step> = fc
  .tuple(opArbitrary, fc.boolean())
  .map(([op, inspect]) => ({ ...op, inspect }));

function runOps(seed: number, ops: Step[]): void {
  const { world, disk } = makeRig(
    {},
    { writebackUs: WRITEBACK_US, writebackIntervalUs: INTERVAL_US, journalCommitIntervalUs: JOURNAL_US },
    seed,
  );
  const files = new Map<string, ModelFile>();
  let epoch = 0;
  let nextId = 0;
  let powerLosses = 0;
  let truncationSeq = 0;

  /** The journal commits truncations: their cut chunks leave the durable view. */
  const commitTruncations = (model: ModelFile, committed: (truncation: ModelTruncation) => boolean): number => {
    const done = model.pending.filter(committed);
    if (done.length === 0) return 0;
    const gone = new Set(done.flatMap((truncation) => truncation.cut));
    model.durable = model.durable.filter((chunk) => !gone.has(chunk));
    model.pending = model.pending.filter((truncation) => !committed(truncation));
    return done.length;
  };

  /** The journal's periodic commits, at every multiple of JOURNAL_US, cover the truncations before them. */
  const journal = (): void => {
    const lastCommitUs = Math.floor(world.now / JOURNAL_US) * JOURNAL_US;
    for (const model of files.values()) seen.journalByTimer += commitTruncations(model, (t) => t.atUs < lastCommitUs);
  };

  /** Writeback as the design states it, eagerly: chunk w is durable from ceil((w + 30 s) / 5 s) * 5 s. */
  const writeback = (): void => {
    for (const model of files.values()) {
      let k = 0;
      while (
        k < model.cache.length &&
        Math.ceil((model.cache[k].writtenAtUs + WRITEBACK_US) / INTERVAL_US) * INTERVAL_US <= world.now
      ) {
        k++;
      }
      if (k > commonPrefix(model.cache, model.durable)) {
        model.durable = model.cache.slice(0, k);
        model.pending = [];
        seen.writeback++;
      }
    }
  };

  const pending: ModelFsync[] = [];
  const complete = (op: ModelFsync, error: DiskError | null): void => {
    pending.splice(pending.indexOf(op), 1);
    writeback();
    if (op.file === null) return void expect(error).to.equal("ENOENT");
    if (op.epoch !== epoch) {
      seen.voidedFsync++;
      return void expect(error).to.equal("EIO");
    }
    expect(error).to.equal(null);
    const model = op.file;
    const synced = commonPrefix(model.cache, model.durable);
    model.durable = op.snapshot.length > synced ? op.snapshot.slice() : model.cache.slice(0, synced);
    model.pending = [];
    for (const other of files.values()) {
      if (other !== model) seen.journalByOtherFsync += commitTruncations(other, (t) => t.seq <= op.truncationSeq);
    }
  };

  const truncateModel = (model: ModelFile, count: number): void => {
    const synced = commonPrefix(model.cache, model.durable);
    if (count < synced) model.pending.push({ seq: ++truncationSeq, atUs: world.now, cut: model.cache.slice(count, synced) });
    model.cache = model.cache.slice(0, count);
    for (const op of pending) {
      if (op.file !== model || op.snapshot.length <= count) continue;
      op.snapshot = op.snapshot.slice(0, count);
      seen.clampedFsync++;
    }
  };

  const appendModel = (name: string, sizeBytes: number): void => {
    const id = nextId++;
    expect(disk.append(name, id, sizeBytes)).to.equal(null);
    let model = files.get(name);
    if (model === undefined) files.set(name, (model = { cache: [], durable: [], pending: [] }));
    model.cache.push({ id, sizeBytes, writtenAtUs: world.now, torn: false });
  };

  const check = (): void => {
    writeback();
    journal();
    let used = 0;
    let dirty = 0;
    for (const name of FILES) {
      const model = files.get(name);
      if (model === undefined) {
        expect(disk.exists(name)).to.equal(false);
        continue;
      }
      const read = disk.read(name);
      if (read.error !== null) throw new Error(read.error);
      expect(read.chunks.map(key), `${name} cache`).to.deep.equal(model.cache.map(key));
      expect(disk.durableView(name).map(key), `${name} durable`).to.deep.equal(model.durable.map(key));
      for (const chunk of model.cache) used += chunk.sizeBytes;
      const synced = commonPrefix(model.cache, model.durable);
      for (const chunk of model.cache.slice(synced)) dirty += chunk.sizeBytes;
    }
    expect(disk.usedBytes()).to.equal(used);
    expect(disk.dirtyBytes()).to.equal(dirty);
  };

  for (const op of ops) {
    writeback();
    journal();
    switch (op.kind) {
      case "append":
        appendModel(FILES[op.file], op.sizeBytes);
        break;
      case "writeFile": {
        const name = FILES[op.file];
        const id = nextId++;
        expect(disk.writeFile(name, id, op.sizeBytes)).to.equal(null);
        let model = files.get(name);
        if (model === undefined) files.set(name, (model = { cache: [], durable: [], pending: [] }));
        truncateModel(model, 0);
        model.cache.push({ id, sizeBytes: op.sizeBytes, writtenAtUs: world.now, torn: false });
        break;
      }
      case "truncate": {
        const name = FILES[op.file];
        const model = files.get(name);
        if (model === undefined) {
          expect(disk.truncate(name, 0)).to.equal("ENOENT");
          break;
        }
        const count = Math.floor(op.fraction * model.cache.length);
        expect(disk.truncate(name, count)).to.equal(null);
        truncateModel(model, count);
        break;
      }
      case "fsync": {
        const name = FILES[op.file];
        const model = files.get(name) ?? null;
        const snapshot = model === null ? [] : model.cache.slice();
        const record: ModelFsync = { file: model, snapshot, epoch, truncationSeq };
        pending.push(record);
        disk.fsync(name, null, (error) => complete(record, error));
        break;
      }
      case "syncAll":
        disk.syncAll();
        for (const model of files.values()) {
          model.durable = model.cache.slice();
          model.pending = [];
        }
        break;
      case "advance":
        runUntil(world, world.now + op.us);
        break;
      case "powerLoss": {
        disk.onPowerLoss(world.rng.fork(`power-${powerLosses++}`));
        epoch++;
        for (const [name, model] of files) {
          const read = disk.read(name);
          if (read.error !== null) throw new Error(read.error);
          const after = read.chunks;
          const synced = commonPrefix(model.cache, model.durable);
          const durableIsPrefix = synced === model.durable.length;
          const expectedMax = durableIsPrefix ? model.cache.length : model.durable.length;
          expect(after.length).to.be.within(model.durable.length, expectedMax);
          if (!durableIsPrefix) seen.restored++;
          if (after.length > model.durable.length) seen.keptUnsynced++;
          if (after.length > model.durable.length && after[after.length - 1].damage === "torn") seen.torn++;
          const survivors: ModelChunk[] = [];
          after.forEach((chunk, index) => {
            const source = index < model.durable.length ? model.durable[index] : model.cache[index];
            const mayTear = index >= model.durable.length && index === after.length - 1;
            expect(chunk.data).to.equal(source.id);
            expect(chunk.damage).to.be.oneOf(mayTear ? ["none", "torn"] : [source.torn ? "torn" : "none"]);
            survivors.push(
              chunk.damage === "torn" && !source.torn
                ? { ...source, sizeBytes: Math.floor(source.sizeBytes / 2), torn: true }
                : source,
            );
          });
          model.cache = survivors;
          model.durable = survivors.slice();
          model.pending = [];
        }
        break;
      }
    }
    if (op.inspect) check();
  }
  runUntil(world, world.now + 10_000);
  expect(pending).to.deep.equal([]);
  check();
}

describe("Disk against a reference model", () => {
  it("random appends, truncations, fsyncs, time and power losses keep the views the model predicts", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.array(stepArbitrary, { maxLength: 80 }), (seed, ops) => {
        runOps(seed, ops);
      }),
      { numRuns: 1_000, seed: 42 },
    );
    for (const [name, count] of Object.entries(seen)) expect(count, `runs with ${name}`).to.be.greaterThan(0);
  });
});
