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
  "acks1-leader-crash": "4718d67b59e01993",
  "compaction": "0ba46eb3b1238160",
  "controlled-shutdown": "2b396d2879d16c6d",
  "controller-failover": "063e31e2553a559a",
  "demo-pingpong": "23359d242773de99",
  "happy-path": "493e3ad43eb40a5b",
  "hot-partition": "e9bbad6fe663e512",
  "idempotent-epoch-bump-duplicates": "da53ad36232a8e7c",
  "isr-shrink-expand": "5a982c2f64638793",
  "jepsen-2013-safe": "cbf7a34bd75845af",
  "jepsen-2013-unclean": "1dc9f0872a8c6fb0",
  "kip-101-data-loss": "3bcf89c8eee3ab7b",
  "kip-101-divergence": "7741b61b83e68af9",
  "kip-101-divergence-fixed": "84146b41b102202d",
  "kip-101-divergence-flush": "f630b02b32d9da4b",
  "kip-101-fixed": "71185d42d04a300c",
  "kip-279-divergence": "cc09d78d7e1453f1",
  "kip-279-fixed": "9fb5db03c9a961a4",
  "last-replica-standing": "8e9bc56ebc1b39e5",
  "last-replica-standing-flush": "5b7ae6edcfdd6144",
  "leader-failover": "10c14f7ab3eb6bf1",
  "not-enough-replicas": "a99c2f332a128f0e",
  "preferred-leader": "2e7975c250d6e159",
  "producer-idempotent": "f6e03444777c57ae",
  "producer-retry-duplicates": "8ba5e0a90ce63e2f",
  "producer-retry-reorder": "fbc8cbb4374220d7",
  "reassignment": "0f21f062aa61f502",
  "retention": "2e61a5146a5a621d",
  "safe-chaos": "0040073d9c4f3a59",
  "unclean-election": "86d3d392bbd517f7",
  "unclean-election-off": "5ab0b6b3421896c6",
  "zk-session-expiry": "c144c3ed13fb3f71",
  "zombie-controller": "97392b3661632d22",
  "zombie-controller-fenced": "901ffe0272ef28e4",
  "zombie-leader": "e9662a8873c9d512",
  "zombie-leader-acks-all": "100fdd0c81b83f4c",
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
