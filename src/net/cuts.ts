/**
 * A cut link's TCP connection: it keeps retransmitting for tcpRetransmitUs, holding what was in flight and what
 * is sent during the cut, and delivers that in order on the same connection if the cut heals in time; else it
 * resets, and sends are dropped until the heal. It simplifies TCP: a heal retransmits at once (no RTO
 * back-off), and nobody is told of a reset.
 */

import { assert } from "../sim/assert.ts";
import type { EventTarget } from "../sim/kernel.ts";
import type { Micros } from "../sim/time.ts";
import type { World } from "../sim/world.ts";
import type { Envelope } from "./envelope.ts";
import { relayLinks } from "./link-arrays.ts";

/** Link connection states (`Cuts.mode`). */
export const OPEN = 0;
/** Cut, within tcpRetransmitUs: messages are held. */
export const HOLDING = 1;
/** Cut for longer than tcpRetransmitUs: the connection was reset; sends are dropped until the heal. */
export const RESET = 2;

const EVENT_RESET = 1;

/** What the cut machinery needs of the network that owns the links' connections. */
export interface Connections {
  /** Empties the link's in-flight list, cancelling its timers; returns the old head (a linked list). */
  takeInFlight(link: number): Envelope | null;
  /** Puts the envelope in flight, last on its link. */
  transmit(link: number, envelope: Envelope): void;
  /** Resets the link's connection: everything undelivered is dropped (reason `partition`). */
  resetCut(link: number): void;
  /** Counts a heal's retransmissions. */
  retransmitted(count: number): void;
}

/** The per-link cut state, indexed src * n + dst: connection mode, cut start, reset timer and held queue. */
export class Cuts implements EventTarget {
  /** OPEN, HOLDING or RESET; a link is cut in HOLDING and RESET. */
  mode = new Uint8Array(0);
  /** Messages held per link. */
  heldCount = new Uint32Array(0);
  /** When the current cut began (HOLDING and RESET links). */
  private cutSince = new Float64Array(0);
  /** The pending EVENT_RESET of a HOLDING link. */
  private resetTimer = new Float64Array(0);
  /** Held envelopes per link, in send order (linked through next). */
  private heldHead: (Envelope | null)[] = [];
  private heldTail: (Envelope | null)[] = [];
  private n = 0;

  constructor(
    private readonly world: World,
    private readonly tcpRetransmitUs: Micros,
    private readonly connections: Connections,
  ) {}

  /** Re-lays the arrays from old×old to n×n links; links to and from new hosts start open. */
  grow(n: number): void {
    const old = this.n;
    const size = n * n;
    const move = <A extends { [index: number]: unknown }>(from: A, to: A): A => relayLinks(from, to, old, n);
    const links = (): (Envelope | null)[] => new Array<Envelope | null>(size).fill(null);
    this.mode = move(this.mode, new Uint8Array(size));
    this.cutSince = move(this.cutSince, new Float64Array(size));
    this.resetTimer = move(this.resetTimer, new Float64Array(size).fill(-1));
    this.heldCount = move(this.heldCount, new Uint32Array(size));
    this.heldHead = move(this.heldHead, links());
    this.heldTail = move(this.heldTail, links());
    this.n = n;
  }

  /** Appends the envelope to the link's held queue (send order). */
  hold(link: number, envelope: Envelope): void {
    envelope.prev = null;
    envelope.next = null;
    envelope.timer = -1;
    const tail = this.heldTail[link];
    if (tail === null) this.heldHead[link] = envelope;
    else tail.next = envelope;
    this.heldTail[link] = envelope;
    this.heldCount[link]++;
  }

  /** Empties the link's held queue; returns the old head (a linked list). */
  takeHeld(link: number): Envelope | null {
    const head = this.heldHead[link];
    this.heldHead[link] = null;
    this.heldTail[link] = null;
    this.heldCount[link] = 0;
    return head;
  }

  /**
   * The link was just cut: TCP keeps retransmitting what is in flight (it moves, in order, to the held queue)
   * until the heal or tcpRetransmitUs, whichever comes first.
   */
  begin(link: number): void {
    const kernel = this.world.kernel;
    const now = kernel.now;
    this.cutSince[link] = now;
    this.mode[link] = HOLDING;
    if (this.tcpRetransmitUs === 0) {
      this.connections.resetCut(link);
      return;
    }
    // Scheduled, retransmitting and blocked alike: the heal sends them again, in order.
    for (let envelope = this.connections.takeInFlight(link); envelope !== null; ) {
      const next = envelope.next;
      envelope.losses = 0;
      envelope.arrived = false;
      this.hold(link, envelope);
      envelope = next;
    }
    const n = this.n;
    this.resetTimer[link] = kernel.at(now + this.tcpRetransmitUs, this, EVENT_RESET, Math.floor(link / n), link % n);
  }

  /**
   * The cut healed: a held connection retransmits its queue at once, in order (a `loss` rule still in force may
   * lose some again); a reset one starts afresh.
   */
  end(link: number): void {
    const mode = this.mode[link];
    this.mode[link] = OPEN;
    if (mode !== HOLDING) return;
    const timer = this.resetTimer[link];
    if (timer >= 0) this.world.kernel.cancel(timer);
    this.resetTimer[link] = -1;
    const count = this.heldCount[link];
    if (count === 0) return;
    this.connections.retransmitted(count);
    const trace = this.world.trace;
    if (trace.on) {
      const n = this.n;
      const hosts = this.world.hosts;
      const cutUs = this.world.kernel.now - this.cutSince[link];
      trace.emit(hosts[Math.floor(link / n)].name, "retransmit", { to: hosts[link % n].name, count, cutUs });
    }
    for (let envelope = this.takeHeld(link); envelope !== null; ) {
      const next = envelope.next;
      this.connections.transmit(link, envelope);
      envelope = next;
    }
  }

  describeEvent(_kind: number, a: unknown, b: unknown): string {
    const hosts = this.world.hosts;
    return `network reset of ${hosts[a as number].name} → ${hosts[b as number].name}`;
  }

  /** The cut outlasted tcpRetransmitUs: the connection resets. */
  handleEvent(kind: number, a: unknown, b: unknown): void {
    assert(kind === EVENT_RESET, `unknown cut event kind ${kind}`);
    const link = (a as number) * this.n + (b as number);
    this.resetTimer[link] = -1;
    if (this.mode[link] === HOLDING) this.connections.resetCut(link);
  }
}
