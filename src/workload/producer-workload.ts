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

import type { ProducerConfigInput } from "../clients/producer/config.ts";
import type { SendResult } from "../clients/producer/producer.ts";
import { assert } from "../sim/assert.ts";
import type { Process, ProcessContext } from "../sim/host.ts";
import { ms } from "../sim/time.ts";
import type { KeyDistribution } from "./key-distribution.ts";
import { ProducerApplication, SEND_TAG } from "./producer-application.ts";

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

const STOP_TAG = "workload:stop";

export class ProducerWorkload extends ProducerApplication implements Process {
  constructor(
    context: ProcessContext,
    private readonly options: ProducerWorkloadOptions,
  ) {
    const { workload } = options;
    assert(workload.messages >= 0 && workload.ratePerSec > 0, "a producer workload needs messages ≥ 0 and ratePerSec > 0");
    super(context, options.bootstrap, options.config, workload.keys, workload.keyDistribution);
  }

  onStart(): void {
    if (!this.startProducer()) return;
    const { startAtMs, stopAtMs } = this.options.workload;
    // No metadata before the first send: KafkaProducer.waitOnMetadata fetches it on demand (a prefetch at t=0
    // would see only the brokers registered by then, and keep that list until an error or metadata.max.age.ms).
    this.context.setTimer(ms(startAtMs ?? 0), SEND_TAG);
    if (stopAtMs !== undefined) this.context.setTimer(ms(stopAtMs), STOP_TAG);
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
    const value = this.valueOf(n);
    // The callback may run inside send() (acks=0): the completion is held until the invoke is recorded.
    let invoked = false;
    let early: SendResult | null = null;
    const partition = this.producer.send({ topic, key, value }, (result) => {
      if (!invoked) early = result;
      else this.traceOutcome(n, value, key, topic, result, null);
    });
    if (this.context.tracing) {
      this.context.trace("op", { process: this.context.node, f: "send", opId: n, value, key, topic, type: "invoke", partition });
    }
    invoked = true;
    if (early !== null) this.traceOutcome(n, value, key, topic, early, null);
    if (this.sent >= messages) {
      this.finish();
      return;
    }
    const start = startAtMs ?? 0;
    const delayUs = ms(start + ((n + 1) * 1000) / ratePerSec) - ms(start + (n * 1000) / ratePerSec);
    this.context.setTimer(Math.max(1, delayUs), SEND_TAG);
  }
}
