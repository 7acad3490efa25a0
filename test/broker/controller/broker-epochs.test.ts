/**
 * KIP-380 (KAFKA-7235, 2.2.0) on the controller's side, switched by compat.brokerEpochs: bounce detection in
 * BrokerChange by the registration's czxid, the broker epoch in LeaderAndIsr / UpdateMetadata / StopReplica, and
 * ControlledShutdown's STALE_BROKER_EPOCH. Off, the controller behaves as Kafka 2.1's KafkaController.
 */

import { expect } from "chai";
import type { ControlledShutdownResponse, LeaderAndIsrRequest, UpdateMetadataRequest } from "../../../src/protocol/kafka.ts";
import { clusterWithTopic as withTopic, type Cluster } from "./harness.ts";

/** A 3-broker cluster with topic `t` led by a non-controller broker `a`. */
function clusterWithTopic(brokerEpochs: boolean): { cluster: Cluster; c: number; a: number; b: number } {
  const setup = withTopic({ compat: { brokerEpochs } });
  setup.cluster.run(500);
  return setup;
}

/** Replaces broker a's registration in one transaction: the same ids, a newer czxid. Returns the new czxid. */
function bounce(cluster: Cluster, a: number): number {
  const path = `/brokers/ids/${a}`;
  const data = cluster.zk((zk, done) => zk.getData(path, false, done)).data!;
  const reply = cluster.zk((zk, done) =>
    zk.multi([{ op: "delete", path, version: -1 }, { op: "create", path, data, ephemeral: true, sequential: false }], done),
  );
  expect(reply.code).to.equal("OK");
  return cluster.zk((zk, done) => zk.exists(path, false, done)).stat!.czxid;
}

describe("controller: broker epochs (KIP-380, compat.brokerEpochs)", () => {
  it("off (2.1): a bounce inside one BrokerChange is missed — no election, no LeaderAndIsr for the bounced broker", () => {
    const { cluster, a } = clusterWithTopic(false);
    const since = cluster.ensemble.world.now;
    const newEpoch = bounce(cluster, a);
    cluster.run(5000);
    cluster.settle();
    expect(cluster.state("t", 0)).to.deep.include({ leader: a, leaderEpoch: 0 });
    expect(cluster.received(a, "LeaderAndIsr", since)).to.deep.equal([]);
    expect(cluster.trace("leader-elected").filter((e) => e.reason !== "new-partition")).to.deep.equal([]);
    // BrokerChange still took the new registration (2.1: controllerContext.liveBrokers = curBrokers).
    expect(cluster.controller().controller.context.liveBrokers.get(a)!.epoch).to.equal(newEpoch);
  });

  it("on (2.2): the same bounce is a failure then a start-up: a new leader, LeaderAndIsr to the bounced broker", () => {
    const { cluster, a, b } = clusterWithTopic(true);
    const since = cluster.ensemble.world.now;
    bounce(cluster, a);
    expect(cluster.runUntil(() => cluster.state("t", 0)!.leader === b, 30_000)).to.equal(true);
    cluster.settle();
    cluster.run(500);
    expect(cluster.received(a, "LeaderAndIsr", since).length).to.be.greaterThan(0);
  });

  it("off: controller requests carry no broker epoch (-1); on: the broker's registration czxid", () => {
    for (const brokerEpochs of [false, true]) {
      const { cluster, a } = clusterWithTopic(brokerEpochs);
      const expected = brokerEpochs ? cluster.broker(a).brokerEpoch() : -1;
      const leaderAndIsr = cluster.received(a, "LeaderAndIsr") as LeaderAndIsrRequest[];
      const updateMetadata = cluster.received(a, "UpdateMetadata") as UpdateMetadataRequest[];
      expect(leaderAndIsr.length).to.be.greaterThan(0);
      expect(updateMetadata.length).to.be.greaterThan(0);
      expect(leaderAndIsr.map((r) => r.brokerEpoch)).to.deep.equal(leaderAndIsr.map(() => expected));
      expect(updateMetadata.map((r) => r.brokerEpoch)).to.deep.equal(updateMetadata.map(() => expected));
    }
  });

  it("off: a ControlledShutdown from an earlier registration is not refused STALE_BROKER_EPOCH", () => {
    for (const brokerEpochs of [false, true]) {
      const { cluster, c, a } = clusterWithTopic(brokerEpochs);
      const stale = { type: "ControlledShutdown", correlationId: 99, brokerId: a, brokerEpoch: 1 };
      cluster.broker(a).sendToBroker(c, stale);
      cluster.runUntil(() => cluster.broker(a).replies.length > 0);
      const error = (cluster.broker(a).replies[0] as ControlledShutdownResponse).error;
      expect(error).to.equal(brokerEpochs ? "STALE_BROKER_EPOCH" : "NONE");
    }
  });
});
