/**
 * TCP's retransmission of lost messages (the `loss` fault), as Linux times it: each transmission is lost with
 * the link's loss rate, and a lost message is sent again after its retransmission timeout (RTO), TCP_RTO_MIN
 * doubled per consecutive loss and capped at TCP_RTO_MAX, until tcpRetransmitUs after its first loss resets the
 * connection. It simplifies Linux: no RTT estimate (a data-centre round trip is far below TCP_RTO_MIN), each
 * message is one segment with its own timer (as a SACK sender resends each hole), and one time bound for cuts
 * and losses alike instead of tcp_retries2.
 */

import { assert } from "../sim/assert.ts";
import type { EventTarget } from "../sim/kernel.ts";
import type { Rng } from "../sim/rng.ts";
import type { Micros } from "../sim/time.ts";
import type { World } from "../sim/world.ts";
import type { Envelope } from "./envelope.ts";

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

const EVENT_RETRANSMIT = 1;
const EVENT_GIVE_UP = 2;

/** What the retransmission of lost messages needs of the network that owns the links' connections. */
export interface LossyLinks {
  /** The envelope's link index. */
  linkOf(envelope: Envelope): number;
  /** The link's current loss rate. */
  lossRate(link: number): number;
  /** Samples the envelope's delivery time and sets its delivery event. */
  schedule(link: number, envelope: Envelope): void;
  /** Resets the link's connection: everything undelivered is dropped (reason `loss`). */
  resetLost(link: number): void;
}

/** Counters of the network's stats that retransmission updates. */
export interface RetransmitStats {
  lost: number;
  retransmitted: number;
}

/** Draws losses and runs each lost envelope's RTO timer. */
export class Retransmission implements EventTarget {
  constructor(
    private readonly world: World,
    private readonly rng: Rng,
    private readonly tcpRetransmitUs: Micros,
    private readonly stats: RetransmitStats,
    private readonly links: LossyLinks,
  ) {}

  /** Draws whether one transmission at loss rate `rate` is lost, from the network's stream. */
  lost(rate: number): boolean {
    return rate > 0 && this.rng.float() < rate;
  }

  /**
   * The envelope's transmission was lost: TCP sends it again after its RTO, doubled for each consecutive loss;
   * if that would come tcpRetransmitUs or more after its first loss, the connection gives up then and resets.
   */
  lose(envelope: Envelope): void {
    const kernel = this.world.kernel;
    const now = kernel.now;
    this.stats.lost++;
    if (envelope.losses === 0) envelope.lostAt = now;
    envelope.losses++;
    const retransmitAt = now + retransmissionTimeoutUs(envelope.losses);
    const giveUpAt = envelope.lostAt + this.tcpRetransmitUs;
    envelope.timer =
      retransmitAt < giveUpAt
        ? kernel.at(retransmitAt, this, EVENT_RETRANSMIT, envelope)
        : kernel.at(giveUpAt, this, EVENT_GIVE_UP, envelope);
  }

  /** The RTO expired: the lost envelope is transmitted again (and may be lost again). */
  private retransmit(envelope: Envelope): void {
    envelope.timer = -1;
    const link = this.links.linkOf(envelope);
    this.stats.retransmitted++;
    const trace = this.world.trace;
    if (trace.on) {
      const hosts = this.world.hosts;
      trace.emit(hosts[envelope.src].name, "retransmit", {
        to: hosts[envelope.dst].name,
        type: envelope.message!.type,
        mid: envelope.mid,
        attempt: envelope.losses,
        rtoUs: retransmissionTimeoutUs(envelope.losses),
      });
    }
    if (this.lost(this.links.lossRate(link))) {
      this.lose(envelope);
      return;
    }
    envelope.losses = 0;
    this.links.schedule(link, envelope);
  }

  describeEvent(kind: number, a: unknown, _b: unknown): string {
    const envelope = a as Envelope;
    const hosts = this.world.hosts;
    const what = kind === EVENT_RETRANSMIT ? "retransmits" : "gives up retransmitting";
    return `network ${what} ${envelope.message?.type ?? "?"} ${hosts[envelope.src].name} → ${hosts[envelope.dst].name}`;
  }

  handleEvent(kind: number, a: unknown, _b: unknown): void {
    const envelope = a as Envelope;
    if (kind === EVENT_RETRANSMIT) {
      this.retransmit(envelope);
      return;
    }
    assert(kind === EVENT_GIVE_UP, `unknown retransmission event kind ${kind}`);
    envelope.timer = -1;
    this.links.resetLost(this.links.linkOf(envelope));
  }
}
