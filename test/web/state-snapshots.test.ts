// The viewer's reconstruction (web/src/state) against the model: for scenarios that exercise every kind of
// state change — truncation by high watermark and by leader epoch, unclean election, power loss, zombie
// controllers, controller and ZooKeeper failover, reassignment, compaction, random faults — the projected
// Timeline.stateAt at every `snapshot` event equals the snapshot the simulator took of its real state.
import { expect } from "chai";
import { compareSnapshots, describeMismatch, runTraced } from "./snapshot-helpers.ts";

const CHAOS = "test/web/fixtures/viewer-chaos.json";

const RUNS: { name: string; seed?: number }[] = [
  { name: "kip-101-data-loss" },
  { name: "kip-101-divergence" }, // power loss of every replica
  { name: "kip-279-divergence" }, // a truncation inside a multi-record batch
  { name: "unclean-election" },
  { name: "zombie-controller" },
  { name: "leader-failover" },
  { name: "controller-failover" },
  { name: "reassignment" },
  { name: "compaction" },
  { name: "safe-chaos", seed: 3 },
  { name: CHAOS, seed: 4 }, // a ZooKeeper leader commits txns of an earlier epoch that no leader traced
  { name: CHAOS, seed: 17 }, // a broker learns from /controller that it is still the controller
  { name: CHAOS, seed: 49 }, // a stale ZooKeeper leader serves beside the newer one
  { name: CHAOS, seed: 89 }, // a broker restarts after a power loss and its log dir fails to load
];

describe("viewer state: reconstruction equals the model's snapshots", function () {
  this.timeout(60_000);

  for (const { name, seed } of RUNS) {
    const label = seed === undefined ? name : `${name.replace(/^.*\//, "")} seed ${seed}`;
    it(label, () => {
      const run = runTraced(name, { snapshotIntervalMs: 500, ...(seed === undefined ? {} : { seed }) });
      expect(run.result.verdict, run.result.error).to.be.oneOf(["time-limit", "quiescent"]);
      const { checked, mismatch } = compareSnapshots(run);
      if (mismatch !== null) expect.fail(describeMismatch(label, mismatch));
      expect(checked).to.be.greaterThan(20);
    });
  }

  it("snapshots change nothing: the trace with them, minus their lines, is the trace without them", () => {
    const strip = (lines: string[]): string[] =>
      lines.filter((line) => !line.includes('"kind":"snapshot"')).map((line) => line.replace(/^\{"t":(\d+),"seq":\d+,/, '{"t":$1,'));
    const off = runTraced("kip-101-divergence", {});
    const on = runTraced("kip-101-divergence", { snapshotIntervalMs: 250 });
    expect(on.lines.length).to.be.greaterThan(off.lines.length);
    expect(strip(on.lines)).to.deep.equal(strip(off.lines));
    expect(on.result.violations).to.deep.equal(off.result.violations);
  });

  it("a broken reconstruction is caught", () => {
    const run = runTraced("kip-101-data-loss", { snapshotIntervalMs: 500 });
    // Drop the truncations from the trace: the reconstruction keeps records the model removed.
    const broken = { header: run.header, events: run.events.filter((e) => e.kind !== "log-truncate") };
    const { mismatch } = compareSnapshots(broken);
    expect(mismatch).to.not.equal(null);
    expect(mismatch!.path).to.match(/^\.replicas\[\d+\]\./);
  });
});
