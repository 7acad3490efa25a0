// Producer id allocation (ZkProducerIdManager) and InitProducerId for idempotent producers: blocks of 1000 ids
// claimed from /latest_producer_id_block with conditional writes, disjoint across brokers, prefetch, and the
// request's validation.
import { expect } from "chai";
import {
  BLOCK_CLAIM_ATTEMPTS_MAX,
  BLOCK_CLAIM_STALE_MS,
  decodeProducerIdBlock,
  encodeProducerIdBlock,
  handleInitProducerId,
  PRODUCER_ID_BLOCK_PATH,
  PRODUCER_ID_BLOCK_SIZE,
  ProducerIdManager,
  producerIdManagerOf,
} from "../../../src/broker/idempotence/producer-id-manager.ts";
import type { BrokerServices } from "../../../src/broker/services.ts";
import type { InitProducerIdRequest, InitProducerIdResponse } from "../../../src/protocol/kafka.ts";
import type { ZkReply } from "../../../src/protocol/zk.ts";
import { ReplicaCluster } from "../replica/harness.ts";

let correlationIds = 70_000;

function initProducerId(cluster: ReplicaCluster, brokerId: number, fields: Partial<InitProducerIdRequest> = {}): number {
  const correlationId = ++correlationIds;
  const request: InitProducerIdRequest = {
    type: "InitProducerId",
    correlationId,
    transactionalId: null,
    transactionTimeoutMs: 2_147_483_647,
    producerId: -1,
    producerEpoch: -1,
    sizeBytes: 64,
    ...fields,
  };
  handleInitProducerId(cluster.broker(brokerId), "producer", request);
  return correlationId;
}

function response(cluster: ReplicaCluster, correlationId: number): InitProducerIdResponse {
  expect(cluster.runUntil(() => find(cluster, correlationId) !== undefined, 5000), `response ${correlationId}`).to.equal(true);
  return find(cluster, correlationId)!;
}

function find(cluster: ReplicaCluster, correlationId: number): InitProducerIdResponse | undefined {
  return cluster.producer.received.find((m) => m.type === "InitProducerIdResponse" && (m as InitProducerIdResponse).correlationId === correlationId) as
    | InitProducerIdResponse
    | undefined;
}

/** An id from `brokerId`, retrying while the broker answers COORDINATOR_LOAD_IN_PROGRESS (as the client does). */
function grantedId(cluster: ReplicaCluster, brokerId: number): number {
  for (let attempt = 0; attempt < 20; attempt++) {
    const answer = response(cluster, initProducerId(cluster, brokerId));
    if (answer.error === "NONE") {
      expect(answer.producerEpoch).to.equal(0);
      return answer.producerId;
    }
    expect(answer.error).to.equal("COORDINATOR_LOAD_IN_PROGRESS");
    cluster.runFor(100);
  }
  throw new Error(`no producer id from broker ${brokerId}`);
}

function zkCluster(brokers = 2): ReplicaCluster {
  const cluster = new ReplicaCluster({ zk: true, brokers });
  expect(cluster.runUntil(() => cluster.brokerIds.every((id) => cluster.broker(id).zkClient!.state === "CONNECTED"), 20_000)).to.equal(true);
  return cluster;
}

function latestBlock(cluster: ReplicaCluster): unknown {
  let data: string | undefined;
  cluster.broker(1).zkClient!.getData(PRODUCER_ID_BLOCK_PATH, false, (reply) => (data = reply.data));
  cluster.runUntil(() => data !== undefined, 5000);
  return JSON.parse(data!);
}

describe("idempotence: producer id blocks and InitProducerId", () => {
  it("encodes the block znode as Kafka's ProducerIdBlockZNode", () => {
    const block = { assignedBrokerId: 2, firstProducerId: 1000, lastProducerId: 1999 };
    expect(JSON.parse(encodeProducerIdBlock(block))).to.deep.equal({ version: 1, broker: 2, block_start: "1000", block_end: "1999" });
    expect(decodeProducerIdBlock(encodeProducerIdBlock(block))).to.deep.equal(block);
    expect(decodeProducerIdBlock("")).to.equal(null);
  });

  it("answers COORDINATOR_LOAD_IN_PROGRESS until its first block is claimed, then ids at epoch 0", () => {
    const cluster = zkCluster(1);
    expect(response(cluster, initProducerId(cluster, 1))).to.include({ error: "COORDINATOR_LOAD_IN_PROGRESS", producerId: -1, producerEpoch: -1 });
    cluster.runFor(200);
    expect(response(cluster, initProducerId(cluster, 1))).to.include({ error: "NONE", producerId: 0, producerEpoch: 0 });
    expect(response(cluster, initProducerId(cluster, 1))).to.include({ error: "NONE", producerId: 1, producerEpoch: 0 });
    expect(latestBlock(cluster)).to.deep.equal({ version: 1, broker: 1, block_start: "0", block_end: "999" });
    expect(cluster.eventsOf("producer-id-block", "broker-1")[0]).to.include({ blockStart: 0, blockEnd: 999 });
  });

  it("brokers claiming at the same moment get disjoint blocks (conditional writes, retried)", () => {
    const cluster = zkCluster(3);
    // Broker 1 creates the znode; then brokers 2 and 3 race on the conditional setData of version 0.
    grantedId(cluster, 1);
    initProducerId(cluster, 2);
    initProducerId(cluster, 3);
    cluster.runFor(500);
    const ids = [1, 2, 3].map((id) => Array.from({ length: 5 }, () => grantedId(cluster, id)));
    const blocks = [1, 2, 3].map((id) => producerIdManagerOf(cluster.broker(id)).currentBlock!);
    expect(blocks.map((b) => b.firstProducerId)).to.have.members([0, 1000, 2000]);
    blocks.forEach((block, i) => {
      for (const id of ids[i]) expect(id >= block.firstProducerId && id <= block.lastProducerId).to.equal(true);
    });
    expect(new Set(ids.flat()).size).to.equal(15);
    const attempts = cluster.eventsOf("producer-id-block").map((e) => e.attempts as number);
    expect(attempts.sort(), "the loser of the race re-read and retried once").to.deep.equal([1, 1, 2]);
    expect(latestBlock(cluster)).to.include({ block_start: "2000", block_end: "2999" });
  });

  it("two brokers creating the znode at the same moment: one create wins, the other re-reads", () => {
    const cluster = zkCluster(2);
    initProducerId(cluster, 1);
    initProducerId(cluster, 2);
    cluster.runFor(500);
    const ids = [grantedId(cluster, 1), grantedId(cluster, 2)];
    const starts = [1, 2].map((id) => producerIdManagerOf(cluster.broker(id)).currentBlock!.firstProducerId);
    expect(starts).to.have.members([0, 1000]);
    expect(ids).to.have.members(starts);
  });

  it("claims the next block before the current one runs out; ids stay unique across blocks and brokers", () => {
    const cluster = zkCluster(2);
    const seen = new Set<number>();
    seen.add(grantedId(cluster, 2));
    let unavailable = 0;
    for (let i = 1; i < PRODUCER_ID_BLOCK_SIZE + 10; i++) {
      const id = producerIdManagerOf(cluster.broker(1)).generateProducerId();
      if (id === null) {
        unavailable++;
        cluster.runFor(100);
        i--;
        continue;
      }
      expect(seen.has(id), `id ${id} handed out twice`).to.equal(false);
      seen.add(id);
      if (i % 50 === 0) cluster.runFor(50);
    }
    expect(unavailable, "only the very first request waits for a block").to.equal(1);
    const blocks = cluster.eventsOf("producer-id-block", "broker-1").map((e) => e.blockStart);
    expect(blocks).to.deep.equal([1000, 2000]);
    expect(latestBlock(cluster)).to.include({ broker: 1, block_start: "2000" });
  });

  it("a request carrying a producer id gets a new id at epoch 0 (idempotent producers bump epochs client-side)", () => {
    const cluster = zkCluster(1);
    const first = grantedId(cluster, 1);
    const bumped = response(cluster, initProducerId(cluster, 1, { producerId: first, producerEpoch: 5 }));
    expect(bumped).to.include({ error: "NONE", producerEpoch: 0 });
    expect(bumped.producerId).to.not.equal(first);
  });

  it("validates the request: an id without an epoch is INVALID_REQUEST; transactional ids need a coordinator", () => {
    const cluster = zkCluster(1);
    expect(response(cluster, initProducerId(cluster, 1, { producerId: 7 }))).to.include({ error: "INVALID_REQUEST" });
    expect(response(cluster, initProducerId(cluster, 1, { producerEpoch: 0 }))).to.include({ error: "INVALID_REQUEST" });
    expect(response(cluster, initProducerId(cluster, 1, { transactionalId: "" }))).to.include({ error: "INVALID_REQUEST" });
    expect(response(cluster, initProducerId(cluster, 1, { transactionalId: "tx" }))).to.include({ error: "NOT_COORDINATOR" });
  });
});

describe("idempotence: producer id block claims against a scripted ZooKeeper", () => {
  /** A fake broker whose ZooKeeper client keeps every call for the test to answer. */
  function fakeBroker() {
    const calls: { op: string; version?: number; cb: (reply: ZkReply) => void }[] = [];
    const traces: { kind: string; fields: Record<string, unknown> }[] = [];
    let now = 0;
    const zk = {
      getData: (_path: string, _watch: boolean, cb: (reply: ZkReply) => void) => calls.push({ op: "getData", cb }),
      setData: (_path: string, _data: string, version: number, cb: (reply: ZkReply) => void) => calls.push({ op: "setData", version, cb }),
      create: (_path: string, _data: string, _mode: unknown, cb: (reply: ZkReply) => void) => calls.push({ op: "create", cb }),
    };
    const services = {
      brokerId: 4,
      context: { tracing: true, trace: (kind: string, fields: Record<string, unknown>) => traces.push({ kind, fields }) },
      zk: () => zk,
      nowMs: () => now,
    } as unknown as BrokerServices;
    return { manager: new ProducerIdManager(services), calls, traces, advance: (ms: number) => (now += ms) };
  }
  const stat = { version: 3 } as ZkReply["stat"];
  const existing = encodeProducerIdBlock({ assignedBrokerId: 1, firstProducerId: 5000, lastProducerId: 5999 });

  it("retries a lost connection a bounded number of times, then waits for the next request", () => {
    const { manager, calls, traces } = fakeBroker();
    expect(manager.generateProducerId()).to.equal(null);
    for (let i = 0; i < BLOCK_CLAIM_ATTEMPTS_MAX; i++) calls[i].cb({ code: "CONNECTIONLOSS" });
    expect(calls).to.have.length(BLOCK_CLAIM_ATTEMPTS_MAX);
    expect(traces.map((t) => t.kind)).to.deep.equal(["producer-id-block-failed"]);
    expect(manager.generateProducerId()).to.equal(null);
    expect(calls).to.have.length(BLOCK_CLAIM_ATTEMPTS_MAX + 1);
    calls.at(-1)!.cb({ code: "OK", stat, data: existing });
    expect(calls.at(-1)).to.include({ op: "setData", version: 3 });
    calls.at(-1)!.cb({ code: "OK" });
    expect(manager.generateProducerId()).to.equal(6000);
  });

  it("abandons a claim whose answer never comes, and ignores that claim's late answer", () => {
    const { manager, calls, advance } = fakeBroker();
    expect(manager.generateProducerId()).to.equal(null);
    advance(BLOCK_CLAIM_STALE_MS - 1);
    expect(manager.generateProducerId()).to.equal(null);
    expect(calls, "one claim at a time").to.have.length(1);
    advance(1);
    expect(manager.generateProducerId()).to.equal(null);
    expect(calls, "a stale claim is replaced").to.have.length(2);
    calls[0].cb({ code: "OK", stat, data: existing });
    expect(calls, "the abandoned claim's answer is ignored").to.have.length(2);
    calls[1].cb({ code: "NONODE" });
    expect(calls[2].op).to.equal("create");
    calls[2].cb({ code: "OK" });
    expect(manager.generateProducerId()).to.equal(0);
    expect(manager.currentBlock).to.deep.equal({ assignedBrokerId: 4, firstProducerId: 0, lastProducerId: 999 });
  });
});
