// End to end with real brokers, controller and ZooKeeper (the scenario builder's world): a client gets a producer
// id from InitProducerId, writes idempotently, retries after the leader crashed, and the new leader answers the
// retry with the original offset; every replica ends with each value exactly once.
import { expect } from "chai";
import { Disk } from "../../../src/disk/disk.ts";
import { makeBatch } from "../../../src/broker/log/records.ts";
import type { KafkaBroker } from "../../../src/broker/broker.ts";
import { buildWorld, type BuiltWorld } from "../../../src/scenario/build.ts";
import { validateScenario } from "../../../src/scenario/load.ts";
import type { InitProducerIdResponse, ProducePartitionResponse, ProduceRequest, ProduceResponse } from "../../../src/protocol/kafka.ts";
import type { Message, Process, ProcessContext } from "../../../src/sim/host.ts";
import { ms } from "../../../src/sim/time.ts";

class Client implements Process {
  readonly received: Message[] = [];
  private correlationId = 0;
  constructor(readonly context: ProcessContext<Disk>) {}
  onStart(): void {}
  onTimer(): void {}
  onMessage(_from: string, message: Message): void {
    this.received.push(message);
  }
  send(to: string, message: Record<string, unknown>): number {
    const correlationId = ++this.correlationId;
    this.context.send(to, { ...message, correlationId, sizeBytes: 64 } as unknown as Message);
    return correlationId;
  }
  answer<T>(type: string, correlationId: number): T | undefined {
    return this.received.find((m) => m.type === type && (m as unknown as { correlationId: number }).correlationId === correlationId) as T | undefined;
  }
}

function world(): { built: BuiltWorld; client: () => Client; run: (msLimit: number, until?: () => boolean) => boolean } {
  const scenario = validateScenario(
    {
      name: "idempotence-e2e",
      seed: 3,
      duration: "60s",
      cluster: { zookeeper: { servers: 3 }, brokers: 3, config: { "zookeeper.session.timeout.ms": 6000 } },
      topics: [{ name: "t", partitions: 1, replicationFactor: 3, config: { "min.insync.replicas": 2 } }],
    },
    "idempotence-e2e.json",
  );
  const built = buildWorld(scenario, 3);
  built.world.addHost("idem", new Disk(built.world, "idem"), (context) => new Client(context));
  for (const host of built.world.hosts) host.start();
  const run = (msLimit: number, until: () => boolean = () => false): boolean => {
    const end = built.world.now + ms(msLimit);
    while (built.world.now < end) {
      if (until()) return true;
      const verdict = built.world.kernel.run({ untilUs: Math.min(end, built.world.now + ms(10)), maxEvents: 10_000_000 });
      if (verdict.reason === "model-error") throw verdict.error;
    }
    return until();
  };
  return { built, client: () => built.world.host("idem").process as Client, run };
}

describe("idempotence: end to end", function () {
  this.timeout(60_000);

  it("a retry to the new leader after a leader crash is deduplicated; no replica holds a value twice", () => {
    const { built, client, run } = world();
    expect(run(20_000, () => built.special("leaderOf:t-0") !== null), "t-0 has a leader").to.equal(true);

    // InitProducerId from any broker, retried while it claims its first block.
    let granted: InitProducerIdResponse | undefined;
    for (let attempt = 0; attempt < 10 && granted?.error !== "NONE"; attempt++) {
      const id = client().send("broker-3", { type: "InitProducerId", transactionalId: null, transactionTimeoutMs: 2_147_483_647, producerId: -1, producerEpoch: -1 });
      run(1000, () => client().answer("InitProducerIdResponse", id) !== undefined);
      granted = client().answer<InitProducerIdResponse>("InitProducerIdResponse", id);
      run(100);
    }
    expect(granted).to.include({ error: "NONE", producerEpoch: 0 });
    const producerId = granted!.producerId;

    const produce = (to: string, value: string, sequence: number): ProducePartitionResponse | undefined => {
      const batch = makeBatch({ baseOffset: 0, partitionLeaderEpoch: -1, producerId, producerEpoch: 0, baseSequence: sequence, records: [{ key: null, value, timestamp: 0 }] });
      const request: Omit<ProduceRequest, "correlationId" | "sizeBytes"> = { type: "Produce", acks: -1, timeoutMs: 5000, transactionalId: null, partitions: [{ topic: "t", partition: 0, batch }] };
      const id = client().send(to, request as unknown as Record<string, unknown>);
      run(6000, () => client().answer("ProduceResponse", id) !== undefined);
      return client().answer<ProduceResponse>("ProduceResponse", id)?.partitions[0];
    };

    const leader = built.special("leaderOf:t-0")!;
    expect(produce(leader, "v0", 0)).to.include({ error: "NONE", baseOffset: 0 });
    expect(produce(leader, "v1", 1)).to.include({ error: "NONE", baseOffset: 1 });
    expect(produce(leader, "v1", 1), "a retry to the same leader").to.include({ error: "NONE", baseOffset: 1 });

    built.world.host(leader).crash();
    expect(run(30_000, () => (built.special("leaderOf:t-0") ?? leader) !== leader), "a new leader is elected").to.equal(true);
    const newLeader = built.special("leaderOf:t-0")!;
    expect(produce(newLeader, "v1", 1), "the retry after failover").to.include({ error: "NONE", baseOffset: 1 });
    expect(produce(newLeader, "v3", 3), "a gap").to.include({ error: "OUT_OF_ORDER_SEQUENCE_NUMBER" });
    expect(produce(newLeader, "v2", 2)).to.include({ error: "NONE", baseOffset: 2 });

    built.world.host(leader).start();
    const values = (name: string): (string | null)[] => {
      const log = (built.world.host(name).process as KafkaBroker).logManager.getLog("t", 0)!;
      return [...log.batchesFrom(log.logStartOffset)].flatMap((b) => b.records.map((r) => r.value));
    };
    const replicas = ["broker-1", "broker-2", "broker-3"];
    expect(run(30_000, () => replicas.every((r) => values(r).length === 3)), "every replica caught up").to.equal(true);
    for (const name of replicas) expect(values(name), name).to.deep.equal(["v0", "v1", "v2"]);
  });
});
