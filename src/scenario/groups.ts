/**
 * The consumer groups a scenario names: each consumer client's group (`group` or config["group.id"], the same
 * thing), read by the loader, the world builder and the nemesis.
 */

import type { Scenario } from "./spec.ts";

/** The consumer groups of a scenario's clients (`group` or config["group.id"]), in client order. */
export function consumerGroups(scenario: Scenario): string[] {
  const groups: string[] = [];
  for (const client of scenario.clients) {
    const group = client.type === "consumer" ? groupOf(client) : null;
    if (group !== null && !groups.includes(group)) groups.push(group);
  }
  return groups;
}

export type ConsumerClient = Extract<Scenario["clients"][number], { type: "consumer" }>;

/** A consumer client's group: `group` or config["group.id"] (the same thing), or null. */
export function groupOf(client: ConsumerClient): string | null {
  return client.group ?? client.config["group.id"] ?? null;
}

