/**
 * Unit harness for the GroupCoordinator: one host ("coord") whose process holds a coordinator over a fake
 * offsets-topic storage (appends complete after `appendDelayMs` with `appendError`, and are recorded, and kept as
 * batches of a fake log that a reload reads; `writeMarker` adds a transaction marker to it), owning every offsets
 * partition at once (an empty log loads in no time). Tests call the handlers directly and run the
 * world's clock for the timers (InitialDelayedJoin, DelayedJoin, DelayedHeartbeat, DelayedSync).
 */

import { DEFAULT_COMPAT, resolveBrokerSettings, type Compat } from "../../../../src/broker/config.ts";
import { GROUP_COORDINATOR_TIMER_PREFIX } from "../../../../src/broker/coordinator/group/delayed-operations.ts";
import { GroupCoordinator } from "../../../../src/broker/coordinator/group/group-coordinator.ts";
import type { GroupRecord, OffsetsTopicStorage } from "../../../../src/broker/coordinator/group/group-metadata-manager.ts";
import { handleJoinGroup } from "../../../../src/broker/coordinator/group/join-group.ts";
import type { JoinGroupResult, SyncGroupResult } from "../../../../src/broker/coordinator/group/member-metadata.ts";
import { handleCommitOffsets } from "../../../../src/broker/coordinator/group/offset-commits.ts";
import type { Log } from "../../../../src/broker/log/log.ts";
import { makeBatch, makeEndTxnMarker, withBaseOffset, type RecordBatch } from "../../../../src/broker/log/records.ts";
import { BrokerMetrics } from "../../../../src/broker/metrics.ts";
import { Disk } from "../../../../src/disk/disk.ts";
import type { KafkaError } from "../../../../src/protocol/kafka.ts";
import type { Message, Process, ProcessContext } from "../../../../src/sim/host.ts";
import { ms } from "../../../../src/sim/time.ts";
import { World } from "../../../../src/sim/world.ts";
import { Network } from "../../../../src/net/network.ts";

export const GROUP = "g";

/** A log of `batches` (offsets from 0 to `end`), as the loading reads it. */
function fakeLog(batches: readonly RecordBatch[], end: () => number): Log {
  return {
    get sizeInBytes() {
      return batches.length * 100;
    },
    logStartOffset: 0,
    get logEndOffset() {
      return end();
    },
    read(offset: number) {
      return { error: null, batches: batches.filter((b) => b.baseOffset + b.lastOffsetDelta >= offset) };
    },
  } as unknown as Log;
}

class CoordinatorProcess implements Process {
  coordinator!: GroupCoordinator;
  constructor(
    readonly context: ProcessContext<Disk>,
    private readonly build: (context: ProcessContext<Disk>) => GroupCoordinator,
  ) {}
  onStart(): void {
    this.coordinator = this.build(this.context);
  }
  onMessage(_from: string, _message: Message): void {}
  onTimer(tag: string, data: unknown): void {
    if (tag.startsWith(GROUP_COORDINATOR_TIMER_PREFIX)) this.coordinator.onTimer(tag, data);
    else if (tag === "append") (data as () => void)();
  }
}

export class CoordinatorHarness {
  readonly world = new World(1);
  readonly appended: { partition: number; records: readonly GroupRecord[]; producer?: { producerId: number; producerEpoch: number } }[] = [];
  /** The successful appends (and markers) as batches of the one fake offsets log. */
  readonly batches: RecordBatch[] = [];
  appendError: KafkaError = "NONE";
  appendDelayMs = 1;
  private nextOffset = 0;

  constructor(config: Record<string, unknown> = {}, compat: Partial<Compat> = {}) {
    new Network(this.world, { latency: { dist: "uniform", minUs: 1000, maxUs: 1000 } });
    const settings = resolveBrokerSettings("3.x", { "offsets.topic.num.partitions": 1, "group.initial.rebalance.delay.ms": 0, ...config }, { ...DEFAULT_COMPAT, ...compat });
    this.world.addHost("coord", new Disk(this.world, "coord"), (context) => new CoordinatorProcess(context, (ctx) => {
      const storage: OffsetsTopicStorage = {
        append: (partition, records, _acks, _timeoutMs, callback, producer) => {
          this.appended.push({ partition, records, ...(producer === undefined ? {} : { producer }) });
          const error = this.appendError;
          const offset = this.nextOffset;
          this.nextOffset += records.length;
          if (error === "NONE") {
            const txn = producer === undefined ? {} : { ...producer, baseSequence: 0, isTransactional: true };
            this.batches.push(makeBatch({ baseOffset: offset, partitionLeaderEpoch: 0, ...txn, records: records.map((r) => ({ key: r.key, value: r.value, timestamp: 0 })) }));
          }
          ctx.setTimer(ms(this.appendDelayMs), "append", () => callback(error, error === "NONE" ? offset : -1));
        },
        log: () => fakeLog(this.batches, () => this.nextOffset),
      };
      const coordinator = new GroupCoordinator({ brokerId: 1, context: ctx, config: settings.replication, compat: settings.compat, metrics: new BrokerMetrics(() => ctx.monotonicNow()), nowMs: () => Math.floor(ctx.now() / 1000) }, storage);
      coordinator.startup();
      for (let p = 0; p < settings.replication["offsets.topic.num.partitions"]; p++) coordinator.onElection(p, 1);
      return coordinator;
    }));
    this.world.host("coord").start();
    this.run(1);
  }

  /** A transaction marker of the producer appended to the fake log (as WriteTxnMarkers would). */
  writeMarker(producerId: number, producerEpoch: number, controlType: "COMMIT" | "ABORT"): void {
    const marker = makeEndTxnMarker({ producerId, producerEpoch, coordinatorEpoch: 0, controlType, timestamp: 0 });
    this.batches.push(withBaseOffset(marker, this.nextOffset));
    this.nextOffset += 1;
  }

  get coordinator(): GroupCoordinator {
    return (this.world.host("coord").process as CoordinatorProcess).coordinator;
  }

  run(durationMs: number): void {
    const verdict = this.world.kernel.run({ untilUs: this.world.now + ms(durationMs), maxEvents: 10_000_000 });
    if (verdict.reason === "model-error") throw verdict.error;
  }

  /** A JoinGroup; the result box fills when it is answered. */
  join(memberId: string, options: { clientId?: string; instanceId?: string | null; sessionTimeoutMs?: number; rebalanceTimeoutMs?: number; protocols?: string[]; protocolType?: string } = {}): { result: JoinGroupResult | null } {
    const box: { result: JoinGroupResult | null } = { result: null };
    handleJoinGroup(
      this.coordinator,
      {
        groupId: GROUP,
        memberId,
        groupInstanceId: options.instanceId ?? null,
        clientId: options.clientId ?? "c",
        sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
        rebalanceTimeoutMs: options.rebalanceTimeoutMs ?? 20_000,
        protocolType: options.protocolType ?? "consumer",
        protocols: (options.protocols ?? ["range"]).map((name) => ({ name, metadata: { topics: ["t"], userData: null, ownedPartitions: [], generationId: -1 } })),
      },
      (result) => (box.result = result),
    );
    return box;
  }

  sync(memberId: string, generationId: number, assignments: { memberId: string; partitions: number[] }[] = [], instanceId: string | null = null): { result: SyncGroupResult | null } {
    const box: { result: SyncGroupResult | null } = { result: null };
    this.coordinator.handleSyncGroup(
      {
        groupId: GROUP,
        generationId,
        memberId,
        groupInstanceId: instanceId,
        protocolType: "consumer",
        protocolName: null,
        assignments: assignments.map((a) => ({ memberId: a.memberId, assignment: { assignedPartitions: a.partitions.map((p) => ({ topic: "t", partition: p })), userData: null } })),
      },
      (result) => (box.result = result),
    );
    return box;
  }

  heartbeat(memberId: string, generationId: number, instanceId: string | null = null): KafkaError | null {
    let answer: KafkaError | null = null;
    this.coordinator.handleHeartbeat({ groupId: GROUP, memberId, generationId, groupInstanceId: instanceId }, (error) => (answer = error));
    return answer;
  }

  commit(memberId: string, generationId: number, offset: number, instanceId: string | null = null): { errors: KafkaError[] | null } {
    const box: { errors: KafkaError[] | null } = { errors: null };
    handleCommitOffsets(
      this.coordinator,
      { groupId: GROUP, memberId, generationId, groupInstanceId: instanceId, partitions: [{ topic: "t", partition: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: null }] },
      (errors) => (box.errors = errors),
    );
    return box;
  }

  get group() {
    return this.coordinator.groupManager.getGroup(GROUP);
  }

  /** Two members (ids a, b after MEMBER_ID_REQUIRED) in generation 1, CompletingRebalance; a is the leader. */
  twoMembersJoined(): { a: string; b: string } {
    const a = this.join("", { clientId: "a" }).result!.memberId;
    const b = this.join("", { clientId: "b" }).result!.memberId;
    const ja = this.join(a);
    const jb = this.join(b);
    this.run(1);
    if (ja.result?.error !== "NONE" || jb.result?.error !== "NONE") throw new Error(`join failed: ${ja.result?.error} ${jb.result?.error}`);
    return { a, b };
  }
}
