/**
 * The virtual network: one TCP connection per ordered pair of hosts, delivering each link's messages in send
 * order or not at all, with sampled latency, per-link bandwidth and fault rules (rules.ts). A message sent after
 * one being retransmitted (retransmit.ts) waits for it at the receiver (head-of-line blocking); a cut link holds
 * its messages until the heal (cuts.ts); a connection that makes no progress for `tcpRetransmitUs` resets: its
 * undelivered messages are dropped and the link epoch is bumped. It simplifies TCP: no segments, windows or
 * ACKs; of resets only processes that ask (Process.onConnectionRefused) are told: when a message meets a peer whose
 * process is gone, and at once when a peer they had a connection to crashes or stops (its OS closes the
 * connection; not on a power loss or a machine crash, nor across a cut link from that peer: the reset is lost); in-flight and held messages from a crashed sender are still delivered, and a
 * message that reaches a paused host counts as delivered when it arrives (the host handles it on resume).
 */

import { assert } from "../sim/assert.ts";
import { machineDown, type Host, type HostAddress, type Message, type Transport } from "../sim/host.ts";
import type { EventTarget } from "../sim/kernel.ts";
import type { Rng } from "../sim/rng.ts";
import type { Micros } from "../sim/time.ts";
import type { Trace } from "../sim/trace.ts";
import type { World } from "../sim/world.ts";
import { Cuts, HOLDING, OPEN, RESET } from "./cuts.ts";
import { Envelope } from "./envelope.ts";
import { latencySampler, type LatencySpec } from "./latency.ts";
import { DEFAULT_TCP_RETRANSMIT_US, Retransmission } from "./retransmit.ts";
import { checkBandwidth, compileRules, type NetworkRule, type RuleId } from "./rules.ts";
import { relayLinks } from "./link-arrays.ts";

export { sampleLatency, latencySampler, validateLatency, minLatency, type LatencySpec } from "./latency.ts";
export {
  DEFAULT_TCP_RETRANSMIT_US,
  TCP_RTO_MAX_US,
  TCP_RTO_MIN_US,
  retransmissionTimeoutUs,
} from "./retransmit.ts";
export type { NetworkRule, RuleId } from "./rules.ts";

export interface NetworkConfig {
  /** One-way latency of every link, sampled per message. */
  latency: LatencySpec;
  /** Default bandwidth cap of every link; absent means unlimited. */
  bandwidthBytesPerSec?: number;
  /**
   * How long a stalled connection survives (TCP retransmitting) before it resets: a cut healed within this time
   * delivers what it held, in order, on the same connection, and a lost message retransmitted within this time
   * of its first loss arrives, in order. 0 resets at once. Default DEFAULT_TCP_RETRANSMIT_US.
   */
  tcpRetransmitUs?: Micros;
}

/** Why a message was dropped (the `reason` of a `drop` trace event). */
export type DropReason = "partition" | "loss" | "host-down";

/** The effective state of one directed link (for inspection and tests). */
export interface LinkState {
  cut: boolean;
  lossRate: number;
  extraDelayUs: Micros;
  /** Infinity when unlimited. */
  bandwidthBytesPerSec: number;
  slowFactor: number;
  /** Bumped each time the link's connection resets (a cut, or a message's retransmissions, outlasting tcpRetransmitUs). */
  epoch: number;
  /** Messages held by the cut, waiting for the heal (TCP retransmission). */
  held: number;
  /** Messages lost on the way and waiting for their retransmission (the `loss` fault). */
  retransmitting: number;
  /** Messages that arrived and wait at the receiver behind an earlier one being retransmitted. */
  blocked: number;
}

export interface NetworkStats {
  /** send() calls, including messages dropped right away. */
  sent: number;
  delivered: number;
  dropped: number;
  /** Transmissions lost to the `loss` fault (TCP retransmits them; a lost message is not dropped). */
  lost: number;
  /**
   * Retransmissions: one per retransmission of a lost message, and one per message held by a cut and sent
   * again at its heal (each message ends once in `delivered` or `dropped`).
   */
  retransmitted: number;
  /** Connections reset by a cut, or a message's retransmissions, that outlasted tcpRetransmitUs. */
  resets: number;
}

const DEFAULT_SIZE_BYTES = 100;
const EVENT_DELIVER = 1;

export class Network implements Transport, EventTarget {
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, lost: 0, retransmitted: 0, resets: 0 };
  readonly tcpRetransmitUs: Micros;

  private readonly rng: Rng;
  private readonly trace: Trace;
  private readonly hosts: readonly Host[];
  private readonly sampleLatency: () => Micros;
  private readonly baseBandwidth: number;
  private ruleList: NetworkRule[] = [];
  private nextRuleId = 1;
  private nextMid = 0;
  private pool: Envelope[] = [];
  private readonly cuts: Cuts;
  private readonly retransmission: Retransmission;

  // Per-link state, indexed src.index * n + dst.index.
  private n = 0;
  private cut: Uint8Array = new Uint8Array(0);
  private lossRate: Float64Array = new Float64Array(0);
  private extraDelay: Float64Array = new Float64Array(0);
  private bandwidthCap: Float64Array = new Float64Array(0);
  private slowFactor: Float64Array = new Float64Array(0);
  private epoch = new Uint32Array(0);
  /** 1 once the link has carried a message: its sender has a connection the receiver's OS closes when its process dies. */
  private connected: Uint8Array = new Uint8Array(0);
  private lastDeliverAt = new Float64Array(0);
  private busyUntil = new Float64Array(0);
  /**
   * Envelopes per link not yet delivered, in send order (doubly linked through prev/next): scheduled for
   * delivery, waiting for a retransmission, or arrived and blocked behind one.
   */
  private flightHead: (Envelope | null)[] = [];
  private flightTail: (Envelope | null)[] = [];

  constructor(
    private readonly world: World,
    config: NetworkConfig,
  ) {
    this.rng = world.rng.fork("net");
    this.trace = world.trace;
    this.hosts = world.hosts;
    this.sampleLatency = latencySampler(config.latency, this.rng);
    const bandwidth = config.bandwidthBytesPerSec;
    if (bandwidth !== undefined) checkBandwidth(bandwidth);
    this.baseBandwidth = bandwidth ?? Infinity;
    const retransmit = config.tcpRetransmitUs ?? DEFAULT_TCP_RETRANSMIT_US;
    assert(Number.isFinite(retransmit) && retransmit >= 0, `tcpRetransmitUs must be a finite number >= 0, got ${retransmit}`);
    this.tcpRetransmitUs = Math.round(retransmit);
    this.cuts = new Cuts(world, this.tcpRetransmitUs, {
      takeInFlight: (link) => this.takeInFlight(link),
      transmit: (link, envelope) => this.transmit(link, envelope),
      resetCut: (link) => this.reset(link, "partition"),
      retransmitted: (count) => (this.stats.retransmitted += count),
    });
    this.retransmission = new Retransmission(world, this.rng, this.tcpRetransmitUs, this.stats, {
      linkOf: (envelope) => envelope.src * this.n + envelope.dst,
      lossRate: (link) => this.lossRate[link],
      schedule: (link, envelope) => this.schedule(link, envelope),
      resetLost: (link) => this.reset(link, "loss"),
    });
    world.setTransport(this);
    this.grow();
  }

  // ---------------------------------------------------------------------------------------------- messages

  send(from: HostAddress, to: string, message: Message): void {
    const dst = this.world.findHost(to);
    if (dst === undefined) assert(false, `${from.name} sent ${message.type} to unknown host ${to}`);
    if (this.n !== this.hosts.length) this.grow();
    const link = from.index * this.n + dst.index;
    this.connected[link] = 1;
    const mid = ++this.nextMid;
    this.stats.sent++;
    if (this.trace.wants("send")) {
      const bytes = message.sizeBytes ?? DEFAULT_SIZE_BYTES;
      this.trace.emit(from.name, "send", { to, type: message.type, mid, bytes });
    }
    if (this.cut[link] !== 0 && this.cuts.mode[link] !== HOLDING) {
      this.drop(from.name, to, message, mid, "partition");
      return;
    }

    const envelope = this.pool.length > 0 ? this.pool.pop()! : new Envelope();
    envelope.losses = 0;
    envelope.arrived = false;
    envelope.src = from.index;
    envelope.dst = dst.index;
    envelope.message = message;
    envelope.mid = mid;
    envelope.incarnation = dst.incarnation;
    envelope.sizeBytes = message.sizeBytes ?? DEFAULT_SIZE_BYTES;
    if (this.cut[link] !== 0) this.cuts.hold(link, envelope);
    else this.transmit(link, envelope);
  }

  /** Puts the envelope in flight, last on its link: to be delivered, or lost and retransmitted. */
  private transmit(link: number, envelope: Envelope): void {
    const tail = this.flightTail[link];
    envelope.prev = tail;
    envelope.next = null;
    if (tail === null) this.flightHead[link] = envelope;
    else tail.next = envelope;
    this.flightTail[link] = envelope;
    const retransmission = this.retransmission;
    if (retransmission.lost(this.lossRate[link])) retransmission.lose(envelope);
    else this.schedule(link, envelope);
  }

  /** Samples the envelope's delivery time (after the link's previous delivery) and sets its delivery event. */
  private schedule(link: number, envelope: Envelope): void {
    const now = this.world.kernel.now;
    let ready = now;
    const bandwidth = this.bandwidthCap[link];
    if (bandwidth !== Infinity) {
      const busy = this.busyUntil[link];
      ready = (busy > now ? busy : now) + Math.ceil((envelope.sizeBytes * 1_000_000) / bandwidth);
      this.busyUntil[link] = ready;
    }
    let latency = this.sampleLatency();
    const slow = this.slowFactor[link];
    if (slow !== 1) latency = Math.round(latency * slow);
    let deliverAt = ready + latency + this.extraDelay[link];
    const last = this.lastDeliverAt[link];
    if (deliverAt < last) deliverAt = last;
    this.lastDeliverAt[link] = deliverAt;

    envelope.timer = this.world.kernel.at(deliverAt, this, EVENT_DELIVER, envelope);
  }

  private unlinkFlight(link: number, envelope: Envelope): void {
    const prev = envelope.prev;
    const next = envelope.next;
    if (prev === null) this.flightHead[link] = next;
    else prev.next = next;
    if (next === null) this.flightTail[link] = prev;
    else next.prev = prev;
    envelope.prev = null;
    envelope.next = null;
  }

  private release(envelope: Envelope): void {
    envelope.message = null;
    envelope.prev = null;
    envelope.next = null;
    envelope.timer = -1;
    this.pool.push(envelope);
  }

  describeEvent(_kind: number, a: unknown, _b: unknown): string {
    const envelope = a as Envelope;
    return `network delivers ${envelope.message?.type ?? "?"} ${this.hosts[envelope.src].name} → ${this.hosts[envelope.dst].name}`;
  }

  handleEvent(kind: number, a: unknown, _b: unknown): void {
    if (kind !== EVENT_DELIVER) assert(false, `unknown network event kind ${kind}`);
    let envelope = a as Envelope;
    envelope.timer = -1;
    if (envelope.prev !== null) {
      // An earlier message on the link is being retransmitted: this one waits for it (head-of-line blocking).
      envelope.arrived = true;
      return;
    }
    const link = envelope.src * this.n + envelope.dst;
    for (;;) {
      this.deliver(link, envelope);
      const head = this.flightHead[link];
      if (head === null || !head.arrived) return;
      envelope = head;
    }
  }

  /**
   * Hands the link's first undelivered envelope to its receiver on the link's current connection (or drops it:
   * host down). A reset empties the in-flight list and cancels every timer of it, so an envelope delivered here
   * was sent on the current connection.
   */
  private deliver(link: number, envelope: Envelope): void {
    assert(this.flightHead[link] === envelope, "a delivered envelope is the first on its link's in-flight list");
    const src = envelope.src;
    const dstIndex = envelope.dst;
    const message = envelope.message!;
    const mid = envelope.mid;
    const incarnation = envelope.incarnation;
    this.unlinkFlight(link, envelope);
    this.release(envelope);

    const hosts = this.hosts;
    const dst = hosts[dstIndex];
    if (!dst.isUp() || dst.incarnation !== incarnation) {
      this.drop(hosts[src].name, dst.name, message, mid, "host-down");
      // The peer's OS answers with a reset unless the machine itself is down: off or its kernel crashed (Process.onConnectionRefused).
      // Unless the peer's process died with this connection open (its OS closed it then, and the sender was told).
      // The reset travels back on the reverse link: a cut there loses it (the next message after the heal meets it).
      if (!machineDown(dst.state) && this.connected[link] === 1 && this.cut[dstIndex * this.n + src] === 0) hosts[src].context?.connectionRefused(dst.name);
      return;
    }
    this.stats.delivered++;
    const srcName = hosts[src].name;
    if (this.trace.wants("deliver")) this.trace.emit(dst.name, "deliver", { from: srcName, type: message.type, mid });
    dst.context!.deliver(srcName, message, this.epoch[link]);
  }

  /**
   * Transport.processGone: every peer with a connection to `host` hears that its OS closed it; the connections
   * are gone. A peer that `host` cannot reach (its link to the peer is cut) does not hear the FIN/RST: its
   * connection stays open until its next message after the heal meets the reset (deliver).
   */
  processGone(host: HostAddress): void {
    if (this.n !== this.hosts.length) this.grow();
    const n = this.n;
    const dst = host.index;
    for (let src = 0; src < n; src++) {
      if (src !== dst && this.cut[dst * n + src] !== 0) continue;
      const link = src * n + dst;
      const wasConnected = this.connected[link] === 1;
      this.connected[link] = 0;
      this.connected[dst * n + src] = 0;
      if (wasConnected && src !== dst) this.hosts[src].context?.connectionRefused(host.name);
    }
  }

  /** Messages sent but neither delivered nor dropped yet. */
  get inFlight(): number {
    return this.stats.sent - this.stats.delivered - this.stats.dropped;
  }

  private drop(from: string, to: string, message: Message, mid: number, reason: DropReason): void {
    this.stats.dropped++;
    if (this.trace.on) this.trace.emit(from, "drop", { to, type: message.type, mid, reason });
  }

  // ------------------------------------------------------------------------------------------------ faults

  /** Cuts every link between nodes of different groups, both ways; nodes in no group keep every link. */
  partition(groups: string[][]): RuleId {
    const seen = new Set<string>();
    for (const group of groups) {
      for (const name of group) {
        this.checkNode(name);
        assert(!seen.has(name), `partition lists ${name} in more than one group`);
        seen.add(name);
      }
    }
    return this.addRule({ id: this.nextRuleId++, kind: "partition", groups: groups.map((group) => group.slice()) });
  }

  /** Cuts the links from every node of `from` to every node of `to`; the reverse direction keeps working. */
  partitionOneWay(from: string[], to: string[]): RuleId {
    this.checkNodes(from);
    this.checkNodes(to);
    return this.addRule({ id: this.nextRuleId++, kind: "partition-one-way", from: from.slice(), to: to.slice() });
  }

  /**
   * Loses each transmission on the selected links with probability `rate` (rules combine as 1 - Π(1 - r)); TCP
   * retransmits a lost message after its RTO, and later messages on the link wait for it.
   */
  loss(rate: number, from?: string[], to?: string[]): RuleId {
    assert(Number.isFinite(rate) && rate >= 0 && rate <= 1, `loss rate must be in [0, 1], got ${rate}`);
    const rule = { id: this.nextRuleId++, kind: "loss" as const, rate };
    return this.addRule({ ...rule, from: this.selector(from), to: this.selector(to) });
  }

  /** Adds `extraUs` to the latency of the selected links (rules add up). */
  delay(extraUs: Micros, from?: string[], to?: string[]): RuleId {
    assert(Number.isFinite(extraUs) && extraUs >= 0, `extra delay must be a finite number >= 0, got ${extraUs}`);
    const rule = { id: this.nextRuleId++, kind: "delay" as const, extraUs: Math.round(extraUs) };
    return this.addRule({ ...rule, from: this.selector(from), to: this.selector(to) });
  }

  /** Caps the bandwidth of each selected link (the smallest cap wins). */
  bandwidth(bytesPerSec: number, from?: string[], to?: string[]): RuleId {
    checkBandwidth(bytesPerSec);
    const rule = { id: this.nextRuleId++, kind: "bandwidth" as const, bytesPerSec };
    return this.addRule({ ...rule, from: this.selector(from), to: this.selector(to) });
  }

  /** Multiplies the latency of every link from or to `node` by `factor` (several rules multiply). */
  slowNode(node: string, factor: number): RuleId {
    this.checkNode(node);
    assert(Number.isFinite(factor) && factor > 0, `slow-node factor must be a finite number > 0, got ${factor}`);
    return this.addRule({ id: this.nextRuleId++, kind: "slow-node", node, factor });
  }

  /** Ends one rule; returns false when it is not active. */
  removeRule(id: RuleId): boolean {
    const index = this.ruleList.findIndex((rule) => rule.id === id);
    if (index < 0) return false;
    this.ruleList.splice(index, 1);
    this.recompute();
    return true;
  }

  /** Removes every rule. */
  heal(): void {
    if (this.ruleList.length === 0) return;
    this.ruleList = [];
    this.recompute();
  }

  /** The active rules, oldest first. */
  get rules(): readonly NetworkRule[] {
    return this.ruleList;
  }

  /** True when messages from `from` to `to` are not cut by a partition (they may still be lost). */
  canReach(from: string, to: string): boolean {
    return this.cut[this.linkIndex(from, to)] === 0;
  }

  linkState(from: string, to: string): LinkState {
    const link = this.linkIndex(from, to);
    let retransmitting = 0;
    let blocked = 0;
    for (let envelope = this.flightHead[link]; envelope !== null; envelope = envelope.next) {
      if (envelope.losses > 0) retransmitting++;
      if (envelope.arrived) blocked++;
    }
    return {
      cut: this.cut[link] !== 0,
      lossRate: this.lossRate[link],
      extraDelayUs: this.extraDelay[link],
      bandwidthBytesPerSec: this.bandwidthCap[link],
      slowFactor: this.slowFactor[link],
      epoch: this.epoch[link],
      held: this.cuts.heldCount[link],
      retransmitting,
      blocked,
    };
  }

  // --------------------------------------------------------------------------------------------- internals

  private linkIndex(from: string, to: string): number {
    const src = this.world.findHost(from);
    const dst = this.world.findHost(to);
    if (src === undefined || dst === undefined) assert(false, `no link ${from} -> ${to}: unknown host`);
    if (this.n !== this.hosts.length) this.grow();
    return src.index * this.n + dst.index;
  }

  private checkNode(name: string): void {
    if (this.world.findHost(name) === undefined) assert(false, `network rule names unknown host ${name}`);
  }

  private checkNodes(names: readonly string[]): void {
    for (const name of names) this.checkNode(name);
  }

  private selector(names: string[] | undefined): string[] | null {
    if (names === undefined) return null;
    this.checkNodes(names);
    return names.slice();
  }

  private addRule(rule: NetworkRule): RuleId {
    this.ruleList.push(rule);
    if (this.n !== this.hosts.length) this.grow();
    else this.recompute();
    return rule.id;
  }

  /** Re-lays the link arrays for the current host count, keeping each link's connection state. */
  private grow(): void {
    const old = this.n;
    const n = this.hosts.length;
    const size = n * n;
    const move = <A extends { [index: number]: unknown }>(from: A, to: A): A => relayLinks(from, to, old, n);
    const links = (): (Envelope | null)[] => new Array<Envelope | null>(size).fill(null);
    this.cut = move(this.cut, new Uint8Array(size));
    this.epoch = move(this.epoch, new Uint32Array(size));
    this.connected = move(this.connected, new Uint8Array(size));
    this.lastDeliverAt = move(this.lastDeliverAt, new Float64Array(size));
    this.busyUntil = move(this.busyUntil, new Float64Array(size));
    this.flightHead = move(this.flightHead, links());
    this.flightTail = move(this.flightTail, links());
    this.cuts.grow(n);
    this.n = n;
    this.recompute();
  }

  /** Rebuilds the rule-derived link state from the rule list; a link that goes from open to cut is reset. */
  private recompute(): void {
    const faults = compileRules(this.ruleList, this.n, (name) => this.indexOf(name), this.baseBandwidth);
    const previous = this.cut;
    const cut = faults.cut;
    this.cut = cut;
    this.lossRate = faults.lossRate;
    this.extraDelay = faults.extraDelay;
    this.bandwidthCap = faults.bandwidthCap;
    this.slowFactor = faults.slowFactor;
    // Connection transitions last, so retransmissions use the new latency, delay and bandwidth.
    const size = this.n * this.n;
    for (let link = 0; link < size; link++) {
      if (cut[link] !== 0 && previous[link] === 0) this.cuts.begin(link);
      else if (cut[link] === 0 && previous[link] !== 0) this.cuts.end(link);
    }
  }

  /**
   * Empties the link's in-flight queue, cancelling each delivery or retransmission timer; returns the old head
   * (a linked list).
   */
  private takeInFlight(link: number): Envelope | null {
    const kernel = this.world.kernel;
    const head = this.flightHead[link];
    this.flightHead[link] = null;
    this.flightTail[link] = null;
    for (let envelope = head; envelope !== null; envelope = envelope.next) {
      if (envelope.timer >= 0) kernel.cancel(envelope.timer);
      envelope.timer = -1;
    }
    return head;
  }

  /**
   * TCP gave up: a cut outlasted tcpRetransmitUs (`partition`; the link stays reset until the heal), or a lost
   * message was still lost tcpRetransmitUs after its first loss (`loss`; the link opens a new connection at
   * once). The connection resets, dropping everything not yet delivered.
   */
  private reset(link: number, reason: DropReason): void {
    this.cuts.mode[link] = this.cut[link] !== 0 ? RESET : OPEN;
    this.stats.resets++;
    this.epoch[link]++;
    this.lastDeliverAt[link] = 0;
    this.busyUntil[link] = 0;
    const hosts = this.hosts;
    const n = this.n;
    const from = hosts[Math.floor(link / n)].name;
    const to = hosts[link % n].name;
    // Empty at a cut's reset (beginCut moved them to the held queue) unless tcpRetransmitUs is 0.
    this.dropAll(this.takeInFlight(link), from, to, reason);
    this.dropAll(this.cuts.takeHeld(link), from, to, reason);
  }

  /** Drops every envelope of a linked list, in order, and returns each to the pool. */
  private dropAll(head: Envelope | null, from: string, to: string, reason: DropReason): void {
    for (let envelope = head; envelope !== null; ) {
      const next = envelope.next;
      this.drop(from, to, envelope.message!, envelope.mid, reason);
      this.release(envelope);
      envelope = next;
    }
  }

  private indexOf(name: string): number {
    return this.world.host(name).index;
  }
}
