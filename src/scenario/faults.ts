/**
 * The fault injector: turns a scenario's fault list into kernel events. Each fault fires at its `at` (a
 * range is drawn from the seed's "faults" stream), resolves its node selectors at that moment, applies
 * itself to the hosts, network or disks, and — with `until`/`for` — schedules its own end. At the end of
 * `duration` the settle phase begins: every fault is healed, every stopped node restarted, and faults not
 * yet fired are skipped (as Jepsen stops its nemesis before the final reads).
 */

import type { Disk } from "../disk/disk.ts";
import type { Network, RuleId } from "../net/network.ts";
import { assert, unreachable } from "../sim/assert.ts";
import type { Host } from "../sim/host.ts";
import type { EventTarget } from "../sim/kernel.ts";
import type { Rng } from "../sim/rng.ts";
import { ms, parseDuration, type Micros } from "../sim/time.ts";
import type { World } from "../sim/world.ts";
import type { Fault, NodeRef } from "./spec.ts";
import type { AdminOperation } from "../broker/admin.ts";

/** A fault's own settings for its trace event (everything but its schedule and selectors). */
function describe(fault: Fault): Record<string, unknown> {
  const { at: _at, until: _until, for: _for, node: _node, nodes: _nodes, from: _from, to: _to, ...rest } = fault as Fault &
    Record<string, unknown>;
  return rest;
}

/** The fault's `note` for a trace event that lists its fields explicitly. */
function note(fault: Fault): { note?: string } {
  return fault.note === undefined ? {} : { note: fault.note };
}

const EVENT_FAULT = 1;
const EVENT_END = 2;

/** The trace node that faults are recorded on. */
export const NEMESIS = "nemesis";

export interface FaultTargets {
  world: World;
  network: Network;
  disks: ReadonlyMap<string, Disk>;
  /** Named groups for {"random": group} selectors: group → candidate node names. */
  groups: ReadonlyMap<string, readonly string[]>;
  /** Resolves role selectors ("zk-leader", "controller", "leaderOf:<tp>", "coordinatorOf:<group>", "transactionCoordinatorOf:<id>") at firing time; null when nobody holds the role. */
  special(selector: string): string | null;
  /** Hands an admin operation to the admin tool; false when there is none. */
  admin?(operation: AdminOperation): boolean;
}

/** A selector named a role nobody holds right now: the fault is skipped (and traced as such). */
class NoTarget extends Error {}

export class FaultInjector implements EventTarget {
  private settled = false;
  private readonly timeRng: Rng;
  private readonly selectorRng: Rng;
  fired = 0;

  constructor(private readonly targets: FaultTargets) {
    this.timeRng = targets.world.rng.fork("faults");
    this.selectorRng = targets.world.rng.fork("selectors");
  }

  /** Schedules every fault of the list; returns the chosen firing times (µs), in list order. */
  schedule(faults: readonly Fault[]): Micros[] {
    return faults.map((fault) => {
      const at = this.drawTime(fault.at);
      this.targets.world.kernel.at(at, this, EVENT_FAULT, fault, undefined);
      return at;
    });
  }

  /** Applies a fault now, as if it had been scheduled for this moment (the nemesis's entry point). */
  inject(fault: Fault): void {
    this.handleEvent(EVENT_FAULT, fault, undefined);
  }

  handleEvent(kind: number, a: unknown, b: unknown): void {
    if (kind === EVENT_FAULT) {
      const fault = a as Fault;
      if (this.settled) {
        this.trace("fault-skipped", { type: fault.type, reason: "settling" });
        return;
      }
      try {
        this.apply(fault);
      } catch (error) {
        if (!(error instanceof NoTarget)) throw error;
        this.trace("fault-skipped", { type: fault.type, reason: error.message });
      }
    } else if (kind === EVENT_END) {
      if (this.settled) return;
      (a as () => void)();
      this.trace("fault-end", { type: (b as Fault).type });
    }
  }

  /** Heals everything and restarts every stopped node: the start of the settle phase. */
  settle(): void {
    this.settled = true;
    const { world, network, disks } = this.targets;
    network.heal();
    for (const disk of disks.values()) disk.clearFaults();
    for (const host of world.hosts) {
      host.clock.reset(world.now);
      if (host.state === "paused") host.resume();
      // A clean stop still preparing (a controlled shutdown that cannot reach its controller) finishes now,
      // so every node is running for the settle phase.
      if (host.shutdownPending) host.shutdown();
      if (!host.isUp()) host.start();
    }
    this.trace("settle", {});
  }

  private apply(fault: Fault): void {
    const { network } = this.targets;
    let nodes: string[] = [];
    let undo: (() => void) | null = null;
    switch (fault.type) {
      case "crash":
        nodes = this.resolve(fault.node);
        nodes.forEach((node) => this.host(node).crash());
        undo = () => nodes.forEach((node) => this.restart(node));
        break;
      case "shutdown":
      case "controlled-shutdown":
        nodes = this.resolve(fault.node);
        nodes.forEach((node) => this.host(node).requestShutdown());
        undo = () => nodes.forEach((node) => this.restart(node));
        break;
      case "restart":
        nodes = this.resolve(fault.node);
        nodes.forEach((node) => this.restart(node));
        break;
      case "power-loss":
        nodes =
          fault.node !== undefined
            ? this.resolve(fault.node)
            : fault.nodes !== undefined
              ? this.resolveAll(fault.nodes)
              : this.targets.world.hosts.map((host) => host.name);
        nodes.forEach((node) => this.host(node).powerLoss());
        undo = () => nodes.forEach((node) => this.restart(node));
        break;
      case "machine-crash":
        nodes = this.resolve(fault.node);
        nodes.forEach((node) => this.host(node).machineCrash());
        undo = () => nodes.forEach((node) => this.restart(node));
        break;
      case "pause": {
        nodes = this.resolve(fault.node);
        const duration = parseDuration(fault.for)!;
        nodes.forEach((node) => this.host(node).pause(duration));
        break;
      }
      case "partition": {
        let rule: RuleId;
        if (fault.groups !== undefined) {
          const groups = this.resolveGroups(fault.groups);
          nodes = groups.flat();
          rule = network.partition(groups);
          this.trace("fault", { type: fault.type, groups, ...note(fault) });
        } else {
          const from = this.resolveAll(fault.from!);
          const to = this.resolveAll(fault.to!);
          nodes = [...from, ...to];
          rule = network.partitionOneWay(from, to);
          this.trace("fault", { type: fault.type, from, to, ...note(fault) });
        }
        this.fired++;
        this.scheduleEnd(fault, () => network.removeRule(rule));
        return;
      }
      case "heal":
        network.heal();
        break;
      case "loss":
      case "delay":
      case "bandwidth": {
        const from = this.resolveOptional(fault.from);
        const to = this.resolveOptional(fault.to);
        nodes = [...(from ?? []), ...(to ?? [])];
        const rule =
          fault.type === "loss"
            ? network.loss(fault.rate, from, to)
            : fault.type === "delay"
              ? network.delay(parseDuration(fault.extra)!, from, to)
              : network.bandwidth(fault.bytesPerSec, from, to);
        undo = () => network.removeRule(rule);
        break;
      }
      case "slow": {
        nodes = this.resolve(fault.node);
        const rules = nodes.map((node) => network.slowNode(node, fault.factor));
        undo = () => rules.forEach((rule) => network.removeRule(rule));
        break;
      }
      case "clock-skew": {
        nodes = this.resolve(fault.node);
        const now = this.targets.world.now;
        nodes.forEach((node) => this.host(node).clock.skew(now, ms(fault.offsetMs), fault.driftPpm));
        undo = () => nodes.forEach((node) => this.host(node).clock.reset(this.targets.world.now));
        break;
      }
      case "disk-error": {
        nodes = this.resolve(fault.node);
        const writeError = fault.op !== "fsync";
        const fsyncError = fault.op !== "write";
        nodes.forEach((node) => this.disk(node).setFaults({ writeError, fsyncError }));
        undo = () => nodes.forEach((node) => this.disk(node).setFaults({ writeError: false, fsyncError: false }));
        break;
      }
      case "disk-full":
        nodes = this.resolve(fault.node);
        nodes.forEach((node) => this.disk(node).fill());
        undo = () => nodes.forEach((node) => this.disk(node).setFaults({ capacityBytes: Infinity }));
        break;
      case "disk-slow": {
        nodes = this.resolve(fault.node);
        const extra = parseDuration(fault.extra)!;
        nodes.forEach((node) => this.disk(node).setFaults({ fsyncExtraUs: extra }));
        undo = () => nodes.forEach((node) => this.disk(node).setFaults({ fsyncExtraUs: 0 }));
        break;
      }
      case "corrupt": {
        nodes = this.resolve(fault.node);
        const flipped = nodes.map((node) => this.disk(node).corrupt(this.selectorRng, fault.file));
        this.fired++;
        this.trace("fault", { type: fault.type, nodes, flipped, ...note(fault) });
        return;
      }
      case "create-topic":
        this.runAdmin(fault, { op: "create-topic", topic: fault.topic });
        return;
      case "delete-topic":
        this.runAdmin(fault, { op: "delete-topic", topic: fault.topic });
        return;
      case "reassign":
        this.runAdmin(fault, { op: "reassign", partitions: fault.partitions });
        return;
      case "preferred-election":
        this.runAdmin(fault, { op: "preferred-election", partitions: fault.partitions ?? [] });
        return;
      default:
        unreachable(fault, "unknown fault type");
    }
    this.fired++;
    this.trace("fault", { ...describe(fault), nodes });
    if (undo !== null) this.scheduleEnd(fault, undo);
  }

  /** Admin operations are scenario events, traced as faults on the nemesis lane. */
  private runAdmin(fault: Fault, operation: AdminOperation): void {
    if (this.targets.admin?.(operation) !== true) throw new NoTarget("no admin tool running");
    this.fired++;
    this.trace("fault", describe(fault));
  }

  private scheduleEnd(fault: Fault, undo: () => void): void {
    const end = "until" in fault && fault.until !== undefined ? parseDuration(fault.until)! : null;
    const length = "for" in fault && fault.for !== undefined && fault.type !== "pause" ? parseDuration(fault.for)! : null;
    const now = this.targets.world.now;
    if (end !== null) this.targets.world.kernel.at(Math.max(now, end), this, EVENT_END, undo, fault);
    else if (length !== null) this.targets.world.kernel.after(length, this, EVENT_END, undo, fault);
  }

  private restart(node: string): void {
    const host = this.host(node);
    if (!host.isUp()) host.start();
  }

  private drawTime(at: Fault["at"]): Micros {
    if (Array.isArray(at)) {
      const from = parseDuration(at[0])!;
      const to = parseDuration(at[1])!;
      return this.timeRng.int(Math.min(from, to), Math.max(from, to));
    }
    return parseDuration(at)!;
  }

  private resolve(ref: NodeRef): string[] {
    if (ref === "zk-leader" || ref === "controller") {
      const holder = this.targets.special(ref);
      if (holder === null) throw new NoTarget(`no ${ref} right now`);
      return [holder];
    }
    if (typeof ref === "string") return [ref];
    if ("leaderOf" in ref) {
      const leader = this.targets.special(`leaderOf:${ref.leaderOf}`);
      if (leader === null) throw new NoTarget(`no leader of ${ref.leaderOf} right now`);
      return [leader];
    }
    if ("coordinatorOf" in ref) {
      const coordinator = this.targets.special(`coordinatorOf:${ref.coordinatorOf}`);
      if (coordinator === null) throw new NoTarget(`no coordinator of group ${ref.coordinatorOf} right now`);
      return [coordinator];
    }
    if ("transactionCoordinatorOf" in ref) {
      const coordinator = this.targets.special(`transactionCoordinatorOf:${ref.transactionCoordinatorOf}`);
      if (coordinator === null) throw new NoTarget(`no transaction coordinator of ${ref.transactionCoordinatorOf} right now`);
      return [coordinator];
    }
    const candidates = this.targets.groups.get(ref.random);
    assert(candidates !== undefined && candidates.length > 0, `no nodes in group ${ref.random}`);
    return [this.selectorRng.pick(candidates)];
  }

  private resolveAll(refs: readonly NodeRef[]): string[] {
    return refs.flatMap((ref) => this.resolve(ref));
  }

  private resolveOptional(refs: readonly NodeRef[] | undefined): string[] | undefined {
    return refs === undefined ? undefined : this.resolveAll(refs);
  }

  /** Groups with "rest" expanded to every node not named in another group. */
  private resolveGroups(groups: readonly (readonly NodeRef[] | "rest")[]): string[][] {
    const named = groups.map((group) => (group === "rest" ? null : [...new Set(this.resolveAll(group))]));
    const used = new Set<string>();
    for (const node of named.flatMap((group) => group ?? [])) {
      // Selectors resolved when the fault fires can name one node in two groups ({"leaderOf"} and its name).
      if (used.has(node)) throw new NoTarget(`${node} would be in two groups`);
      used.add(node);
    }
    const rest = this.targets.world.hosts.map((host) => host.name).filter((name) => !used.has(name));
    return named.map((group) => group ?? rest);
  }

  private host(node: string): Host {
    return this.targets.world.host(node);
  }

  private disk(node: string): Disk {
    const disk = this.targets.disks.get(node);
    assert(disk !== undefined, `no disk for ${node}`);
    return disk;
  }

  private trace(kind: string, fields: Record<string, unknown>): void {
    this.targets.world.trace.emit(NEMESIS, kind, fields);
  }
}
