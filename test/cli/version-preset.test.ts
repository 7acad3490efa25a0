/** `kafkasim run --version-preset X`: one scenario tried under another Kafka era (issue 17's era comparison). */

import { expect } from "chai";
import { cli } from "./run-cli.ts";



describe("kafkasim run --version-preset", function () {
  this.timeout(120_000);

  it("runs the file under another era: KAFKA-14402's fixed twin hangs under 2.4, the historical one does not under 3.x", () => {
    const old = cli(["run", "scenarios/kafka-14402-verified.json", "--version-preset", "2.4", "--json"]);
    expect(old.code, old.stderr).to.equal(1);
    expect((JSON.parse(old.stdout) as { violations: { name: string }[] }).violations.map((v) => v.name)).to.include("hanging-transaction");
    const fixed = cli(["run", "scenarios/kafka-14402-hanging-transaction.json", "--version-preset", "3.x", "--json"]);
    expect(fixed.code, fixed.stderr).to.equal(1);
    expect((JSON.parse(fixed.stdout) as { violations: unknown[] }).violations).to.deep.equal([]);
  });

  it("applies the era's own rules at load: transactions under 0.10.2 are one line per problem, exit 2", () => {
    const { code, stdout, stderr } = cli(["run", "scenarios/transactions-tour.json", "--version-preset", "0.10.2"]);
    expect(code).to.equal(2);
    expect(stdout).to.equal("");
    // One line per problem (the producer's transactional.id, the read_committed consumer's isolation.level).
    for (const line of stderr.trim().split("\n")) expect(line).to.match(/^kafkasim: scenarios\/transactions-tour\.json: \$\.clients\[\d+\]\.config\["[\w.]+"\]: expected cluster\.version 0\.11 or later/);
    expect(stderr).to.match(/transactions-tour\.json: \$\.clients\[0\]\.config\["transactional\.id"\]: expected cluster\.version 0\.11 or later/);
  });

  it("refuses an unknown preset, listing the allowed ones, and a cluster without brokers", () => {
    const bad = cli(["run", "scenarios/leader-failover.json", "--version-preset", "1.0"]);
    expect(bad.code).to.equal(2);
    expect(bad.stderr.trim()).to.equal('kafkasim: --version-preset: expected one of "0.10.2", "0.11", "1.1", "2.0", "2.1", "2.2", "2.4", "2.7", "3.3", "3.x", found "1.0"');
    const demo = cli(["run", "scenarios/demo-pingpong.json", "--version-preset", "3.x"]);
    expect(demo.code).to.equal(2);
    expect(demo.stderr).to.match(/has no Kafka brokers/);
  });
});
