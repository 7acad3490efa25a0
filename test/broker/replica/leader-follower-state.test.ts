import { expect } from "chai";
import { makeBatch } from "../../../src/broker/log/records.ts";
import type { Compat } from "../../../src/broker/config.ts";
import { ReplicaCluster } from "./harness.ts";

/**
 * What a leader knows of its followers right after Partition.makeLeader (Replica.resetReplicaState), and how that
 * feeds the lag condition of Partition.maybeIncrementLeaderHW. Broker 1 leads t-0 (replicas [1,2,3], ISR [1,2]);
 * brokers 2 and 3 never host the partition, so nothing fetches: the test calls the Partition's methods itself at
 * chosen times. replica.lag.time.max.ms is 10 s.
 */
describe("Partition.makeLeader: the followers' fetch state", () => {
  const LAG_MS = 10_000;

  function leaderAt(epoch: number, compat: Partial<Compat> = {}): ReplicaCluster {
    const cluster = new ReplicaCluster({ compat });
    cluster.updateMetadata();
    cluster.runFor(20);
    cluster.leaderAndIsr({ leader: 1, leaderEpoch: epoch, isr: [1, 2] }, [1]);
    cluster.runFor(20);
    expect(cluster.partition(1)!.isLeader, "broker 1 leads").to.equal(true);
    return cluster;
  }

  function append(cluster: ReplicaCluster, count: number): void {
    const partition = cluster.partition(1)!;
    for (let i = 0; i < count; i++) {
      const batch = makeBatch({ baseOffset: 0, partitionLeaderEpoch: -1, records: [{ key: null, value: `v${i}`, timestamp: 0 }] });
      partition.log.appendAsLeader(batch, partition.leaderEpoch);
    }
  }

  it("a new leader forgets its followers: log end unknown, no previous fetch, ISR members caught up now", () => {
    const cluster = leaderAt(1);
    const partition = cluster.partition(1)!;
    const inSync = partition.remoteReplicas.get(2)!;
    const outOfSync = partition.remoteReplicas.get(3)!;
    expect(inSync.logEndOffset, "ISR follower's log end").to.equal(-1);
    expect(inSync.lastFetchLeaderLogEndOffset, "ISR follower's lastFetchLeaderLogEndOffset").to.equal(-1);
    expect(inSync.lastCaughtUpTimeMs, "ISR follower's lastCaughtUpTimeMs").to.be.within(0, cluster.broker(1).nowMs());
    expect(outOfSync.lastFetchLeaderLogEndOffset, "non-ISR follower's lastFetchLeaderLogEndOffset").to.equal(-1);
    expect(outOfSync.lastFetchTimeMs, "non-ISR follower's lastFetchTimeMs").to.be.below(0);
    expect(outOfSync.lastCaughtUpTimeMs, "non-ISR follower's lastCaughtUpTimeMs").to.be.below(0);
  });

  it("a new leader: a non-ISR follower's first fetch at the election log end but behind the current one does not hold the HW back", () => {
    const cluster = leaderAt(1);
    const partition = cluster.partition(1)!;
    const electionLogEnd = partition.log.logEndOffset;
    append(cluster, 5);
    const now = cluster.broker(1).nowMs() + 100;
    const leaderEnd = partition.log.logEndOffset;
    expect(leaderEnd).to.equal(electionLogEnd + 5);
    // The ISR follower fetches at the leader's log end; the other one at the election log end.
    partition.updateFollowerFetchState(2, leaderEnd, now, leaderEnd);
    partition.updateFollowerFetchState(3, electionLogEnd, now, leaderEnd);
    expect(partition.remoteReplicas.get(3)!.lastCaughtUpTimeMs, "non-ISR follower never caught up").to.be.below(0);
    partition.maybeIncrementLeaderHighWatermark(now, LAG_MS);
    expect(partition.log.highWatermark, "HW").to.equal(leaderEnd);
  });

  /** Broker 1 leads at epoch 1, appends 3 records, is re-elected at epoch 2 (ISR [1,2]), appends 5 more. */
  function reelected(compat: Partial<Compat>): { cluster: ReplicaCluster; electionLogEnd: number; electedAt: number } {
    const cluster = leaderAt(1, compat);
    append(cluster, 3);
    cluster.leaderAndIsr({ leader: 1, leaderEpoch: 2, isr: [1, 2] }, [1]);
    cluster.runFor(20);
    const partition = cluster.partition(1)!;
    expect(partition.leaderEpoch, "re-elected at epoch 2").to.equal(2);
    const electionLogEnd = partition.log.logEndOffset;
    const electedAt = partition.remoteReplicas.get(2)!.lastFetchTimeMs;
    append(cluster, 5);
    return { cluster, electionLogEnd, electedAt };
  }

  /** The ISR follower fetches at the leader's log end, the other one at the election log end; then the HW. */
  function fetchAndIncrement(cluster: ReplicaCluster, electionLogEnd: number): void {
    const partition = cluster.partition(1)!;
    const now = cluster.broker(1).nowMs() + 100;
    const leaderEnd = partition.log.logEndOffset;
    partition.updateFollowerFetchState(2, leaderEnd, now, leaderEnd);
    partition.updateFollowerFetchState(3, electionLogEnd, now, leaderEnd);
    partition.maybeIncrementLeaderHighWatermark(now, LAG_MS);
  }

  it("3.3+ (reelectionResetsNonIsrFetchTime): a re-elected leader records no previous fetch for a non-ISR follower, so it does not hold the HW back", () => {
    const { cluster, electionLogEnd } = reelected({ reelectionResetsNonIsrFetchTime: true });
    const partition = cluster.partition(1)!;
    expect(partition.remoteReplicas.get(3)!.lastFetchLeaderLogEndOffset, "lastFetchLeaderLogEndOffset = election log end").to.equal(electionLogEnd);
    expect(partition.remoteReplicas.get(3)!.lastFetchTimeMs, "non-ISR lastFetchTimeMs").to.be.below(0);
    fetchAndIncrement(cluster, electionLogEnd);
    expect(partition.remoteReplicas.get(3)!.lastCaughtUpTimeMs, "non-ISR follower never caught up").to.be.below(0);
    expect(partition.log.highWatermark, "HW").to.equal(partition.log.logEndOffset);
  });

  it("up to 3.2: a re-elected leader records the election as a non-ISR follower's previous fetch, which holds the HW back", () => {
    const { cluster, electionLogEnd, electedAt } = reelected({ reelectionResetsNonIsrFetchTime: false });
    const partition = cluster.partition(1)!;
    expect(partition.remoteReplicas.get(3)!.lastFetchTimeMs, "non-ISR lastFetchTimeMs = the election").to.equal(electedAt);
    fetchAndIncrement(cluster, electionLogEnd);
    expect(partition.remoteReplicas.get(3)!.lastCaughtUpTimeMs, "non-ISR follower caught up at the election").to.equal(electedAt);
    expect(partition.log.highWatermark, "HW held at the follower's log end").to.equal(electionLogEnd);
  });
});
