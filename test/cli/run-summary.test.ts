/**
 * The run summary a new user reads (issue 19): violations grouped by name with a count and one shortened example,
 * why "expectation met" follows a violation, and `kafkasim run NAME` for a built-in scenario.
 */

import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { evidenceLine, expectationNote, violationLines } from "../../src/cli/run-command.ts";
import { scenarioArgument } from "../../src/cli/list-command.ts";
import type { Violation } from "../../src/check/violation.ts";
import { UsageError } from "../../src/cli/errors.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

const lost = (opId: number, time: number): Violation => ({
  name: "lost-write",
  time,
  nodes: ["p1", "broker-3"],
  evidence: { value: `p1-${opId}`, opId, topicPartition: "t-0", recordNow: [{ offset: opId, value: "other" }] },
});

describe("run summary", () => {
  it("groups violations by name: a count, the first one's time and nodes, one shortened example", () => {
    const violations = [...Array.from({ length: 42 }, (_, i) => lost(i, 70_000_000 + i)), { name: "hwm-regression", time: 20_000_000, nodes: ["broker-3"], evidence: { topicPartition: "t-0" } } as Violation];
    const lines = violationLines(violations);
    expect(lines[0]).to.equal("violations  43 in all, 2 kinds");
    expect(lines).to.have.length(1 + 2 * 2 + 1);
    expect(lines[1]).to.match(/✗ lost-write ×42 {2}first at 70s on p1, broker-3/);
    expect(lines[2]).to.contain("value=p1-0 opId=0 topicPartition=t-0");
    expect(lines[3]).to.match(/✗ hwm-regression {2}at 20s on broker-3/);
    expect(lines[5]).to.contain("--json");
    expect(violationLines([])).to.deep.equal(["violations  none"]);
  });

  it("keeps an evidence line short", () => {
    const long = { text: "x".repeat(500) };
    expect(evidenceLine(long).length).to.equal(160);
    expect(evidenceLine({ a: 1, nested: { deep: { deeper: "y".repeat(50) } }, list: [1, 2] })).to.equal("a=1 nested={…} list=[1,2]");
  });

  it("says why a known failure's run meets its expectation", () => {
    expect(expectationNote({ violations: ["lost-write"], allow: [], events: [] })).to.equal(": this scenario replays a known failure and expects lost-write");
    expect(expectationNote({ violations: [], allow: [], events: [] })).to.equal(": no violation, as expected");
    expect(expectationNote(undefined)).to.equal(": no violation, as expected");
  });

  it("resolves a built-in scenario's name, and names close ones for a near miss", () => {
    expect(scenarioArgument("kip-101-data-loss")).to.equal(join(ROOT, "scenarios", "kip-101-data-loss.json"));
    expect(scenarioArgument("kip-101-fixed.json")).to.equal(join(ROOT, "scenarios", "kip-101-fixed.json"));
    expect(scenarioArgument("./no/such.json")).to.equal("./no/such.json");
    expect(() => scenarioArgument("kip-101")).to.throw(UsageError, /no built-in scenario has that name either .*kip-101-data-loss/);
  });

  it("runs a built-in scenario by name from the command line", function () {
    this.timeout(120_000);
    const result = spawnSync(process.execPath, ["--import", pathToFileURL(join(ROOT, "node_modules/tsx/dist/loader.mjs")).href, join(ROOT, "src/cli/main.ts"), "run", "kip-101-data-loss"], { cwd: tmpdir(), encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    expect(result.status, result.stderr).to.equal(0);
    expect(result.stdout).to.match(/✗ lost-write {2}at /);
    expect(result.stdout).to.contain("✓ expectation met: this scenario replays a known failure and expects lost-write");
  });
});
