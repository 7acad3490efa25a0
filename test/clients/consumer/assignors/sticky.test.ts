/** Vectors from Kafka 3.6's StickyAssignorTest and AbstractStickyAssignorTest; each `it` names its Kafka test. */

import { expect } from "chai";
import fc from "fast-check";
import { StickyAssignor, serializeTopicPartitionAssignment } from "../../../../src/clients/consumer/assignors/sticky.ts";
import type { Subscription } from "../../../../src/clients/consumer/assignors/partition-assignor.ts";
import type { TopicPartitionRef } from "../../../../src/protocol/kafka.ts";
import { abstractStickyAssignorTests } from "./abstract-sticky-suite.ts";
import { isFullyBalanced, perTopic, stickySubscriptionV2, subscription, tp, verifyValidityAndBalance } from "./helpers.ts";

const topic = "topic";
const [consumer1, consumer2, consumer3] = ["consumer1", "consumer2", "consumer3"];
const generationId = 1;

describe("StickyAssignor (Kafka StickyAssignorTest)", () => {
  abstractStickyAssignorTests({
    create: () => new StickyAssignor(),
    v2: (_assignor, topics, partitions, generation) => stickySubscriptionV2(topics, partitions, generation),
    verify: (_assignor, _partitionsPerTopic, subscriptions, assignment) => {
      verifyValidityAndBalance(subscriptions, assignment);
      return assignment;
    },
  });

  it("testAllConsumersHaveOwnedPartitionInvalidatedWhenClaimedByMultipleConsumersInSameGenerationWithEqualPartitionsPerConsumer", () => {
    const subscriptions = new Map([
      [consumer1, stickySubscriptionV2([topic], [tp(topic, 0), tp(topic, 1)], generationId)],
      [consumer2, stickySubscriptionV2([topic], [tp(topic, 0), tp(topic, 2)], generationId)],
      [consumer3, stickySubscriptionV2([topic], [], generationId)],
    ]);
    const assignment = new StickyAssignor().assign(perTopic({ topic: 3 }), subscriptions);
    expect(assignment.get(consumer1)).to.deep.equal([tp(topic, 1)]);
    expect(assignment.get(consumer2)).to.deep.equal([tp(topic, 2)]);
    expect(assignment.get(consumer3)).to.deep.equal([tp(topic, 0)]);
  });

  it("testAllConsumersHaveOwnedPartitionInvalidatedWhenClaimedByMultipleConsumersInSameGenerationWithUnequalPartitionsPerConsumer", () => {
    const subscriptions = new Map([
      [consumer1, stickySubscriptionV2([topic], [tp(topic, 0), tp(topic, 1)], generationId)],
      [consumer2, stickySubscriptionV2([topic], [tp(topic, 0), tp(topic, 2)], generationId)],
      [consumer3, stickySubscriptionV2([topic], [], generationId)],
    ]);
    const assignment = new StickyAssignor().assign(perTopic({ topic: 4 }), subscriptions);
    expect(assignment.get(consumer1)).to.deep.equal([tp(topic, 1), tp(topic, 3)]);
    expect(assignment.get(consumer2)).to.deep.equal([tp(topic, 2)]);
    expect(assignment.get(consumer3)).to.deep.equal([tp(topic, 0)]);
  });

  for (const isAllSubscriptionsEqual of [true, false]) {
    it(`testAssignmentWithMultipleGenerations1 (isAllSubscriptionsEqual = ${isAllSubscriptionsEqual})`, () => {
      const assignor = new StickyAssignor();
      const allTopics = [topic, "topic2"];
      const consumer2Topics = isAllSubscriptionsEqual ? allTopics : [topic];
      const partitionsPerTopic = perTopic({ topic: 6, topic2: 6 });
      let subscriptions = new Map([
        [consumer1, subscription(allTopics)],
        [consumer2, subscription(consumer2Topics)],
        [consumer3, subscription(allTopics)],
      ]);
      let assignment = assignor.assign(partitionsPerTopic, subscriptions);
      const [r1p1, r1p2, r1p3] = [consumer1, consumer2, consumer3].map((c) => assignment.get(c) ?? []);
      expect([r1p1.length, r1p2.length, r1p3.length]).to.deep.equal([4, 4, 4]);
      verifyValidityAndBalance(subscriptions, assignment);

      subscriptions = new Map([
        [consumer1, stickySubscriptionV2(allTopics, r1p1, generationId)],
        [consumer2, stickySubscriptionV2(consumer2Topics, r1p2, generationId)],
      ]);
      assignment = assignor.assign(partitionsPerTopic, subscriptions);
      const [r2p1, r2p2] = [consumer1, consumer2].map((c) => assignment.get(c) ?? []);
      expect([r2p1.length, r2p2.length]).to.deep.equal([6, 6]);
      if (isAllSubscriptionsEqual) expect(r2p1).to.deep.include.members(r1p1);
      expect(r2p2).to.deep.include.members(r1p2);
      expect(r2p2.some((p) => r1p3.some((q) => q.topic === p.topic && q.partition === p.partition))).to.equal(true);
      verifyValidityAndBalance(subscriptions, assignment);

      subscriptions = new Map([
        [consumer2, stickySubscriptionV2(consumer2Topics, r2p2, 2)],
        [consumer3, stickySubscriptionV2(allTopics, r1p3, 1)],
      ]);
      assignment = assignor.assign(partitionsPerTopic, subscriptions);
      const [r3p2, r3p3] = [consumer2, consumer3].map((c) => assignment.get(c) ?? []);
      expect([r3p2.length, r3p3.length]).to.deep.equal([6, 6]);
      verifyValidityAndBalance(subscriptions, assignment);
      expect(isFullyBalanced(assignment)).to.equal(true);
    });

    it(`testAssignmentWithConflictingPreviousGenerations (isAllSubscriptionsEqual = ${isAllSubscriptionsEqual})`, () => {
      const partitionsPerTopic = perTopic({ topic: 4, topic2: 4, topic3: 4 });
      const allTopics = [topic, "topic2", "topic3"];
      const c1Topics = isAllSubscriptionsEqual ? allTopics : [topic];
      const c2Topics = isAllSubscriptionsEqual ? allTopics : [topic, "topic2"];
      const t = (name: string, p: number) => tp(name, p);
      const c1p0 = isAllSubscriptionsEqual ? [t(topic, 0), t(topic, 1), t(topic, 2), t("topic2", 2), t("topic2", 3), t("topic3", 0)] : [t(topic, 0), t(topic, 1), t(topic, 2), t(topic, 3)];
      const c2p0 = [t(topic, 0), t(topic, 1), t("topic2", 0), t("topic2", 1), t("topic2", 2), t("topic2", 3)];
      const c3p0 = [t(topic, 2), t(topic, 3), t("topic3", 0), t("topic3", 1), t("topic3", 2), t("topic3", 3)];
      const subscriptions = new Map([
        [consumer1, stickySubscriptionV2(c1Topics, c1p0, 1)],
        [consumer2, stickySubscriptionV2(c2Topics, c2p0, 2)],
        [consumer3, stickySubscriptionV2(allTopics, c3p0, 2)],
      ]);
      const assignment = new StickyAssignor().assign(partitionsPerTopic, subscriptions);
      const [c1, c2, c3] = [consumer1, consumer2, consumer3].map((c) => assignment.get(c) ?? []);
      expect([c1.length, c2.length, c3.length]).to.deep.equal([4, 4, 4]);
      expect(c2p0).to.deep.include.members(c2);
      expect(c3p0).to.deep.include.members(c3);
      verifyValidityAndBalance(subscriptions, assignment);
    });
  }

  it("testSchemaBackwardCompatibility: a V0 user data (no generation) beside a V1 one", () => {
    const partitionsPerTopic = perTopic({ topic: 3 });
    const c1partitions0 = [tp(topic, 0), tp(topic, 2)];
    const c2partitions0 = [tp(topic, 1)];
    const subscriptions = new Map<string, Subscription>([
      [consumer1, stickySubscriptionV2([topic], c1partitions0, 1)],
      [consumer2, { ...subscription([topic]), userData: { previousAssignment: c2partitions0, generation: null } }],
      [consumer3, subscription([topic])],
    ]);
    const assignment = new StickyAssignor().assign(partitionsPerTopic, subscriptions);
    const [c1, c2, c3] = [consumer1, consumer2, consumer3].map((c) => assignment.get(c) ?? []);
    expect([c1.length, c2.length, c3.length]).to.deep.equal([1, 1, 1]);
    expect(c1partitions0).to.deep.include.members(c1);
    expect(c2partitions0).to.deep.include.members(c2);
    verifyValidityAndBalance(subscriptions, assignment);
  });

  it("testMemberDataWithInconsistentData: the user data wins over ownedPartitions", () => {
    const assignor = new StickyAssignor();
    assignor.onAssignment([tp(topic, 1)], generationId);
    const userData = assignor.subscriptionUserData();
    const memberData = assignor.memberData({ topics: [topic], userData, ownedPartitions: [tp(topic, 0)], generationId: -1, groupInstanceId: null });
    expect(memberData.partitions).to.deep.equal([tp(topic, 1)]);
    expect(memberData.generation).to.equal(generationId);
  });

  it("testMemberDataWillHonorUserData", () => {
    const assignor = new StickyAssignor();
    const owned = [tp("topic1", 0), tp("topic2", 1)];
    const memberData = assignor.memberData({ topics: [topic], userData: serializeTopicPartitionAssignment(owned, generationId - 1), ownedPartitions: [], generationId, groupInstanceId: null });
    expect(memberData.partitions).to.deep.equal(owned);
    expect(memberData.generation).to.equal(generationId - 1);
  });

  it("testAssignorWithOldVersionSubscriptions", () => {
    const subscriptions = new Map<string, Subscription>([
      [consumer1, { ...subscription(["topic1"]), userData: serializeTopicPartitionAssignment([tp("topic1", 0)], generationId) }],
      [consumer2, { ...subscription(["topic1"]), userData: serializeTopicPartitionAssignment([tp("topic1", 1)], generationId), ownedPartitions: [tp("topic1", 1)] }],
      [consumer3, stickySubscriptionV2(["topic1"], [], generationId)],
    ]);
    const assignment = new StickyAssignor().assign(perTopic({ topic1: 3 }), subscriptions);
    expect(assignment.get(consumer1)).to.deep.equal([tp("topic1", 0)]);
    expect(assignment.get(consumer2)).to.deep.equal([tp("topic1", 1)]);
    expect(assignment.get(consumer3)).to.deep.equal([tp("topic1", 2)]);
  });

  it("property: equal subscriptions give a balanced assignment with every partition assigned exactly once, round after round", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }),
        (partitionCounts, rounds) => {
          const partitionsPerTopic = new Map(partitionCounts.map((count, i) => [`t${i}`, count] as const));
          const topics = [...partitionsPerTopic.keys()];
          const assignor = new StickyAssignor();
          let previous = new Map<string, readonly TopicPartitionRef[]>();
          rounds.forEach((memberNumbers, round) => {
            const members = [...new Set(memberNumbers)].map((n) => `c${n}`);
            const subscriptions = new Map(members.map((member) => [member, stickySubscriptionV2(topics, previous.get(member) ?? [], round)]));
            const assignment = assignor.assign(partitionsPerTopic, subscriptions);
            expectEveryPartitionOnce(partitionsPerTopic, assignment);
            expect(isFullyBalanced(assignment)).to.equal(true);
            previous = assignment;
          });
        },
      ),
      { seed: 15, numRuns: 200 },
    );
  });
});

export function expectEveryPartitionOnce(partitionsPerTopic: ReadonlyMap<string, number>, assignment: ReadonlyMap<string, readonly TopicPartitionRef[]>): void {
  const assigned = [...assignment.values()].flat().map((p) => `${p.topic}-${p.partition}`);
  const expected = [...partitionsPerTopic].flatMap(([name, count]) => Array.from({ length: count }, (_, p) => `${name}-${p}`));
  expect(assigned.sort()).to.deep.equal(expected.sort());
}
