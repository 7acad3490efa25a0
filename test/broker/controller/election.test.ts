import { expect } from "chai";
import type { LeaderAndIsrRequest, UpdateMetadataRequest } from "../../../src/protocol/kafka.ts";
import { ms } from "../../../src/sim/time.ts";
import { Cluster } from "./harness.ts";

describe("controller: election and failover", () => {
  it("elects exactly one controller with epoch 1 and tells every broker", () => {
    const cluster = new Cluster({ brokers: 3 }).start();
    expect(cluster.settle()).to.equal(true);
    cluster.run(2000);
    const controller = cluster.controller();
    expect(controller.controller.controllerEpoch).to.equal(1);
    const elected = cluster.trace("controller-elected");
    expect(elected).to.have.length(1);
    expect(elected[0]).to.include({ node: controller.context.node, controllerEpoch: 1 });
    expect(elected[0].zxid).to.be.a("number");
    const epoch = cluster.zk((zk, done) => zk.getData("/controller_epoch", false, done));
    expect(epoch.data).to.equal("1");
    expect(elected[0].epochZkVersion).to.equal(epoch.stat!.version);
    for (const id of cluster.brokerIds) {
      expect(cluster.broker(id).controller.activeController).to.equal(controller.brokerId);
      const updates = cluster.received(id, "UpdateMetadata") as UpdateMetadataRequest[];
      expect(updates.length).to.be.greaterThan(0);
      expect(updates.at(-1)!.liveBrokers.map((b) => b.id)).to.have.members([1, 2, 3]);
    }
  });

  it("creates a topic: first live replica leads, ISR = live replicas, leader epoch 0", () => {
    const cluster = new Cluster({ brokers: 3 }).start();
    cluster.settle();
    cluster.createTopic("t", [[2, 3, 1], [3, 1, 2]]);
    cluster.runUntil(() => cluster.state("t", 1) !== null);
    cluster.settle();
    cluster.run(500);
    expect(cluster.state("t", 0)).to.include({ leader: 2, leaderEpoch: 0, controllerEpoch: 1, zkVersion: 0 });
    expect(cluster.state("t", 0)!.isr).to.deep.equal([2, 3, 1]);
    expect(cluster.state("t", 1)).to.include({ leader: 3 });
    for (const id of [1, 2, 3]) {
      const states = (cluster.received(id, "LeaderAndIsr") as LeaderAndIsrRequest[]).flatMap((r) => r.partitionStates);
      expect(states.filter((s) => s.topic === "t").map((s) => s.partition)).to.have.members([0, 1]);
      expect(states.every((s) => s.isNew)).to.equal(true);
    }
    const elected = cluster.trace("leader-elected");
    expect(elected.map((e) => e.reason)).to.deep.equal(["new-partition", "new-partition"]);
  });

  it("fails over when the controller's host crashes: a new epoch, LeaderAndIsr to everyone", () => {
    const cluster = new Cluster({ brokers: 3 }).start();
    cluster.settle();
    cluster.createTopic("t", [[1, 2, 3]]);
    cluster.runUntil(() => cluster.state("t", 0) !== null);
    cluster.settle();
    const old = cluster.controller().brokerId;
    cluster.ensemble.world.host(`broker-${old}`).crash();
    const crashedAt = cluster.ensemble.world.now;
    expect(cluster.runUntil(() => cluster.activeControllers().length === 1, 30_000)).to.equal(true);
    cluster.settle();
    cluster.run(1000);
    const successor = cluster.controller();
    expect(successor.brokerId).to.not.equal(old);
    expect(successor.controller.controllerEpoch).to.equal(2);
    const elected = cluster.trace("controller-elected");
    expect(elected.map((e) => e.controllerEpoch)).to.deep.equal([1, 2]);
    for (const id of cluster.brokerIds.filter((b) => b !== old)) {
      const requests = cluster.received(id, "LeaderAndIsr", crashedAt) as LeaderAndIsrRequest[];
      expect(requests.length).to.be.greaterThan(0);
      expect(requests.every((r) => r.controllerEpoch === 2 && r.controllerId === successor.brokerId)).to.equal(true);
      expect(requests.at(-1)!.brokerEpoch).to.equal(cluster.broker(id).brokerEpoch());
    }
    // The dead controller's partition leadership moved (it led t-0 only if it was broker 1).
    const state = cluster.state("t", 0)!;
    expect(state.leader).to.not.equal(old);
    expect(state.isr).to.not.include(old);
  });

  it("a controller whose session expires resigns, and a restarted broker does not steal the role", () => {
    const cluster = new Cluster({ brokers: 2 }).start();
    cluster.settle();
    const first = cluster.controller().brokerId;
    const other = first === 1 ? 2 : 1;
    cluster.ensemble.world.host(`broker-${first}`).pause(ms(15_000));
    expect(cluster.runUntil(() => cluster.broker(other).controller.isActive, 30_000)).to.equal(true);
    cluster.run(20_000);
    expect(cluster.activeControllers()).to.deep.equal([other]);
    expect(cluster.trace("controller-resigned").map((e) => e.node)).to.include(`broker-${first}`);
    expect(cluster.broker(first).controller.activeController).to.equal(other);
  });

  it("resends a request unanswered after controller.socket.timeout.ms, one request in flight per broker", () => {
    const cluster = new Cluster({ brokers: 2, config: { "controller.socket.timeout.ms": 1000 } }).start();
    cluster.settle();
    const c = cluster.controller().brokerId;
    const other = c === 1 ? 2 : 1;
    cluster.broker(other).unanswered = 1;
    const since = cluster.ensemble.world.now;
    cluster.createTopic("t", [[other, c], [c, other]]);
    cluster.runUntil(() => cluster.state("t", 1) !== null);
    cluster.run(3000);
    const received = cluster.broker(other).received.filter((r) => r.t >= since);
    const first = received[0];
    const id = (m: unknown): number => (m as { correlationId: number }).correlationId;
    const resent = received.filter((r) => id(r.message) === id(first.message));
    expect(resent).to.have.length(2);
    expect(resent[1].t - resent[0].t).to.be.at.least(ms(990)); // local clock drift aside
    // Nothing else reached the broker while the first request was unanswered.
    expect(received.filter((r) => r.t < resent[1].t)).to.have.length(1);
    expect(received.length).to.be.greaterThan(2);
  });
});
