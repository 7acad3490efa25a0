/**
 * Turns the schema's issues for one scenario document into the problems a reader can act on, all of them at
 * once: an enum names its allowed values (`acks: 2` → expected one of "all", "1", "0", "-1"); an unknown key is
 * named with the closest known key, and a misspelt required key is reported once, as the unknown one ("durattion":
 * did you mean "duration"?), not also as the missing one; a real Kafka config key the model does not read yet
 * is "not modelled yet" rather than "not part of the scenario format"; duplicates are dropped.
 */

import type { z } from "zod";
import { KAFKA_BROKER_CONFIG_KEYS, KAFKA_CONSUMER_CONFIG_KEYS, KAFKA_PRODUCER_CONFIG_KEYS, KAFKA_TOPIC_CONFIG_KEYS } from "./kafka-config-keys.ts";

type Issue = z.core.$ZodIssue;
type Schema = z.core.$ZodType;

export interface ScenarioProblem {
  /** The JSON path (`$.clients[0].config.acks`). */
  readonly path: string;
  /** What was expected there, and what was found. */
  readonly expected: string;
}

/** At most this many problems are reported for one file (the rest are counted). */
export const MAX_PROBLEMS = 20;

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

/** Every problem of a document the schema refused, in the schema's order, without repeats. */
export function describeIssues(root: Schema, document: unknown, issues: readonly Issue[]): ScenarioProblem[] {
  const problems: ScenarioProblem[] = [];
  const seen = new Set<string>();
  // One problem per path: the first the schema reports (a refinement after a failed check adds nothing).
  const add = (path: readonly PropertyKey[], expected: string): void => {
    const problem = { path: jsonPath(path), expected };
    if (seen.has(problem.path)) return;
    seen.add(problem.path);
    problems.push(problem);
  };
  // Each unknown key with the closest key its object allows; a missing required key that one of them misspells
  // is reported with the unknown key, not on its own.
  const unknown = issues
    .filter((issue) => issue.code === "unrecognized_keys")
    .flatMap((issue) => {
      const parent = valueAt(document, issue.path);
      const known = knownKeys(root, document, issue.path);
      return issue.keys.map((key) => {
        const closest = closestKey(key, known);
        const missing = closest !== null && isObject(parent) && parent[closest] === undefined && isReportedMissing(issues, [...issue.path, closest], document);
        return { issue, key, known, closest, missing };
      });
    });
  const explainedMissing = new Set(unknown.filter((entry) => entry.missing).map((entry) => jsonPath([...entry.issue.path, entry.closest!])));
  for (const issue of issues) {
    if (issue.code === "unrecognized_keys") {
      for (const entry of unknown) if (entry.issue === issue) add([...issue.path, entry.key], describeUnknownKey(entry.key, issue.path, entry.known, entry.closest, entry.missing));
      continue;
    }
    if (explainedMissing.has(jsonPath(issue.path)) && valueAt(document, issue.path) === undefined) continue;
    add(issue.path, describeIssue(issue, valueAt(document, issue.path)));
  }
  return problems;
}

function describeUnknownKey(key: string, path: readonly PropertyKey[], known: readonly string[], closest: string | null, closestIsMissing: boolean): string {
  const kafka = kafkaConfigKind(path, key);
  if (kafka !== null && !known.includes(key)) return `not modelled yet (a real ${kafka} config; kafkasim reads ${known.length} keys here, listed in docs/scenarios.md)`;
  if (closest === null) return "unknown key (not part of the scenario format)";
  return `unknown key: did you mean "${closest}"?${closestIsMissing ? " (required, and missing)" : ""}`;
}

/** Which Kafka config object a path is (a `config` map under the cluster, a topic or a client), if `key` is one of Kafka's keys there. */
function kafkaConfigKind(path: readonly PropertyKey[], key: string): string | null {
  if (path[path.length - 1] !== "config") return null;
  if (path[0] === "cluster") return KAFKA_BROKER_CONFIG_KEYS.has(key) || KAFKA_TOPIC_CONFIG_KEYS.has(key) ? "Kafka broker" : null;
  if (path[0] === "topics" || path.includes("topic")) return KAFKA_TOPIC_CONFIG_KEYS.has(key) ? "Kafka topic" : null;
  if (path[0] === "clients") {
    if (KAFKA_PRODUCER_CONFIG_KEYS.has(key)) return "Kafka producer";
    if (KAFKA_CONSUMER_CONFIG_KEYS.has(key)) return "Kafka consumer";
  }
  return null;
}

function describeIssue(issue: Issue, found: unknown): string {
  const shown = found === undefined ? "nothing" : JSON.stringify(found);
  switch (issue.code) {
    case "invalid_union": {
      const values = unionLiterals(issue);
      if (values !== null) return `expected one of ${values.join(", ")}, found ${shown}`;
      if (found === undefined && !/^Invalid input$/.test(issue.message)) return `${tidy(issue.message)}, found nothing (required)`;
      return tidy(issue.message);
    }
    case "invalid_value":
      if (issue.values.length > 1) return `expected one of ${literals(issue.values).join(", ")}, found ${shown}`;
      return `${tidy(issue.message)}, found ${shown}`;
    case "invalid_type":
      // zod's own message ends "received undefined" for a missing key; a schema's own message is kept.
      if (found === undefined && /received undefined$/.test(issue.message)) return `expected ${issue.expected}, found nothing (required)`;
      return tidy(issue.message);
    default:
      return tidy(issue.message);
  }
}

/** The allowed values of a union of literals (acks: "all" | "1" | "0" | "-1" | -1 | 0 | 1), or null. */
function unionLiterals(issue: Extract<Issue, { code: "invalid_union" }>): string[] | null {
  const values: unknown[] = [];
  for (const branch of issue.errors) {
    if (branch.length !== 1) return null;
    const only = branch[0];
    if (only.code !== "invalid_value" || only.path.length !== 0) return null;
    values.push(...only.values);
  }
  return values.length > 0 ? literals(values) : null;
}

/** Values as JSON, each once: the number 1 is not listed again beside the string "1". */
function literals(values: readonly unknown[]): string[] {
  const shown: string[] = [];
  const seen = new Set<string>();
  for (const value of values) {
    if (seen.has(String(value))) continue;
    seen.add(String(value));
    shown.push(JSON.stringify(value));
  }
  return shown;
}

function tidy(message: string): string {
  return message.replace(/^Invalid (input|option): /, "").replace(/received/g, "found");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function valueAt(document: unknown, path: readonly PropertyKey[]): unknown {
  let value = document;
  for (const key of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function isReportedMissing(issues: readonly Issue[], path: readonly PropertyKey[], document: unknown): boolean {
  const target = jsonPath(path);
  return valueAt(document, path) === undefined && issues.some((issue) => issue.code !== "unrecognized_keys" && jsonPath(issue.path) === target);
}

/**
 * The keys the schema allows in the object at `path`, following the document's own values through unions (a
 * discriminated union by its discriminator), optionals, defaults, pipes and lazies. Reads zod's definitions.
 */
export function knownKeys(root: Schema, document: unknown, path: readonly PropertyKey[]): string[] {
  const keys = new Set<string>();
  const visit = (schema: Schema, value: unknown, depth: number, budget: { left: number }): void => {
    if (--budget.left < 0) return;
    const def = (schema as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
    switch (def.type) {
      case "optional":
      case "default":
      case "prefault":
      case "nullable":
      case "readonly":
      case "catch":
      case "nonoptional":
        return visit(def.innerType as Schema, value, depth, budget);
      case "pipe":
        return visit(def.in as Schema, value, depth, budget);
      case "lazy":
        return visit((def.getter as () => Schema)(), value, depth, budget);
      case "union": {
        const discriminator = def.discriminator as string | undefined;
        for (const option of def.options as Schema[]) {
          if (discriminator !== undefined && isObject(value) && value[discriminator] !== undefined) {
            const tag = (option as unknown as { _zod: { def: { shape?: Record<string, Schema> } } })._zod.def.shape?.[discriminator];
            const tagValues = tag === undefined ? undefined : (tag as unknown as { _zod: { def: { values?: unknown[] } } })._zod.def.values;
            if (tagValues !== undefined && !tagValues.includes(value[discriminator])) continue;
          }
          visit(option, value, depth, budget);
        }
        return;
      }
      case "object": {
        const shape = def.shape as Record<string, Schema>;
        if (depth === path.length) {
          for (const key of Object.keys(shape)) keys.add(key);
          return;
        }
        const key = path[depth];
        if (typeof key === "string" && shape[key] !== undefined) visit(shape[key], isObject(value) ? value[key] : undefined, depth + 1, budget);
        return;
      }
      case "array":
        if (depth < path.length) visit(def.element as Schema, Array.isArray(value) ? value[path[depth] as number] : undefined, depth + 1, budget);
        return;
      case "record":
        if (depth < path.length) visit(def.valueType as Schema, isObject(value) ? value[path[depth] as string] : undefined, depth + 1, budget);
        return;
      default:
        return;
    }
  };
  visit(root, document, 0, { left: 10_000 });
  return [...keys];
}

/** The known key closest to `key` by edit distance, if close enough to be a misspelling of it (or a case slip). */
export function closestKey(key: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best === null) return null;
  return bestDistance <= Math.max(1, Math.min(3, Math.floor(best.length / 3))) ? best : null;
}

/** Levenshtein distance (insertions, deletions, substitutions; an adjacent swap counts once). */
export function editDistance(a: string, b: string): number {
  const previous: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  const before: number[] = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const current: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) distance = Math.min(distance, before[j - 2] + 1);
      current.push(distance);
    }
    before.splice(0, before.length, ...previous);
    previous.splice(0, previous.length, ...current);
  }
  return previous[b.length];
}
