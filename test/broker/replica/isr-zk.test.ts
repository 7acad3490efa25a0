import { expect } from "chai";
import { decodePartitionList, decodePartitionState, encodePartitionState, partitionStatePath } from "../../../src/broker/zk-data.ts";
import type { ZkReply } from "../../../src/protocol/zk.ts";
import { ReplicaCluster } from "./harness.ts";

const STATE = partitionStatePath("t", 0);

/** A 3-broker cluster with ZooKeeper, the partition state znode at version 0, and t-0 led by broker 1. */
function zkCluster(): ReplicaCluster {
  const cluster = new ReplicaCluster({ zk: true, compat: { isrUpdate: "zk-direct" } });
  expect(cluster.runUntil(() => cluster.broker(1).zkClient!.state === "CONNECTED", 20_000)).to.equal(true);
  const zk = cluster.broker(1).zkClient!;
  for (const path of ["/brokers", "/brokers/topics", "/brokers/topics/t", "/brokers/topics/t/partitions", "/brokers/topics/t/partitions/0", "/isr_change_notification"]) {
    zk.create(path, "", {}, () => {});
  }
  let created: ZkReply | null = null;
  zk.create(STATE, encodePartitionState({ leader: 1, leaderEpoch: 1, isr: [1, 2, 3], controllerEpoch: 1 }), {}, (reply) => (created = reply));
  expect(cluster.runUntil(() => created !== null, 5000)).to.equal(true);
  expect(created!.code).to.equal("OK");
  cluster.updateMetadata();
  cluster.runFor(20);
  cluster.leaderAndIsr({ leader: 1, leaderEpoch: 1, isr: [1, 2, 3], zkVersion: 0 });
  cluster.runFor(100);
  return cluster;
}

function read(cluster: ReplicaCluster, issue: (done: (reply: ZkReply) => void) => void): ZkReply {
  let reply: ZkReply | null = null;
  issue((r) => (reply = r));
  expect(cluster.runUntil(() => reply !== null, 5000)).to.equal(true);
  return reply!;
}

describe('ReplicaManager: ISR changes written to ZooKeeper by the leader ("zk-direct")', () => {
  it("a shrink is a conditional write of the state znode, then an isr_change notification", () => {
    const cluster = zkCluster();
    cluster.world.host("broker-3").crash();
    // A caught-up follower is never out of sync: the leader needs a record broker 3 lacks.
    cluster.producer.produce(1, "a", 1);
    expect(cluster.runUntil(() => cluster.partition(1)!.isr.length === 2, 20_000)).to.equal(true);
    expect(cluster.eventsOf("isr-shrink", "broker-1")[0]).to.deep.include({ isr: [1, 2], previousIsr: [1, 2, 3], zkVersion: 1 });
    const zk = cluster.broker(1).zkClient!;
    const state = read(cluster, (done) => zk.getData(STATE, false, done));
    expect(state.stat!.version).to.equal(1);
    expect(decodePartitionState(state.data!)).to.deep.equal({ leader: 1, leaderEpoch: 1, isr: [1, 2], controllerEpoch: 1 });
    // Propagated after 5 s without further changes (checked every 2.5 s).
    cluster.runFor(8000);
    const children = read(cluster, (done) => zk.getChildren("/isr_change_notification", false, done));
    expect(children.children).to.deep.equal(["isr_change_0000000000"]);
    const notification = read(cluster, (done) => zk.getData("/isr_change_notification/isr_change_0000000000", false, done));
    expect(decodePartitionList(notification.data!)).to.deep.equal([{ topic: "t", partition: 0 }]);
  });

  it("with a stale cached zkVersion the write fails (BADVERSION): the ISR stays, retried at every check", () => {
    const cluster = zkCluster();
    const zk = cluster.broker(1).zkClient!;
    // Someone else (a new controller) moved the znode on.
    const bumped = read(cluster, (done) => zk.setData(STATE, encodePartitionState({ leader: 2, leaderEpoch: 2, isr: [2, 3], controllerEpoch: 2 }), -1, done));
    expect(bumped.code).to.equal("OK");
    cluster.world.host("broker-3").crash();
    cluster.producer.produce(1, "a", 1);
    cluster.runFor(25_000);
    expect(cluster.partition(1)!.isr).to.deep.equal([1, 2, 3]);
    const failures = cluster.eventsOf("isr-update-failed", "broker-1");
    expect(failures.length).to.be.greaterThan(1);
    expect(failures[0]).to.deep.include({ proposedIsr: [1, 2], reason: "Cached zkVersion not equal to that in zookeeper, skip updating ISR" });
    expect(cluster.eventsOf("isr-shrink", "broker-1")).to.have.length(0);
    // acks=all cannot complete while broker 3 stays in the ISR.
    const id = cluster.producer.produce(1, "x", -1, 3000);
    expect(cluster.runUntil(() => cluster.producer.responses.has(id), 5000)).to.equal(true);
    expect(cluster.producer.error(id)).to.equal("REQUEST_TIMED_OUT");
  });
});
