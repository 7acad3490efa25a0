import { expect } from "chai";
import { ReplicationCheckers } from "../../src/check/replication.ts";
import type { Violation } from "../../src/check/violation.ts";
import { Script } from "./events.ts";

const TP = "t-0";
const B1 = "broker-1";
const B2 = "broker-2";
const B3 = "broker-3";

function run(script: Script, finish = true): { checkers: ReplicationCheckers; online: Violation[]; final: Violation[] } {
  const checkers = new ReplicationCheckers();
  const online: Violation[] = [];
  for (const event of script.events) online.push(...checkers.observe(event));
  const final = finish ? checkers.finish(script.now) : [];
  return { checkers, online, final };
}

function names(violations: Violation[]): string[] {
  return violations.map((v) => v.name);
}

/** broker-1 leads epoch 1 with ISR [1, 2]; both hold a0, a1; HW 2. */
function replicated(): Script {
  return new Script()
    .leader(B1, TP, 1, [1, 2], 0, 0)
    .follower(B2, TP, 1, 1, 0, 0)
    .append(B1, TP, 0, 1, ["a0", "a1"], true)
    .append(B2, TP, 0, 1, ["a0", "a1"])
    .hwm(B1, TP, 2, 1);
}

describe("replication checkers: divergent-log", () => {
  it("flags an ISR member holding another record below the leader's HW, once, with evidence", () => {
    const script = new Script()
      .leader(B1, TP, 1, [1, 2], 0, 0)
      .follower(B2, TP, 1, 1, 0, 0)
      .append(B1, TP, 0, 1, ["a0", "a1", "a2"], true)
      .append(B2, TP, 0, 1, ["a0"])
      .append(B2, TP, 1, 0, ["x1", "x2"])
      .hwm(B1, TP, 1, 1);
    // Below the HW both agree: nothing yet.
    expect(run(script, false).online).to.deep.equal([]);
    script.hwm(B1, TP, 3, 1).hwm(B1, TP, 3, 1);
    const { online, final } = run(script);
    expect(names(online)).to.deep.equal(["divergent-log"]);
    expect(online[0].nodes).to.deep.equal([B1, B2]);
    expect(online[0].evidence).to.include({ phase: "online", offset: 1, leader: B1, leaderEpoch: 1, highWatermark: 3 });
    expect((online[0].evidence.referenceRecord as { id: string }).id).to.equal("1|a1");
    expect((online[0].evidence.otherRecord as { id: string }).id).to.equal("0|x1");
    expect(final).to.deep.equal([]); // reported once per partition
  });

  it("does not flag missing records (a follower behind the leader)", () => {
    const script = replicated().append(B1, TP, 2, 1, ["a2", "a3"], true).hwm(B1, TP, 4, 1);
    expect(run(script).online).to.deep.equal([]);
  });

  it("does not flag a rejoining follower's stale suffix above its truncation point while it is out of the ISR", () => {
    const script = replicated()
      .append(B1, TP, 2, 1, ["a2"], true) // unreplicated
      .host(B1, "host-crash")
      .leader(B2, TP, 2, [2], 2, 2)
      .append(B2, TP, 2, 2, ["b2", "b3"], true)
      .hwm(B2, TP, 4, 2)
      .host(B1, "host-start")
      .at(1000, B1, "log-recovery", { topicPartition: TP, logEndOffset: 3, logStartOffset: 0 })
      .follower(B1, TP, 2, 2, 3, 2);
    // broker-1 holds a2 at offset 2 where the leader has b2, below HW 4, but it is not in the ISR.
    expect(run(script, false).online).to.deep.equal([]);
    script.truncate(B1, TP, 2).append(B1, TP, 2, 2, ["b2", "b3"]).isr(B2, TP, "isr-expand", 2, [2, 1]).hwm(B2, TP, 4, 2);
    const { online, final } = run(script);
    expect(online).to.deep.equal([]);
    expect(final).to.deep.equal([]);
  });

  it("does not flag an ISR member's stale suffix at or above a new leader's HW until it truncates", () => {
    const script = new Script()
      .leader(B1, TP, 1, [1, 2, 3], 0, 0)
      .append(B1, TP, 0, 1, ["a0", "a1", "a2"], true)
      .append(B2, TP, 0, 1, ["a0", "a1"])
      .append(B3, TP, 0, 1, ["a0", "a1", "a2"])
      .hwm(B1, TP, 2, 1)
      .host(B1, "host-crash")
      .leader(B2, TP, 2, [2, 3], 2, 2)
      .follower(B3, TP, 2, 2, 3, 2)
      .append(B2, TP, 2, 2, ["b2"], true)
      .truncate(B3, TP, 2)
      .append(B3, TP, 2, 2, ["b2"])
      .hwm(B2, TP, 3, 2);
    const { online, final } = run(script);
    expect(online).to.deep.equal([]);
    // broker-1 (down) still holds a2 at offset 2, below HW 3: the end-of-run check compares every replica.
    expect(names(final)).to.deep.equal(["divergent-log"]);
    expect(final[0].evidence).to.include({ phase: "final", offset: 2, reference: B2, other: B1 });
  });

  it("re-verifies after a truncation: a member that truncates and re-appends differently is caught", () => {
    const script = replicated().truncate(B2, TP, 1).append(B2, TP, 1, 0, ["zz"]);
    const { online } = run(script, false);
    expect(names(online)).to.deep.equal(["divergent-log"]);
    expect(online[0].evidence).to.include({ offset: 1 });
  });

  it("compares only from the log start: a fully truncated follower holds nothing below it", () => {
    const script = replicated().truncate(B2, TP, 2, true).append(B1, TP, 2, 1, ["a2"], true).append(B2, TP, 2, 1, ["a2"]).hwm(B1, TP, 3, 1);
    const { checkers, online, final } = run(script);
    expect(online).to.deep.equal([]);
    expect(final).to.deep.equal([]);
    expect(checkers.view(TP)!.replica(B2).logStartOffset).to.equal(2);
  });
  it("checks the first append after the acting leader changed without a check (a host went down), though it is above the HW", () => {
    // broker-1 (epoch 3) is acting; broker-2 still holds a leader role at epoch 2 with ISR [2, 3], where broker-3
    // disagrees at offset 1. broker-1's crash makes broker-2 acting with no check; its next append (at its HW) must check.
    const script = new Script()
      .leader(B1, TP, 3, [1], 0, 0)
      .leader(B2, TP, 2, [2, 3], 2, 2)
      .append(B2, TP, 0, 2, ["a0", "b1"])
      .append(B3, TP, 0, 2, ["a0", "x1"])
      .host(B1, "host-crash")
      .append(B2, TP, 2, 2, ["b2"], true);
    const { online } = run(script, false);
    expect(names(online)).to.deep.equal(["divergent-log"]);
    expect(online[0].time).to.equal(script.now);
    expect(online[0].evidence).to.include({ phase: "online", offset: 1, reference: B2, other: B3, highWatermark: 2 });
  });

});

describe("replication checkers: hwm-regression", () => {
  it("(a) flags a leader lowering its HW within one leadership", () => {
    const script = replicated().hwm(B1, TP, 1, 1);
    const { online } = run(script, false);
    expect(names(online)).to.deep.equal(["hwm-regression"]);
    expect(online[0].evidence).to.include({ shape: "leader-hwm-decreased", leader: B1, leaderEpoch: 1, highWatermark: 1, previousMaxHighWatermark: 2 });
  });

  it("does not flag a new leader whose HW lags the old leader's while its log end covers it", () => {
    const script = replicated()
      .host(B1, "host-crash")
      .leader(B2, TP, 2, [2], 2, 1) // follower HW one round trip behind
      .hwm(B2, TP, 2, 2);
    expect(run(script).online).to.deep.equal([]);
  });

  it("(b) flags KIP-101 case 1: a follower truncated to a stale HW is then elected", () => {
    const script = replicated()
      .hwm(B2, TP, 1, 1, "follower")
      .host(B2, "host-crash")
      .host(B2, "host-start")
      .at(1000, B2, "log-recovery", { topicPartition: TP, logEndOffset: 2, logStartOffset: 0 })
      .truncate(B2, TP, 1) // "high-watermark" truncation to its own, stale HW
      .follower(B2, TP, 1, 1, 1, 1)
      .host(B1, "host-crash")
      .at(1000, "broker-3", "leader-elected", { topicPartition: TP, leader: 2, leaderEpoch: 2, isr: [2], unclean: false, reason: "offline" })
      .leader(B2, TP, 2, [2], 1, 1);
    const { online } = run(script, false);
    expect(names(online)).to.deep.equal(["hwm-regression"]);
    expect(online[0].nodes).to.deep.equal([B2, B1]);
    expect(online[0].evidence).to.deep.include({ shape: "committed-data-lost", newLeader: B2, leaderEpoch: 2, logEndOffset: 1, unclean: false });
    expect(online[0].evidence.committed).to.include({ offset: 2, node: B1, leaderEpoch: 1 });
    expect(online[0].evidence.lostRecords).to.deep.equal([{ offset: 1, record: { offset: 1, id: "1|a1", value: "a1", partitionLeaderEpoch: 1, appendedAt: 3000 } }]);
  });

  it("(b) flags an unclean election that loses committed records", () => {
    const script = replicated()
      .host(B1, "host-crash")
      .host(B2, "host-crash")
      .at(1000, B3, "leader-elected", { topicPartition: TP, leader: 3, leaderEpoch: 2, isr: [3], unclean: true, reason: "offline" })
      .leader(B3, TP, 2, [3], 0, 0);
    const { online } = run(script, false);
    expect(names(online)).to.deep.equal(["hwm-regression"]);
    expect(online[0].evidence).to.include({ unclean: true, logEndOffset: 0 });
  });

  it("counts only the acting leader's HW as committed (a deposed leader's HW is not)", () => {
    const script = new Script()
      .leader(B1, TP, 1, [1], 0, 0)
      .append(B1, TP, 0, 1, ["a0"], true)
      .hwm(B1, TP, 1, 1)
      .leader(B2, TP, 2, [2], 1, 1)
      .append(B1, TP, 1, 1, ["zombie"], true)
      .hwm(B1, TP, 2, 1) // a zombie's HW
      .leader(B3, TP, 3, [3], 1, 1);
    const { checkers, online } = run(script, false);
    expect(online).to.deep.equal([]);
    expect(checkers.view(TP)!.committed).to.include({ offset: 1, node: B1 });
  });
});

describe("replication checkers: two-leaders", () => {
  it("flags two brokers appending as leader at one leader epoch", () => {
    const script = new Script().append(B1, TP, 0, 3, ["a0"], true).append(B2, TP, 0, 3, ["b0"], true).append(B2, TP, 1, 3, ["b1"], true);
    const { online } = run(script, false);
    expect(names(online)).to.deep.equal(["two-leaders"]);
    expect(online[0].nodes).to.deep.equal([B1, B2]);
    expect(online[0].evidence).to.deep.include({ leaderEpoch: 3, first: { node: B1, time: 1000, offset: 0, value: "a0" } });
  });

  it("does not flag successive leaders at different epochs, nor follower appends", () => {
    const script = new Script().append(B1, TP, 0, 3, ["a0"], true).append(B2, TP, 0, 3, ["a0"]).append(B2, TP, 1, 4, ["b1"], true);
    expect(run(script, false).online).to.deep.equal([]);
  });

  it("starts afresh after every replica of a partition was deleted (topic re-created)", () => {
    const script = new Script()
      .append(B1, TP, 0, 0, ["a0"], true)
      .at(1000, B1, "log-delete", { topicPartition: TP })
      .append(B2, TP, 0, 0, ["b0"], true);
    expect(run(script, false).online).to.deep.equal([]);
  });
});

describe("replication checkers: two-controllers", () => {
  const elected = (s: Script, node: string, controllerEpoch: number, zxid: number) =>
    s.at(1000, node, "controller-elected", { controllerEpoch, epochZkVersion: controllerEpoch, zxid });
  const write = (s: Script, node: string, controllerEpoch: number, code: string, zxid: number | null) =>
    s.at(1000, node, "controller-write", { controllerEpoch, path: "/brokers/topics/t/partitions/0/state", code, zxid, fenced: false });

  it("flags a deposed controller's write accepted after a newer election", () => {
    const script = new Script();
    elected(script, B1, 1, 100);
    elected(script, B2, 2, 200);
    write(script, B1, 1, "OK", 250);
    const { online } = run(script, false);
    expect(names(online)).to.deep.equal(["two-controllers"]);
    expect(online[0].nodes).to.deep.equal([B1, B2]);
    expect(online[0].evidence).to.deep.include({ shape: "deposed-controller-write" });
  });

  it("flags it whichever order the two events reach the trace in", () => {
    const script = new Script();
    elected(script, B1, 1, 100);
    write(script, B1, 1, "OK", 250);
    elected(script, B2, 2, 200);
    expect(names(run(script, false).online)).to.deep.equal(["two-controllers"]);
  });

  it("does not flag writes before the newer election, fenced writes, or the new controller's own writes", () => {
    const script = new Script();
    elected(script, B1, 1, 100);
    write(script, B1, 1, "OK", 150);
    elected(script, B2, 2, 200);
    write(script, B1, 1, "BADVERSION", null);
    write(script, B2, 2, "OK", 300);
    expect(run(script, false).online).to.deep.equal([]);
  });

  it("flags two elections at one controller epoch by different brokers", () => {
    const script = new Script();
    elected(script, B1, 4, 100);
    elected(script, B2, 4, 120);
    const { online } = run(script, false);
    expect(names(online)).to.deep.equal(["two-controllers"]);
    expect(online[0].evidence).to.include({ shape: "same-epoch-elections", controllerEpoch: 4 });
  });
});

describe("replication checkers: host lifecycle", () => {
  it("forgets a broker's role when its host goes down: a restarted broker's HW is not its old leadership's", () => {
    const script = replicated().host(B1, "host-crash").host(B1, "host-start").hwm(B1, TP, 0, 1, "leader");
    expect(run(script, false).online).to.deep.equal([]);
  });

  it("keeps a downed broker's log: log-recovery cuts it where the disk ends", () => {
    const script = replicated().host(B2, "host-power-loss").host(B2, "host-start").at(1000, B2, "log-recovery", { topicPartition: TP, logEndOffset: 1, logStartOffset: 0 });
    const { checkers } = run(script, false);
    expect(checkers.view(TP)!.replica(B2).logEndOffset).to.equal(1);
    expect(checkers.view(TP)!.replica(B1).logEndOffset).to.equal(2);
  });
});

describe("replication checkers: acting leader", () => {
  it("is the live broker whose latest become-leader has the highest leader epoch (followers never are)", () => {
    const script = new Script().leader(B1, TP, 1, [1, 2], 0, 0).follower(B2, TP, 5, 3, 0, 0).leader(B3, TP, 2, [3], 0, 0);
    const { checkers } = run(script, false);
    expect(checkers.view(TP)!.actingLeader()!.node).to.equal(B3);
    const after = run(script.host(B3, "host-crash"), false);
    expect(after.checkers.view(TP)!.actingLeader()!.node).to.equal(B1);
  });

  it("updates a follower's HW from follower hwm events without counting it as committed", () => {
    const script = replicated().hwm(B2, TP, 2, 1, "follower").hwm(B2, TP, 1, 1, "follower");
    const { checkers, online } = run(script, false);
    expect(online).to.deep.equal([]);
    expect(checkers.view(TP)!.roles.get(B2)!.highWatermark).to.equal(1);
    expect(checkers.view(TP)!.committed).to.include({ offset: 2, node: B1 });
  });
});
