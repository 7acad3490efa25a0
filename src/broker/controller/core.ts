/**
 * What the controller's parts (partition and replica state machines, reassignment, topic deletion, request
 * handlers) share: the broker's services, the controller context, the fenced ZooKeeper access and the request
 * batch of the event in progress. KafkaController implements it. Also a small helper to run callbacks in
 * parallel and join them (Kafka pipelines its ZooKeeper requests the same way).
 */

import type { BrokerServices } from "../services.ts";
import type { RequestBatch } from "./channel-manager.ts";
import type { ControllerContext } from "./context.ts";
import type { ControllerZk } from "./zk-writes.ts";

export interface ControllerCore {
  readonly services: BrokerServices;
  readonly ctx: ControllerContext;
  readonly zk: ControllerZk;
  readonly batch: RequestBatch;
  /** unclean.leader.election.enable of a topic (topic override, else broker config). */
  uncleanLeaderElectionEnabled(topic: string): boolean;
  trace(kind: string, fields: Record<string, unknown>): void;
  readonly isActive: boolean;
  /** Sends what the batch collected (drops it when no longer active). */
  flush(): void;
  /** Queues an event that only the active controller processes; finish(false) makes it re-check /controller. */
  put(name: string, body: (finish: (ok: boolean) => void) => void): void;
}

/** Runs `run` for every item at once and calls `done` with the results, in item order, when all are in. */
export function parallel<T, R>(items: readonly T[], run: (item: T, cb: (result: R) => void) => void, done: (results: R[]) => void): void {
  const results: R[] = new Array(items.length);
  let remaining = items.length;
  if (remaining === 0) {
    done(results);
    return;
  }
  items.forEach((item, i) => {
    let called = false;
    run(item, (result) => {
      if (called) return;
      called = true;
      results[i] = result;
      if (--remaining === 0) done(results);
    });
  });
}

/** Runs `steps` one after another; each gets `next(ok)`; stops at the first `ok === false`. */
export function sequence(steps: readonly ((next: (ok: boolean) => void) => void)[], done: (ok: boolean) => void): void {
  let i = 0;
  const next = (ok: boolean): void => {
    if (!ok || i >= steps.length) {
      done(ok);
      return;
    }
    steps[i++](next);
  };
  next(true);
}
