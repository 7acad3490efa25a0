/**
 * Scenario tests for issue 5's "Must show" list (controller and replication), read from the trace only:
 * ISR shrink and expand, NOT_ENOUGH_REPLICAS, controller failover, the zombie controller with and without
 * the controller epoch check, controlled shutdown, reassignment, version presets, determinism, preferred
 * leader election and topic deletion. Leader failover and the KIP-101 / KIP-279 pairs are covered by their
 * scenario files (test/scenario/golden.test.ts runs every file in scenarios/ against its expectation).
 */

import { expect } from "chai";
import { kinds, ops, run, runOnce, S, scenarioFile, violationNames, withCluster, type Run, type Spec } from "./helpers.ts";
import type { TraceEvent } from "../../src/sim/trace.ts";

/** The broker leading `topicPartition` just before time `t` (from the newest become-leader). */
function leaderBefore(events: TraceEvent[], topicPartition: string, t: number): string {
  const last = kinds(events, "become-leader", (e) => e.topicPartition === topicPartition && e.t < t).at(-1);
  expect(last, `a leader of ${topicPartition} before ${t / S} s`).to.not.equal(undefined);
  return last!.node;
}

const brokerId = (node: string): number => Number(node.replace("broker-", ""));

describe("replication scenarios (issue 5)", function () {
  this.timeout(120_000);

  describe("ISR shrink under a follower partition and expand after heal", () => {
    const CUT = 8 * S;
    const HEAL = 30 * S;
    const LAG = 10 * S;
    for (const isrUpdate of ["alter-isr", "zk-direct"] as const) {
      const get = (): Run => runOnce(`isr-${isrUpdate}`, () => withCluster(scenarioFile("isr-shrink-expand"), { compat: { isrUpdate } }));

      it(`${isrUpdate}: the cut-off follower leaves the ISR after replica.lag.time.max.ms, not before`, () => {
        const { events } = get();
        const shrinks = kinds(events, "isr-shrink", (e) => e.topicPartition === "t-0");
        expect(shrinks).to.have.length(1);
        expect([...(shrinks[0].isr as number[])].sort()).to.deep.equal([1, 2]);
        expect([...(shrinks[0].previousIsr as number[])].sort()).to.deep.equal([1, 2, 3]);
        // The leader checks every lag / 2, so the shrink is due between cut + lag and cut + lag + lag / 2.
        expect(shrinks[0].t).to.be.at.least(CUT + LAG);
        expect(shrinks[0].t).to.be.at.most(CUT + LAG + LAG / 2 + S / 2);
        expect(shrinks[0].node).to.equal("broker-1");
      });

      it(`${isrUpdate}: acks=all writes continue with two in-sync replicas and the follower rejoins after the heal`, () => {
        const { result, events } = get();
        const shrink = kinds(events, "isr-shrink", (e) => e.topicPartition === "t-0")[0];
        // While broker-3 is still in the ISR, acks=all writes wait for it (the high watermark is held back).
        expect(ops(events, "ok", (e) => e.t > CUT + S && e.t < shrink.t)).to.have.length(0);
        expect(ops(events, "ok", (e) => e.t > shrink.t && e.t < HEAL).length).to.be.greaterThan(100);
        const expand = kinds(events, "isr-expand", (e) => e.topicPartition === "t-0" && e.t > shrink.t);
        expect(expand).to.have.length(1);
        expect(expand[0].t).to.be.greaterThan(HEAL);
        expect([...(expand[0].isr as number[])].sort()).to.deep.equal([1, 2, 3]);
        expect(result.violations).to.deep.equal([]);
      });

      it(`${isrUpdate}: the ISR change travels the way the switch says`, () => {
        const { events } = get();
        const alterIsr = kinds(events, "send", (e) => e.type === "AlterIsr");
        const notification = kinds(events, "controller-write", (e) => String(e.path).startsWith("/isr_change_notification/"));
        if (isrUpdate === "alter-isr") {
          expect(alterIsr.length).to.be.greaterThan(0);
          expect(notification).to.have.length(0);
        } else {
          expect(alterIsr).to.have.length(0);
          // The controller deletes the leader's /isr_change_notification znodes once it has read them.
          expect(notification.length).to.be.greaterThan(0);
        }
      });
    }
  });

  describe("NOT_ENOUGH_REPLICAS when the ISR is below min.insync.replicas", () => {
    const HEAL = 30 * S;
    const get = (): Run => runOnce("ner", () => scenarioFile("not-enough-replicas"));

    it("writes are refused with NOT_ENOUGH_REPLICAS once the ISR shrinks to the leader alone", () => {
      const { events } = get();
      const shrink = kinds(events, "isr-shrink", (e) => e.topicPartition === "t-0");
      expect(shrink).to.have.length(1);
      expect(shrink[0].isr).to.deep.equal([1]);
      const refused = ops(events, "fail", (e) => e.error === "NOT_ENOUGH_REPLICAS");
      expect(refused.length).to.be.greaterThan(10);
      for (const op of refused) expect(op.t).to.be.within(shrink[0].t, HEAL + 10 * S);
      // No write is acknowledged between the shrink and the followers' return.
      const back = kinds(events, "isr-expand", (e) => e.t > shrink[0].t)[0];
      expect(back.t).to.be.greaterThan(HEAL);
      expect(ops(events, "ok", (e) => e.t > shrink[0].t && e.t < back.t)).to.have.length(0);
      expect(ops(events, "ok", (e) => e.t > back.t).length).to.be.greaterThan(0);
    });

    it("3.7+ (KAFKA-15583): the HW stays put under min ISR, so the writes waiting in purgatory time out", () => {
      const { events } = get();
      const shrink = kinds(events, "isr-shrink", (e) => e.topicPartition === "t-0")[0];
      const back = kinds(events, "isr-expand", (e) => e.t > shrink.t)[0];
      const leaderHw = kinds(events, "hwm", (e) => e.topicPartition === "t-0" && e.role === "leader" && e.t >= shrink.t && e.t < back.t);
      expect(leaderHw, "leader HW moves between the shrink and the rejoin").to.have.length(0);
      expect(ops(events, "info", (e) => e.error === "NOT_ENOUGH_REPLICAS_AFTER_APPEND"), "NOT_ENOUGH_REPLICAS_AFTER_APPEND").to.have.length(0);
      expect(ops(events, "info", (e) => e.error === "REQUEST_TIMED_OUT" && e.t > shrink.t).length, "timed out").to.be.greaterThan(0);
    });

    it("up to 3.6: the writes waiting in purgatory when the ISR shrinks complete with NOT_ENOUGH_REPLICAS_AFTER_APPEND", () => {
      const { events } = runOnce("ner-pre-3.7", () => withCluster(scenarioFile("not-enough-replicas"), { compat: { hwNeedsMinIsr: false } }));
      const shrink = kinds(events, "isr-shrink", (e) => e.topicPartition === "t-0")[0];
      const afterAppend = ops(events, "info", (e) => e.error === "NOT_ENOUGH_REPLICAS_AFTER_APPEND");
      // Every record of the batches waiting in purgatory (each batch may hold many records).
      expect(afterAppend.length).to.be.greaterThan(0);
      for (const op of afterAppend) {
        expect(op.t).to.be.within(shrink.t, shrink.t + S);
        // It was appended before the cut, so it is in the log.
        const appended = kinds(events, "log-append", (e) => e.node === "broker-1" && (e.values as string[]).includes(op.value as string));
        expect(appended.length, String(op.value)).to.be.greaterThan(0);
      }
    });

    it("no acknowledged write is lost", () => {
      expect(get().result.violations).to.deep.equal([]);
    });
  });

  describe("controller failover", () => {
    const CRASH = 10 * S;
    const get = (): Run => runOnce("cf", () => scenarioFile("controller-failover"));

    it("another broker is elected with a higher controller epoch and re-elects the dead controller's partitions", () => {
      const { result, events } = get();
      const elections = kinds(events, "controller-elected");
      expect(elections.map((e) => [e.node, e.controllerEpoch])).to.deep.equal([
        ["broker-1", 1],
        [elections[1]?.node, 2],
      ]);
      expect(elections[1].node).to.not.equal("broker-1");
      expect(elections[1].t).to.be.greaterThan(CRASH);
      expect(kinds(events, "fault")[0].nodes).to.deep.equal(["broker-1"]);
      const ledByDead = ["t-0", "t-1", "t-2"].filter((tp) => leaderBefore(events, tp, CRASH) === "broker-1");
      expect(ledByDead.length).to.be.greaterThan(0);
      for (const tp of ledByDead) {
        // The failover first writes the partition leaderless (OfflineReplica for the dead broker, KAFKA-3143), then elects.
        const next = kinds(events, "leader-elected", (e) => e.topicPartition === tp && e.t > CRASH && e.leader !== -1)[0];
        expect(next, tp).to.not.equal(undefined);
        expect(next.node).to.equal(elections[1].node);
        expect(next.controllerEpoch).to.equal(2);
        expect(next.leader).to.not.equal(1);
        expect(next.reason).to.equal("offline");
        expect(kinds(events, "become-leader", (e) => e.topicPartition === tp && e.t > next.t)[0].node).to.equal(`broker-${String(next.leader)}`);
      }
      expect(result.violations).to.deep.equal([]);
    });
  });

  describe("zombie controller fenced by the controller epoch", () => {
    const RESUME = 25.5 * S;

    it("without the epoch check (before KAFKA-6082) the paused controller's write lands after a newer election", () => {
      const { result, events } = run(scenarioFile("zombie-controller"));
      expect(result.expectationMet).to.equal(true);
      expect(violationNames({ result, events })).to.deep.equal(["two-controllers"]);
      const newer = kinds(events, "controller-elected", (e) => e.controllerEpoch === 2)[0];
      expect(newer.node).to.equal("broker-2");
      const zombie = kinds(events, "controller-write", (e) => e.node === "broker-1" && e.t > RESUME && e.code === "OK");
      expect(zombie.length).to.be.greaterThan(0);
      expect(zombie[0].controllerEpoch).to.equal(1);
      expect(zombie[0].fenced).to.equal(false);
      const evidence = result.violations[0].evidence as { write: { node: string; controllerEpoch: number } };
      expect(evidence.write).to.include({ node: "broker-1", controllerEpoch: 1 });
    });

    it("with the epoch check the zombie's write fails with BADVERSION and it resigns", () => {
      const { result, events } = run(scenarioFile("zombie-controller-fenced"));
      expect(result.violations).to.deep.equal([]);
      const late = kinds(events, "controller-write", (e) => e.node === "broker-1" && e.t > RESUME);
      expect(late.length).to.be.greaterThan(0);
      for (const write of late) {
        expect(write).to.include({ controllerEpoch: 1, code: "BADVERSION", controllerMoved: true, fenced: true });
      }
      const resigned = kinds(events, "controller-resigned", (e) => e.node === "broker-1");
      expect(resigned).to.have.length(1);
      expect(resigned[0].t).to.be.at.least(late[0].t);
    });
  });

  describe("controlled shutdown", () => {
    const SHUTDOWN = 10 * S;
    const RESTART = 20 * S;
    const get = (): Run => runOnce("cs", () => scenarioFile("controlled-shutdown"));

    it("moves leadership away before the broker stops, and the restart finds a clean log", () => {
      const { result, events } = get();
      const stopping = leaderBefore(events, "t-0", SHUTDOWN);
      expect(kinds(events, "fault")[0].nodes).to.deep.equal([stopping]);
      const stopped = kinds(events, "host-shutdown", (e) => e.node === stopping)[0];
      const moved = kinds(events, "leader-elected", (e) => e.topicPartition === "t-0" && e.t >= SHUTDOWN);
      expect(moved[0].reason).to.equal("controlled-shutdown");
      expect(moved[0].t).to.be.lessThan(stopped.t);
      expect(moved[0].leader).to.not.equal(brokerId(stopping));
      expect(moved[0].isr).to.not.include(brokerId(stopping));
      const complete = kinds(events, "controlled-shutdown-complete", (e) => e.node === stopping)[0];
      expect(complete.t).to.be.within(moved[0].t, stopped.t);
      const recovery = kinds(events, "log-recovery", (e) => e.node === stopping && e.topicPartition === "t-0" && e.t >= RESTART);
      expect(recovery).to.have.length(1);
      expect(recovery[0].clean).to.equal(true);
      expect(result.violations).to.deep.equal([]);
    });

    // Regression: a new leader set lastCaughtUpTimeMs = 0 ("never" in Kafka's epoch-millisecond clock) for
    // replicas outside the ISR, but the simulated clocks start at 0, so for the first replica.lag.time.max.ms
    // of a run the stopped broker (logEndOffset -1) held the new leader's high watermark back.
    it("acks=all writes continue while the stopped broker is away (an out-of-ISR replica that never caught up does not hold the HW)", () => {
      const { events } = get();
      const stopped = kinds(events, "host-shutdown")[0];
      expect(ops(events, "ok", (e) => e.t > stopped.t && e.t < RESTART).length).to.be.greaterThan(50);
    });
  });

  describe("partition reassignment", () => {
    const get = (): Run => runOnce("ra", () => scenarioFile("reassignment"));
    const finalLeader = (events: TraceEvent[], tp: string) => kinds(events, "become-leader", (e) => e.topicPartition === tp).at(-1)!;

    it("moves t-0 from [1, 2, 3] to [2, 3, 4], leader included, and deletes broker-1's replica", () => {
      const { result, events } = get();
      const done = kinds(events, "reassignment-completed", (e) => e.topicPartition === "t-0");
      expect(done.map((e) => e.replicas)).to.deep.equal([[2, 3, 4]]);
      const leader = finalLeader(events, "t-0");
      expect(leader).to.include({ node: "broker-2" });
      expect(leader.replicas).to.deep.equal([2, 3, 4]);
      const moved = kinds(events, "leader-elected", (e) => e.topicPartition === "t-0" && e.reason === "reassign" && e.leader === 2);
      expect(moved).to.have.length(1);
      const followers = kinds(events, "become-follower", (e) => e.topicPartition === "t-0" && e.leaderEpoch === leader.leaderEpoch);
      expect(followers.map((e) => e.node).sort()).to.deep.equal(["broker-3", "broker-4"]);
      expect(kinds(events, "stop-replica", (e) => e.node === "broker-1" && e.topicPartition === "t-0" && e.deletePartition === true)).to.have.length(1);
      expect(kinds(events, "log-delete", (e) => e.topicPartition === "t-0").map((e) => e.node)).to.deep.equal(["broker-1"]);
      expect(kinds(events, "log-append", (e) => e.node === "broker-4" && e.topicPartition === "t-0").length).to.be.greaterThan(0);
      expect(result.violations).to.deep.equal([]);
    });

    it("moves t-1 from [2, 3, 1] to [2, 4, 1] keeping its leader, and deletes broker-3's replica", () => {
      const { events } = get();
      expect(kinds(events, "reassignment-completed", (e) => e.topicPartition === "t-1").map((e) => e.replicas)).to.deep.equal([[2, 4, 1]]);
      const leader = finalLeader(events, "t-1");
      expect(leader).to.include({ node: "broker-2" });
      expect(leader.replicas).to.deep.equal([2, 4, 1]);
      const reassign = kinds(events, "leader-elected", (e) => e.topicPartition === "t-1" && e.reason === "reassign");
      expect(reassign.every((e) => e.leader === 2)).to.equal(true);
      expect(kinds(events, "log-delete", (e) => e.topicPartition === "t-1").map((e) => e.node)).to.deep.equal(["broker-3"]);
    });
  });

  describe("version presets", () => {
    /** RF 2 on [2, 3]: broker-3 is cut off from the leader, leaves the ISR, then the leader crashes. */
    const unclean = (version: string, config: Spec = {}, compat: Spec = {}): Spec => ({
      name: "preset",
      seed: 1,
      duration: "30s",
      settle: "10s",
      cluster: { zookeeper: { servers: 3 }, brokers: 3, version, config, compat },
      topics: [{ name: "t", partitions: 1, replicationFactor: 2, assignment: [[2, 3]] }],
      clients: [{ id: "p1", type: "producer", config: { acks: "1", "request.timeout.ms": 5000 }, workload: { topic: "t", messages: 2000, ratePerSec: 20, startAt: "3s" } }],
      faults: [
        { at: "3s", type: "preferred-election" },
        { at: "4s", type: "partition", groups: [["broker-2"], ["broker-3"]] },
        { at: "20s", type: "crash", node: "broker-2" },
      ],
      expect: { allow: ["lost-write", "divergent-log", "hwm-regression"] },
    });

    it('"0.10.2" truncates to the high watermark and elects an out-of-sync replica (unclean)', () => {
      const { events } = runOnce("0.10.2", () => unclean("0.10.2"));
      const truncations = kinds(events, "replica-truncate");
      expect(truncations.length).to.be.greaterThan(0);
      expect([...new Set(truncations.map((e) => e.mode))]).to.deep.equal(["high-watermark"]);
      const elected = kinds(events, "leader-elected", (e) => e.t > 20 * S);
      expect(elected[0]).to.include({ leader: 3, unclean: true });
      expect(kinds(events, "send", (e) => e.type === "AlterIsr")).to.have.length(0);
      expect(kinds(events, "controller-write").every((e) => e.fenced === false)).to.equal(true);
    });

    it("explicit config and compat entries override the preset", () => {
      const { events } = run(unclean("0.10.2", { "unclean.leader.election.enable": false }, { truncation: "kip-320", controllerEpochCheck: true }));
      expect([...new Set(kinds(events, "replica-truncate").map((e) => e.mode))]).to.deep.equal(["kip-320"]);
      expect(kinds(events, "leader-elected", (e) => e.unclean === true)).to.have.length(0);
      expect(kinds(events, "leader-elected", (e) => e.t > 20 * S && e.leader === 3)).to.have.length(0);
      expect(kinds(events, "controller-write").every((e) => e.fenced === true)).to.equal(true);
    });

    it('"3.x" (the default) fences fetches by leader epoch (kip-320) and sends ISR changes as AlterIsr', () => {
      const { events } = runOnce("isr-alter-isr", () => withCluster(scenarioFile("isr-shrink-expand"), { compat: { isrUpdate: "alter-isr" } }));
      expect((scenarioFile("isr-shrink-expand").cluster as Spec).version).to.equal(undefined);
      expect([...new Set(kinds(events, "replica-truncate").map((e) => e.mode))]).to.deep.equal(["kip-320"]);
      expect(kinds(events, "send", (e) => e.type === "AlterIsr").length).to.be.greaterThan(0);
      expect(kinds(events, "controller-write").every((e) => e.fenced === true)).to.equal(true);
    });
  });

  describe("determinism", () => {
    it("a broker scenario run twice gives the same trace hash; another seed gives another", () => {
      const spec = scenarioFile("controlled-shutdown");
      const first = runOnce("cs", () => spec).result.stats.traceHash;
      const again = run(spec).result.stats.traceHash;
      const other = run(spec, 2).result.stats.traceHash;
      expect(again).to.equal(first);
      expect(other).to.not.equal(first);
    });
  });

  describe("preferred leader election", () => {
    const CRASH = 8 * S;
    const RESTART = 18 * S;
    const base = (config: Spec, faults: unknown[]): Spec => ({
      name: "preferred",
      seed: 1,
      duration: "35s",
      settle: "5s",
      cluster: { zookeeper: { servers: 3 }, brokers: 3, config: { "zookeeper.session.timeout.ms": 6000, ...config } },
      topics: [{ name: "t", partitions: 1, replicationFactor: 3, assignment: [[2, 3, 1]], config: { "min.insync.replicas": 2 } }],
      clients: [{ id: "p1", type: "producer", config: { acks: "all", "request.timeout.ms": 5000 }, workload: { topic: "t", messages: 2000, ratePerSec: 20, startAt: "3s" } }],
      faults: [{ at: "8s", type: "crash", node: { leaderOf: "t-0" }, for: "10s" }, ...faults],
      expect: { violations: [] },
    });

    /** Checks the failover away from broker-2 and returns the elections after its return. */
    const afterReturn = (r: Run): TraceEvent[] => {
      expect(r.result.violations).to.deep.equal([]);
      expect(kinds(r.events, "fault", (e) => e.type === "crash")[0].nodes).to.deep.equal(["broker-2"]);
      const failover = kinds(r.events, "leader-elected", (e) => e.t > CRASH)[0];
      expect(failover).to.include({ reason: "offline" });
      expect(failover.leader).to.not.equal(2);
      return kinds(r.events, "leader-elected", (e) => e.t > RESTART);
    };

    it("the preferred-election admin fault moves leadership back to the first replica", () => {
      const r = run(
        base({ "auto.leader.rebalance.enable": false }, [
          { at: "5s", type: "preferred-election" },
          { at: "28s", type: "preferred-election", partitions: [{ topic: "t", partition: 0 }] },
        ]),
      );
      const back = afterReturn(r);
      expect(back).to.have.length(1);
      expect(back[0]).to.include({ leader: 2, reason: "preferred" });
      expect(back[0].t).to.be.within(28 * S, 29 * S);
      expect(kinds(r.events, "become-leader").at(-1)).to.include({ node: "broker-2" });
    });

    it("auto.leader.rebalance.enable moves it back within leader.imbalance.check.interval.seconds", () => {
      const r = run(base({ "auto.leader.rebalance.enable": true, "leader.imbalance.check.interval.seconds": 5 }, []));
      const back = afterReturn(r);
      const rejoined = kinds(r.events, "isr-expand", (e) => e.t > RESTART && (e.isr as number[]).includes(2))[0];
      expect(back).to.have.length(1);
      expect(back[0]).to.include({ leader: 2, reason: "preferred" });
      expect(back[0].t).to.be.within(rejoined.t, rejoined.t + 5 * S + S / 2);
    });
  });

  describe("topic deletion", () => {
    const spec = (producerTopic: string): Spec => ({
      name: "delete-topic",
      seed: 1,
      duration: "25s",
      settle: "5s",
      cluster: { zookeeper: { servers: 3 }, brokers: 3, config: { "zookeeper.session.timeout.ms": 6000 } },
      topics: [
        { name: "t", partitions: 2, replicationFactor: 2, assignment: [[1, 2], [2, 3]] },
        { name: "u", partitions: 1, replicationFactor: 3, assignment: [[3, 1, 2]] },
      ],
      clients: [{ id: "p1", type: "producer", config: { acks: "all", "request.timeout.ms": 5000 }, workload: { topic: producerTopic, messages: 100, ratePerSec: 20, startAt: "3s" } }],
      faults: [{ at: "12s", type: "delete-topic", topic: "t" }],
      expect: { violations: [] },
    });

    it("delete-topic removes the topic and the log of every replica, and nothing else", () => {
      const { result, events } = run(spec("u"));
      const deleted = kinds(events, "topic-deleted");
      expect(deleted.map((e) => e.topic)).to.deep.equal(["t"]);
      const deletes = kinds(events, "log-delete").map((e) => `${e.node}:${String(e.topicPartition)}`);
      expect(deletes.sort()).to.deep.equal(["broker-1:t-0", "broker-2:t-0", "broker-2:t-1", "broker-3:t-1"]);
      for (const e of kinds(events, "log-delete")) expect(e.t).to.be.within(12 * S, deleted[0].t);
      expect(result.violations).to.deep.equal([]);
    });

    // Regression: deleting a topic is not data loss; the lost-write checker forgets its writes at topic-deleted.
    it("acknowledged writes to a deleted topic are not reported as lost", () => {
      const { result, events } = run(spec("t"));
      expect(kinds(events, "topic-deleted")).to.have.length(1);
      expect(result.violations).to.deep.equal([]);
    });
  });
});
