/**
 * The consumer-group checkers behind one observer (groups.md's trace contract): `double-assignment` online, as
 * each membership event arrives, and at the end of the run `lost-commit` and `skipped-record` over the groups'
 * history and the final committed logs, plus the duplicate-delivery count for the run summary. They model no
 * Kafka component. A run without groups costs one kind test and one field test per "op" event: the membership
 * kinds never occur, and ops without a `group` are dropped at once.
 */

import type { TraceEvent } from "../sim/trace.ts";
import type { CommittedLog } from "./committed-log.ts";
import { DoubleAssignmentChecker, MEMBERSHIP_KINDS } from "./groups-assignment.ts";
import { checkLostCommits } from "./groups-commits.ts";
import { GroupHistory } from "./groups-history.ts";
import { checkSkippedRecords, duplicateDeliveries } from "./groups-records.ts";
import type { Violation } from "./violation.ts";

/** The trace kinds the group checkers read; every other event is ignored (Trace.observe's kind filter). */
export const GROUP_KINDS: readonly string[] = ["op", ...MEMBERSHIP_KINDS, "host-crash", "host-power-loss", "host-machine-crash", "host-shutdown", "host-start"];

const GROUP_KIND_SET: ReadonlySet<string> = new Set(GROUP_KINDS);
const HOST_DOWN: ReadonlySet<string> = new Set(["host-crash", "host-power-loss", "host-machine-crash", "host-shutdown"]);
const NO_VIOLATIONS: readonly Violation[] = Object.freeze([]);

export class GroupCheckers {
  readonly history = new GroupHistory();
  private readonly assignments = new DoubleAssignmentChecker();
  /** Per host, the seq of its latest crash, power loss or shutdown. */
  private readonly hostDownSeq = new Map<string, number>();
  private membershipSeen = false;

  /** Reads one trace event; returns the double assignments it reveals (the online check). */
  observe(event: TraceEvent): readonly Violation[] {
    if (!GROUP_KIND_SET.has(event.kind)) return NO_VIOLATIONS;
    if (event.kind === "op") {
      this.history.observe(event);
      return NO_VIOLATIONS;
    }
    if (HOST_DOWN.has(event.kind)) this.hostDownSeq.set(event.node, event.seq);
    else if (event.kind === "host-start") this.history.hostStarted(event.node);
    else if (typeof event.group === "string") this.membershipSeen = true;
    return this.assignments.observe(event);
  }

  /** True once the run produced any group op or membership event (the summary reports duplicateDeliveries only then). */
  get active(): boolean {
    return this.history.active || this.membershipSeen;
  }

  get duplicateDeliveries(): number {
    return duplicateDeliveries(this.history);
  }

  /** lost-commit, then skipped-record violations, at the end of the run. */
  check(committedLog: (topicPartition: string) => CommittedLog | null, now: number): Violation[] {
    if (!this.history.active) return [];
    return [...checkLostCommits(this.history, now), ...checkSkippedRecords(this.history, committedLog, (node) => this.hostDownSeq.get(node) ?? -1, now)];
  }
}
