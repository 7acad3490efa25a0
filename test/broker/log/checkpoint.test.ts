import { expect } from "chai";
import {
  CLEAN_SHUTDOWN_FILE,
  CheckpointFile,
  OFFSET_FORMATTER,
  RECOVERY_POINT_CHECKPOINT,
  REPLICATION_OFFSET_CHECKPOINT,
  type TopicPartitionOffset,
} from "../../../src/broker/log/checkpoint.ts";
import type { Log } from "../../../src/broker/log/log.ts";
import { batchOf, makeBroker, runFor } from "./helpers.ts";

function offsetsFile(rig: ReturnType<typeof makeBroker>, errors: string[] = []) {
  return new CheckpointFile<TopicPartitionOffset>(rig.disk, rig.context(), "d/offsets", OFFSET_FORMATTER, (what, error) =>
    errors.push(`${what}:${error}`),
  );
}

const A = [{ topic: "a", partition: 0, offset: 5 }];
const B = [
  { topic: "a", partition: 0, offset: 9 },
  { topic: "b-x", partition: 3, offset: 1 },
];

describe("Checkpoint files", () => {
  it("are Kafka's text format: version, count, one 'topic partition offset' line per entry", () => {
    const rig = makeBroker();
    const file = offsetsFile(rig);
    file.write(B);
    runFor(rig.world, 20);
    const read = rig.disk.read("d/offsets");
    if (read.error !== null) throw new Error(read.error);
    expect(read.chunks[0].data).to.deep.equal(["0", "2", "a 0 9", "b-x 3 1"]);
    expect(file.read()).to.deep.equal({ error: null, entries: B });
  });

  it("a power loss leaves the old content or the new, never half: new only once renamed after the fsync", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rig = makeBroker({ seed });
      const file = offsetsFile(rig);
      file.write(A);
      runFor(rig.world, 20);
      file.write(B);
      // Power goes out before the tmp file's fsync completes: the rename never happened.
      rig.host.powerLoss();
      expect(offsetsFile(rig).read()).to.deep.equal({ error: null, entries: A });
      rig.host.start();
      const again = offsetsFile(rig);
      again.write(B);
      runFor(rig.world, 20);
      rig.host.powerLoss();
      expect(offsetsFile(rig).read()).to.deep.equal({ error: null, entries: B });
    }
  });

  it("serializes writes: a write during another supersedes the pending one, and waiters run once durable", () => {
    const rig = makeBroker();
    const file = offsetsFile(rig);
    const done: string[] = [];
    file.write(A, () => done.push("first"));
    file.write([{ topic: "z", partition: 1, offset: 1 }], () => done.push("second"));
    file.write(B, () => done.push("third"));
    runFor(rig.world, 1);
    expect(done).to.deep.equal([]);
    runFor(rig.world, 50);
    expect(done).to.deep.equal(["first", "second", "third"]);
    expect(file.read()).to.deep.equal({ error: null, entries: B });
  });

  it("a bit-flipped or garbled file reads as malformed; a missing one as missing", () => {
    const rig = makeBroker();
    const file = offsetsFile(rig);
    expect(file.read()).to.deep.equal({ error: "missing" });
    rig.disk.writeFile("d/offsets", ["0", "2", "a 0 1"], 10);
    expect(file.read()).to.deep.equal({ error: "malformed" });
    rig.disk.writeFile("d/offsets", ["1", "0"], 4);
    expect(file.read()).to.deep.equal({ error: "malformed" });
    rig.disk.writeFile("d/offsets", ["0", "1", "a 0 1"], 10);
    rig.disk.corrupt(rig.world.rng.fork("flip"), "d/offsets");
    expect(file.read()).to.deep.equal({ error: "malformed" });
  });

  it("an fsync error is reported as a storage error and nothing is renamed", () => {
    const rig = makeBroker();
    const errors: string[] = [];
    const file = offsetsFile(rig, errors);
    rig.disk.setFaults({ fsyncError: true });
    file.write(A);
    runFor(rig.world, 20);
    expect(errors).to.deep.equal(["checkpoint d/offsets fsync:EIO"]);
    expect(file.read()).to.deep.equal({ error: "missing" });
  });

  it("the log manager writes recovery points and high watermarks per log dir, and the marker on clean shutdown", () => {
    const rig = makeBroker({ brokerEpoch: 42 });
    const log = rig.manager().getOrCreateLog("t", 1) as Log;
    log.appendAsLeader(batchOf(3), 0);
    log.updateHighWatermark(2);
    rig.manager().checkpointHighWatermarks();
    rig.manager().checkpointRecoveryPoints();
    runFor(rig.world, 20);
    const lines = (name: string) => {
      const read = rig.disk.read(`kafka-logs/${name}`);
      if (read.error !== null) throw new Error(read.error);
      return read.chunks[0].data;
    };
    expect(lines(REPLICATION_OFFSET_CHECKPOINT)).to.deep.equal(["0", "1", "t 1 2"]);
    expect(lines(RECOVERY_POINT_CHECKPOINT)).to.deep.equal(["0", "1", "t 1 0"]);
    expect(rig.disk.exists(`kafka-logs/${CLEAN_SHUTDOWN_FILE}`)).to.equal(false);
    rig.host.shutdown();
    expect(lines(RECOVERY_POINT_CHECKPOINT)).to.deep.equal(["0", "1", "t 1 3"]);
    expect(lines(CLEAN_SHUTDOWN_FILE)).to.deep.equal({ version: 0, brokerEpoch: 42 });
    expect(rig.disk.dirtyBytes()).to.equal(0);
  });

  it("no marker when the disk refuses fsync at shutdown: the next start recovers", () => {
    const rig = makeBroker();
    (rig.manager().getOrCreateLog("t", 0) as Log).appendAsLeader(batchOf(1), 0);
    rig.disk.setFaults({ fsyncError: true });
    rig.host.shutdown();
    expect(rig.disk.exists(`kafka-logs/${CLEAN_SHUTDOWN_FILE}`)).to.equal(false);
    rig.disk.clearFaults();
    rig.host.start();
    expect(rig.manager().hadCleanShutdown).to.equal(false);
  });

  it("an unreadable recovery-point checkpoint resets recovery to the start of every log", () => {
    const rig = makeBroker();
    const log = rig.manager().getOrCreateLog("t", 0) as Log;
    for (let i = 0; i < 5; i++) log.appendAsLeader(batchOf(1), 0);
    log.flush();
    runFor(rig.world, 20);
    rig.manager().checkpointRecoveryPoints();
    runFor(rig.world, 20);
    rig.disk.corrupt(rig.world.rng.fork("flip"), `kafka-logs/${RECOVERY_POINT_CHECKPOINT}`);
    rig.host.crash();
    rig.host.start();
    expect(rig.manager().recoveryReports[0]).to.deep.include({ recoveryPoint: 0, segmentsRecovered: 1 });
  });
});
