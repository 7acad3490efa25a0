/**
 * The producer workload: a client process that owns a KafkaProducer and hands it unique, verifiable values
 * (`${process}-${n padded to 6}`) at `ratePerSec` (local clock) from startAt until `messages` were sent or
 * stopAt, with keys drawn from a key distribution. It records the Jepsen-style history (trace kind "op"):
 * an invoke when a value is handed to send(), then ok (partition and offset), fail (surely not appended) or
 * info (unknown outcome: a timeout after sending, an error that can follow an append, acks=0). As one
 * application thread it sends nothing while a send() is blocked on buffer.memory, and resumes, at once, when
 * that send() returns (appended, or failed after max.block.ms). It emits
 * "client-config" with the producer's effective config at start and closes the producer when done.
 * Simplifications: startAt/stopAt count from the process start; a restarted workload process (after a
 * crash) sends nothing more — the crashed incarnation's open operations stay open, as in Jepsen.
 */

import { describeProducerConfig, resolveProducerConfig, type ProducerConfigInput } from "../clients/producer/config.ts";
import { KafkaProducer, type SendResult } from "../clients/producer/producer.ts";
import { assert } from "../sim/assert.ts";
import type { Message, Process, ProcessContext } from "../sim/host.ts";
import { ms } from "../sim/time.ts";
import { keyChooser, type KeyDistribution } from "./key-distribution.ts";

export interface ProducerWorkloadSpec {
  readonly topic: string;
  readonly messages: number;
  readonly ratePerSec: number;
  /** Distinct keys; absent = null keys. */
  readonly keys?: number | undefined;
  readonly keyDistribution?: KeyDistribution | undefined;
  readonly startAtMs?: number | undefined;
  readonly stopAtMs?: number | undefined;
}

export interface ProducerWorkloadOptions {
  /** Broker host names (bootstrap.servers). */
  readonly bootstrap: readonly string[];
  /** The scenario client's `config`, under Kafka's keys. */
  readonly config: ProducerConfigInput;
  readonly workload: ProducerWorkloadSpec;
}

const SEND_TAG = "workload:send";
const STOP_TAG = "workload:stop";

export class ProducerWorkload implements Process {
  readonly producer: KafkaProducer;
  private readonly nextKey: () => string | null;
  private sent = 0;
  private completed = 0;
  private stopped = false;
  /** The next send is held until the producer's blocked send() returns. */
  private held = false;

  constructor(
    private readonly context: ProcessContext,
    private readonly options: ProducerWorkloadOptions,
  ) {
    const { workload } = options;
    assert(workload.messages >= 0 && workload.ratePerSec > 0, "a producer workload needs messages ≥ 0 and ratePerSec > 0");
    const resolved = resolveProducerConfig(options.bootstrap, options.config);
    assert(resolved.ok, `invalid producer config for ${context.node}: ${resolved.ok ? "" : resolved.error}`);
    this.producer = new KafkaProducer(context, resolved.config);
    this.producer.onSendUnblocked = () => {
      if (!this.held) return;
      this.held = false;
      this.context.setTimer(0, SEND_TAG);
    };
    this.nextKey = keyChooser(workload.keys, workload.keyDistribution ?? "uniform", context.rng.fork("workload-keys"));
  }

  /** The producer's client.id (the scenario's client id). */
  get clientId(): string {
    return this.context.node;
  }

  /** The host's monotonic clock (the metrics' time base). */
  monotonicNow(): number {
    return this.context.monotonicNow();
  }

  /** Values handed to the producer, and values completed (ok, fail or info). */
  get sentCount(): number {
    return this.sent;
  }

  get completedCount(): number {
    return this.completed;
  }

  onStart(): void {
    if (this.context.tracing) {
      this.context.trace("client-config", { process: this.context.node, role: "producer", ...describeProducerConfig(this.producer.config) });
    }
    if (this.context.incarnation > 1) {
      this.stopped = true;
      return;
    }
    const { startAtMs, stopAtMs } = this.options.workload;
    this.producer.start();
    // No metadata before the first send: KafkaProducer.waitOnMetadata fetches it on demand (a prefetch at t=0
    // would see only the brokers registered by then, and keep that list until an error or metadata.max.age.ms).
    this.context.setTimer(ms(startAtMs ?? 0), SEND_TAG);
    if (stopAtMs !== undefined) this.context.setTimer(ms(stopAtMs), STOP_TAG);
  }

  onMessage(from: string, message: Message): void {
    this.producer.onMessage(from, message);
  }

  onTimer(tag: string, data: unknown): void {
    if (this.producer.onTimer(tag, data)) return;
    if (tag === SEND_TAG) this.sendNext();
    else if (tag === STOP_TAG) this.finish();
    else assert(false, `unknown producer workload timer ${tag}`);
  }

  private finish(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.producer.close();
  }

  private sendNext(): void {
    const { topic, messages, ratePerSec, startAtMs } = this.options.workload;
    if (this.stopped) return;
    if (this.sent >= messages) {
      this.finish();
      return;
    }
    if (this.producer.sendBlocked) {
      this.held = true;
      return;
    }
    const n = this.sent++;
    const key = this.nextKey();
    const value = `${this.context.node}-${String(n).padStart(6, "0")}`;
    const op: SendOp = { process: this.context.node, opId: n, value, key, topic };
    // The callback may run inside send() (acks=0): the completion is held until the invoke is recorded.
    let invoked = false;
    let early: SendResult | null = null;
    const partition = this.producer.send({ topic, key, value }, (result) => {
      if (!invoked) early = result;
      else this.complete(op, result);
    });
    if (this.context.tracing) {
      this.context.trace("op", { process: op.process, f: "send", opId: n, value, key, topic, type: "invoke", partition });
    }
    invoked = true;
    if (early !== null) this.complete(op, early);
    if (this.sent >= messages) {
      this.finish();
      return;
    }
    const start = startAtMs ?? 0;
    const delayUs = ms(start + ((n + 1) * 1000) / ratePerSec) - ms(start + (n * 1000) / ratePerSec);
    this.context.setTimer(Math.max(1, delayUs), SEND_TAG);
  }

  /** Records the outcome in the history (built only when traced: an untraced run pays nothing per record). */
  private complete(op: SendOp, result: SendResult): void {
    this.completed++;
    if (!this.context.tracing) return;
    // Object literals rather than spreads (one per record): the fields and their order are the trace's.
    const { process, opId, value, key, topic } = op;
    const { partition, attempts } = result;
    if ("offset" in result) {
      // offset -1: DUPLICATE_SEQUENCE_NUMBER — written before, the broker no longer knows where.
      this.context.trace(
        "op",
        result.offset >= 0
          ? { process, f: "send", opId, value, key, topic, type: "ok", partition, offset: result.offset, attempts }
          : { process, f: "send", opId, value, key, topic, type: "ok", partition, attempts },
      );
      return;
    }
    const type = result.maybeAppended ? "info" : "fail";
    this.context.trace("op", { process, f: "send", opId, value, key, topic, type, partition, error: result.error, attempts });
  }
}

/** What every history entry of one send shares (entries are process, f "send", opId, value, key, topic, …). */
interface SendOp {
  readonly process: string;
  readonly opId: number;
  readonly value: string;
  readonly key: string | null;
  readonly topic: string;
}
