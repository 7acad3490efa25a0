import { expect } from "chai";
import type { AlterIsrResponse, ControlledShutdownResponse } from "../../../src/protocol/kafka.ts";
import { Cluster, clusterWithTopic } from "./harness.ts";

/**
 * compat.ineligibleReplicaCheck (KIP-841, Kafka 3.3.0, KAFKA-14140 af40e119784): the controller's AlterIsr
 * handling (KafkaController.processAlterPartition) rejects a new ISR naming a replica outside
 * ControllerContext.liveBrokerIds — dead, or in controlled shutdown — with INELIGIBLE_REPLICA. Kafka 2.7.0 to 3.2.0
 * check no replica of the new ISR, and neither release checks that the ISR's replicas are assigned.
 */

/** Topic t-0 with replicas [b, a, c]: b leads, a and c follow; c is the controller. */
function setup(ineligibleReplicaCheck: boolean) {
  const { cluster, c, a, b } = clusterWithTopic({ compat: { isrUpdate: "alter-isr", ineligibleReplicaCheck } }, (a, b, c) => [b, a, c]);
  cluster.run(500);
  expect(cluster.state("t", 0)).to.deep.include({ leader: b, isr: [b, a, c] });
  return { cluster, c, a, b };
}

/** Follower a shuts down in a controlled way: the controller takes it out of the ISR and marks it shutting down. */
function shutDownFollower(ineligibleReplicaCheck: boolean) {
  const setupResult = setup(ineligibleReplicaCheck);
  const { cluster, c, a, b } = setupResult;
  cluster.broker(a).sendControlledShutdown(c);
  expect(cluster.runUntil(() => cluster.broker(a).replies.some((r) => r.type === "ControlledShutdownResponse"))).to.equal(true);
  expect((cluster.broker(a).replies.find((r) => r.type === "ControlledShutdownResponse") as ControlledShutdownResponse).error).to.equal("NONE");
  expect(cluster.runUntil(() => cluster.state("t", 0)!.isr.length === 2)).to.equal(true);
  expect(cluster.state("t", 0)).to.deep.include({ leader: b, isr: [b, c] });
  expect(cluster.controller().controller.context.shuttingDownBrokerIds.has(a)).to.equal(true);
  cluster.run(500);
  return setupResult;
}

/** Leader b asks the controller to add `a` back: the answer for t-0. */
function alterIsrAddingBack(cluster: Cluster, c: number, a: number, b: number): AlterIsrResponse["partitions"][number] {
  const before = cluster.broker(b).replies.filter((r) => r.type === "AlterIsrResponse").length;
  cluster.broker(b).sendAlterIsr(c, "t", 0, [b, c, a]);
  expect(cluster.runUntil(() => cluster.broker(b).replies.filter((r) => r.type === "AlterIsrResponse").length > before)).to.equal(true);
  const response = cluster.broker(b).replies.filter((r) => r.type === "AlterIsrResponse").at(-1) as AlterIsrResponse;
  expect(response.error).to.equal("NONE");
  return response.partitions[0];
}

describe("controller: AlterIsr and KIP-841 (compat.ineligibleReplicaCheck)", () => {
  it("on (3.3+): a replica in controlled shutdown is not let back into the ISR (INELIGIBLE_REPLICA)", () => {
    const { cluster, c, a, b } = shutDownFollower(true);
    expect(alterIsrAddingBack(cluster, c, a, b).error).to.equal("INELIGIBLE_REPLICA");
    cluster.run(500);
    expect(cluster.state("t", 0)!.isr).to.deep.equal([b, c]);
  });

  it("off (2.7 to 3.2): a replica in controlled shutdown is let back into the ISR", () => {
    const { cluster, c, a, b } = shutDownFollower(false);
    expect(alterIsrAddingBack(cluster, c, a, b)).to.deep.include({ error: "NONE", isr: [b, c, a] });
    expect(cluster.state("t", 0)!.isr).to.deep.equal([b, c, a]);
  });

  /** Follower a crashes and the controller sees its registration go; then b proposes [b, c, a]. */
  function deadFollower(ineligibleReplicaCheck: boolean) {
    const setupResult = setup(ineligibleReplicaCheck);
    const { cluster, c, a, b } = setupResult;
    cluster.ensemble.world.host(`broker-${a}`).crash();
    expect(cluster.runUntil(() => !cluster.controller().controller.context.liveBrokers.has(a), 30_000)).to.equal(true);
    expect(cluster.runUntil(() => cluster.state("t", 0)!.isr.length === 2)).to.equal(true);
    cluster.run(500);
    return { ...setupResult, answer: alterIsrAddingBack(cluster, c, a, b) };
  }

  it("on (3.3+): a dead replica is not let into the ISR", () => {
    expect(deadFollower(true).answer.error).to.equal("INELIGIBLE_REPLICA");
  });

  it("off (2.7 to 3.2): the controller does not check the new ISR's replicas at all, a dead one included", () => {
    const { answer, a, b, c } = deadFollower(false);
    expect(answer).to.deep.include({ error: "NONE", isr: [b, c, a] });
  });

  it("on: an ISR of live replicas that are not shutting down is accepted", () => {
    const { cluster, c, a, b } = setup(true);
    cluster.broker(b).sendAlterIsr(c, "t", 0, [b, a]);
    expect(cluster.runUntil(() => cluster.broker(b).replies.some((r) => r.type === "AlterIsrResponse"))).to.equal(true);
    const response = cluster.broker(b).replies.find((r) => r.type === "AlterIsrResponse") as AlterIsrResponse;
    expect(response.partitions[0]).to.deep.include({ error: "NONE", isr: [b, a] });
  });
});
