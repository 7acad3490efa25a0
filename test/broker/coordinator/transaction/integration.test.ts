// The transaction coordinator on a real simulated cluster: a test client finds the coordinator (creating
// __transaction_state), initialises a transactional producer id, adds a partition and commits; the coordinator
// appends each transition with acks=all and sends WriteTxnMarkers to the partition's leader.
import { expect } from "chai";
import type { FindCoordinatorResponse } from "../../../../src/protocol/group.ts";
import type { InitProducerIdResponse } from "../../../../src/protocol/kafka.ts";
import { TRANSACTION_STATE_TOPIC_NAME, type AddPartitionsToTxnResponse, type EndTxnResponse } from "../../../../src/protocol/transaction.ts";
import { GroupCluster } from "../group/cluster.ts";

const TXN = "tx-a";

function findTxnCoordinator(cluster: GroupCluster): string {
  let found: FindCoordinatorResponse | undefined;
  const ok = cluster.run(60_000, () => {
    found = cluster.request<FindCoordinatorResponse>("broker-1", { type: "FindCoordinator", key: TXN, keyType: 1 }, 1000);
    if (found?.error === "NONE") return true;
    cluster.run(100);
    return false;
  });
  expect(ok, "a transaction coordinator").to.equal(true);
  return found!.host;
}

/** InitProducerId until it is not retriable (the first one waits for the producer id block / the load). */
function initProducerId(cluster: GroupCluster, coordinator: string): InitProducerIdResponse {
  let answer: InitProducerIdResponse | undefined;
  cluster.run(30_000, () => {
    answer = cluster.request<InitProducerIdResponse>(coordinator, { type: "InitProducerId", transactionalId: TXN, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 }, 2000);
    if (answer !== undefined && answer.error !== "COORDINATOR_LOAD_IN_PROGRESS" && answer.error !== "CONCURRENT_TRANSACTIONS") return true;
    cluster.run(100);
    return false;
  });
  return answer!;
}

describe("transaction coordinator: on a simulated cluster", function () {
  this.timeout(120_000);

  it("creates __transaction_state on the first FindCoordinator keyType 1, then InitProducerId, AddPartitionsToTxn, EndTxn", () => {
    const cluster = new GroupCluster({ "transaction.state.log.num.partitions": 3 });
    const coordinator = findTxnCoordinator(cluster);
    const created = cluster.events("transaction-state-topic-created");
    expect(created).to.have.length(1);
    expect(created[0]).to.deep.include({ partitions: 3, replicationFactor: 3 });
    const topicConfig = cluster.broker("broker-1").topicConfig(TRANSACTION_STATE_TOPIC_NAME);
    expect(topicConfig).to.deep.include({ "cleanup.policy": "compact", "min.insync.replicas": 2 });

    const init = initProducerId(cluster, coordinator);
    expect(init.error).to.equal("NONE");
    expect(init.producerEpoch).to.equal(0);
    const pid = init.producerId;

    const add = cluster.request<AddPartitionsToTxnResponse>(coordinator, { type: "AddPartitionsToTxn", transactionalId: TXN, producerId: pid, producerEpoch: 0, verifyOnly: false, partitions: [{ topic: "t", partition: 0 }] });
    expect(add?.partitions).to.deep.equal([{ topic: "t", partition: 0, error: "NONE" }]);
    const unknown = cluster.request<AddPartitionsToTxnResponse>(coordinator, { type: "AddPartitionsToTxn", transactionalId: TXN, producerId: pid, producerEpoch: 0, verifyOnly: false, partitions: [{ topic: "t", partition: 0 }, { topic: "nope", partition: 0 }] });
    expect(unknown?.partitions.map((p) => p.error)).to.deep.equal(["OPERATION_NOT_ATTEMPTED", "UNKNOWN_TOPIC_OR_PARTITION"]);
    const verify = cluster.request<AddPartitionsToTxnResponse>(coordinator, { type: "AddPartitionsToTxn", transactionalId: TXN, producerId: pid, producerEpoch: 0, verifyOnly: true, partitions: [{ topic: "t", partition: 0 }, { topic: "t", partition: 1 }] });
    expect(verify?.partitions.map((p) => p.error)).to.deep.equal(["NONE", "INVALID_TXN_STATE"]);

    const end = cluster.request<EndTxnResponse>(coordinator, { type: "EndTxn", transactionalId: TXN, producerId: pid, producerEpoch: 0, committed: true });
    expect(end?.error).to.equal("NONE");
    const states = cluster.events("txn-state").filter((e) => e.transactionalId === TXN).map((e) => e.state);
    expect(states.slice(0, 3)).to.deep.equal(["Empty", "Ongoing", "PrepareCommit"]);
    cluster.run(100);
    const sent = cluster.events("txn-markers-sent");
    expect(sent.length).to.be.greaterThan(0);
    expect(sent[0]).to.deep.include({ transactionalId: TXN, result: "COMMIT", partitions: ["t-0"] });
    // Every transition was appended to a __transaction_state partition this broker leads.
    const stateEvents = cluster.events("txn-state");
    expect(new Set(stateEvents.map((e) => e.node))).to.deep.equal(new Set([coordinator]));
  });

  it("a non-transactional InitProducerId is still answered by any broker with epoch 0 (idempotent path)", () => {
    const cluster = new GroupCluster();
    let answer: InitProducerIdResponse | undefined;
    cluster.run(30_000, () => {
      answer = cluster.request<InitProducerIdResponse>("broker-2", { type: "InitProducerId", transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 }, 2000);
      if (answer?.error === "NONE") return true;
      cluster.run(100);
      return false;
    });
    expect(answer).to.deep.include({ error: "NONE", producerEpoch: 0 });
    expect(cluster.events("transaction-state-topic-created")).to.have.length(0);
  });
});
