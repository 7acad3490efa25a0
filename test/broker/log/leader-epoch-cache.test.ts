import { expect } from "chai";
import {
  LeaderEpochFileCache,
  UNDEFINED_EPOCH,
  UNDEFINED_EPOCH_OFFSET,
} from "../../../src/broker/log/leader-epoch-cache.ts";
import { CheckpointFile, EPOCH_FORMATTER, type EpochEntry } from "../../../src/broker/log/checkpoint.ts";
import { makeBroker, runFor } from "./helpers.ts";

function cache(entries: [number, number][] = []): LeaderEpochFileCache {
  return new LeaderEpochFileCache(null, entries.map(([epoch, startOffset]) => ({ epoch, startOffset })));
}

function pairs(c: LeaderEpochFileCache): [number, number][] {
  return c.entries().map((e) => [e.epoch, e.startOffset]);
}

describe("LeaderEpochFileCache", () => {
  it("assigns only new epochs; the latest epoch at a later offset is a no-op", () => {
    const c = cache();
    expect(c.assign(0, 0)).to.equal(true);
    expect(c.assign(0, 5)).to.equal(false);
    expect(c.assign(2, 5)).to.equal(true);
    expect(pairs(c)).to.deep.equal([[0, 0], [2, 5]]);
    expect(c.latestEpoch()).to.equal(2);
  });

  it("an assignment that is not monotonic removes the conflicting entries (maybeTruncateNonMonotonicEntries)", () => {
    const c = cache([[5, 1000], [6, 1500], [7, 1800]]);
    c.assign(6, 1600);
    expect(pairs(c)).to.deep.equal([[5, 1000], [6, 1600]]);
    c.assign(8, 900);
    expect(pairs(c)).to.deep.equal([[8, 900]]);
  });

  it("endOffsetFor (KIP-279): the latest epoch ends at the log end", () => {
    const c = cache([[1, 0], [3, 10], [4, 20]]);
    expect(c.endOffsetFor(4, 25)).to.deep.equal({ epoch: 4, endOffset: 25 });
  });

  it("endOffsetFor (KIP-279): a known epoch ends where the next one starts", () => {
    const c = cache([[1, 0], [3, 10], [4, 20]]);
    expect(c.endOffsetFor(1, 25)).to.deep.equal({ epoch: 1, endOffset: 10 });
    expect(c.endOffsetFor(3, 25)).to.deep.equal({ epoch: 3, endOffset: 20 });
  });

  it("endOffsetFor (KIP-279): an unknown epoch answers for the largest smaller one", () => {
    const c = cache([[1, 0], [3, 10], [4, 20]]);
    expect(c.endOffsetFor(2, 25)).to.deep.equal({ epoch: 1, endOffset: 10 });
  });

  it("endOffsetFor (KIP-279): below every epoch, the first start offset; above all or undefined, UNDEFINED", () => {
    const c = cache([[1, 5], [3, 10]]);
    expect(c.endOffsetFor(0, 25)).to.deep.equal({ epoch: 0, endOffset: 5 });
    expect(c.endOffsetFor(9, 25)).to.deep.equal({ epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET });
    expect(c.endOffsetFor(UNDEFINED_EPOCH, 25)).to.deep.equal({ epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET });
    expect(cache().endOffsetFor(0, 25)).to.deep.equal({ epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET });
  });

  it("endOffsetFor with undefinedBelowFirst (2.0.0, before KAFKA-7415): below every epoch, UNDEFINED; the rest unchanged", () => {
    const c = cache([[1, 5], [3, 10]]);
    expect(c.endOffsetFor(0, 25, true)).to.deep.equal({ epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET });
    expect(c.endOffsetFor(2, 25, true)).to.deep.equal({ epoch: 1, endOffset: 10 });
    expect(c.endOffsetFor(3, 25, true)).to.deep.equal({ epoch: 3, endOffset: 25 });
  });

  it("endOffsetForKip101: the next epoch's start without saying which epoch; undefined below the first", () => {
    const c = cache([[1, 5], [3, 10], [4, 20]]);
    expect(c.endOffsetForKip101(2, 25)).to.equal(10);
    expect(c.endOffsetForKip101(4, 25)).to.equal(25);
    expect(c.endOffsetForKip101(0, 25)).to.equal(UNDEFINED_EPOCH_OFFSET);
    expect(c.endOffsetForKip101(7, 25)).to.equal(UNDEFINED_EPOCH_OFFSET);
  });

  it("epochForOffset: the epoch whose range holds the offset", () => {
    const c = cache([[1, 5], [3, 10]]);
    expect([c.epochForOffset(4), c.epochForOffset(5), c.epochForOffset(9), c.epochForOffset(10), c.epochForOffset(99)]).to.deep.equal([
      UNDEFINED_EPOCH,
      1,
      1,
      3,
      3,
    ]);
  });

  it("truncateFromEnd removes the epochs starting at or after the offset", () => {
    const c = cache([[1, 0], [3, 10], [4, 20]]);
    c.truncateFromEnd(21);
    expect(pairs(c)).to.deep.equal([[1, 0], [3, 10], [4, 20]]);
    c.truncateFromEnd(10);
    expect(pairs(c)).to.deep.equal([[1, 0]]);
  });

  it("truncateFromStart keeps the epoch covering the new start, moved up to it", () => {
    const c = cache([[1, 0], [3, 10], [4, 20]]);
    c.truncateFromStart(15);
    expect(pairs(c)).to.deep.equal([[3, 15], [4, 20]]);
    c.truncateFromStart(20);
    expect(pairs(c)).to.deep.equal([[4, 20]]);
    c.truncateFromStart(3);
    expect(pairs(c)).to.deep.equal([[4, 20]]);
  });

  it("persists every change to leader-epoch-checkpoint (tmp, fsync, rename)", () => {
    const rig = makeBroker();
    const context = rig.context();
    const file = new CheckpointFile<EpochEntry>(rig.disk, context, "p/leader-epoch-checkpoint", EPOCH_FORMATTER, () => {
      throw new Error("unexpected disk error");
    });
    const c = new LeaderEpochFileCache(file);
    c.assign(1, 0);
    c.assign(2, 7);
    expect(file.read()).to.deep.equal({ error: "missing" });
    runFor(rig.world, 20);
    expect(file.read()).to.deep.equal({ error: null, entries: [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 7 }] });
    expect(rig.disk.read("p/leader-epoch-checkpoint")).to.deep.nested.include({ "chunks[0].data": ["0", "2", "1 0", "2 7"] });
    c.truncateFromEnd(7);
    runFor(rig.world, 20);
    expect(new LeaderEpochFileCache(null, (file.read() as { entries: EpochEntry[] }).entries).entries()).to.deep.equal([{ epoch: 1, startOffset: 0 }]);
  });
});
