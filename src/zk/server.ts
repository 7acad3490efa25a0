/**
 * A ZooKeeper server (QuorumPeer) as a message-and-timer state machine: FastLeaderElection, then ZAB —
 * discovery (FOLLOWERINFO / LEADERINFO / ACKEPOCH with acceptedEpoch and currentEpoch persisted), sync
 * (DIFF / TRUNC / SNAP, NEWLEADER acknowledged once the learner's log is durable, UPTODATE), and broadcast
 * (PROPOSAL logged and fsynced before ACK, COMMIT on a quorum of ACKs, in zxid order). Clients connect to
 * any serving server: reads are answered locally (possibly stale) in the session's FIFO order behind its
 * pending writes, writes are forwarded to the leader, sessions are tracked and expired by the leader as
 * closeSession transactions, and one-shot watches fire on the server the client is connected to.
 * Simplifications: no observers, no dynamic reconfiguration, no ACLs or auth, no session ownership
 * (SESSIONMOVED), pings are answered at once rather than through the request pipeline, a txn log or epoch
 * file I/O error ends the role at once (ZooKeeper's ERROR state, noticed at the leader's next tick), and a
 * failed snapshot stops the server for good (ZooKeeper exits).
 */

import type { Disk } from "../disk/disk.ts";
import {
  makeZxid,
  zxidEpoch,
  type SessionId,
  type ZkConnectRequest,
  type ZkDisconnect,
  type ZkPing,
  type ZkRequest,
  type Zxid,
} from "../protocol/zk.ts";
import { assert } from "../sim/assert.ts";
import type { Message, Process, ProcessContext } from "../sim/host.ts";
import type { TimerId } from "../sim/kernel.ts";
import { ms } from "../sim/time.ts";
import { DataTree, type ZkTxnRequest } from "./datatree.ts";
import { ELECTION_TIMER_FINALIZE, ELECTION_TIMER_RETRY, FastLeaderElection } from "./election.ts";
import type {
  ServerState,
  Vote,
  ZkAck,
  ZkAckEpoch,
  ZkCommit,
  ZkFollowerInfo,
  ZkForward,
  ZkLeaderInfo,
  ZkLeaderPing,
  ZkLearnerPing,
  ZkNewLeaderAck,
  ZkNotification,
  ZkProposal,
  ZkRevalidate,
  ZkRevalidateReply,
  ZkSync,
  ZkSyncDone,
  ZkUpToDate,
} from "./quorum.ts";
import { SessionTracker } from "./sessions.ts";
import { ACCEPTED_EPOCH, CURRENT_EPOCH, ZkStorage } from "./storage.ts";
import type { ZkTxn, ZkTxnEntry, ZkTxnHeader } from "./txn.ts";
import { ClientConnections, hex, type ConnectionsHost, type ServerRequest } from "./connections.ts";

export { hex } from "./connections.ts";

export interface ZkServerConfig {
  /** This server's id (myid), 1-based; servers[sid - 1] is its host name. */
  sid: number;
  servers: readonly string[];
  tickTimeMs: number;
  /** Ticks a learner may take to connect and sync with the leader. */
  initLimit: number;
  /** Ticks a learner may fall silent before the leader drops it (and vice versa). */
  syncLimit: number;
  /** Txns between snapshots (randomised to snapCount/2 + rand(snapCount/2), as ZooKeeper does). */
  snapCount: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  finalizeWaitMs: number;
  maxNotificationIntervalMs: number;
  /** Committed txns kept in memory for DIFF syncs (ZKDatabase.commitLogCount). */
  committedLogSize: number;
}

export const ZK_SERVER_DEFAULTS = {
  tickTimeMs: 2000,
  initLimit: 10,
  syncLimit: 5,
  snapCount: 100_000,
  finalizeWaitMs: 200,
  maxNotificationIntervalMs: 5000,
  committedLogSize: 500,
} as const;

export function zkServerConfig(sid: number, servers: readonly string[], overrides: Partial<ZkServerConfig> = {}): ZkServerConfig {
  const tickTimeMs = overrides.tickTimeMs ?? ZK_SERVER_DEFAULTS.tickTimeMs;
  return {
    ...ZK_SERVER_DEFAULTS,
    minSessionTimeoutMs: 2 * tickTimeMs,
    maxSessionTimeoutMs: 20 * tickTimeMs,
    ...overrides,
    sid,
    servers,
  };
}

interface LearnerHandle {
  sid: number;
  connectionId: number;
  /** The network connection its FOLLOWERINFO came on: a message on another one means the socket broke. */
  connection: number;
  name: string;
  acceptedEpoch: number;
  lastZxid: Zxid;
  currentEpoch: number;
  phase: "info" | "ackepoch" | "syncing" | "synced" | "uptodate";
  lastHeardUs: number;
}

interface Proposal {
  entry: ZkTxnEntry;
  acks: Set<number>;
}

interface LeaderState {
  newEpoch: number;
  /** newEpoch is decided once a quorum of FOLLOWERINFO arrived. */
  epochDecided: boolean;
  established: boolean;
  learners: Map<number, LearnerHandle>;
  prepTree: DataTree;
  counter: number;
  outstanding: Proposal[];
  lastCommitted: Zxid;
  sessions: SessionTracker;
  pendingSyncs: { zxid: Zxid; sid: number; sessionId: SessionId; cxid: number }[];
  epochAcks: Set<number>;
  newLeaderAcks: Set<number>;
  /** currentEpoch is being written (once per leadership). */
  persistingEpoch: boolean;
}

interface FollowerState {
  leaderSid: number;
  leaderName: string;
  newEpoch: number;
  phase: "connecting" | "syncing" | "synced" | "uptodate";
  lastHeardUs: number;
  /** Proposals logged, waiting for COMMIT, in zxid order. */
  pending: ZkTxnEntry[];
  /** Highest zxid acknowledged to the leader. */
  ackedZxid: Zxid;
  /** Highest zxid the local log reported durable. */
  durableZxid: Zxid;
  touched: Set<SessionId>;
  /** Reconnects waiting for the leader's revalidation. */
  revalidating: Map<SessionId, (valid: boolean, timeoutMs: number) => void>;
  /** The connection the leader's messages come on (-1 until the first one). */
  leaderConnection: number;
}

const TIMER_TICK = "zk-tick";
const TIMER_EXPIRE = "zk-expire";
const TIMER_INIT = "zk-init-limit";

export class ZkServer implements Process, ConnectionsHost {
  state: ServerState = "LOOKING";
  serving = false;
  fatal = false;
  tree = new DataTree();
  currentEpoch = 0;
  acceptedEpoch = 0;
  private committedLog: ZkTxnEntry[] = [];
  private readonly storage: ZkStorage;
  private readonly election: FastLeaderElection;
  private leader: LeaderState | null = null;
  private follower: FollowerState | null = null;
  private electionEpochDecided = 0;
  private readonly clients: ClientConnections;
  private tickTimer: TimerId = -1;
  private expireTimer: TimerId = -1;
  private initTimer: TimerId = -1;
  /** The connection (link epoch) of the message being handled. */
  inbound = 0;
  private connectionCounter = 0;
  private txnsSinceSnapshot = 0;
  private snapshotEvery: number;
  private readonly sids: number[];

  constructor(
    readonly context: ProcessContext<Disk>,
    readonly config: ZkServerConfig,
  ) {
    assert(config.servers[config.sid - 1] === context.node, "zk server sid does not match its host name");
    this.sids = config.servers.map((_, i) => i + 1);
    this.storage = new ZkStorage(context.disk, context);
    this.clients = new ClientConnections(this);
    this.storage.onLogDurable = (zxid) => this.onLogDurable(zxid);
    this.storage.onIoError = (what, error) => this.onIoError(what, error);
    this.snapshotEvery = Math.floor(config.snapCount / 2) + context.rng.int(0, Math.floor(config.snapCount / 2));
    this.election = new FastLeaderElection(
      {
        sid: config.sid,
        sids: this.sids,
        sendTo: (sid, message) => this.sendToServer(sid, message),
        setTimer: (delayMs, tag) => context.setTimer(ms(delayMs), tag),
        cancelTimer: (id) => void (id !== -1 && context.cancelTimer(id)),
        decide: (vote, electionEpoch) => this.onElected(vote, electionEpoch),
      },
      { finalizeWaitMs: config.finalizeWaitMs, maxNotificationIntervalMs: config.maxNotificationIntervalMs },
    );
  }

  // ------------------------------------------------------------------------------------------- lifecycle

  onStart(): void {
    const recovered = this.storage.recover();
    this.tree = recovered.tree;
    this.currentEpoch = recovered.currentEpoch;
    this.acceptedEpoch = recovered.acceptedEpoch;
    this.committedLog = recovered.entries.slice(-this.config.committedLogSize);
    this.trace("zk-recovered", {
      lastZxid: hex(this.lastZxid),
      snapshotZxid: hex(recovered.snapshotZxid),
      currentEpoch: this.currentEpoch,
      acceptedEpoch: this.acceptedEpoch,
      truncatedChunks: recovered.truncatedChunks,
    });
    this.lookForLeader();
  }

  get sid(): number {
    return this.config.sid;
  }

  get lastZxid(): Zxid {
    return Math.max(this.tree.lastProcessedZxid, this.storage.lastLoggedZxid);
  }

  get leaderSid(): number | null {
    if (this.state === "LEADING") return this.sid;
    if (this.state === "FOLLOWING" && this.follower !== null) return this.follower.leaderSid;
    return null;
  }

  /** Sessions the leader tracks (null on followers). */
  get trackedSessions(): number | null {
    return this.leader?.sessions.size ?? null;
  }

  private die(reason: string): void {
    if (this.fatal) return;
    this.trace("zk-fatal", { reason });
    this.stopServing("not-serving");
    this.election.stop();
    this.leader = null;
    this.follower = null;
    this.fatal = true;
  }

  /**
   * An I/O error on the txn log or an epoch file ends the server's role: ZooKeeper's SyncRequestProcessor (a
   * ZooKeeperCriticalThread) dies and sets the server's state to ERROR (ZooKeeperServerListenerImpl
   * .notifyStopping); Leader.lead's loop sees !isRunning() and shuts down ("Unexpected internal error",
   * ZOOKEEPER-2247), Follower.followLeader's loop ends likewise, and an IOException writing acceptedEpoch or
   * currentEpoch ends the role too; QuorumPeer goes back to LOOKING and may rejoin once the disk works again.
   * A failed snapshot exits the process (ZooKeeperServer.takeSnapshot: "Severe unrecoverable error, exiting").
   */
  private onIoError(what: string, error: string): void {
    if (what.startsWith("snapshot")) {
      this.die(`${what}: ${error}`);
      return;
    }
    // An fsync of a role already left (its SyncRequestProcessor was shut down with it).
    if (this.fatal || this.state === "LOOKING") return;
    this.trace(this.state === "LEADING" ? "zk-leader-abandon" : "zk-follower-abandon", { reason: "internal error", error: `${what}: ${error}` });
    this.lookForLeader();
  }

  private reloadFromDisk(): void {
    const recovered = this.storage.recover();
    this.tree = recovered.tree;
    this.committedLog = recovered.entries.slice(-this.config.committedLogSize);
  }

  // ------------------------------------------------------------------------------------------- election

  private lookForLeader(): void {
    // Leaving a role: the database is reloaded from disk, so logged-but-uncommitted proposals count.
    if (this.leader !== null || this.follower !== null) this.reloadFromDisk();
    this.stopServing("not-serving");
    this.clearRoleTimers();
    this.leader = null;
    this.follower = null;
    this.state = "LOOKING";
    const vote: Vote = { leader: this.sid, zxid: this.lastZxid, peerEpoch: this.currentEpoch };
    this.election.start(vote);
    this.trace("zk-election-start", { electionEpoch: this.election.logicalclock, zxid: hex(vote.zxid), epoch: vote.peerEpoch });
  }

  private onElected(vote: Vote, electionEpoch: number): void {
    this.electionEpochDecided = electionEpoch;
    this.trace("zk-leader-elected", { leader: this.config.servers[vote.leader - 1], electionEpoch, zxid: hex(vote.zxid) });
    if (vote.leader === this.sid) this.becomeLeader();
    else this.becomeFollower(vote.leader);
  }

  private onNotification(n: ZkNotification): void {
    if (this.election.isLooking) {
      this.election.onNotification(n);
      return;
    }
    // Established: tell a LOOKING peer whom we follow, so it can join.
    if (n.state === "LOOKING") {
      const reply: ZkNotification = {
        type: "ZkNotification",
        sid: this.sid,
        state: this.state,
        electionEpoch: this.electionEpochDecided,
        // The vote this server's election decided (QuorumPeer.getCurrentVote).
        vote: this.election.proposal,
        sizeBytes: 48,
      };
      this.sendToServer(n.sid, reply);
    }
  }

  // ------------------------------------------------------------------------------------------- leader

  private becomeLeader(): void {
    this.state = "LEADING";
    const self: LearnerHandle = {
      sid: this.sid,
      connectionId: 0,
      connection: 0,
      name: this.context.node,
      acceptedEpoch: this.acceptedEpoch,
      lastZxid: this.lastZxid,
      currentEpoch: this.currentEpoch,
      phase: "uptodate",
      lastHeardUs: this.context.monotonicNow(),
    };
    this.leader = {
      newEpoch: 0,
      epochDecided: false,
      established: false,
      learners: new Map([[this.sid, self]]),
      prepTree: this.tree,
      counter: 0,
      outstanding: [],
      lastCommitted: this.lastZxid,
      sessions: new SessionTracker(ms(this.config.tickTimeMs)),
      pendingSyncs: [],
      epochAcks: new Set(),
      newLeaderAcks: new Set(),
      persistingEpoch: false,
    };
    this.initTimer = this.context.setTimer(ms(this.config.initLimit * this.config.tickTimeMs), TIMER_INIT);
    this.tickTimer = this.context.setTimer(ms(this.config.tickTimeMs / 2), TIMER_TICK);
    this.maybeDecideEpoch();
  }

  private learnerQuorum(count: number): boolean {
    return count * 2 > this.sids.length;
  }

  private onFollowerInfo(from: string, info: ZkFollowerInfo): void {
    const leader = this.leader;
    if (leader === null) return;
    const known = leader.learners.get(info.sid);
    if (known !== undefined && known.connectionId === info.connectionId && known.connection === this.inbound) {
      // A retry of a connection we already have (Learner.connectToLeader retries until the leader listens).
      known.lastHeardUs = this.context.monotonicNow();
      if (leader.epochDecided) this.sendLeaderInfo(known);
      return;
    }
    const learner: LearnerHandle = {
      sid: info.sid,
      connectionId: info.connectionId,
      connection: this.inbound,
      name: from,
      acceptedEpoch: info.acceptedEpoch,
      lastZxid: info.lastZxid,
      currentEpoch: 0,
      phase: "info",
      lastHeardUs: this.context.monotonicNow(),
    };
    leader.learners.set(info.sid, learner);
    if (leader.epochDecided) this.sendLeaderInfo(learner);
    else this.maybeDecideEpoch();
  }

  /** getEpochToPropose: once a quorum (us included) reported its acceptedEpoch, newEpoch = max + 1. */
  private maybeDecideEpoch(): void {
    const leader = this.leader!;
    if (leader.epochDecided || !this.learnerQuorum(leader.learners.size)) return;
    let maxAccepted = 0;
    for (const learner of leader.learners.values()) maxAccepted = Math.max(maxAccepted, learner.acceptedEpoch);
    leader.newEpoch = maxAccepted + 1;
    leader.epochDecided = true;
    leader.counter = 0;
    this.storage.writeEpoch(ACCEPTED_EPOCH, leader.newEpoch, () => {
      if (this.leader !== leader) return;
      this.acceptedEpoch = leader.newEpoch;
      leader.epochAcks.add(this.sid);
      for (const learner of leader.learners.values()) if (learner.sid !== this.sid) this.sendLeaderInfo(learner);
      this.maybeFinishEpochAcks();
    });
  }

  private sendLeaderInfo(learner: LearnerHandle): void {
    if (learner.phase !== "info" || this.acceptedEpoch !== this.leader!.newEpoch) return;
    const message: ZkLeaderInfo = { type: "ZkLeaderInfo", newEpoch: this.leader!.newEpoch, sizeBytes: 32 };
    this.context.send(learner.name, message);
  }

  /** The learner a message came from, if it is still on the connection we know it by (else it is dropped). */
  private fromLearner(sid: number): LearnerHandle | null {
    const leader = this.leader;
    if (leader === null || sid === this.sid) return null;
    const learner = leader.learners.get(sid);
    if (learner === undefined) return null;
    if (learner.connection !== this.inbound) {
      this.trace("zk-learner-lost", { learner: learner.name, reason: "connection broken" });
      leader.learners.delete(sid);
      return null;
    }
    learner.lastHeardUs = this.context.monotonicNow();
    return learner;
  }

  private onAckEpoch(ack: ZkAckEpoch): void {
    const leader = this.leader;
    if (leader === null) return;
    const learner = this.fromLearner(ack.sid);
    if (learner === null || learner.phase !== "info") return;
    learner.currentEpoch = ack.currentEpoch;
    learner.lastZxid = ack.lastZxid;
    learner.phase = "ackepoch";
    // A learner ahead of us means we should not lead (Leader.waitForEpochAck).
    if (ack.currentEpoch > this.currentEpoch || (ack.currentEpoch === this.currentEpoch && ack.lastZxid > this.lastZxid)) {
      this.trace("zk-leader-abandon", { reason: "learner ahead", learner: learner.name });
      this.lookForLeader();
      return;
    }
    leader.epochAcks.add(ack.sid);
    if (leader.established || this.currentEpoch === leader.newEpoch) this.syncLearner(learner);
    else this.maybeFinishEpochAcks();
  }

  /** Quorum of ACKEPOCH: persist currentEpoch, then sync every learner that acknowledged. */
  private maybeFinishEpochAcks(): void {
    const leader = this.leader!;
    if (leader.persistingEpoch || this.currentEpoch === leader.newEpoch || !this.learnerQuorum(leader.epochAcks.size)) return;
    leader.persistingEpoch = true;
    this.storage.writeEpoch(CURRENT_EPOCH, leader.newEpoch, () => {
      if (this.leader !== leader) return;
      this.currentEpoch = leader.newEpoch;
      leader.newLeaderAcks.add(this.sid);
      for (const learner of leader.learners.values()) if (learner.phase === "ackepoch") this.syncLearner(learner);
      this.maybeEstablish();
    });
  }

  /** LearnerHandler.syncFollower: DIFF, TRUNC or SNAP from the committed history, then outstanding proposals. */
  private syncLearner(learner: LearnerHandle): void {
    const leader = this.leader!;
    const peer = learner.lastZxid;
    const history = this.committedLog;
    const lastCommitted = leader.lastCommitted;
    let mode: ZkSync["mode"] = "SNAP";
    let truncZxid: Zxid | undefined;
    let from = 0;
    const min = history.length > 0 ? history[0].header.zxid : lastCommitted;
    if (peer === lastCommitted) {
      mode = "DIFF";
      from = history.length;
    } else if (peer > lastCommitted) {
      mode = "TRUNC";
      truncZxid = lastCommitted;
      from = history.length;
    } else if (history.length > 0 && peer >= min) {
      let index = history.length - 1;
      while (index >= 0 && history[index].header.zxid > peer) index--;
      from = index + 1;
      if (index >= 0 && history[index].header.zxid === peer) mode = "DIFF";
      else if (index >= 0) {
        mode = "TRUNC";
        truncZxid = history[index].header.zxid;
      }
    }
    const sync: ZkSync = {
      type: "ZkSync",
      mode,
      newEpoch: leader.newEpoch,
      committed: mode === "SNAP" ? [] : history.slice(from),
      proposals: leader.outstanding.map((proposal) => proposal.entry),
      sizeBytes: 256,
    };
    if (truncZxid !== undefined) sync.truncZxid = truncZxid;
    if (mode === "SNAP") sync.snapshot = { zxid: this.tree.lastProcessedZxid, tree: this.tree.snapshot() };
    learner.phase = "syncing";
    this.trace("zk-sync", { learner: learner.name, mode, peerZxid: hex(peer), truncZxid: truncZxid === undefined ? null : hex(truncZxid), txns: sync.committed.length });
    this.context.send(learner.name, sync);
  }

  private onNewLeaderAck(ack: ZkNewLeaderAck): void {
    const leader = this.leader;
    if (leader === null || ack.newEpoch !== leader.newEpoch) return;
    const learner = this.fromLearner(ack.sid);
    if (learner === null || learner.phase !== "syncing") return;
    learner.phase = "synced";
    leader.newLeaderAcks.add(ack.sid);
    if (leader.established) this.sendUpToDate(learner);
    else this.maybeEstablish();
  }

  /** Quorum of NEWLEADER acks: the leader starts serving and tells every synced learner UPTODATE. */
  private maybeEstablish(): void {
    const leader = this.leader!;
    if (leader.established || this.currentEpoch !== leader.newEpoch || !this.learnerQuorum(leader.newLeaderAcks.size)) return;
    leader.established = true;
    this.context.cancelTimer(this.initTimer);
    this.initTimer = -1;
    for (const learner of leader.learners.values()) if (learner.phase === "synced") this.sendUpToDate(learner);
    // Every session in the database starts afresh (LeaderSessionTracker on startup).
    const now = this.context.monotonicNow();
    for (const [sessionId, timeoutMs] of this.tree.sessions) leader.sessions.add(sessionId, timeoutMs, now);
    // Requests are prepared against a speculative copy: the committed tree plus outstanding proposals.
    leader.prepTree = this.tree.clone();
    this.expireTimer = this.context.setTimer(ms(this.config.tickTimeMs), TIMER_EXPIRE);
    this.startServing();
  }

  private sendUpToDate(learner: LearnerHandle): void {
    learner.phase = "uptodate";
    const message: ZkUpToDate = { type: "ZkUpToDate", newEpoch: this.leader!.newEpoch, sizeBytes: 16 };
    this.context.send(learner.name, message);
  }

  /** Leader: turn a request into a proposal, log it, send it to every learner that has been synced. */
  private propose(header: Omit<ZkTxnHeader, "zxid" | "time">, request: ZkTxnRequest, failed?: ZkTxn): Zxid {
    const leader = this.leader!;
    assert(leader.established, "proposal before the leader is established");
    const zxid = makeZxid(leader.newEpoch, ++leader.counter);
    const fullHeader: ZkTxnHeader = { ...header, zxid, time: Math.floor(this.context.now() / 1000) };
    let txn: ZkTxn;
    if (failed === undefined) txn = leader.prepTree.prepareAndApply(fullHeader, request).txn;
    else {
      txn = failed;
      leader.prepTree.apply({ header: fullHeader, txn });
    }
    const entry: ZkTxnEntry = { header: fullHeader, txn };
    leader.outstanding.push({ entry, acks: new Set() });
    // A failed append ends the role (onIoError): nothing is sent.
    if (!this.storage.append(entry)) return zxid;
    const message: ZkProposal = { type: "ZkProposal", entry, sizeBytes: 64 };
    for (const learner of leader.learners.values()) {
      if (learner.sid !== this.sid && learner.phase !== "info" && learner.phase !== "ackepoch") this.context.send(learner.name, message);
    }
    return zxid;
  }

  private onAck(ack: ZkAck): void {
    const leader = this.leader;
    if (leader === null) return;
    const learner = this.fromLearner(ack.sid);
    // Only a learner that has acknowledged NEWLEADER (its epoch is on disk) may count towards a quorum.
    if (learner === null || (learner.phase !== "synced" && learner.phase !== "uptodate")) return;
    for (const proposal of leader.outstanding) {
      if (proposal.entry.header.zxid > ack.zxid) break;
      if (proposal.entry.header.zxid === ack.zxid) proposal.acks.add(ack.sid);
    }
    this.tryCommit();
  }

  /** Commits, in zxid order, every outstanding proposal acknowledged by a quorum. */
  private tryCommit(): void {
    const leader = this.leader!;
    while (leader.outstanding.length > 0 && this.learnerQuorum(leader.outstanding[0].acks.size)) {
      const proposal = leader.outstanding.shift()!;
      const zxid = proposal.entry.header.zxid;
      assert(zxid > leader.lastCommitted, "commits must go in zxid order");
      leader.lastCommitted = zxid;
      const commit: ZkCommit = { type: "ZkCommit", zxid, sizeBytes: 24 };
      for (const learner of leader.learners.values()) {
        if (learner.sid !== this.sid && learner.phase !== "info" && learner.phase !== "ackepoch") this.context.send(learner.name, commit);
      }
      this.applyCommitted(proposal.entry);
      // A failed snapshot (applyCommitted) stops the server: commit nothing more.
      if (this.leader !== leader) return;
    }
    this.answerSyncs();
  }

  private answerSyncs(): void {
    const leader = this.leader!;
    const remaining: LeaderState["pendingSyncs"] = [];
    for (const sync of leader.pendingSyncs) {
      if (sync.zxid > leader.lastCommitted) {
        remaining.push(sync);
        continue;
      }
      if (sync.sid === this.sid) this.clients.complete(sync.sessionId, sync.cxid, { code: "OK", path: "" }, leader.lastCommitted);
      else {
        const done: ZkSyncDone = { type: "ZkSyncDone", sessionId: sync.sessionId, cxid: sync.cxid, zxid: leader.lastCommitted, sizeBytes: 24 };
        this.context.send(this.config.servers[sync.sid - 1], done);
      }
    }
    leader.pendingSyncs = remaining;
  }

  /** A request from one of our own clients or forwarded by a learner. */
  private leaderHandle(sid: number, sessionId: SessionId, cxid: number, request: ServerRequest): void {
    const leader = this.leader!;
    if (request.op === "sync") {
      const last = leader.outstanding.length > 0 ? leader.outstanding[leader.outstanding.length - 1].entry.header.zxid : leader.lastCommitted;
      leader.pendingSyncs.push({ zxid: last, sid, sessionId, cxid });
      this.answerSyncs();
      return;
    }
    if (request.op === "createSession") {
      leader.sessions.add(sessionId, request.timeoutMs, this.context.monotonicNow());
    } else if (request.op === "closeSession") {
      leader.sessions.markClosing(sessionId);
    } else if (!leader.sessions.touch(sessionId, this.context.monotonicNow())) {
      // PrepRequestProcessor.checkSession: a closing or closed session's request becomes an error txn
      // (ZOOKEEPER-1208) — otherwise a late ephemeral create would outlive its session.
      this.propose({ sessionId, cxid }, request, { type: "error", code: "SESSIONEXPIRED" });
      return;
    }
    this.propose({ sessionId, cxid }, request);
  }

  private onForward(forward: ZkForward): void {
    const leader = this.leader;
    if (leader === null || !leader.established || this.fromLearner(forward.sid) === null) return;
    this.leaderHandle(forward.sid, forward.sessionId, forward.cxid, forward.request);
  }

  private onLearnerPing(ping: ZkLearnerPing): void {
    const leader = this.leader;
    if (leader === null || this.fromLearner(ping.sid) === null) return;
    const now = this.context.monotonicNow();
    for (const sessionId of ping.touched) leader.sessions.touch(sessionId, now);
  }

  private onRevalidate(from: string, message: ZkRevalidate): void {
    const leader = this.leader;
    if (leader === null || !leader.established || this.fromLearner(message.sid) === null) return;
    const valid = leader.sessions.touch(message.sessionId, this.context.monotonicNow());
    const reply: ZkRevalidateReply = {
      type: "ZkRevalidateReply",
      sessionId: message.sessionId,
      valid,
      timeoutMs: leader.sessions.timeoutMs(message.sessionId),
      sizeBytes: 24,
    };
    this.context.send(from, reply);
  }

  /** Every tickTime/2: ping learners, and give up leadership without a quorum of live, synced learners. */
  private leaderTick(): void {
    const leader = this.leader!;
    const now = this.context.monotonicNow();
    const silenceUs = ms(this.config.syncLimit * this.config.tickTimeMs);
    const ping: ZkLeaderPing = { type: "ZkLeaderPing", epoch: leader.newEpoch, sizeBytes: 16 };
    let live = 1;
    for (const learner of leader.learners.values()) {
      if (learner.sid === this.sid) continue;
      const synced = learner.phase === "synced" || learner.phase === "uptodate";
      if (now - learner.lastHeardUs > (synced ? silenceUs : ms(this.config.initLimit * this.config.tickTimeMs))) {
        this.trace("zk-learner-lost", { learner: learner.name });
        leader.learners.delete(learner.sid);
        continue;
      }
      if (synced) {
        live++;
        this.context.send(learner.name, ping);
      }
    }
    if (leader.established && !this.learnerQuorum(live)) {
      this.trace("zk-leader-abandon", { reason: "lost quorum", live });
      this.lookForLeader();
      return;
    }
    this.tickTimer = this.context.setTimer(ms(this.config.tickTimeMs / 2), TIMER_TICK);
  }

  private expireSessions(): void {
    const leader = this.leader!;
    for (const sessionId of leader.sessions.expire(this.context.monotonicNow())) {
      this.trace("zk-session-expiring", { sessionId: hex(sessionId) });
      this.propose({ sessionId, cxid: 0 }, { op: "closeSession" });
      // The txn log failed: the role is over and its session tracker with it (SessionTrackerImpl.shutdown).
      if (this.leader !== leader) return;
    }
    this.expireTimer = this.context.setTimer(ms(this.config.tickTimeMs), TIMER_EXPIRE);
  }

  // ------------------------------------------------------------------------------------------- follower

  private becomeFollower(leaderSid: number): void {
    this.state = "FOLLOWING";
    const leaderName = this.config.servers[leaderSid - 1];
    this.follower = {
      leaderSid,
      leaderName,
      newEpoch: 0,
      phase: "connecting",
      lastHeardUs: this.context.monotonicNow(),
      pending: [],
      ackedZxid: 0,
      durableZxid: 0,
      touched: new Set(),
      revalidating: new Map(),
      leaderConnection: -1,
    };
    this.connectionCounter++;
    this.sendFollowerInfo();
    this.initTimer = this.context.setTimer(ms(this.config.initLimit * this.config.tickTimeMs), TIMER_INIT);
    this.tickTimer = this.context.setTimer(ms(this.config.tickTimeMs / 2), TIMER_TICK);
  }

  /** FOLLOWERINFO, repeated every tick/2 until LEADERINFO comes back (the leader may not listen yet). */
  private sendFollowerInfo(): void {
    const follower = this.follower!;
    const info: ZkFollowerInfo = {
      type: "ZkFollowerInfo",
      sid: this.sid,
      connectionId: this.context.incarnation * 2 ** 20 + this.connectionCounter,
      acceptedEpoch: this.acceptedEpoch,
      lastZxid: this.lastZxid,
      sizeBytes: 32,
    };
    this.context.send(follower.leaderName, info);
  }

  private fromLeader(from: string): FollowerState | null {
    const follower = this.follower;
    if (follower === null || from !== follower.leaderName) return null;
    if (follower.leaderConnection === -1) follower.leaderConnection = this.inbound;
    if (follower.leaderConnection !== this.inbound) {
      // The TCP connection to the leader broke (messages may be missing): Learner gives up and re-joins.
      this.trace("zk-follower-abandon", { reason: "connection to leader broken", leader: follower.leaderName });
      this.lookForLeader();
      return null;
    }
    follower.lastHeardUs = this.context.monotonicNow();
    return follower;
  }

  private onLeaderInfo(from: string, info: ZkLeaderInfo): void {
    const follower = this.fromLeader(from);
    if (follower === null || follower.phase !== "connecting") return;
    if (info.newEpoch < this.acceptedEpoch) {
      this.trace("zk-follower-abandon", { reason: "leader epoch behind ours", newEpoch: info.newEpoch, acceptedEpoch: this.acceptedEpoch });
      this.lookForLeader();
      return;
    }
    follower.newEpoch = info.newEpoch;
    const ackEpoch = (): void => {
      if (this.follower !== follower) return;
      const ack: ZkAckEpoch = { type: "ZkAckEpoch", sid: this.sid, currentEpoch: this.currentEpoch, lastZxid: this.lastZxid, sizeBytes: 32 };
      this.context.send(from, ack);
      follower.phase = "syncing";
    };
    if (info.newEpoch > this.acceptedEpoch) {
      this.storage.writeEpoch(ACCEPTED_EPOCH, info.newEpoch, () => {
        this.acceptedEpoch = info.newEpoch;
        ackEpoch();
      });
    } else {
      ackEpoch();
    }
  }

  private onSync(from: string, sync: ZkSync): void {
    const follower = this.fromLeader(from);
    if (follower === null || follower.phase !== "syncing" || sync.newEpoch !== follower.newEpoch) return;
    this.trace("zk-synced", { mode: sync.mode, txns: sync.committed.length, proposals: sync.proposals.length });
    // Every disk write below may fail, which ends the role (onIoError) or the server (die): then stop.
    if (sync.mode === "SNAP") {
      const snapshot = sync.snapshot!;
      this.tree = DataTree.fromSnapshot(snapshot.tree);
      this.committedLog = [];
      this.storage.installSnapshot(snapshot.zxid, this.tree);
      if (this.follower !== follower) return;
    } else if (sync.mode === "TRUNC") {
      this.storage.truncateAfter(sync.truncZxid!);
      if (this.follower !== follower) return;
      const recovered = this.storage.recover();
      this.tree = recovered.tree;
      this.committedLog = recovered.entries.slice(-this.config.committedLogSize);
    }
    for (const entry of sync.committed) {
      if (entry.header.zxid <= this.tree.lastProcessedZxid) continue;
      if (!this.storage.append(entry)) return;
      this.applyCommitted(entry);
      if (this.follower !== follower) return;
    }
    follower.pending = [];
    for (const entry of sync.proposals) if (!this.logProposal(follower, entry)) return;
    follower.phase = "synced";
    // NEWLEADER is acknowledged once the synced log is durable and currentEpoch is persisted.
    this.storage.flush(() => {
      if (this.follower !== follower) return;
      this.storage.writeEpoch(CURRENT_EPOCH, sync.newEpoch, () => {
        if (this.follower !== follower) return;
        this.currentEpoch = sync.newEpoch;
        const ack: ZkNewLeaderAck = { type: "ZkNewLeaderAck", sid: this.sid, newEpoch: sync.newEpoch, sizeBytes: 16 };
        this.context.send(from, ack);
        this.ackDurableProposals(follower);
      });
    });
  }

  private onUpToDate(from: string, message: ZkUpToDate): void {
    const follower = this.fromLeader(from);
    if (follower === null || follower.phase !== "synced" || message.newEpoch !== follower.newEpoch) return;
    follower.phase = "uptodate";
    this.context.cancelTimer(this.initTimer);
    this.initTimer = -1;
    this.startServing();
  }

  /** Logs a proposal to await its COMMIT; false when the txn log failed (the role is over). */
  private logProposal(follower: FollowerState, entry: ZkTxnEntry): boolean {
    if (!this.storage.append(entry)) return false;
    follower.pending.push(entry);
    return true;
  }

  private onProposal(from: string, proposal: ZkProposal): void {
    const follower = this.fromLeader(from);
    if (follower === null || follower.phase === "connecting" || follower.phase === "syncing") return;
    this.logProposal(follower, proposal.entry);
  }

  /**
   * FollowerZooKeeperServer.commit: the COMMIT is for the oldest pending proposal. ZooKeeper exits on a
   * mismatch ("Committing zxid X but next pending txn Y", ExitCode.UNMATCHED_TXN_COMMIT) and ignores a COMMIT
   * with nothing pending ("without seeing txn"); neither can happen on a gap-free FIFO stream from one leader
   * (the network retransmits a lost message or resets the connection, which fromLeader notices), so here both
   * are model invariants.
   */
  private onCommit(from: string, commit: ZkCommit): void {
    const follower = this.fromLeader(from);
    if (follower === null || follower.phase === "connecting" || follower.phase === "syncing") return;
    const next = follower.pending[0];
    assert(next !== undefined, "COMMIT with no pending proposal");
    assert(next.header.zxid === commit.zxid, "COMMIT for a proposal not at the head of the pending queue");
    follower.pending.shift();
    this.applyCommitted(next);
  }

  /** The log is durable up to `zxid`: learners acknowledge every pending proposal it covers. */
  private onLogDurable(zxid: Zxid): void {
    const leader = this.leader;
    if (leader !== null) {
      for (const proposal of leader.outstanding) {
        if (proposal.entry.header.zxid > zxid) break;
        proposal.acks.add(this.sid);
      }
      this.tryCommit();
      return;
    }
    const follower = this.follower;
    if (follower === null) return;
    follower.durableZxid = Math.max(follower.durableZxid, zxid);
    this.ackDurableProposals(follower);
  }

  /**
   * ACKs every pending proposal that is durable — but only once the learner has persisted the new epoch
   * (Learner.syncWithLeader logs the sync's proposals only after NEWLEADER and setCurrentEpoch).
   */
  private ackDurableProposals(follower: FollowerState): void {
    if (follower.phase === "connecting" || follower.phase === "syncing" || this.currentEpoch !== follower.newEpoch) return;
    for (const entry of follower.pending) {
      const pendingZxid = entry.header.zxid;
      if (pendingZxid > follower.durableZxid) break;
      if (pendingZxid <= follower.ackedZxid) continue;
      follower.ackedZxid = pendingZxid;
      const ack: ZkAck = { type: "ZkAck", sid: this.sid, zxid: pendingZxid, sizeBytes: 24 };
      this.context.send(follower.leaderName, ack);
    }
  }

  private onLeaderPing(from: string, ping: ZkLeaderPing): void {
    const follower = this.fromLeader(from);
    if (follower === null) return;
    const reply: ZkLearnerPing = { type: "ZkLearnerPing", sid: this.sid, epoch: ping.epoch, touched: [...follower.touched], sizeBytes: 32 + 8 * follower.touched.size };
    follower.touched.clear();
    this.context.send(from, reply);
  }

  private followerTick(): void {
    const follower = this.follower!;
    if (follower.phase === "connecting") this.sendFollowerInfo();
    const limitTicks = follower.phase === "uptodate" ? this.config.syncLimit : this.config.initLimit;
    if (this.context.monotonicNow() - follower.lastHeardUs > ms(limitTicks * this.config.tickTimeMs)) {
      this.trace("zk-follower-abandon", { reason: "leader silent", leader: follower.leaderName });
      this.lookForLeader();
      return;
    }
    this.tickTimer = this.context.setTimer(ms(this.config.tickTimeMs / 2), TIMER_TICK);
  }

  private onRevalidateReply(from: string, reply: ZkRevalidateReply): void {
    const follower = this.fromLeader(from);
    if (follower === null) return;
    const done = follower.revalidating.get(reply.sessionId);
    if (done === undefined) return;
    follower.revalidating.delete(reply.sessionId);
    done(reply.valid, reply.timeoutMs);
  }

  private onSyncDone(from: string, done: ZkSyncDone): void {
    if (this.fromLeader(from) === null) return;
    this.clients.complete(done.sessionId, done.cxid, { code: "OK", path: "" }, done.zxid);
  }

  // ------------------------------------------------------------------------------------------- applying

  /** Applies a committed txn to the tree (every server), fires watches, answers our own clients. */
  private applyCommitted(entry: ZkTxnEntry): void {
    const { reply, triggers } = this.tree.apply(entry);
    this.committedLog.push(entry);
    if (this.committedLog.length > this.config.committedLogSize) this.committedLog.shift();
    const { txn, header } = entry;
    if (this.state === "LEADING") this.traceCommit(entry);
    this.clients.fireWatches(triggers, header.zxid);
    if (txn.type === "createSession") {
      this.clients.onSessionCreated(header.sessionId, txn.timeoutMs);
    } else {
      this.clients.complete(header.sessionId, header.cxid, reply, header.zxid);
    }
    if (txn.type === "closeSession") {
      this.leader?.sessions.remove(header.sessionId);
      this.assertNoEphemerals(header.sessionId);
      this.clients.drop(header.sessionId, header.cxid === 0 ? "session-expired" : "session-closed");
    }
    if (++this.txnsSinceSnapshot >= this.snapshotEvery) {
      this.txnsSinceSnapshot = 0;
      this.storage.writeSnapshot(this.tree.lastProcessedZxid, this.tree);
    }
  }

  private assertNoEphemerals(sessionId: SessionId): void {
    assert(this.tree.ephemerals(sessionId).length === 0, "closeSession left ephemerals behind");
  }

  private traceCommit(entry: ZkTxnEntry): void {
    if (!this.context.tracing) return;
    const { txn, header } = entry;
    const fields: Record<string, unknown> = { zxid: hex(header.zxid), txn: txn.type, sessionId: hex(header.sessionId) };
    if (txn.type === "create" || txn.type === "delete" || txn.type === "setData") fields.path = txn.path;
    if (txn.type === "create" && txn.ephemeralOwner !== 0) fields.ephemeral = true;
    if (txn.type === "create" || txn.type === "setData") Object.assign(fields, commitEffect(txn));
    if (txn.type === "error") fields.code = txn.code;
    if (txn.type === "multi") {
      fields.ops = txn.txns.map((sub) => ("path" in sub ? `${sub.type} ${sub.path}` : sub.type));
      // What each sub-txn wrote (the viewer mirrors the data tree from these), parallel to ops.
      fields.effects = txn.txns.map(commitEffect);
    }
    if (txn.type === "closeSession") fields.expired = header.cxid === 0;
    this.context.trace("zk-commit", fields);
  }

  // ------------------------------------------------------------------------------------------- clients

  private startServing(): void {
    this.serving = true;
    if (!this.context.tracing) return;
    const fields: Record<string, unknown> = { role: this.state, epoch: this.currentEpoch, zxid: hex(this.lastZxid) };
    // A new leader's tree is the committed state: it may hold txns of an earlier epoch that no leader traced
    // as zk-commit (logged, not yet committed, when that leader died). The viewer restarts its mirror here.
    if (this.state === "LEADING") fields.tree = traceTree(this.tree);
    this.trace("zk-serving", fields);
  }

  /** A server that stops serving closes its client connections (they reconnect elsewhere). */
  private stopServing(reason: ZkDisconnect["reason"]): void {
    if (this.serving) this.trace("zk-not-serving", {});
    this.serving = false;
    this.clients.closeAll(reason);
  }

  // ConnectionsHost: what the client connections need from the server.
  get minSessionTimeoutMs(): number {
    return this.config.minSessionTimeoutMs;
  }

  get maxSessionTimeoutMs(): number {
    return this.config.maxSessionTimeoutMs;
  }

  touch(sessionId: SessionId): void {
    if (this.leader !== null) this.leader.sessions.touch(sessionId, this.context.monotonicNow());
    else this.follower?.touched.add(sessionId);
  }

  submit(sessionId: SessionId, cxid: number, request: ServerRequest): void {
    if (this.leader !== null) {
      this.leaderHandle(this.sid, sessionId, cxid, request);
      return;
    }
    const forward: ZkForward = { type: "ZkForward", sid: this.sid, sessionId, cxid, request, sizeBytes: 96 };
    this.context.send(this.follower!.leaderName, forward);
  }

  revalidate(sessionId: SessionId, done: (valid: boolean, timeoutMs: number) => void): void {
    if (this.leader !== null) {
      const valid = this.leader.sessions.touch(sessionId, this.context.monotonicNow());
      done(valid, this.leader.sessions.timeoutMs(sessionId));
      return;
    }
    const follower = this.follower!;
    follower.revalidating.set(sessionId, done);
    const revalidate: ZkRevalidate = { type: "ZkRevalidate", sid: this.sid, sessionId, sizeBytes: 24 };
    this.context.send(follower.leaderName, revalidate);
  }

  // ------------------------------------------------------------------------------------------- dispatch

  /**
   * Process.onConnectionRefused: `peer`'s process is gone and its OS reset our connection. A follower whose
   * leader it is stops following at once (Follower.followLeader's readPacket throws: "Exception when following
   * the leader") instead of after syncLimit ticks of silence; a leader drops that learner (its LearnerHandler
   * dies) and its next tick counts the quorum without it. A client's reset changes nothing: its session lives
   * until it times out (ephemeral znodes stay), as a ZooKeeper server closes only the connection.
   */
  onConnectionRefused(peer: string): void {
    if (this.fatal) return;
    if (this.state === "FOLLOWING" && this.follower !== null && this.follower.leaderName === peer) {
      this.trace("zk-follower-abandon", { reason: "leader connection reset", leader: peer });
      this.lookForLeader();
      return;
    }
    if (this.state !== "LEADING" || this.leader === null) return;
    for (const learner of this.leader.learners.values()) {
      if (learner.sid === this.sid || learner.name !== peer) continue;
      this.trace("zk-learner-lost", { learner: learner.name, reason: "connection reset" });
      this.leader.learners.delete(learner.sid);
      return;
    }
  }

  onMessage(from: string, message: Message, connection: number): void {
    if (this.fatal) return;
    this.inbound = connection;
    switch (message.type) {
      case "ZkNotification":
        return this.onNotification(message as ZkNotification);
      case "ZkConnect":
        return this.clients.onConnect(from, message as ZkConnectRequest);
      case "ZkRequest":
        return this.clients.onRequest(from, message as ZkRequest);
      case "ZkPing":
        return this.clients.onPing(from, message as ZkPing);
      case "ZkFollowerInfo":
        return this.onFollowerInfo(from, message as ZkFollowerInfo);
      case "ZkAckEpoch":
        return this.onAckEpoch(message as ZkAckEpoch);
      case "ZkNewLeaderAck":
        return this.onNewLeaderAck(message as ZkNewLeaderAck);
      case "ZkAck":
        return this.onAck(message as ZkAck);
      case "ZkForward":
        return this.onForward(message as ZkForward);
      case "ZkLearnerPing":
        return this.onLearnerPing(message as ZkLearnerPing);
      case "ZkRevalidate":
        return this.onRevalidate(from, message as ZkRevalidate);
      case "ZkLeaderInfo":
        return this.onLeaderInfo(from, message as ZkLeaderInfo);
      case "ZkSync":
        return this.onSync(from, message as ZkSync);
      case "ZkUpToDate":
        return this.onUpToDate(from, message as ZkUpToDate);
      case "ZkProposal":
        return this.onProposal(from, message as ZkProposal);
      case "ZkCommit":
        return this.onCommit(from, message as ZkCommit);
      case "ZkLeaderPing":
        return this.onLeaderPing(from, message as ZkLeaderPing);
      case "ZkRevalidateReply":
        return this.onRevalidateReply(from, message as ZkRevalidateReply);
      case "ZkSyncDone":
        return this.onSyncDone(from, message as ZkSyncDone);
      default:
        return; // not for a ZooKeeper server
    }
  }

  onTimer(tag: string): void {
    if (this.fatal) return;
    if (tag === ELECTION_TIMER_FINALIZE || tag === ELECTION_TIMER_RETRY) {
      this.election.onTimer(tag);
      return;
    }
    if (tag === TIMER_TICK) {
      this.tickTimer = -1;
      if (this.leader !== null) this.leaderTick();
      else if (this.follower !== null) this.followerTick();
    } else if (tag === TIMER_EXPIRE) {
      this.expireTimer = -1;
      if (this.leader?.established) this.expireSessions();
    } else if (tag === TIMER_INIT) {
      this.initTimer = -1;
      const established = this.leader?.established ?? this.follower?.phase === "uptodate";
      if (!established && this.state !== "LOOKING") {
        this.trace("zk-init-timeout", { role: this.state });
        this.lookForLeader();
      }
    }
  }

  private clearRoleTimers(): void {
    for (const timer of [this.tickTimer, this.expireTimer, this.initTimer]) if (timer !== -1) this.context.cancelTimer(timer);
    this.tickTimer = -1;
    this.expireTimer = -1;
    this.initTimer = -1;
  }

  private sendToServer(sid: number, message: Message): void {
    this.context.send(this.config.servers[sid - 1], message);
  }

  private trace(kind: string, fields: Record<string, unknown>): void {
    if (this.context.tracing) this.context.trace(kind, fields);
  }

  /** Epoch of the zxid this server has applied last (for tests and the viewer). */
  get appliedEpoch(): number {
    return zxidEpoch(this.tree.lastProcessedZxid);
  }
}

/**
 * What a committed (sub-)txn wrote, for the trace: a create's data and ephemeral owner, a setData's data and
 * new version; null for the others (delete, check, error).
 */
function commitEffect(txn: ZkTxn): { data: string; ephemeralOwner?: string; version?: number } | null {
  if (txn.type === "create") return txn.ephemeralOwner === 0 ? { data: txn.data } : { data: txn.data, ephemeralOwner: hex(txn.ephemeralOwner) };
  if (txn.type === "setData") return { data: txn.data, version: txn.version };
  return null;
}

/** A data tree for the trace: znodes outside /zookeeper as [path, version, ephemeralOwner or null, data], and session ids. */
export function traceTree(tree: DataTree): { znodes: [string, number, string | null, string][]; sessions: string[] } {
  const snapshot = tree.snapshot();
  const znodes = snapshot.nodes
    .filter((node) => node.path !== "/" && node.path !== "/zookeeper" && !node.path.startsWith("/zookeeper/"))
    .map((node): [string, number, string | null, string] => [node.path, node.version, node.ephemeralOwner === 0 ? null : hex(node.ephemeralOwner), node.data]);
  return { znodes, sessions: snapshot.sessions.map(([sessionId]) => hex(sessionId)) };
}
