/** The viewer's state reconstruction: pure TypeScript, no DOM, usable from Node tests and the browser. */
export { Timeline, RECENT_OPS } from "./timeline.ts";
export { RECENT_US } from "./replica-track.ts";
export { Series } from "./series.ts";
export { projectSnapshot, normalizeSnapshot, recordsDigest, type ProjectedSnapshot, type ProjectedReplica } from "./projection.ts";
export type * from "./types.ts";
export { GroupTimeline } from "./group-timeline.ts";
export { entersRebalance, memberIdPrefix, GroupStatusTracker, GROUP_EVENT_KINDS, isRebalancing, nextAssignment, compareTopicPartitions, type GroupStatus, type GroupMemberRef, type ClientAssignment, type CoordinatorStatus } from "./groups.ts";
export { TxnTimeline, TxnStatusTracker, TXN_EVENT_KINDS, isCompleting, type TxnStatus } from "./transactions.ts";
