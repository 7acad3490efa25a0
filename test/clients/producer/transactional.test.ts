import { expect } from "chai";
import { KafkaProducer } from "../../../src/clients/producer/producer.ts";
import { resolveProducerConfig, type ProducerConfigInput } from "../../../src/clients/producer/config.ts";
import type { Message, Process, ProcessContext } from "../../../src/sim/host.ts";
import { ms } from "../../../src/sim/time.ts";
import { diskStub, FakeCluster, TOPIC } from "./fake-cluster.ts";
import { BOOTSTRAP } from "./harness.ts";
import { FakeTransactionCoordinator, txnWorld } from "./fake-transaction-coordinator.ts";

type Step = "init" | "begin" | { send: string } | "commit" | "abort" | { offsets: number };

/** Runs the steps in order, each after the previous one's result; records the results. */
class TxnDriver implements Process {
  readonly producer: KafkaProducer;
  readonly results: [string, string | null][] = [];
  private index = 0;
  constructor(
    private readonly context: ProcessContext,
    config: ProducerConfigInput,
    private readonly steps: Step[],
  ) {
    const resolved = resolveProducerConfig(BOOTSTRAP, { "transactional.id": "tx-1", ...config });
    if (!resolved.ok) throw new Error(resolved.error);
    this.producer = new KafkaProducer(context, resolved.config);
  }
  onStart(): void {
    this.producer.start();
    this.producer.partitionsFor(TOPIC);
    this.context.setTimer(ms(10), "driver:next");
  }
  onMessage(from: string, message: Message): void {
    this.producer.onMessage(from, message);
  }
  onTimer(tag: string, data: unknown): void {
    if (this.producer.onTimer(tag, data)) return;
    this.next();
  }
  private done(name: string, error: string | null): void {
    this.results.push([name, error]);
    this.context.setTimer(ms(1), "driver:next");
  }
  private next(): void {
    const step = this.steps[this.index++];
    if (step === undefined) return;
    if (step === "init") this.producer.initTransactions((e) => this.done("init", e));
    else if (step === "begin") this.done("begin", this.producer.beginTransaction());
    else if (step === "commit") this.producer.commitTransaction((e) => this.done("commit", e));
    else if (step === "abort") this.producer.abortTransaction((e) => this.done("abort", e));
    else if ("send" in step) {
      this.producer.send({ topic: TOPIC, key: null, value: step.send }, (r) => this.results.push([`send ${step.send}`, "error" in r ? r.error : null]));
      this.context.setTimer(ms(1), "driver:next");
    } else {
      const group = { groupId: "g1", generationId: 1, memberId: "m1", groupInstanceId: null };
      this.producer.sendOffsetsToTransaction([{ topic: "in", partition: 0, offset: step.offsets }], group, (e) => this.done("offsets", e));
    }
  }
}

function run(steps: Step[], setup: (coordinator: FakeTransactionCoordinator, cluster: FakeCluster) => void = () => {}) {
  const cluster = new FakeCluster(2, [1, 2]);
  const coordinator = new FakeTransactionCoordinator();
  setup(coordinator, cluster);
  const world = txnWorld(cluster, coordinator);
  let driver: TxnDriver | null = null;
  world.addHost("p1", diskStub, (context) => (driver = new TxnDriver(context, { "linger.ms": 5 }, steps))).start();
  const verdict = world.kernel.run({ untilUs: ms(600_000), maxEvents: 1_000_000 });
  if (verdict.reason === "model-error") throw verdict.error;
  return { cluster, coordinator, driver: driver! };
}

describe("KafkaProducer: transactions against a fake transaction coordinator", () => {
  it("FindCoordinator(keyType 1), InitProducerId(transactional.id), AddPartitionsToTxn before the first batch, EndTxn after the batches", () => {
    const { cluster, coordinator, driver } = run(["init", "begin", { send: "a" }, { send: "b" }, "commit"]);
    expect(driver.results.map(([n, e]) => `${n}:${e}`)).to.include.members(["init:null", "begin:null", "send a:null", "send b:null", "commit:null"]);
    const types = coordinator.requests.map((r) => r.type);
    expect(types[0]).to.equal("FindCoordinator");
    expect(coordinator.requests[0].keyType).to.equal(1);
    expect(coordinator.requests[0].key).to.equal("tx-1");
    const init = coordinator.requests.find((r) => r.type === "InitProducerId")!;
    expect([init.transactionalId, init.transactionTimeoutMs]).to.deep.equal(["tx-1", 60_000]);
    expect(types.at(-1)).to.equal("EndTxn");
    expect(coordinator.requests.at(-1)!.committed).to.equal(true);
    const batches = cluster.produces.flatMap((p) => p.batches);
    expect(batches.length).to.be.greaterThan(0);
    for (const b of batches) expect([b.producerId, b.producerEpoch]).to.deep.equal([2000, 0]);
    // AddPartitionsToTxn went out before any Produce.
    expect(types.indexOf("AddPartitionsToTxn")).to.be.greaterThan(types.indexOf("InitProducerId"));
  });

  it("retries AddPartitionsToTxn on CONCURRENT_TRANSACTIONS and finds the coordinator again on NOT_COORDINATOR", () => {
    const { coordinator, driver } = run(["init", "begin", { send: "a" }, "commit"], (c) => {
      c.errors = (type, attempt) => (type === "AddPartitionsToTxn" && attempt === 0 ? "CONCURRENT_TRANSACTIONS" : type === "EndTxn" && attempt === 0 ? "NOT_COORDINATOR" : "NONE");
    });
    expect(driver.results.find(([n]) => n === "commit")).to.deep.equal(["commit", null]);
    const types = coordinator.requests.map((r) => r.type);
    expect(types.filter((t) => t === "AddPartitionsToTxn")).to.have.length(2);
    expect(types.filter((t) => t === "FindCoordinator")).to.have.length(2);
    expect(types.filter((t) => t === "EndTxn")).to.have.length(2);
  });

  it("is fenced (fatal) by PRODUCER_FENCED and fails every later call", () => {
    const { driver } = run(["init", "begin", { send: "a" }, "commit", "begin"], (c) => {
      c.errors = (type) => (type === "EndTxn" ? "PRODUCER_FENCED" : "NONE");
    });
    expect(driver.results.find(([n]) => n === "commit")).to.deep.equal(["commit", "PRODUCER_FENCED"]);
    expect(driver.producer.transactional!.state).to.equal("FATAL_ERROR");
    expect(driver.results.at(-1)).to.deep.equal(["begin", "PRODUCER_FENCED"]);
  });

  it("after an abortable error (UNKNOWN_PRODUCER_ID) aborts, then bumps the epoch with InitProducerId (KIP-360)", () => {
    const { coordinator, driver } = run(["init", "begin", { send: "a" }, { offsets: 7 }, "abort", "begin", "commit"], (c) => {
      c.errors = (type, attempt) => (type === "AddOffsetsToTxn" && attempt === 0 ? "UNKNOWN_PRODUCER_ID" : "NONE");
    });
    expect(driver.results.find(([n]) => n === "offsets")).to.deep.equal(["offsets", "UNKNOWN_PRODUCER_ID"]);
    expect(driver.results.find(([n]) => n === "abort")).to.deep.equal(["abort", null]);
    const inits = coordinator.requests.filter((r) => r.type === "InitProducerId");
    expect(inits).to.have.length(2);
    expect([inits[1].producerId, inits[1].producerEpoch]).to.deep.equal([2000, 0]);
    expect(driver.producer.transactionManager!.producerEpoch).to.equal(1);
    expect(driver.results.at(-1)).to.deep.equal(["commit", null]);
  });

  it("sendOffsetsToTransaction: AddOffsetsToTxn to the transaction coordinator, then TxnOffsetCommit to the group's", () => {
    const { coordinator, driver } = run(["init", "begin", { offsets: 42 }, "commit"]);
    expect(driver.results.find(([n]) => n === "offsets")).to.deep.equal(["offsets", null]);
    const types = coordinator.requests.map((r) => r.type);
    const commit = coordinator.requests.find((r) => r.type === "TxnOffsetCommit")!;
    expect(types.indexOf("TxnOffsetCommit")).to.be.greaterThan(types.indexOf("AddOffsetsToTxn"));
    expect(coordinator.requests.some((r) => r.type === "FindCoordinator" && r.keyType === 0 && r.key === "g1")).to.equal(true);
    expect(commit.partitions).to.deep.equal([{ topic: "in", partition: 0, committedOffset: 42, committedLeaderEpoch: -1, committedMetadata: null }]);
    expect(types.at(-1)).to.equal("EndTxn");
  });
});
