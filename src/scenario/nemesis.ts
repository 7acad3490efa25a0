/**
 * The nemesis: random faults drawn from the seed, as Jepsen's nemesis generators. The whole plan (when each
 * fault starts, its type, how long it lasts, its parameters and its target — a node name or a role selector
 * such as "controller" or {"leaderOf": "t-0"}) is drawn up front from the run's "nemesis" stream, so it is
 * regenerated from the seed alone and no other stream shifts. When a planned fault fires, the nemesis
 * resolves its selector, applies the `minority` rule against the nodes that are down right now, records the
 * resolved fault as a `nemesis-fault` trace event and hands it to the ordinary FaultInjector.
 */

import type { Rng } from "../sim/rng.ts";
import { ms, parseDuration, type Micros } from "../sim/time.ts";
import type { EventTarget } from "../sim/kernel.ts";
import type { World } from "../sim/world.ts";
import { NEMESIS, type FaultInjector } from "./faults.ts";
import type { Fault, NemesisFaultType, NodeRef, Scenario } from "./spec.ts";
import { consumerGroups, groupOf, transactionalIds } from "./groups.ts";

/** A planned fault: an ordinary Fault with a whole-millisecond `at` and `for`; its node may be a role selector. */
export type PlannedFault = Fault;

/** Bounds the plan of a degenerate spec (a 1 ms interval over hours). */
const MAX_PLANNED_FAULTS = 10_000;
const EVENT_FIRE = 1;

/** The node groups the nemesis aims at, with the role selectors that live in them. */
interface Targets {
  zk: string[];
  brokers: string[];
  demo: string[];
  /** "controller", {"leaderOf"} for every partition of the scenario's topics, {"coordinatorOf"} for every group, {"transactionCoordinatorOf"} for every transactional id. */
  brokerRoles: NodeRef[];
  /** The consumers in a group. */
  consumers: string[];
  /** {"coordinatorOf"} for every consumer group. */
  coordinators: NodeRef[];
}

function targetsOf(scenario: Scenario): Targets {
  const names = (prefix: string, count: number | undefined): string[] => Array.from({ length: count ?? 0 }, (_, i) => `${prefix}-${i + 1}`);
  const zk = names("zk", scenario.cluster.zookeeper?.servers);
  const brokers = names("broker", scenario.cluster.brokers);
  const brokerRoles: NodeRef[] = [];
  if (brokers.length > 0) {
    brokerRoles.push("controller");
    for (const topic of scenario.topics) {
      for (let p = 0; p < topic.partitions; p++) brokerRoles.push({ leaderOf: `${topic.name}-${p}` });
    }
  }
  const coordinators: NodeRef[] = consumerGroups(scenario).map((group) => ({ coordinatorOf: group }));
  brokerRoles.push(...coordinators);
  for (const id of transactionalIds(scenario)) brokerRoles.push({ transactionCoordinatorOf: id });
  const consumers = scenario.clients.filter((client) => (client.type === "consumer" && groupOf(client) !== null) || client.type === "processor").map((client) => client.id);
  return { zk, brokers, demo: names("node", scenario.cluster.demo?.nodes), brokerRoles, consumers, coordinators };
}

/**
 * Why a nemesis cannot run on this scenario's cluster (its `targets` name no nodes), as [JSON path, what was
 * expected]; null when it can. Load-time validation calls this.
 */
export function nemesisProblem(scenario: Scenario): [string, string] | null {
  const nemesis = scenario.nemesis;
  if (nemesis === undefined) return null;
  const targets = targetsOf(scenario);
  const pools = { brokers: targets.brokers, zookeeper: targets.zk, consumers: targets.consumers, all: [...targets.zk, ...targets.brokers, ...targets.demo] };
  if (pools[nemesis.targets].length === 0) {
    return ["$.nemesis.targets", `expected a target group with nodes in this cluster, found "${nemesis.targets}" (no such nodes)`];
  }
  const from = nemesis.startAt === undefined ? 0 : parseDuration(nemesis.startAt)!;
  const to = nemesis.stopAt === undefined ? Infinity : parseDuration(nemesis.stopAt)!;
  if (from > to) return ["$.nemesis.stopAt", "expected stopAt at or after startAt"];
  return null;
}

/**
 * The nemesis's plan for a scenario: faults in start order, none starting before `startAt` or at/after
 * `min(stopAt, duration)`, at most `maxConcurrent` overlapping (a fault occupies its slot from `at` to
 * `at + for` even if it is skipped when it fires). `rng` is the run's "nemesis" stream.
 */
export function planNemesis(scenario: Scenario, rng: Rng): PlannedFault[] {
  const nemesis = scenario.nemesis;
  if (nemesis === undefined) return [];
  const targets = targetsOf(scenario);
  const startUs = nemesis.startAt === undefined ? 0 : parseDuration(nemesis.startAt)!;
  const durationUs = parseDuration(scenario.duration)!;
  const stopUs = Math.min(durationUs, nemesis.stopAt === undefined ? Infinity : parseDuration(nemesis.stopAt)!);
  const planned: PlannedFault[] = [];
  let active: Micros[] = []; // end times of the faults in progress
  let now = startUs;
  while (planned.length < MAX_PLANNED_FAULTS) {
    now += ms(rng.int(nemesis.intervalMs[0], nemesis.intervalMs[1]));
    active = active.filter((end) => end > now);
    while (active.length >= nemesis.maxConcurrent) {
      now = Math.min(...active);
      active = active.filter((end) => end > now);
    }
    if (now >= stopUs) break;
    const type = rng.pick(nemesis.types);
    const lengthMs = rng.int(nemesis.durationMs[0], nemesis.durationMs[1]);
    planned.push(plannedFault(type, now / 1000, lengthMs, pickTarget(targets, nemesis.targets, rng), targets, rng));
    active.push(now + ms(lengthMs));
  }
  return planned;
}

function pickTarget(targets: Targets, which: "brokers" | "zookeeper" | "consumers" | "all", rng: Rng): NodeRef {
  const brokers = (): NodeRef =>
    targets.brokerRoles.length > 0 && rng.chance(0.5) ? rng.pick(targets.brokerRoles) : rng.pick(targets.brokers);
  const zookeeper = (): NodeRef => (rng.chance(0.5) ? "zk-leader" : rng.pick(targets.zk));
  // A group consumer, or its group's coordinator (a third of the time).
  const consumers = (): NodeRef => (targets.coordinators.length > 0 && rng.chance(1 / 3) ? rng.pick(targets.coordinators) : rng.pick(targets.consumers));
  const pools: (() => NodeRef)[] = [];
  if (which === "consumers") {
    pools.push(consumers);
    return rng.pick(pools)();
  }
  if (which !== "zookeeper" && targets.brokers.length > 0) pools.push(brokers);
  if (which !== "brokers" && targets.zk.length > 0) pools.push(zookeeper);
  if (which === "all" && targets.demo.length > 0) pools.push(() => rng.pick(targets.demo));
  if (which === "all" && targets.consumers.length > 0) pools.push(consumers);
  return rng.pick(pools)();
}

/** One fault of a type, with its parameters drawn from the stream (always the same draws per type). */
function plannedFault(type: NemesisFaultType, atMs: number, lengthMs: number, node: NodeRef, targets: Targets, rng: Rng): PlannedFault {
  const at = atMs;
  const length = lengthMs;
  switch (type) {
    case "crash":
    case "power-loss":
    case "machine-crash":
    case "shutdown":
    case "disk-full":
      return { type, at, node, for: length };
    case "pause":
      return { type, at, node, for: length };
    case "disk-error":
      return { type, at, node, op: "both", for: length };
    case "partition": {
      // A broker cut off from ZooKeeper only (it still reaches the other brokers and the clients), or a node
      // cut off from everyone.
      const isBroker = typeof node !== "string" || node === "controller" || targets.brokers.includes(node);
      const fromZookeeper = isBroker && targets.zk.length > 0 && rng.chance(0.5);
      return { type, at, groups: [[node], fromZookeeper ? targets.zk : "rest"], for: length };
    }
    case "clock-skew": {
      const offsetMs = rng.int(1000, 30_000) * (rng.chance(0.5) ? -1 : 1);
      return { type, at, node, offsetMs, driftPpm: 0, for: length };
    }
    case "loss":
      return { type, at, rate: rng.int(1, 10) / 10, from: [node], for: length };
    case "delay":
      return { type, at, extra: rng.int(20, 500), from: [node], for: length };
    case "slow":
      return { type, at, node, factor: rng.int(2, 10), for: length };
    case "disk-slow":
      return { type, at, node, extra: rng.int(10, 500), for: length };
  }
}

/** Fault types that take their node out of service (counted by the `minority` rule). */
const TAKES_DOWN = new Set<string>(["crash", "power-loss", "machine-crash", "pause", "shutdown", "partition", "disk-error", "disk-full"]);

export interface NemesisTargets {
  world: World;
  injector: FaultInjector;
  /** Resolves "zk-leader", "controller" and "leaderOf:<tp>" now; null when nobody holds the role. */
  special(selector: string): string | null;
}

/** Fires a plan: resolves selectors, applies the `minority` rule, traces and injects. */
export class NemesisRunner implements EventTarget {
  readonly planned: readonly PlannedFault[];
  /** Nodes the nemesis's own partitions have cut off, with the time their cut ends. */
  private readonly isolated = new Map<string, Micros>();
  private readonly targets: Targets;
  private readonly limits: { zk: number; brokers: number; demo: number };
  fired = 0;
  skipped = 0;

  constructor(
    private readonly scenario: Scenario,
    private readonly run: NemesisTargets,
  ) {
    this.targets = targetsOf(scenario);
    this.planned = planNemesis(scenario, run.world.rng.fork("nemesis"));
    const majorityLeft = (n: number): number => Math.floor((n - 1) / 2);
    // Without the assignment at hand, the smallest replication factor bounds every partition's replicas.
    const replicas = Math.min(this.targets.brokers.length, ...scenario.topics.map((topic) => topic.replicationFactor));
    this.limits = { zk: majorityLeft(this.targets.zk.length), brokers: majorityLeft(replicas), demo: majorityLeft(this.targets.demo.length) };
  }

  /** Schedules every planned fault (call before the hosts start, like FaultInjector.schedule). */
  start(): void {
    for (const fault of this.planned) this.run.world.kernel.at(parseDuration(fault.at as number)!, this, EVENT_FIRE, fault, undefined);
  }

  handleEvent(_kind: number, a: unknown): void {
    const planned = a as PlannedFault;
    const resolved = this.resolveFault(planned);
    if (typeof resolved === "string") {
      this.skipped++;
      this.run.world.trace.emit(NEMESIS, "fault-skipped", { type: planned.type, reason: resolved, nemesis: true });
      return;
    }
    this.fired++;
    this.run.world.trace.emit(NEMESIS, "nemesis-fault", { fault: resolved });
    this.run.injector.inject(resolved);
  }

  /** The planned fault with its selectors replaced by node names, or why it is skipped. */
  private resolveFault(planned: PlannedFault): Fault | string {
    const ref = targetOf(planned);
    const node = this.resolve(ref);
    if (node === null) return `no ${describeRole(ref)} right now`;
    if (this.scenario.nemesis!.minority && TAKES_DOWN.has(planned.type) && !this.minorityAllows(node)) {
      return `minority: taking ${node} down too would leave no majority`;
    }
    if (planned.type === "partition") {
      this.isolated.set(node, this.run.world.now + parseDuration(planned.for as number)!);
      return { ...planned, groups: [[node], planned.groups![1]] };
    }
    if ("from" in planned && planned.from !== undefined) return { ...planned, from: [node] } as Fault;
    return { ...planned, node } as Fault;
  }

  private resolve(ref: NodeRef): string | null {
    if (typeof ref === "string") return ref === "controller" || ref === "zk-leader" ? this.run.special(ref) : ref;
    if ("leaderOf" in ref) return this.run.special(`leaderOf:${ref.leaderOf}`);
    if ("coordinatorOf" in ref) return this.run.special(`coordinatorOf:${ref.coordinatorOf}`);
    if ("transactionCoordinatorOf" in ref) return this.run.special(`transactionCoordinatorOf:${ref.transactionCoordinatorOf}`);
    return null; // the planner draws node names itself and never plans {"random"}
  }

  /** True when `node` may go down with the nodes already down in its group still a minority. */
  private minorityAllows(node: string): boolean {
    const now = this.run.world.now;
    const down = (name: string): boolean =>
      name === node || this.run.world.host(name).state !== "running" || (this.isolated.get(name) ?? 0) > now;
    const check = (group: string[], limit: number): boolean => !group.includes(node) || group.filter(down).length <= limit;
    return check(this.targets.zk, this.limits.zk) && check(this.targets.brokers, this.limits.brokers) && check(this.targets.demo, this.limits.demo);
  }
}

function describeRole(ref: NodeRef): string {
  if (typeof ref === "string") return ref;
  if ("leaderOf" in ref) return `leader of ${ref.leaderOf}`;
  if ("coordinatorOf" in ref) return `coordinator of group ${ref.coordinatorOf}`;
  if ("transactionCoordinatorOf" in ref) return `transaction coordinator of ${ref.transactionCoordinatorOf}`;
  return `node of ${ref.random}`;
}

/** The node a planned fault aims at (its `node`, the isolated side of a partition, or the `from` of a link fault). */
function targetOf(fault: PlannedFault): NodeRef {
  if (fault.type === "partition") return (fault.groups![0] as NodeRef[])[0];
  if ("from" in fault && fault.from !== undefined) return fault.from[0];
  return (fault as { node: NodeRef }).node;
}
