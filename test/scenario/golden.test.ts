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
  "acks1-leader-crash": "ce600d70513c31e5",
  "compaction": "8d919695b65a4cc9",
  "controlled-shutdown": "234c6c38a6f60b6b",
  "controller-failover": "8d9aa60e3c64f34e",
  "demo-pingpong": "23359d242773de99",
  "eos-zombie-at-least-once": "16a86ed954966415",
  "eos-zombie-fenced": "a06b1fe66c91a12c",
  "group-commit-after-process": "e1c72a906d30dcc8",
  "group-commit-before-process": "c334c8432ca7737f",
  "group-cooperative-rebalance": "e6f2655086f2de81",
  "group-coordinator-failover": "6f93eddc64ba0f7c",
  "group-dynamic-restart": "677dbe2750d3f64b",
  "group-eager-rebalance": "dbb4879fc021cd2a",
  "group-offsets-clean-failover": "287bf8758089c7cf",
  "group-offsets-unclean-rollback": "691e1cee78c52295",
  "group-rebalance-tour": "d6ee2a47b8e39890",
  "group-static-restart": "919386668f6949ee",
  "group-zombie-consumer": "141588eccaaba9be",
  "happy-path": "df1e38aacd0fa106",
  "hot-partition": "cd7c056b0a66d9df",
  "idempotent-epoch-bump-duplicates": "e66fbb516fd80705",
  "isr-shrink-expand": "59d758ade3b8ba40",
  "jepsen-2013-safe": "934662048750f234",
  "jepsen-2013-unclean": "30a9ba5f906c87ac",
  "kafka-14402-hanging-transaction": "148f3cb34b30756b",
  "kafka-14402-verified": "05a428bd12283d2b",
  "kafka-17754-epoch-bump": "d353f59d852423e4",
  "kafka-17754-late-write": "c49f6e1947f02bf0",
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
  "kip-380-fixed": "da1da16beaf29f16",
  "last-replica-standing": "a5392aa6f00d4d17",
  "last-replica-standing-flush": "711cb551955399c1",
  "leader-failover": "3efcbca550c50b9d",
  "not-enough-replicas": "b0809c55755eecb3",
  "power-loss-failover": "bf1241a36b99a584",
  "power-loss-failover-fixed": "3b925213943f8b12",
  "power-loss-failover-flush": "dfeafa9a03767101",
  "preferred-leader": "9939b650e63b70d7",
  "producer-idempotent": "a70f558510e05c64",
  "producer-retry-duplicates": "b33983f75a83337a",
  "producer-retry-reorder": "2fcdbdf5ed30af4b",
  "reassignment": "db68852ab45e9fa8",
  "retention": "e56af4eaf742eea8",
  "safe-chaos": "27ecdc19f955927a",
  "transactions-coordinator-failover": "5e5448835e59decc",
  "transactions-eos-chaos": "f5b7c7444d8d4e67",
  "transactions-g0-write-cycle": "1b055601097eadd8",
  "transactions-timeout-abort": "e45b1c221ab68d48",
  "transactions-tour": "42121101bf05982a",
  "transactions-zombie-fenced": "3a079bcfb4f021e0",
  "unclean-election": "2b1309b23231fd10",
  "unclean-election-off": "3ac1564f4d43c3eb",
  "zk-session-expiry": "58915dd7cdd1964d",
  "zombie-controller": "b3a1e1695b0551b8",
  "zombie-controller-fenced": "7037ad3144f0955b",
  "zombie-leader": "a40add007cc4ccb1",
  "zombie-leader-acks-all": "57652f68fe94bc1a",
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
