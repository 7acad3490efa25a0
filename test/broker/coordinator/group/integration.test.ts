// The group coordinator on a real simulated cluster: a test client finds the coordinator (creating
// __consumer_offsets), joins, syncs, heartbeats, commits and fetches offsets over the network.
import { expect } from "chai";
import type { JoinGroupResponse, OffsetCommitResponse } from "../../../../src/protocol/group.ts";
import { GROUP_METADATA_TOPIC_NAME } from "../../../../src/protocol/group.ts";
import { GroupCluster, syncAnswer } from "./cluster.ts";

/** Two dynamic members reach Stable in generation 1; returns the coordinator and both member ids (leader first). */
function stableGroup(cluster: GroupCluster): { coordinator: string; leader: string; follower: string } {
  const coordinator = cluster.findCoordinator();
  const a = cluster.memberId(coordinator, "c1");
  const b = cluster.memberId(coordinator, "c2");
  const joinA = cluster.sendJoin(coordinator, { clientId: "c1", memberId: a });
  const joinB = cluster.sendJoin(coordinator, { clientId: "c2", memberId: b });
  const ja = cluster.awaitAnswer<JoinGroupResponse>(joinA);
  const jb = cluster.awaitAnswer<JoinGroupResponse>(joinB);
  expect(ja).to.include({ error: "NONE", generationId: 1, protocolName: "range" });
  expect(jb).to.include({ error: "NONE", generationId: 1, leader: ja.leader });
  const [leader, follower] = ja.leader === a ? [a, b] : [b, a];
  const leaderJoin = ja.leader === a ? ja : jb;
  expect(leaderJoin.members.map((m) => m.memberId)).to.have.members([a, b]);
  const followerSync = cluster.sendSync(coordinator, follower, 1);
  cluster.run(50);
  const leaderSync = cluster.sendSync(coordinator, leader, 1, [
    { memberId: leader, partitions: [0] },
    { memberId: follower, partitions: [1] },
  ]);
  expect(syncAnswer(cluster, leaderSync).assignment.assignedPartitions).to.deep.equal([{ topic: "t", partition: 0 }]);
  expect(syncAnswer(cluster, followerSync).assignment.assignedPartitions).to.deep.equal([{ topic: "t", partition: 1 }]);
  return { coordinator, leader, follower };
}

describe("group coordinator: on a simulated cluster", function () {
  this.timeout(120_000);

  it("creates __consumer_offsets on the first FindCoordinator; two members reach Stable in generation 1 after MEMBER_ID_REQUIRED", () => {
    const cluster = new GroupCluster();
    const { coordinator } = stableGroup(cluster);
    const created = cluster.events("offsets-topic-created");
    expect(created).to.have.length(1);
    expect(created[0]).to.include({ partitions: 3, replicationFactor: 3 });
    expect(cluster.broker("broker-1").topicConfig(GROUP_METADATA_TOPIC_NAME)).to.deep.include({ "cleanup.policy": "compact", "segment.bytes": 104_857_600 });
    const states = cluster.events("group-state").filter((e) => e.node === coordinator);
    expect(states.map((e) => e.state)).to.deep.equal(["PreparingRebalance", "CompletingRebalance", "Stable"]);
    expect(states.at(-1)).to.include({ generation: 1, protocol: "range" });
    expect(cluster.events("group-coordinator-loaded").some((e) => e.node === coordinator)).to.equal(true);
  });

  it("a replication factor above the live brokers leaves the topic uncreated: COORDINATOR_NOT_AVAILABLE", () => {
    const cluster = new GroupCluster({ "offsets.topic.replication.factor": 4 });
    cluster.run(15_000);
    for (let i = 0; i < 5; i++) {
      const answer = cluster.request<{ error: string }>("broker-1", { type: "FindCoordinator", key: "g1", keyType: 0 });
      expect(answer?.error).to.equal("COORDINATOR_NOT_AVAILABLE");
      cluster.run(500);
    }
    expect(cluster.events("offsets-topic-created")).to.have.length(0);
    expect(cluster.events("offsets-topic-create-failed")[0]).to.include({ error: "INVALID_REPLICATION_FACTOR", liveBrokers: 3 });
  });

  it("a member that stops heartbeating is removed after session.timeout.ms and the group rebalances without it", () => {
    const cluster = new GroupCluster();
    const { coordinator, leader, follower } = stableGroup(cluster);
    // The leader heartbeats every second; the follower is silent.
    let answer = "NONE";
    for (let i = 0; i < 15 && answer === "NONE"; i++) {
      cluster.run(1000);
      answer = cluster.heartbeat(coordinator, leader, 1)!.error;
    }
    expect(answer).to.equal("REBALANCE_IN_PROGRESS");
    const removed = cluster.events("group-member-removed");
    expect(removed).to.have.length(1);
    expect(removed[0]).to.include({ member: follower, reason: "heartbeat-expiration" });
    // The follower's session (10 s) restarted when its assignment was sent, as the group went Stable.
    const stable = cluster.events("group-state").find((e) => e.state === "Stable")!;
    expect((removed[0].t - stable.t) / 1000).to.equal(10_000);
    const rejoin = cluster.join(coordinator, { clientId: "c1", memberId: leader });
    expect(rejoin).to.include({ error: "NONE", generationId: 2, leader });
    expect(rejoin.members.map((m) => m.memberId)).to.deep.equal([leader]);
  });

  it("a session timeout outside group.min/max.session.timeout.ms gets INVALID_SESSION_TIMEOUT", () => {
    const cluster = new GroupCluster({ "group.max.session.timeout.ms": 20_000 });
    const coordinator = cluster.findCoordinator();
    expect(cluster.join(coordinator, { clientId: "c1", sessionTimeoutMs: 5999 }).error).to.equal("INVALID_SESSION_TIMEOUT");
    expect(cluster.join(coordinator, { clientId: "c1", sessionTimeoutMs: 20_001 }).error).to.equal("INVALID_SESSION_TIMEOUT");
    expect(cluster.join(coordinator, { clientId: "c1", sessionTimeoutMs: 6000 }).error).to.equal("MEMBER_ID_REQUIRED");
  });

  it("a commit with a stale generation gets ILLEGAL_GENERATION; the current one is stored and fetched", () => {
    const cluster = new GroupCluster();
    const { coordinator, leader } = stableGroup(cluster);
    const stale = cluster.commit(coordinator, leader, 0, { 0: 5 })!;
    expect(stale.partitions[0].error).to.equal("ILLEGAL_GENERATION");
    const ok = cluster.commit(coordinator, leader, 1, { 0: 7 })!;
    expect(ok.partitions[0].error).to.equal("NONE");
    const fetched = cluster.fetchOffsets(coordinator)!;
    expect(fetched.error).to.equal("NONE");
    expect(fetched.partitions.map((p) => p.committedOffset)).to.deep.equal([7, -1]);
    expect(cluster.events("group-offsets-committed")[0]).to.deep.include({ group: "g1", member: leader, generation: 1, offsets: [{ topic: "t", partition: 0, offset: 7 }] });
    expect(cluster.commit(coordinator, "nobody", 1, { 0: 9 })!.partitions[0].error).to.equal("UNKNOWN_MEMBER_ID");
  });

  it("a committed offset survives the coordinator's crash: the new leader loads it (OffsetFetch meanwhile: COORDINATOR_LOAD_IN_PROGRESS)", () => {
    const cluster = new GroupCluster({ "offsets.topic.num.partitions": 1 });
    const { coordinator, leader } = stableGroup(cluster);
    // Enough commits that loading takes a while.
    let last: OffsetCommitResponse | undefined;
    for (let i = 1; i <= 300; i++) last = cluster.commit(coordinator, leader, 1, { 0: i, 1: 1000 + i });
    expect(last!.partitions.map((p) => p.error)).to.deep.equal(["NONE", "NONE"]);
    cluster.built.world.host(coordinator).crash();
    const others = ["broker-1", "broker-2", "broker-3"].filter((b) => b !== coordinator);
    const seen = new Set<string>();
    let result: number[] = [];
    cluster.run(60_000, () => {
      for (const broker of others) {
        const answer = cluster.fetchOffsets(broker);
        if (answer === undefined) continue;
        seen.add(answer.error);
        if (answer.error === "NONE") {
          result = answer.partitions.map((p) => p.committedOffset);
          return true;
        }
      }
      return false;
    });
    expect(result).to.deep.equal([300, 1300]);
    expect([...seen]).to.include("COORDINATOR_LOAD_IN_PROGRESS");
    const loaded = cluster.events("group-coordinator-loaded").filter((e) => e.node !== coordinator);
    expect(loaded[0]).to.include({ groups: 1, offsets: 2 });
  });

  it("a static member rejoining with a new member id replaces the old one, which is then FENCED_INSTANCE_ID", () => {
    const cluster = new GroupCluster();
    const coordinator = cluster.findCoordinator();
    const first = cluster.join(coordinator, { clientId: "c1", instanceId: "i1" });
    expect(first).to.include({ error: "NONE", generationId: 1 });
    const old = first.memberId;
    expect(old.startsWith("i1-")).to.equal(true);
    const sync = syncAnswer(cluster, cluster.sendSync(coordinator, old, 1, [{ memberId: old, partitions: [0, 1] }], "i1"));
    expect(sync.error).to.equal("NONE");
    // The restarted instance joins with no member id: it replaces the old one without a rebalance.
    const again = cluster.join(coordinator, { clientId: "c1", instanceId: "i1" });
    expect(again).to.include({ error: "NONE", generationId: 1, skipAssignment: true });
    expect(again.memberId).to.not.equal(old);
    expect(cluster.heartbeat(coordinator, old, 1, "i1")!.error).to.equal("FENCED_INSTANCE_ID");
    expect(cluster.commit(coordinator, old, 1, { 0: 3 }, "i1")!.partitions[0].error).to.equal("FENCED_INSTANCE_ID");
    expect(cluster.heartbeat(coordinator, again.memberId, 1, "i1")!.error).to.equal("NONE");
    expect(cluster.events("group-member-removed").at(-1)).to.include({ member: old, instanceId: "i1", reason: "static-member-replaced" });
  });
});
