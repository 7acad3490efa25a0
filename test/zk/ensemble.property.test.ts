import { expect } from "chai";
import fc from "fast-check";
import { Ensemble } from "./ensemble.ts";

type Fault = {
  at: number;
  kind: "crash" | "power-loss" | "power-loss-all" | "partition" | "pause" | "oneway-in" | "oneway-out" | "slow-disk" | "loss" | "disk-full" | "disk-error";
  /** 1..3, or 0 for whichever server leads when the fault fires. */
  server: number;
  downMs: number;
};

const faultArbitrary: fc.Arbitrary<Fault> = fc.record({
  at: fc.integer({ min: 1_000, max: 40_000 }),
  kind: fc.constantFrom(
    "crash" as const,
    "power-loss" as const,
    "power-loss-all" as const,
    "partition" as const,
    "pause" as const,
    "oneway-in" as const,
    "oneway-out" as const,
    "slow-disk" as const,
    "loss" as const,
    "disk-full" as const,
    "disk-error" as const,
  ),
  server: fc.integer({ min: 0, max: 3 }),
  downMs: fc.integer({ min: 100, max: 15_000 }),
});

/**
 * Random fault schedules against a 3-server ensemble while a client keeps creating znodes. After healing,
 * every server must converge to the same tree, and every create the client saw acknowledged must be there
 * (ZooKeeper fsyncs before acknowledging, so not even a power loss of every server may lose it).
 */
describe("ZooKeeper ensemble under random faults (property)", function () {
  this.timeout(300_000);

  it("converges, and never loses an acknowledged write", () => {
    fc.assert(
      fc.property(fc.array(faultArbitrary, { maxLength: 6 }), fc.integer({ min: 1, max: 1_000_000 }), (faults, seed) => {
        const zk = new Ensemble({ servers: 3, clients: ["c1"], sessionTimeoutMs: 10_000, seed }).startServers();
        zk.runUntil(() => zk.stable(), 20_000);
        const client = zk.startClient("c1");
        const acked: string[] = [];
        let next = 0;
        const writer = { handleEvent: () => {
          if (client.client.state === "EXPIRED") return;
          const path = `/w${next++}`;
          client.client.create(path, "", {}, (reply) => reply.code === "OK" && acked.push(path));
          zk.world.kernel.after(10_000, writer, 0);
        } };
        zk.world.kernel.after(1_000_000, writer, 0);
        const sorted = [...faults].sort((a, b) => a.at - b.at);
        for (const fault of sorted) {
          zk.world.kernel.at(zk.world.now + fault.at * 1000, { handleEvent: () => {
            const leader = zk.leader();
            const name = fault.server === 0 ? (leader !== null ? `zk-${leader.sid}` : "zk-1") : `zk-${fault.server}`;
            const host = zk.world.host(name);
            const others = zk.names.filter((n) => n !== name);
            let undo: () => void = () => {
              if (!host.isUp()) host.start();
            };
            if (fault.kind === "crash") host.crash();
            else if (fault.kind === "power-loss") host.powerLoss();
            else if (fault.kind === "power-loss-all") {
              for (const n of zk.names) zk.world.host(n).powerLoss();
              undo = () => {
                for (const n of zk.names) if (!zk.world.host(n).isUp()) zk.world.host(n).start();
              };
            } else if (fault.kind === "pause") host.pause(fault.downMs * 1000);
            else if (fault.kind === "slow-disk") {
              zk.disks.get(name)!.setFaults({ fsyncExtraUs: 200_000 });
              undo = () => zk.disks.get(name)!.setFaults({ fsyncExtraUs: 0 });
            } else if (fault.kind === "disk-full" || fault.kind === "disk-error") {
              // A txn log error ends the server's role; it rejoins once the disk works again.
              const disk = zk.disks.get(name)!;
              if (fault.kind === "disk-full") disk.fill();
              else disk.setFaults({ writeError: true, fsyncError: true });
              undo = () => disk.clearFaults();
            } else if (fault.kind === "loss") {
              // Messages lost both ways: retransmitted in order, or the connection resets (noticed by its id).
              const rule = zk.network.loss(0.3, [name], others.concat("c1"));
              const back = zk.network.loss(0.3, others.concat("c1"), [name]);
              undo = () => {
                zk.network.removeRule(rule);
                zk.network.removeRule(back);
              };
            } else {
              const rule =
                fault.kind === "partition"
                  ? zk.network.partition([[name], others.concat("c1")])
                  : fault.kind === "oneway-in"
                    ? zk.network.partitionOneWay(others, [name])
                    : zk.network.partitionOneWay([name], others);
              undo = () => zk.network.removeRule(rule);
            }
            zk.world.kernel.after(fault.downMs * 1000, { handleEvent: undo }, 0);
          } }, 0);
        }
        zk.runFor(60_000);
        // Settle: everything healed and up, then give the ensemble time to converge.
        zk.network.heal();
        for (const disk of zk.disks.values()) disk.clearFaults();
        for (const name of zk.names) {
          const host = zk.world.host(name);
          // A server that exited on a snapshot write error is restarted, as its supervisor would.
          if (host.isUp() && zk.server(name).fatal) host.crash();
          if (!host.isUp()) host.start();
        }
        const converged = zk.runUntil(() => {
          const servers = zk.servers();
          // One leader: a leader that resumes from a pause serves until its next tick tells it it lost its quorum.
          return servers.length === 3 && servers.every((s) => s.serving) && zk.leader() !== null && new Set(servers.map((s) => s.tree.digest())).size === 1;
        }, 60_000);
        expect(converged, "ensemble did not converge").to.equal(true);
        const tree = zk.leader()!.tree;
        const missing = acked.filter((path) => tree.exists(path).stat === null);
        expect(missing, `acknowledged creates lost: ${missing.join(", ")}`).to.deep.equal([]);
        expect(acked.length).to.be.greaterThan(0);
      }),
      { numRuns: Number(process.env.KAFKASIM_ZK_PROPERTY_RUNS ?? 25), seed: Number(process.env.KAFKASIM_ZK_PROPERTY_SEED ?? 20261125) },
    );
  });
});
