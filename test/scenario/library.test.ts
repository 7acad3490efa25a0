/**
 * The known-failure library (kafka-semantics.md's list): each historical scenario shows its violation and its
 * safe counterpart shows none, not only at the file's own seed but at five consecutive seeds, so a replay does
 * not depend on one lucky schedule. Also checks the shape of each pair (the historical file expects violations
 * or a trace event, the counterpart expects no violation) and that every scenario explains itself.
 */

import { expect } from "chai";
import { readFileSync, readdirSync } from "node:fs";
import { loadScenario } from "../../src/scenario/load.ts";
import { runScenario } from "../../src/scenario/run.ts";
import type { Scenario } from "../../src/scenario/spec.ts";

const ROOT = new URL("../..", import.meta.url);
const SEEDS_PER_SCENARIO = 5;

interface Pair {
  /** kafka-semantics.md's number of the failure, or "teaching" / "chaos". */
  failure: string;
  /** Scenarios that must show violations (the historical configuration). */
  broken: string[];
  /** Scenarios that must show none beyond their `allow` (today's configuration). */
  fixed: string[];
  /** First seed of the sweep (seeds firstSeed .. firstSeed + 4). */
  firstSeed: number;
}

const PAIRS: Pair[] = [
  { failure: "1 Jepsen 2013", broken: ["jepsen-2013-unclean"], fixed: ["jepsen-2013-safe"], firstSeed: 1 },
  { failure: "3 unclean leader election", broken: ["unclean-election"], fixed: ["unclean-election-off"], firstSeed: 1 },
  { failure: "4 KIP-101 case 1", broken: ["kip-101-data-loss"], fixed: ["kip-101-fixed"], firstSeed: 1 },
  {
    failure: "5 KIP-101 case 2",
    broken: ["kip-101-divergence"],
    fixed: ["kip-101-divergence-fixed", "kip-101-divergence-flush"],
    firstSeed: 1,
  },
  { failure: "6 KIP-279", broken: ["kip-279-divergence"], fixed: ["kip-279-fixed"], firstSeed: 1 },
  // Issue 17: Kafka 2.0.0 against the 2.1.0 fix (compat.epochCacheOnElection).
  { failure: "KAFKA-7415 back-to-back elections", broken: ["kafka-7415-divergence"], fixed: ["kafka-7415-fixed"], firstSeed: 1 },
  // Issue 17: KAFKA-7152 (2.1.0), an idle caught-up follower shrunk out of the ISR: availability, shown by trace events.
  { failure: "KAFKA-7152 idle follower shrunk", broken: ["kafka-7152-idle-shrink"], fixed: ["kafka-7152-fixed"], firstSeed: 1 },
  // Issue 17: KAFKA-7128 (2.1.0), a follower rejoins the ISR at a new leader's stale HW and is elected without committed records.
  { failure: "KAFKA-7128 ISR join below epoch start", broken: ["kafka-7128-data-loss"], fixed: ["kafka-7128-fixed"], firstSeed: 1 },
  // Issue 17: Kafka 2.0.0 against KAFKA-7164's fetcher restart on any epoch change (compat.fetcherRestart).
  { failure: "KAFKA-7164 missed leader epochs", broken: ["kafka-7164-divergence"], fixed: ["kafka-7164-fixed"], firstSeed: 1 },
  { failure: "7 zombie leader", broken: ["zombie-leader"], fixed: ["zombie-leader-acks-all"], firstSeed: 1 },
  { failure: "8 controller split brain", broken: ["zombie-controller"], fixed: ["zombie-controller-fenced"], firstSeed: 1 },
  {
    failure: "9 retries without idempotence",
    broken: ["producer-retry-duplicates", "producer-retry-reorder"],
    fixed: ["producer-idempotent"],
    firstSeed: 1,
  },
  { failure: "15 last replica standing", broken: ["last-replica-standing"], fixed: ["last-replica-standing-flush"], firstSeed: 1 },
  // Issue 17: Kafka 2.2 against the 2.3.0 fix (KAFKA-3143, compat.offlineReplicasOnFailover) and against fsync per append.
  {
    failure: "power loss and controller failover (KAFKA-3143)",
    broken: ["power-loss-failover"],
    fixed: ["power-loss-failover-fixed", "power-loss-failover-flush"],
    firstSeed: 1,
  },
  // Kafka's own behaviour today (TransactionManager.canRetry → bumpIdempotentProducerEpoch): no counterpart in 3.x.
  { failure: "idempotent epoch bump", broken: ["idempotent-epoch-bump-duplicates"], fixed: [], firstSeed: 1 },
  { failure: "chaos", broken: [], fixed: ["safe-chaos"], firstSeed: 1 },
  // Consumer groups (issue 15): the at-most-once commit pitfall, and offsets rolled back by an unclean election.
  { failure: "groups: commit before processing", broken: ["group-commit-before-process"], fixed: ["group-commit-after-process"], firstSeed: 1 },
  { failure: "groups: offsets unclean election", broken: ["group-offsets-unclean-rollback"], fixed: ["group-offsets-clean-failover"], firstSeed: 1 },
  // Transactions (issue 16): an exactly-once pipeline under safe chaos (its explore sweep is in npm run sweep).
  { failure: "transactions: exactly-once under chaos", broken: [], fixed: ["transactions-eos-chaos"], firstSeed: 1 },
  // Transactions (issue 16): Kafka working as designed (no historical twin).
  { failure: "10 zombie transactional producer", broken: [], fixed: ["transactions-zombie-fenced"], firstSeed: 1 },
  { failure: "14 G0 write cycles allowed", broken: [], fixed: ["transactions-g0-write-cycle"], firstSeed: 1 },
  { failure: "transactions: timeout abort", broken: [], fixed: ["transactions-timeout-abort"], firstSeed: 1 },
  { failure: "transactions: coordinator failover mid-commit", broken: [], fixed: ["transactions-coordinator-failover"], firstSeed: 1 },
  // Transactions (issue 16): a Produce delayed past the abort (KIP-890 part 1 / part 2), and a zombie processor.
  { failure: "13 hanging transaction (KAFKA-14402)", broken: ["kafka-14402-hanging-transaction"], fixed: ["kafka-14402-verified"], firstSeed: 1 },
  { failure: "12 late write (KAFKA-17754)", broken: ["kafka-17754-late-write"], fixed: ["kafka-17754-epoch-bump"], firstSeed: 1 },
  { failure: "10 zombie processor", broken: ["eos-zombie-at-least-once"], fixed: ["eos-zombie-fenced"], firstSeed: 1 },
];

/**
 * Pairs whose historical scenario replays at its own seed but not at every seed; they are run at their default
 * seed only (golden.test.ts), and their counterparts are swept here.
 * - acks1-leader-crash: topic t has 3 partitions and p1 uses the sticky partitioner, so at some seeds no record
 *   of t-0 is in flight when its leader crashes; with max.in.flight 5 and no idempotence some seeds also show
 *   reordered-write, which it does not allow.
 */
const SWEPT_COUNTERPARTS_ONLY = [
  { failure: "2 acks=1 leader crash", broken: "acks1-leader-crash", fixed: ["leader-failover"] },
];

const TEACHING = [
  "happy-path",
  "preferred-leader",
  "retention",
  "compaction",
  "hot-partition",
  "isr-shrink-expand",
  "controller-failover",
  "controlled-shutdown",
  "reassignment",
  "not-enough-replicas",
  "leader-failover",
  "group-rebalance-tour",
  "group-eager-rebalance",
  "group-cooperative-rebalance",
  "group-static-restart",
  "group-dynamic-restart",
  "group-zombie-consumer",
  "group-coordinator-failover",
  "transactions-tour",
];

const cache = new Map<string, Scenario>();
function scenario(name: string): Scenario {
  let loaded = cache.get(name);
  if (loaded === undefined) {
    const file = `scenarios/${name}.json`;
    loaded = loadScenario(readFileSync(new URL(file, ROOT), "utf8"), file);
    cache.set(name, loaded);
  }
  return loaded;
}

function sweep(name: string, firstSeed: number): void {
  for (let seed = firstSeed; seed < firstSeed + SEEDS_PER_SCENARIO; seed++) {
    const result = runScenario(scenario(name), { seed, hash: false });
    expect(result.error, `${name} seed ${seed}: model error`).to.equal(undefined);
    const replay = `kafkasim run scenarios/${name}.json --seed ${seed}`;
    expect(result.expectationProblems.join("; "), `${name} seed ${seed} (replay: ${replay})`).to.equal("");
  }
}

describe("the known-failure library", function () {
  this.timeout(120_000);

  describe("pair shapes", () => {
    for (const pair of PAIRS) {
      it(`${pair.failure}: ${[...pair.broken, ...pair.fixed].join(" / ")}`, () => {
        for (const name of pair.broken) {
          // A violation, or (an era difference that is not one) a trace event it must show: expect.events min.
          const violations = scenario(name).expect?.violations ?? [];
          const events = (scenario(name).expect?.events ?? []).filter((event) => (event.min ?? (event.max === undefined ? 1 : 0)) > 0);
          expect(violations.length + events.length, `${name} expects a violation or an event`).to.be.greaterThan(0);
        }
        for (const name of pair.fixed) {
          expect(scenario(name).expect?.violations ?? [], `${name} expects none`).to.deep.equal([]);
        }
      });
    }
  });

  describe(`each scenario meets its expectation at ${SEEDS_PER_SCENARIO} consecutive seeds`, () => {
    for (const pair of PAIRS) {
      for (const name of [...pair.broken, ...pair.fixed]) {
        it(`${name} (${pair.failure}), seeds ${pair.firstSeed}..${pair.firstSeed + SEEDS_PER_SCENARIO - 1}`, () => {
          sweep(name, pair.firstSeed);
        });
      }
    }
    for (const pair of SWEPT_COUNTERPARTS_ONLY) {
      for (const name of pair.fixed) {
        it(`${name} (${pair.failure}, counterpart of ${pair.broken}), seeds 1..${SEEDS_PER_SCENARIO}`, () => {
          sweep(name, 1);
        });
      }
    }
  });

  it("every scenario file has a description a student can follow", () => {
    const files = readdirSync(new URL("scenarios/", ROOT)).filter((file) => file.endsWith(".json"));
    const listed = new Set([
      ...PAIRS.flatMap((pair) => [...pair.broken, ...pair.fixed]),
      ...SWEPT_COUNTERPARTS_ONLY.flatMap((pair) => [pair.broken, ...pair.fixed]),
      ...TEACHING,
    ]);
    for (const file of files) {
      const name = file.replace(/\.json$/, "");
      const loaded = scenario(name);
      expect(loaded.name, `${file}: name matches the file name`).to.equal(name);
      if (!listed.has(name)) continue;
      expect(loaded.description ?? "", `${file}: description`).to.have.length.greaterThan(300);
    }
    for (const name of listed) expect(files, `scenarios/${name}.json exists`).to.include(`${name}.json`);
  });

  it("every fault of a known failure and of its safe counterparts carries a note for the reader", () => {
    const names = new Set([...PAIRS.flatMap((pair) => [...pair.broken, ...pair.fixed]), ...SWEPT_COUNTERPARTS_ONLY.flatMap((pair) => [pair.broken, ...pair.fixed])]);
    for (const name of names) {
      for (const [i, fault] of scenario(name).faults.entries()) {
        expect(fault.note ?? "", `${name}: faults[${i}].note`).to.have.length.greaterThan(20);
      }
    }
  });

  it("every teaching scenario shows no violation", () => {
    for (const name of TEACHING) expect(scenario(name).expect?.violations ?? [], name).to.deep.equal([]);
  });
});
