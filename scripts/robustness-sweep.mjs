// The long robustness sweeps of issue 14, behind their own script (npm run sweep): the aggressive unsafe
// scenario (and its ZooKeeper-only variant) must end every seed without a model error, and the harsh safe chaos
// scenario without a model error or a violation. Seeds via SWEEP_SEEDS (default 1000 / 1000 / 500).
// Prints each sweep's totals line and exits 1 when a bound is broken.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const scale = process.env.SWEEP_SEEDS === undefined ? null : Number(process.env.SWEEP_SEEDS);
const sweeps = [
  { file: "test/fixtures/repro/unsafe-aggr.json", seeds: 1000, violationsAllowed: true },
  { file: "test/fixtures/repro/unsafe-aggr-zk.json", seeds: 1000, violationsAllowed: true },
  { file: "test/fixtures/repro/harsh-safe.json", seeds: 500, violationsAllowed: false },
];

let ok = true;
for (const sweep of sweeps) {
  const seeds = String(scale ?? sweep.seeds);
  const result = spawnSync(process.execPath, ["bin/kafkasim.js", "explore", sweep.file, "--seeds", seeds, "--json"], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  const lines = result.stdout.trim().split("\n");
  const totals = JSON.parse(lines[lines.length - 1]).totals;
  const violations = Object.values(totals.violations).reduce((a, b) => a + b, 0);
  const broken = totals.modelErrors > 0 || totals.unfinished > 0 || (!sweep.violationsAllowed && violations > 0);
  if (broken) ok = false;
  process.stdout.write(
    `${broken ? "FAIL" : "ok  "} ${sweep.file}: ${totals.seeds} seeds, ${totals.modelErrors} model errors ${JSON.stringify(totals.modelErrorSeeds)}, ` +
      `${totals.unfinished} unfinished, ${violations} violations in ${totals.failed} seeds ${JSON.stringify(totals.seedsWithViolation)}, ` +
      `${(totals.wallMs / 1000).toFixed(0)} s wall\n`,
  );
}
process.exitCode = ok ? 0 : 1;
