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

const SCENARIOS = new URL("../../scenarios/", import.meta.url);
const FILES = readdirSync(SCENARIOS).filter((name) => name.endsWith(".json")).sort();
const DOCUMENTS = FILES.map((name) => JSON.parse(readFileSync(new URL(name, SCENARIOS), "utf8")) as unknown);
const RUNS = Number(process.env.KAFKASIM_FUZZ_RUNS ?? 300);
/** file: $.path: expected… — one line. */
const ONE_LINE = /^[^\n]+\.(json|ya?ml): (\$[^\n]*|line \d+, column \d+): [^\n]+$/;

type Json = unknown;
type Mutation = { kind: "delete" | "replace" | "add" | "empty"; pathChoices: number[]; value: Json; key: string };

/** Outcome of loading: a world was built, or a one-line ScenarioError. Anything else fails the property. */
function loadOrReject(load: () => ReturnType<typeof validateScenario>): "loaded" | "rejected" {
  try {
    const scenario = load();
    // Every process is built and started (onStart) in the first virtual millisecond.
    const result = runScenario(scenario, { untilUs: 1000, hash: false });
    expect(result.error, "model error").to.equal(undefined);
    return "loaded";
  } catch (error) {
    if (!(error instanceof ScenarioError)) throw error;
    expect(error.message).to.match(ONE_LINE);
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
  value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom("10s", "broker-1", "zk-leader", -1, 0, 1e12, "", null, { leaderOf: "t-0" })),
  key: fc.oneof(fc.constantFrom("faults", "topics", "config", "compat", "acks", "node", "replicas", "seed"), fc.string({ maxLength: 8 })),
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
