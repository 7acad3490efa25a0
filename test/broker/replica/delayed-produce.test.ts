import { expect } from "chai";
import { DelayedProduce, type ProducePartitionStatus } from "../../../src/broker/replica/delayed-produce.ts";
import type { Partition } from "../../../src/broker/replica/partition.ts";
import type { ReplicaHost } from "../../../src/broker/replica/replica-host.ts";
import type { KafkaError, ProducePartitionResponse } from "../../../src/protocol/kafka.ts";

/**
 * DelayedProduce keeps the partition it appended to (delayed-produce.ts): its key is that partition's
 * topicPartition, and its checks use it only while it is still hosted — else they look the partition up, as a
 * check without the kept partition would.
 */

/** A leader partition whose HW has or has not reached the produce. */
function leader(topicPartition: string, reached: boolean, hosted = true): Partition {
  return { topicPartition, hosted, checkEnoughReplicasReachOffset: (): KafkaError | null => (reached ? "NONE" : null) } as unknown as Partition;
}

function host(hostedNow: Partition | undefined): ReplicaHost {
  return { services: { context: { wants: () => false } }, partition: () => hostedNow, notHostedError: () => "UNKNOWN_TOPIC_OR_PARTITION", appendFlushStarted: false } as unknown as ReplicaHost;
}

function status(partition: Partition | null): ProducePartitionStatus {
  const response: ProducePartitionResponse = { topic: "t", partition: 0, error: "NONE", baseOffset: 0, logStartOffset: 0 };
  return { requiredOffset: 1, acksPending: true, waited: true, response, partition };
}

describe("DelayedProduce (the partition it appended to)", () => {
  it("watches the partition's own key string", () => {
    const kept = leader("t-0", false);
    const produce = new DelayedProduce(host(kept), 1, [status(kept)], () => {});
    expect(produce.keys).to.deep.equal(["t-0"]);
    expect(produce.keys[0]).to.equal(kept.topicPartition);
  });

  it("checks the kept partition while hosted; once it is not, the one a lookup finds (or none)", () => {
    const answers: KafkaError[][] = [];
    const callback = (responses: ProducePartitionResponse[]) => answers.push(responses.map((r) => r.error));
    // Hosted and not reached: pending, although the lookup would find a reached one.
    expect(new DelayedProduce(host(leader("t-0", true)), 1, [status(leader("t-0", false))], callback).tryComplete()).to.equal(false);
    // No longer hosted (deleted): the lookup finds nothing, whatever the kept partition says.
    expect(new DelayedProduce(host(undefined), 1, [status(leader("t-0", true, false))], callback).tryComplete()).to.equal(true);
    // No longer hosted, recreated: the new partition answers.
    expect(new DelayedProduce(host(leader("t-0", false)), 1, [status(leader("t-0", true, false))], callback).tryComplete()).to.equal(false);
    expect(answers).to.deep.equal([["UNKNOWN_TOPIC_OR_PARTITION"]]);
  });
});
