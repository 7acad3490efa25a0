import { expect } from "chai";
import { Disk } from "../../src/disk/disk.ts";
import { kinds, run, S, type Spec } from "./helpers.ts";
import { World } from "../../src/sim/world.ts";

/**
 * The `machine-crash` fault: a kernel crash is silent on the network like a power loss (no process-gone reset,
 * no refusal until the machine restarts), and loses the page cache without tearing a write on the device.
 */
function spec(fault: "crash" | "machine-crash"): Spec {
  return {
    name: `machine-crash-${fault}`,
    seed: 1,
    duration: "30s",
    cluster: { zookeeper: { servers: 1 }, brokers: 3, config: { "zookeeper.session.timeout.ms": 6000 } },
    topics: [{ name: "t", partitions: 1, replicationFactor: 3, assignment: [[3, 1, 2]], config: { "min.insync.replicas": 2 } }],
    clients: [{ id: "p1", type: "producer", config: { acks: "all", "request.timeout.ms": 30000 }, workload: { topic: "t", messages: 200, ratePerSec: 20, startAt: "3s" } }],
    faults: [{ at: "8s", type: fault, node: "broker-3", for: "12s" }],
    expect: { violations: [] },
  };
}

describe("machine-crash fault", () => {
  it("is silent: the producer and the followers hear no reset from the crashed leader (a process crash resets them)", () => {
    const silent = run(spec("machine-crash")).events;
    const loud = run(spec("crash")).events;
    expect(kinds(silent, "host-machine-crash").map((e) => e.node)).to.deep.equal(["broker-3"]);
    const resets = (events: typeof silent) => kinds(events, "producer-disconnect", (e) => e.reason === "connection-reset" && e.t >= 8 * S && e.t < 20 * S);
    expect(resets(loud).length).to.be.greaterThan(0);
    expect(resets(silent)).to.have.length(0);
    // The machine restarts (the fault's end) and the broker rejoins.
    expect(kinds(silent, "host-start", (e) => e.node === "broker-3" && e.t === 20 * S)).to.have.length(1);
  });

  it("loses a disk's unsynced writes, keeping the prefix a power loss would keep, but tears none", () => {
    let tornByPowerLoss = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const kept: Record<string, number> = {};
      for (const kind of ["onPowerLoss", "onMachineCrash"] as const) {
        const world = new World(seed);
        const disk = new Disk(world, "h");
        for (let i = 0; i < 8; i++) expect(disk.append("f", `r${i}`, 100)).to.equal(null);
        disk[kind](world.rng.fork("loss"));
        const read = disk.read("f");
        if (read.error !== null) throw new Error(read.error);
        const chunks = read.chunks;
        kept[kind] = chunks.length;
        const torn = chunks.filter((c) => c.damage === "torn").length;
        if (kind === "onMachineCrash") expect(torn, `seed ${seed}`).to.equal(0);
        else tornByPowerLoss += torn;
      }
      expect(kept.onMachineCrash, `seed ${seed}`).to.equal(kept.onPowerLoss);
    }
    expect(tornByPowerLoss, "a power loss tears some").to.be.greaterThan(0);
  });
});
