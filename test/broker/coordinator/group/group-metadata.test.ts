// GroupMetadata alone: Kafka's validPreviousStates on every transition, protocol selection, members, static
// member replacement, pending members and offsets applied only when their append completes.
import { expect } from "chai";
import { GroupMetadata, VALID_PREVIOUS_STATES, type GroupState } from "../../../../src/broker/coordinator/group/group-metadata.ts";
import { MemberMetadata } from "../../../../src/broker/coordinator/group/member-metadata.ts";
import { ModelAssertionError } from "../../../../src/sim/assert.ts";

const STATES: GroupState[] = ["Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"];

function member(id: string, protocols: string[], instanceId: string | null = null): MemberMetadata {
  return new MemberMetadata(id, instanceId, "client", 30_000, 10_000, "consumer", protocols.map((name) => ({ name, metadata: { topics: ["t"], userData: null, ownedPartitions: [], generationId: -1 } })));
}

/** A group forced into `state` through valid transitions. */
function groupIn(state: GroupState): GroupMetadata {
  const group = new GroupMetadata("g", "Empty", 0);
  const path: Record<GroupState, GroupState[]> = {
    Empty: [],
    PreparingRebalance: ["PreparingRebalance"],
    CompletingRebalance: ["PreparingRebalance", "CompletingRebalance"],
    Stable: ["PreparingRebalance", "CompletingRebalance", "Stable"],
    Dead: ["Dead"],
  };
  for (const next of path[state]) group.transitionTo(next, 0);
  return group;
}

describe("GroupMetadata", () => {
  it("allows exactly Kafka's transitions (validPreviousStates) and asserts the rest", () => {
    for (const from of STATES) {
      for (const to of STATES) {
        const group = groupIn(from);
        const valid = VALID_PREVIOUS_STATES[to].includes(from);
        if (valid) {
          group.transitionTo(to, 5);
          expect(group.currentState, `${from} → ${to}`).to.equal(to);
          expect(group.currentStateTimestamp).to.equal(5);
        } else {
          expect(() => group.transitionTo(to, 5), `${from} → ${to}`).to.throw(ModelAssertionError);
        }
      }
    }
    expect(VALID_PREVIOUS_STATES.Stable).to.deep.equal(["CompletingRebalance"]);
    expect(VALID_PREVIOUS_STATES.Empty).to.deep.equal(["PreparingRebalance"]);
  });

  it("selects the most-voted protocol among those every member supports", () => {
    const group = new GroupMetadata("g", "Empty", 0);
    group.add(member("a", ["roundrobin", "range"]));
    group.transitionTo("PreparingRebalance", 0);
    group.add(member("b", ["range", "roundrobin"]));
    group.add(member("c", ["range", "sticky"]));
    // Candidates: range only (roundrobin lacks c): all vote range.
    expect(group.selectProtocol()).to.equal("range");
    group.remove("c");
    // Candidates range and roundrobin; a votes roundrobin, b range: a tie goes to the first voted.
    expect(group.selectProtocol()).to.equal("roundrobin");
    group.add(member("d", ["range", "roundrobin"]));
    expect(group.selectProtocol()).to.equal("range");
    expect(group.supportsProtocols("consumer", member("x", ["sticky"]).supportedProtocols)).to.equal(false);
    expect(group.supportsProtocols("connect", member("x", ["range"]).supportedProtocols)).to.equal(false);
  });

  it("the first member leads; a removed leader is replaced by the first remaining member", () => {
    const group = groupIn("PreparingRebalance");
    group.add(member("a", ["range"]));
    group.add(member("b", ["range"]));
    expect(group.isLeader("a")).to.equal(true);
    group.remove("a");
    expect(group.leaderOrNull).to.equal("b");
    group.remove("b");
    expect(group.leaderOrNull).to.equal(null);
  });

  it("initNextGeneration: generation + 1, CompletingRebalance with a protocol, or Empty without members", () => {
    const group = groupIn("PreparingRebalance");
    group.add(member("a", ["range"]), () => {});
    group.initNextGeneration(1);
    expect(group).to.include({ generationId: 1, protocolName: "range", currentState: "CompletingRebalance" });
    group.transitionTo("PreparingRebalance", 2);
    group.remove("a");
    group.initNextGeneration(3);
    expect(group).to.include({ generationId: 2, protocolName: null, currentState: "Empty" });
  });

  it("pending members hold back hasAllMembersJoined until they join", () => {
    const group = groupIn("PreparingRebalance");
    group.add(member("a", ["range"]), () => {});
    expect(group.hasAllMembersJoined).to.equal(true);
    group.addPendingMember("p");
    expect(group.hasAllMembersJoined).to.equal(false);
    group.add(member("p", ["range"]), () => {});
    expect(group.isPendingMember("p")).to.equal(false);
    expect(group.hasAllMembersJoined).to.equal(true);
  });

  it("replaceStaticMember moves the instance to the new id and answers the old id's parked join FENCED_INSTANCE_ID", () => {
    const group = groupIn("PreparingRebalance");
    const answers: string[] = [];
    group.add(member("old", ["range"], "i1"), (r) => answers.push(r.error));
    const replaced = group.replaceStaticMember("i1", "old", "new");
    expect(answers).to.deep.equal(["FENCED_INSTANCE_ID"]);
    expect(replaced.memberId).to.equal("new");
    expect(group.currentStaticMemberId("i1")).to.equal("new");
    expect(group.has("old")).to.equal(false);
    expect(group.isLeader("new")).to.equal(true);
  });

  it("an offset is applied only when its append completes, and a later batch wins", () => {
    const group = new GroupMetadata("g", "Empty", 0);
    const first = { offset: 5, leaderEpoch: -1, metadata: "", commitTimestamp: 0 };
    const second = { offset: 9, leaderEpoch: -1, metadata: "", commitTimestamp: 1 };
    group.prepareOffsetCommit([{ topic: "t", partition: 0, offsetAndMetadata: first }]);
    expect(group.offset("t", 0)).to.equal(null);
    expect(group.hasPendingOffsetCommitsForTopicPartition("t", 0)).to.equal(true);
    group.prepareOffsetCommit([{ topic: "t", partition: 0, offsetAndMetadata: second }]);
    group.onOffsetCommitAppend({ topic: "t", partition: 0, appendedBatchOffset: 11, offsetAndMetadata: second });
    group.onOffsetCommitAppend({ topic: "t", partition: 0, appendedBatchOffset: 10, offsetAndMetadata: first });
    expect(group.offset("t", 0)?.offset).to.equal(9);
    expect(group.hasPendingOffsetCommitsForTopicPartition("t", 0)).to.equal(false);
    group.prepareOffsetCommit([{ topic: "t", partition: 1, offsetAndMetadata: first }]);
    group.failPendingOffsetWrite("t", 1, first);
    expect(group.offset("t", 1)).to.equal(null);
    expect(group.hasPendingOffsetCommitsForTopicPartition("t", 1)).to.equal(false);
  });
});
