import { expect } from "chai";
import type { TraceEvent } from "../../../src/sim/trace.ts";
import type { JoinGroupRequest, OffsetFetchRequest } from "../../../src/protocol/group.ts";
import { FakeCluster } from "./fake-cluster.ts";
import { groupHarness, TestCooperativeAssignor } from "./group-harness.ts";

function values(events: readonly TraceEvent[]): unknown[] {
  return events.flatMap((e) => e.values as unknown[]);
}

describe("group consumer: joining", () => {
  it("joins (MEMBER_ID_REQUIRED, then with its id), syncs, fetches committed offsets and reads from them", () => {
    const cluster = new FakeCluster(2).append(0, ["a0", "a1", "a2"]).append(1, ["b0"]);
    const h = groupHarness(cluster, { c1: {} }, (group) => group.offsets.set("t-0", 1));
    h.runTo(1000);
    const joins = cluster.seen("JoinGroup").map((r) => r.request as JoinGroupRequest);
    expect(joins.map((j) => j.memberId)).to.deep.equal(["", "c1-1"]);
    expect(joins[1].protocols.map((p) => p.name)).to.deep.equal(["range"]);
    expect(joins[1].rebalanceTimeoutMs).to.equal(300_000);
    const fetches = cluster.seen("OffsetFetch").map((r) => r.request as OffsetFetchRequest);
    expect(fetches).to.have.length(1);
    expect(fetches[0].requireStable).to.equal(true);
    const offsetFetch = h.ops("offset-fetch", "c1");
    expect(offsetFetch).to.have.length(1);
    expect(offsetFetch[0].offsets).to.deep.equal([
      { topic: "t", partition: 0, offset: 1 },
      { topic: "t", partition: 1, offset: -1 },
    ]);
    expect(offsetFetch[0].generation).to.equal(1);
    const assigned = h.kinds("partitions-assigned", "c1");
    expect(assigned.map((e) => e.partitions)).to.deep.equal([["t-0", "t-1"]]);
    expect(assigned[0].protocol).to.equal("EAGER");
    // t-0 from its committed offset 1, t-1 (none committed) from the earliest.
    const polls = h.ops("poll", "c1");
    expect(values(polls.filter((p) => p.partition === 0))).to.deep.equal(["a1", "a2"]);
    expect(values(polls.filter((p) => p.partition === 1))).to.deep.equal(["b0"]);
    expect(polls.every((p) => p.group === "g" && p.member === "c1-1" && p.generation === 1)).to.equal(true);
    expect(values(h.ops("process", "c1"))).to.have.members(["a1", "a2", "b0"]);
  });
});

describe("group consumer: heartbeats", () => {
  it("heartbeats every heartbeat.interval.ms once joined", () => {
    const h = groupHarness(new FakeCluster(1), { c1: {} });
    h.runTo(10_000);
    const times = h.cluster.seen("Heartbeat").map((r) => r.time);
    expect(times.length).to.equal(3);
    expect(times[1] - times[0]).to.equal(3_000_000);
  });

  it("REBALANCE_IN_PROGRESS on a heartbeat makes a STABLE member rejoin with its member id", () => {
    const h = groupHarness(new FakeCluster(1), { c1: {} });
    h.runTo(1000);
    h.group.script.heartbeat.push("REBALANCE_IN_PROGRESS");
    h.runTo(5000);
    const joins = h.cluster.seen("JoinGroup").map((r) => r.request as JoinGroupRequest);
    expect(joins.map((j) => j.memberId)).to.deep.equal(["", "c1-1", "c1-1"]);
    // EAGER: everything is revoked before the rejoin, then assigned again in generation 2.
    expect(h.kinds("partitions-revoked", "c1").map((e) => [e.generation, e.partitions])).to.deep.equal([[1, ["t-0"]]]);
    expect(h.kinds("partitions-assigned", "c1").map((e) => e.generation)).to.deep.equal([1, 2]);
  });

  it("UNKNOWN_MEMBER_ID resets the member id: the partitions are lost and the member joins anew", () => {
    const h = groupHarness(new FakeCluster(1), { c1: {} });
    h.runTo(1000);
    h.group.script.heartbeat.push("UNKNOWN_MEMBER_ID");
    h.runTo(5000);
    const joins = h.cluster.seen("JoinGroup").map((r) => r.request as JoinGroupRequest);
    expect(joins.map((j) => j.memberId)).to.deep.equal(["", "c1-1", "", "c1-2"]);
    expect(h.kinds("partitions-lost", "c1").map((e) => e.partitions)).to.deep.equal([["t-0"]]);
    expect(h.kinds("partitions-revoked", "c1")).to.have.length(0);
  });

  it("groupMetadata() keeps the last joined generation after a reset (ConsumerCoordinator sets it only on join), so a zombie's TxnOffsetCommit is fenced", () => {
    const h = groupHarness(new FakeCluster(1), { c1: {} });
    h.runTo(1000);
    const consumer = h.workloads.get("c1")!.consumer;
    const coordinator = consumer.coordinator!;
    expect(coordinator.groupMetadata).to.deep.include({ groupId: "g", generationId: 1, memberId: "c1-1" });
    // What the application would pass to sendOffsetsToTransaction when it learns its partitions are lost.
    const atLoss: unknown[] = [];
    const traceEvent = consumer.traceEvent.bind(consumer);
    consumer.traceEvent = (kind, fields) => {
      if (kind === "partitions-lost") atLoss.push({ ...coordinator.groupMetadata, generationNow: coordinator.memberFields.generation });
      traceEvent(kind, fields);
    };
    h.group.script.heartbeat.push("UNKNOWN_MEMBER_ID");
    h.runTo(5000);
    expect(atLoss).to.deep.equal([{ groupId: "g", generationId: 1, memberId: "c1-1", groupInstanceId: null, generationNow: -1 }]);
  });

  it("ILLEGAL_GENERATION resets the generation but keeps the member id", () => {
    const h = groupHarness(new FakeCluster(1), { c1: {} });
    h.runTo(1000);
    h.group.script.heartbeat.push("ILLEGAL_GENERATION");
    h.runTo(5000);
    const joins = h.cluster.seen("JoinGroup").map((r) => r.request as JoinGroupRequest);
    expect(joins.map((j) => j.memberId)).to.deep.equal(["", "c1-1", "c1-1"]);
    expect(h.kinds("partitions-lost", "c1")).to.have.length(1);
  });

  it("FENCED_INSTANCE_ID is fatal: poll() throws and the application closes without LeaveGroup (static)", () => {
    const h = groupHarness(new FakeCluster(1), { c1: { config: { "group.instance.id": "i1" } } });
    h.runTo(1000);
    h.group.script.heartbeat.push("FENCED_INSTANCE_ID");
    h.runTo(10_000);
    expect(h.kinds("consumer-poll-error").map((e) => e.error)).to.deep.equal(["FENCED_INSTANCE_ID"]);
    expect(h.workloads.get("c1")!.consumer.isClosed).to.equal(true);
    expect(h.cluster.seen("LeaveGroup")).to.have.length(0);
    expect(h.cluster.seen("JoinGroup")).to.have.length(2);
  });

  it("NOT_COORDINATOR marks the coordinator unknown and rediscovers it", () => {
    const h = groupHarness(new FakeCluster(1), { c1: {} });
    h.runTo(1000);
    h.group.script.heartbeat.push("NOT_COORDINATOR");
    h.runTo(5000);
    expect(h.cluster.seen("FindCoordinator")).to.have.length(2);
    expect(h.kinds("consumer-coordinator-unknown").map((e) => e.cause)).to.deep.equal(["error response NOT_COORDINATOR"]);
    // Still the same member and generation: no rejoin.
    expect(h.cluster.seen("JoinGroup")).to.have.length(2);
  });

  it("a silent coordinator: no heartbeat answer within session.timeout.ms marks it unknown", () => {
    const h = groupHarness(new FakeCluster(1), { c1: { config: { "session.timeout.ms": 10_000, "request.timeout.ms": 60_000 } } });
    h.runTo(1000);
    h.group.silent = true;
    h.runTo(13_000);
    const unknown = h.kinds("consumer-coordinator-unknown");
    expect(unknown.map((e) => e.cause)).to.deep.equal(["session timed out without receiving a heartbeat response"]);
    // The session timer restarted when the JoinGroup was answered (~0.1 s): expiry ~10 s later.
    expect(unknown[0].t).to.be.within(10_000_000, 11_000_000);
  });
});

describe("group consumer: max.poll.interval.ms", () => {
  it("an application that stops polling leaves the group (LeaveGroup, consumer-poll-timeout) and loses its partitions", () => {
    const cluster = new FakeCluster(1).append(0, ["a0"]);
    const h = groupHarness(cluster, { c1: { stopAtMs: 2000, config: { "max.poll.interval.ms": 20_000 } } });
    h.runTo(30_000);
    const timeouts = h.kinds("consumer-poll-timeout");
    expect(timeouts).to.have.length(1);
    expect(timeouts[0].t).to.be.within(21_000_000, 23_000_000);
    expect(timeouts[0].member).to.equal("c1-1");
    const leaves = cluster.seen("LeaveGroup");
    expect(leaves).to.have.length(1);
    expect(h.group.members.size).to.equal(0);
    // No heartbeats after leaving.
    const lastHeartbeat = cluster.seen("Heartbeat").at(-1)!.time;
    expect(lastHeartbeat).to.be.below(timeouts[0].t as number);
  });

  it("a static member does not send LeaveGroup on poll timeout", () => {
    const h = groupHarness(new FakeCluster(1), { c1: { stopAtMs: 2000, config: { "max.poll.interval.ms": 20_000, "group.instance.id": "i1" } } });
    h.runTo(30_000);
    expect(h.kinds("consumer-poll-timeout")).to.have.length(1);
    expect(h.cluster.seen("LeaveGroup")).to.have.length(0);
  });

  it("a slow application (processMs × records > max.poll.interval.ms) is kicked out and rejoins with its next poll", () => {
    const cluster = new FakeCluster(1).append(0, ["a0", "a1", "a2"]);
    const h = groupHarness(cluster, { c1: { processMs: 10_000, commit: "sync-after-process", config: { "max.poll.interval.ms": 20_000 } } });
    h.runTo(40_000);
    expect(h.kinds("consumer-poll-timeout")).to.have.length(1);
    // The commit after processing fails: the member is no longer in an active group.
    const commits = h.ops("commit", "c1").filter((e) => e.type !== "invoke");
    expect(commits[0].type).to.equal("fail");
    expect(commits[0].error).to.equal("CommitFailedException");
    // Its next poll rejoins with a fresh member id; the records come again (nothing was committed).
    const joins = cluster.seen("JoinGroup").map((r) => r.request as JoinGroupRequest);
    expect(joins.map((j) => j.memberId)).to.deep.equal(["", "c1-1", "", "c1-2"]);
    expect(h.kinds("partitions-lost", "c1")).to.have.length(1);
  });
});

describe("group consumer: commits", () => {
  it("auto-commit: positions every auto.commit.interval.ms from poll, with member and generation", () => {
    const cluster = new FakeCluster(1).append(0, ["a0", "a1"]);
    const h = groupHarness(cluster, { c1: { config: { "auto.commit.interval.ms": 1000 } } });
    h.runTo(3500);
    const commits = h.ops("commit", "c1");
    expect(commits.length).to.be.greaterThan(0);
    expect(commits.every((c) => c.mode === "auto" && c.member === "c1-1" && c.generation === 1)).to.equal(true);
    const ok = commits.filter((c) => c.type === "ok");
    expect(ok[0].offsets).to.deep.equal([{ topic: "t", partition: 0, offset: 2 }]);
    expect(h.group.committed("t", 0)).to.equal(2);
  });

  it("commitSync retries retriable errors (rediscovering the coordinator) until it succeeds: one op", () => {
    const cluster = new FakeCluster(1).append(0, ["a0"]);
    const h = groupHarness(cluster, { c1: { commit: "sync-after-process" } }, (group) => group.script.commit.push("COORDINATOR_LOAD_IN_PROGRESS", "NOT_COORDINATOR"));
    h.runTo(2000);
    const commits = h.ops("commit", "c1");
    expect(commits.map((c) => c.type)).to.deep.equal(["invoke", "ok"]);
    expect(commits[0].opId).to.equal(commits[1].opId);
    expect(cluster.seen("OffsetCommit")).to.have.length(3);
    expect(cluster.seen("FindCoordinator")).to.have.length(2);
    expect(h.group.committed("t", 0)).to.equal(1);
  });

  it("commitSync: UNKNOWN_MEMBER_ID is CommitFailedException (fail) and resets the member", () => {
    const cluster = new FakeCluster(1).append(0, ["a0"]);
    const h = groupHarness(cluster, { c1: { commit: "sync-after-process" } }, (group) => group.script.commit.push("UNKNOWN_MEMBER_ID"));
    h.runTo(2000);
    const done = h.ops("commit", "c1").filter((c) => c.type !== "invoke");
    expect(done[0].type).to.equal("fail");
    expect(done[0].error).to.equal("CommitFailedException");
    expect(h.kinds("partitions-lost", "c1")).to.have.length(1);
  });

  it("commitSync: REBALANCE_IN_PROGRESS fails with RebalanceInProgressException and rejoins", () => {
    const cluster = new FakeCluster(1).append(0, ["a0"]);
    const h = groupHarness(cluster, { c1: { commit: "sync-after-process" } }, (group) => group.script.commit.push("REBALANCE_IN_PROGRESS"));
    h.runTo(2000);
    const done = h.ops("commit", "c1").filter((c) => c.type !== "invoke");
    expect(done[0].error).to.equal("RebalanceInProgressException");
    expect(h.cluster.seen("JoinGroup").map((r) => (r.request as JoinGroupRequest).memberId)).to.deep.equal(["", "c1-1", "c1-1"]);
  });

  it("commitSync times out after default.api.timeout.ms against a silent coordinator: info", () => {
    const cluster = new FakeCluster(1).append(0, ["a0"]);
    const h = groupHarness(cluster, { c1: { commit: "sync-after-process", processMs: 1000, config: { "default.api.timeout.ms": 5000 } } });
    h.runTo(500);
    h.group.silent = true;
    h.runTo(20_000);
    const done = h.ops("commit", "c1").filter((c) => c.type !== "invoke");
    expect(done.length).to.be.greaterThan(0);
    for (const c of done) expect([c.type, c.error]).to.deep.equal(["info", "TimeoutException"]);
    // The application then commits its uncommitted processing again after an empty poll(Duration): each attempt is
    // bounded by default.api.timeout.ms again.
    const invokes = h.ops("commit", "c1").filter((c) => c.type === "invoke");
    for (let i = 1; i < done.length; i++) expect(done[i].t - invokes[i].t).to.be.at.least(5_000_000);
  });

  it("commitAsync: one attempt; a definite error is a fail", () => {
    const cluster = new FakeCluster(1).append(0, ["a0"]);
    const h = groupHarness(cluster, { c1: { commit: "async-after-process" } }, (group) => group.script.commit.push("COORDINATOR_LOAD_IN_PROGRESS"));
    h.runTo(2000);
    const commits = h.ops("commit", "c1");
    expect(commits.map((c) => [c.type, c.mode])).to.deep.equal([
      ["invoke", "async"],
      ["fail", "async"],
    ]);
    expect(cluster.seen("OffsetCommit")).to.have.length(1);
  });
});

describe("group consumer: the application loop", () => {
  const modes = ["sync-after-process", "async-after-process", "before-process"] as const;
  for (const commit of modes) {
    it(`${commit}: poll → process (records × processMs) → commit, in that order`, () => {
      const cluster = new FakeCluster(1).append(0, ["a0", "a1", "a2"]);
      const h = groupHarness(cluster, { c1: { commit, processMs: 100 } });
      h.runTo(3000);
      const poll = h.ops("poll", "c1")[0];
      const processed = h.ops("process", "c1")[0];
      const invoke = h.ops("commit", "c1").find((c) => c.type === "invoke")!;
      expect(values([processed])).to.deep.equal(["a0", "a1", "a2"]);
      expect((processed.t as number) - (poll.t as number)).to.be.at.least(300_000);
      if (commit === "before-process") expect(invoke.t as number).to.be.below(processed.t as number);
      else expect(invoke.t as number).to.equal(processed.t);
      expect(invoke.offsets).to.deep.equal([{ topic: "t", partition: 0, offset: 3 }]);
      expect(invoke.mode).to.equal(commit === "async-after-process" ? "async" : "sync");
      expect(h.group.committed("t", 0)).to.equal(3);
    });
  }

  it("max.poll.records bounds each poll; positions advance only past returned records", () => {
    const cluster = new FakeCluster(1).append(0, ["a0", "a1", "a2", "a3", "a4"]);
    const h = groupHarness(cluster, { c1: { commit: "sync-after-process", processMs: 10, config: { "max.poll.records": 2 } } });
    h.runTo(3000);
    expect(h.ops("poll", "c1").map((p) => (p.offsets as number[]).length)).to.deep.equal([2, 2, 1]);
    expect(h.ops("commit", "c1").filter((c) => c.type === "ok").map((c) => (c.offsets as { offset: number }[])[0].offset)).to.deep.equal([2, 4, 5]);
    // One Fetch for these records: the rest waited in the buffer until the last poll took them.
    const lastPoll = h.ops("poll", "c1")[2].t as number;
    expect(cluster.seen("Fetch").filter((r) => r.time < lastPoll - 1000)).to.have.length(1);
  });

  it("close(): auto-commit, revoke, LeaveGroup; nothing is sent afterwards", () => {
    const cluster = new FakeCluster(1).append(0, ["a0"]);
    const h = groupHarness(cluster, { c1: { closeAtMs: 2000, config: { "auto.commit.interval.ms": 60_000 } } });
    h.runTo(10_000);
    const commits = h.ops("commit", "c1");
    expect(commits.map((c) => c.type)).to.deep.equal(["invoke", "ok"]);
    expect(commits[0].t as number).to.be.at.least(2_000_000);
    expect(h.kinds("partitions-revoked", "c1").map((e) => e.partitions)).to.deep.equal([["t-0"]]);
    expect(cluster.seen("LeaveGroup")).to.have.length(1);
    expect(h.kinds("consumer-closed")).to.have.length(1);
    const closedAt = h.kinds("consumer-closed")[0].t as number;
    expect(cluster.requests.filter((r) => r.time > closedAt + 2000)).to.have.length(0);
    expect(h.group.committed("t", 0)).to.equal(1);
  });
});

describe("group consumer: two members", () => {
  it("EAGER: a second member triggers a rebalance that revokes everything and splits the partitions", () => {
    const cluster = new FakeCluster(2).append(0, ["a0"]).append(1, ["b0"]);
    const h = groupHarness(cluster, { c1: {}, c2: { startAtMs: 1000 } });
    h.runTo(8000);
    expect(h.kinds("partitions-assigned", "c1").map((e) => e.partitions)).to.deep.equal([["t-0", "t-1"], ["t-0"]]);
    expect(h.kinds("partitions-revoked", "c1").map((e) => e.partitions)).to.deep.equal([["t-0", "t-1"]]);
    expect(h.kinds("partitions-assigned", "c2").map((e) => e.partitions)).to.deep.equal([["t-1"]]);
    expect(h.kinds("consumer-group-joined", "c1").map((e) => [e.generation, e.leader])).to.deep.equal([
      [1, true],
      [2, true],
    ]);
  });

  it("COOPERATIVE (KIP-429): the owner revokes only what moves, then a second rebalance hands it out", () => {
    const cluster = new FakeCluster(2).append(0, ["a0"]).append(1, ["b0"]);
    const cooperative = { assignor: () => new TestCooperativeAssignor(), config: { "partition.assignment.strategy": ["cooperative-sticky"] } };
    const h = groupHarness(cluster, { c1: { ...cooperative }, c2: { ...cooperative, startAtMs: 1000 } });
    h.runTo(8000);
    // Generation 2: c1 keeps t-0 (nothing new), gives up t-1, which nobody gets yet; c1 rejoins.
    expect(h.kinds("partitions-revoked", "c1").map((e) => [e.generation, e.partitions, e.protocol])).to.deep.equal([[2, ["t-1"], "COOPERATIVE"]]);
    expect(h.kinds("partitions-assigned", "c1").map((e) => [e.generation, e.partitions])).to.deep.equal([
      [1, ["t-0", "t-1"]],
      [2, []],
      [3, []],
    ]);
    // Generation 3: c2 gets t-1.
    expect(h.kinds("partitions-assigned", "c2").map((e) => [e.generation, e.partitions])).to.deep.equal([
      [2, []],
      [3, ["t-1"]],
    ]);
    // c1 never stopped owning t-0: no revocation of it, and its subscription carried what it owned.
    const joins = cluster.seen("JoinGroup").map((r) => r.request as JoinGroupRequest).filter((j) => j.clientId === "c1" && j.memberId !== "");
    expect(joins.map((j) => j.protocols[0].metadata.ownedPartitions.map((tp) => `${tp.topic}-${tp.partition}`))).to.deep.equal([[], ["t-0", "t-1"], ["t-0"]]);
    expect(joins.map((j) => j.protocols[0].metadata.generationId)).to.deep.equal([-1, 1, 2]);
  });
});
