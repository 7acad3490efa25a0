/** `kafkasim compare`: one scenario under several Kafka era presets over the same seeds. */

import { expect } from "chai";
import { cli } from "./run-cli.ts";
import type { PresetRow } from "../../src/cli/compare-command.ts";



describe("kafkasim compare", function () {
  this.timeout(120_000);

  it("--json: violations per preset over the same seeds; a preset the file cannot load under is refused, not run", () => {
    const { code, stdout, stderr } = cli(["compare", "scenarios/kafka-14402-verified.json", "--presets", "0.10.2,2.4,3.x", "--seeds", "2", "--json"]);
    expect(code, stderr).to.equal(0);
    const report = JSON.parse(stdout) as { seeds: number; presets: PresetRow[] };
    const [old, pre, now] = report.presets;
    expect(old.refused).to.match(/expected cluster\.version 0\.11 or later/);
    expect(old.seeds).to.equal(0);
    expect(pre).to.deep.include({ preset: "2.4", seeds: 2, expectationMet: 0, modelErrors: 0 });
    expect(pre.violations["hanging-transaction"]).to.equal(2);
    expect(now).to.deep.include({ preset: "3.x", seeds: 2, expectationMet: 2, violations: {} });
  });

  it("prints a table, one row per preset", () => {
    const { code, stdout } = cli(["compare", "scenarios/kafka-14402-verified.json", "--presets", "2.4,3.x", "--seeds", "1"]);
    expect(code).to.equal(0);
    expect(stdout).to.match(/preset +expectation met +hanging-transaction +model errors/);
    expect(stdout).to.match(/\n {2}2\.4 +0\/1 +1 +0\n/);
    expect(stdout).to.match(/\n {2}3\.x +1\/1 +0 +0\n/);
  });

  it("bad presets and seed counts are one line, exit 2", () => {
    const bad = cli(["compare", "scenarios/leader-failover.json", "--presets", "2.4,9.9"]);
    expect(bad.code).to.equal(2);
    expect(bad.stderr.trim()).to.equal('kafkasim: --presets: expected a comma-separated list of "0.10.2", "0.11", "1.1", "2.0", "2.1", "2.2", "2.4", "2.7", "3.3", "3.x", found "9.9"');
    const seeds = cli(["compare", "scenarios/leader-failover.json", "--seeds", "0"]);
    expect(seeds.code).to.equal(2);
    expect(seeds.stderr.trim()).to.equal('kafkasim: --seeds: expected an integer from 1 to 1000, found "0"');
  });
});
