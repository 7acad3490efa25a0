/**
 * Golden traces: every scenario of scenarios/ at its own seed must produce exactly the trace it produced when
 * the table below was pinned (the running hash of the trace, `stats.traceHash`). A change of model behaviour —
 * even one that no checker notices — changes some hash, so it cannot go unseen.
 *
 * To re-pin on purpose: `KAFKASIM_REPIN=1 npx mocha --grep "golden traces"` prints the new table; paste it
 * over GOLDEN and say in the commit message why the traces changed.
 */

import { expect } from "chai";
import { readFileSync, readdirSync } from "node:fs";
import { loadScenario } from "../../src/scenario/load.ts";
import { runScenario } from "../../src/scenario/run.ts";

const ROOT = new URL("../..", import.meta.url);

/** Scenario name → trace hash at the scenario's own seed. */
const GOLDEN: Readonly<Record<string, string>> = {
  // GOLDEN-TABLE-START
  "acks1-leader-crash": "069849e80c1ab76b",
  "compaction": "eb44694addb7bf6a",
  "controlled-shutdown": "cbc1d39d6d3dab4c",
  "controller-failover": "d3d090079204a0f8",
  "demo-pingpong": "c49205920a492437",
  "happy-path": "f69635ac19215976",
  "hot-partition": "59c630394349f695",
  "isr-shrink-expand": "134a519ae7e13133",
  "jepsen-2013-safe": "c1c8498d0943e87c",
  "jepsen-2013-unclean": "872a26cd05234d0b",
  "kip-101-data-loss": "26894c24a76bcab2",
  "kip-101-divergence": "13e988f57fb5a087",
  "kip-101-divergence-fixed": "97d7bc544db4302b",
  "kip-101-divergence-flush": "2f48acad41e7de3a",
  "kip-101-fixed": "1a2f274bb0c6647f",
  "kip-279-divergence": "14db64e9bf4b712b",
  "kip-279-fixed": "66d53cfdd6298510",
  "last-replica-standing": "a0dedda3e3a49ddb",
  "last-replica-standing-flush": "5e6ad99480538309",
  "leader-failover": "1213560702955a06",
  "not-enough-replicas": "811a71b43289aecd",
  "preferred-leader": "c62205b44f33c5c4",
  "producer-idempotent": "eaf7fc0d705899f1",
  "producer-retry-duplicates": "3afea2dfa0bfff96",
  "producer-retry-reorder": "ce390356f80729ad",
  "reassignment": "c7e70cce2334f392",
  "retention": "87b2042d81baf624",
  "safe-chaos": "71e7a74dbcb25526",
  "unclean-election": "e178cf4c28f1d692",
  "unclean-election-off": "dc5819b08920bf39",
  "zk-session-expiry": "61279d495c29311b",
  "zombie-controller": "aa5ea4b48508ed65",
  "zombie-controller-fenced": "ae44b9e15032763d",
  "zombie-leader": "1723f3c119c5de4e",
  "zombie-leader-acks-all": "6fd6384193a27d48",
// GOLDEN-TABLE-END
};

const REPIN = process.env.KAFKASIM_REPIN === "1";
const HOW_TO_REPIN =
  'if the change of behaviour is intended, re-pin with `KAFKASIM_REPIN=1 npx mocha --grep "golden traces"`, ' +
  "paste the printed table over GOLDEN in test/scenario/golden.test.ts, and say why the traces changed in the commit message";

const files = readdirSync(new URL("scenarios/", ROOT))
  .filter((file) => /\.(json|ya?ml)$/.test(file))
  .sort();

describe("golden traces (scenarios/ at their own seeds)", function () {
  this.timeout(120_000);
  const found = new Map<string, string>();

  for (const file of files) {
    it(`scenarios/${file}`, () => {
      const scenario = loadScenario(readFileSync(new URL(`scenarios/${file}`, ROOT), "utf8"), `scenarios/${file}`);
      const hash = runScenario(scenario).stats.traceHash;
      found.set(scenario.name, hash);
      if (REPIN) return;
      const pinned = GOLDEN[scenario.name];
      expect(pinned, `${scenario.name} has no pinned trace hash: ${HOW_TO_REPIN}`).to.be.a("string");
      expect(hash, `${scenario.name}: the trace changed (seed ${String(scenario.seed)}): ${HOW_TO_REPIN}`).to.equal(pinned);
    });
  }

  it("pins no scenario that no longer exists", () => {
    if (REPIN) return;
    const names = new Set(files.map((file) => file.replace(/\.(json|ya?ml)$/, "")));
    for (const name of Object.keys(GOLDEN)) expect(names.has(name), `${name} is pinned but not in scenarios/: ${HOW_TO_REPIN}`).to.equal(true);
  });

  after(() => {
    if (!REPIN) return;
    const lines = [...found.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, hash]) => `  ${JSON.stringify(name)}: ${JSON.stringify(hash)},`);
    console.log(["", "// GOLDEN-TABLE-START", ...lines, "// GOLDEN-TABLE-END"].join("\n"));
  });
});
