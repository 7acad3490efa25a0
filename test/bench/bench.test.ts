import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { benchScenario, chaosSpec, scaleSpec, soakSpec, standardSpec, transactionsSpec } from "../../src/bench/scenarios.ts";
import { run as runSpec } from "../scenario/helpers.ts";
import { soakVerdict, type SoakSample } from "../../src/bench/soak.ts";
import { parseBenchOptions } from "../../src/cli/bench-command.ts";
import { UsageError } from "../../src/cli/errors.ts";
import { runScenario } from "../../src/scenario/run.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

/** Runs the CLI from source (through tsx); the chaos part's workers and the scale children load the source too. */
function cli(args: string[]) {
  const result = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "src/cli/main.ts"), ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function samples(heaps: number[]): SoakSample[] {
  return heaps.map((heapUsedMb, i) => ({ simulatedS: (i + 1) * 60, heapUsedMb, rssMb: heapUsedMb * 2, wallS: i }));
}

describe("kafkasim bench", function () {
  this.timeout(60_000);

  describe("the progress hook of runScenario", () => {
    const scenario = benchScenario(chaosSpec(4));

    it("does not change the trace hash, and is called at every progress time", () => {
      const plain = runScenario(scenario, { seed: 3 });
      const times: number[] = [];
      const hooked = runScenario(scenario, { seed: 3, progressEveryUs: 700_000, onProgress: (us) => void times.push(us) });
      expect(hooked.stats.traceHash).to.equal(plain.stats.traceHash);
      expect(hooked.stats.events).to.equal(plain.stats.events);
      expect(hooked.verdict).to.equal(plain.verdict);
      // 4 s of run + 30 s of settle: every 0.7 s up to 34 s.
      expect(times).to.deep.equal(Array.from({ length: Math.floor(34 / 0.7) }, (_, i) => (i + 1) * 700_000));
    });

    it("returning false stops the run at that virtual time", () => {
      const result = runScenario(scenario, { seed: 3, hash: false, progressEveryUs: 1_000_000, onProgress: (us) => us < 2_000_000 });
      expect(result.verdict).to.equal("stopped");
      expect(result.stats.simulatedMs).to.equal(2000);
      expect(result.expectationMet).to.equal(false);
    });
  });

  it("the built-in scenarios validate at their full sizes", () => {
    expect(benchScenario(standardSpec()).clients).to.have.length(3);
    expect(benchScenario(chaosSpec()).nemesis?.types).to.deep.equal(["crash", "partition", "pause"]);
    expect(benchScenario(scaleSpec(5000)).topics[0].partitions).to.equal(5000);
    expect((benchScenario(soakSpec()).cluster.config as Record<string, unknown>)["log.retention.ms"]).to.equal(60_000);
    expect(benchScenario(transactionsSpec()).clients.map((c) => c.type)).to.deep.equal(["producer", "producer", "producer", "processor", "processor", "consumer"]);
  });

  it("the transactions workload commits, aborts one transaction in ten, and its processors find nothing wrong", () => {
    const { result, events } = runSpec(transactionsSpec(12));
    expect(result.violations).to.deep.equal([]);
    const ended = events.filter((e) => e.kind === "op" && e.f === "txn" && e.type === "ok" && String(e.process).startsWith("p"));
    expect(ended.some((e) => e.result === "abort")).to.equal(true);
    expect(events.some((e) => e.kind === "op" && e.f === "txn" && e.type === "ok" && String(e.process).startsWith("x"))).to.equal(true);
  });

  describe("the soak's verdict", () => {
    it("flat when the last half's median stays within the tolerance of the post-retention median", () => {
      const verdict = soakVerdict(samples([50, 80, 90, 95, 92, 96, 94, 100, 98, 97]));
      expect(verdict.baselineFromS).to.equal(120);
      expect(verdict.baselineMedianMb).to.equal(91); // 80, 90, 95, 92
      expect(verdict.lastHalfMedianMb).to.equal(97);
      expect(verdict.lastHalfMaxMb).to.equal(100);
      expect(verdict.flat).to.equal(true);
    });

    it("one spike does not make a leak", () => {
      expect(soakVerdict(samples([50, 60, 61, 59, 60, 62, 160, 60, 61, 59])).flat).to.equal(true);
    });

    it("grows when the heap keeps climbing", () => {
      const verdict = soakVerdict(samples([50, 80, 100, 120, 140, 160, 180, 200, 220, 240]));
      expect(verdict.flat).to.equal(false);
      expect(verdict.growth).to.equal(0.818); // 200 / 110 - 1
    });

    it("no verdict from a run too short to judge", () => {
      expect(soakVerdict(samples([50, 80])).flat).to.equal(null);
    });
  });

  describe("options", () => {
    const bad: [Record<string, string | boolean>, RegExp][] = [
      [{ only: "standard,nope" }, /^--only: expected a comma-separated list of kernel, standard, groups, transactions, chaos, scale/],
      [{ simSeconds: "0" }, /^--sim-seconds: expected a positive integer/],
      [{ seeds: "2.5" }, /^--seeds: expected a positive integer/],
      [{ partitions: "1250,x" }, /^--partitions: expected a comma-separated list/],
      [{ partitions: "0" }, /^--partitions:/],
      [{ kernel: true, only: "chaos" }, /^--kernel and --only/],
      [{ soak: true, only: "chaos" }, /^--soak runs alone/],
      [{ scaleWallLimit: "-1" }, /^--scale-wall-limit:/],
    ];
    for (const [options, message] of bad) {
      it(`rejects ${JSON.stringify(options)}`, () => {
        expect(() => parseBenchOptions(options)).to.throw(UsageError, message);
      });
    }

    it("defaults to every part; --only and --kernel select", () => {
      expect([...parseBenchOptions({}).parts]).to.deep.equal(["kernel", "standard", "groups", "transactions", "chaos", "scale"]);
      expect([...parseBenchOptions({ only: "chaos, standard" }).parts]).to.deep.equal(["chaos", "standard"]);
      expect([...parseBenchOptions({ kernel: true }).parts]).to.deep.equal(["kernel"]);
      expect(parseBenchOptions({ partitions: "1250,2500" }).partitions).to.deep.equal([1250, 2500]);
    });

    it("a bad option is one line on stderr and exit 2", () => {
      const { code, stdout, stderr } = cli(["bench", "--only", "standard,nope"]);
      expect(code).to.equal(2);
      expect(stdout).to.equal("");
      expect(stderr).to.match(/^kafkasim: --only: expected a comma-separated list/);
      expect(stderr.trim().split("\n")).to.have.length(1);
    });
  });

  it("--json prints DESIGN.md's shape (tiny sizes)", () => {
    const { code, stdout } = cli(["bench", "--json", "--sim-seconds", "3", "--seeds", "2", "--jobs", "2", "--partitions", "20,40", "--events", "50000", "--rounds", "1"]);
    expect(code).to.equal(0);
    const report = JSON.parse(stdout);
    expect(Object.keys(report)).to.deep.equal(["kernel", "standard", "groups", "transactions", "chaos", "scale"]);
    expect(report.kernel.eventsPerSec).to.be.a("number").greaterThan(0);
    for (const figures of [report.standard, report.standard.withoutCheckers, report.groups, report.groups.withoutCheckers, report.transactions, report.transactions.withoutCheckers]) {
      expect(figures.speedup).to.be.a("number").greaterThan(0);
      expect(figures.eventsPerSec).to.be.a("number").greaterThan(0);
      expect(figures.ratioToKernel).to.be.closeTo(figures.eventsPerSec / report.kernel.eventsPerSec, 0.001);
      expect(figures.simulatedMs).to.equal(3000);
    }
    expect(report.chaos.seedsPerHour).to.be.a("number").greaterThan(0);
    expect(report.chaos.seeds).to.equal(2);
    expect(report.chaos.failingSeeds).to.deep.equal([]);
    expect(report.scale.map((size: { partitions: number }) => size.partitions)).to.deep.equal([20, 40]);
    for (const size of report.scale) {
      expect(size.wallMs).to.be.a("number").greaterThan(0);
      expect(size.peakRssMb).to.be.a("number").greaterThan(20);
      expect(size.simulatedMs).to.equal(3000);
      expect(size.boundHit).to.equal(false);
    }
  });

  it("standard reports linearity: the run against ten times a tenth of it, with and without checkers", () => {
    const { code, stdout } = cli(["bench", "--json", "--only", "standard", "--sim-seconds", "10"]);
    expect(code).to.equal(0);
    const { standard } = JSON.parse(stdout);
    expect(standard.simulatedMs).to.equal(10_000);
    expect(standard.linearity.shortSimulatedMs).to.equal(1000);
    expect(standard.linearity.checkers).to.be.closeTo(standard.wallMs / (10 * standard.linearity.shortWallMs), 0.002);
    expect(standard.linearity.withoutCheckers).to.be.closeTo(standard.withoutCheckers.wallMs / (10 * standard.linearity.shortWallMsWithoutCheckers), 0.002);
  });

  it("--kernel --json keeps its output: the kernel part alone", () => {
    const { code, stdout } = cli(["bench", "--kernel", "--json", "--events", "50000", "--rounds", "1"]);
    expect(code).to.equal(0);
    const report = JSON.parse(stdout);
    expect(Object.keys(report)).to.deep.equal(["kernel"]);
    expect(report.kernel.plainHeapEventsPerSec).to.be.a("number").greaterThan(0);
  });
});
