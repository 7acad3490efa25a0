import { expect } from "chai";
import { S, kinds, ops, run, type Spec } from "./helpers.ts";

/**
 * A "sync-after-process" member whose commitSync fails during a cooperative rebalance (RebalanceInProgressException:
 * it keeps its partitions and goes on processing) must commit what it processed once the rebalance is over, even
 * when no more records arrive: the Java loop `poll(Duration) → process → commitSync()` commits after an empty poll.
 * c1 works through a backlog slowly; c3 joins at 12 s while c2 is frozen, so the rebalance waits ~6 s for c2's
 * session to expire; c1 finishes its backlog meanwhile (every commit failing) and the producer has stopped.
 */
const SPEC: Spec = {
  name: "group-commit-after-cooperative-rebalance",
  seed: 1,
  duration: "30s",
  settle: "15s",
  cluster: {
    zookeeper: { servers: 1 },
    brokers: 3,
    config: { "offsets.topic.num.partitions": 1, "offsets.topic.replication.factor": 3, "group.initial.rebalance.delay.ms": 0 },
  },
  topics: [{ name: "t", partitions: 3, replicationFactor: 3 }],
  clients: [
    { id: "p1", type: "producer", config: { acks: "all" }, workload: { topic: "t", messages: 600, ratePerSec: 100, startAt: "1s", keys: 30 } },
    ...["c1", "c2", "c3"].map((id) => ({
      id,
      type: "consumer",
      group: "g1",
      topics: ["t"],
      config: {
        "partition.assignment.strategy": ["cooperative-sticky"],
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 1000,
        "enable.auto.commit": false,
        ...(id === "c1" ? { "max.poll.records": 20 } : {}),
      },
      workload: { processMs: id === "c1" ? 35 : 1, commit: "sync-after-process", startAt: id === "c3" ? "12s" : "1s" },
    })),
  ],
  faults: [{ at: "11.9s", type: "pause", node: "c2", for: "10s" }],
};

describe("group consumer workload: a failed commitSync is redone after an empty poll", () => {
  it("c1's commits fail during the cooperative rebalance, and its final commit still reaches the end of its partitions", () => {
    const { events } = run(SPEC);
    const failed = ops(events, "fail", (e) => e.f === "commit" && e.process === "c1" && e.error === "RebalanceInProgressException");
    expect(failed.length, "premise: c1's commits fail while the group rebalances").to.be.greaterThan(0);
    const lastFailure = failed[failed.length - 1].t;
    const logEnd = new Map<string, number>();
    for (const e of kinds(events, "log-append", (e) => e.asLeader === true && String(e.topicPartition).startsWith("t-"))) {
      logEnd.set(e.topicPartition as string, Math.max(logEnd.get(e.topicPartition as string) ?? 0, (e.lastOffset as number) + 1));
    }
    expect(Math.max(...kinds(events, "log-append", (e) => e.asLeader === true && String(e.topicPartition).startsWith("t-")).map((e) => e.t))).to.be.lessThan(lastFailure);
    const committed = new Map<string, number>();
    for (const e of kinds(events, "group-offsets-committed")) for (const o of e.offsets as { topic: string; partition: number; offset: number }[]) committed.set(`${o.topic}-${o.partition}`, o.offset);
    // c1 owned t-0 and t-2 through the rebalance (cooperative-sticky keeps them).
    const owned = kinds(events, "partitions-assigned", (e) => e.process === "c1" && (e.partitions as string[]).length > 0).flatMap((e) => e.partitions as string[]);
    expect(owned.length).to.be.greaterThan(0);
    for (const tp of owned) expect(committed.get(tp), `committed offset of ${tp}`).to.equal(logEnd.get(tp));
    expect(lastFailure).to.be.greaterThan(12 * S);
  });
});
