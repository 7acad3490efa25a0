import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { parseShard, shardSeeds, totalsOf, defaultFirstSeed, type SeedOutcome } from "../../src/cli/explore.ts";
import { UsageError } from "../../src/cli/errors.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const SAFE = join(ROOT, "scenarios/leader-failover.json");

/** Runs the CLI from source (through tsx): explore's workers then load the TypeScript source too. */
function cli(args: string[], entry = join(ROOT, "src/cli/main.ts")) {
  const node = entry.endsWith(".ts") ? ["--import", "tsx", entry] : [entry];
  const result = spawnSync(process.execPath, [...node, ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface SeedLine {
  scenario: string;
  seed: number;
  violations: { name: string }[];
  expectationMet: boolean;
  stats: { wallMs: number; events: number };
}

/** --json output: the per-seed lines (wall time removed, it is the one field allowed to differ) and the totals. */
function parseJson(stdout: string) {
  const lines = stdout.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
  const totals = lines.pop()!.totals as Record<string, unknown>;
  const seeds = (lines as unknown as SeedLine[]).map((line) => ({ ...line, stats: { ...line.stats, wallMs: 0 } }));
  return { seeds, totals };
}

/** kip-101-fixed's story with the pre-0.11 truncation: the expectation (no violation) is not met. */
function historicalConfigFile(): string {
  const spec = JSON.parse(readFileSync(join(ROOT, "scenarios/kip-101-fixed.json"), "utf8")) as { cluster: { compat?: Record<string, string> }; name: string };
  spec.name = "kip-101-fixed-with-hw-truncation";
  spec.cluster.compat = { ...spec.cluster.compat, truncation: "high-watermark" };
  const file = join(mkdtempSync(join(tmpdir(), "kafkasim-explore-")), "kip101 hw.json");
  writeFileSync(file, JSON.stringify(spec));
  return file;
}

describe("kafkasim explore", function () {
  this.timeout(120_000);

  describe("seeds and shards", () => {
    it("shards of one N are disjoint and their union is the unsharded seed list", () => {
      fc.assert(
        fc.property(fc.integer({ min: -50, max: 50 }), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 9 }), (first, seeds, count) => {
          const all = shardSeeds(first, seeds, null);
          expect(all).to.deep.equal(Array.from({ length: seeds }, (_, i) => first + i));
          const parts = Array.from({ length: count }, (_, k) => shardSeeds(first, seeds, { index: k + 1, count }));
          expect(parts.flat().sort((a, b) => a - b)).to.deep.equal(all);
          parts.forEach((part, k) => expect(part.every((seed) => (seed - first) % count === k)).to.equal(true));
        }),
      );
    });

    it("parses K/N and rejects anything else with a usage error", () => {
      expect(parseShard("2/4")).to.deep.equal({ index: 2, count: 4 });
      for (const bad of ["0/2", "3/2", "1/0", "1", "a/b", "1/2/3", "-1/2"]) expect(() => parseShard(bad), bad).to.throw(UsageError, /--shard/);
    });

    it("starts at the scenario's integer seed, else 1", () => {
      expect(defaultFirstSeed(7)).to.equal(7);
      expect(defaultFirstSeed("abc")).to.equal(1);
    });

    it("totals count failing seeds and violations by name", () => {
      const outcome = (seed: number, names: string[], met: boolean) =>
        ({ seed, result: { expectationMet: met, violations: names.map((name) => ({ name })) } }) as unknown as SeedOutcome;
      const totals = totalsOf([outcome(1, [], true), outcome(2, ["lost-write", "lost-write", "hwm-regression"], false), outcome(3, ["lost-write"], false)], {
        scenario: "s",
        file: "f",
        firstSeed: 1,
        seedsRequested: 3,
        shard: null,
        jobs: 2,
        wallMs: 3600,
      });
      expect(totals).to.include({ seeds: 3, passed: 1, failed: 2, expectationMet: false, seedsPerHour: 3000 });
      expect(totals.failingSeeds).to.deep.equal([2, 3]);
      expect(totals.violations).to.deep.equal({ "lost-write": 3, "hwm-regression": 1 });
      expect(totals.seedsWithViolation).to.deep.equal({ "lost-write": 2, "hwm-regression": 1 });
    });

    it("counts model errors and runs cut short by a bound apart from seeds that found violations", () => {
      const outcome = (seed: number, verdict: string, names: string[], met: boolean) =>
        ({ seed, result: { seed, verdict, expectationMet: met, violations: names.map((name) => ({ name })), stats: { wallMs: 1 } } }) as unknown as SeedOutcome;
      const totals = totalsOf(
        [outcome(1, "time-limit", [], true), outcome(2, "model-error", ["lost-write"], false), outcome(3, "time-limit", ["lost-write"], false), outcome(4, "stalled", [], false)],
        { scenario: "s", file: "f", firstSeed: 1, seedsRequested: 4, shard: null, jobs: 2, wallMs: 3600 },
      );
      expect(totals).to.include({ seeds: 4, passed: 1, failed: 1, modelErrors: 1, unfinished: 1, expectationMet: false });
      expect(totals.modelErrorSeeds).to.deep.equal([2]);
      expect(totals.failingSeeds).to.deep.equal([3]);
      expect(totals.unfinishedSeeds).to.deep.equal([4]);
    });
  });

  it("a safe scenario over a few seeds: every seed meets the expectation, exit 0", () => {
    const { code, stdout, stderr } = cli(["explore", SAFE, "--seeds", "3", "--jobs", "2"]);
    expect(code, stderr).to.equal(0);
    expect(stdout).to.contain("leader-failover  3 seeds run (seeds 1…3) on 2 workers");
    expect(stdout).to.match(/seeds\/hour/);
    expect(stdout).to.contain("✓ every seed met the expectation");
  });

  it("a historical config that breaks the expectation: exit 1, failing seeds with their replay and shrink commands", () => {
    const file = historicalConfigFile();
    const { code, stdout, stderr } = cli(["explore", file, "--seeds", "2", "--jobs", "2", "--first-seed", "5"]);
    expect(code, stderr).to.equal(1);
    expect(stdout).to.contain("✗ 2 of 2 seeds did not meet the expectation");
    expect(stdout).to.match(/lost-write +\d+ in 2 of 2 seeds/);
    expect(stdout).to.contain(`replay: kafkasim run '${file}' --seed 5`);
    expect(stdout).to.contain(`replay: kafkasim run '${file}' --seed 6`);
    expect(stdout).to.contain(`shrink: kafkasim shrink '${file}' --seed 6 -o shrunk.json`);
  });

  it("--json: one run-shaped line per seed in seed order, then the totals; jobs and shards change no result", () => {
    const one = parseJson(cli(["explore", SAFE, "--seeds", "6", "--jobs", "1", "--json"]).stdout);
    const two = parseJson(cli(["explore", SAFE, "--seeds", "6", "--jobs", "2", "--json"]).stdout);
    expect(one.seeds.map((line) => line.seed)).to.deep.equal([1, 2, 3, 4, 5, 6]);
    for (const line of one.seeds) expect(line).to.include.keys("scenario", "seed", "violations", "expectationMet", "stats");
    // Seeds are different runs (different event counts), and each is the same whichever worker ran it.
    expect(new Set(one.seeds.map((line) => line.stats.events)).size).to.be.greaterThan(1);
    expect(two.seeds).to.deep.equal(one.seeds);
    expect(one.totals).to.include({ seeds: 6, failed: 0, expectationMet: true, shard: null, jobs: 1 });

    const shard1 = parseJson(cli(["explore", SAFE, "--seeds", "6", "--shard", "1/2", "--jobs", "2", "--json"]).stdout);
    const shard2 = parseJson(cli(["explore", SAFE, "--seeds", "6", "--shard", "2/2", "--json"]).stdout);
    expect(shard1.seeds.map((line) => line.seed)).to.deep.equal([1, 3, 5]);
    expect(shard2.seeds.map((line) => line.seed)).to.deep.equal([2, 4, 6]);
    expect([...shard1.seeds, ...shard2.seeds].sort((a, b) => a.seed - b.seed)).to.deep.equal(one.seeds);
    expect(shard2.totals).to.include({ shard: "2/2", seeds: 3, seedsRequested: 6 });
  });

  it("--json of a failing seed carries its violations and the totals list it", () => {
    const { code, stdout } = cli(["explore", historicalConfigFile(), "--seeds", "1", "--json"]);
    expect(code).to.equal(1);
    const { seeds, totals } = parseJson(stdout);
    expect(seeds[0].expectationMet).to.equal(false);
    expect(seeds[0].violations.map((violation) => violation.name)).to.include("lost-write");
    expect(totals).to.include({ seeds: 1, failed: 1, expectationMet: false });
    expect(totals.failingSeeds).to.deep.equal([1]);
  });

  it("works from the esbuild bundle, whose workers load the bundled worker script", () => {
    const cache = join(ROOT, "node_modules/.cache");
    mkdirSync(cache, { recursive: true });
    // Inside node_modules/, so the bundle's external packages resolve as they do from dist/.
    const outdir = mkdtempSync(join(cache, "kafkasim-explore-"));
    try {
      const build = spawnSync(process.execPath, [join(ROOT, "scripts/build.mjs"), outdir], { cwd: ROOT, encoding: "utf8" });
      expect(build.status, build.stderr).to.equal(0);
      const { code, stdout, stderr } = cli(["explore", SAFE, "--seeds", "2", "--jobs", "2", "--json"], join(outdir, "cli.js"));
      expect(code, stderr).to.equal(0);
      const { seeds, totals } = parseJson(stdout);
      expect(seeds.map((line) => line.seed)).to.deep.equal([1, 2]);
      expect(totals).to.include({ expectationMet: true, seeds: 2 });
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  describe("bad input: one line, exit 2", () => {
    const cases: [string[], RegExp][] = [
      [["explore", SAFE], /required option '--seeds <n>'/],
      [["explore", SAFE, "--seeds", "0"], /^kafkasim: --seeds: expected an integer >= 1, found "0"$/],
      [["explore", SAFE, "--seeds", "3", "--jobs", "many"], /^kafkasim: --jobs: expected an integer >= 1, found "many"$/],
      [["explore", SAFE, "--seeds", "3", "--shard", "3/2"], /^kafkasim: --shard: expected K\/N with 1 <= K <= N/],
      [["explore", SAFE, "--seeds", "3", "--first-seed", "1.5"], /^kafkasim: --first-seed: expected an integer, found "1.5"$/],
      [["explore", "missing.json", "--seeds", "3"], /^kafkasim: missing\.json: cannot read the file \(no such file\); no built-in scenario has that name either/],
    ];
    for (const [args, pattern] of cases) {
      it(args.slice(2).join(" ") || "no --seeds", () => {
        const { code, stdout, stderr } = cli(args);
        expect(code).to.equal(2);
        expect(stdout).to.equal("");
        const lines = stderr.trim().split("\n");
        expect(lines, stderr).to.have.length(1);
        expect(lines[0]).to.match(pattern);
      });
    }
  });
});
