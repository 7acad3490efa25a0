import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { firstSentence, groupScenarios, type ScenarioEntry } from "../../src/cli/scenario-list.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
/** tsx's loader by absolute URL: a bare `--import tsx` would resolve from the working directory. */
const TSX = pathToFileURL(createRequire(join(ROOT, "package.json")).resolve("tsx")).href;

function cli(args: string[]) {
  // From another directory: scenarios/ is found next to the CLI, not in the working directory.
  const result = spawnSync(process.execPath, ["--import", TSX, join(ROOT, "src/cli/main.ts"), ...args], {
    cwd: tmpdir(),
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const scenarioFiles = () => readdirSync(join(ROOT, "scenarios")).filter((name) => /\.(json|ya?ml)$/.test(name));
const entry = (name: string, expectedViolations: string[], description = `${name} does things. More.`): ScenarioEntry => ({
  file: `${name}.json`,
  name,
  description,
  expectedViolations,
  nemesis: false,
});

describe("kafkasim list", function () {
  this.timeout(60_000);

  it("prints every scenario file of scenarios/ with the first sentence of its description", () => {
    const { code, stdout, stderr } = cli(["list"]);
    expect(code, stderr).to.equal(0);
    const files = scenarioFiles();
    expect(files.length).to.be.greaterThan(5);
    for (const file of files) {
      const spec = JSON.parse(readFileSync(join(ROOT, "scenarios", file), "utf8")) as { name: string; description: string };
      const line = stdout.split("\n").find((text) => text.trimStart().startsWith(`${spec.name} `));
      expect(line, spec.name).to.not.equal(undefined);
      expect(line).to.contain(firstSentence(spec.description).slice(0, 40));
    }
    expect(stdout).to.contain("Known failures");
    expect(stdout).to.contain("Teaching scenarios");
  });

  it("--json: one entry per file, failures by their expectation, fixed twins by name", () => {
    const { code, stdout } = cli(["list", "--json"]);
    expect(code).to.equal(0);
    const entries = JSON.parse(stdout) as { name: string; group: string; counterpartOf?: string; summary: string }[];
    expect(entries).to.have.length(scenarioFiles().length);
    const byName = new Map(entries.map((item) => [item.name, item]));
    expect(byName.get("kip-101-data-loss")).to.include({ group: "failure" });
    expect(byName.get("kip-101-fixed")).to.include({ group: "counterpart" });
    expect(byName.get("zombie-controller-fenced")).to.include({ group: "counterpart", counterpartOf: "zombie-controller" });
    expect(byName.get("leader-failover")).to.include({ group: "teaching" });
  });

  it("an era difference that is not a violation is a known failure too: a must-show broker halt or client error", () => {
    const entries = JSON.parse(cli(["list", "--json"]).stdout) as { name: string; group: string; expectedViolations: string[]; counterpartOf?: string }[];
    const byName = new Map(entries.map((item) => [item.name, item]));
    expect(byName.get("kafka-7414-halt")).to.deep.include({ group: "failure", expectedViolations: ["broker-halted"] });
    expect(byName.get("kafka-7152-idle-shrink")).to.deep.include({ group: "failure", expectedViolations: ["producer-retry NOT_ENOUGH_REPLICAS"] });
    expect(byName.get("kip-380-fast-bounce")).to.include({ group: "failure" });
    expect(byName.get("kafka-7414-fixed")).to.include({ group: "counterpart", counterpartOf: "kafka-7414-halt" });
    expect(byName.get("kip-380-fixed")).to.include({ group: "counterpart", counterpartOf: "kip-380-fast-bounce" });
  });

  it("shows the Kafka era each scenario runs under (cluster.version, 3.x by default; none without brokers)", () => {
    const entries = JSON.parse(cli(["list", "--json"]).stdout) as { name: string; version: string | null }[];
    const byName = new Map(entries.map((item) => [item.name, item.version]));
    expect(byName.get("kip-101-data-loss")).to.equal("0.10.2");
    expect(byName.get("kafka-7415-fixed")).to.equal("2.0+compat");
    expect(byName.get("jepsen-2013-unclean")).to.match(/^0\.10\.2/);
    expect(byName.get("kafka-14402-hanging-transaction")).to.equal("2.4");
    expect(byName.get("leader-failover")).to.equal("3.x");
    expect(byName.get("demo-pingpong")).to.equal(null);
    const line = cli(["list"]).stdout.split("\n").find((text) => text.trimStart().startsWith("kafka-7415-fixed "));
    expect(line).to.match(/kafka-7415-fixed +2\.0\+compat +/);
  });

  describe("grouping (pure)", () => {
    it("failures expect violations; a safe scenario sharing the longest name stem, or naming a failure, is its twin", () => {
      const grouped = groupScenarios([
        entry("kip-101-data-loss", ["lost-write"]),
        entry("kip-101-divergence", ["divergent-log"]),
        entry("kip-101-divergence-fixed", []),
        entry("producer-retry-reorder", ["reordered-write"]),
        entry("producer-idempotent", [], "The same faults as producer-retry-reorder, idempotent. More."),
        entry("leader-failover", []),
      ]);
      const byName = new Map(grouped.map((item) => [item.name, item]));
      expect(byName.get("kip-101-data-loss")!.group).to.equal("failure");
      expect(byName.get("kip-101-divergence-fixed")).to.include({ group: "counterpart", counterpartOf: "kip-101-divergence" });
      expect(byName.get("producer-idempotent")).to.include({ group: "counterpart", counterpartOf: "producer-retry-reorder" });
      expect(byName.get("leader-failover")!.group).to.equal("teaching");
      expect(byName.get("leader-failover")!.summary).to.equal("leader-failover does things.");
    });

    it("the first sentence ends at a full stop before a capital, not inside version numbers, and is clipped", () => {
      expect(firstSentence("As before Kafka 0.11: it truncates. Then more.")).to.equal("As before Kafka 0.11: it truncates.");
      expect(firstSentence("No full stop at all")).to.equal("No full stop at all");
      const long = firstSentence(`${"word ".repeat(40)}end.`, 50);
      expect(long.length).to.be.at.most(50);
      expect(long.endsWith("…")).to.equal(true);
    });
  });
});
