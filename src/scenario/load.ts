/**
 * Turns scenario text (JSON or YAML) into a validated Scenario, or one ScenarioError naming the file, the
 * JSON path inside it and what was expected. Validation is the zod schema in spec.ts plus the checks a
 * schema cannot express (node names that exist, selectors this cluster can resolve).
 */

import { parse as parseYaml, YAMLParseError } from "yaml";
import type { z } from "zod";
import { Scenario, type Fault, type NodeRef } from "./spec.ts";

export class ScenarioError extends Error {
  constructor(
    readonly file: string,
    readonly path: string,
    readonly expected: string,
  ) {
    super(`${file}: ${path}: ${expected}`);
  }
}

/** `$.faults[2].at` from ["faults", 2, "at"]. */
export function jsonPath(path: readonly PropertyKey[]): string {
  let text = "$";
  for (const key of path) {
    if (typeof key === "number") text += `[${key}]`;
    else if (typeof key === "string" && /^[A-Za-z_$][\w$]*$/.test(key)) text += `.${key}`;
    else text += `[${JSON.stringify(String(key))}]`;
  }
  return text;
}

/** Parses JSON (or YAML for .yaml/.yml files) without validating. */
export function parseScenarioText(text: string, file: string): unknown {
  if (/\.ya?ml$/i.test(file)) {
    try {
      return parseYaml(text);
    } catch (error) {
      if (error instanceof YAMLParseError) {
        const position = error.linePos?.[0];
        const where = position ? `line ${position.line}, column ${position.col}` : "$";
        throw new ScenarioError(file, where, `expected valid YAML (${error.code})`);
      }
      throw error;
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message.replace(/^.*?:\s*/, "") : "";
    throw new ScenarioError(file, "$", `expected valid JSON (${detail})`);
  }
}

/** Reads and validates; throws ScenarioError on the first problem. */
export function loadScenario(text: string, file: string): Scenario {
  return validateScenario(parseScenarioText(text, file), file);
}

export function validateScenario(value: unknown, file: string): Scenario {
  const result = Scenario.safeParse(value);
  if (!result.success) {
    const issue = firstIssue(result.error.issues);
    throw new ScenarioError(file, jsonPath(issuePath(issue)), describeIssue(issue));
  }
  checkSemantics(result.data, file);
  return result.data;
}

type Issue = z.core.$ZodIssue;

/** The deepest, most specific issue: for a union, the branch that got furthest. */
function firstIssue(issues: readonly Issue[]): Issue {
  return issues[0];
}

function issuePath(issue: Issue): PropertyKey[] {
  if (issue.code === "unrecognized_keys" && issue.keys.length > 0) return [...issue.path, issue.keys[0]];
  return issue.path;
}

function describeIssue(issue: Issue): string {
  switch (issue.code) {
    case "unrecognized_keys":
      return `unknown key (not part of the scenario format)`;
    case "invalid_type":
      if (/received undefined$/.test(issue.message)) return `expected ${issue.expected}, found nothing (required)`;
      return tidy(issue.message);
    default:
      return tidy(issue.message);
  }
}

function tidy(message: string): string {
  return message.replace(/^Invalid (input|option): /, "").replace(/received/g, "found");
}

/** The hosts of a scenario, in start order: ZooKeeper servers, demo nodes, clients. */
export function scenarioNodes(scenario: Scenario): string[] {
  return scenarioGroups(scenario).any;
}

/** Named node groups, for {"random": group} selectors. */
export function scenarioGroups(scenario: Scenario): Record<string, string[]> {
  const zk = Array.from({ length: scenario.cluster.zookeeper?.servers ?? 0 }, (_, i) => `zk-${i + 1}`);
  const node = Array.from({ length: scenario.cluster.demo?.nodes ?? 0 }, (_, i) => `node-${i + 1}`);
  const client = scenario.clients.map((c) => c.id);
  return { zk, node, client, any: [...zk, ...node, ...client] };
}

function checkSemantics(scenario: Scenario, file: string): void {
  if (scenario.cluster.demo === undefined && scenario.cluster.zookeeper === undefined) {
    throw new ScenarioError(file, "$.cluster", 'expected "zookeeper" and/or "demo" (brokers arrive with the Kafka model)');
  }
  const groups = scenarioGroups(scenario);
  const nodes = new Set(groups.any);
  const seen = new Set<string>();
  scenario.clients.forEach((client, i) => {
    if (seen.has(client.id) || groups.zk.includes(client.id) || groups.node.includes(client.id)) {
      throw new ScenarioError(file, jsonPath(["clients", i, "id"]), `expected a unique node name, found "${client.id}" twice`);
    }
    seen.add(client.id);
    if (client.type === "zk-session" && groups.zk.length === 0) {
      throw new ScenarioError(file, jsonPath(["clients", i, "type"]), 'a "zk-session" client needs cluster.zookeeper');
    }
  });
  const randomGroups = Object.keys(groups).filter((name) => groups[name].length > 0);
  const checkRef = (ref: NodeRef, path: PropertyKey[]): void => {
    const where = jsonPath(path);
    if (typeof ref === "string") {
      if (ref === "controller") throw new ScenarioError(file, where, 'the selector "controller" needs brokers (they arrive with the Kafka model)');
      if (ref === "zk-leader") {
        if (groups.zk.length === 0) throw new ScenarioError(file, where, 'the selector "zk-leader" needs cluster.zookeeper');
        return;
      }
      if (!nodes.has(ref)) throw new ScenarioError(file, where, `expected one of the cluster's nodes (${[...nodes].join(", ")}), found "${ref}"`);
      return;
    }
    if ("leaderOf" in ref) throw new ScenarioError(file, where, 'the selector {"leaderOf"} needs brokers (they arrive with the Kafka model)');
    if (!randomGroups.includes(ref.random)) {
      throw new ScenarioError(file, `${where}.random`, `expected one of ${randomGroups.map((g) => `"${g}"`).join(", ")}, found "${ref.random}"`);
    }
  };
  const checkList = (refs: readonly NodeRef[] | undefined, path: PropertyKey[]): void => {
    refs?.forEach((ref, i) => checkRef(ref, [...path, i]));
  };
  scenario.faults.forEach((fault: Fault, i) => {
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
  });
  if (scenario.cluster.config["disk.fsyncMs"] !== undefined) {
    const [min, max] = scenario.cluster.config["disk.fsyncMs"];
    if (min > max) throw new ScenarioError(file, jsonPath(["cluster", "config", "disk.fsyncMs"]), "expected [min, max] with min <= max");
  }
  if (Array.isArray(scenario.network.latencyMs) && scenario.network.latencyMs[0] > scenario.network.latencyMs[1]) {
    throw new ScenarioError(file, "$.network.latencyMs", "expected [min, max] with min <= max");
  }
}
