/**
 * The loader's rules for transactional producers and read_committed consumers: one line naming the file, the
 * JSON path, what was expected.
 */

import { expect } from "chai";
import { ScenarioError, validateScenario } from "../../src/scenario/load.ts";

type Client = Record<string, unknown>;

const scenario = (clients: Client[], extra: Record<string, unknown> = {}) => ({
  name: "tx",
  duration: "10s",
  cluster: { zookeeper: { servers: 1 }, brokers: 3, ...((extra.cluster as object) ?? {}) },
  topics: [
    { name: "a", partitions: 2, replicationFactor: 3 },
    { name: "b", partitions: 2, replicationFactor: 3 },
  ],
  clients,
  faults: [] as unknown[],
});

const txProducer = (config: Record<string, unknown> = {}, workload: Record<string, unknown> = {}): Client => ({
  id: "p1",
  type: "producer",
  config: { "transactional.id": "tx-1", ...config },
  workload: { topics: ["a", "b"], messages: 10, ratePerSec: 10, transaction: { records: 5 }, ...workload },
});

function errorOf(value: unknown): string {
  try {
    validateScenario(value, "tx.json");
  } catch (error) {
    expect(error).to.be.instanceOf(ScenarioError);
    return (error as Error).message;
  }
  throw new Error("expected a ScenarioError");
}

describe("scenario loading: transactions", () => {
  it("accepts a transactional producer over several topics and a read_committed consumer", () => {
    const loaded = validateScenario(scenario([txProducer(), { id: "c1", type: "consumer", topics: ["a", "b"], config: { "isolation.level": "read_committed" } }]), "tx.json");
    const producer = loaded.clients[0] as { workload: { transaction: { records: number; abortEvery: number } } };
    expect(producer.workload.transaction).to.deep.equal({ records: 5, abortEvery: 0 });
  });

  it("accepts a transaction.timeout.ms above the brokers' maximum: the coordinator answers INVALID_TRANSACTION_TIMEOUT", () => {
    validateScenario(scenario([txProducer({ "transaction.timeout.ms": 2_000_000_000 })]), "tx.json");
  });

  it("refuses a transaction workload without a transactional.id", () => {
    const client = txProducer();
    client.config = {};
    expect(errorOf(scenario([client]))).to.equal(
      'tx.json: $.clients[0].workload.transaction: expected config["transactional.id"] for a transaction workload (Kafka: "Transactional method invoked on a non-transactional producer")',
    );
  });

  it("refuses a transactional.id without a transaction workload", () => {
    expect(errorOf(scenario([txProducer({}, { topics: undefined, topic: "a", transaction: undefined })]))).to.match(
      /^tx\.json: \$\.clients\[0\]\.config\["transactional\.id"\]: expected workload\.transaction/,
    );
  });

  it("refuses a transactional.id with idempotence off (Kafka's ProducerConfig rule)", () => {
    expect(errorOf(scenario([txProducer({ "enable.idempotence": false })]))).to.match(/Cannot set a transactional\.id without also enabling idempotence/);
  });

  it("refuses both topic and topics, neither, several topics without transactions, and an unknown topic", () => {
    expect(errorOf(scenario([txProducer({}, { topic: "a" })]))).to.match(/^tx\.json: \$\.clients\[0\]\.workload: expected "topic"/);
    expect(errorOf(scenario([txProducer({}, { topics: undefined })]))).to.match(/^tx\.json: \$\.clients\[0\]\.workload: expected "topic"/);
    expect(errorOf(scenario([{ id: "p1", type: "producer", workload: { topics: ["a", "b"], messages: 1, ratePerSec: 1 } }]))).to.match(
      /^tx\.json: \$\.clients\[0\]\.workload\.topics: expected "topic": several topics are for a transaction workload/,
    );
    expect(errorOf(scenario([txProducer({}, { topics: ["a", "zz"] })]))).to.equal('tx.json: $.clients[0].workload.topics[1]: expected a topic of the scenario (a, b), found "zz"');
  });

  it("refuses transactions and read_committed on 0.10.2 (KIP-98 arrived in 0.11)", () => {
    expect(errorOf(scenario([txProducer()], { cluster: { version: "0.10.2" } }))).to.match(/\["transactional\.id"\]: expected cluster\.version 0\.11 or later/);
    const consumer = { id: "c1", type: "consumer", topics: ["a"], config: { "isolation.level": "read_committed" } };
    expect(errorOf(scenario([consumer], { cluster: { version: "0.10.2" } }))).to.match(/\["isolation\.level"\]: expected cluster\.version 0\.11 or later/);
  });

  it("refuses an unknown isolation level, listing the allowed ones", () => {
    const consumer = { id: "c1", type: "consumer", topics: ["a"], config: { "isolation.level": "serializable" } };
    expect(errorOf(scenario([consumer]))).to.match(/isolation\.level.*read_uncommitted.*read_committed/);
  });
});
