/**
 * `kafkasim explore --shard K/N --json` reports and `kafkasim explore merge`: shards partition the seeds, a
 * merge of every shard is the unsharded sweep's report, and anything else (bad K/N, shards of different
 * scenarios or versions, a missing or doubled shard, a malformed file) is one line naming the file, exit 2.
 */

import { expect } from "chai";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { UsageError } from "../../src/cli/errors.ts";
import { parseShard, seedRangeOf, shardSeeds } from "../../src/cli/explore.ts";
import { mergeShardReports, parseShardReport } from "../../src/cli/explore-merge.ts";
import { VERSION } from "../../src/version.ts";
import { cli, ROOT } from "./run-cli.ts";

interface Totals {
  [key: string]: unknown;
  failures: { seed: number; outcome: string; violations: Record<string, number>; replay: string }[];
  shards?: { count: number; longestWallMs: number; seedsPerHourAllAtOnce: number; reports: { file: string; shard: string; seeds: number; wallMs: number }[] };
}

/** A report's lines: the seed lines (as text, wall time zeroed: the one field allowed to differ) and the totals. */
function parseReport(stdout: string): { seeds: string[]; totals: Totals } {
  const lines = stdout.trim().split("\n");
  const totals = (JSON.parse(lines.pop()!) as { totals: Totals }).totals;
  return { seeds: lines.map((line) => line.replace(/"wallMs":\d+/, '"wallMs":0')), totals };
}

/** Fields that depend on the wall clock or on how the sweep was split, not on what the seeds found. */
const RUN_DEPENDENT = ["wallMs", "seedsPerHour", "jobs", "shards"];

function withoutRunDependent(totals: Totals): Record<string, unknown> {
  return Object.fromEntries(Object.entries(totals).filter(([key]) => !RUN_DEPENDENT.includes(key)));
}

describe("kafkasim explore --shard and explore merge", function () {
  this.timeout(300_000);

  const dir = mkdtempSync(join(tmpdir(), "kafkasim-shards-"));
  /** kip-101-data-loss without hwm-regression allowed: every seed shows it, so none meets the expectation. */
  const scenario = join(dir, "kip101 strict.json");
  const spec = JSON.parse(readFileSync(join(ROOT, "scenarios/kip-101-data-loss.json"), "utf8")) as { name: string; expect: { allow: string[] } };
  spec.name = "kip-101-data-loss-strict";
  spec.expect.allow = spec.expect.allow.filter((name) => name !== "hwm-regression");
  writeFileSync(scenario, JSON.stringify(spec, null, 2));
  const SEEDS = "4";
  const shardFile = (k: number) => join(dir, `shard-${k}.json`);
  let unsharded: { code: number | null; stdout: string; stderr: string };

  before(() => {
    unsharded = cli(["explore", scenario, "--seeds", SEEDS, "--jobs", "2", "--json"]);
    for (const k of [1, 2, 3]) {
      const { code, stdout, stderr } = cli(["explore", scenario, "--seeds", SEEDS, "--shard", `${k}/3`, "--jobs", "1", "--json"]);
      expect(code, stderr).to.equal(1);
      writeFileSync(shardFile(k), stdout);
    }
  });

  /** Writes a shard report with one change (a function of its lines) to a new file. */
  function variant(k: number, name: string, edit: (lines: string[]) => string[]): string {
    const file = join(dir, name);
    writeFileSync(file, edit(readFileSync(shardFile(k), "utf8").trimEnd().split("\n")).join("\n") + "\n");
    return file;
  }

  function editTotals(k: number, name: string, change: (totals: Record<string, unknown>) => void): string {
    return variant(k, name, (lines) => {
      const last = JSON.parse(lines[lines.length - 1]) as { totals: Record<string, unknown> };
      change(last.totals);
      return [...lines.slice(0, -1), JSON.stringify(last)];
    });
  }

  function expectOneLineError(args: string[], pattern: RegExp): void {
    const { code, stdout, stderr } = cli(args);
    expect(code, stderr).to.equal(2);
    expect(stdout).to.equal("");
    const lines = stderr.trim().split("\n");
    expect(lines, stderr).to.have.length(1);
    expect(lines[0]).to.match(pattern);
  }

  describe("seed plan", () => {
    it("the shards of one N partition the seeds, and each report's seedRange describes exactly its shard's seeds", () => {
      fc.assert(
        fc.property(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 40 }), (first, seeds, count) => {
          const all = shardSeeds(first, seeds, null);
          const seen = new Map<number, number>();
          for (let index = 1; index <= count; index++) {
            const part = shardSeeds(first, seeds, { index, count });
            for (const seed of part) seen.set(seed, (seen.get(seed) ?? 0) + 1);
            const range = seedRangeOf(first, seeds, { index, count });
            if (part.length === 0) expect(range).to.equal(null);
            else {
              const { first: from, last, step } = range!;
              expect(Array.from({ length: (last - from) / step + 1 }, (_, i) => from + i * step)).to.deep.equal(part);
            }
          }
          // Every seed of the unsharded sweep in exactly one shard, and nothing else.
          expect([...seen.keys()].sort((a, b) => a - b)).to.deep.equal(all);
          expect([...seen.values()].every((times) => times === 1)).to.equal(true);
        }),
      );
    });

    it("a shard report names the scenario's bytes (SHA-256), the version, its seeds, and each failing seed with its replay command", () => {
      const { totals } = parseReport(readFileSync(shardFile(2), "utf8"));
      expect(totals).to.include({
        scenario: "kip-101-data-loss-strict",
        file: scenario,
        scenarioSha256: createHash("sha256").update(readFileSync(scenario)).digest("hex"),
        kafkasim: VERSION,
        firstSeed: 1,
        seedsRequested: 4,
        shard: "2/3",
        seeds: 1,
        failed: 1,
      });
      expect(totals.seedRange).to.deep.equal({ first: 2, last: 2, step: 3 });
      expect(totals.failures).to.have.length(1);
      expect(totals.failures[0]).to.deep.include({ seed: 2, outcome: "failed", replay: `kafkasim run '${scenario}' --seed 2` });
      expect(totals.failures[0].violations["hwm-regression"]).to.be.greaterThan(0);
    });

    it("--shard that is not K/N with 1 <= K <= N: one line, exit 2", () => {
      for (const bad of ["0/3", "4/3", "1/0", "1.5/2", "2", "-1/2", "1/2/3", " 1/2", "1/9007199254740993"]) {
        expect(() => parseShard(bad), bad).to.throw(UsageError, /^--shard: expected K\/N with 1 <= K <= N \(e\.g\. 2\/4\), found ".*"$/);
      }
      expectOneLineError(["explore", scenario, "--seeds", "3", "--shard", "4/3"], /^kafkasim: --shard: expected K\/N with 1 <= K <= N \(e\.g\. 2\/4\), found "4\/3"$/);
    });
  });

  describe("merge", () => {
    it("the merge of every shard is the unsharded report: the same seed lines in seed order and the same totals; exit 1 as explore", () => {
      expect(unsharded.code, unsharded.stderr).to.equal(1);
      const whole = parseReport(unsharded.stdout);
      // Given in any order.
      const { code, stdout, stderr } = cli(["explore", "merge", shardFile(3), shardFile(1), shardFile(2), "--json"]);
      expect(code, stderr).to.equal(1);
      const merged = parseReport(stdout);
      expect(merged.seeds).to.deep.equal(whole.seeds);
      expect(withoutRunDependent(merged.totals)).to.deep.equal(withoutRunDependent(whole.totals));
      expect(merged.totals.failures.map((failure) => failure.seed)).to.deep.equal([1, 2, 3, 4]);
      expect(merged.totals).to.include({ seeds: 4, failed: 4, shard: null, jobs: 3 });

      // Throughput: wall time summed over the shards (seeds per shard-hour), and the longest shard apart.
      const shards = [1, 2, 3].map((k) => parseReport(readFileSync(shardFile(k), "utf8")).totals);
      const walls = shards.map((totals) => totals.wallMs as number);
      const sum = walls.reduce((a, b) => a + b, 0);
      expect(merged.totals.wallMs).to.equal(sum);
      expect(merged.totals.seedsPerHour).to.equal(Math.round((4 * 3_600_000) / sum));
      expect(merged.totals.shards).to.deep.include({ count: 3, longestWallMs: Math.max(...walls), seedsPerHourAllAtOnce: Math.round((4 * 3_600_000) / Math.max(...walls)) });
      expect(merged.totals.shards!.reports.map((report) => [report.shard, report.seeds])).to.deep.equal([["1/3", 2], ["2/3", 1], ["3/3", 1]]);
    });

    it("the text report: shards, throughput, and every failing seed with its replay command", () => {
      const { code, stdout } = cli(["explore", "merge", shardFile(1), shardFile(2), shardFile(3)]);
      expect(code).to.equal(1);
      expect(stdout).to.contain("kip-101-data-loss-strict  4 seeds run (seeds 1…4) in 3 shards on 3 workers in all");
      expect(stdout).to.match(/ s wall summed over the shards · [\d,]+ seeds per shard-hour/);
      expect(stdout).to.match(/longest shard [\d.]+ s · [\d,]+ seeds\/hour had every shard run at once/);
      expect(stdout).to.contain("✗ 4 of 4 seeds did not meet the expectation");
      for (const seed of [1, 2, 3, 4]) expect(stdout).to.contain(`replay: kafkasim run '${scenario}' --seed ${seed}`);
    });

    it("an unsharded report merges alone (it is shard 1/1), and a merged report is an unsharded one", () => {
      const file = join(dir, "whole.json");
      writeFileSync(file, unsharded.stdout);
      const alone = cli(["explore", "merge", file, "--json"]);
      expect(alone.code).to.equal(1);
      expect(parseReport(alone.stdout).seeds).to.deep.equal(parseReport(unsharded.stdout).seeds);
      const again = join(dir, "merged.json");
      writeFileSync(again, cli(["explore", "merge", shardFile(1), shardFile(2), shardFile(3), "--json"]).stdout);
      const twice = mergeShardReports([parseShardReport(again, readFileSync(again, "utf8"))]);
      expect(twice.seeds.map((seed) => seed.text.replace(/"wallMs":\d+/, '"wallMs":0'))).to.deep.equal(parseReport(unsharded.stdout).seeds);
    });

    it("a scenario file named merge is ./merge (merge as the first word is the subcommand)", () => {
      const sub = mkdtempSync(join(tmpdir(), "kafkasim-merge-name-"));
      writeFileSync(join(sub, "merge"), readFileSync(join(ROOT, "scenarios/happy-path.json"), "utf8"));
      const run = cli(["explore", join(sub, "merge"), "--seeds", "1", "--jobs", "1"]);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.contain("1 seeds run");
      // Written as merge, the file is taken for the subcommand.
      expectOneLineError(["explore", "merge", "--seeds", "1"], /^kafkasim: missing required argument 'files'$/);
    });
  });

  describe("merge refuses anything but every shard of one sweep: one line, exit 2", () => {
    /** The merge in this process: the same checks and messages as the command, without a process per case. */
    function refuse(files: string[], pattern: RegExp): void {
      expect(() => mergeShardReports(files.map((file) => parseShardReport(file, readFileSync(file, "utf8"))))).to.throw(UsageError, pattern);
    }

    it("a missing shard", () => {
      expectOneLineError(["explore", "merge", shardFile(1), shardFile(3)], /^kafkasim: missing shard 2\/3 of 3 \(given: 1\/3, 3\/3\): a merge needs every shard of the sweep$/);
      refuse([shardFile(2)], /^missing shards 1\/3, 3\/3 of 3 \(given: 2\/3\)/);
    });

    it("a shard given twice", () => {
      refuse([shardFile(1), shardFile(2), shardFile(3), shardFile(2)], new RegExp(`^shard 2/3 given twice: ${shardFile(2)} and ${shardFile(2)}$`));
    });

    it("no file at all, or explore's run options", () => {
      expectOneLineError(["explore", "merge"], /^kafkasim: missing required argument 'files'$/);
      expectOneLineError(["explore", "merge", shardFile(1), "--jobs", "2"], /^kafkasim: explore merge: --jobs is an option of explore FILE, not of explore merge \(merge takes --json only\)$/);
    });

    it("a shard of another scenario file (or another version of the same one)", () => {
      const other = editTotals(2, "other-scenario.json", (totals) => (totals.scenarioSha256 = "0".repeat(64)));
      expectOneLineError(
        ["explore", "merge", shardFile(1), other, shardFile(3)],
        new RegExp(`^kafkasim: ${other}: \\$\\.totals\\.scenarioSha256: "0{64}" differs from ${shardFile(1)}'s "[0-9a-f]{64}": shards of different scenario files \\(or versions of one\\) do not merge$`),
      );
    });

    it("a shard run by another kafkasim version", () => {
      const other = editTotals(3, "other-version.json", (totals) => (totals.kafkasim = "9.9.9"));
      refuse([shardFile(1), shardFile(2), other], /\$\.totals\.kafkasim: "9\.9\.9" differs from .*'s "0\.1\.0": shards run by different kafkasim versions do not merge$/);
    });

    it("a shard of another split (N) or another seed plan", () => {
      const whole = join(dir, "whole-for-n.json");
      writeFileSync(whole, unsharded.stdout);
      refuse([shardFile(1), whole], /whole-for-n\.json: \$\.totals\.shard: N = 1 differs from .*shard-1\.json's N = 3: shards of one sweep share N in --shard K\/N$/);
      // Shard 1/3 of 5 seeds is seeds 1 and 4, as of 4 seeds: its lines fit, its plan does not.
      const seeds = editTotals(1, "other-seeds.json", (totals) => (totals.seedsRequested = 5));
      refuse([shardFile(2), seeds, shardFile(3)], /other-seeds\.json: \$\.totals\.seedsRequested: 5 differs from .*shard-2\.json's 4: shards of one sweep share --seeds$/);
      // Its seed lines no longer match the plan it claims: refused before the comparison.
      const first = editTotals(2, "other-first.json", (totals) => (totals.firstSeed = 2));
      refuse([shardFile(1), first, shardFile(3)], /other-first\.json:1: \$\.seed: 2 where shard 2\/3 of 4 seeds from 2 has seed 3$/);
    });

    const malformed: [string, (lines: string[]) => string[], RegExp][] = [
      ["not JSON", (lines) => [lines[0].slice(0, 20), ...lines.slice(1)], /bad-1\.json:1: not JSON \(/],
      ["cut short: no totals line", (lines) => lines.slice(0, -1), /bad-2\.json: no totals line: not a finished explore --json report \(was the shard cut short\?\)$/],
      ["a seed line's field of the wrong type", (lines) => [lines[0].replace('"violations":[{"name":"', '"violations":[{"name":7,"x":"'), ...lines.slice(1)], /bad-3\.json:1: \$\.violations\[0\]\.name: expected a string, found 7$/],
      ["a seed line missing", (lines) => [lines[0], ...lines.slice(2)], /bad-4\.json: seed 4 missing: shard 1\/3 of 4 seeds from 1 has 2 seeds, the file 1$/],
      ["a seed line too many", (lines) => [lines[0], lines[1], lines[1], ...lines.slice(2)], /bad-5\.json:3: \$\.seed: 4 is not in shard 1\/3 of 4 seeds from 1 \(it has 2 seeds\)$/],
      ["a line after the totals", (lines) => [...lines, lines[0]], /bad-6\.json:4: a line after the totals line \(the totals come last\)$/],
      ["an empty file", () => [], /bad-7\.json: empty: expected the output of kafkasim explore --json$/],
      ["a JSON array", (lines) => ["[1, 2]", ...lines.slice(1)], /bad-8\.json:1: \$: expected an object, found \[1,2\]$/],
      ["a bad shard in the totals", (lines) => [...lines.slice(0, -1), lines[lines.length - 1].replace('"shard":"1/3"', '"shard":"4/3"')], /bad-9\.json:3: \$\.totals\.shard: expected null or "K\/N" with 1 <= K <= N, found "4\/3"$/],
      ["a totals line without the scenario's hash", (lines) => [...lines.slice(0, -1), lines[lines.length - 1].replace(/"scenarioSha256":"[0-9a-f]+",/, "")], /bad-10\.json:3: \$\.totals\.scenarioSha256: expected a string, found nothing$/],
      ["a negative wall time", (lines) => [...lines.slice(0, -1), lines[lines.length - 1].replace(/"wallMs":\d+,"seedsPerHour"/, '"wallMs":-1,"seedsPerHour"')], /bad-11\.json:3: \$\.totals\.wallMs: expected a number >= 0, found -1$/],
    ];
    malformed.forEach(([what, edit, pattern], i) => {
      it(`a malformed file: ${what}`, () => {
        refuse([variant(1, `bad-${i + 1}.json`, edit), shardFile(2), shardFile(3)], pattern);
      });
    });

    it("a malformed or unreadable file from the command line", () => {
      const cut = variant(1, "cut.json", (lines) => [lines[0], lines[1].slice(0, -3), lines[2]]);
      expectOneLineError(["explore", "merge", cut, shardFile(2), shardFile(3)], /^kafkasim: .*cut\.json:2: not JSON \(/);
      expectOneLineError(["explore", "merge", join(dir, "nope.json"), shardFile(2)], /nope\.json: cannot read the file \(no such file\)$/);
    });
  });
});
