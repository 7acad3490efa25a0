import { expect } from "chai";
import {
  LOG_START_OFFSET_CHECKPOINT,
  RECOVERY_POINT_CHECKPOINT,
  REPLICATION_OFFSET_CHECKPOINT,
} from "../../../src/broker/log/checkpoint.ts";
import { resolveLogManagerConfig } from "../../../src/broker/log/config.ts";
import type { Log } from "../../../src/broker/log/log.ts";
import { batchOf, makeBroker, runFor, SMALL_SEGMENTS, type BrokerRig } from "./helpers.ts";

function lines(rig: BrokerRig, name: string): unknown {
  const read = rig.disk.read(`kafka-logs/${name}`);
  return read.error === null ? read.chunks[0].data : read.error;
}

function append(log: Log, count: number, timestamp = 0): void {
  for (let i = 0; i < count; i++) {
    const result = log.appendAsLeader(batchOf(1, "m", timestamp), 0);
    if (result.error !== null) throw new Error(result.error);
  }
}

describe("LogManager", () => {
  it("creates a partition directory with an empty first segment, and finds every log again on restart", () => {
    const rig = makeBroker();
    const manager = rig.manager();
    append(manager.getOrCreateLog("orders-v2", 0) as Log, 3);
    append(manager.getOrCreateLog("orders-v2", 11) as Log, 1);
    manager.getOrCreateLog("empty", 0);
    expect(rig.disk.list("kafka-logs/empty-0/")).to.deep.equal(["kafka-logs/empty-0/00000000000000000000.log"]);
    expect(manager.getOrCreateLog("orders-v2", 0)).to.equal(manager.getLog("orders-v2", 0));
    rig.host.crash();
    rig.host.start();
    const names = [...rig.manager().allLogs()].map((log) => `${log.topicPartition}@${log.logEndOffset}`);
    expect(names).to.deep.equal(["empty-0@0", "orders-v2-0@3", "orders-v2-11@1"]);
  });

  it("deleteLog removes the log and its files", () => {
    const rig = makeBroker();
    append(rig.manager().getOrCreateLog("t", 0) as Log, 2);
    rig.manager().getOrCreateLog("u", 0);
    // The leader-epoch checkpoint write started by the appends is still in flight: it must not recreate the dir.
    expect(rig.manager().deleteLog("t", 0)).to.equal(null);
    expect(rig.manager().getLog("t", 0)).to.equal(undefined);
    runFor(rig.world, 20);
    expect(rig.disk.list("kafka-logs/t-0/")).to.deep.equal([]);
    expect(rig.manager().offline).to.equal(false);
    rig.host.crash();
    rig.host.start();
    expect([...rig.manager().allLogs()].map((l) => l.topicPartition)).to.deep.equal(["u-0"]);
  });

  it("rejects illegal topic names and partitions", () => {
    const rig = makeBroker();
    expect(() => rig.manager().getOrCreateLog("a b", 0)).to.throw(/illegal topic/);
    expect(() => rig.manager().getOrCreateLog("t", -1)).to.throw(/illegal partition/);
  });

  it("routes only its own timers", () => {
    const rig = makeBroker();
    expect(rig.manager().onTimer("fetch", undefined)).to.equal(false);
  });

  it("broker log.* keys set topic defaults; topic overrides win", () => {
    const rig = makeBroker({
      config: { "log.segment.bytes": 5000, "log.retention.ms": 1234 },
      topicConfig: (topic) => (topic === "special" ? { "retention.ms": 99 } : {}),
    });
    const plain = rig.manager().getOrCreateLog("plain", 0) as Log;
    const special = rig.manager().getOrCreateLog("special", 0) as Log;
    expect([plain.config["segment.bytes"], plain.config["retention.ms"], plain.config["index.interval.bytes"]]).to.deep.equal([5000, 1234, 4096]);
    expect([special.config["segment.bytes"], special.config["retention.ms"]]).to.deep.equal([5000, 99]);
    expect(() => resolveLogManagerConfig({ "log.dirs": "a,b" })).to.throw(/exactly one log dir/);
  });

  it("checkpoints recovery points every log.flush.offset.checkpoint.interval.ms after the initial delay", () => {
    const rig = makeBroker({ config: { "log.flush.offset.checkpoint.interval.ms": 10_000 }, topicConfig: () => SMALL_SEGMENTS });
    append(rig.manager().getOrCreateLog("t", 0) as Log, 12);
    runFor(rig.world, 29_000);
    expect(lines(rig, RECOVERY_POINT_CHECKPOINT)).to.equal("ENOENT");
    runFor(rig.world, 2000);
    const log = rig.manager().getLog("t", 0)!;
    expect(lines(rig, RECOVERY_POINT_CHECKPOINT)).to.deep.equal(["0", "1", `t 0 ${log.activeSegment.baseOffset}`]);
    log.flush();
    runFor(rig.world, 10_000);
    expect(lines(rig, RECOVERY_POINT_CHECKPOINT)).to.deep.equal(["0", "1", "t 0 12"]);
  });

  it("checkpoints log start offsets only for logs whose start passed their first segment's base", () => {
    const rig = makeBroker({ topicConfig: () => SMALL_SEGMENTS });
    const moved = rig.manager().getOrCreateLog("a", 0) as Log;
    append(moved, 3);
    append(rig.manager().getOrCreateLog("b", 0) as Log, 3);
    moved.updateHighWatermark(3);
    moved.maybeIncrementLogStartOffset(2);
    runFor(rig.world, 31_000);
    expect(lines(rig, LOG_START_OFFSET_CHECKPOINT)).to.deep.equal(["0", "1", "a 0 2"]);
  });

  it("runs retention every log.retention.check.interval.ms", () => {
    const rig = makeBroker({
      config: { "log.retention.check.interval.ms": 60_000 },
      topicConfig: () => ({ ...SMALL_SEGMENTS, "retention.ms": 100_000 }),
      trace: true,
    });
    const log = rig.manager().getOrCreateLog("t", 0) as Log;
    append(log, 12, 0);
    log.updateHighWatermark(log.logEndOffset);
    runFor(rig.world, 90_000);
    expect(log.logStartOffset).to.equal(0);
    runFor(rig.world, 60_000);
    expect(log.logStartOffset).to.equal(log.segments[0].baseOffset);
    expect(log.logStartOffset).to.be.greaterThan(0);
    const deletions = rig.events.filter((e) => e.kind === "log-retention-delete");
    expect(deletions).to.have.length(1);
    expect(deletions[0]).to.deep.include({ topicPartition: "t-0", reason: "retention.ms" });
  });

  it("scheduleHighWatermarkCheckpoints writes at once and then every interval, once however often called", () => {
    const rig = makeBroker({ config: { "replica.high.watermark.checkpoint.interval.ms": 1000 } });
    const log = rig.manager().getOrCreateLog("t", 0) as Log;
    append(log, 5);
    log.updateHighWatermark(2);
    rig.manager().scheduleHighWatermarkCheckpoints();
    rig.manager().scheduleHighWatermarkCheckpoints();
    runFor(rig.world, 10);
    expect(rig.manager().readHighWatermarks()).to.deep.equal(new Map([["t-0", 2]]));
    log.updateHighWatermark(4);
    runFor(rig.world, 500);
    expect(rig.manager().readHighWatermarks().get("t-0")).to.equal(2);
    runFor(rig.world, 600);
    expect(rig.manager().readHighWatermarks().get("t-0")).to.equal(4);
    expect(lines(rig, REPLICATION_OFFSET_CHECKPOINT)).to.deep.equal(["0", "1", "t 0 4"]);
  });

  it("a log's high watermark comes back from replication-offset-checkpoint, clamped to its log", () => {
    const rig = makeBroker();
    const log = rig.manager().getOrCreateLog("t", 0) as Log;
    append(log, 5);
    log.updateHighWatermark(5);
    rig.manager().checkpointHighWatermarks();
    runFor(rig.world, 10);
    rig.host.powerLoss();
    rig.host.start();
    const after = rig.manager().getLog("t", 0)!;
    expect(after.logEndOffset).to.be.below(5);
    expect(after.highWatermark).to.equal(after.logEndOffset);
  });

  it("truncation through the manager checkpoints the recovery points at once, as LogManager.truncateTo does", () => {
    const rig = makeBroker({ topicConfig: () => ({ "flush.messages": 1 }) });
    const log = rig.manager().getOrCreateLog("t", 0) as Log;
    append(log, 6);
    runFor(rig.world, 20);
    rig.manager().checkpointRecoveryPoints();
    runFor(rig.world, 20);
    expect(lines(rig, RECOVERY_POINT_CHECKPOINT)).to.deep.equal(["0", "1", "t 0 6"]);
    rig.manager().truncateTo(log, 2);
    runFor(rig.world, 20);
    expect(lines(rig, RECOVERY_POINT_CHECKPOINT)).to.deep.equal(["0", "1", "t 0 2"]);
  });

  it("a log dir failure takes every log offline and tells the owner once", () => {
    const failures: string[] = [];
    const rig = makeBroker({ trace: true, onLogDirFailure: (what, error) => failures.push(`${what}:${error}`) });
    const a = rig.manager().getOrCreateLog("a", 0) as Log;
    const b = rig.manager().getOrCreateLog("b", 0) as Log;
    rig.disk.setFaults({ fsyncError: true });
    append(a, 1);
    a.flush();
    runFor(rig.world, 20);
    expect(failures).to.deep.equal(["flush:EIO"]);
    expect(b.appendAsLeader(batchOf(1), 0)).to.deep.equal({ error: "KAFKA_STORAGE_ERROR" });
    expect(rig.manager().getOrCreateLog("c", 0)).to.equal("KAFKA_STORAGE_ERROR");
    expect(rig.events.filter((e) => e.kind === "log-dir-failure")).to.have.length(1);
  });

  it("traces rolls, truncations and recoveries only when traced", () => {
    const traced = makeBroker({ trace: true, topicConfig: () => SMALL_SEGMENTS });
    const log = traced.manager().getOrCreateLog("t", 0) as Log;
    append(log, 12);
    log.truncateTo(3);
    traced.host.crash();
    traced.host.start();
    const kinds = traced.events.map((e) => e.kind).filter((k) => k.startsWith("log-"));
    expect(kinds).to.include.members(["log-roll", "log-truncate", "log-recovery"]);
    const recovery = traced.events.find((e) => e.kind === "log-recovery")!;
    expect(recovery).to.deep.include({ topicPartition: "t-0", clean: false, logEndOffset: 3 });
  });
});
