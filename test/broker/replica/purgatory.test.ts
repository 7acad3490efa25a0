import { expect } from "chai";
import fc from "fast-check";
import { DelayedOperation, Purgatory } from "../../../src/broker/replica/purgatory.ts";

/**
 * DelayedOperationPurgatory: watchers per key in the order they were added, checked on checkAndComplete, dropped
 * on completion; an operation whose check changes no state is checked once by tryCompleteElseWatch.
 */

class Op extends DelayedOperation {
  checks = 0;
  ready = false;
  completions = 0;

  constructor(
    readonly keys: readonly string[],
    override readonly checksAgainWhenWatched: boolean,
    private readonly log: string[],
    private readonly name: string,
  ) {
    super();
  }

  tryComplete(): boolean {
    this.checks++;
    this.log.push(this.name);
    return this.ready ? this.forceComplete() : false;
  }

  onComplete(): void {
    this.completions++;
  }
}

function purgatory(): Purgatory<Op> {
  let timer = 0;
  return new Purgatory<Op>({ context: { setTimer: () => ++timer as never, cancelTimer: () => true } }, "test");
}

describe("Purgatory", () => {
  it("checks a watched operation again after the watch unless its check is read-only", () => {
    const p = purgatory();
    const log: string[] = [];
    const twice = new Op(["a"], true, log, "twice");
    const once = new Op(["a"], false, log, "once");
    p.tryCompleteElseWatch(twice, 100);
    p.tryCompleteElseWatch(once, 100);
    expect([twice.checks, once.checks]).to.deep.equal([2, 1]);
  });

  it("checks a key's watchers in the order they were added, once each, and forgets completed ones", () => {
    const p = purgatory();
    const log: string[] = [];
    const first = new Op(["a", "b", "a"], false, log, "first");
    const second = new Op(["b", "a"], false, log, "second");
    const third = new Op(["b"], false, log, "third");
    for (const op of [first, second, third]) p.tryCompleteElseWatch(op, 100);
    log.length = 0;
    expect(p.checkAndComplete("a")).to.equal(0);
    expect(log).to.deep.equal(["first", "second"]);
    second.ready = true;
    log.length = 0;
    expect(p.checkAndComplete("b")).to.equal(1);
    expect(log).to.deep.equal(["first", "second", "third"]);
    log.length = 0;
    p.checkAndComplete("b");
    p.checkAndComplete("a");
    expect(log).to.deep.equal(["first", "third", "first"]);
    expect(second.completions).to.equal(1);
    expect(p.size).to.equal(2);
  });
  it("keeps its parked operations without a map: size, timeouts (data = the operation) and shutdown agree with a model", () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant("park" as const) }),
      fc.record({ kind: fc.constant("complete" as const), which: fc.nat() }),
      fc.record({ kind: fc.constant("expire" as const), which: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const timers: unknown[] = [];
        const p = new Purgatory<Op>({ context: { setTimer: (_delay: number, _tag: string, data?: unknown) => (timers.push(data), timers.length) as never, cancelTimer: () => true } }, "test");
        const log: string[] = [];
        const all: Op[] = [];
        const parked: Op[] = [];
        for (const each of steps) {
          if (each.kind === "park") {
            const op = new Op(["k"], false, log, `op${all.length}`);
            all.push(op);
            p.tryCompleteElseWatch(op, 100);
            parked.push(op);
          } else if (parked.length > 0) {
            const op = parked.splice(each.which % parked.length, 1)[0];
            if (each.kind === "complete") op.forceComplete();
            else p.onTimer(timers[all.indexOf(op)]);
            expect(op.completions).to.equal(1);
            expect(op.expired).to.equal(each.kind === "expire");
            p.onTimer(timers[all.indexOf(op)]); // a stale timeout: nothing happens
            expect(op.completions).to.equal(1);
          }
          expect(p.size).to.equal(parked.length);
        }
        p.shutdown();
        expect(p.size).to.equal(0);
        for (const op of parked) expect([op.completed, op.completions]).to.deep.equal([true, 0]);
        expect(p.checkAndComplete("k")).to.equal(0);
      }),
    );
  });
});
