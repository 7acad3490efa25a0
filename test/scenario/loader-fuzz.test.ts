/**
 * Fuzzing the scenario loader: random documents, random text, and mutations of every scenario in scenarios/
 * (keys deleted, values replaced by random JSON, unknown keys added, arrays emptied) must each either load —
 * and then start every process without an exception — or be rejected with ScenarioError's one line naming the file,
 * the JSON path and what was expected. Never another exception, a stack trace or a hang.
 */

import { expect } from "chai";
import fc from "fast-check";
import { readdirSync, readFileSync } from "node:fs";
import { runScenario } from "../../src/scenario/run.ts";
import { loadScenario, ScenarioError, validateScenario } from "../../src/scenario/load.ts";
import { MAX_PROBLEMS } from "../../src/scenario/load-issues.ts";
import { allowedRange, BROKER_NUMBER_DEFS, CONSUMER_NUMBER_DEFS, PRODUCER_NUMBER_DEFS, TOPIC_NUMBER_DEFS, type NumberDef } from "../../src/scenario/config-def.ts";

const CONFIG_KEYS = [...new Set([BROKER_NUMBER_DEFS, TOPIC_NUMBER_DEFS, PRODUCER_NUMBER_DEFS, CONSUMER_NUMBER_DEFS].flatMap((defs) => Object.keys(defs)))];

const SCENARIOS = new URL("../../scenarios/", import.meta.url);
const FILES = readdirSync(SCENARIOS).filter((name) => name.endsWith(".json")).sort();
const DOCUMENTS = FILES.map((name) => JSON.parse(readFileSync(new URL(name, SCENARIOS), "utf8")) as unknown);
const RUNS = Number(process.env.KAFKASIM_FUZZ_RUNS ?? 300);
/** Events each loaded document may run (the run ends at its end time or at this bound). */
const RUN_EVENTS = Number(process.env.KAFKASIM_FUZZ_EVENTS ?? 20_000);
/** file: $.path: expected… — one line. */
const ONE_LINE = /^[^\n]+\.(json|ya?ml): (\$[^\n]*|line \d+, column \d+): [^\n]+$/;

type Json = unknown;
type Mutation = { kind: "delete" | "replace" | "add" | "empty"; pathChoices: number[]; value: Json; key: string };

/** Outcome of loading: a world was built, or a one-line ScenarioError. Anything else fails the property. */
function loadOrReject(load: () => ReturnType<typeof validateScenario>): "loaded" | "rejected" {
  try {
    const scenario = load();
    // The whole run (duration and settle), bounded in events: it must end with a verdict about Kafka or a bound,
    // never a model error or a zero-time stall.
    scenario.limits = { ...scenario.limits, maxEvents: Math.min(scenario.limits.maxEvents, RUN_EVENTS) };
    const result = runScenario(scenario, { hash: false });
    expect(result.error, "model error").to.equal(undefined);
    expect(result.verdict, result.detail).to.not.be.oneOf(["model-error", "stalled"]);
    expect(result.stats.events).to.be.at.most(RUN_EVENTS);
    return "loaded";
  } catch (error) {
    if (!(error instanceof ScenarioError)) throw error;
    // One line per problem, each naming the file, the path (or the line and column) and what was expected.
    for (const line of error.message.split("\n")) expect(line).to.match(ONE_LINE);
    expect(error.problems.length).to.be.within(1, MAX_PROBLEMS);
    return "rejected";
  }
}

/** Applies one mutation at a path chosen by `pathChoices` (each number picks a child, modulo the children). */
function mutate(document: Json, mutation: Mutation): Json {
  const root = structuredClone(document);
  let node: Json = root;
  let parent: Record<string, Json> | Json[] | null = null;
  let key: string | number | null = null;
  for (const choice of mutation.pathChoices) {
    if (node === null || typeof node !== "object") break;
    const keys: (string | number)[] = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    if (keys.length === 0) break;
    parent = node as Record<string, Json> | Json[];
    key = keys[choice % keys.length];
    node = (node as Record<string | number, Json>)[key];
  }
  const target = node !== null && typeof node === "object" ? (node as Record<string, Json> | Json[]) : parent;
  switch (mutation.kind) {
    case "delete":
      if (parent !== null && key !== null) {
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key as string];
      }
      break;
    case "replace":
      if (parent !== null && key !== null) (parent as Record<string | number, Json>)[key] = mutation.value;
      break;
    case "add":
      if (target !== null && !Array.isArray(target)) target[mutation.key] = mutation.value;
      else if (Array.isArray(target)) target.push(mutation.value);
      break;
    case "empty":
      if (Array.isArray(node)) node.length = 0;
      else if (node !== null && typeof node === "object") for (const k of Object.keys(node)) delete (node as Record<string, Json>)[k];
      break;
  }
  return root;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom("delete", "replace", "add", "empty"),
  pathChoices: fc.array(fc.nat(40), { minLength: 0, maxLength: 6 }),
  value: fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom("10s", "broker-1", "zk-leader", -1, 0, 1e12, "", null, { leaderOf: "t-0" }),
    // Extreme numbers: the ends of doubles, of Kafka's INT and LONG, fractions of a microsecond.
    fc.constantFrom(1e308, -1e308, 5e-324, 0.5, 0.0001, -0.5, 2147483647, 2147483648, -2147483649, 9223372036854775807, 2 ** 53 + 1, 1e-9),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer({ min: -1000, max: 100_000 }),
    // Bad and extreme units, unknown nodes and selectors.
    fc.constantFrom("10 parsecs", "5x", "1e3s", "-5s", "99999999999999999999h", "9007199254740993ms", "0.0000001ms", "1h", "8760h", "8761h", " 2 s "),
    fc.constantFrom("broker-99", "zk-9", "node-0", "p9", "controller", { random: "nobody" }, { leaderOf: "nope-0" }, { leaderOf: "t-99" }),
  ),
  key: fc.oneof(
    fc.constantFrom("faults", "topics", "config", "compat", "acks", "node", "replicas", "seed", "duration", "settle", "at", "for", "until", "ratePerSec", "messages", "latencyMs"),
    // Every Kafka config key the scenario format knows, so "add" sets them to extreme values.
    fc.constantFrom(...CONFIG_KEYS),
    fc.string({ maxLength: 8 }),
  ),
});

describe("scenario loader fuzz", function () {
  this.timeout(120_000);

  it("every scenario file loads as it is", () => {
    for (const [i, document] of DOCUMENTS.entries()) expect(loadOrReject(() => validateScenario(document, FILES[i]))).to.equal("loaded");
  });

  it("mutated scenario files load or are rejected with one line", () => {
    let rejected = 0;
    fc.assert(
      fc.property(fc.nat(DOCUMENTS.length - 1), fc.array(mutation, { minLength: 1, maxLength: 3 }), (index, mutations) => {
        const document = mutations.reduce(mutate, DOCUMENTS[index]);
        if (loadOrReject(() => validateScenario(document, FILES[index])) === "rejected") rejected++;
      }),
      { numRuns: RUNS },
    );
    // The mutations are not all harmless: most documents must be refused.
    expect(rejected).to.be.greaterThan(RUNS / 4);
  });

  it("Kafka config keys set to extreme values load and run to a verdict, or are rejected with one line", () => {
    const kafkaDocs = DOCUMENTS.map((document, i) => ({ document, file: FILES[i] })).filter(({ document }) => (document as { cluster?: { brokers?: number } }).cluster?.brokers !== undefined);
    const places: [string, Readonly<Record<string, NumberDef>>][] = [
      ["cluster", BROKER_NUMBER_DEFS],
      ["topic", TOPIC_NUMBER_DEFS],
      ["producer", PRODUCER_NUMBER_DEFS],
      ["consumer", CONSUMER_NUMBER_DEFS],
    ];
    const entries = places.flatMap(([place, defs]) => Object.entries(defs).map(([key, def]) => [place, key, def] as const));
    const extreme = fc.oneof(
      fc.constantFrom(-1, 0, 1, 2, 0.5, -0.5, 1e308, -1e308, 2147483647, 2147483648, -2147483648, 9223372036854775807, -9223372036854775808, 2 ** 53 + 1),
      fc.integer({ min: -10, max: 10_000 }),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
    );
    // Each key equally likely, its value mostly at or just beyond the edges of its accepted range.
    const setting = fc.constantFrom(...entries).chain(([place, key, def]) => {
      const [low, high] = allowedRange(def);
      const edges = fc.constantFrom(low, high, low - 1, high + 1, -1, 0, 1);
      return fc.tuple(fc.constant(place), fc.constant(key), fc.oneof({ arbitrary: edges, weight: 3 }, { arbitrary: extreme, weight: 1 }));
    });
    let loaded = 0;
    fc.assert(
      fc.property(fc.nat(kafkaDocs.length - 1), fc.array(setting, { minLength: 1, maxLength: 3 }), (index, settings) => {
        const document = structuredClone(kafkaDocs[index].document) as {
          cluster: { config?: Record<string, unknown> };
          topics?: { config?: Record<string, unknown> }[];
          clients?: { type: string; config?: Record<string, unknown> }[];
        };
        for (const [place, key, value] of settings) {
          if (place === "cluster") document.cluster.config = { ...document.cluster.config, [key]: value };
          if (place === "topic") for (const topic of document.topics ?? []) topic.config = { ...topic.config, [key]: value };
          for (const client of document.clients ?? []) if (client.type === place) client.config = { ...client.config, [key]: value };
        }
        if (loadOrReject(() => validateScenario(document, kafkaDocs[index].file)) === "loaded") loaded++;
      }),
      { numRuns: RUNS },
    );
    // Not everything is refused: many extreme values are valid Kafka configs and must run.
    expect(loaded).to.be.greaterThan(RUNS / 10);
  });

  it("random documents are rejected with one line", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (document) => {
        expect(loadOrReject(() => validateScenario(document, "random.json"))).to.equal("rejected");
      }),
      { numRuns: RUNS },
    );
  });

  it("random text as JSON or YAML loads or is rejected with one line", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.constantFrom("x.json", "x.yaml", "x.yml"), (text, file) => {
        loadOrReject(() => loadScenario(text, file));
      }),
      { numRuns: RUNS },
    );
  });
});
