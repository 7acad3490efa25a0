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
  "acks1-leader-crash": "abcd9b81ceb09082",
  "compaction": "188c962d13d60dd8",
  "controlled-shutdown": "a9f5b456c35959fa",
  "controller-failover": "a35b2623bc9f6663",
  "demo-pingpong": "c49205920a492437",
  "happy-path": "1293cb6818961a85",
  "hot-partition": "25945a9a196c6ad3",
  "isr-shrink-expand": "e6c44098d79578d0",
  "jepsen-2013-safe": "1e5778ade25c6404",
  "jepsen-2013-unclean": "896a96d9af0add18",
  "kip-101-data-loss": "4c8a4b6e65f8dad7",
  "kip-101-divergence": "1529fb8d9c5cac4a",
  "kip-101-divergence-fixed": "588ea0923435537e",
  "kip-101-divergence-flush": "ee3d983017058347",
  "kip-101-fixed": "8181cefb8588a709",
  "kip-279-divergence": "590fd31867dd0931",
  "kip-279-fixed": "b3f5d8c5064256fd",
  "last-replica-standing": "30fb4b9a2e16f9c2",
  "last-replica-standing-flush": "6c5634bf95154c27",
  "leader-failover": "2ccf27a50d6cc3e1",
  "not-enough-replicas": "6304c1ae3d3d659d",
  "preferred-leader": "8d7180e34a2c4281",
  "producer-idempotent": "097df7de2245a6c5",
  "producer-retry-duplicates": "dfeecdd25aa2dc36",
  "producer-retry-reorder": "e7c4780d3072e284",
  "reassignment": "c675e6053995af04",
  "retention": "6453fbfcb8177423",
  "safe-chaos": "0463c97422ed4715",
  "unclean-election": "32b26ef167aedef1",
  "unclean-election-off": "6ccaeefba4b3ec6b",
  "zk-session-expiry": "61279d495c29311b",
  "zombie-controller": "8dc863b2fdfe43df",
  "zombie-controller-fenced": "d9a4c5579fe0449d",
  "zombie-leader": "245d606c9243a8a0",
  "zombie-leader-acks-all": "9aaa53b17fbb8a84",
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
