/**
 * The consumer's group liveness timers, as Kafka's Heartbeat.java: the heartbeat timer (heartbeat.interval.ms
 * after each heartbeat sent; retry.backoff.ms after one failed), the session timer (session.timeout.ms after each
 * heartbeat answered, or the coordinator found) and the poll timer (max.poll.interval.ms after each poll()).
 * Times are µs of the host's monotonic clock; a timer "expires" when its deadline is reached.
 */

import { assert } from "../../sim/assert.ts";
import type { Micros } from "../../sim/time.ts";

export interface HeartbeatConfig {
  readonly sessionTimeoutUs: Micros;
  readonly heartbeatIntervalUs: Micros;
  /** max.poll.interval.ms (GroupRebalanceConfig.rebalanceTimeoutMs). */
  readonly maxPollIntervalUs: Micros;
  readonly retryBackoffUs: Micros;
}

export class Heartbeat {
  private heartbeatDeadlineUs: Micros;
  private sessionDeadlineUs: Micros;
  private pollDeadlineUs: Micros;
  /** µs of the last heartbeat sent (0: none yet, as lastHeartbeatSend). */
  lastHeartbeatSendUs: Micros = 0;
  heartbeatInFlight = false;

  constructor(
    private readonly config: HeartbeatConfig,
    nowUs: Micros,
  ) {
    assert(config.heartbeatIntervalUs < config.sessionTimeoutUs, "heartbeat.interval.ms must be lower than session.timeout.ms");
    this.heartbeatDeadlineUs = nowUs + config.heartbeatIntervalUs;
    this.sessionDeadlineUs = nowUs + config.sessionTimeoutUs;
    this.pollDeadlineUs = nowUs + config.maxPollIntervalUs;
  }

  /** Heartbeat.poll: the application called poll(). */
  poll(nowUs: Micros): void {
    this.pollDeadlineUs = nowUs + this.config.maxPollIntervalUs;
  }

  sentHeartbeat(nowUs: Micros): void {
    this.lastHeartbeatSendUs = nowUs;
    this.heartbeatInFlight = true;
    this.heartbeatDeadlineUs = nowUs + this.config.heartbeatIntervalUs;
  }

  failHeartbeat(nowUs: Micros): void {
    this.heartbeatInFlight = false;
    this.heartbeatDeadlineUs = nowUs + this.config.retryBackoffUs;
  }

  receiveHeartbeat(nowUs: Micros): void {
    this.heartbeatInFlight = false;
    this.sessionDeadlineUs = nowUs + this.config.sessionTimeoutUs;
  }

  shouldHeartbeat(nowUs: Micros): boolean {
    return nowUs >= this.heartbeatDeadlineUs;
  }

  timeToNextHeartbeatUs(nowUs: Micros): Micros {
    return Math.max(0, this.heartbeatDeadlineUs - nowUs);
  }

  sessionTimeoutExpired(nowUs: Micros): boolean {
    return nowUs >= this.sessionDeadlineUs;
  }

  pollTimeoutExpired(nowUs: Micros): boolean {
    return nowUs >= this.pollDeadlineUs;
  }

  /** Heartbeat.java's reset of its timeouts: the heartbeat thread is enabled (a JoinGroup answered). */
  restartTimeouts(nowUs: Micros): void {
    this.sessionDeadlineUs = nowUs + this.config.sessionTimeoutUs;
    this.pollDeadlineUs = nowUs + this.config.maxPollIntervalUs;
    this.heartbeatDeadlineUs = nowUs + this.config.heartbeatIntervalUs;
  }

  resetSessionTimeout(nowUs: Micros): void {
    this.sessionDeadlineUs = nowUs + this.config.sessionTimeoutUs;
  }

  /** The earliest deadline the heartbeat thread must look at again. */
  nextDeadlineUs(): Micros {
    return Math.min(this.heartbeatDeadlineUs, this.sessionDeadlineUs, this.pollDeadlineUs);
  }
}
