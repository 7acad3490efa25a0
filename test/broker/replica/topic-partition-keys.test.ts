import { expect } from "chai";
import fc from "fast-check";
import { topicPartitionKey } from "../../../src/protocol/kafka.ts";
import { TopicPartitionKeys } from "../../../src/broker/replica/topic-partition-keys.ts";

describe("TopicPartitionKeys", () => {
  it("gives topicPartitionKey's string for every topic and partition, in any order of asks", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom("t", "out", "t-1", "__consumer_offsets"), fc.integer({ min: 0, max: 300 })), { maxLength: 200 }), (asks) => {
        const keys = new TopicPartitionKeys();
        for (const [topic, partition] of asks) expect(keys.key(topic, partition)).to.equal(topicPartitionKey(topic, partition));
      }),
      { numRuns: 200 },
    );
  });
});
