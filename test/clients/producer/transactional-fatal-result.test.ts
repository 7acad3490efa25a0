/**
 * A fatal error fails the application's pending transactional call even when its own request is still queued
 * (Kafka 3.6 TransactionManager.transitionToFatalError: `pendingTransition.result.fail(exception)`). Found with
 * scenarios/transactions-timeout-abort.json: after an abortable error that needs an epoch bump, abortTransaction
 * queues EndTxn(abort) and then InitProducerId; EndTxn answered PRODUCER_FENCED makes the producer fatal, the
 * Sender sends nothing more, and without the fix the abort's callback never ran (the workload hung, never closed).
 */

import { expect } from "chai";
import { KafkaProducer } from "../../../src/clients/producer/producer.ts";
import { resolveProducerConfig } from "../../../src/clients/producer/config.ts";
import type { Message, Process, ProcessContext } from "../../../src/sim/host.ts";
import { ms } from "../../../src/sim/time.ts";
import { diskStub, FakeCluster, TOPIC } from "./fake-cluster.ts";
import { BOOTSTRAP } from "./harness.ts";
import { FakeTransactionCoordinator, txnWorld } from "./fake-transaction-coordinator.ts";

/** init, begin, send "a", sendOffsetsToTransaction, then abortTransaction; records each result. */
class Driver implements Process {
  readonly producer: KafkaProducer;
  readonly results: [string, string | null][] = [];
  constructor(private readonly context: ProcessContext) {
    const resolved = resolveProducerConfig(BOOTSTRAP, { "transactional.id": "tx-1", "linger.ms": 5 });
    if (!resolved.ok) throw new Error(resolved.error);
    this.producer = new KafkaProducer(context, resolved.config);
  }
  onStart(): void {
    this.producer.start();
    this.producer.partitionsFor(TOPIC);
    this.context.setTimer(ms(10), "driver:init");
  }
  onMessage(from: string, message: Message): void {
    this.producer.onMessage(from, message);
  }
  onTimer(tag: string, data: unknown): void {
    if (this.producer.onTimer(tag, data)) return;
    this.producer.initTransactions((error) => {
      this.results.push(["init", error]);
      this.results.push(["begin", this.producer.beginTransaction()]);
      this.producer.send({ topic: TOPIC, key: null, value: "a" }, () => {});
      const group = { groupId: "g1", generationId: 1, memberId: "m1", groupInstanceId: null };
      this.producer.sendOffsetsToTransaction([{ topic: "in", partition: 0, offset: 7 }], group, (offsetsError) => {
        this.results.push(["offsets", offsetsError]);
        this.producer.abortTransaction((abortError) => this.results.push(["abort", abortError]));
      });
    });
  }
}

describe("KafkaProducer: a fatal error fails the pending transactional call (pendingTransition.result)", () => {
  it("abortTransaction after an abortable error needing an epoch bump reports EndTxn's PRODUCER_FENCED", () => {
    const cluster = new FakeCluster(2, [1, 2]);
    const coordinator = new FakeTransactionCoordinator();
    // UNKNOWN_PRODUCER_ID on AddOffsetsToTxn: abortable, with a KIP-360 epoch bump after the abort's EndTxn.
    coordinator.errors = (type) => (type === "AddOffsetsToTxn" ? "UNKNOWN_PRODUCER_ID" : type === "EndTxn" ? "PRODUCER_FENCED" : "NONE");
    const world = txnWorld(cluster, coordinator);
    let driver: Driver | null = null;
    world.addHost("p1", diskStub, (context) => (driver = new Driver(context))).start();
    const verdict = world.kernel.run({ untilUs: ms(600_000), maxEvents: 1_000_000 });
    if (verdict.reason === "model-error") throw verdict.error;
    expect(driver!.results).to.deep.include(["offsets", "UNKNOWN_PRODUCER_ID"]);
    expect(coordinator.requests.filter((r) => r.type === "EndTxn")).to.have.length(1);
    expect(driver!.producer.transactional!.state).to.equal("FATAL_ERROR");
    expect(driver!.results, "the abort's result").to.deep.include(["abort", "PRODUCER_FENCED"]);
    // The queued InitProducerId (the bump) was never sent: the Sender sends nothing once the producer is fatal.
    expect(coordinator.requests.filter((r) => r.type === "InitProducerId")).to.have.length(1);
  });
});
