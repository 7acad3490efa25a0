// The log's side of compaction: handing segments to the cleaner (cleaner.ts), swapping the rewritten segments in
// through `.cleaned` files (fsynced, then renamed), the first dirty offset and its checkpoint, and the cleaner
// thread's choice by dirty ratio. The cleaning rules themselves are cleaner.test.ts's business.
import { expect } from "chai";
import { CLEANER_OFFSET_CHECKPOINT } from "../../../src/broker/log/checkpoint.ts";
import type { LogConfig } from "../../../src/broker/log/config.ts";
import { cleanableState, type CompactionOutcome } from "../../../src/broker/log/log-cleaning.ts";
import type { Log } from "../../../src/broker/log/log.ts";
import { makeBatch } from "../../../src/broker/log/records.ts";
import { makeBroker, readOffsets, runFor, type BrokerRig } from "./helpers.ts";

const COMPACTED: Partial<LogConfig> = { "cleanup.policy": "compact", "segment.bytes": 400, "index.interval.bytes": 100 };

/** Appends `rounds` × `keys` keyed records, one per batch: key k<i> gets value r<round>. */
function fillKeyed(log: Log, keys: number, rounds: number): void {
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < keys; k++) {
      const batch = makeBatch({ baseOffset: 0, partitionLeaderEpoch: 0, records: [{ key: `k${k}`, value: `r${round}`, timestamp: 0 }] });
      const result = log.appendAsLeader(batch, 0);
      if (result.error !== null) throw new Error(result.error);
    }
  }
  log.updateHighWatermark(log.logEndOffset);
}

function compacted(rig: BrokerRig): Log {
  return rig.manager().getOrCreateLog("c", 0) as Log;
}

/** The key → value the log reads back, and whether any key appears twice below the active segment. */
function keysBelowActive(log: Log): string[] {
  const keys: string[] = [];
  for (const batch of log.batchesFrom(0)) {
    if (batch.baseOffset >= log.activeSegment.baseOffset) break;
    for (const record of batch.records) keys.push(record.key!);
  }
  return keys;
}

describe("Log compaction (integration with the cleaner)", () => {
  it("keeps the newest record per key below the active segment, offsets unchanged, once the swap is durable", () => {
    const rig = makeBroker({ topicConfig: () => COMPACTED, config: { "log.cleaner.enable": false } });
    const log = compacted(rig);
    fillKeyed(log, 3, 6);
    const before = readOffsets(log);
    const activeBase = log.activeSegment.baseOffset;
    let outcome: CompactionOutcome | null | undefined;
    expect(log.compact(0, (o) => (outcome = o))).to.equal(true);
    expect(outcome).to.equal(undefined);
    runFor(rig.world, 20);
    expect(outcome).to.not.equal(undefined);
    expect(outcome!.recordsRemoved).to.be.greaterThan(0);
    const keys = keysBelowActive(log);
    expect(new Set(keys).size).to.equal(keys.length);
    const after = readOffsets(log);
    // Every surviving record is the one that was at its offset; the active segment is untouched.
    const original = new Map(before);
    for (const [offset, value] of after) expect(original.get(offset)).to.equal(value);
    expect(after.filter(([o]) => o >= activeBase)).to.deep.equal(before.filter(([o]) => o >= activeBase));
    expect(log.firstDirtyOffset).to.equal(outcome!.cleanedUpTo);
    expect(log.logEndOffset).to.equal(18);
    expect(rig.disk.list(`${log.dir}/`).some((n) => n.endsWith(".cleaned"))).to.equal(false);
    // The compacted segments survive a power loss (they were fsynced before the rename).
    const durable = readOffsets(log).filter(([o]) => o < activeBase);
    rig.host.powerLoss();
    rig.host.start();
    expect(readOffsets(compacted(rig)).filter(([o]) => o < activeBase)).to.deep.equal(durable);
  });

  it("a crash before the cleaned files are durable leaves the original segments; the .cleaned files are deleted", () => {
    const rig = makeBroker({ topicConfig: () => COMPACTED, config: { "log.cleaner.enable": false } });
    const log = compacted(rig);
    fillKeyed(log, 3, 6);
    const before = readOffsets(log);
    log.compact(0);
    expect(rig.disk.list(`${log.dir}/`).some((n) => n.endsWith(".cleaned"))).to.equal(true);
    rig.host.crash();
    rig.host.start();
    expect(readOffsets(compacted(rig))).to.deep.equal(before);
    expect(rig.disk.list(`${log.dir}/`).some((n) => n.endsWith(".cleaned"))).to.equal(false);
  });

  it("a truncation while the cleaned files are being synced abandons the round", () => {
    const rig = makeBroker({ topicConfig: () => COMPACTED, config: { "log.cleaner.enable": false } });
    const log = compacted(rig);
    fillKeyed(log, 3, 6);
    let outcome: CompactionOutcome | null | undefined;
    log.compact(0, (o) => (outcome = o));
    log.truncateTo(2);
    runFor(rig.world, 20);
    expect(outcome).to.equal(null);
    expect(readOffsets(log).map(([o]) => o)).to.deep.equal([0, 1]);
    expect(rig.disk.list(`${log.dir}/`).some((n) => n.endsWith(".cleaned"))).to.equal(false);
  });

  it("never cleans at or beyond the high watermark", () => {
    const rig = makeBroker({ topicConfig: () => COMPACTED, config: { "log.cleaner.enable": false } });
    const log = compacted(rig);
    fillKeyed(log, 3, 6);
    log.updateHighWatermark(0);
    expect(cleanableState(log, 0).cleanableBytes).to.equal(0);
    log.compact(0);
    runFor(rig.world, 20);
    expect(readOffsets(log)).to.have.length(18);
  });

  it("never cleans at or beyond an open transaction's first offset (the last stable offset), even below the high watermark", () => {
    const rig = makeBroker({ topicConfig: () => COMPACTED, config: { "log.cleaner.enable": false } });
    const log = compacted(rig);
    // A transaction opens at offset 0 and stays open; keyed records follow it.
    const open = makeBatch({ baseOffset: 0, partitionLeaderEpoch: 0, producerId: 7, producerEpoch: 0, baseSequence: 0, isTransactional: true, records: [{ key: "k0", value: "t0", timestamp: 0 }] });
    expect(log.appendAsLeader(open, 0).error).to.equal(null);
    fillKeyed(log, 3, 6);
    expect(log.highWatermark).to.equal(19);
    expect(log.lastStableOffset).to.equal(0);
    expect(cleanableState(log, 0).cleanableBytes).to.equal(0);
    log.compact(0);
    runFor(rig.world, 20);
    expect(readOffsets(log)).to.have.length(19);
  });

  it("the cleaner thread picks a log whose dirty ratio exceeds min.cleanable.dirty.ratio and checkpoints its progress", () => {
    const rig = makeBroker({ topicConfig: (topic) => (topic === "c" ? COMPACTED : {}), trace: true });
    const log = compacted(rig);
    const plain = rig.manager().getOrCreateLog("p", 0) as Log;
    fillKeyed(log, 3, 6);
    fillKeyed(plain, 3, 6);
    expect(cleanableState(log, 0).ratio).to.be.greaterThan(0.5);
    runFor(rig.world, 15_100);
    const compactions = rig.events.filter((e) => e.kind === "log-compaction");
    expect(compactions.map((e) => e.topicPartition)).to.deep.equal(["c-0"]);
    expect(cleanableState(log, 0).cleanableBytes).to.equal(0);
    const read = rig.disk.read(`kafka-logs/${CLEANER_OFFSET_CHECKPOINT}`);
    if (read.error !== null) throw new Error(read.error);
    expect(read.chunks[0].data).to.deep.equal(["0", "1", `c 0 ${log.firstDirtyOffset}`]);
    // After a restart the cleaner resumes from the checkpoint: nothing left to clean.
    rig.host.crash();
    rig.host.start();
    expect(compacted(rig).firstDirtyOffset).to.equal(log.firstDirtyOffset);
    expect(cleanableState(compacted(rig), 0).cleanableBytes).to.equal(0);
  });

  it("the cleaner leaves a log alone while its dirty ratio is at or below the minimum", () => {
    const rig = makeBroker({ topicConfig: () => ({ ...COMPACTED, "min.cleanable.dirty.ratio": 1 }), trace: true });
    fillKeyed(compacted(rig), 3, 6);
    runFor(rig.world, 60_000);
    expect(rig.events.filter((e) => e.kind === "log-compaction")).to.deep.equal([]);
  });
});
