import { expect } from "chai";
import type { Compat } from "../../../src/broker/config.ts";
import { brokerHost } from "../../../src/protocol/kafka.ts";
import { ReplicaCluster } from "./harness.ts";

/**
 * compat.outOfRangeTruncation (KAFKA-7414). Broker 1 led t-0 alone and holds a0..a4 (its HW 5); broker 2 is then
 * made leader at epoch 2 with an empty log, and broker 1 its follower. Under 2.0.0's rules (kip-279, no epoch
 * cache write on election) broker 2 answers OffsetsForLeaderEpoch UNDEFINED, broker 1 truncates to its HW (5) and
 * fetches at 5: OFFSET_OUT_OF_RANGE, and ListOffsets gives 0. Before 2.1 (ReplicaFetcherThread.handleOffsetOutOfRange)
 * the broker exits unless the topic allows unclean leader election; from 2.1 (fetchOffsetAndTruncate) it
 * truncates to 0.
 */
function followerAboveLeader(outOfRangeTruncation: Compat["outOfRangeTruncation"], topicConfig: Record<string, unknown> = {}): ReplicaCluster {
  const cluster = new ReplicaCluster({ brokers: 2, compat: { truncation: "kip-279", epochCacheOnElection: false, outOfRangeTruncation }, topicConfig });
  cluster.updateMetadata();
  cluster.runFor(20);
  cluster.leaderAndIsr({ leader: 1, leaderEpoch: 1, isr: [1], replicas: [1, 2] }, [1]);
  cluster.runFor(50);
  const ids = ["a0", "a1", "a2", "a3", "a4"].map((value) => cluster.producer.produce(1, value, 1));
  expect(cluster.runUntil(() => ids.every((id) => cluster.producer.responses.has(id)), 5000)).to.equal(true);
  expect(cluster.partition(1)!.log.logEndOffset).to.equal(5);
  expect(cluster.partition(1)!.log.highWatermark).to.equal(5);
  cluster.leaderAndIsr({ leader: 2, leaderEpoch: 2, isr: [2], replicas: [1, 2] }, [2]);
  cluster.runFor(50);
  expect(cluster.partition(2)!.log.logEndOffset).to.equal(0);
  cluster.leaderAndIsr({ leader: 2, leaderEpoch: 2, isr: [2], replicas: [1, 2] }, [1]);
  cluster.runFor(2000);
  return cluster;
}

describe("compat.outOfRangeTruncation (KAFKA-7414)", () => {
  it("halt-unless-unclean (before 2.1), unclean election off: broker-halted, and the broker process exits cleanly", () => {
    const cluster = followerAboveLeader("halt-unless-unclean");
    const halted = cluster.eventsOf("broker-halted", "broker-1");
    expect(halted).to.have.length(1);
    expect(halted[0]).to.include({ reason: "log truncation is not allowed", topicPartition: "t-0", leaderEndOffset: 0, logEndOffset: 5 });
    expect(cluster.eventsOf("host-exit", "broker-1")).to.have.length(1);
    expect(cluster.eventsOf("host-shutdown", "broker-1")).to.have.length(1);
    expect(cluster.world.host(brokerHost(1)).state).to.equal("stopped");
    const belowLeader = cluster.eventsOf("replica-truncate", "broker-1").filter((e) => e.reason === "leader-end-offset-below");
    expect(belowLeader).to.deep.equal([]);
  });

  it("the exited broker restarts with its log untouched (a `restart` brings it back)", () => {
    const cluster = followerAboveLeader("halt-unless-unclean");
    const host = cluster.world.host(brokerHost(1));
    expect(host.isUp()).to.equal(false);
    host.start();
    cluster.runFor(50);
    expect(host.state).to.equal("running");
    expect(cluster.broker(1).logManager.getLog("t", 0)?.logEndOffset).to.equal(5);
  });

  it("halt-unless-unclean, the topic allows unclean election: truncates to the leader's log end", () => {
    const cluster = followerAboveLeader("halt-unless-unclean", { "unclean.leader.election.enable": true });
    expect(cluster.eventsOf("broker-halted")).to.deep.equal([]);
    const belowLeader = cluster.eventsOf("replica-truncate", "broker-1").filter((e) => e.reason === "leader-end-offset-below");
    expect(belowLeader).to.have.length(1);
    expect(belowLeader[0]).to.include({ offset: 0, logEndOffset: 5 });
    expect(cluster.world.host(brokerHost(1)).state).to.equal("running");
    expect(cluster.partition(1)!.log.logEndOffset).to.equal(0);
  });

  it("truncate (2.1+): truncates to the leader's log end even with unclean election off", () => {
    const cluster = followerAboveLeader("truncate");
    expect(cluster.eventsOf("broker-halted")).to.deep.equal([]);
    const belowLeader = cluster.eventsOf("replica-truncate", "broker-1").filter((e) => e.reason === "leader-end-offset-below");
    expect(belowLeader).to.have.length(1);
    expect(cluster.world.host(brokerHost(1)).state).to.equal("running");
    expect(cluster.partition(1)!.log.logEndOffset).to.equal(0);
  });
});
