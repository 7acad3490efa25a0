/**
 * The producer's configuration (ProducerConfig.java, Kafka 3.x defaults) and its post-processing: acks parsed
 * ("all" = -1), idempotence validated against acks / retries / max.in.flight.requests.per.connection
 * (postProcessAndValidateIdempotenceConfigs: silently disabled when the user did not set enable.idempotence,
 * a config error when they set it to true), and delivery.timeout.ms checked against linger.ms +
 * request.timeout.ms (KafkaProducer.configureDeliveryTimeout). Only the keys the model uses exist.
 */

import type { Acks } from "../../protocol/kafka.ts";

/** The effective configuration, under Kafka's own keys. */
export interface ProducerConfig {
  /** Broker host names to ask for metadata first (bootstrap.servers). */
  readonly "bootstrap.servers": readonly string[];
  readonly acks: Acks;
  readonly "batch.size": number;
  readonly "linger.ms": number;
  readonly "max.in.flight.requests.per.connection": number;
  readonly retries: number;
  readonly "retry.backoff.ms": number;
  readonly "request.timeout.ms": number;
  readonly "delivery.timeout.ms": number;
  readonly "enable.idempotence": boolean;
  readonly "metadata.max.age.ms": number;
  /** How long send() may wait for the topic's metadata before failing the record. */
  readonly "max.block.ms": number;
  readonly "reconnect.backoff.ms": number;
  /** The reconnect backoff's ceiling (KIP-144): the backoff doubles per failed attempt in a row up to it. */
  readonly "reconnect.backoff.max.ms": number;
  readonly "max.request.size": number;
  /** The bytes the accumulator's batches may hold; send() blocks (up to max.block.ms) beyond it. */
  readonly "buffer.memory": number;
  /** transactional.id: null (default) for a non-transactional producer. */
  readonly "transactional.id": string | null;
  /** The transaction timeout the producer asks its coordinator for (InitProducerId). */
  readonly "transaction.timeout.ms": number;
}

/** What a user (a scenario) may set: Kafka keys; acks as "all" | "-1" | "0" | "1" or a number. */
export type ProducerConfigInput = Partial<Omit<Record<keyof ProducerConfig, unknown>, "acks">> & {
  acks?: "all" | "-1" | "0" | "1" | -1 | 0 | 1;
};

export const PRODUCER_DEFAULTS: Omit<ProducerConfig, "bootstrap.servers"> = {
  acks: -1,
  "batch.size": 16_384,
  "linger.ms": 0,
  "max.in.flight.requests.per.connection": 5,
  retries: 2_147_483_647,
  "retry.backoff.ms": 100,
  "request.timeout.ms": 30_000,
  "delivery.timeout.ms": 120_000,
  "enable.idempotence": true,
  "metadata.max.age.ms": 300_000,
  "max.block.ms": 60_000,
  "reconnect.backoff.ms": 50,
  "reconnect.backoff.max.ms": 1000,
  "max.request.size": 1_048_576,
  "buffer.memory": 33_554_432,
  "transactional.id": null,
  "transaction.timeout.ms": 60_000,
};

/** ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION_FOR_IDEMPOTENCE. */
export const MAX_IN_FLIGHT_FOR_IDEMPOTENCE = 5;

export type ProducerConfigResult = { ok: true; config: ProducerConfig; notes: string[] } | { ok: false; error: string };

function parseAcks(acks: ProducerConfigInput["acks"]): Acks | null {
  if (acks === undefined) return -1;
  if (acks === "all" || acks === "-1" || acks === -1) return -1;
  if (acks === "1" || acks === 1) return 1;
  if (acks === "0" || acks === 0) return 0;
  return null;
}

const NUMERIC_KEYS = [
  "batch.size",
  "linger.ms",
  "max.in.flight.requests.per.connection",
  "retries",
  "retry.backoff.ms",
  "request.timeout.ms",
  "delivery.timeout.ms",
  "metadata.max.age.ms",
  "max.block.ms",
  "reconnect.backoff.ms",
  "reconnect.backoff.max.ms",
  "max.request.size",
  "buffer.memory",
  "transaction.timeout.ms",
] as const;

/** Kafka's config post-processing; `notes` lists what was changed silently (as Kafka logs it). */
export function resolveProducerConfig(bootstrap: readonly string[], input: ProducerConfigInput = {}): ProducerConfigResult {
  if (bootstrap.length === 0) return { ok: false, error: "bootstrap.servers must name at least one broker" };
  const acks = parseAcks(input.acks);
  if (acks === null) return { ok: false, error: `Invalid configuration value for 'acks': ${String(input.acks)}` };
  const values: Record<string, number> = {};
  for (const key of NUMERIC_KEYS) {
    const value = input[key] ?? PRODUCER_DEFAULTS[key];
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) return { ok: false, error: `${key} must be a non-negative integer` };
    values[key] = value;
  }
  if (values["max.in.flight.requests.per.connection"] < 1) return { ok: false, error: "max.in.flight.requests.per.connection must be at least 1" };
  if (values["request.timeout.ms"] < 1) return { ok: false, error: "request.timeout.ms must be positive" };
  const notes: string[] = [];
  const transactionalId = input["transactional.id"] ?? null;
  if (transactionalId !== null && (typeof transactionalId !== "string" || transactionalId === "")) return { ok: false, error: "transactional.id must be a non-empty string" };
  if (transactionalId !== null && input["enable.idempotence"] === false) {
    return { ok: false, error: "Cannot set a transactional.id without also enabling idempotence." };
  }
  const idempotenceSet = input["enable.idempotence"] !== undefined;
  if (idempotenceSet && typeof input["enable.idempotence"] !== "boolean") return { ok: false, error: "enable.idempotence must be a boolean" };
  let idempotence = idempotenceSet ? (input["enable.idempotence"] as boolean) : PRODUCER_DEFAULTS["enable.idempotence"];
  if (idempotence) {
    const conflicts: [boolean, string, string][] = [
      [values.retries === 0, "Must set retries to non-zero when using the idempotent producer.", "retries is set to 0"],
      [acks !== -1, "Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence.", `acks is set to ${acks}, not set to 'all'`],
      [
        values["max.in.flight.requests.per.connection"] > MAX_IN_FLIGHT_FOR_IDEMPOTENCE,
        "Must set max.in.flight.requests.per.connection to at most 5 to use the idempotent producer.",
        `max.in.flight.requests.per.connection is set to ${values["max.in.flight.requests.per.connection"]}, which is greater than 5`,
      ],
    ];
    for (const [conflict, error, note] of conflicts) {
      if (!conflict) continue;
      if (idempotenceSet || transactionalId !== null) return { ok: false, error };
      notes.push(`Idempotence will be disabled because ${note}.`);
      idempotence = false;
    }
  }
  // batch.size 0 disables batching: in practice a batch of one record (KafkaProducer: Math.max(1, batch.size)).
  values["batch.size"] = Math.max(1, values["batch.size"]);
  const lingerAndRequestTimeout = values["linger.ms"] + values["request.timeout.ms"];
  if (values["delivery.timeout.ms"] < lingerAndRequestTimeout) {
    if (input["delivery.timeout.ms"] !== undefined) return { ok: false, error: "delivery.timeout.ms should be equal to or larger than linger.ms + request.timeout.ms" };
    notes.push(`delivery.timeout.ms raised to linger.ms + request.timeout.ms = ${lingerAndRequestTimeout}.`);
    values["delivery.timeout.ms"] = lingerAndRequestTimeout;
  }
  const config: ProducerConfig = {
    "bootstrap.servers": [...bootstrap],
    acks,
    "batch.size": values["batch.size"],
    "linger.ms": values["linger.ms"],
    "max.in.flight.requests.per.connection": values["max.in.flight.requests.per.connection"],
    retries: values.retries,
    "retry.backoff.ms": values["retry.backoff.ms"],
    "request.timeout.ms": values["request.timeout.ms"],
    "delivery.timeout.ms": values["delivery.timeout.ms"],
    "enable.idempotence": idempotence,
    "metadata.max.age.ms": values["metadata.max.age.ms"],
    "max.block.ms": values["max.block.ms"],
    "reconnect.backoff.ms": values["reconnect.backoff.ms"],
    "reconnect.backoff.max.ms": values["reconnect.backoff.max.ms"],
    "max.request.size": values["max.request.size"],
    "buffer.memory": values["buffer.memory"],
    "transactional.id": transactionalId,
    "transaction.timeout.ms": values["transaction.timeout.ms"],
  };
  return { ok: true, config, notes };
}

/** The effective config as the "client-config" trace event carries it (acks as Kafka prints it: "all", "1", "0"). */
export function describeProducerConfig(config: ProducerConfig): Record<string, unknown> {
  // The transactional keys appear only for a transactional producer (the trace of others is unchanged).
  const { "transactional.id": transactionalId, "transaction.timeout.ms": transactionTimeoutMs, ...rest } = config;
  const transactional = transactionalId === null ? {} : { "transactional.id": transactionalId, "transaction.timeout.ms": transactionTimeoutMs };
  return { ...rest, ...transactional, acks: config.acks === -1 ? "all" : String(config.acks), "bootstrap.servers": config["bootstrap.servers"].join(",") };
}
