/**
 * `two-controllers`: two brokers act as controller at one epoch, read from the controller's trace events. Two
 * shapes: (1) two controller-elected events with the same controllerEpoch from different brokers; (2) a deposed
 * controller's write accepted after a newer election — a controller-write with code "OK" whose zxid is greater
 * than the zxid of a controller-elected event with a higher controllerEpoch than the writer's. ZooKeeper's zxids
 * order every write, so (2) holds whatever order the two events reach the trace in; both orders are checked.
 * With KAFKA-6082's fencing (a check on /controller_epoch's zkVersion in every write) shape (2) cannot happen.
 */

import type { TraceEvent } from "../sim/trace.ts";
import type { Violation } from "./violation.ts";

interface Election {
  node: string;
  controllerEpoch: number;
  zxid: number;
  time: number;
}

interface AcceptedWrite {
  node: string;
  controllerEpoch: number;
  path: string;
  zxid: number;
  time: number;
}

export class ControllerChecker {
  /** controllerEpoch → its first election. */
  private readonly elections = new Map<number, Election>();
  /** controllerEpoch → the accepted write with the highest zxid by a controller of that epoch. */
  private readonly latestWrites = new Map<number, AcceptedWrite>();

  /** Returns a violation (at most one per event) or null. */
  observe(event: TraceEvent): Violation | null {
    if (event.kind === "controller-elected") return this.onElected(event);
    if (event.kind === "controller-write") return this.onWrite(event);
    return null;
  }

  private onElected(event: TraceEvent): Violation | null {
    const election: Election = {
      node: event.node,
      controllerEpoch: Number(event.controllerEpoch),
      zxid: Number(event.zxid),
      time: event.t,
    };
    const previous = this.elections.get(election.controllerEpoch);
    if (previous !== undefined && previous.node !== election.node) {
      return violation(event.t, [previous.node, election.node], { shape: "same-epoch-elections", controllerEpoch: election.controllerEpoch, first: previous, second: election });
    }
    if (previous === undefined) this.elections.set(election.controllerEpoch, election);
    for (const [epoch, write] of this.latestWrites) {
      if (epoch < election.controllerEpoch && write.zxid > election.zxid) return deposedWrite(event.t, write, election);
    }
    return null;
  }

  private onWrite(event: TraceEvent): Violation | null {
    if (event.code !== "OK" || typeof event.zxid !== "number") return null;
    const write: AcceptedWrite = {
      node: event.node,
      controllerEpoch: Number(event.controllerEpoch),
      path: String(event.path),
      zxid: event.zxid,
      time: event.t,
    };
    const latest = this.latestWrites.get(write.controllerEpoch);
    if (latest === undefined || write.zxid > latest.zxid) this.latestWrites.set(write.controllerEpoch, write);
    for (const [epoch, election] of this.elections) {
      if (epoch > write.controllerEpoch && write.zxid > election.zxid) return deposedWrite(event.t, write, election);
    }
    return null;
  }
}

function deposedWrite(time: number, write: AcceptedWrite, election: Election): Violation {
  return violation(time, [write.node, election.node], {
    shape: "deposed-controller-write",
    write,
    newerElection: election,
  });
}

function violation(time: number, nodes: string[], evidence: Record<string, unknown>): Violation {
  return { name: "two-controllers", time, nodes: [...new Set(nodes)], evidence };
}
