import { expect } from "chai";
import fc from "fast-check";
import { BrokerMetrics, M1_ALPHA, TICK_INTERVAL_US, YammerMeter, YammerTimer } from "../../src/broker/metrics.ts";

const S = 1_000_000;

/** A meter on a hand-driven clock. */
function clocked(): { meter: YammerMeter; at: (t: number) => void } {
  let now = 0;
  const meter = new YammerMeter(() => now);
  return { meter, at: (t) => (now = t) };
}

describe("Yammer meters (broker JMX)", () => {
  it("alpha is 1 − exp(−5/60) and ticks are 5 s", () => {
    expect(M1_ALPHA).to.equal(1 - Math.exp(-5 / 60));
    expect(TICK_INTERVAL_US).to.equal(5 * S);
  });

  it("counts every mark; the rate stays 0 until the first 5 s tick", () => {
    const { meter, at } = clocked();
    meter.mark();
    meter.mark(4);
    expect(meter.count).to.equal(5);
    at(4 * S);
    expect(meter.oneMinuteRate()).to.equal(0);
  });

  it("the first tick sets the rate to the interval's instant rate, later ticks decay towards theirs", () => {
    const { meter, at } = clocked();
    meter.mark(10); // 10 in the first 5 s: 2/s
    at(5 * S + 1);
    expect(meter.oneMinuteRate()).to.equal(2);
    at(10 * S + 1); // no marks: decays by (1 − alpha)
    expect(meter.oneMinuteRate()).to.be.closeTo(2 * (1 - M1_ALPHA), 1e-12);
    meter.mark(25); // 5/s in the third interval
    at(15 * S + 1);
    const r2 = 2 * (1 - M1_ALPHA);
    expect(meter.oneMinuteRate()).to.be.closeTo(r2 + M1_ALPHA * (5 - r2), 1e-12);
  });

  it("reads at any frequency give the same rate (lazy ticks on the creation grid)", () => {
    const a = clocked();
    const b = clocked();
    for (let t = 0; t <= 120 * S; t += 250_000) {
      a.at(t);
      b.at(t);
      if (t % (3 * S) === 0) {
        a.meter.mark();
        b.meter.mark();
      }
      if (t % S === 0) a.meter.oneMinuteRate();
    }
    expect(a.meter.oneMinuteRate()).to.equal(b.meter.oneMinuteRate());
    // A steady 1/3 per second converges on 1/3.
    expect(a.meter.oneMinuteRate()).to.be.closeTo(1 / 3, 0.05);
  });

  it("a long idle decays towards 0", () => {
    const { meter, at } = clocked();
    meter.mark(100);
    at(5 * S + 1);
    expect(meter.oneMinuteRate()).to.equal(20);
    at(30 * 60 * S);
    expect(meter.oneMinuteRate()).to.be.below(1e-6);
  });

  it("a timer counts events and averages their durations", () => {
    const timer = new YammerTimer(() => 0);
    expect(timer.mean()).to.equal(0);
    timer.update(10);
    timer.update(30);
    expect(timer.count).to.equal(2);
    expect(timer.mean()).to.equal(20);
  });

  it("BrokerMetrics has NOT_ENOUGH_REPLICAS meters for Produce from the start, others when they occur", () => {
    const metrics = new BrokerMetrics(() => 0);
    expect([...metrics.errors.get("Produce")!.keys()]).to.deep.equal(["NOT_ENOUGH_REPLICAS", "NOT_ENOUGH_REPLICAS_AFTER_APPEND"]);
    metrics.markError("FetchFollower", "NOT_LEADER_OR_FOLLOWER");
    expect(metrics.errors.get("FetchFollower")!.get("NOT_LEADER_OR_FOLLOWER")!.count).to.equal(1);
  });

  it("markErrors marks as markError would for each error in turn (counts and meter creation order); stale entries past count are ignored", () => {
    const error = fc.constantFrom("NONE", "NOT_LEADER_OR_FOLLOWER", "FENCED_LEADER_EPOCH", "OFFSET_OUT_OF_RANGE");
    fc.assert(
      fc.property(fc.array(fc.array(error, { maxLength: 6 }), { maxLength: 5 }), fc.array(error, { maxLength: 3 }), (responses, stale) => {
        const batched = new BrokerMetrics(() => 0);
        const oneByOne = new BrokerMetrics(() => 0);
        for (const errors of responses) {
          batched.markErrors("FetchFollower", [...errors, ...stale], errors.length);
          for (const e of errors) oneByOne.markError("FetchFollower", e);
        }
        const view = (m: BrokerMetrics) => [...m.errors.get("FetchFollower")!].map(([e, meter]) => [e, meter.count]);
        expect(view(batched)).to.deep.equal(view(oneByOne));
      }),
    );
  });
});
