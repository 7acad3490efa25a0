/**
 * The consumer groups a scenario names: each consumer client's group (`group` or config["group.id"], the same
 * thing), and its producers' transactional ids, read by the loader, the world builder and the nemesis.
 */

import type { Scenario } from "./spec.ts";

/** The consumer groups of a scenario's clients (`group` or config["group.id"]), in client order. */
export function consumerGroups(scenario: Scenario): string[] {
  const groups: string[] = [];
  for (const client of scenario.clients) {
    const group = client.type === "consumer" ? groupOf(client) : client.type === "processor" ? client.group : null;
    if (group !== null && !groups.includes(group)) groups.push(group);
  }
  return groups;
}

/** The transactional ids of a scenario's producers (config["transactional.id"]), in client order. */
export function transactionalIds(scenario: Scenario): string[] {
  const ids: string[] = [];
  for (const client of scenario.clients) {
    const id = client.type === "producer" ? client.config["transactional.id"] : client.type === "processor" ? processorTransactionalId(client) : undefined;
    if (id !== undefined && id !== null && !ids.includes(id)) ids.push(id);
  }
  return ids;
}

export type ProcessorClient = Extract<Scenario["clients"][number], { type: "processor" }>;

/** A processor's transactional.id: its config's, else its client id (exactly_once_v2); null for at_least_once. */
export function processorTransactionalId(client: ProcessorClient): string | null {
  if ((client.config["processing.guarantee"] ?? "exactly_once_v2") !== "exactly_once_v2") return null;
  return client.config["transactional.id"] ?? client.id;
}

export type ConsumerClient = Extract<Scenario["clients"][number], { type: "consumer" }>;

/** A consumer client's group: `group` or config["group.id"] (the same thing), or null. */
export function groupOf(client: ConsumerClient): string | null {
  return client.group ?? client.config["group.id"] ?? null;
}

