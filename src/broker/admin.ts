/**
 * The admin tools of ZooKeeper mode (kafka-topics.sh --zookeeper, kafka-reassign-partitions.sh,
 * kafka-preferred-replica-election.sh) as one process: it writes what AdminZkClient writes and lets the
 * controller react through its watches. Topic creation waits until enough brokers are registered, assigns
 * replicas as AdminUtils.assignReplicasToBrokers does (rack-unaware, random start from the seed), writes the
 * topic config to /config/topics/<t> and the assignment to /brokers/topics/<t>. Deletion, reassignment and
 * preferred-leader election create their /admin znodes. Operations run one at a time, each retried (bounded)
 * on connection loss. Simplification: the topic config is also put in a registry every broker reads at once.
 */

import type { Disk } from "../disk/disk.ts";
import type { ZkReply } from "../protocol/zk.ts";
import type { Message, Process, ProcessContext } from "../sim/host.ts";
import { ms } from "../sim/time.ts";
import { ZkClient } from "../zk/client.ts";
import {
  BROKER_IDS_PATH,
  decodeTopicAssignment,
  deleteTopicPath,
  encodePartitionList,
  encodeReassignment,
  encodeTopicAssignment,
  encodeTopicConfig,
  PREFERRED_REPLICA_ELECTION_PATH,
  REASSIGN_PARTITIONS_PATH,
  topicConfigPath,
  topicPath,
  TOPICS_PATH,
} from "./zk-data.ts";

export interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor: number;
  /** Replicas per partition (the first is the preferred leader); drawn by assignReplicasToBrokers when absent. */
  assignment?: number[][];
  config?: Readonly<Record<string, unknown>>;
}

export type AdminOperation =
  | { op: "create-topic"; topic: TopicSpec }
  | { op: "delete-topic"; topic: string }
  | { op: "reassign"; partitions: { topic: string; partition: number; replicas: number[] }[] }
  | { op: "preferred-election"; partitions: { topic: string; partition: number }[] };

export interface AdminOptions {
  zkServers: readonly string[];
  /** Operations to run as soon as the process starts (the scenario's topics). */
  initial: AdminOperation[];
  /** The shared topic-config registry brokers read (filled on topic creation). */
  topicConfigs: Map<string, Readonly<Record<string, unknown>>>;
}

const TIMER_RETRY = "admin:retry";
const RETRY_MS = 500;
/** An operation gives up after this many attempts (brokers never register, ZooKeeper unreachable). */
const ATTEMPTS_MAX = 240;

/** AdminUtils.assignReplicasToBrokers, rack-unaware: brokers sorted by id, start index and shift from `random`. */
export function assignReplicasToBrokers(
  brokers: readonly number[],
  partitions: number,
  replicationFactor: number,
  random: (bound: number) => number,
): number[][] {
  const sorted = [...brokers].sort((a, b) => a - b);
  const n = sorted.length;
  const startIndex = random(n);
  let nextReplicaShift = random(n);
  const assignment: number[][] = [];
  for (let partition = 0; partition < partitions; partition++) {
    if (partition > 0 && partition % n === 0) nextReplicaShift++;
    const first = (partition + startIndex) % n;
    const replicas = [sorted[first]];
    for (let j = 0; j < replicationFactor - 1; j++) {
      const shift = 1 + ((nextReplicaShift + j) % (n - 1));
      replicas.push(sorted[(first + shift) % n]);
    }
    assignment.push(replicas);
  }
  return assignment;
}

export class KafkaAdmin implements Process {
  private client!: ZkClient;
  private readonly queue: AdminOperation[] = [];
  private running: AdminOperation | null = null;
  private attempts = 0;

  constructor(
    private readonly context: ProcessContext<Disk>,
    private readonly options: AdminOptions,
  ) {}

  onStart(): void {
    this.client = new ZkClient(
      this.context,
      { servers: [...this.options.zkServers], sessionTimeoutMs: 30_000 },
      { onStateChange: (state) => state === "EXPIRED" && this.reconnect() },
    );
    this.client.start();
    for (const operation of this.options.initial) this.submit(operation);
  }

  /** Queues an operation (the scenario's admin faults call this). */
  submit(operation: AdminOperation): void {
    this.queue.push(operation);
    if (this.running === null) this.next();
  }

  onMessage(from: string, message: Message, connection: number): void {
    this.client.onMessage(from, message, connection);
  }

  /** Process.onConnectionRefused: a ZooKeeper server's process is gone; the client moves on at once. */
  onConnectionRefused(peer: string): void {
    this.client.onConnectionRefused(peer);
  }

  onTimer(tag: string, data: unknown): void {
    if (this.client.onTimer(tag, data)) return;
    if (tag === TIMER_RETRY && this.running !== null) this.run(this.running);
  }

  private reconnect(): void {
    this.client = new ZkClient(
      this.context,
      { servers: [...this.options.zkServers], sessionTimeoutMs: 30_000 },
      { onStateChange: (state) => state === "EXPIRED" && this.reconnect() },
    );
    this.client.start();
  }

  private next(): void {
    const operation = this.queue.shift();
    this.running = operation ?? null;
    this.attempts = 0;
    if (operation !== undefined) this.run(operation);
  }

  private run(operation: AdminOperation): void {
    this.attempts++;
    const done = (result: string, fields: Record<string, unknown> = {}): void => {
      if (this.context.tracing) this.context.trace("admin-op", { ...describe(operation), result, attempts: this.attempts, ...fields });
      this.next();
    };
    const retry = (code: string): void => {
      if (this.attempts >= ATTEMPTS_MAX) return done(`gave up: ${code}`);
      this.context.setTimer(ms(RETRY_MS), TIMER_RETRY);
    };
    switch (operation.op) {
      case "create-topic":
        this.createTopic(operation.topic, done, retry);
        break;
      case "delete-topic":
        this.createOrExists(deleteTopicPath(operation.topic), "", (reply) => (isDone(reply) ? done(reply.code) : retry(reply.code)));
        break;
      case "reassign":
        this.client.create(REASSIGN_PARTITIONS_PATH, encodeReassignment(operation.partitions), {}, (reply) => {
          // NODEEXISTS: a reassignment is in progress (kafka-reassign-partitions refuses); try again later.
          if (reply.code === "OK") done("OK");
          else retry(reply.code);
        });
        break;
      case "preferred-election": {
        const create = (partitions: { topic: string; partition: number }[]): void =>
          this.client.create(PREFERRED_REPLICA_ELECTION_PATH, encodePartitionList(partitions), {}, (reply) => {
            if (reply.code === "OK") done("OK", { partitions });
            else retry(reply.code);
          });
        if (operation.partitions.length > 0) create(operation.partitions);
        else this.allPartitions((partitions) => (partitions === null ? retry("CONNECTIONLOSS") : create(partitions)));
        break;
      }
    }
  }

  /** AdminZkClient.createTopic: wait for brokers, assign, write the config, then the assignment. */
  private createTopic(topic: TopicSpec, done: (result: string, fields?: Record<string, unknown>) => void, retry: (code: string) => void): void {
    this.options.topicConfigs.set(topic.name, topic.config ?? {});
    this.client.getChildren(BROKER_IDS_PATH, false, (reply) => {
      if (reply.code !== "OK" && reply.code !== "NONODE") return retry(reply.code);
      const brokers = (reply.children ?? []).map(Number).filter((id) => Number.isInteger(id));
      let assignment = topic.assignment;
      if (assignment === undefined) {
        if (brokers.length < topic.replicationFactor) return retry("INVALID_REPLICATION_FACTOR");
        assignment = assignReplicasToBrokers(brokers, topic.partitions, topic.replicationFactor, (bound) => this.context.rng.int(0, bound - 1));
      }
      const partitions = new Map(assignment.map((replicas, partition) => [partition, [...replicas]]));
      const config = encodeTopicConfig(topic.config ?? {});
      this.createOrExists(topicConfigPath(topic.name), config, (configReply) => {
        if (!isDone(configReply)) return retry(configReply.code);
        const data = encodeTopicAssignment({ partitions, addingReplicas: new Map(), removingReplicas: new Map() });
        this.client.create(topicPath(topic.name), data, {}, (created) => {
          if (created.code === "NODEEXISTS") return done("TOPIC_ALREADY_EXISTS");
          if (created.code !== "OK") return retry(created.code);
          done("OK", { assignment });
        });
      });
    });
  }

  /** Every partition of every topic (the preferred-election tool without a JSON file). */
  private allPartitions(done: (partitions: { topic: string; partition: number }[] | null) => void): void {
    this.client.getChildren(TOPICS_PATH, false, (reply) => {
      if (reply.code !== "OK") return done(null);
      const topics = reply.children ?? [];
      const partitions: { topic: string; partition: number }[] = [];
      const read = (index: number): void => {
        if (index === topics.length) return done(partitions);
        this.client.getData(topicPath(topics[index]), false, (data) => {
          const assignment = data.code === "OK" ? decodeTopicAssignment(data.data ?? "") : null;
          for (const partition of assignment?.partitions.keys() ?? []) partitions.push({ topic: topics[index], partition });
          read(index + 1);
        });
      };
      read(0);
    });
  }

  private createOrExists(path: string, data: string, cb: (reply: ZkReply) => void): void {
    this.client.create(path, data, {}, cb);
  }
}

function isDone(reply: ZkReply): boolean {
  return reply.code === "OK" || reply.code === "NODEEXISTS";
}

function describe(operation: AdminOperation): Record<string, unknown> {
  switch (operation.op) {
    case "create-topic":
      return { op: operation.op, topic: operation.topic.name, partitions: operation.topic.partitions, replicationFactor: operation.topic.replicationFactor };
    case "delete-topic":
      return { op: operation.op, topic: operation.topic };
    default:
      return { op: operation.op, partitions: operation.partitions };
  }
}
