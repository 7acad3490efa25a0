/**
 * ZooKeeper's FastLeaderElection as a timer-driven state machine. A LOOKING server bumps its logical
 * clock (election epoch), votes for itself with (currentEpoch, lastLoggedZxid, sid), broadcasts, and
 * adopts any better vote it hears (higher epoch, then zxid, then sid). Once a quorum of votes in its
 * round agrees with its own, it waits finalizeWait (200 ms) for a better one and decides. Servers already
 * FOLLOWING or LEADING answer a LOOKING server with the leader they follow, so a restarted server rejoins
 * an established ensemble (FastLeaderElection's outofelection set). Simplification: the retransmit
 * interval doubles from finalizeWait up to `maxNotificationIntervalMs`, standing in for
 * QuorumCnxManager resending on reconnection.
 */

import type { TimerId } from "../sim/kernel.ts";
import { betterVote, sameLeader, sameVote, type ServerState, type Vote, type ZkNotification } from "./quorum.ts";

export interface ElectionHost {
  readonly sid: number;
  /** Every server's sid, self included. */
  readonly sids: readonly number[];
  sendTo(sid: number, message: ZkNotification): void;
  setTimer(delayMs: number, tag: string): TimerId;
  cancelTimer(id: TimerId): void;
  /** The election is over: follow or lead `vote.leader`. */
  decide(vote: Vote, electionEpoch: number): void;
}

export interface ElectionConfig {
  finalizeWaitMs: number;
  maxNotificationIntervalMs: number;
}

export const ELECTION_TIMER_FINALIZE = "fle-finalize";
export const ELECTION_TIMER_RETRY = "fle-retry";

export class FastLeaderElection {
  logicalclock = 0;
  proposal: Vote = { leader: 0, zxid: 0, peerEpoch: 0 };
  private ownVote: Vote = this.proposal;
  private recvset = new Map<number, Vote>();
  private outofelection = new Map<number, { vote: Vote; state: ServerState; electionEpoch: number }>();
  private looking = false;
  private finalizeTimer: TimerId = -1;
  private retryTimer: TimerId = -1;
  private retryMs: number;

  constructor(
    private readonly host: ElectionHost,
    private readonly config: ElectionConfig,
  ) {
    this.retryMs = config.finalizeWaitMs;
  }

  get isLooking(): boolean {
    return this.looking;
  }

  /** Starts a new round voting for ourselves. */
  start(ownVote: Vote): void {
    this.looking = true;
    this.logicalclock++;
    this.ownVote = ownVote;
    this.proposal = ownVote;
    this.recvset = new Map([[this.host.sid, ownVote]]);
    this.outofelection = new Map();
    this.retryMs = this.config.finalizeWaitMs;
    this.broadcast();
    this.armRetry();
    // A one-server ensemble is its own quorum (ZooKeeper runs it standalone, without an election).
    this.evaluate();
  }

  stop(): void {
    this.looking = false;
    this.host.cancelTimer(this.finalizeTimer);
    this.host.cancelTimer(this.retryTimer);
    this.finalizeTimer = -1;
    this.retryTimer = -1;
  }

  notification(state: ServerState): ZkNotification {
    return { type: "ZkNotification", sid: this.host.sid, state, electionEpoch: this.logicalclock, vote: this.proposal, sizeBytes: 48 };
  }

  onNotification(n: ZkNotification): void {
    if (!this.looking) return;
    if (n.state === "LOOKING") {
      if (n.electionEpoch > this.logicalclock) {
        // A newer round: start over from our own initial vote, as FastLeaderElection does.
        this.logicalclock = n.electionEpoch;
        this.proposal = betterVote(n.vote, this.ownVote) ? n.vote : this.ownVote;
        this.recvset = new Map([[this.host.sid, this.proposal]]);
        this.broadcast();
      } else if (n.electionEpoch < this.logicalclock) {
        // A straggler from an older round: tell it where we are.
        this.host.sendTo(n.sid, this.notification("LOOKING"));
        return;
      } else if (betterVote(n.vote, this.proposal)) {
        this.proposal = n.vote;
        this.recvset.set(this.host.sid, this.proposal);
        this.broadcast();
      }
      this.recvset.set(n.sid, n.vote);
      this.evaluate();
      return;
    }
    // The sender follows or leads an established ensemble.
    if (n.electionEpoch === this.logicalclock) {
      this.recvset.set(n.sid, n.vote);
      if (this.hasQuorum(this.recvset, n.vote) && this.checkLeader(n.vote.leader, n.electionEpoch)) {
        this.finish(n.vote, n.electionEpoch);
        return;
      }
    }
    this.outofelection.set(n.sid, { vote: n.vote, state: n.state, electionEpoch: n.electionEpoch });
    const out = new Map<number, Vote>();
    for (const [sid, entry] of this.outofelection) out.set(sid, entry.vote);
    // Votes of established servers are equal when they name one leader (Vote.equals for servers out of
    // election, ZOOKEEPER-1732): those that joined in different rounds decided different zxids and epochs.
    if (this.hasQuorum(out, n.vote, sameLeader) && this.checkLeader(n.vote.leader, n.electionEpoch)) {
      this.logicalclock = n.electionEpoch;
      this.finish(n.vote, n.electionEpoch);
    }
  }

  onTimer(tag: string): boolean {
    if (tag === ELECTION_TIMER_FINALIZE) {
      this.finalizeTimer = -1;
      if (this.looking && this.hasQuorum(this.recvset, this.proposal)) this.finish(this.proposal, this.logicalclock);
      return true;
    }
    if (tag === ELECTION_TIMER_RETRY) {
      this.retryTimer = -1;
      if (!this.looking) return true;
      this.broadcast();
      this.retryMs = Math.min(this.retryMs * 2, this.config.maxNotificationIntervalMs);
      this.armRetry();
      return true;
    }
    return false;
  }

  private evaluate(): void {
    this.host.cancelTimer(this.finalizeTimer);
    this.finalizeTimer = -1;
    if (this.hasQuorum(this.recvset, this.proposal)) {
      this.finalizeTimer = this.host.setTimer(this.config.finalizeWaitMs, ELECTION_TIMER_FINALIZE);
    }
  }

  private finish(vote: Vote, electionEpoch: number): void {
    this.proposal = vote;
    this.stop();
    this.host.decide(vote, electionEpoch);
  }

  /** The leader of an out-of-election quorum must itself say it leads (or be us, in our round). */
  private checkLeader(leader: number, electionEpoch: number): boolean {
    if (leader === this.host.sid) return electionEpoch === this.logicalclock;
    const entry = this.outofelection.get(leader);
    return entry !== undefined && entry.state === "LEADING";
  }

  private hasQuorum(votes: Map<number, Vote>, vote: Vote, same: (a: Vote, b: Vote) => boolean = sameVote): boolean {
    let agreeing = 0;
    for (const v of votes.values()) if (same(v, vote)) agreeing++;
    return agreeing * 2 > this.host.sids.length;
  }

  private broadcast(): void {
    const message = this.notification("LOOKING");
    for (const sid of this.host.sids) if (sid !== this.host.sid) this.host.sendTo(sid, message);
  }

  private armRetry(): void {
    this.host.cancelTimer(this.retryTimer);
    this.retryTimer = this.host.setTimer(this.retryMs, ELECTION_TIMER_RETRY);
  }
}
