/** Vectors from Kafka 3.6's CooperativeStickyAssignorTest and AbstractStickyAssignorTest; each `it` names its Kafka test. */

import { expect } from "chai";
import fc from "fast-check";
import { CooperativeStickyAssignor } from "../../../../src/clients/consumer/assignors/cooperative-sticky.ts";
import { StickyAssignor } from "../../../../src/clients/consumer/assignors/sticky.ts";
import type { Subscription } from "../../../../src/clients/consumer/assignors/partition-assignor.ts";
import type { TopicPartitionRef } from "../../../../src/protocol/kafka.ts";
import { abstractStickyAssignorTests } from "./abstract-sticky-suite.ts";
import { cooperativeSubscriptionV2, isFullyBalanced, perTopic, subscription, tp, verifyCooperative } from "./helpers.ts";

const topic = "topic";
const [consumer1, consumer2, consumer3] = ["consumer1", "consumer2", "consumer3"];
const generationId = 1;

describe("CooperativeStickyAssignor (Kafka CooperativeStickyAssignorTest)", () => {
  abstractStickyAssignorTests({
    create: () => new CooperativeStickyAssignor(),
    v2: cooperativeSubscriptionV2,
    verify: (assignor, partitionsPerTopic, subscriptions, assignment) => verifyCooperative(assignor, partitionsPerTopic, subscriptions, assignment),
  });

  it("supports COOPERATIVE first, then EAGER", () => {
    expect(new CooperativeStickyAssignor().supportedProtocols).to.deep.equal(["COOPERATIVE", "EAGER"]);
    expect(new StickyAssignor().supportedProtocols).to.deep.equal(["EAGER"]);
  });

  it("testEncodeAndDecodeGeneration", () => {
    const assignor = new CooperativeStickyAssignor();
    const before = assignor.memberData({ ...subscription([topic]), userData: assignor.subscriptionUserData() });
    expect(before.generation).to.equal(-1);
    assignor.onAssignment([], 10);
    const after = assignor.memberData({ ...subscription([topic]), userData: assignor.subscriptionUserData() });
    expect(after.generation).to.equal(10);
  });

  it("testDecodeGeneration: no user data, no generation", () => {
    expect(new CooperativeStickyAssignor().memberData(subscription([topic])).generation).to.equal(null);
  });

  it("testAllConsumersHaveOwnedPartitionInvalidatedWhenClaimedByMultipleConsumersInSameGenerationWithEqualPartitionsPerConsumer", () => {
    const assignor = new CooperativeStickyAssignor();
    const partitionsPerTopic = perTopic({ topic: 3 });
    const subscriptions = new Map([
      [consumer1, cooperativeSubscriptionV2(assignor, [topic], [tp(topic, 0), tp(topic, 1)], generationId)],
      [consumer2, cooperativeSubscriptionV2(assignor, [topic], [tp(topic, 0), tp(topic, 2)], generationId)],
      [consumer3, cooperativeSubscriptionV2(assignor, [topic], [], generationId)],
    ]);
    const assignment = assignor.assign(partitionsPerTopic, subscriptions);
    expect(assignment.get(consumer1)).to.deep.equal([tp(topic, 1)]);
    expect(assignment.get(consumer2)).to.deep.equal([tp(topic, 2)]);
    // topic-0 counts as owned: it cannot be assigned until both claimants have revoked it.
    expect(assignment.get(consumer3)).to.deep.equal([]);
    expect(isFullyBalanced(verifyCooperative(assignor, partitionsPerTopic, subscriptions, assignment))).to.equal(true);
  });

  it("testAllConsumersHaveOwnedPartitionInvalidatedWhenClaimedByMultipleConsumersInSameGenerationWithUnequalPartitionsPerConsumer", () => {
    const assignor = new CooperativeStickyAssignor();
    const partitionsPerTopic = perTopic({ topic: 4 });
    const subscriptions = new Map([
      [consumer1, cooperativeSubscriptionV2(assignor, [topic], [tp(topic, 0), tp(topic, 1)], generationId)],
      [consumer2, cooperativeSubscriptionV2(assignor, [topic], [tp(topic, 0), tp(topic, 2)], generationId)],
      [consumer3, cooperativeSubscriptionV2(assignor, [topic], [], generationId)],
    ]);
    const assignment = assignor.assign(partitionsPerTopic, subscriptions);
    expect(assignment.get(consumer1)).to.deep.equal([tp(topic, 1), tp(topic, 3)]);
    expect(assignment.get(consumer2)).to.deep.equal([tp(topic, 2)]);
    expect(assignment.get(consumer3)).to.deep.equal([]);
    expect(isFullyBalanced(verifyCooperative(assignor, partitionsPerTopic, subscriptions, assignment))).to.equal(true);
  });

  it("testMemberDataWithInconsistentData: ownedPartitions from the subscription, the generation from the user data", () => {
    const assignor = new CooperativeStickyAssignor();
    assignor.onAssignment([tp(topic, 1)], generationId);
    const memberData = assignor.memberData({ ...subscription([topic]), userData: assignor.subscriptionUserData(), ownedPartitions: [tp(topic, 0)] });
    expect(memberData.partitions).to.deep.equal([tp(topic, 0)]);
    expect(memberData.generation).to.equal(generationId);
  });

  it("testMemberDataWithEmptyPartitionsAndEqualGeneration", () => {
    const assignor = new CooperativeStickyAssignor();
    assignor.onAssignment([tp("topic1", 0), tp("topic2", 1)], generationId);
    const memberData = assignor.memberData({ topics: [topic], userData: assignor.subscriptionUserData(), ownedPartitions: [], generationId, groupInstanceId: null });
    expect(memberData.partitions).to.deep.equal([]);
    expect(memberData.generation).to.equal(generationId);
  });

  it("testMemberDataWithEmptyPartitionsAndHigherGeneration", () => {
    const assignor = new CooperativeStickyAssignor();
    assignor.onAssignment([tp("topic1", 0), tp("topic2", 1)], generationId - 1);
    const memberData = assignor.memberData({ topics: [topic], userData: assignor.subscriptionUserData(), ownedPartitions: [], generationId, groupInstanceId: null });
    expect(memberData.partitions).to.deep.equal([]);
    expect(memberData.generation).to.equal(generationId);
  });

  it("testAssignorWithOldVersionSubscriptions (V1: owned partitions, generation only in the user data)", () => {
    const assignor = new CooperativeStickyAssignor();
    const v1 = (partitions: TopicPartitionRef[]): Subscription => {
      assignor.onAssignment(partitions, generationId);
      return { topics: ["topic1"], userData: assignor.subscriptionUserData(), ownedPartitions: partitions, generationId: -1, groupInstanceId: null };
    };
    const partitionsPerTopic = perTopic({ topic1: 3 });
    const subscriptions = new Map([
      [consumer1, v1([tp("topic1", 0)])],
      [consumer2, v1([tp("topic1", 1)])],
      [consumer3, cooperativeSubscriptionV2(assignor, ["topic1"], [], generationId)],
    ]);
    const assignment = assignor.assign(partitionsPerTopic, subscriptions);
    expect(assignment.get(consumer1)).to.deep.equal([tp("topic1", 0)]);
    expect(assignment.get(consumer2)).to.deep.equal([tp("topic1", 1)]);
    expect(assignment.get(consumer3)).to.deep.equal([tp("topic1", 2)]);
  });

  it("property: no partition moves directly between owners in one round; the follow-up round converges, balanced, every partition once", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (partitionCounts, rounds, mixedSubscriptions) => {
          const allTopics = new Map(partitionCounts.map((count, i) => [`t${i}`, count] as const));
          const topics = [...allTopics.keys()];
          // Mixed: even members subscribe to everything, odd ones to the first topic only (the general builder).
          const topicsOf = (member: number): string[] => (mixedSubscriptions && member % 2 === 1 ? topics.slice(0, 1) : topics);
          const assignor = new CooperativeStickyAssignor();
          let owned = new Map<string, readonly TopicPartitionRef[]>();
          rounds.forEach((memberNumbers, round) => {
            const members = [...new Set(memberNumbers)];
            const subscriptions = new Map(members.map((n) => [`c${n}`, cooperativeSubscriptionV2(assignor, topicsOf(n), owned.get(`c${n}`) ?? [], round + 1)]));
            // As AbstractPartitionAssignor.assign builds it: only the subscribed topics.
            const subscribed = new Set(members.flatMap(topicsOf));
            const partitionsPerTopic = new Map([...allTopics].filter(([name]) => subscribed.has(name)));
            const assignment = assignor.assign(partitionsPerTopic, subscriptions);
            const newOwner = new Map<string, string>();
            for (const [member, partitions] of assignment) for (const p of partitions) newOwner.set(`${p.topic}-${p.partition}`, member);
            for (const [member, sub] of subscriptions) {
              for (const p of sub.ownedPartitions) {
                const to = newOwner.get(`${p.topic}-${p.partition}`);
                expect(to === undefined || to === member, `${p.topic}-${p.partition} moved from ${member} to ${to}`).to.equal(true);
              }
            }
            // verifyCooperative runs the follow-up rebalances and checks validity and balance.
            const settled = verifyCooperative(assignor, partitionsPerTopic, subscriptions, assignment, round + 1);
            const all = [...settled.values()].flat().map((p) => `${p.topic}-${p.partition}`);
            expect(new Set(all).size).to.equal(all.length);
            expect(all.length).to.equal([...partitionsPerTopic.values()].reduce((a, b) => a + b, 0));
            if (!mixedSubscriptions) expect(isFullyBalanced(settled)).to.equal(true);
            owned = settled;
          });
        },
      ),
      { seed: 15, numRuns: 200 },
    );
  });
});
