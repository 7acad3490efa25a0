/** Vectors from Kafka 3.6's RangeAssignorTest (the no-rack configurations); each `it` names its Kafka test. */

import { expect } from "chai";
import { RangeAssignor } from "../../../../src/clients/consumer/assignors/range.ts";
import type { Subscription } from "../../../../src/clients/consumer/assignors/partition-assignor.ts";
import { perTopic, subscription, tp } from "./helpers.ts";

const topic1 = "topic1";
const topic2 = "topic2";

function assign(counts: Record<string, number>, subscriptions: Record<string, Subscription>) {
  return new RangeAssignor().assign(perTopic(counts), new Map(Object.entries(subscriptions)));
}

describe("RangeAssignor (Kafka RangeAssignorTest)", () => {
  it("testOneConsumerNoTopic", () => {
    const assignment = assign({}, { consumer1: subscription([]) });
    expect([...assignment.keys()]).to.deep.equal(["consumer1"]);
    expect(assignment.get("consumer1")).to.deep.equal([]);
  });

  it("testOneConsumerNonexistentTopic", () => {
    const assignment = assign({}, { consumer1: subscription([topic1]) });
    expect(assignment.get("consumer1")).to.deep.equal([]);
  });

  it("testOneConsumerOneTopic", () => {
    const assignment = assign({ [topic1]: 3 }, { consumer1: subscription([topic1]) });
    expect(assignment.get("consumer1")).to.deep.equal([tp(topic1, 0), tp(topic1, 1), tp(topic1, 2)]);
  });

  it("testOnlyAssignsPartitionsFromSubscribedTopics", () => {
    const assignment = assign({ [topic1]: 3, other: 3 }, { consumer1: subscription([topic1]) });
    expect([...assignment.keys()]).to.deep.equal(["consumer1"]);
    expect(assignment.get("consumer1")).to.deep.equal([tp(topic1, 0), tp(topic1, 1), tp(topic1, 2)]);
  });

  it("testOneConsumerMultipleTopics", () => {
    const assignment = assign({ [topic1]: 1, [topic2]: 2 }, { consumer1: subscription([topic1, topic2]) });
    expect(assignment.get("consumer1")).to.deep.equal([tp(topic1, 0), tp(topic2, 0), tp(topic2, 1)]);
  });

  it("testTwoConsumersOneTopicOnePartition", () => {
    const assignment = assign({ [topic1]: 1 }, { consumer1: subscription([topic1]), consumer2: subscription([topic1]) });
    expect(assignment.get("consumer1")).to.deep.equal([tp(topic1, 0)]);
    expect(assignment.get("consumer2")).to.deep.equal([]);
  });

  it("testTwoConsumersOneTopicTwoPartitions", () => {
    const assignment = assign({ [topic1]: 2 }, { consumer1: subscription([topic1]), consumer2: subscription([topic1]) });
    expect(assignment.get("consumer1")).to.deep.equal([tp(topic1, 0)]);
    expect(assignment.get("consumer2")).to.deep.equal([tp(topic1, 1)]);
  });

  it("testMultipleConsumersMixedTopics", () => {
    const assignment = assign(
      { [topic1]: 3, [topic2]: 2 },
      { consumer1: subscription([topic1]), consumer2: subscription([topic1, topic2]), consumer3: subscription([topic1]) },
    );
    expect(assignment.get("consumer1")).to.deep.equal([tp(topic1, 0)]);
    expect(assignment.get("consumer2")).to.deep.equal([tp(topic1, 1), tp(topic2, 0), tp(topic2, 1)]);
    expect(assignment.get("consumer3")).to.deep.equal([tp(topic1, 2)]);
  });

  it("testTwoConsumersTwoTopicsSixPartitions", () => {
    const assignment = assign({ [topic1]: 3, [topic2]: 3 }, { consumer1: subscription([topic1, topic2]), consumer2: subscription([topic1, topic2]) });
    expect(assignment.get("consumer1")).to.deep.equal([tp(topic1, 0), tp(topic1, 1), tp(topic2, 0), tp(topic2, 1)]);
    expect(assignment.get("consumer2")).to.deep.equal([tp(topic1, 2), tp(topic2, 2)]);
  });

  it("testTwoStaticConsumersTwoTopicsSixPartitions: the instance ids decide the order, not the member ids", () => {
    const assignment = assign(
      { [topic1]: 3, [topic2]: 3 },
      { "consumer-b": subscription([topic1, topic2], "instance1"), "consumer-a": subscription([topic1, topic2], "instance2") },
    );
    expect(assignment.get("consumer-b")).to.deep.equal([tp(topic1, 0), tp(topic1, 1), tp(topic2, 0), tp(topic2, 1)]);
    expect(assignment.get("consumer-a")).to.deep.equal([tp(topic1, 2), tp(topic2, 2)]);
  });

  it("testOneStaticConsumerAndOneDynamicConsumerTwoTopicsSixPartitions: static members come first", () => {
    const assignment = assign(
      { [topic1]: 3, [topic2]: 3 },
      { "consumer-b": subscription([topic1, topic2], "instance1"), "consumer-a": subscription([topic1, topic2]) },
    );
    expect(assignment.get("consumer-b")).to.deep.equal([tp(topic1, 0), tp(topic1, 1), tp(topic2, 0), tp(topic2, 1)]);
    expect(assignment.get("consumer-a")).to.deep.equal([tp(topic1, 2), tp(topic2, 2)]);
  });

  it("testStaticMemberRangeAssignmentPersistent", () => {
    const counts = { [topic1]: 5, [topic2]: 4 };
    const members: Record<string, Subscription> = {
      consumer1: subscription([topic1, topic2], "instance1"),
      consumer2: subscription([topic1, topic2], "instance2"),
      consumer3: subscription([topic1, topic2], "instance3"),
      consumer4: subscription([topic1, topic2]),
    };
    const expected = {
      consumer1: [tp(topic1, 0), tp(topic1, 1), tp(topic2, 0)],
      consumer2: [tp(topic1, 2), tp(topic2, 1)],
      consumer3: [tp(topic1, 3), tp(topic2, 2)],
      consumer4: [tp(topic1, 4), tp(topic2, 3)],
    };
    expect(Object.fromEntries(assign(counts, members))).to.deep.equal(expected);
    // Replace dynamic member 4 with a new dynamic member 5.
    delete members.consumer4;
    members.consumer5 = subscription([topic1, topic2]);
    const { consumer4, ...rest } = expected;
    expect(Object.fromEntries(assign(counts, members))).to.deep.equal({ ...rest, consumer5: consumer4 });
  });

  it("testStaticMemberRangeAssignmentPersistentAfterMemberIdChanges", () => {
    const counts = { [topic1]: 5, [topic2]: 5 };
    const byInstance = (subscriptions: Record<string, Subscription>) => {
      const assignment = assign(counts, subscriptions);
      return Object.fromEntries(Object.entries(subscriptions).map(([memberId, sub]) => [sub.groupInstanceId, assignment.get(memberId)]));
    };
    const first = byInstance({
      consumer1: subscription([topic1, topic2], "instance1"),
      consumer2: subscription([topic1, topic2], "instance2"),
      consumer3: subscription([topic1, topic2], "instance3"),
    });
    expect(first).to.deep.equal({
      instance1: [tp(topic1, 0), tp(topic1, 1), tp(topic2, 0), tp(topic2, 1)],
      instance2: [tp(topic1, 2), tp(topic1, 3), tp(topic2, 2), tp(topic2, 3)],
      instance3: [tp(topic1, 4), tp(topic2, 4)],
    });
    const second = byInstance({
      consumer1: subscription([topic1, topic2], "instance1"),
      consumer5: subscription([topic1, topic2], "instance2"),
      consumer4: subscription([topic1, topic2], "instance3"),
    });
    expect(second).to.deep.equal(first);
  });
});
