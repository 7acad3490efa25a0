/**
 * Builds a world from a validated scenario: the network, one disk per host, and the hosts with their
 * processes — ZooKeeper servers (zk-N), demo ping-pong nodes (node-N) and clients (by id). Brokers and
 * Kafka clients are added here as their models land.
 */

import { Disk, type DiskConfig } from "../disk/disk.ts";
import { Network, type LatencySpec } from "../net/network.ts";
import { PingPongNode } from "../demo/pingpong.ts";
import { ZkSessionProbe } from "../demo/zk-session.ts";
import { ms } from "../sim/time.ts";
import { World } from "../sim/world.ts";
import type { ProcessFactory } from "../sim/host.ts";
import { ZkServer, zkServerConfig } from "../zk/server.ts";
import { scenarioGroups, scenarioNodes } from "./load.ts";
import type { Scenario } from "./spec.ts";

export interface BuiltWorld {
  world: World;
  network: Network;
  disks: Map<string, Disk>;
  nodes: string[];
  /** Named groups for {"random": group} selectors. */
  groups: Map<string, string[]>;
  /** ZooKeeper server host names (zk-1 …). */
  zkServers: string[];
  /** Resolves "zk-leader" (and later "controller") when a fault fires; null when there is none. */
  special(selector: string): string | null;
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
  const perDisk = diskConfig(scenario.cluster.config);
  const groupLists = scenarioGroups(scenario);
  const addHost = (name: string, factory: ProcessFactory<Disk>): void => {
    const disk = new Disk(world, name, perDisk);
    disks.set(name, disk);
    world.addHost(name, disk, factory);
  };

  const zk = scenario.cluster.zookeeper;
  const zkServers = groupLists.zk;
  if (zk !== undefined) {
    const { tickTimeMs, initLimit, syncLimit, snapCount } = zk;
    zkServers.forEach((name, i) => {
      addHost(name, (context) => new ZkServer(context, zkServerConfig(i + 1, zkServers, { tickTimeMs, initLimit, syncLimit, snapCount })));
    });
  }
  const demo = scenario.cluster.demo;
  if (demo !== undefined) {
    const peers = groupLists.node;
    const { pingIntervalMs, requestTimeoutMs, flushEvery } = demo;
    for (const name of peers) {
      addHost(name, (context) => new PingPongNode(context, { pingIntervalMs, requestTimeoutMs, flushEvery, peers }));
    }
  }
  for (const client of scenario.clients) {
    addHost(client.id, (context) =>
      new ZkSessionProbe(context, {
        servers: zkServers,
        sessionTimeoutMs: client.config["zookeeper.session.timeout.ms"],
        ephemeral: client.workload.ephemeral,
        writePath: client.workload.writePath,
        writeEveryMs: client.workload.writeEveryMs,
        retryBackoffMs: 1000,
      }),
    );
  }

  const groups = new Map(Object.entries(groupLists).filter(([, members]) => members.length > 0));
  const special = (selector: string): string | null => {
    if (selector !== "zk-leader") return null;
    for (const name of zkServers) {
      const host = world.host(name);
      const server = host.process as ZkServer | null;
      if (host.isUp() && server !== null && server.state === "LEADING" && server.serving) return name;
    }
    return null;
  };
  return { world, network, disks, nodes: scenarioNodes(scenario), groups, zkServers, special };
}
