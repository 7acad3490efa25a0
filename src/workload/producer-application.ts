/**
 * What the two producer workloads (producer-workload.ts, transactional-producer-workload.ts) share: one
 * application thread around a KafkaProducer — the producer built from the scenario client's config (Kafka's
 * rules were checked at load), unique verifiable values (`${process}-${n padded to 6}`), keys from a key
 * distribution, a send held while send() is blocked on buffer.memory and resumed (timer "workload:send") when it
 * returns, "client-config" at start, nothing more from a restarted incarnation (the crashed one's open operations
 * stay open, as in Jepsen), and the history entry of a send's outcome. It models the application, not Kafka.
 */

import { describeProducerConfig, resolveProducerConfig, type ProducerConfigInput } from "../clients/producer/config.ts";
import { KafkaProducer, type SendResult } from "../clients/producer/producer.ts";
import { assert } from "../sim/assert.ts";
import type { Message, ProcessContext } from "../sim/host.ts";
import { keyChooser, type KeyDistribution } from "./key-distribution.ts";

/** The timer that hands the producer its next record. */
export const SEND_TAG = "workload:send";

/** A value's sequence number is padded to this many digits. */
const VALUE_DIGITS = 6;
/** ZERO_PADS[k]: k zeros (what padStart adds to a number of VALUE_DIGITS − k digits). */
const ZERO_PADS: readonly string[] = Array.from({ length: VALUE_DIGITS + 1 }, (_, k) => "0".repeat(k));

/** `${node}-${n padded to VALUE_DIGITS}` from the prefix `${node}-`, without padStart's per-call work. */
export function valueFor(prefix: string, n: number): string {
  const digits = String(n);
  return digits.length >= VALUE_DIGITS ? prefix + digits : prefix + ZERO_PADS[VALUE_DIGITS - digits.length] + digits;
}

export abstract class ProducerApplication {
  readonly producer: KafkaProducer;
  protected readonly nextKey: () => string | null;
  protected sent = 0;
  protected completed = 0;
  protected stopped = false;
  /** The next send is held until the producer's blocked send() returns. */
  protected held = false;
  /** Every value's prefix, `${node}-`. */
  private readonly valuePrefix: string;

  constructor(
    protected readonly context: ProcessContext,
    bootstrap: readonly string[],
    config: ProducerConfigInput,
    keys: number | undefined,
    keyDistribution: KeyDistribution | undefined,
  ) {
    const resolved = resolveProducerConfig(bootstrap, config);
    assert(resolved.ok, `invalid producer config for ${context.node}: ${resolved.ok ? "" : resolved.error}`);
    this.producer = new KafkaProducer(context, resolved.config);
    this.producer.onSendUnblocked = () => {
      if (!this.held) return;
      this.held = false;
      this.context.setTimer(0, SEND_TAG);
    };
    this.nextKey = keyChooser(keys, keyDistribution ?? "uniform", context.rng.fork("workload-keys"));
    this.valuePrefix = `${context.node}-`;
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

  onMessage(from: string, message: Message): void {
    this.producer.onMessage(from, message);
  }

  /** Process.onConnectionRefused: a broker's process is gone (its OS reset the connection); the producer hears it. */
  onConnectionRefused(peer: string): void {
    this.producer.onConnectionRefused(peer);
  }

  /** Traces "client-config" and starts the producer; false (and stopped) in a restarted incarnation. */
  protected startProducer(): boolean {
    if (this.context.tracing) {
      this.context.trace("client-config", { process: this.context.node, role: "producer", ...describeProducerConfig(this.producer.config) });
    }
    if (this.context.incarnation > 1) {
      this.stopped = true;
      return false;
    }
    this.producer.start();
    return true;
  }

  /** The n-th value this process hands its producer. */
  protected valueOf(n: number): string {
    return valueFor(this.valuePrefix, n);
  }

  /**
   * Records a send's outcome in the history (built only when traced: an untraced run pays nothing per record):
   * ok (with the offset; none when DUPLICATE_SEQUENCE_NUMBER left it unknown), fail (surely not appended) or info
   * (unknown); `extra` (a transaction's fields) goes last. Object literals rather than spreads for the plain
   * producer (one per record): the fields and their order are the trace's.
   */
  protected traceOutcome(opId: number, value: string, key: string | null, topic: string, result: SendResult, extra: Record<string, unknown> | null): void {
    this.completed++;
    if (!this.context.tracing) return;
    const process = this.context.node;
    const { partition, attempts } = result;
    let op: Record<string, unknown>;
    if ("offset" in result) {
      // offset -1: DUPLICATE_SEQUENCE_NUMBER — written before, the broker no longer knows where.
      op =
        result.offset >= 0
          ? { process, f: "send", opId, value, key, topic, type: "ok", partition, offset: result.offset, attempts }
          : { process, f: "send", opId, value, key, topic, type: "ok", partition, attempts };
    } else {
      const type = result.maybeAppended ? "info" : "fail";
      op = { process, f: "send", opId, value, key, topic, type, partition, error: result.error, attempts };
    }
    this.context.trace("op", extra === null ? op : { ...op, ...extra });
  }
}
