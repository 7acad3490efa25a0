import { expect } from "chai";
import { KafkaAvg, KafkaMax, KafkaMeter } from "../../src/broker/kafka-metrics.ts";
import { CoordinatorMetrics } from "../../src/clients/metrics.ts";

const S = 1_000_000;

describe("Kafka metrics library (sampled rate, max, avg; broker and clients)", () => {
  it("a rate divides the windows' sum by at least one full window plus the elapsed time", () => {
    const meter = new KafkaMeter();
    meter.record(30, 0);
    // 30 records in 0 s elapsed: (samples − 1) = 1 window of 30 s is assumed.
    expect(meter.rate(0)).to.equal(1);
    expect(meter.total).to.equal(30);
    meter.record(30, 40 * S);
    // Windows started at 0 and 40 s: 60 records over 45 s elapsed (≥ 1 full window).
    expect(meter.rate(45 * S)).to.be.closeTo(60 / 45, 1e-12);
  });

  it("old samples fall out of the window; the total stays", () => {
    const meter = new KafkaMeter();
    meter.record(100, 0);
    expect(meter.rate(200 * S)).to.equal(0);
    expect(meter.total).to.equal(100);
  });

  it("max over the windows, null without samples", () => {
    const max = new KafkaMax();
    expect(max.measure(0)).to.equal(null);
    max.record(5, 0);
    max.record(3, S);
    expect(max.measure(2 * S)).to.equal(5);
    expect(max.measure(200 * S)).to.equal(null);
  });

  it("avg over the windows' events, null without samples", () => {
    const avg = new KafkaAvg();
    expect(avg.measure(0)).to.equal(null);
    avg.record(10, 0);
    avg.record(20, S);
    avg.record(60, 31 * S);
    expect(avg.measure(32 * S)).to.equal(30);
    // The first window (from 0) is obsolete at 60 s: only the 60 ms sample is left.
    expect(avg.measure(61 * S)).to.equal(60);
    expect(avg.measure(200 * S)).to.equal(null);
  });

  it("createMeter's WindowedCount counts events, whatever the recorded value (join-total of latencies)", () => {
    const meter = new KafkaMeter(true);
    meter.record(250, 0);
    meter.record(7, S);
    expect(meter.total).to.equal(2);
    expect(meter.rate(S)).to.be.closeTo(2 / 31, 1e-12);
  });

  it("a per-hour rate (rebalance-rate-per-hour) divides by hours", () => {
    const meter = new KafkaMeter(true, "hours");
    meter.record(1, 0);
    // One event over the minimum of one 30 s window: 120 per hour.
    expect(meter.rate(0)).to.equal(120);
  });

  it("consumer-coordinator-metrics: rebalance latency in whole ms, seconds-ago as TimeUnit.SECONDS.convert", () => {
    const metrics = new CoordinatorMetrics();
    expect(metrics.lastRebalanceSecondsAgo(0)).to.equal(-1);
    expect(metrics.lastHeartbeatSecondsAgo(0)).to.equal(-1);
    metrics.recordRebalance(3_000_900, 999);
    expect(metrics.rebalance.total).to.equal(1);
    expect(metrics.rebalanceLatencyTotalMs).to.equal(3000);
    expect(metrics.rebalanceLatency.max.measure(3_000_900)).to.equal(3000);
    expect(metrics.lastRebalanceSecondsAgo(4_000_000)).to.equal(1);
    expect(metrics.lastRebalanceSecondsAgo(3_999_999)).to.equal(0);
  });
});
