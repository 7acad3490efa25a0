/**
 * The leader's session tracker (SessionTrackerImpl): every session has a deadline rounded up to the next
 * tickTime boundary (expiration buckets); a touch — any request or ping from the client, reported by the
 * server it is connected to — moves the deadline; the leader's expirer checks every tick and proposes a
 * closeSession for each session past its deadline. A new leader starts every known session afresh with a
 * full timeout, as ZooKeeper's leader does on startup.
 */

import type { SessionId } from "../protocol/zk.ts";
import type { Micros } from "../sim/time.ts";

interface TrackedSession {
  timeoutUs: Micros;
  deadlineUs: Micros;
  /** A closeSession has been proposed: no more touches. */
  closing: boolean;
}

export class SessionTracker {
  private readonly sessions = new Map<SessionId, TrackedSession>();

  constructor(private readonly tickUs: Micros) {}

  private roundUp(time: Micros): Micros {
    return Math.ceil(time / this.tickUs) * this.tickUs;
  }

  add(sessionId: SessionId, timeoutMs: number, now: Micros): void {
    const timeoutUs = timeoutMs * 1000;
    this.sessions.set(sessionId, { timeoutUs, deadlineUs: this.roundUp(now + timeoutUs), closing: false });
  }

  remove(sessionId: SessionId): void {
    this.sessions.delete(sessionId);
  }

  /** False when the session is unknown or already closing (the client must be told it expired). */
  touch(sessionId: SessionId, now: Micros): boolean {
    const session = this.sessions.get(sessionId);
    if (session === undefined || session.closing) return false;
    session.deadlineUs = Math.max(session.deadlineUs, this.roundUp(now + session.timeoutUs));
    return true;
  }

  isActive(sessionId: SessionId): boolean {
    const session = this.sessions.get(sessionId);
    return session !== undefined && !session.closing;
  }

  timeoutMs(sessionId: SessionId): number {
    return (this.sessions.get(sessionId)?.timeoutUs ?? 0) / 1000;
  }

  markClosing(sessionId: SessionId): void {
    const session = this.sessions.get(sessionId);
    if (session !== undefined) session.closing = true;
  }

  /** Sessions past their deadline and not yet closing, in insertion order; they are marked closing. */
  expire(now: Micros): SessionId[] {
    const expired: SessionId[] = [];
    for (const [sessionId, session] of this.sessions) {
      if (!session.closing && session.deadlineUs <= now) {
        session.closing = true;
        expired.push(sessionId);
      }
    }
    return expired;
  }

  get size(): number {
    return this.sessions.size;
  }
}
