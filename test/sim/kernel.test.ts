import { expect } from "chai";
import { Kernel, type EventTarget } from "../../src/sim/kernel.ts";
import { ModelAssertionError, assert } from "../../src/sim/assert.ts";
import { Rng } from "../../src/sim/rng.ts";
import { parseDuration, formatTime } from "../../src/sim/time.ts";

describe("Kernel", () => {
  it("advances virtual time to each event and runs same-time events in scheduling order", () => {
    const kernel = new Kernel();
    const log: string[] = [];
    const target: EventTarget = { handleEvent: (_kind, a) => log.push(`${kernel.now}:${String(a)}`) };
    kernel.at(30, target, 0, "c");
    kernel.at(10, target, 0, "a");
    kernel.at(10, target, 0, "b");
    const verdict = kernel.run({ untilUs: 1_000, maxEvents: 100 });
    expect(log).to.deep.equal(["10:a", "10:b", "30:c"]);
    expect(verdict.reason).to.equal("quiescent");
    expect(verdict.events).to.equal(3);
  });

  it("ends at the time limit with the clock at the limit, and can continue", () => {
    const kernel = new Kernel();
    let fired = 0;
    const ticker: EventTarget = {
      handleEvent() {
        fired++;
        kernel.after(100, ticker, 0);
      },
    };
    kernel.after(100, ticker, 0);
    const first = kernel.run({ untilUs: 1_050, maxEvents: 1e9 });
    expect(first.reason).to.equal("time-limit");
    expect(first.now).to.equal(1_050);
    expect(fired).to.equal(10);
    const second = kernel.run({ untilUs: 2_000, maxEvents: 1e9 });
    expect(fired).to.equal(20);
    expect(second.events).to.equal(10);
  });

  it("ends at the event limit: a self-rescheduling zero-delay loop cannot hang a run", () => {
    const kernel = new Kernel();
    const spinner: EventTarget = { handleEvent: () => void kernel.after(0, spinner, 0) };
    kernel.after(0, spinner, 0);
    const verdict = kernel.run({ untilUs: 10, maxEvents: 5_000 });
    expect(verdict.reason).to.equal("event-limit");
    expect(verdict.events).to.equal(5_000);
    expect(verdict.now).to.equal(0);
  });

  it("ends a zero-time livelock with a stalled verdict naming the events that repeat", () => {
    const kernel = new Kernel();
    const spinner: EventTarget = {
      handleEvent: () => void kernel.after(0, spinner, 7, "isr-expiration"),
      describeEvent: (kind, a) => `broker-1 timer ${String(a)} (kind ${kind})`,
    };
    let ticks = 0;
    const ticker: EventTarget = { handleEvent: () => void (ticks++, kernel.after(1000, ticker, 0)) };
    kernel.after(0, ticker, 0);
    kernel.at(5000, spinner, 7, "isr-expiration");
    const verdict = kernel.run({ untilUs: 1e9, maxEvents: 1e9, maxEventsPerInstant: 10_000 });
    expect(verdict.reason).to.equal("stalled");
    expect(verdict.now).to.equal(5000);
    expect(verdict.detail).to.contain("broker-1 timer isr-expiration (kind 7)");
    expect(verdict.detail).to.contain("10000 events at one virtual time");
    // Time advanced normally up to the stall.
    expect(ticks).to.equal(6);
  });

  it("counts events at one instant across run() calls, and forgets them when the clock moves", () => {
    const kernel = new Kernel();
    const burst: EventTarget = { handleEvent() {} };
    for (let i = 0; i < 900; i++) kernel.at(10, burst, 0);
    expect(kernel.run({ untilUs: 100, maxEvents: 600, maxEventsPerInstant: 1000 }).reason).to.equal("event-limit");
    expect(kernel.run({ untilUs: 100, maxEvents: 1e6, maxEventsPerInstant: 1000 }).reason).to.equal("quiescent");
    for (let i = 0; i < 900; i++) kernel.at(200, burst, 0);
    expect(kernel.run({ untilUs: 300, maxEvents: 1e6, maxEventsPerInstant: 1000 }).reason).to.equal("quiescent");
    // Checked every 64 events (an eighth of the bound at most, a power of two): ends within 1000 + 2 × 64 events.
    for (let i = 0; i < 1200; i++) kernel.at(400, burst, 0);
    expect(kernel.run({ untilUs: 500, maxEvents: 1e6, maxEventsPerInstant: 1000 }).reason).to.equal("stalled");
  });

  it("turns a model assertion into a model-error verdict", () => {
    const kernel = new Kernel();
    kernel.after(5, { handleEvent: () => assert(false, "leaderEpoch went backwards") }, 0);
    const verdict = kernel.run({ untilUs: 100, maxEvents: 10 });
    expect(verdict.reason).to.equal("model-error");
    expect(verdict.error).to.be.instanceOf(ModelAssertionError);
    expect(verdict.error!.message).to.equal("leaderEpoch went backwards");
  });

  it("stops on request and cancels timers", () => {
    const kernel = new Kernel();
    const log: number[] = [];
    const target: EventTarget = {
      handleEvent: (_kind, a) => {
        log.push(a as number);
        if (a === 2) kernel.stop("enough");
      },
    };
    kernel.at(1, target, 0, 1);
    const cancelled = kernel.at(2, target, 0, 99);
    kernel.at(3, target, 0, 2);
    kernel.at(4, target, 0, 3);
    expect(kernel.cancel(cancelled)).to.equal(true);
    const verdict = kernel.run({ untilUs: 100, maxEvents: 100 });
    expect(log).to.deep.equal([1, 2]);
    expect(verdict).to.include({ reason: "stopped", detail: "enough" });
  });

  it("refuses to schedule in the past or at fractional times", () => {
    const kernel = new Kernel();
    const target: EventTarget = { handleEvent() {} };
    kernel.at(10, target, 0);
    kernel.run({ untilUs: 10, maxEvents: 10 });
    expect(() => kernel.at(5, target, 0)).to.throw(ModelAssertionError);
    expect(() => kernel.after(0.5, target, 0)).to.throw(ModelAssertionError);
  });
});

describe("Rng", () => {
  it("gives the same stream for the same seed and name, and independent forks", () => {
    const a = Rng.fromSeed(7).fork("net");
    const b = Rng.fromSeed(7).fork("net");
    const c = Rng.fromSeed(8).fork("net");
    const xs = Array.from({ length: 5 }, () => a.float());
    expect(Array.from({ length: 5 }, () => b.float())).to.deep.equal(xs);
    expect(Array.from({ length: 5 }, () => c.float())).to.not.deep.equal(xs);
  });

  it("keeps a fork's stream unchanged when another fork is consumed", () => {
    const root1 = Rng.fromSeed(1);
    const root2 = Rng.fromSeed(1);
    root2.fork("other").float();
    root2.fork("other").float();
    expect(root1.fork("disk").float()).to.equal(root2.fork("disk").float());
  });

  it("draws integers within inclusive bounds", () => {
    const rng = Rng.fromSeed(3);
    const seen = new Set<number>();
    for (let i = 0; i < 2_000; i++) seen.add(rng.int(2, 5));
    expect([...seen].sort()).to.deep.equal([2, 3, 4, 5]);
  });
});

describe("durations", () => {
  it("parses scenario durations into microseconds", () => {
    expect(parseDuration("250ms")).to.equal(250_000);
    expect(parseDuration("3.1s")).to.equal(3_100_000);
    expect(parseDuration("2m")).to.equal(120_000_000);
    expect(parseDuration(1500)).to.equal(1_500_000);
    expect(parseDuration("soon")).to.equal(null);
    expect(parseDuration(-1)).to.equal(null);
    expect(formatTime(3_100_000)).to.equal("3.1s");
  });
});
