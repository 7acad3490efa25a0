import { expect } from "chai";
import { KafkaAvg, KafkaMax, KafkaMeter } from "../../src/broker/kafka-metrics.ts";

const S = 1_000_000;

describe("Kafka client metrics (sampled rate, max)", () => {
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
});
