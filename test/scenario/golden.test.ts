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
  "acks1-leader-crash": "4c6b7de1f53f27d5",
  "compaction": "d21768025ac6739e",
  "controlled-shutdown": "775e022dc561bff0",
  "controller-failover": "22e1f912e82af388",
  "demo-pingpong": "23359d242773de99",
  "eos-zombie-at-least-once": "085a089ece816501",
  "eos-zombie-fenced": "d4cdbfc45d451bda",
  "group-commit-after-process": "7a673cb9320372b5",
  "group-commit-before-process": "72c52fc090b132f1",
  "group-cooperative-rebalance": "30971a2e06c7507a",
  "group-coordinator-failover": "af4246a99d36dcf0",
  "group-dynamic-restart": "31fd6b33ac81d85d",
  "group-eager-rebalance": "6ad10959878decd7",
  "group-offsets-clean-failover": "e8a73e00658760e7",
  "group-offsets-unclean-rollback": "a4ed0988154cee84",
  "group-rebalance-tour": "f90ee50957ae4180",
  "group-static-restart": "d80ebbfbd803219b",
  "group-zombie-consumer": "e6443242d47aeb02",
  "happy-path": "c3181168bcdf7ce4",
  "hot-partition": "6b6954e2d15eadc7",
  "idempotent-epoch-bump-duplicates": "036be8fe4df04cdd",
  "isr-shrink-expand": "b34ad6a11735e8a4",
  "jepsen-2013-safe": "605e295b5c72981b",
  "jepsen-2013-unclean": "30a9ba5f906c87ac",
  "kafka-14402-hanging-transaction": "cef9b9c76c8c7007",
  "kafka-14402-verified": "cd1ca83741dbae64",
  "kafka-17754-epoch-bump": "9366dbc373932d23",
  "kafka-17754-late-write": "2f620937f2d81297",
  "kafka-7128-data-loss": "adfcc8f23cbabdb6",
  "kafka-7128-fixed": "7504b9d5a9f2f812",
  "kafka-7152-fixed": "e7ef2776af7075c6",
  "kafka-7152-idle-shrink": "c078b659481f9bc0",
  "kafka-7164-divergence": "41e2401e0ca4653c",
  "kafka-7164-fixed": "d12acb63b9de8194",
  "kafka-7414-fixed": "b73a4152a383154d",
  "kafka-7414-halt": "fcbbb5f14aafdd4c",
  "kafka-7415-divergence": "15865bf3fc295f1b",
  "kafka-7415-fixed": "38233c8bc770c78a",
  "kip-101-data-loss": "0de6a49b67ab7d2a",
  "kip-101-divergence": "2a035f982317c640",
  "kip-101-divergence-fixed": "cabe656120db18f0",
  "kip-101-divergence-flush": "721d7fd6d0acad84",
  "kip-101-fixed": "fe2b0a41dd3124f8",
  "kip-279-divergence": "5f35d3c72a4d6135",
  "kip-279-fixed": "5c9e7c311fd04f38",
  "kip-380-fast-bounce": "3b95089b9aa9f6b3",
  "kip-380-fixed": "7acf7e1e5068dadf",
  "last-replica-standing": "f2ab95a144839bf5",
  "last-replica-standing-flush": "0e42d11ecb9f4a6f",
  "leader-failover": "8c0a9f653dd9fc66",
  "not-enough-replicas": "6f678ca034c33dbf",
  "power-loss-failover": "513cb2a94aacfaed",
  "power-loss-failover-fixed": "652fd267efd8688d",
  "power-loss-failover-flush": "0d4ad17c65f37008",
  "preferred-leader": "d0c301416a03903e",
  "producer-idempotent": "58d5213c84ba7ee0",
  "producer-retry-duplicates": "d81d91b518c804cb",
  "producer-retry-reorder": "e6f73e5ed2f38ed9",
  "reassignment": "54f4d3c0c1b3843a",
  "retention": "136803c156a440dc",
  "safe-chaos": "4df424652e7fdbb3",
  "transactions-coordinator-failover": "32d666b3f0d9f0c1",
  "transactions-eos-chaos": "6e21f43b96e49c29",
  "transactions-g0-write-cycle": "12f8c1690508dc21",
  "transactions-timeout-abort": "877ba2f0e403a338",
  "transactions-tour": "e2e2331f4be0918c",
  "transactions-zombie-fenced": "8b367f0ffedbd24a",
  "unclean-election": "eb9e81f5f17edb3f",
  "unclean-election-off": "472d901e7188f1f4",
  "zk-session-expiry": "58915dd7cdd1964d",
  "zombie-controller": "f88a432521bdd1aa",
  "zombie-controller-fenced": "828bb000412b80d2",
  "zombie-leader": "cf899be345177a6b",
  "zombie-leader-acks-all": "5c2bad17f3b69cbe",
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
