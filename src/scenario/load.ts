/**
 * Turns scenario text (JSON or YAML) into a validated Scenario, or one ScenarioError naming the file, the
 * JSON path inside it and what was expected. Validation is the zod schema in spec.ts plus the checks a
 * schema cannot express (node names that exist, selectors this cluster can resolve).
 */

import { parse as parseYaml, YAMLParseError } from "yaml";
import { ASSIGNOR_CLASSES, PRODUCER_CONFIG_KEYS, Scenario, type Client, type Fault, type NodeRef } from "./spec.ts";
import { resolveProducerConfig } from "../clients/producer/config.ts";
import { GROUP_CONFIG_KEYS } from "../clients/consumer/config.ts";
import { nemesisProblem } from "./nemesis.ts";
import { describeIssues, jsonPath, MAX_PROBLEMS, type ScenarioProblem } from "./load-issues.ts";
import { consumerGroups, groupOf, processorTransactionalId, transactionalIds, type ConsumerClient, type ProcessorClient } from "./groups.ts";
import { resolveBrokerSettings, versionBefore, type KafkaVersion } from "../broker/config.ts";

export class ScenarioError extends Error {
  /** Every problem found (the first is `path` / `expected`); the message has one line per problem. */
  readonly problems: readonly ScenarioProblem[];

  constructor(
    readonly file: string,
    readonly path: string,
    readonly expected: string,
    more: readonly ScenarioProblem[] = [],
  ) {
    const problems = [{ path, expected }, ...more];
    super(problems.map((problem) => `${file}: ${problem.path}: ${problem.expected}`).join("\n"));
    this.problems = problems;
  }

  /** One error for several problems (at least one), at most MAX_PROBLEMS of them listed and the rest counted. */
  static of(file: string, problems: readonly ScenarioProblem[]): ScenarioError {
    const [first, ...rest] = problems;
    const listed = rest.slice(0, MAX_PROBLEMS - 1);
    if (rest.length > listed.length) listed.push({ path: "$", expected: `… and ${rest.length - listed.length} more problems` });
    return new ScenarioError(file, first.path, first.expected, listed);
  }
}

export { jsonPath };

/** Parses JSON (or YAML for .yaml/.yml files) without validating. */
export function parseScenarioText(text: string, file: string): unknown {
  if (/\.ya?ml$/i.test(file)) {
    try {
      // logLevel "error": YAML warnings (unknown directives…) are not printed; errors are thrown.
      return parseYaml(text, { logLevel: "error" });
    } catch (error) {
      if (error instanceof YAMLParseError) {
        const position = error.linePos?.[0];
        const where = position ? `line ${position.line}, column ${position.col}` : "$";
        throw new ScenarioError(file, where, `expected valid YAML (${error.code})`);
      }
      // Errors raised while turning the document into values (an alias without its anchor, …).
      const detail = error instanceof Error ? error.message.split("\n")[0] : String(error);
      throw new ScenarioError(file, "$", `expected valid YAML (${detail})`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : "";
    const detail = message.replace(/^.*?:\s*/, "").replace(/ in JSON at position \d+.*$/, "").replace(/ \(line \d+ column \d+\)$/, "");
    // V8 names the position for most errors; otherwise the unexpected token's first occurrence, or the end.
    const position = /at position (\d+)/.exec(message);
    const token = /Unexpected token '(.)'/.exec(message);
    const offset = position !== null ? Number(position[1]) : token !== null ? Math.max(0, text.indexOf(token[1])) : /end of JSON input/.test(message) ? text.length : 0;
    const where = lineAndColumn(text, offset);
    throw new ScenarioError(file, where, `expected valid JSON (${detail})`);
  }
}

/** "line L, column C" (1-based) of a character offset. */
function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf("\n") + 1;
  return `line ${lineOf(text, offset)}, column ${offset - lineStart + 1}`;
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Reads and validates; throws one ScenarioError listing every problem found. */
export function loadScenario(text: string, file: string): Scenario {
  return validateScenario(parseScenarioText(text, file), file);
}

/**
 * Validates against the schema (every problem of the document at once), then the checks a schema cannot express
 * (every client's, topic's and fault's problems at once; the cluster's first, as the rest depend on it).
 */
export function validateScenario(value: unknown, file: string): Scenario {
  const result = Scenario.safeParse(value);
  if (!result.success) throw ScenarioError.of(file, describeIssues(Scenario, value, result.error.issues));
  checkSemantics(result.data, file);
  return result.data;
}

/** The hosts of a scenario, in start order: ZooKeeper servers, demo nodes, clients. */
export function scenarioNodes(scenario: Scenario): string[] {
  return scenarioGroups(scenario).any;
}

/** Named node groups, for {"random": group} selectors. */
export function scenarioGroups(scenario: Scenario): Record<string, string[]> {
  const zk = Array.from({ length: scenario.cluster.zookeeper?.servers ?? 0 }, (_, i) => `zk-${i + 1}`);
  const broker = Array.from({ length: scenario.cluster.brokers ?? 0 }, (_, i) => `broker-${i + 1}`);
  const admin = broker.length > 0 ? ["admin"] : [];
  const node = Array.from({ length: scenario.cluster.demo?.nodes ?? 0 }, (_, i) => `node-${i + 1}`);
  const client = scenario.clients.map((c) => c.id);
  const consumer = scenario.clients.filter((c) => c.type === "consumer" || c.type === "processor").map((c) => c.id);
  return { zk, broker, node, client, consumer, any: [...zk, ...broker, ...admin, ...node, ...client] };
}

/**
 * A producer's workload: `topic` or `topics` (several only for transactions), each a scenario topic; a
 * `transaction` workload exactly when config["transactional.id"] is set (Kafka refuses send() outside a
 * transaction, and beginTransaction() without a transactional.id); transactions need Kafka 0.11+.
 */
function checkProducerWorkload(scenario: Scenario, client: Extract<Client, { type: "producer" }>, i: number, topics: ReadonlySet<string>, file: string): void {
  const { workload, config } = client;
  const at = (...path: PropertyKey[]): string => jsonPath(["clients", i, ...path]);
  if ((workload.topic === undefined) === (workload.topics === undefined)) {
    throw new ScenarioError(file, at("workload"), 'expected "topic" (the topic written) or "topics" (a transactional producer\'s topics), not both');
  }
  const transactionalId = config["transactional.id"];
  if (workload.transaction !== undefined && transactionalId === undefined) {
    throw new ScenarioError(file, at("workload", "transaction"), 'expected config["transactional.id"] for a transaction workload (Kafka: "Transactional method invoked on a non-transactional producer")');
  }
  if (transactionalId !== undefined && workload.transaction === undefined) {
    throw new ScenarioError(file, at("config", "transactional.id"), 'expected workload.transaction ({"records": N, "abortEvery": K}) with a transactional.id (Kafka refuses send() outside a transaction)');
  }
  if (workload.topics !== undefined && workload.transaction === undefined) {
    throw new ScenarioError(file, at("workload", "topics"), 'expected "topic": several topics are for a transaction workload');
  }
  if (transactionalId !== undefined && scenario.cluster.version === "0.10.2") {
    throw new ScenarioError(file, at("config", "transactional.id"), 'expected cluster.version 0.11 or later: transactions arrived in Kafka 0.11 (KIP-98), found "0.10.2"');
  }
  const written = workload.topics ?? [workload.topic!];
  written.forEach((topic, t) => {
    if (!topics.has(topic)) {
      const path = workload.topics === undefined ? at("workload", "topic") : at("workload", "topics", t);
      throw new ScenarioError(file, path, `expected a topic of the scenario (${[...topics].join(", ") || "none"}), found "${topic}"`);
    }
  });
}

/**
 * A processor's rules: input and output are two different scenario topics; its producer config follows Kafka's
 * rules (idempotence for transactions); exactly_once_v2 needs Kafka 3.0+ (KIP-447's group metadata in TxnOffsetCommit
 * came with 2.5, the name with 3.0: presets before "3.3" are refused) and at_least_once takes no transactional.id;
 * the group rules of a consumer (heartbeat below the session timeout) apply.
 */
function checkProcessor(scenario: Scenario, client: ProcessorClient, i: number, topics: ReadonlySet<string>, file: string): void {
  const at = (...path: PropertyKey[]): string => jsonPath(["clients", i, ...path]);
  for (const key of ["input", "output"] as const) {
    if (!topics.has(client[key])) throw new ScenarioError(file, at(key), `expected a topic of the scenario (${[...topics].join(", ") || "none"}), found "${client[key]}"`);
  }
  if (client.input === client.output) throw new ScenarioError(file, at("output"), `expected an output topic other than the input ("${client.input}")`);
  const guarantee = client.config["processing.guarantee"] ?? "exactly_once_v2";
  const transactionalId = processorTransactionalId(client);
  if (guarantee === "at_least_once" && client.config["transactional.id"] !== undefined) {
    throw new ScenarioError(file, at("config", "transactional.id"), 'expected no transactional.id with processing.guarantee "at_least_once" (exactly_once_v2 makes the producer transactional)');
  }
  const version = (scenario.cluster.version ?? "3.x") as KafkaVersion;
  if (guarantee === "exactly_once_v2" && versionBefore(version, "3.3")) {
    throw new ScenarioError(file, at("config", "processing.guarantee"), `expected cluster.version "3.3" or later for exactly_once_v2 (KIP-447's TxnOffsetCommit with group metadata, named exactly_once_v2 in Kafka 3.0), found "${version}"; use "at_least_once"`);
  }
  const producerConfig = Object.fromEntries(Object.entries(client.config).filter(([key]) => PRODUCER_CONFIG_KEYS.includes(key)));
  const resolved = resolveProducerConfig(["broker-1"], transactionalId === null ? producerConfig : { ...producerConfig, "transactional.id": transactionalId });
  if (!resolved.ok) throw new ScenarioError(file, at("config"), `expected a valid producer config (${resolved.error})`);
  const heartbeat = client.config["heartbeat.interval.ms"];
  const session = client.config["session.timeout.ms"] ?? (versionBefore(version, "3.3") ? 10_000 : 45_000);
  if (heartbeat !== undefined && heartbeat >= session) {
    throw new ScenarioError(file, at("config", "heartbeat.interval.ms"), `expected heartbeat.interval.ms (${heartbeat}) below session.timeout.ms (${session}): Kafka refuses it ("Heartbeat must be set lower than the session timeout")`);
  }
}

function checkSemantics(scenario: Scenario, file: string): void {
  if (scenario.cluster.demo === undefined && scenario.cluster.zookeeper === undefined) {
    throw new ScenarioError(file, "$.cluster", 'expected "zookeeper" (with "brokers") and/or "demo"');
  }
  const groups = scenarioGroups(scenario);
  if (groups.broker.length > 0 && groups.zk.length === 0) {
    throw new ScenarioError(file, "$.cluster.brokers", "brokers need cluster.zookeeper (ZooKeeper mode)");
  }
  // Each client, topic list, fault and cross-key rule is checked apart, so a file's problems are all reported.
  const problems: ScenarioProblem[] = [];
  const collect = (check: () => void): void => {
    try {
      check();
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      problems.push(...error.problems);
    }
  };
  let topics = new Set(scenario.topics.map((topic) => topic.name));
  collect(() => (topics = checkTopics(scenario, file, groups.broker.length)));
  const nodes = new Set(groups.any);
  const seen = new Set<string>(["admin"]);
  scenario.clients.forEach((client, i) => collect(() => {
    if (seen.has(client.id) || groups.zk.includes(client.id) || groups.node.includes(client.id) || groups.broker.includes(client.id)) {
      throw new ScenarioError(file, jsonPath(["clients", i, "id"]), `expected a unique node name, found "${client.id}" twice (or a reserved name)`);
    }
    seen.add(client.id);
    if (client.type === "zk-session" && groups.zk.length === 0) {
      throw new ScenarioError(file, jsonPath(["clients", i, "type"]), 'a "zk-session" client needs cluster.zookeeper');
    }
    if (client.type === "consumer") {
      if (groups.broker.length === 0) throw new ScenarioError(file, jsonPath(["clients", i, "type"]), "a consumer needs cluster.brokers");
      checkGroupConsumer(scenario, client, i, file);
      client.topics.forEach((topic, t) => {
        if (!topics.has(topic)) throw new ScenarioError(file, jsonPath(["clients", i, "topics", t]), `expected a topic of the scenario (${[...topics].join(", ") || "none"}), found "${topic}"`);
      });
    }
    if (client.type === "processor") {
      if (groups.broker.length === 0) throw new ScenarioError(file, jsonPath(["clients", i, "type"]), "a processor needs cluster.brokers");
      checkProcessor(scenario, client, i, topics, file);
    }
    if (client.type === "producer") {
      if (groups.broker.length === 0) throw new ScenarioError(file, jsonPath(["clients", i, "type"]), "a producer needs cluster.brokers");
      // Kafka's own config rules (ProducerConfig): idempotence with acks, in-flight and retries, delivery timeout.
      const resolved = resolveProducerConfig(groups.broker, client.config);
      if (!resolved.ok) throw new ScenarioError(file, jsonPath(["clients", i, "config"]), `expected a valid producer config (${resolved.error})`);
      checkProducerWorkload(scenario, client, i, topics, file);
    }
  }));
  const randomGroups = Object.keys(groups).filter((name) => groups[name].length > 0);
  const checkRef = (ref: NodeRef, path: PropertyKey[]): void => {
    const where = jsonPath(path);
    if (typeof ref === "string") {
      if (ref === "controller") {
        if (groups.broker.length === 0) throw new ScenarioError(file, where, 'the selector "controller" needs cluster.brokers');
        return;
      }
      if (ref === "zk-leader") {
        if (groups.zk.length === 0) throw new ScenarioError(file, where, 'the selector "zk-leader" needs cluster.zookeeper');
        return;
      }
      if (!nodes.has(ref)) throw new ScenarioError(file, where, `expected one of the cluster's nodes (${[...nodes].join(", ")}), found "${ref}"`);
      return;
    }
    if ("coordinatorOf" in ref) {
      const known = consumerGroups(scenario);
      if (!known.includes(ref.coordinatorOf)) {
        throw new ScenarioError(file, `${where}.coordinatorOf`, `expected a consumer group of the scenario's clients (${known.join(", ") || "none"}), found "${ref.coordinatorOf}"`);
      }
      return;
    }
    if ("transactionCoordinatorOf" in ref) {
      const known = transactionalIds(scenario);
      if (!known.includes(ref.transactionCoordinatorOf)) {
        throw new ScenarioError(file, `${where}.transactionCoordinatorOf`, `expected a transactional.id of the scenario's producers (${known.join(", ") || "none"}), found "${ref.transactionCoordinatorOf}"`);
      }
      return;
    }
    if ("leaderOf" in ref) {
      const match = /^(.+)-(\d+)$/.exec(ref.leaderOf);
      if (match === null || !topics.has(match[1])) {
        throw new ScenarioError(file, `${where}.leaderOf`, `expected "<topic>-<partition>" of a scenario topic (${[...topics].join(", ") || "none"}), found "${ref.leaderOf}"`);
      }
      return;
    }
    if (!randomGroups.includes(ref.random)) {
      throw new ScenarioError(file, `${where}.random`, `expected one of ${randomGroups.map((g) => `"${g}"`).join(", ")}, found "${ref.random}"`);
    }
  };
  const checkList = (refs: readonly NodeRef[] | undefined, path: PropertyKey[]): void => {
    refs?.forEach((ref, i) => checkRef(ref, [...path, i]));
  };
  scenario.faults.forEach((fault: Fault, i) => collect(() => {
    const base: PropertyKey[] = ["faults", i];
    if ("node" in fault && fault.node !== undefined) checkRef(fault.node, [...base, "node"]);
    if ("nodes" in fault) checkList(fault.nodes, [...base, "nodes"]);
    if ("from" in fault) checkList(fault.from, [...base, "from"]);
    if ("to" in fault) checkList(fault.to, [...base, "to"]);
    if (fault.type === "partition") {
      const hasGroups = fault.groups !== undefined;
      const hasLink = fault.from !== undefined || fault.to !== undefined;
      if (hasGroups === hasLink) throw new ScenarioError(file, jsonPath(base), 'expected either "groups" or "from" and "to" (a one-way cut)');
      if (hasLink && (fault.from === undefined || fault.to === undefined)) {
        throw new ScenarioError(file, jsonPath(base), 'expected both "from" and "to" for a one-way partition');
      }
      fault.groups?.forEach((group, g) => {
        if (group !== "rest") checkList(group, [...base, "groups", g]);
      });
    }
    if (fault.type === "power-loss" && fault.node !== undefined && fault.nodes !== undefined) {
      throw new ScenarioError(file, jsonPath([...base, "nodes"]), 'expected "node" or "nodes", not both');
    }
    if ("until" in fault && "for" in fault && fault.until !== undefined && fault.for !== undefined) {
      throw new ScenarioError(file, jsonPath([...base, "until"]), 'expected "until" or "for", not both');
    }
  }));
  scenario.faults.forEach((fault, i) => collect(() => {
    const admin = ["create-topic", "delete-topic", "reassign", "preferred-election", "controlled-shutdown"];
    if (admin.includes(fault.type) && groups.broker.length === 0) {
      throw new ScenarioError(file, jsonPath(["faults", i, "type"]), `"${fault.type}" needs cluster.brokers`);
    }
    if (fault.type === "create-topic") checkTopic(fault.topic, ["faults", i, "topic"], file, groups.broker.length);
    if (fault.type === "reassign") {
      fault.partitions.forEach((p, j) =>
        p.replicas.forEach((id, k) => {
          if (id > groups.broker.length) throw new ScenarioError(file, jsonPath(["faults", i, "partitions", j, "replicas", k]), `expected a broker id from 1 to ${groups.broker.length}, found ${id}`);
        }),
      );
    }
  }));
  collect(() => checkBrokerConfig(scenario, file));
  const nemesis = nemesisProblem(scenario);
  if (nemesis !== null) problems.push({ path: nemesis[0], expected: nemesis[1] });
  if (scenario.cluster.config["disk.fsyncMs"] !== undefined) {
    const [min, max] = scenario.cluster.config["disk.fsyncMs"];
    if (min > max) problems.push({ path: jsonPath(["cluster", "config", "disk.fsyncMs"]), expected: "expected [min, max] with min <= max" });
  }
  if (Array.isArray(scenario.network.latencyMs) && scenario.network.latencyMs[0] > scenario.network.latencyMs[1]) {
    problems.push({ path: "$.network.latencyMs", expected: "expected [min, max] with min <= max" });
  }
  if (problems.length > 0) throw ScenarioError.of(file, problems);
}

/**
 * A group consumer's rules: `group` and config["group.id"] agree; a workload and group configs need a group;
 * the commit mode agrees with enable.auto.commit; the heartbeat is below the session timeout (Kafka's
 * Heartbeat refuses otherwise); static membership (2.3) and the cooperative assignor (2.4) need a release that
 * has them. A session timeout outside the brokers' group bounds is not refused: the coordinator answers
 * INVALID_SESSION_TIMEOUT, as Kafka does.
 */
function checkGroupConsumer(scenario: Scenario, client: ConsumerClient, i: number, file: string): void {
  const at = (...path: PropertyKey[]): string => jsonPath(["clients", i, ...path]);
  const config = client.config;
  if (config["isolation.level"] === "read_committed" && scenario.cluster.version === "0.10.2") {
    throw new ScenarioError(file, at("config", "isolation.level"), 'expected cluster.version 0.11 or later for read_committed: transactions arrived in Kafka 0.11 (KIP-98), found "0.10.2"');
  }
  if (client.group !== undefined && config["group.id"] !== undefined && client.group !== config["group.id"]) {
    throw new ScenarioError(file, at("config", "group.id"), `expected the same group as "group" ("${client.group}"), found "${config["group.id"]}"`);
  }
  const group = groupOf(client);
  if (group === null) {
    if (client.workload !== undefined) throw new ScenarioError(file, at("workload"), 'expected a group ("group" or config["group.id"]) for a consumer workload (without one the consumer is assigned every partition and reads continuously)');
    // Keys only a group consumer reads (max.poll.records too: the assign()-only workload has no application poll()).
    for (const key of GROUP_CONFIG_KEYS) {
      if ((config as Record<string, unknown>)[key] !== undefined) throw new ScenarioError(file, at("config", key), `expected a group ("group" or config["group.id"]) for "${key}" (only a group consumer reads it)`);
    }
    return;
  }
  const autoCommit = config["enable.auto.commit"];
  const commit = client.workload?.commit;
  if (commit === "auto" && autoCommit === false) {
    throw new ScenarioError(file, at("workload", "commit"), 'expected a manual commit mode ("sync-after-process", "async-after-process" or "before-process") with enable.auto.commit false, found "auto"');
  }
  if (commit !== undefined && commit !== "auto" && autoCommit === true) {
    throw new ScenarioError(file, at("config", "enable.auto.commit"), `expected enable.auto.commit false (or left out) with commit "${commit}", found true`);
  }
  const version = (scenario.cluster.version ?? "3.x") as KafkaVersion;
  const before = (release: KafkaVersion): boolean => versionBefore(version, release);
  const session = config["session.timeout.ms"] ?? (before("3.3") ? 10_000 : 45_000);
  const heartbeat = config["heartbeat.interval.ms"] ?? 3000;
  if (heartbeat >= session) {
    const key = config["heartbeat.interval.ms"] !== undefined ? "heartbeat.interval.ms" : "session.timeout.ms";
    throw new ScenarioError(file, at("config", key), `expected heartbeat.interval.ms (${heartbeat}) below session.timeout.ms (${session}): Kafka refuses it ("Heartbeat must be set lower than the session timeout")`);
  }
  if (config["group.instance.id"] !== undefined && before("2.4")) {
    throw new ScenarioError(file, at("config", "group.instance.id"), `expected cluster.version "2.4" or later for group.instance.id (static membership, KIP-345, came with Kafka 2.3), found "${version}"`);
  }
  const strategies = config["partition.assignment.strategy"] ?? [];
  const cooperative = strategies.findIndex((name) => name === "cooperative-sticky" || name === ASSIGNOR_CLASSES["cooperative-sticky"]);
  if (cooperative >= 0 && before("2.4")) {
    throw new ScenarioError(file, at("config", "partition.assignment.strategy", cooperative), `expected cluster.version "2.4" or later for the cooperative-sticky assignor (KIP-429, Kafka 2.4), found "${version}"`);
  }
}


/**
 * KafkaConfig.validateValues' rules between keys, on the effective values (version preset, then the scenario's
 * config): a follower's fetch wait fits in its socket timeout and in the lag time.
 */
function checkBrokerConfig(scenario: Scenario, file: string): void {
  if (scenario.cluster.brokers === undefined) return;
  const { replication } = resolveBrokerSettings(scenario.cluster.version as KafkaVersion, scenario.cluster.config, scenario.cluster.compat);
  const wait = replication["replica.fetch.wait.max.ms"];
  const rules: [string, number, string][] = [
    ["replica.socket.timeout.ms", replication["replica.socket.timeout.ms"], "replica.socket.timeout.ms should always be at least replica.fetch.wait.max.ms to prevent unnecessary socket timeouts"],
    ["replica.lag.time.max.ms", replication["replica.lag.time.max.ms"], "replica.fetch.wait.max.ms should always be less than or equal to replica.lag.time.max.ms to prevent frequent changes in ISR"],
  ];
  for (const [key, value, rule] of rules) {
    if (wait <= value) continue;
    const blamed = (scenario.cluster.config as Record<string, unknown>)[key] !== undefined ? key : "replica.fetch.wait.max.ms";
    throw new ScenarioError(file, jsonPath(["cluster", "config", blamed]), `expected replica.fetch.wait.max.ms (${wait}) ≤ ${key} (${value}): Kafka refuses to start (KafkaConfig: "${rule}")`);
  }
}

/** Topic checks a schema cannot express: assignments that fit the partition count, the RF and the brokers. */
function checkTopics(scenario: Scenario, file: string, brokers: number): Set<string> {
  const names = new Set<string>();
  scenario.topics.forEach((topic, i) => {
    if (names.has(topic.name)) throw new ScenarioError(file, jsonPath(["topics", i, "name"]), `expected a unique topic name, found "${topic.name}" twice`);
    names.add(topic.name);
    checkTopic(topic, ["topics", i], file, brokers);
  });
  if (scenario.topics.length > 0 && brokers === 0) throw new ScenarioError(file, "$.topics", "topics need cluster.brokers");
  for (const fault of scenario.faults) if (fault.type === "create-topic") names.add(fault.topic.name);
  return names;
}

function checkTopic(topic: Scenario["topics"][number], path: PropertyKey[], file: string, brokers: number): void {
  if (topic.replicationFactor > brokers) {
    throw new ScenarioError(file, jsonPath([...path, "replicationFactor"]), `expected at most ${brokers} (the number of brokers), found ${topic.replicationFactor}`);
  }
  if (topic.assignment === undefined) return;
  if (topic.assignment.length !== topic.partitions) {
    throw new ScenarioError(file, jsonPath([...path, "assignment"]), `expected ${topic.partitions} replica lists (one per partition), found ${topic.assignment.length}`);
  }
  topic.assignment.forEach((replicas, p) => {
    if (replicas.length !== topic.replicationFactor) {
      throw new ScenarioError(file, jsonPath([...path, "assignment", p]), `expected ${topic.replicationFactor} replicas (the replication factor), found ${replicas.length}`);
    }
    if (new Set(replicas).size !== replicas.length) throw new ScenarioError(file, jsonPath([...path, "assignment", p]), "expected distinct broker ids");
    replicas.forEach((id, r) => {
      if (id > brokers) throw new ScenarioError(file, jsonPath([...path, "assignment", p, r]), `expected a broker id from 1 to ${brokers}, found ${id}`);
    });
  });
}
