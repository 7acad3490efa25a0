import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = new URL("../..", import.meta.url).pathname;

/** Runs the CLI from source (through tsx), as test/cli/cli.test.ts does. */
function cli(args: string[], input?: string) {
  const result = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "src/cli/main.ts"), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    input,
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "" },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function groupFile(value: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), "kafkasim-assign-")), "group.json");
  writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value));
  return file;
}

const GROUP = {
  topics: { t1: 3, t2: 3 },
  members: [
    { id: "c1", topics: ["t1", "t2"], owned: ["t1-0", "t1-1", "t1-2"], generation: 1, instanceId: null },
    { id: "c2", topics: ["t1", "t2"], owned: ["t2-0", "t2-1", "t2-2"], generation: 1 },
    { id: "c3", topics: ["t1", "t2"] },
  ],
};

describe("kafkasim assign", function () {
  this.timeout(60_000);

  it("--json prints the range assignment by default, partitions sorted by topic then number", () => {
    const { code, stdout } = cli(["assign", groupFile(GROUP), "--json"]);
    expect(code).to.equal(0);
    expect(JSON.parse(stdout)).to.deep.equal({ assignment: { c1: ["t1-0", "t2-0"], c2: ["t1-1", "t2-1"], c3: ["t1-2", "t2-2"] } });
  });

  it("reads stdin and accepts Kafka's class name", () => {
    const { code, stdout } = cli(["assign", "--assignor", "org.apache.kafka.clients.consumer.StickyAssignor", "--json"], JSON.stringify(GROUP));
    expect(code).to.equal(0);
    expect(JSON.parse(stdout).assignment).to.deep.equal({ c1: ["t1-0", "t1-1"], c2: ["t2-0", "t2-1"], c3: ["t1-2", "t2-2"] });
  });

  it("cooperative-sticky leaves partitions that change owner out of this round", () => {
    const { stdout } = cli(["assign", groupFile(GROUP), "--assignor", "cooperative-sticky", "--json"]);
    expect(JSON.parse(stdout).assignment).to.deep.equal({ c1: ["t1-0", "t1-1"], c2: ["t2-0", "t2-1"], c3: [] });
  });

  it("prints a readable table with the moves and the balance", () => {
    const { code, stdout } = cli(["assign", groupFile(GROUP), "--assignor", "roundrobin"]);
    expect(code).to.equal(0);
    expect(stdout).to.contain("roundrobin assignment");
    expect(stdout).to.match(/c3\s+t1,t2\s+-\s+t1-2 t2-2/);
    expect(stdout).to.contain("moved 4 owned partition(s); balance (max - min) 0");
  });

  it("--all compares the four assignors side by side", () => {
    const { code, stdout } = cli(["assign", groupFile(GROUP), "--all"]);
    expect(code).to.equal(0);
    expect(stdout).to.match(/member\s+owned\s+range\s+roundrobin\s+sticky\s+cooperative-sticky/);
    expect(stdout).to.match(/sticky\s+moved 2 owned partition\(s\); balance \(max - min\) 0/);
    expect(stdout).to.contain("cooperative-sticky  moved 2 owned partition(s), 2 left for a follow-up rebalance; balance (max - min) 2");
    const json = JSON.parse(cli(["assign", groupFile(GROUP), "--all", "--json"]).stdout);
    expect(Object.keys(json.assignors)).to.deep.equal(["range", "roundrobin", "sticky", "cooperative-sticky"]);
    expect(json.assignors.sticky).to.deep.include({ moved: 2, unassigned: 0, balance: 0 });
  });

  it("an unknown assignor is one line listing the allowed names, exit 2", () => {
    const { code, stdout, stderr } = cli(["assign", groupFile(GROUP), "--assignor", "fair"]);
    expect(code).to.equal(2);
    expect(stdout).to.equal("");
    expect(stderr.trim().split("\n")).to.have.length(1);
    expect(stderr).to.contain('unknown assignor "fair"; expected one of range, roundrobin, sticky, cooperative-sticky');
  });

  it("bad input is one line naming the file, the JSON path and what was expected, exit 2", () => {
    const cases: [unknown, string][] = [
      [{ topics: { t: 1 }, members: [{ id: "a", topics: ["t"], owned: ["t0"] }] }, '$.members[0].owned[0]: expected a partition like "t1-0"'],
      [{ topics: { t: -1 }, members: [{ id: "a", topics: ["t"] }] }, "$.topics.t: "],
      [{ topics: { t: 1 }, members: [{ id: "a", topics: "t" }] }, "$.members[0].topics: expected array"],
      [{ topics: { t: 1 }, members: [{ id: "a", topics: ["t"], topic: ["t"] }] }, "$.members[0].topic: unknown key"],
      [{ topics: { t: 1 }, members: [{ id: "a" }] }, "$.members[0].topics: expected array, found nothing (required)"],
      [{ topics: { t: 1 }, members: [] }, "$.members: expected at least one member"],
      [{ topics: { t: 1 }, members: [{ id: "a", topics: ["t"] }, { id: "a", topics: ["t"] }] }, "$.members[1].id: expected a unique member id"],
      ['{"topics": ', "$: expected valid JSON"],
    ];
    for (const [value, message] of cases) {
      const file = groupFile(value);
      const { code, stderr } = cli(["assign", file]);
      expect(code, message).to.equal(2);
      expect(stderr.trim().split("\n"), message).to.have.length(1);
      expect(stderr, message).to.contain(`${file}: ${message}`);
    }
  });
});

describe("kafkasim assign: the README's example", function () {
  this.timeout(60_000);

  it("docs/examples/assign-group.json runs: c3 joins c1 and c2, the cooperative assignor holds back what moves", () => {
    const { code, stdout } = cli(["assign", "docs/examples/assign-group.json", "--all", "--json"]);
    expect(code).to.equal(0);
    const { assignors } = JSON.parse(stdout) as { assignors: Record<string, { assignment: Record<string, string[]>; moved: number }> };
    expect(assignors.sticky.assignment).to.deep.equal({ c1: ["t1-0", "t1-1"], c2: ["t2-0", "t2-1"], c3: ["t1-2", "t2-2"] });
    expect(assignors["cooperative-sticky"].assignment.c3).to.deep.equal([]);
    expect(assignors.range.moved).to.equal(4);
  });
});
