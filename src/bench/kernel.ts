/**
 * Workloads for `kafkasim bench --kernel`: the bare kernel's no-op event rate (the physical limit every
 * later benchmark is compared with), measured against a plain binary heap over parallel arrays doing the
 * same work in the same process. Each workload keeps `pending` events in flight and every dispatched event
 * schedules one successor at a pseudo-random delay, so the heap stays at its working size. The timing is
 * done by the caller (the CLI): nothing here reads a clock.
 */

import { Kernel, type EventTarget } from "../sim/kernel.ts";
import { World } from "../sim/world.ts";
import type { Process, ProcessContext } from "../sim/host.ts";

export const BENCH_PENDING = 1000;

/** Delays in µs, drawn once with a xorshift so every workload sees the same sequence. */
function delayTable(size = 4096): Int32Array {
  const table = new Int32Array(size);
  let x = 0x2545f491;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    table[i] = 1 + ((x >>> 0) % 1000);
  }
  return table;
}

/** The reference: a plain binary min-heap over parallel arrays keyed by (time, seq), one int payload. */
export function runPlainHeap(events: number, pending = BENCH_PENDING): number {
  const delays = delayTable();
  const capacity = pending + 1;
  const time = new Float64Array(capacity);
  const seq = new Float64Array(capacity);
  const payload = new Int32Array(capacity);
  let size = 0;
  let nextSeq = 0;
  let checksum = 0;

  const push = (t: number, p: number): void => {
    let i = size++;
    const s = nextSeq++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (time[parent] < t || (time[parent] === t && seq[parent] < s)) break;
      time[i] = time[parent];
      seq[i] = seq[parent];
      payload[i] = payload[parent];
      i = parent;
    }
    time[i] = t;
    seq[i] = s;
    payload[i] = p;
  };
  const popTop = (): void => {
    const last = --size;
    const t = time[last];
    const s = seq[last];
    const p = payload[last];
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      const right = child + 1;
      if (right < size && (time[right] < time[child] || (time[right] === time[child] && seq[right] < seq[child]))) child = right;
      if (t < time[child] || (t === time[child] && s < seq[child])) break;
      time[i] = time[child];
      seq[i] = seq[child];
      payload[i] = payload[child];
      i = child;
    }
    time[i] = t;
    seq[i] = s;
    payload[i] = p;
  };

  for (let i = 0; i < pending; i++) push(delays[i & 4095], i);
  let d = pending;
  for (let n = 0; n < events; n++) {
    const now = time[0];
    const p = payload[0];
    popTop();
    checksum = (checksum + p) | 0;
    push(now + delays[d++ & 4095], p);
  }
  return checksum;
}

/** The kernel's own no-op rate: an EventTarget whose every event schedules one successor. */
export function runKernelNoop(events: number, pending = BENCH_PENDING): number {
  const delays = delayTable();
  const kernel = new Kernel();
  let d = pending;
  let checksum = 0;
  const target: EventTarget = {
    handleEvent(_kind: number, a: unknown): void {
      checksum = (checksum + (a as number)) | 0;
      kernel.after(delays[d++ & 4095], target, 0, a);
    },
  };
  for (let i = 0; i < pending; i++) kernel.after(delays[i & 4095], target, 0, i);
  kernel.run({ untilUs: Infinity, maxEvents: events });
  return checksum;
}

/**
 * Host processes on the kernel: timers set through a ProcessContext (incarnation checks, local clock),
 * each firing arming a successor and a guard timer that the next firing cancels — the request-timeout
 * pattern of every Kafka client and fetcher.
 */
export function runHostTimers(events: number, pending = BENCH_PENDING): number {
  const delays = delayTable();
  const world = new World("bench");
  world.setTransport({ send() {} });
  const hosts = 10;
  let d = 0;
  let checksum = 0;
  for (let h = 0; h < hosts; h++) {
    world
      .addHost(`bench-${h}`, { onCrash() {}, onPowerLoss() {} }, (context: ProcessContext): Process => {
        let guard = -1;
        return {
          onStart() {
            for (let i = 0; i < pending / hosts; i++) context.setTimer(delays[d++ & 4095], "tick", i);
          },
          onTimer(tag, data) {
            checksum = (checksum + (data as number)) | 0;
            if (guard !== -1) context.cancelTimer(guard);
            guard = context.setTimer(30_000_000, "guard");
            context.setTimer(delays[d++ & 4095], "tick", data);
            void tag;
          },
          onMessage() {},
        };
      })
      .start();
  }
  world.kernel.run({ untilUs: Infinity, maxEvents: events });
  return checksum;
}
