/**
 * Server-to-server messages of a ZooKeeper ensemble: FastLeaderElection notifications and the ZAB
 * learner protocol (FOLLOWERINFO, LEADERINFO, ACKEPOCH, DIFF/TRUNC/SNAP sync, NEWLEADER, UPTODATE,
 * PROPOSAL, ACK, COMMIT, PING, REQUEST forwarding, session revalidation), as plain objects.
 */

import type { Message } from "../sim/host.ts";
import type { SessionId, Zxid } from "../protocol/zk.ts";
import type { DataTreeSnapshot } from "./datatree.ts";
import type { ServerRequest } from "./connections.ts";
import type { ZkTxnEntry } from "./txn.ts";

export type ServerState = "LOOKING" | "FOLLOWING" | "LEADING";

/** A vote: who should lead, and the (peerEpoch, zxid) that justify it. */
export interface Vote {
  leader: number;
  zxid: Zxid;
  peerEpoch: number;
}

/** FastLeaderElection's Notification. */
export interface ZkNotification extends Message {
  type: "ZkNotification";
  sid: number;
  state: ServerState;
  electionEpoch: number;
  vote: Vote;
}

export interface ZkFollowerInfo extends Message {
  type: "ZkFollowerInfo";
  sid: number;
  /** Identifies one connection attempt: retries repeat it, a new attempt (or incarnation) changes it. */
  connectionId: number;
  acceptedEpoch: number;
  lastZxid: Zxid;
}

export interface ZkLeaderInfo extends Message {
  type: "ZkLeaderInfo";
  newEpoch: number;
}

export interface ZkAckEpoch extends Message {
  type: "ZkAckEpoch";
  sid: number;
  currentEpoch: number;
  lastZxid: Zxid;
}

/**
 * The leader's sync of a learner, followed by NEWLEADER: DIFF (entries after the learner's last zxid),
 * TRUNC (drop everything after truncZxid, then the entries), or SNAP (the whole tree, then the entries).
 */
export interface ZkSync extends Message {
  type: "ZkSync";
  mode: "DIFF" | "TRUNC" | "SNAP";
  newEpoch: number;
  truncZxid?: Zxid;
  snapshot?: { zxid: Zxid; tree: DataTreeSnapshot };
  /** Committed entries to log and apply, in order. */
  committed: ZkTxnEntry[];
  /** Outstanding proposals the learner must log and acknowledge (committed later by COMMIT). */
  proposals: ZkTxnEntry[];
}

/** Learner → leader: synced and persisted (the ACK of NEWLEADER). */
export interface ZkNewLeaderAck extends Message {
  type: "ZkNewLeaderAck";
  sid: number;
  newEpoch: number;
}

export interface ZkUpToDate extends Message {
  type: "ZkUpToDate";
  newEpoch: number;
}

export interface ZkProposal extends Message {
  type: "ZkProposal";
  entry: ZkTxnEntry;
}

export interface ZkAck extends Message {
  type: "ZkAck";
  sid: number;
  zxid: Zxid;
}

export interface ZkCommit extends Message {
  type: "ZkCommit";
  zxid: Zxid;
}

/** Leader → learner heartbeat (every tickTime / 2). */
export interface ZkLeaderPing extends Message {
  type: "ZkLeaderPing";
  epoch: number;
}

/** Learner → leader: the answer to a ping, carrying the sessions its clients touched since the last one. */
export interface ZkLearnerPing extends Message {
  type: "ZkLearnerPing";
  sid: number;
  epoch: number;
  touched: SessionId[];
}

/** A learner forwards a client's write (or sync, createSession, closeSession) to the leader. */
export interface ZkForward extends Message {
  type: "ZkForward";
  sid: number;
  sessionId: SessionId;
  cxid: number;
  request: ServerRequest;
}

/** Leader → learner: a forwarded sync is done (every earlier commit has been sent before it). */
export interface ZkSyncDone extends Message {
  type: "ZkSyncDone";
  sessionId: SessionId;
  cxid: number;
  zxid: Zxid;
}

export interface ZkRevalidate extends Message {
  type: "ZkRevalidate";
  sid: number;
  sessionId: SessionId;
}

export interface ZkRevalidateReply extends Message {
  type: "ZkRevalidateReply";
  sessionId: SessionId;
  valid: boolean;
  timeoutMs: number;
}

export type QuorumMessage =
  | ZkNotification
  | ZkFollowerInfo
  | ZkLeaderInfo
  | ZkAckEpoch
  | ZkSync
  | ZkNewLeaderAck
  | ZkUpToDate
  | ZkProposal
  | ZkAck
  | ZkCommit
  | ZkLeaderPing
  | ZkLearnerPing
  | ZkForward
  | ZkSyncDone
  | ZkRevalidate
  | ZkRevalidateReply;

/** FastLeaderElection.totalOrderPredicate: is `a` a better vote than `b`? */
export function betterVote(a: Vote, b: Vote): boolean {
  if (a.peerEpoch !== b.peerEpoch) return a.peerEpoch > b.peerEpoch;
  if (a.zxid !== b.zxid) return a.zxid > b.zxid;
  return a.leader > b.leader;
}

/**
 * Vote.equals between servers out of election: the same leader. (Servers that joined the ensemble in
 * different rounds decided votes with different zxids and peer epochs for the same leader.)
 */
export function sameLeader(a: Vote, b: Vote): boolean {
  return a.leader === b.leader;
}

export function sameVote(a: Vote, b: Vote): boolean {
  return a.leader === b.leader && a.zxid === b.zxid && a.peerEpoch === b.peerEpoch;
}
