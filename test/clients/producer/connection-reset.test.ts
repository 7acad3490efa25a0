import { expect } from "chai";
import { ms } from "../../../src/sim/time.ts";
import type { World } from "../../../src/sim/world.ts";
import { FakeCluster } from "./fake-cluster.ts";
import { plan, runDriver, runWorkload } from "./harness.ts";

/**
 * A broker's process crashes while its machine stays up: its OS resets the producer's connection, so the
 * requests in flight fail at once (NetworkClient.processDisconnection → NETWORK_EXCEPTION) and the metadata
 * refresh finds the new leader. A power loss gives no such signal: the producer waits out request.timeout.ms.
 */
describe("producer: connection reset by a crashed broker process", () => {
  /** broker-1 leads; its responses take 1 s; at 200 ms it fails (`how`) and broker-2 takes the lead. */
  function failLeaderAt200ms(cluster: FakeCluster, how: "crash" | "powerLoss"): (world: World) => void {
    cluster.responseDelayMs = 1000;
    return (world) =>
      world.kernel.after(
        ms(200),
        {
          handleEvent: () => {
            world.host("broker-1")[how]();
            cluster.moveLeader(0, 2);
          },
        },
        0,
      );
  }

  it("fails the requests in flight at once with NETWORK_EXCEPTION and retries at the new leader", () => {
    const cluster = new FakeCluster(1, [1, 2]);
    const { driver, events } = runDriver(cluster, { "request.timeout.ms": 30_000 }, plan(2, 5), { setup: failLeaderAt200ms(cluster, "crash") });
    const disconnects = events.filter((e) => e.kind === "producer-disconnect");
    expect(disconnects[0]).to.include({ broker: "broker-1", reason: "connection-reset", inFlight: 2 });
    expect(disconnects[0].t).to.be.below(ms(300));
    expect(disconnects.map((e) => e.reason)).to.not.include("request-timeout");
    const retries = events.filter((e) => e.kind === "producer-retry");
    expect(retries.map((e) => e.error)).to.deep.equal(["NETWORK_EXCEPTION", "NETWORK_EXCEPTION"]);
    expect(cluster.produces.at(-1)!.broker).to.equal(2);
    expect(driver.results).to.have.length(2);
    for (const r of driver.results) expect(r.doneAt, `${r.value} completes long before request.timeout.ms`).to.be.below(ms(5_000));
  });

  it("a power loss resets nothing: the requests wait out request.timeout.ms", () => {
    const cluster = new FakeCluster(1, [1, 2]);
    const { driver, events } = runDriver(cluster, { "request.timeout.ms": 30_000 }, plan(2, 5), { setup: failLeaderAt200ms(cluster, "powerLoss") });
    const disconnects = events.filter((e) => e.kind === "producer-disconnect");
    expect(disconnects.map((e) => e.reason)).to.deep.equal(["request-timeout"]);
    expect(events.filter((e) => e.kind === "producer-retry").map((e) => e.error)).to.deep.equal(["REQUEST_TIMED_OUT", "REQUEST_TIMED_OUT"]);
    for (const r of driver.results) expect(r.doneAt).to.be.above(ms(30_000));
  });

  it("the producer workload hears the reset (ProducerApplication.onConnectionRefused)", () => {
    const cluster = new FakeCluster(1, [1, 2]);
    const setup = failLeaderAt200ms(cluster, "crash");
    const { events, ops } = runWorkload(cluster, { "request.timeout.ms": 30_000 }, { messages: 3, ratePerSec: 100, startAtMs: 150 }, 3_600_000, setup);
    const reasons = events.filter((e) => e.kind === "producer-disconnect").map((e) => e.reason);
    expect(reasons).to.include("connection-reset");
    expect(reasons).to.not.include("request-timeout");
    const oks = ops.filter((op) => op.type === "ok");
    expect(oks).to.have.length(3);
    for (const op of oks) expect(op.t).to.be.below(ms(5_000));
  });

  it("retries a refused broker with a growing reconnect backoff: reconnect.backoff.ms doubling to reconnect.backoff.max.ms, jittered (KIP-144)", () => {
    const cluster = new FakeCluster(1, [1, 2]);
    // broker-1 crashes at 200 ms and stays the leader in the metadata: every retry meets its reset.
    const setup = (world: World): void => {
      world.kernel.after(ms(200), { handleEvent: () => world.host("broker-1").crash() }, 0);
    };
    const { events } = runDriver(cluster, { "request.timeout.ms": 15_000, "delivery.timeout.ms": 20_000 }, plan(1, 5, () => null, 300), { setup, untilMs: 600_000 });
    const resets = events.filter((e) => e.kind === "producer-disconnect" && e.reason === "connection-reset").map((e) => e.t);
    const gaps = resets.slice(1).map((t, i) => t - resets[i]);
    expect(gaps.length).to.be.at.least(10);
    // The first gaps are short (50, 100, 200 ms of backoff, behind retry.backoff.ms 100), the later ones near 1 s.
    expect(gaps[0]).to.be.below(ms(300));
    for (const gap of gaps.slice(6)) expect(gap).to.be.within(ms(800), ms(1_300));
    // The jitter: the later gaps are not all equal.
    expect(new Set(gaps.slice(6).map((g) => Math.round(g / 1000))).size).to.be.greaterThan(1);
  });
});
