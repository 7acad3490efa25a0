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
  "acks1-leader-crash": "1ad817ecd5cc775b",
  "compaction": "722b66d5c102c924",
  "controlled-shutdown": "8aecb47aa2fccb96",
  "controller-failover": "c042cfba7398b30c",
  "demo-pingpong": "23359d242773de99",
  "eos-zombie-at-least-once": "655ba03a77baa6a8",
  "eos-zombie-fenced": "3c6467d44b5b8ad1",
  "group-commit-after-process": "85a9da756a63504f",
  "group-commit-before-process": "b85c801c36f3797d",
  "group-cooperative-rebalance": "38b5a642d90039b8",
  "group-coordinator-failover": "1eb304f529d17681",
  "group-dynamic-restart": "8d29db972656423b",
  "group-eager-rebalance": "2a481f05c783ac8c",
  "group-offsets-clean-failover": "650cca4527efc1cf",
  "group-offsets-unclean-rollback": "8be06989e77d0a64",
  "group-rebalance-tour": "93df321dc05fac38",
  "group-static-restart": "1aa11ccfe4c966d6",
  "group-zombie-consumer": "2d231ee629db9945",
  "happy-path": "44f0351a01e9de70",
  "hot-partition": "15170d1d47ae7cba",
  "idempotent-epoch-bump-duplicates": "066afc67278c1263",
  "isr-shrink-expand": "8d3d07e96f8da2df",
  "jepsen-2013-safe": "6cbf0d45d8464ff2",
  "jepsen-2013-unclean": "8f83116fafa5eed4",
  "kafka-14402-hanging-transaction": "ca0eeb6c27ee5946",
  "kafka-14402-verified": "18725cd91822b72f",
  "kafka-17754-epoch-bump": "5e1ba946edac448f",
  "kafka-17754-late-write": "c1e484ccc1e0eb5c",
  "kafka-7415-divergence": "39d0af33876b5c24",
  "kafka-7415-fixed": "3c0a07c6dfd6ca94",
  "kip-101-data-loss": "7b7f93284f00017b",
  "kip-101-divergence": "a75b8b9414c0595b",
  "kip-101-divergence-fixed": "6192871c3668412c",
  "kip-101-divergence-flush": "e8f2bff4f71ff8dd",
  "kip-101-fixed": "e5e95114a18df5d4",
  "kip-279-divergence": "a5c0ca6ae8af8d11",
  "kip-279-fixed": "e4a028d2a36cc518",
  "last-replica-standing": "b32ffa9cde34eb81",
  "last-replica-standing-flush": "4e34d0ce7368a245",
  "leader-failover": "ce1462f65b0d0a6e",
  "not-enough-replicas": "b4d241516701b412",
  "power-loss-failover": "207fa441630b9f1f",
  "power-loss-failover-fixed": "6dcf13b5d5321331",
  "power-loss-failover-flush": "c46ac96fe636d008",
  "preferred-leader": "9ed0c2f520de0028",
  "producer-idempotent": "5355fe50d47695a2",
  "producer-retry-duplicates": "0080d18371e2e0ac",
  "producer-retry-reorder": "674636ca7b96d579",
  "reassignment": "8e9289aa90d042bc",
  "retention": "f94ba79a6df59513",
  "safe-chaos": "608ccf3e2b9c2738",
  "transactions-coordinator-failover": "489f7481c2a8359f",
  "transactions-eos-chaos": "a09d0c826c315b6c",
  "transactions-g0-write-cycle": "c9600a9dcd7e6fe5",
  "transactions-timeout-abort": "cb931ea84eda1278",
  "transactions-tour": "8ce0da67341c5398",
  "transactions-zombie-fenced": "560182d337b99535",
  "unclean-election": "b001f0864470d599",
  "unclean-election-off": "fdb7f5d9248f6d90",
  "zk-session-expiry": "c144c3ed13fb3f71",
  "zombie-controller": "8ceb632aa8a379b0",
  "zombie-controller-fenced": "76129c20e0a38e22",
  "zombie-leader": "a219dccc05cb8480",
  "zombie-leader-acks-all": "852222580c4006da",
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
