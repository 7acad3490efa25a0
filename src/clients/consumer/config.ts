/**
 * The Java consumer's configuration (ConsumerConfig.java) for the keys the model uses, with Kafka 3.x defaults.
 * Keys are Kafka's own dotted names; the resolved object is what the consumer records as its "client-config".
 */

export type AutoOffsetReset = "earliest" | "latest" | "none";
export type IsolationLevel = "read_uncommitted" | "read_committed";

export interface ConsumerConfig {
  "client.id": string;
  /** Where to start without a position, and after OFFSET_OUT_OF_RANGE or a detected truncation ("none": fail). */
  "auto.offset.reset": AutoOffsetReset;
  "fetch.min.bytes": number;
  "fetch.max.wait.ms": number;
  "fetch.max.bytes": number;
  "max.partition.fetch.bytes": number;
  "request.timeout.ms": number;
  "retry.backoff.ms": number;
  "metadata.max.age.ms": number;
  "isolation.level": IsolationLevel;
}

export const CONSUMER_CONFIG_DEFAULTS: Omit<ConsumerConfig, "client.id"> = {
  "auto.offset.reset": "latest",
  "fetch.min.bytes": 1,
  "fetch.max.wait.ms": 500,
  "fetch.max.bytes": 52_428_800,
  "max.partition.fetch.bytes": 1_048_576,
  "request.timeout.ms": 30_000,
  "retry.backoff.ms": 100,
  "metadata.max.age.ms": 300_000,
  "isolation.level": "read_uncommitted",
};

/** The effective configuration: Kafka's defaults under the given keys (undefined entries are ignored). */
export function consumerConfig(clientId: string, overrides: { readonly [K in keyof ConsumerConfig]?: ConsumerConfig[K] | undefined } = {}): ConsumerConfig {
  const config: ConsumerConfig = { "client.id": clientId, ...CONSUMER_CONFIG_DEFAULTS };
  for (const key of Object.keys(overrides) as (keyof ConsumerConfig)[]) {
    const value = overrides[key];
    if (value !== undefined) (config as unknown as Record<string, unknown>)[key] = value;
  }
  return config;
}
