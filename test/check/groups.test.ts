import { expect } from "chai";
import type { CommittedLog } from "../../src/check/committed-log.ts";
import { GroupCheckers } from "../../src/check/groups.ts";
import { ReplicationCheckers } from "../../src/check/replication.ts";
import type { BuiltWorld } from "../../src/scenario/build.ts";
import { OnlineCheckers } from "../../src/scenario/checkers.ts";
import type { World } from "../../src/sim/world.ts";
import { Trace } from "../../src/sim/trace.ts";
import type { Violation } from "../../src/check/violation.ts";
import { Script } from "./events.ts";

const G = "g1";
const TP = "t-0";

type Protocol = "EAGER" | "COOPERATIVE";

/** A consumer group script: the group ops and membership events of groups.md's trace contract. */
class GroupScript extends Script {
  assigned(process: string, member: string, generation: number, partitions: string[], protocol: Protocol = "EAGER"): this {
    return this.at(1000, process, "partitions-assigned", { process, group: G, member, generation, partitions, protocol });
  }

  revoked(process: string, member: string, generation: number, partitions: string[], protocol: Protocol = "EAGER"): this {
    return this.at(1000, process, "partitions-revoked", { process, group: G, member, generation, partitions, protocol });
  }

  lost(process: string, member: string, generation: number, partitions?: string[]): this {
    return this.at(1000, process, "partitions-lost", { process, group: G, member, generation, protocol: "EAGER", ...(partitions === undefined ? {} : { partitions }) });
  }

  joined(process: string, member: string, generation: number, protocol: Protocol = "COOPERATIVE"): this {
    return this.at(1000, process, "consumer-group-joined", { process, group: G, member, generation, leader: false, protocol });
  }

  /** One poll op of partition 0 with `offsets`. */
  poll(process: string, generation: number, offsets: number[], dtUs = 1000): this {
    return this.at(dtUs, process, "op", { process, group: G, member: `${process}-m`, generation, type: "ok", f: "poll", topic: "t", partition: 0, offsets, values: offsets.map((o) => `v${o}`) });
  }

  processed(process: string, generation: number, offsets: number[]): this {
    return this.at(1000, process, "op", { process, group: G, member: `${process}-m`, generation, type: "ok", f: "process", topic: "t", partition: 0, offsets, values: offsets.map((o) => `v${o}`) });
  }

  commit(process: string, opId: number, generation: number, type: "invoke" | "ok" | "fail" | "info", offset: number, group = G): this {
    return this.at(1000, process, "op", {
      process,
      group,
      member: `${process}-m`,
      generation,
      type,
      f: "commit",
      opId,
      mode: "sync",
      offsets: [{ topic: "t", partition: 0, offset }],
      ...(type === "fail" || type === "info" ? { error: "REQUEST_TIMED_OUT" } : {}),
    });
  }

  /** A whole commit: invoke then its outcome. */
  committed(process: string, opId: number, generation: number, offset: number, type: "ok" | "fail" | "info" = "ok"): this {
    return this.commit(process, opId, generation, "invoke", offset).commit(process, opId, generation, type, offset);
  }

  fetch(process: string, generation: number, offset: number, type: "ok" | "invoke" = "ok", opId?: number): this {
    return this.at(1000, process, "op", {
      process,
      group: G,
      member: `${process}-m`,
      generation,
      type,
      f: "offset-fetch",
      ...(opId === undefined ? {} : { opId }),
      ...(type === "ok" ? { offsets: [{ topic: "t", partition: 0, offset }] } : {}),
    });
  }
}

/** A committed log of t-0 holding records at `offsets` (default 0…9), as the replication checkers would give it. */
function fakeLog(offsets: number[] = [...Array(10).keys()], logStartOffset = 0, highWatermark = Math.max(-1, ...offsets) + 1): (tp: string) => CommittedLog | null {
  const held = new Set(offsets);
  return (tp) =>
    tp !== TP
      ? null
      : {
          topicPartition: TP,
          source: "leader",
          leader: "broker-1",
          highWatermark,
          logStartOffset,
          // Like a mirror that still holds records below the log start: the checker must not judge them.
          recordsAt: (offset) => (held.has(offset) && offset < highWatermark ? [{ offset, id: `1:v${offset}`, value: `v${offset}`, partitionLeaderEpoch: 1, appendedAt: 0 }] : []),
          values: new Set([...held].map((offset) => `v${offset}`)),
        } as CommittedLog;
}

/** Online violations while feeding the script, then the end-of-run ones. */
function run(script: Script, log: (tp: string) => CommittedLog | null = () => null): { online: Violation[]; final: Violation[]; checkers: GroupCheckers } {
  const checkers = new GroupCheckers();
  const online: Violation[] = [];
  for (const event of script.events) online.push(...checkers.observe(event));
  return { online, final: checkers.check(log, script.now), checkers };
}

function named(violations: Violation[], name: string): Violation[] {
  return violations.filter((v) => v.name === name);
}

describe("group checkers", () => {
  describe("double-assignment", () => {
    it("flags one partition owned by two members of one generation, online, with both members and times", () => {
      const script = new GroupScript().assigned("c1", "c1-a", 1, [TP, "t-1"]).assigned("c2", "c2-a", 1, [TP]);
      const { online, final } = run(script);
      expect(final).to.deep.equal([]);
      expect(online).to.have.length(1);
      expect(online[0]).to.deep.include({ name: "double-assignment", time: 2000, nodes: ["c1", "c2"] });
      expect(online[0].evidence).to.deep.equal({
        group: G,
        topicPartition: TP,
        generation: 1,
        first: { member: "c1-a", process: "c1", generation: 1, protocol: "EAGER", assignedAt: 1000, generationAt: 1000 },
        second: { member: "c2-a", process: "c2", generation: 1, protocol: "EAGER", assignedAt: 2000, generationAt: 2000 },
      });
    });

    it("reports each (partition, generation) once", () => {
      const script = new GroupScript().assigned("c1", "c1-a", 1, [TP]).assigned("c2", "c2-a", 1, [TP]).assigned("c3", "c3-a", 1, [TP]);
      expect(run(script).online).to.have.length(1);
    });

    it("does not flag a zombie: overlap across generations (the expelled member has not learnt it yet)", () => {
      // c1 was expelled at generation 2 without knowing; c2 owns t-0 at 2 while c1 still holds it at 1.
      const script = new GroupScript().assigned("c1", "c1-a", 1, [TP]).assigned("c2", "c2-a", 2, [TP]);
      expect(run(script).online).to.deep.equal([]);
      // It learns at its next heartbeat (UNKNOWN_MEMBER_ID), loses its partitions, rejoins at 3.
      script.lost("c1", "c1-a", 1, [TP]).joined("c1", "c1-b", 3).joined("c2", "c2-a", 3);
      expect(run(script).online).to.deep.equal([]);
    });

    it("does not flag a partition handed over after a revocation, or after partitions-lost without a list", () => {
      const script = new GroupScript().assigned("c1", "c1-a", 1, [TP]).revoked("c1", "c1-a", 1, [TP]).assigned("c2", "c2-a", 1, [TP]);
      expect(run(script).online).to.deep.equal([]);
      const lost = new GroupScript().assigned("c1", "c1-a", 1, [TP, "t-1"]).lost("c1", "c1-a", 1).assigned("c2", "c2-a", 1, [TP, "t-1"]);
      expect(run(lost).online).to.deep.equal([]);
    });

    it("does not flag a crashed member's partitions: a host that goes down owns nothing", () => {
      const crashed = new GroupScript().assigned("c1", "c1-a", 1, [TP]);
      crashed.host("c1", "host-crash");
      crashed.assigned("c2", "c2-a", 1, [TP]);
      expect(run(crashed).online).to.deep.equal([]);
      // The near-miss's twin without the crash is flagged, so the crash is what released t-0.
      expect(run(new GroupScript().assigned("c1", "c1-a", 1, [TP]).assigned("c2", "c2-a", 1, [TP])).online).to.have.length(1);
      const powerLoss = new GroupScript().assigned("c1", "c1-a", 1, [TP]);
      powerLoss.host("c1", "host-power-loss");
      powerLoss.host("c1", "host-start");
      powerLoss.assigned("c2", "c2-a", 1, [TP]);
      expect(run(powerLoss).online).to.deep.equal([]);
    });

    it("does not flag a cooperative keep: the kept partitions move to the member's new generation, the moved one is revoked first", () => {
      // KIP-429: c1 owns t-0 and t-1 at 1; c2 joins. Generation 2: c1 keeps t-0, revokes t-1; c2 gets nothing.
      // Generation 3: c2 gets t-1.
      const script = new GroupScript().assigned("c1", "c1-a", 1, [TP, "t-1"], "COOPERATIVE");
      script.joined("c1", "c1-a", 2).joined("c2", "c2-a", 2);
      script.assigned("c1", "c1-a", 2, [], "COOPERATIVE").revoked("c1", "c1-a", 2, ["t-1"], "COOPERATIVE").assigned("c2", "c2-a", 2, [], "COOPERATIVE");
      script.joined("c1", "c1-a", 3).joined("c2", "c2-a", 3);
      script.assigned("c2", "c2-a", 3, ["t-1"], "COOPERATIVE").assigned("c1", "c1-a", 3, [], "COOPERATIVE");
      expect(run(script).online).to.deep.equal([]);
    });

    it("flags a cooperative member that kept a partition it should have revoked once the new owner gets it at the same generation", () => {
      const script = new GroupScript().assigned("c1", "c1-a", 1, [TP, "t-1"], "COOPERATIVE");
      script.joined("c1", "c1-a", 2).joined("c2", "c2-a", 2);
      script.assigned("c1", "c1-a", 2, [], "COOPERATIVE").assigned("c2", "c2-a", 2, [], "COOPERATIVE");
      // c1 never revokes t-1; its rejoin at 3 carries t-1 to generation 3, where c2 is given it.
      script.joined("c1", "c1-a", 3).joined("c2", "c2-a", 3).assigned("c2", "c2-a", 3, ["t-1"], "COOPERATIVE");
      const { online } = run(script);
      expect(online).to.have.length(1);
      expect(online[0].evidence).to.deep.include({ topicPartition: "t-1", generation: 3 });
      expect(online[0].evidence.first).to.deep.include({ process: "c1", generation: 3, assignedAt: 1000 });
    });

    it("ignores events of other groups: one partition name in two groups is two partitions", () => {
      const script = new GroupScript().assigned("c1", "c1-a", 1, [TP]);
      script.at(1000, "c2", "partitions-assigned", { process: "c2", group: "g2", member: "c2-a", generation: 1, partitions: [TP], protocol: "EAGER" });
      expect(run(script).online).to.deep.equal([]);
    });
  });

  describe("lost-commit", () => {
    it("flags an OffsetFetch older than the latest acknowledged commit, with the commit and the fetch", () => {
      const script = new GroupScript().committed("c1", 1, 1, 5).committed("c1", 2, 1, 10).fetch("c2", 2, 5);
      const found = named(run(script).final, "lost-commit");
      expect(found).to.have.length(1);
      expect(found[0]).to.deep.include({ time: script.now, nodes: ["c2", "c1"] });
      expect(found[0].evidence).to.deep.equal({
        group: G,
        topicPartition: TP,
        acked: { offset: 10, process: "c1", member: "c1-m", generation: 1, mode: "sync", opId: 2, invokedAt: 3000, ackedAt: 4000 },
        fetch: { offset: 5, process: "c2", member: "c2-m", generation: 2, time: 5000, invokedAt: null },
        acceptable: [10],
      });
    });

    it("flags -1 (no committed offset) after an acknowledged commit", () => {
      const script = new GroupScript().committed("c1", 1, 1, 10).fetch("c2", 2, -1);
      expect(named(run(script).final, "lost-commit").map((v) => v.evidence.fetch)).to.deep.equal([{ offset: -1, process: "c2", member: "c2-m", generation: 2, time: 3000, invokedAt: null }]);
    });

    it("does not flag the latest acknowledged offset, a concurrent commit, or a failed or unknown commit that may have been appended", () => {
      const script = new GroupScript().committed("c1", 1, 1, 10).fetch("c2", 2, 10);
      // 12 is invoked before 11 is acknowledged and acknowledged after it: either may be the last appended.
      script.commit("c1", 2, 1, "invoke", 12).committed("c1", 3, 1, 11).fetch("c2", 2, 12).commit("c1", 2, 1, "ok", 12);
      script.committed("c1", 4, 1, 13, "info").fetch("c3", 3, 13);
      script.committed("c1", 5, 1, 14, "fail").fetch("c3", 3, 14);
      expect(run(script).final).to.deep.equal([]);
    });

    it("does not flag a legitimately lower commit acknowledged after the fetch", () => {
      // 10 is fetched; then a member commits 4 (a seek back) and a later fetch sees 4.
      const script = new GroupScript().committed("c1", 1, 1, 10).fetch("c2", 2, 10).committed("c2", 1, 2, 4).fetch("c3", 3, 4);
      expect(run(script).final).to.deep.equal([]);
      // The same fetch answering 10 after 4 was acknowledged is a lost commit (10 completed before 4).
      script.fetch("c3", 3, 10);
      expect(named(run(script).final, "lost-commit").map((v) => (v.evidence.acked as { offset: number }).offset)).to.deep.equal([4]);
    });

    it("judges a fetch against the commits acknowledged before its invoke, when the history records one", () => {
      // The coordinator answered the fetch (5) before appending 10, whose ok reached c1 before the answer reached c2.
      const script = new GroupScript().committed("c1", 1, 1, 5).fetch("c2", 2, 0, "invoke", 7).committed("c1", 2, 1, 10).fetch("c2", 2, 5, "ok", 7);
      expect(run(script).final).to.deep.equal([]);
      const noInvoke = new GroupScript().committed("c1", 1, 1, 5).committed("c1", 2, 1, 10).fetch("c2", 2, 5);
      expect(named(run(noInvoke).final, "lost-commit")).to.have.length(1);
    });

    it("does not flag a zombie's late ok: a commit in flight through a pause is judged by its invoke", () => {
      // c1 sends 612 and freezes; c2 takes over, commits 896 (acknowledged); c1's ok arrives after its pause; a
      // later fetch sees 896. 612 may have been appended first: 896 was not acknowledged before 612 was sent.
      const script = new GroupScript().commit("c1", 1, 1, "invoke", 612).committed("c2", 1, 2, 896).commit("c1", 1, 1, "ok", 612).fetch("c1", 3, 896);
      expect(run(script).final).to.deep.equal([]);
      // An offset acknowledged before the zombie's commit was even sent is older than it: a rollback to it is flagged.
      const older = new GroupScript().committed("c2", 1, 2, 500).commit("c1", 1, 1, "invoke", 612).commit("c1", 1, 1, "ok", 612).fetch("c1", 3, 500);
      expect(named(run(older).final, "lost-commit")).to.have.length(1);
    });

    it("tells a restarted consumer's commits from its earlier incarnation's: its op ids start over at 1", () => {
      // c1 commits 302 as op 1, loses power, starts again and commits 1071 as op 1 (a new process, a new counter).
      const script = new GroupScript().at(0, "c1", "host-start", { incarnation: 1 }).committed("c1", 1, 1, 302);
      script.at(1000, "c1", "host-power-loss", { incarnation: 1 }).at(1000, "c1", "host-start", { incarnation: 2 });
      script.committed("c1", 1, 2, 1071).fetch("c1", 3, 1071);
      expect(run(script).final).to.deep.equal([]);
      // The earlier incarnation's 302 fetched after 1071 was acknowledged is still a lost commit.
      script.fetch("c2", 3, 302);
      expect(named(run(script).final, "lost-commit").map((v) => (v.evidence.acked as { offset: number }).offset)).to.deep.equal([1071]);
    });

    it("judges nothing before the first acknowledged commit, and never mixes groups", () => {
      const script = new GroupScript().fetch("c1", 1, -1).commit("c1", 1, 1, "invoke", 10).fetch("c2", 1, -1).commit("c1", 1, 1, "ok", 10);
      script.commit("c9", 1, 1, "invoke", 50, "g2").commit("c9", 1, 1, "ok", 50, "g2").fetch("c2", 2, 10);
      expect(run(script).final).to.deep.equal([]);
    });
  });

  describe("skipped-record", () => {
    it("flags records committed before processing and never processed (commit before process, then a crash)", () => {
      const script = new GroupScript().poll("c1", 1, [0, 1, 2, 3, 4]).committed("c1", 1, 1, 5);
      script.host("c1", "host-crash");
      script.fetch("c2", 2, 5).poll("c2", 2, [5, 6, 7, 8, 9]).processed("c2", 2, [5, 6, 7, 8, 9]).committed("c2", 1, 2, 10);
      const found = named(run(script, fakeLog()).final, "skipped-record");
      expect(found).to.have.length(1);
      expect(found[0]).to.deep.include({ time: script.now, nodes: ["c2", "c1"] });
      expect(found[0].evidence).to.deep.equal({
        group: G,
        topicPartition: TP,
        skipped: [0, 1, 2, 3, 4],
        count: 5,
        polledBy: ["c1"],
        lowestPolled: 0,
        finalCommit: { offset: 10, process: "c2", member: "c2-m", generation: 2, mode: "sync", opId: 1, ackedAt: script.now },
      });
    });

    it("flags records of the committed log below the final commit that nobody polled, and caps the list at 20", () => {
      const log = fakeLog([...Array(40).keys()]);
      const script = new GroupScript().poll("c1", 1, [0]).processed("c1", 1, [0]).poll("c1", 1, [39]).processed("c1", 1, [39]).committed("c1", 1, 1, 40);
      const found = named(run(script, log).final, "skipped-record");
      expect(found[0].evidence).to.deep.include({ count: 38, skipped: [...Array(20).keys()].map((i) => i + 1) });
    });

    it("does not flag processed records, offsets after the final commit, or a crash after processing", () => {
      const script = new GroupScript().poll("c1", 1, [0, 1, 2, 3, 4]).committed("c1", 1, 1, 5).processed("c1", 1, [0, 1, 2, 3, 4]);
      script.host("c1", "host-crash");
      script.poll("c2", 2, [5, 6, 7]);
      script.host("c2", "host-crash");
      expect(run(script, fakeLog()).final).to.deep.equal([]);
    });

    it("does not flag a live member's records still in flight at the end of the run, but does once its host went down", () => {
      const script = new GroupScript().poll("c1", 1, [0, 1, 2, 3, 4]).processed("c1", 1, [0, 1, 2, 3, 4]).poll("c1", 1, [5, 6, 7, 8, 9]).committed("c1", 1, 1, 10);
      expect(run(script, fakeLog()).final).to.deep.equal([]);
      script.host("c1", "host-crash");
      expect(named(run(script, fakeLog()).final, "skipped-record").map((v) => v.evidence.skipped)).to.deep.equal([[5, 6, 7, 8, 9]]);
    });

    it("judges an earlier poll of a live member (only its latest poll() is in flight)", () => {
      // One poll() returning two partitions is one poll: both stay in flight.
      const script = new GroupScript().poll("c1", 1, [0, 1]).poll("c1", 1, [2, 3]).committed("c1", 1, 1, 4);
      expect(named(run(script, fakeLog()).final, "skipped-record").map((v) => v.evidence.skipped)).to.deep.equal([[0, 1]]);
      const onePoll = new GroupScript().poll("c1", 1, [0, 1]).poll("c1", 1, [2, 3], 0).committed("c1", 1, 1, 4);
      expect(run(onePoll, fakeLog()).final).to.deep.equal([]);
    });

    it("does not flag offsets below the group's lowest polled offset (auto.offset.reset latest), below the log start, or gaps", () => {
      const latest = new GroupScript().poll("c1", 1, [5, 6, 7, 8, 9]).processed("c1", 1, [5, 6, 7, 8, 9]).committed("c1", 1, 1, 10);
      expect(run(latest, fakeLog()).final).to.deep.equal([]);
      // Offsets 3 and 4 were deleted by retention before anyone polled them; 7 is a compacted (or control) gap.
      const deleted = new GroupScript().poll("c1", 1, [0, 1, 2]).processed("c1", 1, [0, 1, 2]).poll("c1", 1, [5, 6, 8, 9]).processed("c1", 1, [5, 6, 8, 9]).committed("c1", 1, 1, 10);
      expect(run(deleted, fakeLog([0, 1, 2, 3, 4, 5, 6, 8, 9], 5)).final).to.deep.equal([]);
    });

    it("judges by the last acknowledged commit: a failed commit past it, or a group that never polled, judges nothing more", () => {
      const script = new GroupScript().poll("c1", 1, [0, 1]).processed("c1", 1, [0, 1]).committed("c1", 1, 1, 2).committed("c1", 2, 1, 10, "fail");
      expect(run(script, fakeLog()).final).to.deep.equal([]);
      expect(run(new GroupScript().committed("c1", 1, 1, 10), fakeLog()).final).to.deep.equal([]);
    });

    it("counts a polled record the final committed log no longer holds (truncated away)", () => {
      const script = new GroupScript().poll("c1", 1, [0, 1, 2]).committed("c1", 1, 1, 3);
      script.host("c1", "host-crash");
      // The committed log ends at 1 (offsets 1 and 2 were lost in an unclean election), yet 1 and 2 were read.
      expect(named(run(script, fakeLog([0])).final, "skipped-record").map((v) => v.evidence.skipped)).to.deep.equal([[0, 1, 2]]);
    });

    it("reads the replication checkers' committed log", () => {
      const replication = new ReplicationCheckers();
      const script = new GroupScript().leader("broker-1", TP, 1, [1], 0, 0).append("broker-1", TP, 0, 1, ["a", "b", "c", "d"], true).hwm("broker-1", TP, 4, 1);
      script.poll("c1", 1, [0]).processed("c1", 1, [0]).poll("c1", 1, [3]).processed("c1", 1, [3]).committed("c1", 1, 1, 4);
      for (const event of script.events) replication.observe(event);
      const found = named(run(script, (tp) => replication.committedLog(tp)).final, "skipped-record");
      expect(found.map((v) => v.evidence.skipped)).to.deep.equal([[1, 2]]);
    });
  });

  describe("duplicate deliveries", () => {
    it("counts the (group, partition, offset) processed more than once, and is inactive without groups", () => {
      const script = new GroupScript().poll("c1", 1, [0, 1, 2]).processed("c1", 1, [0, 1, 2]);
      script.host("c1", "host-crash");
      script.poll("c2", 2, [1, 2, 3]).processed("c2", 2, [1, 2, 3]).processed("c2", 2, [2]);
      const { checkers } = run(script);
      expect(checkers.active).to.equal(true);
      expect(checkers.duplicateDeliveries).to.equal(2);
      const noGroup = new Script().op("p1", "invoke", 0, "p1-000000", 0).at(1000, "c1", "op", { process: "c1", type: "ok", f: "poll", topic: "t", partition: 0, offsets: [0], values: ["x"] });
      const idle = run(noGroup).checkers;
      expect(idle.active).to.equal(false);
      expect(idle.duplicateDeliveries).to.equal(0);
      expect(run(new GroupScript().joined("c1", "c1-a", 1)).checkers.active).to.equal(true);
    });
  });
});

describe("OnlineCheckers with groups", () => {
  /** Just enough of a built world for the checkers: a trace, a clock, one broker, no ZooKeeper. */
  function fakeWorld(): { built: BuiltWorld; trace: Trace; clock: { now: number } } {
    const clock = { now: 0 };
    const trace = new Trace(clock);
    const world = { trace, kernel: {}, get now() { return clock.now; } } as unknown as World;
    return { built: { world, brokers: ["broker-1"], zkServers: [], transactionTimeouts: null } as unknown as BuiltWorld, trace, clock };
  }

  it("records double-assignment as it happens and lost-commit at the end, and reports duplicateDeliveries only with a group", () => {
    const { built, trace, clock } = fakeWorld();
    const violations: Violation[] = [];
    const checkers = new OnlineCheckers(built, violations);
    const seen: string[] = [];
    trace.observe((event) => seen.push(event.kind), ["violation"]);
    checkers.start();
    expect(checkers.duplicateDeliveries).to.equal(null);
    const emit = (kind: string, fields: Record<string, unknown>): void => {
      clock.now += 1000;
      trace.emit(fields.process as string, kind, fields);
    };
    emit("partitions-assigned", { process: "c1", group: G, member: "m1", generation: 1, partitions: [TP], protocol: "EAGER" });
    emit("partitions-assigned", { process: "c2", group: G, member: "m2", generation: 1, partitions: [TP], protocol: "EAGER" });
    expect(violations.map((v) => [v.name, v.time])).to.deep.equal([["double-assignment", 2000]]);
    expect(seen).to.deep.equal(["violation"]);
    const commit = { process: "c1", group: G, member: "m1", generation: 1, f: "commit", opId: 1, mode: "sync", offsets: [{ topic: "t", partition: 0, offset: 10 }] };
    emit("op", { ...commit, type: "invoke" });
    emit("op", { ...commit, type: "ok" });
    emit("op", { process: "c2", group: G, member: "m2", generation: 2, type: "ok", f: "offset-fetch", offsets: [{ topic: "t", partition: 0, offset: -1 }] });
    emit("op", { process: "c2", group: G, member: "m2", generation: 2, type: "ok", f: "process", topic: "t", partition: 0, offsets: [3] });
    emit("op", { process: "c2", group: G, member: "m2", generation: 2, type: "ok", f: "process", topic: "t", partition: 0, offsets: [3] });
    checkers.finish();
    expect(violations.map((v) => v.name)).to.deep.equal(["double-assignment", "lost-commit"]);
    expect(checkers.duplicateDeliveries).to.equal(1);
  });
});
