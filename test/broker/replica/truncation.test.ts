import { expect } from "chai";
import type { TruncationMode } from "../../../src/broker/config.ts";
import type { Disk } from "../../../src/disk/disk.ts";
import type { FetchRequest, FetchResponse } from "../../../src/protocol/kafka.ts";
import { ReplicaCluster } from "./harness.ts";

function twoBrokers(truncation: TruncationMode): ReplicaCluster {
  const cluster = new ReplicaCluster({ brokers: 2, compat: { truncation } });
  cluster.updateMetadata();
  cluster.runFor(20);
  cluster.leaderAndIsr({ leader: 1, leaderEpoch: 1, isr: [1, 2] });
  cluster.runFor(50);
  return cluster;
}

function produceAll(cluster: ReplicaCluster, leader: number, values: string[], acks: -1 | 1): void {
  const ids = values.map((v) => cluster.producer.produce(leader, v, acks));
  expect(cluster.runUntil(() => ids.every((id) => cluster.producer.responses.has(id)), 5000)).to.equal(true);
  expect(ids.map((id) => cluster.producer.error(id))).to.deep.equal(values.map(() => "NONE"));
}

/** replica-truncate decisions of a broker's current incarnation: [reason, offset]. */
function decisions(cluster: ReplicaCluster, id: number): [unknown, unknown][] {
  const node = `broker-${id}`;
  const start = cluster.eventsOf("host-start", node).at(-1)!.seq;
  return cluster.eventsOf("replica-truncate", node).filter((e) => e.seq > start).map((e) => [e.reason, e.offset]);
}

function restart(cluster: ReplicaCluster, id: number): void {
  cluster.world.host(`broker-${id}`).start();
  cluster.updateMetadata();
  cluster.runFor(20);
}

/**
 * KIP-101 case 1: the follower has both acknowledged records but a stale HW checkpoint (0); it restarts while
 * the leader is gone, becomes a follower again, then leader.
 */
function kip101Case1(truncation: TruncationMode): ReplicaCluster {
  const cluster = twoBrokers(truncation);
  produceAll(cluster, 1, ["m0", "m1"], -1);
  cluster.runFor(1000);
  expect(cluster.values(2)).to.deep.equal(["m0", "m1"]);
  cluster.world.host("broker-2").crash();
  cluster.world.host("broker-1").crash();
  restart(cluster, 2);
  expect(cluster.broker(2).logManager.getLog("t", 0)!.highWatermark).to.equal(0);
  cluster.leaderAndIsr({ leader: 1, leaderEpoch: 1, isr: [1, 2] }, [2]);
  cluster.runFor(200);
  cluster.leaderAndIsr({ leader: 2, leaderEpoch: 2, isr: [2] }, [2]);
  cluster.runFor(200);
  expect(cluster.partition(2)!.isLeader).to.equal(true);
  return cluster;
}

describe("ReplicaManager: truncation modes", () => {
  it('KIP-101 case 1: under "high-watermark" the restarted follower truncates to its stale HW and loses acknowledged records', () => {
    const cluster = kip101Case1("high-watermark");
    expect(cluster.values(2)).to.deep.equal([]);
    expect(decisions(cluster, 2)).to.deep.equal([["high-watermark", 0]]);
  });

  for (const mode of ["kip-101", "kip-320"] as const) {
    it(`KIP-101 case 1: under "${mode}" the follower asks the leader first and keeps the records`, () => {
      const cluster = kip101Case1(mode);
      expect(cluster.values(2)).to.deep.equal(["m0", "m1"]);
      expect(decisions(cluster, 2)).to.deep.equal([]);
      expect(cluster.eventsOf("send", "broker-2").some((e) => e.type === "OffsetsForLeaderEpoch")).to.equal(true);
    });
  }

  /**
   * Epochs: 1 (leader 1: a0 on both), 2 (leader 1 alone: b1-b3), 3 (broker 2 elected uncleanly: c1, c2),
   * 4 (leader 1 again). Broker 2 then follows with epochs {1, 3}; the leader knows {1, 2, 4}.
   */
  function kip279Divergence(truncation: TruncationMode): ReplicaCluster {
    const cluster = twoBrokers(truncation);
    produceAll(cluster, 1, ["a0"], -1);
    cluster.runFor(1000);
    const cut = cluster.network.partition([["broker-1"], ["broker-2"]]);
    cluster.leaderAndIsr({ leader: 1, leaderEpoch: 2, isr: [1] }, [1]);
    cluster.runFor(50);
    produceAll(cluster, 1, ["b1", "b2", "b3"], 1);
    cluster.world.host("broker-1").crash();
    cluster.leaderAndIsr({ leader: 2, leaderEpoch: 3, isr: [2] }, [2]);
    cluster.runFor(50);
    produceAll(cluster, 2, ["c1", "c2"], 1);
    cluster.world.host("broker-2").crash();
    restart(cluster, 1);
    cluster.leaderAndIsr({ leader: 1, leaderEpoch: 4, isr: [1] }, [1]);
    cluster.runFor(50);
    cluster.network.removeRule(cut);
    restart(cluster, 2);
    cluster.leaderAndIsr({ leader: 1, leaderEpoch: 4, isr: [1] }, [2]);
    expect(cluster.runUntil(() => cluster.partition(2)?.log.logEndOffset === 4 && cluster.broker(2).replicaManager.fetchState("t", 0)?.state === "fetching", 10_000)).to.equal(true);
    cluster.runFor(1000);
    return cluster;
  }

  it('KIP-279: "kip-279" truncates over two OffsetsForLeaderEpoch rounds and the logs agree', () => {
    const cluster = kip279Divergence("kip-279");
    expect(cluster.values(1)).to.deep.equal(["a0", "b1", "b2", "b3"]);
    expect(cluster.values(2)).to.deep.equal(["a0", "b1", "b2", "b3"]);
    expect(decisions(cluster, 2)).to.deep.equal([
      ["intermediate", 1],
      ["epoch-match", 1],
    ]);
  });

  it('KIP-279: "kip-101" takes one round, keeps records of an epoch the leader never had, and the logs diverge', () => {
    const cluster = kip279Divergence("kip-101");
    expect(cluster.values(1)).to.deep.equal(["a0", "b1", "b2", "b3"]);
    expect(cluster.values(2)).to.deep.equal(["a0", "c1", "c2", "b3"]);
    // The leader answers 4 (the start of its epoch 4) for the follower's epoch 3: min(4, LEO 3) cuts nothing.
    expect(decisions(cluster, 2)).to.deep.equal([["leader-epoch-end-offset", 3]]);
  });

  it("KIP-320: a follower fetching with an older leader epoch is FENCED_LEADER_EPOCH and waits for LeaderAndIsr", () => {
    const cluster = twoBrokers("kip-320");
    cluster.leaderAndIsr({ leader: 1, leaderEpoch: 2, isr: [1, 2] }, [1]);
    cluster.runFor(1500);
    expect(cluster.broker(2).replicaManager.fetchState("t", 0)).to.equal(undefined);
    const fenced = cluster.events.filter((e) => e.kind === "send" && e.node === "broker-1" && e.type === "FetchResponse");
    expect(fenced.length).to.be.greaterThan(0);
    produceAll(cluster, 1, ["x"], 1);
    cluster.runFor(1000);
    expect(cluster.values(2)).to.deep.equal([]);
    cluster.leaderAndIsr({ leader: 1, leaderEpoch: 2, isr: [1, 2] }, [2]);
    expect(cluster.runUntil(() => cluster.values(2).length === 1, 5000)).to.equal(true);
  });

  it('without KIP-320 ("kip-279") the same stale follower is not fenced and keeps replicating', () => {
    const cluster = twoBrokers("kip-279");
    cluster.leaderAndIsr({ leader: 1, leaderEpoch: 2, isr: [1, 2] }, [1]);
    cluster.runFor(1500);
    expect(cluster.broker(2).replicaManager.fetchState("t", 0)?.state).to.equal("fetching");
    produceAll(cluster, 1, ["x"], 1);
    expect(cluster.runUntil(() => cluster.values(2).length === 1, 5000)).to.equal(true);
  });

  it("the leader answers a fetch with a newer epoch UNKNOWN_LEADER_EPOCH, an older FENCED_LEADER_EPOCH", () => {
    const cluster = twoBrokers("kip-320");
    for (const [correlationId, currentLeaderEpoch] of [
      [500, 5],
      [501, 0],
      [502, 1],
    ]) {
      const request: FetchRequest = {
        type: "Fetch",
        correlationId,
        replicaId: -1,
        replicaEpoch: -1,
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        partitions: [{ topic: "t", partition: 0, currentLeaderEpoch, fetchOffset: 0, logStartOffset: -1, partitionMaxBytes: 1 << 20, lastFetchedEpoch: -1 }],
      };
      cluster.producer.context.send("broker-1", request);
    }
    cluster.runFor(50);
    const errors = cluster.producer.received.filter((m) => m.type === "FetchResponse").map((m) => (m as FetchResponse).partitions[0].error);
    expect(errors).to.deep.equal(["UNKNOWN_LEADER_EPOCH", "FENCED_LEADER_EPOCH", "NONE"]);
  });

  it('OFFSET_OUT_OF_RANGE: a "high-watermark" follower ahead of the new leader truncates to the leader\'s log end (ListOffsets) and diverges', () => {
    const cluster = twoBrokers("high-watermark");
    produceAll(cluster, 1, ["a", "b", "c"], -1);
    cluster.runFor(1000);
    expect(cluster.partition(2)!.log.highWatermark).to.equal(3);
    // Broker 2 loses its log (a replaced disk) and is elected uncleanly; broker 1, with HW 3, then follows a
    // leader whose log ends at 1: its fetch at 3 is out of range.
    cluster.world.host("broker-2").crash();
    const disk = cluster.world.host("broker-2").disk as unknown as Disk;
    for (const file of disk.list("kafka-logs/")) disk.delete(file);
    restart(cluster, 2);
    cluster.leaderAndIsr({ leader: 2, leaderEpoch: 2, isr: [2] }, [2]);
    cluster.runFor(50);
    produceAll(cluster, 2, ["z"], 1);
    cluster.leaderAndIsr({ leader: 2, leaderEpoch: 2, isr: [2] }, [1]);
    expect(cluster.runUntil(() => cluster.partition(1)!.log.logEndOffset === 1, 10_000)).to.equal(true);
    // Kafka keeps its own record at offset 0: "a potential for a mismatch" the old protocol cannot see.
    expect(cluster.values(1)).to.deep.equal(["a"]);
    expect(cluster.values(2)).to.deep.equal(["z"]);
    const listOffsets = cluster.events.filter((e) => e.kind === "deliver" && e.node === "broker-1" && e.type === "ListOffsetsResponse");
    expect(listOffsets.length).to.be.greaterThan(0);
    expect(decisions(cluster, 1)).to.deep.equal([
      ["high-watermark", 3],
      ["leader-end-offset-below", 1],
    ]);
  });
});
