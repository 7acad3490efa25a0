import { expect } from "chai";
import { ms } from "../../../src/sim/time.ts";
import { ReplicaCluster } from "./harness.ts";

/**
 * The isr-expiration task's period is replica.lag.time.max.ms / 2 in Long arithmetic: 0 for a lag of 0 or 1.
 * Kafka 3.4+'s KafkaScheduler runs a task with period 0 once and never again (before 3.4 the broker fails to
 * start); re-arming it with a zero delay would spin the simulator at one instant.
 */
describe("ReplicaManager: the isr-expiration task's period", () => {
  /** A 3-broker cluster with t-0 led by broker 1 (epoch 1, ISR [1,2,3]); KafkaConfig wants fetch wait <= lag. */
  function started(lagMs: number): ReplicaCluster {
    const cluster = new ReplicaCluster({ config: { "replica.lag.time.max.ms": lagMs, "replica.fetch.wait.max.ms": Math.min(lagMs, 500) } });
    cluster.updateMetadata();
    runBounded(cluster, 20);
    cluster.leaderAndIsr({ leader: 1, leaderEpoch: 1, isr: cluster.brokerIds });
    runBounded(cluster, 50);
    return cluster;
  }

  /** Runs `durationMs` of simulated time in at most 200 000 events (a zero-time loop hits the limit). */
  function runBounded(cluster: ReplicaCluster, durationMs: number): void {
    const verdict = cluster.world.kernel.run({ untilUs: cluster.world.now + ms(durationMs), maxEvents: 200_000 });
    expect(verdict.reason, `verdict after ${durationMs} ms more`).to.equal("time-limit");
  }

  it("replica.lag.time.max.ms 1 (period 0): the task runs once, simulated time advances, the ISR never shrinks for lag", () => {
    const cluster = started(1);
    cluster.network.partition([["broker-3"], ["broker-1", "broker-2"]]);
    cluster.producer.produce(1, "x", 1);
    runBounded(cluster, 10_000);
    expect(cluster.partition(1)!.log.logEndOffset).to.equal(1);
    expect(cluster.eventsOf("isr-shrink")).to.deep.equal([]);
    expect(cluster.partition(1)!.isr).to.deep.equal([1, 2, 3]);
  });

  it("replica.lag.time.max.ms 0 (period 0) likewise", () => {
    const cluster = started(0);
    runBounded(cluster, 10_000);
  });

  it("replica.lag.time.max.ms 2 (period 1 ms): a cut-off follower behind the leader leaves the ISR within milliseconds", () => {
    const cluster = started(2);
    cluster.network.partition([["broker-3"], ["broker-1", "broker-2"]]);
    const cutAt = cluster.world.now;
    cluster.producer.produce(1, "x", 1);
    runBounded(cluster, 100);
    const shrink = cluster.eventsOf("isr-shrink", "broker-1").find((e) => e.t >= cutAt && !(e.isr as number[]).includes(3));
    expect(shrink, "isr-shrink without broker 3").to.not.equal(undefined);
    expect(shrink!.t - cutAt).to.be.below(ms(20));
    expect(cluster.partition(1)!.isr).to.not.include(3);
  });
});
