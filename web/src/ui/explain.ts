/**
 * Violations in words: for each named anomaly of DESIGN.md, a paragraph a student can follow, built from the
 * violation's evidence, and the trace events that make the case — the acknowledgement of the lost record,
 * the truncation that dropped it, the election that caused it — found by searching the trace. Pure (no DOM).
 */

import type { TraceEvent } from "../../../src/sim/trace.ts";
import type { TraceIndex, ViolationMark } from "./trace-index.ts";

export interface EvidenceLink {
  /** Index into the trace's events. */
  index: number;
  label: string;
}

export interface Explanation {
  title: string;
  text: string[];
  links: EvidenceLink[];
}

const us = (t: unknown) => (typeof t === "number" ? `${(t / 1e6).toFixed(3)} s` : "?");
const str = (v: unknown) => (v === undefined || v === null ? "?" : typeof v === "object" ? JSON.stringify(v) : String(v));

function describe(e: TraceEvent): string {
  switch (e.kind) {
    case "op":
      return `${e.node}: ${str(e.f)} ${str(e.type)} ${str(e.value)}${e.offset !== undefined ? ` at offset ${str(e.offset)}` : ""}${e.error !== undefined ? ` (${str(e.error)})` : ""}`;
    case "leader-elected":
      return `controller ${e.node} elects broker-${str(e.leader)} leader of ${str(e.topicPartition)} at leaderEpoch ${str(e.leaderEpoch)}, isr ${str(e.isr)} (${str(e.reason)}${e.unclean === true ? ", UNCLEAN" : ""})`;
    case "replica-truncate":
      return `${e.node} truncates ${str(e.topicPartition)} to offset ${str(e.offset)} (log end was ${str(e.logEndOffset)}) by ${str(e.mode)}`;
    case "log-truncate":
      return `${e.node} truncates its log of ${str(e.topicPartition)} to ${str(e.offset)}`;
    case "become-leader":
      return `${e.node} becomes leader of ${str(e.topicPartition)} at leaderEpoch ${str(e.leaderEpoch)} with log end ${str(e.logEndOffset)}`;
    case "log-append":
      return `${e.node} appends offsets ${str(e.baseOffset)}–${str(e.lastOffset)} of ${str(e.topicPartition)} (epoch ${str(e.partitionLeaderEpoch)}${e.asLeader === true ? ", as leader" : ""})`;
    case "controller-elected":
      return `${e.node} becomes controller (controllerEpoch ${str(e.controllerEpoch)})`;
    case "controller-write":
      return `${e.node} writes ${str(e.path)} as controller epoch ${str(e.controllerEpoch)}: ${str(e.code)}`;
    case "host-crash":
    case "host-power-loss":
    case "host-machine-crash":
    case "host-shutdown":
    case "host-start":
      return `${e.node}: ${e.kind.replace("host-", "")}`;
    case "fault":
      return `fault ${str(e.type)} ${str(e.nodes ?? e.groups)}`;
    default:
      return `${e.node}: ${e.kind}`;
  }
}

function link(index: TraceIndex, i: number, prefix = ""): EvidenceLink {
  return { index: i, label: `${us(index.events[i].t)} — ${prefix}${describe(index.events[i])}` };
}

/** Indexes of events before `before` matching `test`, newest last. */
function findAll(index: TraceIndex, before: number, test: (e: TraceEvent) => boolean, from = 0): number[] {
  const found: number[] = [];
  for (let i = from; i < before && i < index.events.length; i++) if (test(index.events[i])) found.push(i);
  return found;
}

function eventIndexOf(index: TraceIndex, seq: number): number {
  // seq equals the position in a trace written by kafkasim; fall back to a search for edited traces.
  const direct = index.events[seq];
  if (direct !== undefined && direct.seq === seq) return seq;
  return index.events.findIndex((e) => e.seq === seq);
}

export function explainViolation(index: TraceIndex, v: ViolationMark): Explanation {
  const ev = v.evidence;
  const at = eventIndexOf(index, v.seq);
  const tp = typeof ev.topicPartition === "string" ? ev.topicPartition : undefined;
  const links: EvidenceLink[] = [];
  const text: string[] = [];
  const elections = (after: number) =>
    findAll(index, at, (e) => e.kind === "leader-elected" && e.topicPartition === tp && e.t >= after);

  switch (v.name) {
    case "lost-write": {
      const value = ev.value;
      text.push(
        `The producer ${str(ev.process)} was told that ${str(value)} was written: the leader acknowledged it at offset ${str(ev.ackedOffset)} of ${str(tp)} at ${us(ev.ackedAt)}.`,
        `At the end of the run the committed log of ${str(tp)} (up to its high watermark ${str(ev.highWatermark)}) no longer holds it; offset ${str(ev.ackedOffset)} now holds ${str((ev.recordNow as { value?: unknown }[] | undefined)?.map((r) => r.value))}.`,
        "An acknowledged write must survive any fault the configuration promises to tolerate. Follow the links: the acknowledgement, the truncations that removed the record, and the elections that made a replica without it the leader.",
      );
      const ack = findAll(index, at, (e) => e.kind === "op" && e.type === "ok" && e.value === value);
      for (const i of ack) links.push(link(index, i, "acknowledged: "));
      const acked = typeof ev.ackedOffset === "number" ? ev.ackedOffset : Infinity;
      const ackedAt = typeof ev.ackedAt === "number" ? ev.ackedAt : 0;
      for (const i of findAll(index, at, (e) => (e.kind === "replica-truncate" || e.kind === "log-truncate") && e.topicPartition === tp && e.t >= ackedAt && typeof e.offset === "number" && e.offset <= acked && (e.kind === "log-truncate" || (typeof e.logEndOffset === "number" && e.logEndOffset > e.offset)))) {
        links.push(link(index, i, "dropped by: "));
      }
      for (const i of elections(ackedAt)) links.push(link(index, i, "election: "));
      break;
    }
    case "hwm-regression": {
      if (ev.shape === "committed-data-lost") {
        const committed = (ev.committed ?? {}) as Record<string, unknown>;
        text.push(
          `${str(ev.newLeader)} became leader of ${str(tp)} at leaderEpoch ${str(ev.leaderEpoch)} with a log ending at ${str(ev.logEndOffset)}, but offset ${str(committed.offset)} had already been committed (the high watermark ${str(committed.node)} exposed at ${us(committed.time)}).`,
          `The records between are gone from the new leader: ${str((ev.lostRecords as { offset?: unknown; record?: { value?: unknown } }[] | undefined)?.map((r) => `${str(r.offset)}:${str(r.record?.value)}`))}. The election was ${ev.unclean === true ? "UNCLEAN (a replica outside the ISR)" : "clean"} (${str(ev.electionReason)}).`,
        );
        for (const i of findAll(index, at + 1, (e) => e.kind === "leader-elected" && e.topicPartition === tp && e.leaderEpoch === ev.leaderEpoch)) links.push(link(index, i, "election: "));
        const node = str(ev.newLeader);
        for (const i of findAll(index, at, (e) => e.node === node && (e.kind === "replica-truncate" || e.kind === "log-truncate") && e.topicPartition === tp)) links.push(link(index, i, "truncation on the new leader: "));
        for (const i of findAll(index, at, (e) => e.node === node && (e.kind === "host-power-loss" || e.kind === "host-machine-crash" || e.kind === "host-crash"))) links.push(link(index, i));
      } else {
        text.push(`Leader ${str(ev.leader)} lowered its high watermark of ${str(tp)} from ${str(ev.previousMaxHighWatermark)} to ${str(ev.highWatermark)} within leaderEpoch ${str(ev.leaderEpoch)}: a consumer could have read records that are no longer committed.`);
      }
      break;
    }
    case "divergent-log": {
      const ref = (ev.referenceRecord ?? {}) as Record<string, unknown>;
      const other = (ev.otherRecord ?? {}) as Record<string, unknown>;
      text.push(
        `At offset ${str(ev.offset)} of ${str(tp)}, below the high watermark ${str(ev.highWatermark)}, ${str(ev.reference)} holds ${str(ref.value)} (epoch ${str(ref.partitionLeaderEpoch)}) while ${str(ev.other)} holds ${str(other.value)} (epoch ${str(other.partitionLeaderEpoch)}).`,
        "Replicas must agree on every committed offset; two different records there mean a consumer's answer depends on which broker it reads. Look for the truncation that should have removed the stale record and did not.",
      );
      for (const i of findAll(index, at, (e) => e.kind === "log-append" && e.topicPartition === tp && Array.isArray(e.offsets) && (e.offsets as number[]).includes(Number(ev.offset)) && (e.node === ev.reference || e.node === ev.other))) links.push(link(index, i, "appended: "));
      for (const i of elections(0)) links.push(link(index, i, "election: "));
      break;
    }
    case "two-leaders": {
      const first = (ev.first ?? {}) as Record<string, unknown>;
      const second = (ev.second ?? {}) as Record<string, unknown>;
      text.push(`${str(first.node)} and ${str(second.node)} both appended to ${str(tp)} as leader at leaderEpoch ${str(ev.leaderEpoch)} (at ${us(first.time)} and ${us(second.time)}). One epoch must have one leader.`);
      for (const i of findAll(index, at + 1, (e) => e.kind === "log-append" && e.asLeader === true && e.topicPartition === tp && (e.t === first.time || e.t === second.time))) links.push(link(index, i));
      break;
    }
    case "two-controllers": {
      if (ev.shape === "deposed-controller-write") {
        const write = (ev.write ?? {}) as Record<string, unknown>;
        text.push(`${str(write.node)}, no longer the controller, wrote ${str(write.path)} at ${us(write.time)} (controllerEpoch ${str(write.controllerEpoch)}) after a newer controller was elected — a zombie controller (KAFKA-6082). Its write was not fenced by the controller epoch's zkVersion.`);
        for (const i of findAll(index, at + 1, (e) => e.kind === "controller-write" && e.node === write.node && e.t === write.time)) links.push(link(index, i, "zombie write: "));
      } else {
        text.push(`Two brokers were elected controller at controllerEpoch ${str(ev.controllerEpoch)}.`);
      }
      for (const i of findAll(index, at + 1, (e) => e.kind === "controller-elected")) links.push(link(index, i));
      break;
    }
    case "duplicate-write":
      text.push(`${str(ev.value)} (from ${str(ev.producer)}) is in the committed log ${Array.isArray(ev.offsets) ? (ev.offsets as unknown[]).length : "several"} times: offsets ${str(ev.offsets)} of ${str(tp)}. A retried send was appended again because nothing deduplicated it (no idempotence).`);
      for (const i of findAll(index, at, (e) => e.kind === "op" && e.value === ev.value)) links.push(link(index, i));
      break;
    case "reordered-write": {
      const a = (ev.handedFirst ?? {}) as Record<string, unknown>;
      const b = (ev.handedSecond ?? {}) as Record<string, unknown>;
      text.push(
        `${str(ev.producer)} was handed ${str(a.value)} before ${str(b.value)}, yet ${str(tp)} holds ${str(a.value)} at offset ${str(a.offset)}, after ${str(b.value)} at ${str(b.offset)} (${str(ev.count)} such inversions).`,
        ev.orderPromised === false ? "The configuration did not promise order: several requests in flight without idempotence let a retried batch land after a later one." : "The configuration promised order.",
      );
      for (const i of findAll(index, at, (e) => e.kind === "op" && (e.value === a.value || e.value === b.value))) links.push(link(index, i));
      break;
    }
    default:
      text.push(`Evidence: ${JSON.stringify(ev)}`);
  }
  if (links.length > 40) links.splice(20, links.length - 40);
  return { title: `${v.name} at ${us(v.t)}`, text, links };
}
