import { expect } from "chai";
import { kinds, run, S, type Spec } from "../../scenario/helpers.ts";

/**
 * The controller's channel (RequestSendThread): a broker whose process crashed resets the connection, so the
 * request in flight fails at once and is resent every 100 ms until the broker's ZooKeeper session expires and
 * removeBroker ends it; a powered-off broker answers nothing, so the request waits controller.socket.timeout.ms.
 */
function spec(fault: "crash" | "power-loss"): Spec {
  return {
    name: `controller-channel-${fault}`,
    seed: 1,
    duration: "30s",
    cluster: { zookeeper: { servers: 1 }, brokers: 3, config: { "zookeeper.session.timeout.ms": 6000 } },
    faults: [
      { at: "8s", type: fault, node: "broker-3" },
      { at: "8.5s", type: "create-topic", topic: { name: "t", partitions: 1, replicationFactor: 3, assignment: [[3, 1, 2]] } },
    ],
    expect: { violations: [] },
  };
}

function leaderAndIsrSendsToBroker3(fault: "crash" | "power-loss") {
  const { events } = run(spec(fault));
  const controller = kinds(events, "controller-elected").at(-1)!.node;
  expect(controller, "the test crashes a broker that is not the controller").to.not.equal("broker-3");
  const sends = kinds(events, "send", (e) => e.node === controller && e.to === "broker-3" && e.type === "LeaderAndIsr" && e.t >= 8.5 * S && e.t < 20 * S);
  const failed = kinds(events, "controller-send-failed", (e) => e.broker === 3 && e.t < 20 * S);
  return { sends, failed };
}

describe("controller channel: connection reset vs silence", () => {
  it("resends a request refused by a crashed broker every ~100 ms until the broker is removed, without giving it up", () => {
    const { sends, failed } = leaderAndIsrSendsToBroker3("crash");
    // Session timeout 6 s from the crash at 8 s: some 30–50 refused sends in the 5.5 s before removeBroker.
    expect(sends.length).to.be.within(20, 60);
    for (let i = 1; i < sends.length; i++) expect(sends[i].t - sends[i - 1].t).to.be.within(100_000, 120_000);
    expect(failed.every((e) => e.reason === "connection-reset")).to.equal(true);
    expect(failed.some((e) => e.giveUp === true)).to.equal(false);
    expect(sends.at(-1)!.t).to.be.below(15 * S);
  });

  it("a powered-off broker answers nothing: the request waits controller.socket.timeout.ms", () => {
    const { sends, failed } = leaderAndIsrSendsToBroker3("power-loss");
    expect(sends).to.have.length(1);
    expect(failed).to.have.length(0);
  });
});
