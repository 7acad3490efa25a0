/**
 * Kafka 3.6's AbstractStickyAssignorTest, ported once and run for both sticky assignors (as Kafka runs it
 * through StickyAssignorTest and CooperativeStickyAssignorTest). The no-rack configuration only.
 */

import { expect } from "chai";
import type { AbstractStickyAssignor } from "../../../../src/clients/consumer/assignors/abstract-sticky.ts";
import type { Subscription } from "../../../../src/clients/consumer/assignors/partition-assignor.ts";
import type { TopicPartitionRef } from "../../../../src/protocol/kafka.ts";
import { isFullyBalanced, perTopic, subscription, tp } from "./helpers.ts";

export interface StickyKit {
  create(): AbstractStickyAssignor;
  /** buildSubscriptionV2Above of the assignor's Kafka test class. */
  v2(assignor: AbstractStickyAssignor, topics: readonly string[], partitions: readonly TopicPartitionRef[], generation: number): Subscription;
  /** verifyValidityAndBalance of the assignor's Kafka test class; returns the (possibly follow-up) assignment. */
  verify(assignor: AbstractStickyAssignor, partitionsPerTopic: ReadonlyMap<string, number>, subscriptions: Map<string, Subscription>, assignment: Map<string, TopicPartitionRef[]>): Map<string, TopicPartitionRef[]>;
}

const generationId = 1;
const [topic, topic1, topic2] = ["topic", "topic1", "topic2"];
const [consumer1, consumer2, consumer3, consumer4] = ["consumer1", "consumer2", "consumer3", "consumer4"];

const pad = (i: number, max: number): string => String(i).padStart(String(max).length, "0");

export function abstractStickyAssignorTests(kit: StickyKit): void {
  let assignor: AbstractStickyAssignor;
  beforeEach(() => (assignor = kit.create()));

  it("AbstractStickyAssignorTest.testOneConsumerNoTopic", () => {
    const subscriptions = new Map([["consumer", subscription([])]]);
    const assignment = assignor.assign(new Map(), subscriptions);
    expect(Object.fromEntries(assignment)).to.deep.equal({ consumer: [] });
    expect(assignor.partitionsTransferringOwnership?.size).to.equal(0);
  });

  it("AbstractStickyAssignorTest.testOneConsumerOneTopic", () => {
    const assignment = assignor.assign(perTopic({ topic: 3 }), new Map([["consumer", subscription([topic])]]));
    expect(assignment.get("consumer")).to.deep.equal([tp(topic, 0), tp(topic, 1), tp(topic, 2)]);
    expect(assignor.partitionsTransferringOwnership?.size).to.equal(0);
  });

  it("AbstractStickyAssignorTest.testOnlyAssignsPartitionsFromSubscribedTopics", () => {
    const owned = [tp(topic, 0), tp(topic, 1), tp("other", 0), tp("other", 1)];
    const assignment = assignor.assign(perTopic({ topic: 2 }), new Map([["consumer", kit.v2(assignor, [topic], owned, generationId)]]));
    expect(assignment.get("consumer")).to.deep.equal([tp(topic, 0), tp(topic, 1)]);
    expect(assignor.partitionsTransferringOwnership?.size).to.equal(0);
  });

  it("AbstractStickyAssignorTest.testOneConsumerMultipleTopics", () => {
    const assignment = assignor.assign(perTopic({ topic1: 1, topic2: 2 }), new Map([["consumer", subscription([topic1, topic2])]]));
    expect(assignment.get("consumer")).to.deep.equal([tp(topic1, 0), tp(topic2, 0), tp(topic2, 1)]);
  });

  it("AbstractStickyAssignorTest.testTwoConsumersOneTopicTwoPartitions", () => {
    const partitionsPerTopic = perTopic({ topic: 2 });
    const subscriptions = new Map([
      [consumer1, subscription([topic])],
      [consumer2, subscription([topic])],
    ]);
    const assignment = assignor.assign(partitionsPerTopic, subscriptions);
    expect(assignment.get(consumer1)).to.deep.equal([tp(topic, 0)]);
    expect(assignment.get(consumer2)).to.deep.equal([tp(topic, 1)]);
    expect(assignor.partitionsTransferringOwnership?.size).to.equal(0);
    expect(isFullyBalanced(kit.verify(assignor, partitionsPerTopic, subscriptions, assignment))).to.equal(true);
  });

  it("AbstractStickyAssignorTest.testMultipleConsumersMixedTopicSubscriptions (the general builder)", () => {
    const partitionsPerTopic = perTopic({ topic1: 3, topic2: 2 });
    const subscriptions = new Map([
      [consumer1, subscription([topic1])],
      [consumer2, subscription([topic1, topic2])],
      [consumer3, subscription([topic1])],
    ]);
    const assignment = assignor.assign(partitionsPerTopic, subscriptions);
    expect(assignment.get(consumer1)).to.deep.equal([tp(topic1, 0), tp(topic1, 2)]);
    expect(assignment.get(consumer2)).to.deep.equal([tp(topic2, 0), tp(topic2, 1)]);
    expect(assignment.get(consumer3)).to.deep.equal([tp(topic1, 1)]);
    expect(assignor.partitionsTransferringOwnership).to.equal(null);
    expect(isFullyBalanced(kit.verify(assignor, partitionsPerTopic, subscriptions, assignment))).to.equal(true);
  });

  it("AbstractStickyAssignorTest.testTwoConsumersTwoTopicsSixPartitions", () => {
    const partitionsPerTopic = perTopic({ topic1: 3, topic2: 3 });
    const subscriptions = new Map([
      [consumer1, subscription([topic1, topic2])],
      [consumer2, subscription([topic1, topic2])],
    ]);
    const assignment = assignor.assign(partitionsPerTopic, subscriptions);
    expect(assignment.get(consumer1)).to.deep.equal([tp(topic1, 0), tp(topic1, 2), tp(topic2, 1)]);
    expect(assignment.get(consumer2)).to.deep.equal([tp(topic1, 1), tp(topic2, 0), tp(topic2, 2)]);
  });

  it("AbstractStickyAssignorTest.testConsumerOwningMinQuotaExpectedMaxQuota", () => {
    const partitionsPerTopic = perTopic({ topic1: 2, topic2: 3 });
    const topics = [topic1, topic2];
    const subscriptions = new Map([
      [consumer1, kit.v2(assignor, topics, [tp(topic1, 0), tp(topic2, 1)], generationId)],
      [consumer2, kit.v2(assignor, topics, [tp(topic1, 1), tp(topic2, 2)], generationId)],
    ]);
    const assignment = assignor.assign(partitionsPerTopic, subscriptions);
    expect(assignment.get(consumer1)).to.deep.equal([tp(topic1, 0), tp(topic2, 1), tp(topic2, 0)]);
    expect(assignment.get(consumer2)).to.deep.equal([tp(topic1, 1), tp(topic2, 2)]);
    expect(assignor.partitionsTransferringOwnership?.size).to.equal(0);
  });

  it("AbstractStickyAssignorTest.testMaxQuotaConsumerMoreThanNumExpectedMaxCapacityMembers (members in Kafka's HashMap order)", () => {
    const partitionsPerTopic = perTopic({ topic1: 2, topic2: 2 });
    const topics = [topic1, topic2];
    const subscriptions = new Map([
      [consumer1, kit.v2(assignor, topics, [tp(topic1, 0), tp(topic2, 0)], generationId)],
      [consumer2, kit.v2(assignor, topics, [tp(topic1, 1), tp(topic2, 1)], generationId)],
      [consumer3, kit.v2(assignor, topics, [], generationId)],
    ]);
    let assignment = assignor.assign(partitionsPerTopic, subscriptions);
    expect([...(assignor.partitionsTransferringOwnership ?? new Map()).values()]).to.deep.equal([{ partition: tp(topic2, 0), consumer: consumer3 }]);
    assignment = kit.verify(assignor, partitionsPerTopic, subscriptions, assignment);
    expect(assignment.get(consumer1)).to.deep.equal([tp(topic1, 0)]);
    expect(assignment.get(consumer2)).to.deep.equal([tp(topic1, 1), tp(topic2, 1)]);
    expect(assignment.get(consumer3)).to.deep.equal([tp(topic2, 0)]);
  });

  it("AbstractStickyAssignorTest.testAllConsumersAreUnderMinQuota", () => {
    const partitionsPerTopic = perTopic({ topic1: 2, topic2: 3 });
    const topics = [topic1, topic2];
    const subscriptions = new Map([
      [consumer1, kit.v2(assignor, topics, [tp(topic1, 0)], generationId)],
      [consumer2, kit.v2(assignor, topics, [tp(topic1, 1)], generationId)],
      [consumer3, kit.v2(assignor, topics, [], generationId)],
    ]);
    let assignment = assignor.assign(partitionsPerTopic, subscriptions);
    expect(assignor.partitionsTransferringOwnership?.size).to.equal(0);
    assignment = kit.verify(assignor, partitionsPerTopic, subscriptions, assignment);
    expect(assignment.get(consumer1)).to.deep.equal([tp(topic1, 0), tp(topic2, 1)]);
    expect(assignment.get(consumer2)).to.deep.equal([tp(topic1, 1), tp(topic2, 2)]);
    expect(assignment.get(consumer3)).to.deep.equal([tp(topic2, 0)]);
  });

  it("AbstractStickyAssignorTest.testAddRemoveTwoConsumersTwoTopics", () => {
    const partitionsPerTopic = perTopic({ topic1: 3, topic2: 4 });
    const allTopics = [topic1, topic2];
    let subscriptions = new Map([
      [consumer1, subscription(allTopics)],
      [consumer2, subscription(allTopics)],
    ]);
    let assignment = assignor.assign(partitionsPerTopic, subscriptions);
    expect(assignment.get(consumer1)).to.deep.equal([tp(topic1, 0), tp(topic1, 2), tp(topic2, 1), tp(topic2, 3)]);
    expect(assignment.get(consumer2)).to.deep.equal([tp(topic1, 1), tp(topic2, 0), tp(topic2, 2)]);

    // add 2 consumers
    subscriptions = new Map([
      [consumer1, kit.v2(assignor, allTopics, assignment.get(consumer1) ?? [], generationId)],
      [consumer2, kit.v2(assignor, allTopics, assignment.get(consumer2) ?? [], generationId)],
      [consumer3, kit.v2(assignor, allTopics, [], generationId)],
      [consumer4, kit.v2(assignor, allTopics, [], generationId)],
    ]);
    assignment = assignor.assign(partitionsPerTopic, subscriptions);
    const transferring = [...(assignor.partitionsTransferringOwnership ?? new Map()).values()].map(({ partition, consumer }) => `${partition.topic}-${partition.partition}>${consumer}`);
    expect(transferring.sort()).to.deep.equal(["topic2-1>consumer3", "topic2-2>consumer4", "topic2-3>consumer3"]);
    assignment = kit.verify(assignor, partitionsPerTopic, subscriptions, assignment);
    expect(assignment.get(consumer1)).to.deep.equal([tp(topic1, 0), tp(topic1, 2)]);
    expect(assignment.get(consumer2)).to.deep.equal([tp(topic1, 1), tp(topic2, 0)]);
    expect(assignment.get(consumer3)).to.deep.equal([tp(topic2, 1), tp(topic2, 3)]);
    expect(assignment.get(consumer4)).to.deep.equal([tp(topic2, 2)]);

    // remove 2 consumers
    subscriptions = new Map([
      [consumer3, kit.v2(assignor, allTopics, assignment.get(consumer3) ?? [], generationId)],
      [consumer4, kit.v2(assignor, allTopics, assignment.get(consumer4) ?? [], generationId)],
    ]);
    assignment = assignor.assign(partitionsPerTopic, subscriptions);
    expect(assignment.get(consumer3)).to.deep.equal([tp(topic2, 1), tp(topic2, 3), tp(topic1, 0), tp(topic2, 0)]);
    expect(assignment.get(consumer4)).to.deep.equal([tp(topic2, 2), tp(topic1, 1), tp(topic1, 2)]);
    expect(assignor.partitionsTransferringOwnership?.size).to.equal(0);
  });

  it("AbstractStickyAssignorTest.testPoorRoundRobinAssignmentScenario", () => {
    const partitionsPerTopic = new Map(Array.from({ length: 5 }, (_, i) => [`topic${i + 1}`, ((i + 1) % 2) + 1] as const));
    const all = ["topic1", "topic2", "topic3", "topic4", "topic5"];
    const odd = ["topic1", "topic3", "topic5"];
    const subscriptions = new Map([
      [consumer1, subscription(all)],
      [consumer2, subscription(odd)],
      [consumer3, subscription(odd)],
      [consumer4, subscription(all)],
    ]);
    kit.verify(assignor, partitionsPerTopic, subscriptions, assignor.assign(partitionsPerTopic, subscriptions));
  });

  it("AbstractStickyAssignorTest.testReassignmentAfterOneConsumerLeaves (general builder, isSticky)", () => {
    const partitionsPerTopic = new Map(Array.from({ length: 19 }, (_, i) => [`t${pad(i + 1, 20)}`, i + 1] as const));
    const subscriptions = new Map<string, Subscription>();
    for (let i = 1; i < 20; i++) {
      subscriptions.set(`c${pad(i, 20)}`, subscription(Array.from({ length: i }, (_, j) => `t${pad(j + 1, 20)}`)));
    }
    let assignment = assignor.assign(partitionsPerTopic, subscriptions);
    assignment = kit.verify(assignor, partitionsPerTopic, subscriptions, assignment);
    for (const [consumer, sub] of [...subscriptions]) subscriptions.set(consumer, kit.v2(assignor, sub.topics, assignment.get(consumer) ?? [], generationId));
    subscriptions.delete("c10");
    assignment = assignor.assign(partitionsPerTopic, subscriptions);
    expect(assignor.isSticky()).to.equal(true);
    kit.verify(assignor, partitionsPerTopic, subscriptions, assignment);
  });

  it("AbstractStickyAssignorTest.testSameSubscriptions", () => {
    const partitionsPerTopic = new Map(Array.from({ length: 14 }, (_, i) => [`t${pad(i + 1, 15)}`, i + 1] as const));
    const topics = [...partitionsPerTopic.keys()];
    const subscriptions = new Map<string, Subscription>();
    for (let i = 1; i < 9; i++) subscriptions.set(`c${pad(i, 9)}`, subscription(topics));
    let assignment = assignor.assign(partitionsPerTopic, subscriptions);
    expect(assignor.partitionsTransferringOwnership?.size).to.equal(0);
    assignment = kit.verify(assignor, partitionsPerTopic, subscriptions, assignment);
    for (const [consumer, sub] of [...subscriptions]) subscriptions.set(consumer, kit.v2(assignor, sub.topics, assignment.get(consumer) ?? [], generationId));
    subscriptions.delete(`c${pad(5, 9)}`);
    assignment = assignor.assign(partitionsPerTopic, subscriptions);
    expect(assignor.partitionsTransferringOwnership?.size).to.equal(0);
    kit.verify(assignor, partitionsPerTopic, subscriptions, assignment);
  });

  it("AbstractStickyAssignorTest.testOwnedPartitionsAreInvalidatedForConsumerWithStaleGeneration", () => {
    const partitionsPerTopic = perTopic({ topic: 3, topic2: 3 });
    const currentGeneration = 10;
    const subscriptions = new Map([
      [consumer1, kit.v2(assignor, [topic, topic2], [tp(topic, 0), tp(topic, 2), tp(topic2, 1)], currentGeneration)],
      [consumer2, kit.v2(assignor, [topic, topic2], [tp(topic, 0), tp(topic, 2), tp(topic2, 1)], currentGeneration - 1)],
    ]);
    const assignment = assignor.assign(partitionsPerTopic, subscriptions);
    expect(new Set(assignment.get(consumer1)?.map((p) => `${p.topic}-${p.partition}`))).to.deep.equal(new Set(["topic-0", "topic-2", "topic2-1"]));
    expect(new Set(assignment.get(consumer2)?.map((p) => `${p.topic}-${p.partition}`))).to.deep.equal(new Set(["topic-1", "topic2-0", "topic2-2"]));
    expect(assignor.partitionsTransferringOwnership?.size).to.equal(0);
  });
  const set = (partitions: readonly TopicPartitionRef[] | undefined): Set<string> => new Set((partitions ?? []).map((p) => `${p.topic}-${p.partition}`));

  it("AbstractStickyAssignorTest.testOwnedPartitionsAreInvalidatedForConsumerWithNoGeneration", () => {
    const partitionsPerTopic = perTopic({ topic: 3, topic2: 3 });
    const owned = [tp(topic, 0), tp(topic, 2), tp(topic2, 1)];
    const subscriptions = new Map([
      [consumer1, kit.v2(assignor, [topic, topic2], owned, 10)],
      [consumer2, kit.v2(assignor, [topic, topic2], owned, -1)],
    ]);
    const assignment = assignor.assign(partitionsPerTopic, subscriptions);
    expect(set(assignment.get(consumer1))).to.deep.equal(new Set(["topic-0", "topic-2", "topic2-1"]));
    expect(set(assignment.get(consumer2))).to.deep.equal(new Set(["topic-1", "topic2-0", "topic2-2"]));
    expect(assignor.partitionsTransferringOwnership?.size).to.equal(0);
  });

  it("AbstractStickyAssignorTest.testEnsurePartitionsAssignedToHighestGeneration", () => {
    const partitionsPerTopic = perTopic({ topic: 3, topic2: 3, topic3: 3 });
    const topics = [topic, topic2, "topic3"];
    const subscriptions = new Map([
      [consumer1, kit.v2(assignor, topics, [tp(topic, 0), tp(topic2, 0), tp("topic3", 0)], 10)],
      [consumer2, kit.v2(assignor, topics, [tp(topic, 1), tp(topic2, 1), tp("topic3", 1)], 9)],
      [consumer3, kit.v2(assignor, topics, [tp(topic2, 1), tp("topic3", 0), tp("topic3", 2)], 8)],
    ]);
    const assignment = assignor.assign(partitionsPerTopic, subscriptions);
    expect(set(assignment.get(consumer1))).to.deep.equal(new Set(["topic-0", "topic2-0", "topic3-0"]));
    expect(set(assignment.get(consumer2))).to.deep.equal(new Set(["topic-1", "topic2-1", "topic3-1"]));
    expect(set(assignment.get(consumer3))).to.deep.equal(new Set(["topic-2", "topic2-2", "topic3-2"]));
    expect(assignor.partitionsTransferringOwnership?.size).to.equal(0);
  });

  it("AbstractStickyAssignorTest.testNoReassignmentOnCurrentMembers", () => {
    const partitionsPerTopic = perTopic({ topic: 3, topic1: 3, topic2: 3, topic3: 3 });
    const topics = [topic, topic2, "topic3", topic1];
    const subscriptions = new Map([
      [consumer1, kit.v2(assignor, topics, [], -1)],
      [consumer2, kit.v2(assignor, topics, [tp(topic, 0), tp(topic2, 0), tp(topic1, 0)], 9)],
      [consumer3, kit.v2(assignor, topics, [tp("topic3", 2), tp(topic2, 2), tp(topic1, 1)], 8)],
      [consumer4, kit.v2(assignor, topics, [tp("topic3", 1), tp(topic, 1), tp(topic, 2)], 7)],
    ]);
    const assignment = assignor.assign(partitionsPerTopic, subscriptions);
    expect(set(assignment.get(consumer1))).to.deep.equal(new Set(["topic1-2", "topic2-1", "topic3-0"]));
    expect(assignor.partitionsTransferringOwnership?.size).to.equal(0);
    expect(isFullyBalanced(kit.verify(assignor, partitionsPerTopic, subscriptions, assignment))).to.equal(true);
  });

  it("AbstractStickyAssignorTest.testOwnedPartitionsAreInvalidatedForConsumerWithMultipleGeneration", () => {
    const partitionsPerTopic = perTopic({ topic: 3, topic2: 3 });
    const subscriptions = new Map([
      [consumer1, kit.v2(assignor, [topic, topic2], [tp(topic, 0), tp(topic2, 1), tp(topic, 1)], 10)],
      [consumer2, kit.v2(assignor, [topic, topic2], [tp(topic, 0), tp(topic2, 1), tp(topic2, 2)], 8)],
    ]);
    const assignment = assignor.assign(partitionsPerTopic, subscriptions);
    expect(set(assignment.get(consumer1))).to.deep.equal(new Set(["topic-0", "topic2-1", "topic-1"]));
    expect(set(assignment.get(consumer2))).to.deep.equal(new Set(["topic-2", "topic2-2", "topic2-0"]));
    expect(assignor.partitionsTransferringOwnership?.size).to.equal(0);
  });
}
