/**
 * The scenarios `kafkasim bench` measures, built in code and validated like any scenario file, so the
 * benchmark needs no files: the standard cluster (3 ZooKeeper servers, 5 brokers, one topic of 12 partitions
 * RF 3 with min.insync.replicas 2, three idempotent acks=all producers at 2,000 msgs/s in total), the same
 * cluster under a nemesis (chaos), a large cluster with a light load (scale), and the chaos scenario with
 * small retention and segment sizes for the memory soak; the standard scenario with a 6-member consumer group
 * (groups). Sizes are parameters so tests can shrink them.
 */

import { validateScenario } from "../scenario/load.ts";
import type { Scenario } from "../scenario/spec.ts";

/** The standard load: msgs/s over all producers, and how many producers share it. */
export const STANDARD_RATE_PER_SEC = 2000;
export const STANDARD_PRODUCERS = 3;
export const STANDARD_SIM_SECONDS = 600;
export const CHAOS_SIM_SECONDS = 60;
export const SCALE_BROKERS = 50;
export const SCALE_PARTITIONS = [1250, 2500, 5000, 20000] as const;
export const SCALE_SIM_SECONDS = 600;
export const SCALE_RATE_PER_SEC = 200;
export const SOAK_SIM_SECONDS = 3600;

type Spec = Record<string, unknown>;

function producers(count: number, totalRatePerSec: number, simSeconds: number, extraConfig: Spec = {}): Spec[] {
  const ratePerSec = totalRatePerSec / count;
  return Array.from({ length: count }, (_, i) => ({
    id: `p${i + 1}`,
    type: "producer",
    config: { acks: "all", "enable.idempotence": true, ...extraConfig },
    // Enough messages that the producer is still sending when the run ends.
    workload: { topic: "t", messages: Math.ceil(ratePerSec * simSeconds) + 1, ratePerSec, keys: 100 },
  }));
}

function standardCluster(config: Spec = {}): Spec {
  return { zookeeper: { servers: 3 }, brokers: 5, version: "3.x", config };
}

const STANDARD_TOPIC = { name: "t", partitions: 12, replicationFactor: 3, config: { "min.insync.replicas": 2 } };

/** The standard scenario: no faults, no settle; `simSeconds` of virtual time. */
export function standardSpec(simSeconds = STANDARD_SIM_SECONDS): Spec {
  return {
    name: "bench-standard",
    description: "3 ZooKeeper servers, 5 brokers, topic t (12 partitions, RF 3, min.insync.replicas 2), 3 idempotent acks=all producers at 2,000 msgs/s in total, no faults.",
    seed: 1,
    duration: `${simSeconds}s`,
    settle: 0,
    cluster: standardCluster(),
    topics: [STANDARD_TOPIC],
    clients: producers(STANDARD_PRODUCERS, STANDARD_RATE_PER_SEC, simSeconds),
    expect: { violations: [] },
  };
}

/** Members of the group workload's consumer group. */
export const GROUP_MEMBERS = 6;

/**
 * The group workload: the standard scenario plus a 6-member consumer group (group g1, auto-commit every 5 s,
 * the 3.x default assignors) reading topic t; `__consumer_offsets` with Kafka's defaults (50 partitions, RF 3).
 */
export function groupsSpec(simSeconds = STANDARD_SIM_SECONDS): Spec {
  const standard = standardSpec(simSeconds);
  const consumers = Array.from({ length: GROUP_MEMBERS }, (_, i) => ({
    id: `c${i + 1}`,
    type: "consumer",
    group: "g1",
    topics: ["t"],
    config: { "auto.offset.reset": "earliest" },
    workload: { processMs: 0.1, commit: "auto" },
  }));
  return {
    ...standard,
    name: "bench-groups",
    description: `${String(standard.description).replace(/, no faults\.$/, "")}, and a ${GROUP_MEMBERS}-member consumer group g1 reading t with auto-commit; no faults.`,
    clients: [...(standard.clients as Spec[]), ...consumers],
  };
}

/** Records per transaction, and every how many transactions one is aborted, in the transactions workload. */
export const TXN_RECORDS = 100;
export const TXN_ABORT_EVERY = 10;
export const TXN_PROCESSORS = 2;

/**
 * The transactions workload: the standard cluster and load with transactional producers (transactions of 100
 * records, one in ten aborted) writing t, two exactly-once processors (group eos) reading t read_committed and
 * writing topic out (12 partitions, RF 3), and a read_committed consumer of out; `__transaction_state` and
 * `__consumer_offsets` with Kafka's defaults (50 partitions, RF 3).
 */
export function transactionsSpec(simSeconds = STANDARD_SIM_SECONDS): Spec {
  const standard = standardSpec(simSeconds);
  const txnProducers = (standard.clients as Spec[]).map((client) => {
    const workload = client.workload as Spec;
    return {
      ...client,
      config: { ...(client.config as Spec), "transactional.id": `tx-${String(client.id)}` },
      workload: { topics: [workload.topic], messages: workload.messages, ratePerSec: workload.ratePerSec, keys: workload.keys, transaction: { records: TXN_RECORDS, abortEvery: TXN_ABORT_EVERY } },
    };
  });
  const processors = Array.from({ length: TXN_PROCESSORS }, (_, i) => ({ id: `x${i + 1}`, type: "processor", group: "eos", input: "t", output: "out" }));
  return {
    ...standard,
    name: "bench-transactions",
    description: `3 ZooKeeper servers, 5 brokers, topics t and out (12 partitions, RF 3, min.insync.replicas 2), ${STANDARD_PRODUCERS} transactional producers at ${STANDARD_RATE_PER_SEC} msgs/s in total (transactions of ${TXN_RECORDS} records, one in ${TXN_ABORT_EVERY} aborted), ${TXN_PROCESSORS} exactly-once processors t → out and a read_committed consumer of out; no faults.`,
    topics: [STANDARD_TOPIC, { ...STANDARD_TOPIC, name: "out" }],
    clients: [...txnProducers, ...processors, { id: "v1", type: "consumer", topics: ["out"], config: { "isolation.level": "read_committed" } }],
  };
}

/**
 * The chaos scenario: the standard cluster and load under a nemesis of broker crashes, partitions and pauses
 * (safe-chaos's safety settings: unclean election off, 6 s sessions), then the usual 30 s settle and the
 * history checkers. The expectation is no violation.
 */
export function chaosSpec(simSeconds = CHAOS_SIM_SECONDS): Spec {
  return {
    name: "bench-chaos",
    description: "The standard cluster and load under a nemesis of broker crashes, partitions and pauses; safe settings, so no violation is expected.",
    seed: 1,
    duration: `${simSeconds}s`,
    settle: "30s",
    cluster: standardCluster({ "zookeeper.session.timeout.ms": 6000, "replica.lag.time.max.ms": 10000, "unclean.leader.election.enable": false }),
    topics: [STANDARD_TOPIC],
    clients: producers(STANDARD_PRODUCERS, STANDARD_RATE_PER_SEC, simSeconds, { "request.timeout.ms": 5000 }),
    nemesis: { types: ["crash", "partition", "pause"], intervalMs: [2000, 8000], durationMs: [1000, 5000], maxConcurrent: 1, targets: "brokers" },
    expect: { violations: [] },
  };
}

/** The scale scenario: 50 brokers, one topic of `partitions` partitions (RF 3), one producer at 200 msgs/s. */
export function scaleSpec(partitions: number, simSeconds = SCALE_SIM_SECONDS, maxEvents = 50_000_000): Spec {
  return {
    name: `bench-scale-${partitions}`,
    description: `3 ZooKeeper servers, ${SCALE_BROKERS} brokers, topic t with ${partitions} partitions (RF 3, min.insync.replicas 2), one idempotent acks=all producer at ${SCALE_RATE_PER_SEC} msgs/s over 10,000 keys, no faults.`,
    seed: 1,
    duration: `${simSeconds}s`,
    settle: 0,
    cluster: { zookeeper: { servers: 3 }, brokers: SCALE_BROKERS, version: "3.x" },
    topics: [{ name: "t", partitions, replicationFactor: 3, config: { "min.insync.replicas": 2 } }],
    clients: [
      {
        id: "p1",
        type: "producer",
        config: { acks: "all", "enable.idempotence": true },
        workload: { topic: "t", messages: SCALE_RATE_PER_SEC * simSeconds + 1, ratePerSec: SCALE_RATE_PER_SEC, keys: 10_000 },
      },
    ],
    expect: { violations: [] },
    limits: { maxEvents },
  };
}

/** Retention settings of the soak: segments roll every few seconds and are deleted within about two minutes. */
export const SOAK_RETENTION = {
  "log.segment.bytes": 64 * 1024,
  "log.retention.ms": 60_000,
  "log.retention.bytes": 256 * 1024,
  "log.retention.check.interval.ms": 10_000,
} as const;

/** The soak: the chaos scenario for `simSeconds` (the nemesis throughout) with small segments and retention. */
export function soakSpec(simSeconds = SOAK_SIM_SECONDS): Spec {
  const spec = chaosSpec(simSeconds);
  spec.name = "bench-soak";
  spec.description = "The chaos scenario for an hour with small segments and retention, so segments roll and are deleted throughout.";
  spec.settle = 0;
  const cluster = spec.cluster as Spec;
  cluster.config = { ...(cluster.config as Spec), ...SOAK_RETENTION };
  return spec;
}

export function benchScenario(spec: Spec): Scenario {
  return validateScenario(spec, `${String(spec.name)} (built in)`);
}
