/**
 * TCP's retransmission timing, as Linux sets it: a lost message is sent again after its retransmission timeout
 * (RTO), TCP_RTO_MIN doubled for each consecutive loss and capped at TCP_RTO_MAX, and a connection that makes
 * no progress for tcpRetransmitUs resets. It simplifies Linux: no RTT estimate (a data-centre round trip is far
 * below TCP_RTO_MIN), and one time bound for cuts and losses alike instead of tcp_retries2.
 */

import type { Micros } from "../sim/time.ts";

/**
 * 10 s: covers the short partitions of the scenarios (a few seconds), stays well below the 30 s request
 * timeouts of Kafka's clients, controller and replica fetchers (a held request normally arrives while its
 * sender still waits for it), and about where Kafka's and ZooKeeper's own idle/request timeouts would have
 * closed a real connection anyway (Linux alone would retransmit for ~15 min, tcp_retries2). The same bound
 * ends a lost message's retransmissions: 6 consecutive losses (0.2 + 0.4 + 0.8 + 1.6 + 3.2 s of RTOs, the
 * sixth transmission at 6.2 s also lost) reset the connection; TCP cannot tell a cut from a 100 % loss.
 */
export const DEFAULT_TCP_RETRANSMIT_US: Micros = 10_000_000;

/** Linux's TCP_RTO_MIN: the retransmission timeout of a connection whose round trip is far below it. */
export const TCP_RTO_MIN_US: Micros = 200_000;
/** Linux's TCP_RTO_MAX: the exponential back-off stops doubling here. */
export const TCP_RTO_MAX_US: Micros = 120_000_000;

/** The RTO after a message's `losses`-th consecutive loss: TCP_RTO_MIN doubled per loss, capped at TCP_RTO_MAX. */
export function retransmissionTimeoutUs(losses: number): Micros {
  return Math.min(TCP_RTO_MIN_US * 2 ** (losses - 1), TCP_RTO_MAX_US);
}
