/**
 * The group consumer workload: a process that owns one KafkaConsumer subscribed to a group and runs the
 * application loop of a Java consumer — poll() (≤ max.poll.records records) → process them (records × processMs
 * of virtual time, one timer; recorded as `process` ops per partition) → commit by mode → poll() again.
 * Commit modes: "auto" (enable.auto.commit: the consumer commits positions in poll, before rebalances and on
 * close), "sync-after-process" (commitSync() after processing), "async-after-process" (commitAsync() after
 * processing), "before-process" (commitSync() right after poll() returns, before processing: at-most-once).
 * startAtMs / stopAtMs / closeAtMs count from the process start: the first poll(); the application stops calling
 * poll() (a hung application: the heartbeat thread goes on, so max.poll.interval.ms expires); KafkaConsumer.close()
 * (auto-commit, revoke, LeaveGroup unless static). auto.offset.reset defaults to "earliest" here. A fatal poll()
 * exception (FENCED_INSTANCE_ID, a fatal JoinGroup error) closes the consumer; others poll again after
 * retry.backoff.ms. A "sync-after-process" application whose commitSync failed (RebalanceInProgressException
 * during a cooperative rebalance, CommitFailedException, TimeoutException) has processed records it has not
 * committed: it polls with a timeout (poll(Duration.ofMillis(100)), as the KafkaConsumer javadoc's loop) and
 * commits its positions after an empty poll, as the Java loop `poll → process → commitSync()` does.
 * Simplifications: otherwise poll() has no timeout and an application with nothing returned commits nothing;
 * close() at closeAtMs abandons a poll() or a processing in progress (their records are not processed).
 */

import type { KafkaVersion } from "../broker/config.ts";
import { assignorFor as defaultAssignorFor } from "../clients/consumer/assignors/index.ts";
import type { ConsumerPartitionAssignor } from "../clients/consumer/assignors/partition-assignor.ts";
import { consumerConfig, consumerConfigProblem, type ConsumerConfig } from "../clients/consumer/config.ts";
import { KafkaConsumer, type PollResult } from "../clients/consumer/consumer.ts";
import type { DrainedPartition } from "../clients/consumer/fetch-buffer.ts";
import type { ClientError } from "../clients/consumer/request-future.ts";
import { assert } from "../sim/assert.ts";
import type { HostDisk, Message, Process, ProcessContext } from "../sim/host.ts";
import type { TimerId } from "../sim/kernel.ts";
import { ms } from "../sim/time.ts";

export type CommitMode = "auto" | "sync-after-process" | "async-after-process" | "before-process";

export interface GroupConsumerWorkloadConfig {
  readonly bootstrap: readonly string[];
  readonly topics: readonly string[];
  readonly groupId: string;
  /** From cluster.version, for the client defaults. */
  readonly version: KafkaVersion;
  readonly config?: { readonly [K in keyof ConsumerConfig]?: ConsumerConfig[K] | undefined };
  /** Time to process one record (0 default). */
  readonly processMs: number;
  /** "auto" needs enable.auto.commit true; the others set it false. */
  readonly commit: CommitMode;
  /** The first poll(). */
  readonly startAtMs?: number;
  /** The application stops calling poll() (hangs; heartbeats go on). */
  readonly stopAtMs?: number;
  /** KafkaConsumer.close(): commit (auto), revoke, LeaveGroup unless static. */
  readonly closeAtMs?: number;
}

/** The exceptions after which the application gives up (closes the consumer). */
const FATAL: ReadonlySet<string> = new Set([
  "FENCED_INSTANCE_ID",
  "INVALID_SESSION_TIMEOUT",
  "INCONSISTENT_GROUP_PROTOCOL",
  "GROUP_MAX_SIZE_REACHED",
  "INVALID_GROUP_ID",
  "UNSUPPORTED_VERSION",
  "IllegalStateException",
]);

const TAG_START = "group-workload-start";
const TAG_STOP = "group-workload-stop";
const TAG_CLOSE = "group-workload-close";
const TAG_PROCESSED = "group-workload-processed";
const TAG_REPOLL = "group-workload-repoll";

/** The poll(Duration) of an application with an uncommitted processing (the KafkaConsumer javadoc's 100 ms). */
const POLL_TIMEOUT_MS = 100;

type AppState = "idle" | "polling" | "processing" | "committing" | "waiting" | "stopped" | "closing" | "closed";

export class GroupConsumerWorkload implements Process {
  readonly consumer: KafkaConsumer;
  private app: AppState = "idle";
  private processing: { readonly timer: TimerId; readonly records: readonly DrainedPartition[]; readonly fields: Record<string, unknown> } | null = null;
  private closeRequested = false;
  /** "sync-after-process": the last commitSync failed, so records processed since the last commit are uncommitted. */
  private commitPending = false;
  /** Records processed so far. */
  recordsProcessed = 0;

  constructor(
    private readonly context: ProcessContext<HostDisk>,
    private readonly workload: GroupConsumerWorkloadConfig,
    assignorFor: (nameOrClass: string) => ConsumerPartitionAssignor | null = defaultAssignorFor,
  ) {
    assert(workload.topics.length > 0, "a group consumer workload reads at least one topic");
    assert(workload.processMs >= 0, "processMs is not negative");
    const overrides = workload.config ?? {};
    const config = consumerConfig(
      context.node,
      {
        ...overrides,
        "group.id": workload.groupId,
        "auto.offset.reset": overrides["auto.offset.reset"] ?? "earliest",
        "enable.auto.commit": workload.commit === "auto",
      },
      workload.version,
    );
    const problem = consumerConfigProblem(config);
    assert(problem === null, `consumer ${context.node}: ${problem}`);
    const assignors = config["partition.assignment.strategy"].map((name) => {
      const assignor = assignorFor(name);
      assert(assignor !== null, `consumer ${context.node}: unknown assignor ${name}`);
      return assignor;
    });
    this.consumer = new KafkaConsumer(context, { bootstrap: workload.bootstrap, config, assignors });
  }

  get clientId(): string {
    return this.consumer.config["client.id"];
  }

  onStart(): void {
    const { startAtMs, stopAtMs, closeAtMs } = this.workload;
    this.context.setTimer(ms(startAtMs ?? 0), TAG_START);
    if (stopAtMs !== undefined) this.context.setTimer(ms(stopAtMs), TAG_STOP);
    if (closeAtMs !== undefined) this.context.setTimer(ms(closeAtMs), TAG_CLOSE);
  }

  /** A broker's process is gone (TCP reset): the Java client sees a disconnect at once, not a timeout. */
  onConnectionRefused(peer: string): void {
    this.consumer.onDisconnect(peer);
  }

  onMessage(from: string, message: Message): void {
    this.consumer.onMessage(from, message);
  }

  onTimer(tag: string, data: unknown): void {
    switch (tag) {
      case TAG_START:
        if (this.app !== "idle") return;
        this.consumer.start();
        this.consumer.subscribe(this.workload.topics);
        this.pollAgain();
        return;
      case TAG_STOP:
        this.stop();
        return;
      case TAG_CLOSE:
        this.requestClose();
        return;
      case TAG_PROCESSED:
        this.processed();
        return;
      case TAG_REPOLL:
        if (this.app === "waiting") this.pollAgain();
        return;
    }
    const handled = this.consumer.onTimer(tag, data);
    assert(handled, `unknown group consumer workload timer ${tag}`);
  }

  /** The application hangs: it never calls poll() again (a poll in progress is woken up and abandoned). */
  private stop(): void {
    if (this.app === "closing" || this.app === "closed") return;
    const wasPolling = this.app === "polling";
    this.app = "stopped";
    if (this.processing !== null) {
      this.context.cancelTimer(this.processing.timer);
      this.processing = null;
    }
    if (wasPolling) this.consumer.wakeupPoll();
  }

  private requestClose(): void {
    if (this.app === "closing" || this.app === "closed") return;
    this.closeRequested = true;
    if (this.app === "idle") {
      this.app = "closed";
      return;
    }
    // A commitSync in progress finishes first; anything else is abandoned.
    if (this.app === "committing") return;
    if (this.processing !== null) {
      this.context.cancelTimer(this.processing.timer);
      this.processing = null;
    }
    if (this.app === "polling") {
      this.app = "closing";
      this.consumer.wakeupPoll();
    }
    this.close();
  }

  private close(): void {
    this.app = "closing";
    this.consumer.close(() => {
      this.app = "closed";
    });
  }

  private pollAgain(): void {
    if (this.closeRequested) return this.close();
    if (this.app === "stopped" || this.app === "closing" || this.app === "closed") return;
    this.app = "polling";
    this.consumer.poll((result) => this.onPolled(result), this.commitPending ? ms(POLL_TIMEOUT_MS) : undefined);
  }

  private onPolled(result: PollResult): void {
    if (this.app !== "polling") return;
    if (result.error !== null) return this.onPollError(result.error);
    const count = result.records.reduce((sum, partition) => sum + partition.offsets.length, 0);
    if (count === 0) {
      // An empty poll(Duration): the loop commits what it processed since its last successful commit.
      if (this.commitPending) return this.commitSync(() => this.pollAgain());
      return this.pollAgain();
    }
    const fields = this.consumer.coordinator!.memberFields;
    if (this.workload.commit === "before-process") {
      this.commitSync(() => this.process(result.records, count, fields));
      return;
    }
    this.process(result.records, count, fields);
  }

  private onPollError(error: ClientError): void {
    if (FATAL.has(error.name)) return this.close();
    this.app = "waiting";
    this.context.setTimer(ms(this.consumer.config["retry.backoff.ms"]), TAG_REPOLL);
  }

  private process(records: readonly DrainedPartition[], count: number, fields: Record<string, unknown>): void {
    if (this.closeRequested) return this.close();
    if (this.app === "stopped") return;
    this.app = "processing";
    const timer = this.context.setTimer(ms(this.workload.processMs * count), TAG_PROCESSED);
    this.processing = { timer, records, fields };
  }

  private processed(): void {
    const processing = this.processing;
    if (processing === null) return;
    this.processing = null;
    for (const drained of processing.records) {
      this.recordsProcessed += drained.offsets.length;
      if (!this.context.tracing) continue;
      this.context.trace("op", {
        process: this.context.node,
        type: "ok",
        f: "process",
        ...processing.fields,
        topic: drained.state.topic,
        partition: drained.state.partition,
        offsets: drained.offsets,
        values: drained.values,
      });
    }
    switch (this.workload.commit) {
      case "sync-after-process":
        this.commitSync(() => this.pollAgain());
        return;
      case "async-after-process":
        this.consumer.commitAsync();
        this.pollAgain();
        return;
      default:
        this.pollAgain();
    }
  }

  /** commitSync(); its exceptions (CommitFailedException, TimeoutException…) are recorded by the consumer and swallowed. */
  private commitSync(then: () => void): void {
    this.app = "committing";
    this.consumer.commitSync((error) => {
      if (error !== null && FATAL.has(error.name)) return this.close();
      if (this.workload.commit === "sync-after-process") this.commitPending = error !== null;
      if (this.closeRequested) return this.close();
      then();
    });
  }
}
