/**
 * Consumer groups in `kafkasim timeline` and `kafkasim run`'s key events (pure): the group events of issue 15's
 * trace contract (docs/groups.md, "Trace events") as one compact line each — the coordinator's group-state
 * transitions and member removals, the clients' partitions-assigned / -revoked / -lost and poll timeouts, the
 * coordinator loading and unloading a `__consumer_offsets` partition, the offsets topic's creation. The glyphs
 * are the web viewer's (docs/viewer.md, "Consumer groups"), and so is the short form of a member id.
 */

import type { TraceEvent } from "../sim/trace.ts";

/** A UUID as the coordinator appends it to a member id (`clientId-UUID`, `instanceId-UUID`). */
const MEMBER_UUID = /^(.+)-([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A member id as people read it: the client id (or group.instance.id) and the first four hex digits of the UUID
 * the coordinator gave it (`c1-b38f8ad5-f330-…` → `c1-b38f`). Ids of another shape are returned as they are.
 */
export function shortMemberId(memberId: string): string {
  const match = MEMBER_UUID.exec(memberId);
  return match === null ? memberId : `${match[1]}-${match[2].slice(0, 4)}`;
}

/** What the coordinator put before a member id's UUID: the client id, or a static member's group.instance.id. */
export function memberIdPrefix(memberId: string): string | null {
  return MEMBER_UUID.exec(memberId)?.[1] ?? null;
}

/** The group event kinds the timeline and the run summary show. */
export const GROUP_KEY_KINDS: ReadonlySet<string> = new Set([
  "group-state",
  "group-member-removed",
  "partitions-assigned",
  "partitions-revoked",
  "partitions-lost",
  "consumer-poll-timeout",
  "group-coordinator-loaded",
  "group-coordinator-unloaded",
  "offsets-topic-created",
]);

export interface GroupKeyEvent {
  glyph: string;
  label: string;
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;
/** A count that older traces wrote as a list. */
const count = (value: unknown) => (Array.isArray(value) ? value.length : typeof value === "number" ? value : null);
const partitions = (value: unknown) => (Array.isArray(value) && value.length > 0 ? value.map(String).join(",") : "nothing");
const member = (value: unknown) => (typeof value === "string" && value !== "" ? shortMemberId(value) : null);

/** The glyph and the one-line label of a group key event, or null for other events. */
export function describeGroupEvent(e: TraceEvent): GroupKeyEvent | null {
  const group = `group ${String(e.group)}`;
  const gen = typeof e.generation === "number" && e.generation >= 0 ? `gen ${e.generation}` : "no generation";
  switch (e.kind) {
    case "group-state": {
      const members = Array.isArray(e.members) ? e.members.length : 0;
      const leader = member(e.leader);
      const who = e.state === "Dead" ? "" : ` (${members === 0 ? "no members" : plural(members, "member")}${leader !== null && members > 0 ? `, leader ${leader}` : ""})`;
      // Loaded from __consumer_offsets by a new coordinator: no transition, the stored state.
      const loaded = e.previousState === null ? "loaded as " : "";
      return { glyph: "◎", label: `${group} ${loaded}${String(e.state)} gen ${String(e.generation)}${who}` };
    }
    case "group-member-removed": {
      const id = member(e.member) ?? "?";
      const instance = typeof e.instanceId === "string" && !String(e.member).startsWith(`${e.instanceId}-`) ? ` (${e.instanceId})` : "";
      return { glyph: "⏏", label: `${group} member ${id}${instance} removed: ${String(e.reason)}` };
    }
    case "partitions-assigned":
    case "partitions-revoked":
    case "partitions-lost": {
      const verb = e.kind.slice("partitions-".length);
      const id = member(e.member);
      const detail = [gen, ...(id !== null ? [id] : []), ...(typeof e.protocol === "string" ? [e.protocol] : [])].join(", ");
      return { glyph: e.kind === "partitions-assigned" ? "⊕" : e.kind === "partitions-revoked" ? "⊖" : "⊗", label: `${group} ${verb} ${partitions(e.partitions)} (${detail})` };
    }
    case "consumer-poll-timeout": {
      const id = member(e.member);
      const interval = typeof e.maxPollIntervalMs === "number" ? ` ${e.maxPollIntervalMs} ms` : "";
      return { glyph: "⌛", label: `${e.group !== undefined ? `${group} ` : ""}poll timeout (max.poll.interval.ms${interval}): ${id ?? "the member"} leaves the group` };
    }
    case "group-coordinator-loaded": {
      const groups = count(e.groups);
      const offsets = count(e.offsets);
      const what = [groups !== null ? plural(groups, "group") : null, offsets !== null ? plural(offsets, "offset") : null].filter((x) => x !== null).join(", ");
      return { glyph: "●", label: `coordinator loaded __consumer_offsets-${String(e.partition)}${what !== "" ? `: ${what}` : ""}` };
    }
    case "group-coordinator-unloaded": {
      const groups = count(e.groups);
      return { glyph: "○", label: `coordinator unloaded __consumer_offsets-${String(e.partition)}${groups !== null ? `: ${plural(groups, "group")}` : ""}` };
    }
    case "offsets-topic-created":
      return { glyph: "◇", label: `__consumer_offsets created: ${String(e.partitions)} partitions, replication factor ${String(e.replicationFactor)}` };
    default:
      return null;
  }
}
