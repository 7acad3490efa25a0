import { expect } from "chai";
import { ms } from "../../../src/sim/time.ts";
import type { TraceEvent } from "../../../src/sim/trace.ts";
import { Cluster } from "./harness.ts";

/**
 * KAFKA-6082: the controller is paused while it has a broker failure to handle; its session expires and
 * another broker becomes controller (epoch 2). When it resumes it finishes the event on a NEW session: its
 * ISR-shrink write carries controller epoch 1. With the /controller_epoch check the write fails and the
 * zombie resigns; without it (before 2.2) the stale write lands.
 */
function zombieController(controllerEpochCheck: boolean): { cluster: Cluster; zombie: number; writes: TraceEvent[]; electedAt: number } {
  // Both runs lack KAFKA-3143 (2.3), as every release without KAFKA-6082's fix (2.1) does: with it, the new
  // controller's failover removes b from the ISR first, and the zombie finds the state written at epoch 2.
  const cluster = new Cluster({ brokers: 3, compat: { controllerEpochCheck, offlineReplicasOnFailover: false } }).start();
  cluster.settle();
  const zombie = cluster.controller().brokerId;
  const [a, b] = cluster.brokerIds.filter((id) => id !== zombie);
  cluster.createTopic("t", [[a, b]]);
  cluster.runUntil(() => cluster.state("t", 0) !== null);
  cluster.settle();
  cluster.run(1000);
  // The controller stops (a long GC pause) just as it starts handling b's failure.
  const host = cluster.ensemble.world.host(`broker-${zombie}`);
  cluster.broker(zombie).controller.onEventStart = (name) => {
    if (name === "BrokerChange" && host.state === "running") host.pause(ms(15_000));
  };
  cluster.ensemble.world.host(`broker-${b}`).crash();
  const second = (): TraceEvent | undefined => cluster.trace("controller-elected").find((e) => e.controllerEpoch === 2);
  expect(cluster.runUntil(() => second() !== undefined, 30_000)).to.equal(true);
  expect(second()!.node).to.equal(`broker-${a}`);
  const electedAt = cluster.trace("controller-elected").find((e) => e.controllerEpoch === 2)!.t;
  cluster.run(30_000);
  const writes = cluster.trace("controller-write").filter((e) => e.node === `broker-${zombie}` && e.t > electedAt);
  return { cluster, zombie, writes, electedAt };
}

describe("controller: zombie controller fencing (KAFKA-6082)", () => {
  it("with the controller epoch check, the paused controller's write is fenced and it resigns", () => {
    const { cluster, zombie, writes } = zombieController(true);
    expect(writes.length).to.be.greaterThan(0);
    expect(writes.every((w) => w.controllerEpoch === 1 && w.code !== "OK")).to.equal(true);
    expect(writes.some((w) => w.controllerMoved === true && w.fenced === true)).to.equal(true);
    expect(cluster.trace("controller-resigned").some((e) => e.node === `broker-${zombie}`)).to.equal(true);
    expect(cluster.state("t", 0)).to.include({ leaderEpoch: 0, controllerEpoch: 1 });
    expect(cluster.activeControllers()).to.have.length(1);
    expect(cluster.controller().controller.controllerEpoch).to.equal(2);
  });

  it("without it (pre-2.2), the zombie writes partition state with a stale epoch on its new session", () => {
    const { cluster, zombie, writes } = zombieController(false);
    const stale = writes.filter((w) => w.controllerEpoch === 1 && w.code === "OK" && String(w.path).endsWith("/state"));
    expect(stale.length).to.be.greaterThan(0);
    expect(stale[0].fenced).to.equal(false);
    // The zombie's ISR shrink (leader epoch bump) landed, stamped with controller epoch 1 after epoch 2 began.
    const state = cluster.state("t", 0)!;
    expect(state).to.include({ controllerEpoch: 1, leaderEpoch: 1 });
    expect(cluster.trace("controller-resigned").some((e) => e.node === `broker-${zombie}`)).to.equal(true);
    expect(cluster.activeControllers()).to.have.length(1);
  });
});
