/**
 * Builds a world from a validated scenario: the network, one disk per host, the hosts and their
 * processes. For now the only cluster kind is `demo` (ping-pong nodes exercising the kernel); ZooKeeper
 * ensembles, brokers and clients are added here as their models land.
 */

import { Disk, type DiskConfig } from "../disk/disk.ts";
import { Network, type LatencySpec } from "../net/network.ts";
import { PingPongNode } from "../demo/pingpong.ts";
import { ms } from "../sim/time.ts";
import { World } from "../sim/world.ts";
import { scenarioNodes } from "./load.ts";
import type { Scenario } from "./spec.ts";

export interface BuiltWorld {
  world: World;
  network: Network;
  disks: Map<string, Disk>;
  nodes: string[];
  /** Named groups for {"random": group} selectors. */
  groups: Map<string, string[]>;
}

export function latencySpec(latencyMs: Scenario["network"]["latencyMs"]): LatencySpec {
  if (typeof latencyMs === "number") return { dist: "constant", us: ms(latencyMs) };
  if (Array.isArray(latencyMs)) return { dist: "uniform", minUs: ms(latencyMs[0]), maxUs: ms(latencyMs[1]) };
  if (latencyMs.dist === "normal") {
    return { dist: "normal", meanUs: ms(latencyMs.meanMs), stddevUs: ms(latencyMs.stddevMs), minUs: ms(latencyMs.minMs) };
  }
  return { dist: "exponential", meanUs: ms(latencyMs.meanMs), minUs: ms(latencyMs.minMs) };
}

export function diskConfig(config: Scenario["cluster"]["config"]): Partial<DiskConfig> {
  const disk: Partial<DiskConfig> = {};
  if (config["disk.writebackMs"] !== undefined) disk.writebackUs = ms(config["disk.writebackMs"]);
  if (config["disk.writebackIntervalMs"] !== undefined) disk.writebackIntervalUs = ms(config["disk.writebackIntervalMs"]);
  if (config["disk.fsyncMs"] !== undefined) {
    disk.fsyncMinUs = ms(config["disk.fsyncMs"][0]);
    disk.fsyncMaxUs = ms(config["disk.fsyncMs"][1]);
  }
  if (config["disk.capacityBytes"] !== undefined) disk.capacityBytes = config["disk.capacityBytes"];
  return disk;
}

export function buildWorld(scenario: Scenario, seed: number | string): BuiltWorld {
  const world = new World(seed);
  const network = new Network(world, {
    latency: latencySpec(scenario.network.latencyMs),
    bandwidthBytesPerSec: scenario.network.bandwidthBytesPerSec,
  });
  const disks = new Map<string, Disk>();
  const nodes = scenarioNodes(scenario);
  const demo = scenario.cluster.demo;
  const perDisk = diskConfig(scenario.cluster.config);
  for (const name of nodes) {
    const disk = new Disk(world, name, perDisk);
    disks.set(name, disk);
    world.addHost(name, disk, (context) => new PingPongNode(context, { ...demo, peers: nodes }));
  }
  const groups = new Map<string, string[]>([
    ["node", nodes],
    ["any", nodes],
  ]);
  return { world, network, disks, nodes, groups };
}
