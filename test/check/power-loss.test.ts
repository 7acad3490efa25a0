import { expect } from "chai";
import { HistoryCheckers } from "../../src/check/history.ts";
import { ReplicaMirror } from "../../src/check/replica-mirror.ts";
import { ReplicationCheckers } from "../../src/check/replication.ts";
import type { Violation } from "../../src/check/violation.ts";
import { Script } from "./events.ts";

const TP = "t-0";
const B1 = "broker-1";
const B2 = "broker-2";
const B3 = "broker-3";

/** Every violation the checkers report: online, at finish, and the history checkers'. */
function check(script: Script): Violation[] {
  const replication = new ReplicationCheckers();
  const history = new HistoryCheckers();
  const found: Violation[] = [];
  for (const event of script.events) {
    found.push(...replication.observe(event));
    history.observe(event);
  }
  found.push(...replication.finish(script.now));
  found.push(...history.check((tp) => replication.committedLog(tp), script.now, replication.topicPartitions()));
  return found;
}

function value(n: number): string {
  return `p1-${String(n).padStart(6, "0")}`;
}

/**
 * broker-1 leads epoch 1 with ISR [1, 2, 3]; p1-000000 and p1-000001 committed on all three. Then broker-1 appends
 * p1-000002 at offset 2 and broker-2 fetches it; broker-3 does not. broker-1 crashes, broker-3 leads epoch 2 and
 * broker-2, its follower, truncates p1-000002 (uncommitted). broker-2 then loses power, and restarts. With
 * `acks1`, broker-1 acknowledged p1-000002 at offset 2 at once (acks=1).
 */
function truncatedThenPowerLoss(acks1 = false): Script {
  const script = new Script()
    .leader(B1, TP, 1, [1, 2, 3], 0, 0)
    .follower(B2, TP, 1, 1, 0, 0)
    .follower(B3, TP, 1, 1, 0, 0);
  for (const n of [0, 1]) script.op("p1", "invoke", n, value(n), 0);
  script.append(B1, TP, 0, 1, [value(0), value(1)], true).append(B2, TP, 0, 1, [value(0), value(1)]).append(B3, TP, 0, 1, [value(0), value(1)]);
  script.hwm(B1, TP, 2, 1);
  for (const n of [0, 1]) script.op("p1", "ok", n, value(n), 0, n);
  script.op("p1", "invoke", 2, value(2), 0).append(B1, TP, 2, 1, [value(2)], true);
  if (acks1) script.op("p1", "ok", 2, value(2), 0, 2);
  script.append(B2, TP, 2, 1, [value(2)]);
  script.host(B1, "host-crash").leader(B3, TP, 2, [3, 2], 2, 2).follower(B2, TP, 2, 3, 3, 2).truncate(B2, TP, 2);
  return script.host(B2, "host-power-loss").host(B2, "host-start");
}

describe("replication checkers: the log a broker loads after a power loss", () => {
  it("a truncated record the power loss brought back, acknowledged at its offset, is not a lost-write", () => {
    // The truncation had not reached the journal: the disk gives p1-000002 back at offset 2.
    const script = truncatedThenPowerLoss()
      .recovery(B2, TP, 3)
      .loaded(B2, TP, 2, [
        [1, [value(0), value(1)]],
        [1, [value(2)]],
      ])
      .host(B3, "host-crash")
      .leader(B2, TP, 3, [2], 3, 2);
    // The producer's retry of p1-000002 is a duplicate of the batch at offset 2 (idempotence): acknowledged there.
    script.op("p1", "ok", 2, value(2), 0, 2).hwm(B2, TP, 3, 3, "leader", 2);
    expect(check(script)).to.deep.equal([]);
  });

  it("a truncated record the power loss did not bring back is still a lost-write", () => {
    // acks=1: broker-1 acknowledged p1-000002 before broker-3 fetched it; broker-2's truncation was durable.
    const script = truncatedThenPowerLoss(true)
      .recovery(B2, TP, 2)
      .loaded(B2, TP, 2, [[1, [value(0), value(1)]]])
      .host(B3, "host-crash")
      .leader(B2, TP, 3, [2], 2, 2)
      .op("p1", "invoke", 3, value(3), 0)
      .append(B2, TP, 2, 3, [value(3)], true)
      .hwm(B2, TP, 3, 3, "leader", 2)
      .op("p1", "ok", 3, value(3), 0, 2);
    // (broker-1, down, still holds p1-000002 at offset 2: a final divergent-log too.)
    const found = check(script).filter((v) => v.name === "lost-write");
    expect(found).to.have.length(1);
    expect(found[0].evidence).to.deep.include({ value: value(2), ackedOffset: 2, committedSource: "leader", highWatermark: 3 });
    expect(found[0].evidence.recordNow).to.deep.equal([{ offset: 2, value: value(3), partitionLeaderEpoch: 3 }]);
  });

  it("a record the power loss brought back in place of a verified one is checked again (divergent-log)", () => {
    // broker-2 held x2 (epoch 0) at offset 2, truncated it and fetched a2 from broker-1; both verified below HW 3.
    const script = new Script()
      .leader(B1, TP, 1, [1, 2], 0, 0)
      .follower(B2, TP, 1, 1, 0, 0)
      .append(B1, TP, 0, 1, ["a0", "a1", "a2"], true)
      .append(B2, TP, 0, 1, ["a0", "a1", "a2"])
      .hwm(B1, TP, 3, 1);
    expect(check(script)).to.deep.equal([]);
    // The power loss undid the truncation and the append: x2 is back on broker-2's disk, still in broker-1's ISR.
    script
      .host(B2, "host-power-loss")
      .host(B2, "host-start")
      .recovery(B2, TP, 3)
      .loaded(B2, TP, 3, [
        [1, ["a0", "a1"]],
        [0, ["x2"]],
      ])
      .append(B1, TP, 3, 1, ["a3"], true)
      .hwm(B1, TP, 3, 1);
    const found = check(script);
    expect(found.map((v) => v.name)).to.deep.equal(["divergent-log"]);
    expect(found[0].evidence).to.include({ phase: "online", offset: 2, reference: B1, other: B2 });
  });

  it("a clean start's log-loaded (no batches) leaves the mirror as it was", () => {
    const script = new Script()
      .leader(B1, TP, 1, [1], 0, 0)
      .append(B1, TP, 0, 1, ["a0", "a1"], true)
      .hwm(B1, TP, 2, 1)
      .host(B1, "host-shutdown")
      .host(B1, "host-start")
      .at(1000, B1, "log-loaded", { topicPartition: TP, logStartOffset: 0, logEndOffset: 2, highWatermark: 2 });
    const replication = new ReplicationCheckers();
    for (const event of script.events) replication.observe(event);
    const mirror = replication.view(TP)!.replica(B1);
    expect([mirror.at(0)?.value, mirror.at(1)?.value, mirror.logEndOffset]).to.deep.equal(["a0", "a1", 2]);
  });
});

describe("ReplicaMirror.reload", () => {
  function mirror(): ReplicaMirror {
    const m = new ReplicaMirror(B1, TP);
    m.append([0, 1, 2], ["a0", "a1", "a2"], 1, 100);
    return m;
  }

  it("keeps the records it already held (their appendedAt) and says nothing changed", () => {
    const m = mirror();
    const before = m.at(1);
    expect(m.reload(0, 3, [[1, [0, 1, 2], ["a0", "a1", "a2"], 2]], 999)).to.equal(-1);
    expect(m.at(1)).to.deep.equal(before);
    expect(m.at(2)?.appendedAt).to.equal(100);
  });

  it("returns the lowest changed offset: a record brought back, one that differs, one gone", () => {
    const m = mirror();
    m.truncateTo(1);
    expect(m.reload(0, 3, [[1, [0, 1, 2], ["a0", "a1", "a2"], 2]], 999)).to.equal(1);
    expect([m.at(1)?.id, m.at(1)?.appendedAt, m.logEndOffset]).to.deep.equal(["1|a1", 999, 3]);
    expect(mirror().reload(0, 3, [[1, [0, 1], ["a0", "a1"], 1], [0, [2], ["x2"], 2]], 999)).to.equal(2);
    const shorter = mirror();
    expect(shorter.reload(0, 2, [[1, [0, 1], ["a0", "a1"], 1]], 999)).to.equal(2);
    expect(shorter.logEndOffset).to.equal(2);
  });

  it("takes the loaded log start, and keeps its record in an offset gap below the loaded log end (compaction)", () => {
    const m = mirror();
    m.append([3], ["a3"], 1, 200);
    expect(m.reload(1, 4, [[1, [1, 3], ["a1", "a3"], 3]], 999)).to.equal(-1);
    expect([m.logStartOffset, m.at(0), m.at(2)?.value, m.logEndOffset]).to.deep.equal([1, undefined, "a2", 4]);
  });

  it("stores records in columns: unknown offsets in a gap, stale slots after a truncation, and a compaction after retention", () => {
    const m = new ReplicaMirror(B1, TP);
    m.append([0, 1, 2], ["a0", "a1", "a2"], 1, 100);
    m.append([5], ["a5"], 2, 200);
    expect([m.at(3), m.at(4), m.at(5)?.id, m.logEndOffset]).to.deep.equal([undefined, undefined, "2|a5", 6]);
    for (let k = 6; k < 40; k++) m.append([k], [`a${k}`], 2, 300 + k);
    m.advanceLogStart(35); // more than half the storage below the log start: the slots move down
    expect([m.logStartOffset, m.at(34), m.logEndOffset]).to.deep.equal([35, undefined, 40]);
    expect(m.at(36)).to.deep.equal({ offset: 36, id: "2|a36", value: "a36", partitionLeaderEpoch: 2, appendedAt: 336 });
    m.truncateTo(37);
    m.append([39], ["z39"], 3, 999); // 37 and 38 were truncated: unknown, not their old records
    expect([m.at(37), m.at(38), m.at(39)?.id, m.logEndOffset]).to.deep.equal([undefined, undefined, "3|z39", 40]);
  });
});
