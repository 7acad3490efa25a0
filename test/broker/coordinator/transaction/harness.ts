/**
 * Unit harness for the TransactionCoordinator: one host ("coord") whose process holds a coordinator over a fake
 * __transaction_state storage (appends complete after `appendDelayMs` with `appendError` and are kept, per
 * partition, in a fake log the loading reads), a metadata cache where broker 2 leads every data partition, and a
 * captured outbox of WriteTxnMarkers (tests answer them through `answerMarkers`). The coordinator owns every
 * transaction log partition at coordinator epoch 1 once the harness is built.
 */

import { DEFAULT_COMPAT, resolveBrokerSettings } from "../../../../src/broker/config.ts";
import { TransactionCoordinator, type InitProducerIdResult } from "../../../../src/broker/coordinator/transaction/transaction-coordinator.ts";
import { TXN_COORDINATOR_TIMER_PREFIX, type TransactionLogStorage } from "../../../../src/broker/coordinator/transaction/transaction-state-manager.ts";
import type { Log } from "../../../../src/broker/log/log.ts";
import { MetadataCache } from "../../../../src/broker/metadata-cache.ts";
import { Disk } from "../../../../src/disk/disk.ts";
import { Network } from "../../../../src/net/network.ts";
import type { KafkaError } from "../../../../src/protocol/kafka.ts";
import type { WriteTxnMarkersRequest } from "../../../../src/protocol/transaction.ts";
import type { Message, Process, ProcessContext } from "../../../../src/sim/host.ts";
import { ms } from "../../../../src/sim/time.ts";
import { World } from "../../../../src/sim/world.ts";

export const TXN = "tx-1";

interface StoredRecord {
  readonly key: string;
  readonly value: string | null;
}

/** A log holding `records`, one per batch, as the loading reads it. */
function fakeLog(records: StoredRecord[]): Log {
  return {
    get sizeInBytes() {
      return records.length * 100;
    },
    logStartOffset: 0,
    get logEndOffset() {
      return records.length;
    },
    read(offset: number) {
      return { error: null, batches: records.slice(offset).map((r, i) => ({ baseOffset: offset + i, lastOffsetDelta: 0, isControl: false, records: [{ key: r.key, value: r.value }] })) };
    },
  } as unknown as Log;
}

class CoordinatorProcess implements Process {
  coordinator!: TransactionCoordinator;
  constructor(
    readonly context: ProcessContext<Disk>,
    private readonly build: (context: ProcessContext<Disk>) => TransactionCoordinator,
  ) {}
  onStart(): void {
    this.coordinator = this.build(this.context);
  }
  onMessage(_from: string, _message: Message): void {}
  onTimer(tag: string, data: unknown): void {
    if (tag.startsWith(TXN_COORDINATOR_TIMER_PREFIX)) this.coordinator.onTimer(tag, data);
    else if (tag === "append") (data as () => void)();
  }
}

export class TxnCoordinatorHarness {
  readonly world = new World(1);
  readonly logs = new Map<number, StoredRecord[]>();
  readonly markers: { brokerId: number; request: WriteTxnMarkersRequest }[] = [];
  readonly metadataCache = new MetadataCache();
  appendError: KafkaError = "NONE";
  appendDelayMs = 1;
  private nextProducerId = 1000;

  constructor(config: Record<string, unknown> = {}, compat: Partial<typeof DEFAULT_COMPAT> = {}) {
    new Network(this.world, { latency: { dist: "uniform", minUs: 1000, maxUs: 1000 } });
    const settings = resolveBrokerSettings("3.x", { "transaction.state.log.num.partitions": 1, ...config }, { ...DEFAULT_COMPAT, ...compat });
    this.metadataCache.update({
      type: "UpdateMetadata",
      correlationId: 0,
      controllerId: 1,
      controllerEpoch: 1,
      brokerEpoch: 1,
      liveBrokers: [1, 2, 3].map((id) => ({ id, host: `broker-${id}` })),
      partitionStates: ["t", "u"].flatMap((topic) => [0, 1].map((partition) => ({ topic, partition, leader: 2, leaderEpoch: 0, isr: [2], replicas: [2], offlineReplicas: [], zkVersion: 0, controllerEpoch: 1 }))),
      sizeBytes: 0,
    } as never);
    this.world.addHost("coord", new Disk(this.world, "coord"), (context) => new CoordinatorProcess(context, (ctx) => {
      const storage: TransactionLogStorage = {
        append: (partition, key, value, _timeoutMs, callback) => {
          const error = this.appendError;
          if (error === "NONE") this.logOf(partition).push({ key, value });
          ctx.setTimer(ms(this.appendDelayMs), "append", () => callback(error));
        },
        log: (partition) => fakeLog(this.logOf(partition)),
      };
      const coordinator = new TransactionCoordinator(
        {
          brokerId: 1,
          context: ctx,
          config: settings.replication,
          compat: settings.compat,
          metadataCache: this.metadataCache,
          nowMs: () => Math.floor(ctx.now() / 1000),
          nextCorrelationId: (() => {
            let id = 0;
            return () => ++id;
          })(),
          sendToBroker: (brokerId, message) => this.markers.push({ brokerId, request: message as WriteTxnMarkersRequest }),
          generateProducerId: () => this.nextProducerId++,
        },
        storage,
      );
      coordinator.startup();
      for (let p = 0; p < settings.replication["transaction.state.log.num.partitions"]; p++) coordinator.onElection(p, 1);
      return coordinator;
    }));
    this.world.host("coord").start();
    this.run(1);
  }

  logOf(partition: number): StoredRecord[] {
    let records = this.logs.get(partition);
    if (records === undefined) this.logs.set(partition, (records = []));
    return records;
  }

  get coordinator(): TransactionCoordinator {
    return (this.world.host("coord").process as CoordinatorProcess).coordinator;
  }

  run(durationMs: number): void {
    const verdict = this.world.kernel.run({ untilUs: this.world.now + ms(durationMs), maxEvents: 10_000_000 });
    if (verdict.reason === "model-error") throw verdict.error;
  }

  initProducerId(options: { transactionalId?: string; timeoutMs?: number; expected?: { producerId: number; producerEpoch: number } | null } = {}): { result: InitProducerIdResult | null } {
    const box: { result: InitProducerIdResult | null } = { result: null };
    this.coordinator.handleInitProducerId(options.transactionalId ?? TXN, options.timeoutMs ?? 60_000, options.expected ?? null, (r) => (box.result = r));
    return box;
  }

  addPartitions(producerId: number, producerEpoch: number, partitions: { topic: string; partition: number }[]): { error: KafkaError | null } {
    const box: { error: KafkaError | null } = { error: null };
    this.coordinator.handleAddPartitionsToTransaction(TXN, producerId, producerEpoch, partitions, (e) => (box.error = e));
    return box;
  }

  endTxn(producerId: number, producerEpoch: number, commit: boolean): { error: KafkaError | null; producerId: number; producerEpoch: number } {
    const box: { error: KafkaError | null; producerId: number; producerEpoch: number } = { error: null, producerId: -1, producerEpoch: -1 };
    this.coordinator.handleEndTransaction(TXN, producerId, producerEpoch, commit ? "COMMIT" : "ABORT", (e, id, epoch) => {
      box.error = e;
      box.producerId = id;
      box.producerEpoch = epoch;
    });
    return box;
  }

  /** Answers the i-th captured WriteTxnMarkers with `error` for every partition. */
  answerMarkers(index: number, error: KafkaError | ((topic: string, partition: number) => KafkaError) = "NONE"): void {
    const { request } = this.markers[index];
    this.coordinator.markerChannel.onResponse({
      type: "WriteTxnMarkersResponse",
      correlationId: request.correlationId,
      markers: request.markers.map((m) => ({ producerId: m.producerId, partitions: m.partitions.map((p) => ({ topic: p.topic, partition: p.partition, error: typeof error === "function" ? error(p.topic, p.partition) : error })) })),
      sizeBytes: 0,
    });
  }

  state(): string | undefined {
    const s = this.coordinator.txnManager.getTransactionState(TXN);
    return s !== null && "transactionMetadata" in s ? s.transactionMetadata.state : undefined;
  }
}
