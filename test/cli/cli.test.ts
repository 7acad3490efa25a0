import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KeyEventSink } from "../../src/cli/run-command.ts";
import { parseTrace } from "../../src/sim/trace.ts";
import { VERSION } from "../../src/version.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const EXAMPLE = join(ROOT, "scenarios/demo-pingpong.json");

/** Runs the CLI from source (through tsx), so these tests never see a stale build. */
function cli(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "src/cli/main.ts"), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "", FORCE_COLOR: "", ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "kafkasim-cli-"));
}

describe("kafkasim CLI", function () {
  this.timeout(120_000);

  it("prints its version, equal to package.json's", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    expect(VERSION).to.equal(pkg.version);
    const { code, stdout } = cli(["--version"]);
    expect(code).to.equal(0);
    expect(stdout.trim()).to.equal(VERSION);
  });

  it("runs the example scenario, meets its expectation and exits 0", () => {
    const { code, stdout } = cli(["run", EXAMPLE]);
    expect(code).to.equal(0);
    expect(stdout).to.contain("demo-pingpong");
    expect(stdout).to.contain("expectation met");
  });

  it("lists a consumer group's story among the key events: transitions, the coordinator moving, assignments", () => {
    const { code, stdout } = cli(["run", join(ROOT, "scenarios/group-coordinator-failover.json"), "--until", "26s"], { NO_COLOR: "1" });
    expect(code).to.equal(0);
    const lines = stdout.split("\n");
    for (const expected of [
      "   2.031207s  broker-2   __consumer_offsets created: 3 partitions, replication factor 3",
      "   2.079414s  broker-1   coordinator loaded __consumer_offsets-2: 0 groups, 0 offsets",
      "   8.121937s  broker-1   group g1 Stable gen 1 (2 members, leader c1-b38f)",
      "   8.124115s  c1         group g1 assigned t-0,t-1,t-2 (gen 1, c1-b38f, EAGER)",
      "  15.008301s  broker-1   group g1 PreparingRebalance gen 1 (3 members, leader c1-b38f)",
      "   22.54619s  broker-2   group g1 loaded as Stable gen 1 (2 members, leader c1-b38f)",
      "  25.581952s  c2         group g1 revoked t-3,t-4,t-5 (gen 1, c2-d20d, EAGER)",
      "  25.603216s  broker-2   group g1 Stable gen 2 (3 members, leader c1-b38f)",
    ]) {
      expect(lines, expected).to.include(expected);
    }
  });

  it("counts the groups' key events apart from the cluster's, so start-up does not crowd them out", () => {
    const sink = new KeyEventSink();
    const line = (seq: number, kind: string, fields: Record<string, unknown>) => JSON.stringify({ t: seq, seq, node: "broker-1", kind, ...fields });
    for (let k = 0; k < 70; k++) sink.write(line(k, "leader-elected", { topicPartition: `t-${k}` }));
    sink.write(line(70, "send", { to: "broker-2" }));
    for (let k = 71; k < 141; k++) sink.write(line(k, "group-state", { group: "g1", state: "Stable", previousState: "CompletingRebalance", generation: k, members: [] }));
    expect(sink.seen).to.equal(140);
    expect(sink.events.filter((e) => e.kind === "leader-elected")).to.have.length(60);
    expect(sink.events.filter((e) => e.kind === "group-state")).to.have.length(60);
    expect(sink.events.map((e) => e.seq)).to.deep.equal([...sink.events.map((e) => e.seq)].sort((a, b) => a - b));
  });

  it("--json prints one JSON object in DESIGN.md's shape", () => {
    const { code, stdout } = cli(["run", EXAMPLE, "--json", "--seed", "3"]);
    expect(code).to.equal(0);
    const lines = stdout.trim().split("\n");
    expect(lines).to.have.length(1);
    const summary = JSON.parse(lines[0]);
    expect(summary).to.include.keys("scenario", "seed", "violations", "expectationMet", "stats");
    expect(summary.seed).to.equal(3);
    expect(summary.stats).to.include.keys("events", "simulatedMs", "wallMs", "traceHash");
  });

  it("gives byte-identical traces across two processes for one seed, and different ones for another", () => {
    const dir = tempDir();
    const files = ["a", "b", "c"].map((name) => join(dir, `${name}.jsonl`));
    expect(cli(["run", EXAMPLE, "--seed", "9", "--trace", files[0]]).code).to.equal(0);
    expect(cli(["run", EXAMPLE, "--seed", "9", "--trace", files[1]]).code).to.equal(0);
    expect(cli(["run", EXAMPLE, "--seed", "10", "--trace", files[2]]).code).to.equal(0);
    const [a, b, c] = files.map((file) => readFileSync(file, "utf8"));
    expect(a).to.equal(b);
    expect(a).to.not.equal(c);
    const { header, events } = parseTrace(a);
    expect(header).to.include({ scenario: "demo-pingpong", seed: 9, formatVersion: 1 });
    expect(header.nodes).to.deep.equal(["node-1", "node-2", "node-3"]);
    expect(events.length).to.be.greaterThan(1000);
    expect(events.every((event, i) => event.seq === i)).to.equal(true);
    expect(readdirSync(dir).filter((name) => name.endsWith(".partial"))).to.deep.equal([]);
  });

  it("--history writes the header and only the client history, each op also in the trace", () => {
    const dir = tempDir();
    const history = join(dir, "history.jsonl");
    const trace = join(dir, "trace.jsonl");
    const { code } = cli(["run", join(ROOT, "scenarios/leader-failover.json"), "--until", "6s", "--history", history, "--trace", trace]);
    expect(code).to.equal(0);
    const lines = readFileSync(history, "utf8").trim().split("\n");
    expect(JSON.parse(lines[0])).to.include({ scenario: "leader-failover" });
    const ops = lines.slice(1).map((line) => JSON.parse(line) as { kind: string; type: string });
    expect(ops.length).to.be.greaterThan(10);
    expect(ops.every((op) => op.kind === "op" || op.kind === "client-config")).to.equal(true);
    expect(ops.some((op) => op.type === "invoke") && ops.some((op) => op.type === "ok")).to.equal(true);
    const traced = readFileSync(trace, "utf8").trim().split("\n").slice(1).filter((line) => line.includes('"kind":"op"'));
    expect(traced).to.deep.equal(lines.slice(1).filter((line) => line.includes('"kind":"op"')));
  });

  it("--check-determinism runs twice and reports identical traces", () => {
    const { code, stdout } = cli(["run", EXAMPLE, "--check-determinism", "--json"]);
    expect(code).to.equal(0);
    expect(JSON.parse(stdout)).to.include({ identical: true });
  });

  it("--snapshot-interval records snapshot events in the trace", () => {
    const trace = join(tempDir(), "t.jsonl");
    const { code } = cli(["run", EXAMPLE, "--until", "3s", "--snapshot-interval", "1000", "--trace", trace]);
    expect(code).to.equal(0);
    const snapshots = parseTrace(readFileSync(trace, "utf8")).events.filter((e) => e.kind === "snapshot");
    expect(snapshots.map((e) => e.t)).to.deep.equal([1_000_000, 2_000_000, 3_000_000]);
    expect(snapshots[0].node).to.equal("sim");
  });

  it("--until stops early at a virtual time", () => {
    const { stdout } = cli(["run", EXAMPLE, "--until", "3s", "--json"]);
    expect(JSON.parse(stdout).stats.simulatedMs).to.equal(3000);
  });

  describe("bad input: one line, exit code 2, no stack trace", () => {
    const expectUsageError = (result: ReturnType<typeof cli>, pattern: RegExp) => {
      expect(result.code).to.equal(2);
      expect(result.stdout).to.equal("");
      const lines = result.stderr.trim().split("\n");
      expect(lines, result.stderr).to.have.length(1);
      expect(lines[0]).to.match(pattern);
      expect(result.stderr).to.not.match(/\n\s+at /);
    };

    it("a missing file", () => expectUsageError(cli(["run", "nope.json"]), /^kafkasim: nope\.json: cannot read the file \(no such file\); no built-in scenario has that name either/));

    it("an invalid scenario names the file and the JSON path", () => {
      const dir = tempDir();
      const file = join(dir, "bad.json");
      writeFileSync(file, JSON.stringify({ name: "x", duration: "1s", cluster: { demo: { nodes: 2 } }, faults: [{ at: "1s", type: "crash", node: "node-7" }] }));
      expectUsageError(cli(["run", file]), /^kafkasim: .*bad\.json: \$\.faults\[0\]\.node: expected one of the cluster's nodes/);
    });

    it("broken JSON", () => {
      const dir = tempDir();
      const file = join(dir, "broken.json");
      writeFileSync(file, "{ \"name\": ");
      expectUsageError(cli(["run", file]), /^kafkasim: .*broken\.json: line \d+, column \d+: expected valid JSON/);
    });

    it("a bad seed", () => expectUsageError(cli(["run", EXAMPLE, "--seed", "abc"]), /^kafkasim: --seed: expected an integer, found "abc"$/));
    it("a bad --until", () => expectUsageError(cli(["run", EXAMPLE, "--until", "later"]), /^kafkasim: --until: expected a duration/));
    it("a bad --metrics-interval", () => expectUsageError(cli(["run", EXAMPLE, "--metrics-interval", "-5"]), /^kafkasim: --metrics-interval: expected milliseconds/));
    it("a bad --snapshot-interval", () => {
      expectUsageError(cli(["run", EXAMPLE, "--snapshot-interval", "0"]), /^kafkasim: --snapshot-interval: expected a positive number of milliseconds, found "0"$/);
      expectUsageError(cli(["run", EXAMPLE, "--snapshot-interval", "soon"]), /^kafkasim: --snapshot-interval: expected a positive number of milliseconds/);
    });
    it("an unknown option", () => expectUsageError(cli(["run", EXAMPLE, "--colour"]), /^kafkasim: unknown option '--colour'/));
    it("an unknown command", () => expectUsageError(cli(["fly"]), /^kafkasim: unknown command 'fly'/));
    it("a missing argument", () => expectUsageError(cli(["run"]), /^kafkasim: missing required argument 'file'/));

    it("an unwritable trace path leaves nothing behind", () => {
      const dir = tempDir();
      // A missing folder is made (--trace out/run.jsonl); a path under a file cannot be.
      writeFileSync(join(dir, "file"), "");
      expectUsageError(cli(["run", EXAMPLE, "--trace", join(dir, "file/t.jsonl")]), /cannot write the file/);
    });
  });

  it("respects NO_COLOR and --no-color (no ANSI escapes), and colours when forced", () => {
    expect(cli(["run", EXAMPLE, "--until", "1s"], { NO_COLOR: "1", FORCE_COLOR: "1" }).stdout).to.not.match(/\x1b\[/);
    expect(cli(["--no-color", "run", EXAMPLE, "--until", "1s"], { FORCE_COLOR: "1" }).stdout).to.not.match(/\x1b\[/);
  });

  it("bench --kernel --json reports the kernel's no-op event rate", () => {
    const { code, stdout } = cli(["bench", "--kernel", "--json", "--events", "200000", "--rounds", "1"]);
    expect(code).to.equal(0);
    const report = JSON.parse(stdout);
    expect(report.kernel.eventsPerSec).to.be.a("number").greaterThan(0);
    expect(report.kernel.plainHeapEventsPerSec).to.be.a("number").greaterThan(0);
  });

  it("the installed bin launcher runs the bundled CLI", () => {
    const bin = join(ROOT, "bin/kafkasim.js");
    expect(existsSync(join(ROOT, "dist/cli.js")), "dist/cli.js missing: run `npm run build` (npm test does)").to.equal(true);
    const result = spawnSync(process.execPath, [bin, "run", EXAMPLE, "--json", "--until", "2s"], { encoding: "utf8" });
    expect(result.status).to.equal(0);
    expect(JSON.parse(result.stdout).scenario).to.equal("demo-pingpong");
  });

  describe("bounds: every run ends with a verdict", () => {
    const LONG = join(ROOT, "scenarios/safe-chaos.json");

    it("--max-wall ends the run with a wall-limit verdict, exit 3, and --json still prints its object with the statistics so far", () => {
      const { code, stdout } = cli(["run", LONG, "--json", "--max-wall", "1ms"]);
      expect(code).to.equal(3);
      const result = JSON.parse(stdout) as { verdict: string; detail: string; stats: { events: number; simulatedMs: number }; expectationMet: boolean };
      expect(result.verdict).to.equal("wall-limit");
      expect(result.detail).to.match(/--max-wall 1 ms/);
      expect(result.expectationMet).to.equal(false);
      expect(result.stats.events).to.be.greaterThan(0);
    });

    it("--max-memory ends the run with a memory-limit verdict and exit 3", () => {
      const { code, stdout } = cli(["run", LONG, "--json", "--max-memory", "16"]);
      expect(code).to.equal(3);
      expect(JSON.parse(stdout).verdict).to.equal("memory-limit");
    });

    it("refuses bad bounds in one line with exit 2", () => {
      for (const args of [["--max-wall", "soon"], ["--max-wall", "0"], ["--max-memory", "1"], ["--max-memory", "lots"], ["--max-memory", "99999999"]]) {
        const { code, stdout, stderr } = cli(["run", EXAMPLE, ...args]);
        expect(code, args.join(" ")).to.equal(2);
        expect(stdout).to.equal("");
        expect(stderr.trim().split("\n")).to.have.length(1);
        expect(stderr).to.match(new RegExp(`^kafkasim: ${args[0]}: expected`));
      }
    });

    it("a long run --json streams progress lines to stderr (no terminal)", () => {
      const dir = tempDir();
      const file = join(dir, "busy.json");
      const busy = JSON.parse(readFileSync(join(ROOT, "scenarios/leader-failover.json"), "utf8"));
      busy.duration = "30m";
      busy.clients[0].workload = { topic: "t", messages: 1_000_000, ratePerSec: 1000 };
      writeFileSync(file, JSON.stringify(busy));
      const { code, stdout, stderr } = cli(["run", file, "--json", "--max-wall", "3500ms"]);
      expect(code).to.equal(3);
      expect(JSON.parse(stdout).verdict).to.equal("wall-limit");
      const lines = stderr.trim().split("\n").filter((line) => line.startsWith("{"));
      expect(lines.length).to.be.greaterThan(0);
      const progress = JSON.parse(lines[0]).progress as { scenario: string; simulatedMs: number; endMs: number; wallMs: number };
      expect(progress.scenario).to.equal("leader-failover");
      expect(progress.endMs).to.be.greaterThan(progress.simulatedMs);
      expect(progress.wallMs).to.be.at.least(2000);
    });

    it("a duration beyond the maximum is refused in one line naming the bound", () => {
      const dir = tempDir();
      const file = join(dir, "long.json");
      writeFileSync(file, JSON.stringify({ name: "long", duration: "99999999999999999999h", cluster: { demo: { nodes: 2 } } }));
      const { code, stderr } = cli(["run", file]);
      expect(code).to.equal(2);
      expect(stderr.trim()).to.equal(`kafkasim: ${file}: $.duration: expected a duration of at most 8760h (one simulated year, 31536000000 ms)`);
    });
  });
});
