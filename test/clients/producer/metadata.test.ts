import { expect } from "chai";
import { ProducerMetadata } from "../../../src/clients/producer/metadata.ts";
import type { MetadataResponse } from "../../../src/protocol/kafka.ts";

/**
 * ProducerMetadata keeps the topic partitionCount was last asked about (issue 18): every update answers anew —
 * a topic that grew, and one whose metadata became unusable.
 */

function response(topics: { name: string; partitions: number; error?: string }[]): MetadataResponse {
  return {
    type: "MetadataResponse",
    correlationId: 1,
    brokers: [{ nodeId: 1, host: "broker-1" }],
    controllerId: 1,
    topics: topics.map((t) => ({
      name: t.name,
      error: t.error ?? "NONE",
      partitions: Array.from({ length: t.partitions }, (_, p) => ({ partition: p, leader: 1, leaderEpoch: 0, replicas: [1], isr: [1], error: "NONE" })),
    })),
  } as unknown as MetadataResponse;
}

describe("ProducerMetadata.partitionCount", () => {
  it("answers from the latest update, for the topic asked", () => {
    const metadata = new ProducerMetadata(300_000, 100);
    metadata.add("t");
    metadata.add("u");
    expect(metadata.partitionCount("t")).to.equal(null);
    metadata.update(response([{ name: "t", partitions: 3 }, { name: "u", partitions: 2 }]), 0);
    expect(metadata.partitionCount("t")).to.equal(3);
    expect(metadata.partitionCount("u")).to.equal(2);
    expect(metadata.partitionCount("u")).to.equal(2);
    metadata.update(response([{ name: "t", partitions: 3 }, { name: "u", partitions: 6 }]), 1);
    expect(metadata.partitionCount("u")).to.equal(6);
    metadata.update(response([{ name: "t", partitions: 3 }, { name: "u", partitions: 0, error: "UNKNOWN_TOPIC_OR_PARTITION" }]), 2);
    expect(metadata.partitionCount("u")).to.equal(null);
    expect(metadata.partitionCount("t")).to.equal(3);
  });
});
