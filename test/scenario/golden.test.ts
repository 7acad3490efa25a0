/**
 * Golden traces: every scenario of scenarios/ at its own seed must produce exactly the trace it produced when
 * the table below was pinned (the running hash of the trace, `stats.traceHash`). A change of model behaviour —
 * even one that no checker notices — changes some hash, so it cannot go unseen. The same run checks the file's
 * own `expect` (every shipped scenario meets it at its seed).
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
  "acks1-leader-crash": "e74c6b00a0ced1a8",
  "compaction": "2b846048b91f4125",
  "controlled-shutdown": "74af471f6f5d10fc",
  "controller-failover": "854d44171b507cb9",
  "demo-pingpong": "23359d242773de99",
  "eos-zombie-at-least-once": "16a86ed954966415",
  "eos-zombie-fenced": "a06b1fe66c91a12c",
  "group-commit-after-process": "e1c72a906d30dcc8",
  "group-commit-before-process": "c334c8432ca7737f",
  "group-cooperative-rebalance": "e6f2655086f2de81",
  "group-coordinator-failover": "5281847c5ec05bbf",
  "group-dynamic-restart": "677dbe2750d3f64b",
  "group-eager-rebalance": "dbb4879fc021cd2a",
  "group-offsets-clean-failover": "8502622621106800",
  "group-offsets-unclean-rollback": "538b14934e4d912b",
  "group-rebalance-tour": "d6ee2a47b8e39890",
  "group-static-restart": "919386668f6949ee",
  "group-zombie-consumer": "141588eccaaba9be",
  "happy-path": "6bcac0887e17d16e",
  "hot-partition": "2ab1d0dc97afee05",
  "idempotent-epoch-bump-duplicates": "fda3bd60f53473d8",
  "isr-shrink-expand": "6d0b5ed669a7b204",
  "jepsen-2013-safe": "e8ed2d4bbbaa967b",
  "jepsen-2013-unclean": "30a9ba5f906c87ac",
  "kafka-14402-hanging-transaction": "2a6005a2b1c5b587",
  "kafka-14402-verified": "6e84ed1a3839e3df",
  "kafka-17754-epoch-bump": "21b1f8de461115ba",
  "kafka-17754-late-write": "c1c59d42eb9e688a",
  "kafka-7128-data-loss": "0f15cc148092788e",
  "kafka-7128-fixed": "e84790f9ff545985",
  "kafka-7152-fixed": "733266bcb681971a",
  "kafka-7152-idle-shrink": "328b85cfc74974aa",
  "kafka-7164-divergence": "d91a6c07ac786898",
  "kafka-7164-fixed": "5c2768c850c096bc",
  "kafka-7414-fixed": "f46f1c1209a45246",
  "kafka-7414-halt": "acb4fb23ee91583b",
  "kafka-7415-divergence": "426fc3875b234ffb",
  "kafka-7415-fixed": "759a4e48bc5f94eb",
  "kip-101-data-loss": "0de6a49b67ab7d2a",
  "kip-101-divergence": "2a035f982317c640",
  "kip-101-divergence-fixed": "71b8e17bc6a5a1d9",
  "kip-101-divergence-flush": "f49b0d8735e2623c",
  "kip-101-fixed": "fe2b0a41dd3124f8",
  "kip-279-divergence": "02891dc0113c946a",
  "kip-279-fixed": "fcf1852e952fdfec",
  "kip-380-fast-bounce": "825818f85226162b",
  "kip-380-fixed": "a2704dc0cdc7b7fc",
  "last-replica-standing": "2243317d0bac3f7e",
  "last-replica-standing-flush": "79bf7b3850da3f3e",
  "leader-failover": "5d2304b1351cc321",
  "not-enough-replicas": "d3999c1c50051a7e",
  "power-loss-failover": "d8a4d9b642ad70ba",
  "power-loss-failover-fixed": "ffa2a4e4e1ca953a",
  "power-loss-failover-flush": "593b178be21f054d",
  "preferred-leader": "fba2f649ef102b04",
  "producer-idempotent": "a70f558510e05c64",
  "producer-retry-duplicates": "b33983f75a83337a",
  "producer-retry-reorder": "2fcdbdf5ed30af4b",
  "reassignment": "03f8afd4d105b5fb",
  "retention": "dc9c70a3bca5a0b3",
  "safe-chaos": "8c2508bd2c451d9f",
  "transactions-coordinator-failover": "5daf1b4588facd7e",
  "transactions-eos-chaos": "0ba8c563812f2a4b",
  "transactions-g0-write-cycle": "1b055601097eadd8",
  "transactions-timeout-abort": "e45b1c221ab68d48",
  "transactions-tour": "42121101bf05982a",
  "transactions-zombie-fenced": "3a079bcfb4f021e0",
  "unclean-election": "7d5c17bb8726ef51",
  "unclean-election-off": "757e2e6efde69346",
  "zk-session-expiry": "58915dd7cdd1964d",
  "zombie-controller": "b3a1e1695b0551b8",
  "zombie-controller-fenced": "7037ad3144f0955b",
  "zombie-leader": "752cb3d7e26c5483",
  "zombie-leader-acks-all": "bb5a32fbe2ac94d6",
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
    // One run per file: the pinned hash, and the file's own expectation (every shipped scenario meets it at its seed).
    it(`scenarios/${file}: pinned trace, expectation met`, () => {
      const scenario = loadScenario(readFileSync(new URL(`scenarios/${file}`, ROOT), "utf8"), `scenarios/${file}`);
      const result = runScenario(scenario);
      const hash = result.stats.traceHash;
      found.set(scenario.name, hash);
      if (REPIN) return;
      const pinned = GOLDEN[scenario.name];
      expect(pinned, `${scenario.name} has no pinned trace hash: ${HOW_TO_REPIN}`).to.be.a("string");
      expect(hash, `${scenario.name}: the trace changed (seed ${String(scenario.seed)}): ${HOW_TO_REPIN}`).to.equal(pinned);
      expect(result.expectationProblems, `${scenario.name}: expectation`).to.deep.equal([]);
      expect(result.expectationMet).to.equal(true);
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
