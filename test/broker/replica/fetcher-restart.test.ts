import { expect } from "chai";
import type { FetcherRestart } from "../../../src/broker/config.ts";
import { brokerHost, type LeaderAndIsrPartitionState } from "../../../src/protocol/kafka.ts";
import { ReplicaCluster, TOPIC } from "./harness.ts";

/**
 * compat.fetcherRestart (KAFKA-7164): when Partition.makeFollower tells ReplicaManager.makeFollowers to restart
 * the follower's fetcher (and so its truncation). Kafka 2.0.0: only on a new leader id; 2.0.1's backport
 * (5152c80129c): also when the epoch skipped one; 2.1.0 (69283b4038a, then KIP-320's bcef30d614b): on any
 * epoch change. The integration test replays the ticket: a follower misses an intermediate leader and returns
 * to the same leader id at a later epoch.
 */

const MODES: readonly FetcherRestart[] = ["leader-change", "epoch-skip", "epoch-change"];

/** A 3-broker cluster with t-0 led by broker 1 at epoch 1, every broker in the ISR. */
function started(fetcherRestart: FetcherRestart): ReplicaCluster {
  const cluster = new ReplicaCluster({ brokers: 3, compat: { truncation: "kip-279", fetcherRestart } });
  cluster.updateMetadata();
  cluster.runFor(20);
  cluster.leaderAndIsr({ leader: 1, leaderEpoch: 1, isr: [1, 2, 3] });
  cluster.runFor(50);
  return cluster;
}

function state(leader: number, leaderEpoch: number): LeaderAndIsrPartitionState {
  return {
    topic: TOPIC,
    partition: 0,
    controllerEpoch: 1,
    leader,
    leaderEpoch,
    isr: [1, 2, 3],
    zkVersion: leaderEpoch,
    replicas: [1, 2, 3],
    addingReplicas: [],
    removingReplicas: [],
    isNew: false,
  };
}

/** Broker 3 (a follower of broker 1 at epoch 1) handles makeFollower(leader, epoch): restart or not. */
function restarts(mode: FetcherRestart, leader: number, leaderEpoch: number): boolean {
  const partition = started(mode).partition(3)!;
  expect(partition.leaderId).to.equal(1);
  expect(partition.leaderEpoch).to.equal(1);
  const restart = partition.makeFollower(state(leader, leaderEpoch), mode);
  expect(partition.leaderId).to.equal(leader);
  expect(partition.leaderEpoch).to.equal(leaderEpoch);
  return restart;
}

function produceAll(cluster: ReplicaCluster, leader: number, values: string[], acks: -1 | 1): void {
  const ids = values.map((v) => cluster.producer.produce(leader, v, acks));
  expect(cluster.runUntil(() => ids.every((id) => cluster.producer.responses.has(id)), 5000)).to.equal(true);
  expect(ids.map((id) => cluster.producer.error(id))).to.deep.equal(values.map(() => "NONE"));
}

describe("compat.fetcherRestart (KAFKA-7164)", () => {
  describe("Partition.makeFollower's answer", () => {
    for (const mode of MODES) {
      it(`${mode}: a new leader id always restarts the fetcher`, () => {
        expect(restarts(mode, 2, 2)).to.equal(true);
      });

      it(`${mode}: the same leader at the same epoch never does`, () => {
        expect(restarts(mode, 1, 1)).to.equal(false);
      });
    }

    it("leader-change (2.0.0): the same leader one epoch later: no restart", () => {
      expect(restarts("leader-change", 1, 2)).to.equal(false);
    });

    it("leader-change (2.0.0): the same leader several epochs later (missed updates): no restart", () => {
      expect(restarts("leader-change", 1, 4)).to.equal(false);
    });

    it("epoch-skip (2.0.1): the same leader one epoch later: no restart", () => {
      expect(restarts("epoch-skip", 1, 2)).to.equal(false);
    });

    it("epoch-skip (2.0.1): the same leader after a skipped epoch: restart", () => {
      expect(restarts("epoch-skip", 1, 4)).to.equal(true);
    });

    it("epoch-change (2.1.0+): the same leader one epoch later: restart", () => {
      expect(restarts("epoch-change", 1, 2)).to.equal(true);
    });

    it("epoch-change (2.1.0+): the same leader several epochs later: restart", () => {
      expect(restarts("epoch-change", 1, 4)).to.equal(true);
    });
  });

  describe("a follower that missed an intermediate leader (the ticket's case, KIP-279 truncation)", () => {
    /**
     * Broker 1 leads epoch 1 and writes a0 (everywhere), then b1, b2 with broker 2 cut off (brokers 1 and 3 have
     * them). Broker 2 leads epoch 2 — broker 3 never hears of it — and writes c1, c2; broker 1 follows and
     * truncates b1, b2 away. Broker 1 leads again at epoch 3, and broker 3, cut off from broker 1 meanwhile,
     * hears only of that. Returns the logs of brokers 1 and 3 once broker 3 has fetched again.
     */
    function missedIntermediateLeader(mode: FetcherRestart): { leader: (string | null)[]; follower: (string | null)[]; truncations: number } {
      const cluster = started(mode);
      produceAll(cluster, 1, ["a0"], -1);
      const cut2 = cluster.network.partition([[brokerHost(1)], [brokerHost(2)]]);
      produceAll(cluster, 1, ["b1", "b2"], 1);
      expect(cluster.runUntil(() => cluster.partition(3)!.log.logEndOffset === 3, 2000)).to.equal(true);
      const cut3 = cluster.network.partition([[brokerHost(1)], [brokerHost(3)]]);
      cluster.network.removeRule(cut2);
      cluster.leaderAndIsr({ leader: 2, leaderEpoch: 2, isr: [1, 2] }, [1, 2]);
      cluster.runFor(50);
      produceAll(cluster, 2, ["c1", "c2"], 1);
      expect(cluster.runUntil(() => cluster.values(1).join() === "a0,c1,c2", 5000)).to.equal(true);
      cluster.leaderAndIsr({ leader: 1, leaderEpoch: 3, isr: [1, 2] });
      cluster.runFor(50);
      const truncationsBefore = cluster.eventsOf("replica-truncate", brokerHost(3)).length;
      cluster.network.removeRule(cut3);
      produceAll(cluster, 1, ["d3"], 1);
      expect(cluster.runUntil(() => cluster.partition(3)!.log.logEndOffset === 4, 60_000)).to.equal(true);
      return {
        leader: cluster.values(1),
        follower: cluster.values(3),
        truncations: cluster.eventsOf("replica-truncate", brokerHost(3)).length - truncationsBefore,
      };
    }

    it("leader-change (2.0.0): the follower never truncates and keeps b1, b2 where the leader has c1, c2", () => {
      const { leader, follower, truncations } = missedIntermediateLeader("leader-change");
      expect(leader).to.deep.equal(["a0", "c1", "c2", "d3"]);
      expect(follower).to.deep.equal(["a0", "b1", "b2", "d3"]);
      expect(truncations).to.equal(0);
    });

    it("epoch-change (2.1.0+): the follower restarts its fetcher, truncates to 1 and copies the leader's log", () => {
      const { leader, follower, truncations } = missedIntermediateLeader("epoch-change");
      expect(leader).to.deep.equal(["a0", "c1", "c2", "d3"]);
      expect(follower).to.deep.equal(leader);
      expect(truncations).to.equal(1);
    });

    it("epoch-skip (2.0.1): epoch 1 to 3 is a skip, so the follower truncates as well", () => {
      const { leader, follower } = missedIntermediateLeader("epoch-skip");
      expect(follower).to.deep.equal(leader);
    });
  });
});

/** Pending events per host whose payload is a fetcher timer tag ("fetcher:<leader>"): request timeouts and wake-ups. */
function liveFetcherTimers(cluster: ReplicaCluster): [string, number][] {
  const queue = cluster.world.kernel.queue;
  const live = new Map<string, number>();
  for (let slot = 0; slot < queue.target.length; slot++) {
    const tag = queue.a[slot];
    if (queue.target[slot] === null || typeof tag !== "string" || !tag.startsWith("fetcher:")) continue;
    const host = (queue.target[slot] as unknown as { node: string }).node;
    live.set(host, (live.get(host) ?? 0) + 1);
  }
  return [...live.entries()].sort();
}

describe("a fetcher's request timeout timer", () => {
  it("is re-armed for the next request sent while a response is handled, else cancelled: never one left pending", () => {
    const cluster = started("epoch-change");
    for (let i = 0; i < 20; i++) {
      cluster.producer.produce(1, `v${i}`);
      cluster.runFor(7);
    }
    // Each follower's fetcher to broker 1: one request in flight, its one timeout.
    expect(liveFetcherTimers(cluster)).to.deep.equal([
      [brokerHost(2), 1],
      [brokerHost(3), 1],
    ]);
    // Broker 1 alone learns it follows broker 2: the followers' next fetches are answered NOT_LEADER_OR_FOLLOWER
    // and back off, so no request follows within the handler: the answered one's timeout is cancelled and only the
    // back-off wake-up is left.
    cluster.leaderAndIsr({ leader: 2, leaderEpoch: 2, isr: [1, 2, 3] }, [1]);
    cluster.runFor(50);
    expect(liveFetcherTimers(cluster).filter(([host]) => host !== brokerHost(1))).to.deep.equal([
      [brokerHost(2), 1],
      [brokerHost(3), 1],
    ]);
  });
});
