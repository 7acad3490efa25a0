/**
 * KAFKA-7537 (2.2.0): when a broker starts, KafkaController.onBrokerStartup sends the existing brokers an
 * UpdateMetadata without partition states and only the new broker every partition's state. Up to 2.1 one
 * UpdateMetadata with every partition went to every live broker (compat.fullMetadataToNewBrokersOnly false).
 */
import { expect } from "chai";
import type { UpdateMetadataRequest } from "../../../src/protocol/kafka.ts";
import { clusterWithTopic } from "./harness.ts";

function restartBroker(compat: { fullMetadataToNewBrokersOnly?: boolean } = {}) {
  const { cluster, a, b, c: third } = clusterWithTopic({ compat });
  const controllerId = cluster.controller().brokerId;
  // The restarted broker is one the controller is not on, so the controller stays and watches it come back.
  const c = [third, b, a].find((id) => id !== controllerId)!;
  const host = cluster.ensemble.world.host(`broker-${c}`);
  host.crash();
  cluster.runUntil(() => !cluster.controller().controller.context.liveBrokers.has(c), 30_000);
  cluster.settle();
  const since = cluster.ensemble.world.now;
  host.start();
  cluster.runUntil(() => cluster.controller().controller.context.liveBrokers.has(c), 30_000);
  cluster.settle();
  // The UpdateMetadata requests that announce c as live again (the start-up's), in the order received.
  const updates = (id: number) =>
    (cluster.received(id, "UpdateMetadata", since) as UpdateMetadataRequest[]).filter((request) => request.liveBrokers.some((broker) => broker.id === c));
  return { others: [a, b, third].filter((id) => id !== c), c, updates };
}

describe("controller: UpdateMetadata on a broker start (KAFKA-7537)", () => {
  it("2.2 on: the existing brokers get the new live broker list without partition states, the new one every partition", () => {
    const { others, c, updates } = restartBroker();
    for (const id of others) {
      const first = updates(id)[0];
      expect(first.partitionStates, `broker-${id}`).to.deep.equal([]);
    }
    expect(updates(c)[0].partitionStates.map((state) => `${state.topic}-${state.partition}`)).to.deep.equal(["t-0"]);
  });

  it("up to 2.1 (fullMetadataToNewBrokersOnly false): every live broker gets every partition's state", () => {
    const { others, c, updates } = restartBroker({ fullMetadataToNewBrokersOnly: false });
    for (const id of [...others, c]) {
      expect(updates(id)[0].partitionStates.map((state) => `${state.topic}-${state.partition}`), `broker-${id}`).to.deep.equal(["t-0"]);
    }
  });
});
