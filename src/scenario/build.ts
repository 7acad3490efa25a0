/**
 * Builds a world from a validated scenario: the network, one disk per host, and the hosts with their
 * processes — ZooKeeper servers (zk-N), Kafka brokers (broker-N), the admin tool (`admin`, which creates the
 * scenario's topics and runs admin operations), demo ping-pong nodes (node-N) and clients (by id).
 */

import { Disk, type DiskConfig } from "../disk/disk.ts";
import { Network, type LatencySpec } from "../net/network.ts";
import { PingPongNode } from "../demo/pingpong.ts";
import { ZkSessionProbe } from "../demo/zk-session.ts";
import { ms } from "../sim/time.ts";
import { World } from "../sim/world.ts";
import type { ProcessFactory } from "../sim/host.ts";
import { ZkServer, zkServerConfig } from "../zk/server.ts";
import { KafkaBroker } from "../broker/broker.ts";
import { KafkaAdmin, type AdminOperation } from "../broker/admin.ts";
import { DEFAULT_TRANSACTION_COORDINATOR_CONFIG, resolveBrokerSettings, type KafkaVersion } from "../broker/config.ts";
import { ProducerWorkload } from "../workload/producer-workload.ts";
import { TransactionalProducerWorkload } from "../workload/transactional-producer-workload.ts";
import { ProcessorWorkload } from "../workload/processor-workload.ts";
import { ConsumerWorkload } from "../workload/consumer-workload.ts";
import { GroupConsumerWorkload } from "../workload/group-consumer-workload.ts";
import { groupOf } from "./groups.ts";
import { parseDuration } from "../sim/time.ts";
import { GROUP_METADATA_TOPIC_NAME, partitionForGroup } from "../protocol/group.ts";
import { TRANSACTION_STATE_TOPIC_NAME } from "../protocol/transaction.ts";
import { scenarioGroups, scenarioNodes } from "./load.ts";
import { CONSUMER_CONFIG_KEYS, PRODUCER_CONFIG_KEYS, type Scenario } from "./spec.ts";

export interface BuiltWorld {
  world: World;
  network: Network;
  disks: Map<string, Disk>;
  nodes: string[];
  /** Named groups for {"random": group} selectors. */
  groups: Map<string, string[]>;
  /** ZooKeeper server host names (zk-1 …). */
  zkServers: string[];
  /** Broker host names (broker-1 …). */
  brokers: string[];
  /** Resolves "zk-leader", "controller", "leaderOf:<topic>-<partition>", "coordinatorOf:<group>" and "transactionCoordinatorOf:<id>" when a fault fires; null when nobody holds the role. */
  special(selector: string): string | null;
  /** Runs an admin operation through the admin tool; false when there is no admin (no brokers). */
  admin(operation: AdminOperation): boolean;
  /** The brokers' transaction.max.timeout.ms and abort cleanup interval (the hanging-transaction bound); null without brokers. */
  transactionTimeouts: { maxTimeoutMs: number; cleanupIntervalMs: number } | null;
}

/** offsets.topic.num.partitions' default (KafkaConfig). */
const OFFSETS_TOPIC_NUM_PARTITIONS_DEFAULT = 50;

/** The admin tool's host name (kafka-topics.sh and friends). */
export const ADMIN_HOST = "admin";


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
    ...(scenario.network.tcpRetransmitMs === undefined ? {} : { tcpRetransmitUs: ms(scenario.network.tcpRetransmitMs) }),
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
  const brokers = groupLists.broker;
  const topicConfigs = new Map<string, Readonly<Record<string, unknown>>>();
  let offsetsTopicPartitions = OFFSETS_TOPIC_NUM_PARTITIONS_DEFAULT;
  let transactionTimeouts: BuiltWorld["transactionTimeouts"] = null;
  let transactionStatePartitions = DEFAULT_TRANSACTION_COORDINATOR_CONFIG["transaction.state.log.num.partitions"];
  if (brokers.length > 0) {
    const { config, compat, version } = scenario.cluster;
    const settings = resolveBrokerSettings(version as KafkaVersion, config, compat);
    offsetsTopicPartitions = (settings.all["offsets.topic.num.partitions"] as number | undefined) ?? OFFSETS_TOPIC_NUM_PARTITIONS_DEFAULT;
    transactionStatePartitions = settings.replication["transaction.state.log.num.partitions"];
    transactionTimeouts = {
      maxTimeoutMs: settings.replication["transaction.max.timeout.ms"],
      cleanupIntervalMs: settings.replication["transaction.abort.timed.out.transaction.cleanup.interval.ms"],
    };
    brokers.forEach((name, i) => {
      addHost(name, (context) =>
        new KafkaBroker(context, { brokerId: i + 1, zkServers, replication: settings.replication, compat: settings.compat, settings: settings.all, topicConfigs }),
      );
    });
    const initial: AdminOperation[] = scenario.topics.map((topic) => ({ op: "create-topic", topic }));
    addHost(ADMIN_HOST, (context) => new KafkaAdmin(context, { zkServers, initial, topicConfigs }));
  }
  const demo = scenario.cluster.demo;
  if (demo !== undefined) {
    const peers = groupLists.node;
    const { pingIntervalMs, requestTimeoutMs, flushEvery } = demo;
    for (const name of peers) {
      addHost(name, (context) => new PingPongNode(context, { pingIntervalMs, requestTimeoutMs, flushEvery, peers }));
    }
  }
  const atMs = (at: string | number | undefined): number | undefined => (at === undefined ? undefined : parseDuration(at)! / 1000);
  for (const client of scenario.clients) {
    if (client.type === "producer") {
      const { workload, config } = client;
      if (workload.transaction !== undefined) {
        const transaction = { records: workload.transaction.records, abortEvery: workload.transaction.abortEvery };
        addHost(client.id, (context) =>
          new TransactionalProducerWorkload(context, {
            bootstrap: brokers,
            config,
            workload: {
              topics: workload.topics ?? [workload.topic!],
              messages: workload.messages,
              ratePerSec: workload.ratePerSec,
              transaction,
              keys: workload.keys,
              keyDistribution: workload.keyDistribution,
              startAtMs: atMs(workload.startAt),
              stopAtMs: atMs(workload.stopAt),
            },
          }),
        );
        continue;
      }
      addHost(client.id, (context) =>
        new ProducerWorkload(context, {
          bootstrap: brokers,
          config,
          workload: {
            topic: workload.topic!,
            messages: workload.messages,
            ratePerSec: workload.ratePerSec,
            keys: workload.keys,
            keyDistribution: workload.keyDistribution,
            startAtMs: workload.startAt === undefined ? undefined : parseDuration(workload.startAt)! / 1000,
            stopAtMs: workload.stopAt === undefined ? undefined : parseDuration(workload.stopAt)! / 1000,
          },
        }),
      );
      continue;
    }
    if (client.type === "consumer") {
      const group = groupOf(client);
      if (group === null) {
        addHost(client.id, (context) => new ConsumerWorkload(context, { bootstrap: brokers, topics: client.topics, config: client.config }));
        continue;
      }
      const workload = client.workload;
      const commit = workload?.commit ?? (client.config["enable.auto.commit"] === false ? "sync-after-process" : "auto");
      addHost(client.id, (context) =>
        new GroupConsumerWorkload(context, {
          bootstrap: brokers,
          topics: client.topics,
          groupId: group,
          version: (scenario.cluster.version ?? "3.x") as KafkaVersion,
          config: { ...client.config, "group.id": group, "enable.auto.commit": commit === "auto" },
          processMs: workload?.processMs ?? 0,
          commit,
          startAtMs: atMs(workload?.startAt),
          stopAtMs: atMs(workload?.stopAt),
          closeAtMs: atMs(workload?.closeAt),
        }),
      );
      continue;
    }
    if (client.type === "processor") {
      const pick = (keys: readonly string[]): Record<string, unknown> =>
        Object.fromEntries(Object.entries(client.config).filter(([key, value]) => value !== undefined && keys.includes(key)));
      addHost(client.id, (context) =>
        new ProcessorWorkload(context, {
          bootstrap: brokers,
          groupId: client.group,
          input: client.input,
          output: client.output,
          guarantee: client.config["processing.guarantee"] ?? "exactly_once_v2",
          version: (scenario.cluster.version ?? "3.x") as KafkaVersion,
          consumer: pick(CONSUMER_CONFIG_KEYS),
          producer: pick(PRODUCER_CONFIG_KEYS),
          processMs: client.workload.processMs,
          startAtMs: atMs(client.workload.startAt),
          stopAtMs: atMs(client.workload.stopAt),
        }),
      );
      continue;
    }
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
  const runningBroker = (name: string): KafkaBroker | null => {
    const host = world.host(name);
    return host.isUp() && host.process !== null ? (host.process as KafkaBroker) : null;
  };
  const special = (selector: string): string | null => {
    if (selector === "zk-leader") {
      for (const name of zkServers) {
        const host = world.host(name);
        const server = host.process as ZkServer | null;
        if (host.isUp() && server !== null && server.state === "LEADING" && server.serving) return name;
      }
      return null;
    }
    // The broker acting with the newest epoch (a zombie with an older one may still think it is in charge).
    let best: string | null = null;
    let bestEpoch = -1;
    if (selector === "controller") {
      for (const name of brokers) {
        const controller = runningBroker(name)?.controller;
        if (controller !== undefined && controller.isActive && controller.controllerEpoch > bestEpoch) {
          best = name;
          bestEpoch = controller.controllerEpoch;
        }
      }
      return best;
    }
    const leaderOf = /^leaderOf:(.+)-(\d+)$/.exec(selector);
    if (leaderOf !== null) return leaderBroker(leaderOf[1], Number(leaderOf[2]));
    // A group's coordinator is the leader of its __consumer_offsets partition (GroupMetadataManager.partitionFor).
    const coordinatorOf = /^coordinatorOf:(.+)$/.exec(selector);
    if (coordinatorOf !== null) return leaderBroker(GROUP_METADATA_TOPIC_NAME, partitionForGroup(coordinatorOf[1], offsetsTopicPartitions));
    // A transactional id's coordinator leads its __transaction_state partition (TransactionStateManager.partitionFor).
    const transactionCoordinatorOf = /^transactionCoordinatorOf:(.+)$/.exec(selector);
    if (transactionCoordinatorOf !== null) return leaderBroker(TRANSACTION_STATE_TOPIC_NAME, partitionForGroup(transactionCoordinatorOf[1], transactionStatePartitions));
    return null;
  };
  /** The broker leading a partition with the newest leader epoch (a zombie may still think it leads). */
  const leaderBroker = (topic: string, partitionId: number): string | null => {
    let best: string | null = null;
    let bestEpoch = -1;
    for (const name of brokers) {
      const partition = runningBroker(name)?.replicaManager?.partition(topic, partitionId);
      if (partition !== undefined && partition.isLeader && partition.leaderEpoch > bestEpoch) {
        best = name;
        bestEpoch = partition.leaderEpoch;
      }
    }
    return best;
  };
  const admin = (operation: AdminOperation): boolean => {
    if (brokers.length === 0) return false;
    const host = world.host(ADMIN_HOST);
    if (!host.isUp() || host.process === null) return false;
    (host.process as KafkaAdmin).submit(operation);
    return true;
  };
  return { world, network, disks, nodes: scenarioNodes(scenario), groups, zkServers, brokers, special, admin, transactionTimeouts };
}
