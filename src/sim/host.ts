/**
 * Hosts and processes. A host is a machine: a name, a network address, a disk, a local clock and one
 * process. The process is an explicit message-and-timer state machine (onStart / onMessage / onTimer); it
 * reaches the world only through its ProcessContext, which is tied to one incarnation of the process. When
 * the host crashes, the context dies with it: every timer, message and I/O completion addressed to that
 * incarnation is dropped, so a crash cancels everything the process had pending, and `restart` builds a
 * fresh process that knows only what its disk holds.
 *
 * Failure kinds (DESIGN.md): `crash` (kill -9; the OS page cache survives, and the OS resets the process's
 * connections), `power-loss` (the machine dies; unsynced disk data is lost but for torn prefixes — the disk
 * decides which), `machine-crash` (a kernel panic or hard reset: silent like a power loss, the page cache is
 * lost, but the device, still powered, tears no write), `pause` (a GC pause or a stopped VM: nothing is
 * handled, then everything that arrived meanwhile is handled with stale state), `shutdown` (clean stop: the
 * process's onShutdown runs first). A process may also end itself (ProcessContext.exit, System.exit): the
 * same clean stop, after the event that asked for it.
 */

import { assert } from "./assert.ts";
import type { Kernel, EventTarget, TimerId } from "./kernel.ts";
import type { Rng } from "./rng.ts";
import type { Trace, TraceFields } from "./trace.ts";
import type { Micros } from "./time.ts";

/** A message on the virtual network. `type` is the Kafka or ZooKeeper request/response name. */
export interface Message {
  readonly type: string;
  /** Approximate size on the wire in bytes (bandwidth caps); the network assumes 100 when absent. */
  readonly sizeBytes?: number;
}

/** What a host needs from the network layer (implemented in src/net). */
export interface Transport {
  send(from: HostAddress, to: string, message: Message): void;
  /**
   * The host's process is gone while its machine stays up (crash, shutdown): its OS closes its connections, so
   * the peers that had one hear of it (Process.onConnectionRefused). Not called on a power loss.
   */
  processGone?(host: HostAddress): void;
}

/** A host's name and dense index in its world (its network address). */
export interface HostAddress {
  readonly name: string;
  readonly index: number;
}

/** What a host needs from its disk (implemented in src/disk). */
export interface HostDisk {
  /** The process was killed: the page cache survives, in-flight fsyncs still complete. */
  onCrash(): void;
  /** The machine lost power: unsynced data is lost except torn prefixes drawn from `rng`. */
  onPowerLoss(rng: Rng): void;
  /** The machine's kernel crashed: the page cache is lost, the device tears nothing. Absent: as onPowerLoss. */
  onMachineCrash?(rng: Rng): void;
}

export interface Process {
  /** Called once per incarnation, right after construction: recover from disk, arm timers. */
  onStart(): void;
  /**
   * `connection` identifies the TCP connection the message came on (the network's link epoch): it changes
   * when the link from `from` was broken in between, so a protocol that relies on TCP's gap-free order
   * (ZAB, Kafka's fetch sessions) can tell a reconnection from a gap-free stream.
   */
  onMessage(from: string, message: Message, connection: number): void;
  onTimer(tag: string, data: unknown): void;
  /** Clean stop (the `shutdown` fault): flush, write markers, close sessions. Runs before the host stops. */
  onShutdown?(): void;
  /**
   * A clean stop that needs a conversation first (a Kafka broker's controlled shutdown): return true to take
   * charge and call `done` when ready — the host then runs onShutdown and stops; false to stop at once.
   */
  beginShutdown?(done: () => void): boolean;
  /**
   * A message to `peer` met a TCP reset: the peer's machine is up but no process of the incarnation the
   * connection was made to runs there (it crashed, was stopped, or restarted since), so its OS refused or reset
   * the connection — as a Java NetworkClient sees a disconnect. Not called for a powered-off or paused peer:
   * nothing answers, and the sender only learns by a timeout. Optional: processes without it are not told.
   */
  onConnectionRefused?(peer: string): void;
}

export type ProcessFactory<D extends HostDisk = HostDisk> = (context: ProcessContext<D>) => Process;

export type HostState = "stopped" | "running" | "paused" | "crashed" | "powered-off" | "machine-crashed";

/** The machine itself is down (no OS to reset connections): a power loss or a kernel crash. */
export function machineDown(state: HostState): boolean {
  return state === "powered-off" || state === "machine-crashed";
}

/**
 * A host's clocks. The wall clock (System.currentTimeMillis) reads the virtual time plus an offset and runs
 * fast or slow by driftPpm; the `clock-skew` fault steps and drifts it. The monotonic clock
 * (System.nanoTime) drifts with the same oscillator but never steps and never goes back: code that measures
 * elapsed time the way Kafka and ZooKeeper do with nanoTime (session expiry, liveness) reads it.
 */
export class LocalClock {
  private offsetUs = 0;
  private driftPpm = 0;
  private anchorUs = 0;
  /** The monotonic reading at anchorUs. */
  private monotonicAtAnchorUs = 0;

  /** Wall-clock reading at virtual time `now`. */
  read(now: Micros): Micros {
    if (this.driftPpm === 0) return now + this.offsetUs;
    return now + this.offsetUs + Math.floor(((now - this.anchorUs) * this.driftPpm) / 1_000_000);
  }

  /** Monotonic reading at virtual time `now`: drifts, never steps. */
  readMonotonic(now: Micros): Micros {
    const elapsed = now - this.anchorUs;
    return this.monotonicAtAnchorUs + elapsed + Math.floor((elapsed * this.driftPpm) / 1_000_000);
  }

  /** Virtual µs that elapse while this clock advances `localDelay` µs. */
  toVirtualDelay(localDelay: Micros): Micros {
    if (this.driftPpm === 0) return localDelay;
    return Math.max(0, Math.ceil((localDelay * 1_000_000) / (1_000_000 + this.driftPpm)));
  }

  /** Steps the wall clock by `deltaUs` and sets the drift from now on (the `clock-skew` fault). */
  skew(now: Micros, deltaUs: Micros, driftPpm: number): void {
    assert(driftPpm > -1_000_000, "clock drift must keep the clock running forwards");
    const wall = this.read(now);
    this.monotonicAtAnchorUs = this.readMonotonic(now);
    this.offsetUs = wall - now + deltaUs;
    this.anchorUs = now;
    this.driftPpm = driftPpm;
  }

  /** Back to the true time (healing a skew); the monotonic clock just stops drifting. */
  reset(now: Micros): void {
    this.monotonicAtAnchorUs = this.readMonotonic(now);
    this.anchorUs = now;
    this.offsetUs = 0;
    this.driftPpm = 0;
  }
}

const EVENT_TIMER = 1;
const EVENT_CALLBACK = 3;
const EVENT_RESUME = 4;
const EVENT_MESSAGE_ON = 5;
const EVENT_REFUSED = 6;
const EVENT_EXIT = 8;

/** A process's handle on the world, valid for one incarnation. */
export class ProcessContext<D extends HostDisk = HostDisk> implements EventTarget {
  alive = true;

  constructor(
    readonly host: Host<D>,
    readonly incarnation: number,
    /** This incarnation's random stream. */
    readonly rng: Rng,
  ) {}

  get node(): string {
    return this.host.name;
  }

  get disk(): D {
    return this.host.disk;
  }

  /** The host's wall clock in µs (stepped and drifted by a clock-skew fault): System.currentTimeMillis. */
  now(): Micros {
    return this.host.clock.read(this.host.kernel.now);
  }

  /** The host's monotonic clock in µs (drifts, never steps): System.nanoTime, for measuring elapsed time. */
  monotonicNow(): Micros {
    return this.host.clock.readMonotonic(this.host.kernel.now);
  }

  /** Calls process.onTimer(tag, data) after `delayUs` of local time, unless the process dies first. */
  setTimer(delayUs: Micros, tag: string, data?: unknown): TimerId {
    return this.host.kernel.after(this.host.clock.toVirtualDelay(delayUs), this, EVENT_TIMER, tag, data);
  }

  /**
   * cancelTimer(id) then setTimer(delayUs, tag, data), as one call: the new timer's handle. A pending timer moved
   * no earlier keeps its handle and its place in the kernel's queue (Kernel.postpone), with the same order among
   * same-time events as the cancel and set would give; for a timer re-armed on every wake-up.
   */
  resetTimer(id: TimerId, delayUs: Micros, tag: string, data?: unknown): TimerId {
    const kernel = this.host.kernel;
    const delay = this.host.clock.toVirtualDelay(delayUs);
    assert(delay >= 0 && Number.isInteger(delay), "delay is not a non-negative integer");
    const time = kernel.now + delay;
    if (kernel.postpone(id, time, this, EVENT_TIMER, tag, data)) return id;
    this.cancelTimer(id);
    return kernel.at(time, this, EVENT_TIMER, tag, data);
  }

  /** Cancels a timer, also one that fired while the host was paused and waits to be handled on resume. */
  cancelTimer(id: TimerId): boolean {
    return this.host.kernel.cancel(id) || this.host.cancelParkedTimer(id);
  }

  send(to: string, message: Message): void {
    if (!this.alive) return;
    this.host.transport.send(this.host, to, message);
  }

  /**
   * Runs `callback` now if this incarnation is alive and running, later (on resume) if the host is paused,
   * never if it died. Used by the disk for I/O completions.
   */
  invoke(callback: () => void): void {
    if (!this.alive) return;
    if (this.host.state === "paused") {
      this.host.defer(this, EVENT_CALLBACK, callback, undefined);
      return;
    }
    callback();
  }

  get tracing(): boolean {
    return this.host.trace.on;
  }

  /** Whether an event of `kind` reaches a sink or an observer (Trace.wants): for the hottest call sites. */
  wants(kind: string): boolean {
    return this.host.trace.wants(kind);
  }

  /** Whether an event of `kind` needs every field (Trace.wantsAllFields). */
  wantsAllFields(kind: string): boolean {
    return this.host.trace.wantsAllFields(kind);
  }

  trace(kind: string, fields?: TraceFields): void {
    this.host.trace.emit(this.host.name, kind, fields);
  }

  /**
   * The process ends itself (System.exit): once the current event is handled, the host stops it as a clean stop
   * (Host.requestShutdown: Process.beginShutdown, then onShutdown), as the JVM runs its shutdown hooks — Kafka's
   * calls KafkaServer.shutdown. The host ends "stopped"; `restart` starts it again. Not Runtime.halt, which runs
   * no hook: a process that models that stops handling events itself.
   */
  exit(): void {
    if (!this.alive) return;
    this.host.kernel.after(0, this, EVENT_EXIT, undefined, undefined);
  }

  /** Delivers a message to this incarnation (called by the network at delivery time). */
  deliver(from: string, message: Message, connection = 0): void {
    if (!this.alive) return;
    if (this.host.state === "paused") {
      this.host.defer(this, EVENT_MESSAGE_ON, from, { message, connection });
      return;
    }
    this.host.process!.onMessage(from, message, connection);
  }

  /** The network met a TCP reset from `peer` on a message of this incarnation (Process.onConnectionRefused). */
  connectionRefused(peer: string): void {
    if (!this.alive || this.host.process!.onConnectionRefused === undefined) return;
    if (this.host.state === "paused") {
      this.host.defer(this, EVENT_REFUSED, peer, undefined);
      return;
    }
    this.host.process!.onConnectionRefused(peer);
  }

  handleEvent(kind: number, a: unknown, b: unknown): void {
    if (!this.alive) return;
    const host = this.host;
    if (host.state === "paused") {
      host.defer(this, kind, a, b, kind === EVENT_TIMER ? host.kernel.currentEventId : -1);
      return;
    }
    const process = host.process!;
    switch (kind) {
      case EVENT_TIMER:
        process.onTimer(a as string, b);
        return;
      case EVENT_MESSAGE_ON: {
        const parked = b as { message: Message; connection: number };
        process.onMessage(a as string, parked.message, parked.connection);
        return;
      }
      case EVENT_CALLBACK:
        (a as () => void)();
        return;
      case EVENT_REFUSED:
        process.onConnectionRefused?.(a as string);
        return;
      case EVENT_EXIT:
        host.trace.emit(host.name, "host-exit", { incarnation: this.incarnation });
        host.requestShutdown();
        return;
      default:
        assert(false, `unknown process event kind ${kind}`);
    }
  }

  describeEvent(kind: number, a: unknown, b: unknown): string {
    const name = this.host.name;
    if (kind === EVENT_TIMER) return `${name} timer ${String(a)}`;
    if (kind === EVENT_MESSAGE_ON) return `${name} receives ${(b as { message: Message }).message.type} from ${String(a)}`;
    if (kind === EVENT_REFUSED) return `${name} connection refused by ${String(a)}`;
    if (kind === EVENT_EXIT) return `${name} process exits`;
    return `${name} callback`;
  }
}

interface DeferredEvent {
  context: ProcessContext<HostDisk>;
  kind: number;
  a: unknown;
  b: unknown;
  /** A timer's handle (-1 for other events): cancelTimer still cancels it while it waits. */
  timerId: TimerId;
  cancelled: boolean;
}

/** A parked event replayed after a resume (a Host event kind, beside EVENT_RESUME). */
const EVENT_REPLAY = 7;

export class Host<D extends HostDisk = HostDisk> implements EventTarget, HostAddress {
  state: HostState = "stopped";
  /** A clean stop was requested and the process is preparing for it (Process.beginShutdown). */
  shutdownPending = false;
  incarnation = 0;
  context: ProcessContext<D> | null = null;
  process: Process | null = null;
  readonly clock = new LocalClock();
  private deferred: DeferredEvent[] = [];
  /** Parked events scheduled to run after a resume, until they run. */
  private replaying: DeferredEvent[] = [];
  /** Replays run in the order they were scheduled: those before this index have run. */
  private replayHead = 0;
  private resumeTimer: TimerId = -1;

  constructor(
    readonly name: string,
    /** Dense index of this host in its world (the network's address). */
    readonly index: number,
    readonly kernel: Kernel,
    readonly trace: Trace,
    readonly transport: Transport,
    readonly disk: D,
    factory: ProcessFactory<D>,
    /** This host's random stream; each incarnation forks its own from it. */
    private readonly rng: Rng,
  ) {
    this.builder = { create: factory };
  }

  // Method syntax keeps Host<D> assignable to Host<HostDisk> (method parameters are bivariant).
  private readonly builder: { create(context: ProcessContext<D>): Process };

  get running(): boolean {
    return this.state === "running";
  }

  /** Starts (or restarts) the process; it rebuilds its state from the disk in onStart. */
  start(): void {
    assert(this.state !== "running" && this.state !== "paused", `${this.name}: start while ${this.state}`);
    this.incarnation++;
    const context = new ProcessContext<D>(this, this.incarnation, this.rng.fork(`incarnation-${this.incarnation}`));
    this.context = context;
    this.state = "running";
    this.trace.emit(this.name, "host-start", { incarnation: this.incarnation });
    this.process = this.builder.create(context);
    this.process.onStart();
  }

  /** kill -9: the process and everything it had pending are gone; the disk's page cache survives. */
  crash(): void {
    if (!this.isUp()) return;
    this.kill("crashed");
    this.disk.onCrash();
    this.trace.emit(this.name, "host-crash", { incarnation: this.incarnation });
  }

  /** The machine dies: as crash, and the disk loses what was not synced (except torn prefixes). */
  powerLoss(): void {
    const wasUp = this.isUp();
    if (wasUp) this.kill("powered-off");
    else this.state = "powered-off";
    this.trace.emit(this.name, "host-power-loss", { incarnation: this.incarnation });
    this.disk.onPowerLoss(this.rng.fork(`power-loss-${this.kernel.now}`));
  }

  /** The machine's kernel crashes: as a power loss for the network (no resets), the disk loses its page cache. */
  machineCrash(): void {
    const wasUp = this.isUp();
    if (wasUp) this.kill("machine-crashed");
    else this.state = "machine-crashed";
    this.trace.emit(this.name, "host-machine-crash", { incarnation: this.incarnation });
    const rng = this.rng.fork(`machine-crash-${this.kernel.now}`);
    if (this.disk.onMachineCrash !== undefined) this.disk.onMachineCrash(rng);
    else this.disk.onPowerLoss(rng);
  }

  /** Clean stop: the process's onShutdown runs (flush, markers, goodbyes), then the host is stopped. */
  shutdown(): void {
    if (!this.isUp()) return;
    if (this.state === "paused") this.resume();
    this.process!.onShutdown?.();
    this.kill("stopped");
    this.trace.emit(this.name, "host-shutdown", { incarnation: this.incarnation });
  }

  /**
   * A clean stop the process may first prepare for (Process.beginShutdown), as `kafka-server-stop` lets a
   * broker move its leaderships away before it exits. Falls back to shutdown() at once.
   */
  requestShutdown(): void {
    if (!this.isUp()) return;
    if (this.state === "paused") this.resume();
    if (this.shutdownPending) return;
    const context = this.context!;
    const done = (): void => {
      if (context.alive && this.context === context) this.shutdown();
    };
    this.shutdownPending = true;
    if (this.process!.beginShutdown?.(done) !== true) this.shutdown();
  }

  /** Handles nothing for `durationUs`, then resumes with stale state and a backlog of events. */
  pause(durationUs: Micros): void {
    if (this.state !== "running") return;
    this.state = "paused";
    this.trace.emit(this.name, "host-pause", { durationUs });
    this.resumeTimer = this.kernel.after(durationUs, this, EVENT_RESUME, this.incarnation, undefined);
  }

  /** Ends a pause early (or on time): everything that arrived meanwhile is handled now, in arrival order. */
  resume(): void {
    if (this.state !== "paused") return;
    this.kernel.cancel(this.resumeTimer);
    this.state = "running";
    const backlog = this.deferred;
    this.deferred = [];
    this.trace.emit(this.name, "host-resume", { backlog: backlog.length });
    for (const event of backlog) this.kernel.after(0, this, EVENT_REPLAY, event, undefined);
    for (const event of backlog) this.replaying.push(event);
  }

  /** Parks an event that reached a paused process. */
  defer(context: ProcessContext<D>, kind: number, a: unknown, b: unknown, timerId: TimerId = -1): void {
    this.deferred.push({ context: context as unknown as ProcessContext<HostDisk>, kind, a, b, timerId, cancelled: false });
  }

  /** Cancels a timer that fired while the host was paused (parked, or scheduled for replay after the resume). */
  cancelParkedTimer(id: TimerId): boolean {
    if (id < 0) return false;
    for (const event of this.deferred) {
      if (event.timerId !== id || event.cancelled) continue;
      event.cancelled = true;
      return true;
    }
    for (let i = this.replayHead; i < this.replaying.length; i++) {
      const event = this.replaying[i];
      if (event.timerId !== id || event.cancelled) continue;
      event.cancelled = true;
      return true;
    }
    return false;
  }

  describeEvent(kind: number, a: unknown): string {
    if (kind === EVENT_REPLAY) {
      const event = a as DeferredEvent;
      return event.context.describeEvent(event.kind, event.a, event.b);
    }
    return `${this.name} resumes`;
  }

  handleEvent(kind: number, a: unknown): void {
    if (kind === EVENT_REPLAY) {
      const event = a as DeferredEvent;
      // Replays run in the order they were scheduled; one of an incarnation that died since is not in the list.
      if (this.replaying[this.replayHead] === event && ++this.replayHead === this.replaying.length) {
        this.replaying = [];
        this.replayHead = 0;
      }
      if (event.cancelled || !event.context.alive) return;
      // Paused again before it ran: park it again, as it is (a timer keeps its handle).
      if (this.state === "paused") this.deferred.push(event);
      else event.context.handleEvent(event.kind, event.a, event.b);
      return;
    }
    assert(kind === EVENT_RESUME, `unknown host event kind ${kind}`);
    if (a === this.incarnation) this.resume();
  }

  /** True while a process exists (running or paused). */
  isUp(): boolean {
    return this.state === "running" || this.state === "paused";
  }

  private kill(next: HostState): void {
    const hadProcess = this.context !== null;
    this.killProcess(next);
    if (hadProcess && !machineDown(next)) this.transport.processGone?.(this);
  }

  private killProcess(next: HostState): void {
    this.shutdownPending = false;
    if (this.resumeTimer !== -1) this.kernel.cancel(this.resumeTimer);
    this.resumeTimer = -1;
    this.deferred = [];
    this.replaying = [];
    this.replayHead = 0;
    if (this.context !== null) this.context.alive = false;
    this.context = null;
    this.process = null;
    this.state = next;
  }
}
