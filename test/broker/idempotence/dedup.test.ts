// Broker-side dedup through the ReplicaManager's Produce path (ReplicaCluster harness): duplicates answered with
// the original offset and not appended, sequence errors, dedup after a crash (state rebuilt from the log) and on a
// new leader (state built by replication).
import { expect } from "chai";
import { makeBatch } from "../../../src/broker/log/records.ts";
import { brokerHost, type Acks, type ProducePartitionResponse, type ProduceRequest } from "../../../src/protocol/kafka.ts";
import { ReplicaCluster, TOPIC, type ClusterOptions } from "../replica/harness.ts";

const PID = 1000;
let correlationIds = 50_000;

/** Sends an idempotent single-record batch from the producer host; returns the correlation id. */
function send(cluster: ReplicaCluster, leader: number, value: string, sequence: number, options: { epoch?: number; acks?: Acks } = {}): number {
  const batch = makeBatch({
    baseOffset: 0,
    partitionLeaderEpoch: -1,
    producerId: PID,
    producerEpoch: options.epoch ?? 0,
    baseSequence: sequence,
    records: [{ key: null, value, timestamp: 0 }],
  });
  const correlationId = ++correlationIds;
  const request: ProduceRequest = {
    type: "Produce",
    correlationId,
    acks: options.acks ?? -1,
    timeoutMs: 30_000,
    transactionalId: null,
    partitions: [{ topic: TOPIC, partition: 0, batch }],
  };
  cluster.producer.context.send(brokerHost(leader), request);
  return correlationId;
}

function answer(cluster: ReplicaCluster, correlationId: number, limitMs = 10_000): ProducePartitionResponse {
  expect(cluster.runUntil(() => cluster.producer.responses.has(correlationId), limitMs), `response ${correlationId}`).to.equal(true);
  return cluster.producer.responses.get(correlationId)!.partitions[0];
}

function started(options: ClusterOptions = {}): ReplicaCluster {
  const cluster = new ReplicaCluster(options);
  cluster.updateMetadata();
  cluster.runFor(20);
  cluster.leaderAndIsr({ leader: 1, leaderEpoch: 1, isr: cluster.brokerIds });
  cluster.runFor(50);
  return cluster;
}

describe("idempotence: broker dedup on Produce", () => {
  it("a retried batch is not appended again and is answered with its original offset", () => {
    const cluster = started();
    expect(answer(cluster, send(cluster, 1, "a", 0))).to.include({ error: "NONE", baseOffset: 0 });
    expect(answer(cluster, send(cluster, 1, "b", 1))).to.include({ error: "NONE", baseOffset: 1 });
    expect(answer(cluster, send(cluster, 1, "a", 0))).to.include({ error: "NONE", baseOffset: 0 });
    expect(answer(cluster, send(cluster, 1, "b", 1, { acks: 1 }))).to.include({ error: "NONE", baseOffset: 1 });
    expect(cluster.runUntil(() => [2, 3].every((id) => cluster.partition(id)!.log.logEndOffset === 2), 5000)).to.equal(true);
    for (const id of [1, 2, 3]) expect(cluster.values(id)).to.deep.equal(["a", "b"]);
    const dedups = cluster.eventsOf("producer-dedup", "broker-1");
    expect(dedups.map((e) => e.originalOffset)).to.deep.equal([0, 1]);
    expect(dedups[0]).to.include({ topicPartition: "t-0", producerId: PID, producerEpoch: 0, baseSequence: 0 });
  });

  it("an acks=all duplicate waits for the original to be committed", () => {
    const cluster = started();
    const cut = cluster.network.partition([["broker-2", "broker-3"], ["broker-1", "producer", "broker-9"]]);
    const first = send(cluster, 1, "a", 0);
    cluster.runFor(500);
    const retry = send(cluster, 1, "a", 0);
    cluster.runFor(500);
    expect(cluster.producer.responses.has(first)).to.equal(false);
    expect(cluster.producer.responses.has(retry), "the retry is parked like the original").to.equal(false);
    cluster.network.removeRule(cut);
    // The followers come back (or leave the ISR after replica.lag.time.max.ms): the original commits.
    expect(answer(cluster, retry, 40_000)).to.include({ error: "NONE", baseOffset: 0 });
    expect(answer(cluster, first)).to.include({ error: "NONE", baseOffset: 0 });
    expect(cluster.values(1)).to.deep.equal(["a"]);
  });

  it("refuses a gap with OUT_OF_ORDER_SEQUENCE_NUMBER and a fenced epoch with INVALID_PRODUCER_EPOCH", () => {
    const cluster = started();
    answer(cluster, send(cluster, 1, "a", 0));
    expect(answer(cluster, send(cluster, 1, "c", 2))).to.include({ error: "OUT_OF_ORDER_SEQUENCE_NUMBER", baseOffset: -1 });
    expect(answer(cluster, send(cluster, 1, "x", 0, { epoch: 1 }))).to.include({ error: "NONE", baseOffset: 1 });
    expect(answer(cluster, send(cluster, 1, "b", 1, { epoch: 0 }))).to.include({ error: "INVALID_PRODUCER_EPOCH", baseOffset: -1 });
    expect(cluster.values(1)).to.deep.equal(["a", "x"]);
    expect(cluster.eventsOf("producer-dedup")).to.have.length(0);
  });

  it("after a crash and restart the broker still deduplicates: producer state is rebuilt from the log", () => {
    const cluster = started({ brokers: 1 });
    for (const [seq, value] of ["a", "b", "c"].entries()) answer(cluster, send(cluster, 1, value, seq));
    cluster.world.host("broker-1").crash();
    cluster.world.host("broker-1").start();
    cluster.updateMetadata();
    cluster.runFor(20);
    cluster.leaderAndIsr({ leader: 1, leaderEpoch: 2, isr: [1] });
    cluster.runFor(50);
    expect(cluster.eventsOf("producer-state-rebuild", "broker-1").at(-1)).to.include({ reason: "load", producers: 1, batches: 3 });
    expect(answer(cluster, send(cluster, 1, "b", 1))).to.include({ error: "NONE", baseOffset: 1 });
    expect(answer(cluster, send(cluster, 1, "c", 2))).to.include({ error: "NONE", baseOffset: 2 });
    expect(answer(cluster, send(cluster, 1, "e", 4))).to.include({ error: "OUT_OF_ORDER_SEQUENCE_NUMBER" });
    expect(answer(cluster, send(cluster, 1, "d", 3))).to.include({ error: "NONE", baseOffset: 3 });
    expect(cluster.values(1)).to.deep.equal(["a", "b", "c", "d"]);
  });

  it("a new leader deduplicates a retry of a batch it copied as a follower", () => {
    const cluster = started();
    answer(cluster, send(cluster, 1, "a", 0));
    answer(cluster, send(cluster, 1, "b", 1));
    expect(cluster.runUntil(() => cluster.partition(2)!.log.logEndOffset === 2, 5000)).to.equal(true);
    cluster.world.host("broker-1").crash();
    cluster.leaderAndIsr({ leader: 2, leaderEpoch: 2, isr: [2, 3] }, [2, 3]);
    cluster.runFor(50);
    expect(answer(cluster, send(cluster, 2, "b", 1))).to.include({ error: "NONE", baseOffset: 1 });
    expect(answer(cluster, send(cluster, 2, "c", 2))).to.include({ error: "NONE", baseOffset: 2 });
    expect(cluster.values(2)).to.deep.equal(["a", "b", "c"]);
  });

  it("a follower truncated by the new leader forgets the truncated batches", () => {
    const cluster = started();
    answer(cluster, send(cluster, 1, "a", 0));
    expect(cluster.runUntil(() => [2, 3].every((id) => cluster.partition(id)!.log.logEndOffset === 1), 5000)).to.equal(true);
    // Broker 1 appends "b" alone (acks=1) while cut off, then loses leadership to broker 2.
    const cut = cluster.network.partition([["broker-2", "broker-3"], ["broker-1", "producer"]]);
    expect(answer(cluster, send(cluster, 1, "b", 1, { acks: 1 }))).to.include({ error: "NONE", baseOffset: 1 });
    cluster.leaderAndIsr({ leader: 2, leaderEpoch: 2, isr: [2, 3] }, [2, 3]);
    cluster.runFor(50);
    cluster.network.removeRule(cut);
    cluster.leaderAndIsr({ leader: 2, leaderEpoch: 2, isr: [2, 3] }, [1]);
    expect(cluster.runUntil(() => cluster.partition(1)!.log.logEndOffset === 1 && cluster.partition(1)!.leaderId === 2, 10_000)).to.equal(true);
    const state = cluster.partition(1)!.log.producerState;
    // "b" (seq 1) is gone from broker 1's log and from its producer state: a retry of it is no duplicate.
    expect(state.checkLeaderAppend(makeBatch({ baseOffset: 1, partitionLeaderEpoch: 2, producerId: PID, producerEpoch: 0, baseSequence: 1, records: [{ key: null, value: "b", timestamp: 0 }] })).kind).to.equal("append");
    expect(cluster.eventsOf("producer-state-rebuild", "broker-1").at(-1)).to.include({ reason: "truncate" });
  });
});
