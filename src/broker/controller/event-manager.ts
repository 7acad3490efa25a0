/**
 * Kafka's ControllerEventManager: controller events run one at a time, in order. An event here is a chain
 * of asynchronous ZooKeeper calls; the next event starts only when the current one calls `done`. As in
 * Kafka, a session expiry uses clearAndPut: queued events are dropped and the expiry is queued, but the event
 * being processed runs on to its end (on whatever ZooKeeper session is current by then — KAFKA-6082).
 */

import { assert } from "../../sim/assert.ts";

export interface ControllerEvent {
  readonly name: string;
  process(done: () => void): void;
}

export class ControllerEventManager {
  private readonly queue: ControllerEvent[] = [];
  private current: ControllerEvent | null = null;
  private stopped = false;

  constructor(private readonly onEvent?: (name: string) => void) {}

  get processing(): string | null {
    return this.current?.name ?? null;
  }

  get queued(): readonly string[] {
    return this.queue.map((event) => event.name);
  }

  put(event: ControllerEvent): void {
    if (this.stopped) return;
    this.queue.push(event);
    this.pump();
  }

  /** Drops the queued events (not the one in progress) and queues `event`. */
  clearAndPut(event: ControllerEvent): void {
    this.queue.length = 0;
    this.put(event);
  }

  /** Broker shutdown: nothing more runs. */
  close(): void {
    this.stopped = true;
    this.queue.length = 0;
  }

  private pump(): void {
    // A loop, not recursion: events that finish synchronously must not grow the stack.
    while (this.current === null && this.queue.length > 0 && !this.stopped) {
      const event = this.queue.shift()!;
      this.current = event;
      this.onEvent?.(event.name);
      let finished = false;
      let synchronous = true;
      event.process(() => {
        assert(!finished, `controller event ${event.name} finished twice`);
        finished = true;
        this.current = null;
        if (!synchronous) this.pump();
      });
      synchronous = false;
      if (!finished) return;
    }
  }
}
