/**
 * A fake broker that is also every transactional.id's transaction coordinator (and every group's): FindCoordinator
 * answers broker-3, InitProducerId with a transactional.id bumps the epoch (KIP-360 when the current epoch is
 * given), AddPartitionsToTxn / AddOffsetsToTxn / EndTxn / TxnOffsetCommit are recorded and answered, with errors
 * scripted per request. Produce and Metadata go to the ordinary FakeBroker.
 */

import type { KafkaError } from "../../../src/protocol/kafka.ts";
import type { Message, Process, ProcessContext } from "../../../src/sim/host.ts";
import { World } from "../../../src/sim/world.ts";
import { Network } from "../../../src/net/network.ts";
import { diskStub, FakeBroker, type FakeCluster } from "./fake-cluster.ts";

export const COORDINATOR = "broker-3";

export class FakeTransactionCoordinator {
  readonly requests: (Message & Record<string, unknown>)[] = [];
  producerId = 2000;
  producerEpoch = -1;
  /** A scripted error for the n-th request of a type (0-based), else NONE. */
  errors: (type: string, attempt: number) => KafkaError = () => "NONE";

  answer(request: Message & Record<string, unknown>): Message {
    this.requests.push(request);
    const attempt = this.requests.filter((r) => r.type === request.type).length - 1;
    const error = this.errors(request.type, attempt);
    const correlationId = request.correlationId as number;
    switch (request.type) {
      case "FindCoordinator":
        return { type: "FindCoordinatorResponse", correlationId, error, nodeId: 3, host: error === "NONE" ? COORDINATOR : "" } as Message;
      case "InitProducerId":
        if (error === "NONE") this.producerEpoch++;
        return { type: "InitProducerIdResponse", correlationId, error, producerId: this.producerId, producerEpoch: this.producerEpoch } as Message;
      case "AddPartitionsToTxn":
        return {
          type: "AddPartitionsToTxnResponse",
          correlationId,
          error: "NONE",
          partitions: (request.partitions as { topic: string; partition: number }[]).map((p) => ({ ...p, error })),
        } as Message;
      case "AddOffsetsToTxn":
        return { type: "AddOffsetsToTxnResponse", correlationId, error } as Message;
      case "EndTxn":
        return { type: "EndTxnResponse", correlationId, error, producerId: -1, producerEpoch: -1 } as Message;
      default:
        return {
          type: "TxnOffsetCommitResponse",
          correlationId,
          partitions: (request.partitions as { topic: string; partition: number }[]).map((p) => ({ topic: p.topic, partition: p.partition, error })),
        } as Message;
    }
  }
}

const TXN_TYPES = new Set(["FindCoordinator", "InitProducerId", "AddPartitionsToTxn", "AddOffsetsToTxn", "EndTxn", "TxnOffsetCommit"]);

class TxnBroker implements Process {
  private readonly broker: FakeBroker;
  constructor(
    private readonly context: ProcessContext,
    id: number,
    cluster: FakeCluster,
    private readonly coordinator: FakeTransactionCoordinator,
  ) {
    this.broker = new FakeBroker(context, id, cluster);
  }
  onStart(): void {}
  onTimer(tag: string, data: unknown): void {
    this.broker.onTimer(tag, data);
  }
  onMessage(from: string, message: Message): void {
    if (!TXN_TYPES.has(message.type)) return this.broker.onMessage(from, message);
    this.context.send(from, this.coordinator.answer(message as Message & Record<string, unknown>));
  }
}

export function txnWorld(cluster: FakeCluster, coordinator: FakeTransactionCoordinator, seed = 1): World {
  const world = new World(seed);
  new Network(world, { latency: { dist: "constant", us: 1000 } });
  for (const id of [1, 2, 3]) world.addHost(`broker-${id}`, diskStub, (context) => new TxnBroker(context, id, cluster, coordinator)).start();
  return world;
}
