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
  "acks1-leader-crash": "21ff313572eea78d",
  "compaction": "b4ece2a2bfa24ea5",
  "controlled-shutdown": "746faa210897a61b",
  "controller-failover": "d194795d22eb250e",
  "demo-pingpong": "c49205920a492437",
  "happy-path": "b0d1912f20f13efe",
  "hot-partition": "d79c7a134596e01c",
  "isr-shrink-expand": "9033b1b519d958d8",
  "jepsen-2013-safe": "8023a1e53d2d174a",
  "jepsen-2013-unclean": "d556d731625fc743",
  "kip-101-data-loss": "10a778980244eccd",
  "kip-101-divergence": "592036708e285552",
  "kip-101-divergence-fixed": "b76f5ed8c308f4c0",
  "kip-101-divergence-flush": "201e65d9652a0187",
  "kip-101-fixed": "585b15878824c303",
  "kip-279-divergence": "4605258088352743",
  "kip-279-fixed": "610e1937258037f9",
  "last-replica-standing": "64ae1cd5e3200f50",
  "last-replica-standing-flush": "66350da9b918ce7b",
  "leader-failover": "6a88be8a68555f6e",
  "not-enough-replicas": "2b6e29cf6d59237d",
  "preferred-leader": "3c31b1dbe39131c2",
  "producer-idempotent": "7ccb2669c19ae80e",
  "producer-retry-duplicates": "c75dadd0503ac75c",
  "producer-retry-reorder": "13d7f820dcf08e6c",
  "reassignment": "290bf1c3371f2746",
  "retention": "aa1706df0646c46b",
  "safe-chaos": "d45e5814a011a932",
  "unclean-election": "a0740446c8937c16",
  "unclean-election-off": "b97e7da3b0fbbb8a",
  "zk-session-expiry": "c144c3ed13fb3f71",
  "zombie-controller": "e1f1dfa51fe1f715",
  "zombie-controller-fenced": "fdaeeff899e944db",
  "zombie-leader": "a6b899e56cf5d117",
  "zombie-leader-acks-all": "62b0d60e77df6cbe",
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
