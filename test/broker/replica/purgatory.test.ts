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
    readonly name: string,
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

function purgatory(keepsEmptyLists = false): Purgatory<Op> {
  let timer = 0;
  return new Purgatory<Op>({ context: { setTimer: () => ++timer as never, cancelTimer: () => true } }, "test", undefined, keepsEmptyLists);
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
  it("checks exactly the parked watchers of a key in the order parked; a key's list holds only parked operations, kept once empty only with keepsEmptyLists", () => {
    const KEYS = ["a", "b", "c"];
    const step = fc.oneof(
      fc.record({ kind: fc.constant("park" as const), keys: fc.subarray(KEYS, { minLength: 1 }) }),
      fc.record({ kind: fc.constant("complete" as const), which: fc.nat() }),
      fc.record({ kind: fc.constant("check" as const), key: fc.constantFrom(...KEYS) }),
    );
    fc.assert(
      fc.property(fc.boolean(), fc.array(step, { maxLength: 60 }), (keepsEmptyLists, steps) => {
        const p = purgatory(keepsEmptyLists);
        const log: string[] = [];
        const parked: Op[] = [];
        const watched = new Set<string>();
        let n = 0;
        for (const each of steps) {
          if (each.kind === "park") {
            const op = new Op(each.keys, false, log, `op${n++}`);
            p.tryCompleteElseWatch(op, 100);
            parked.push(op);
            for (const key of each.keys) watched.add(key);
          } else if (each.kind === "complete") {
            if (parked.length > 0) parked.splice(each.which % parked.length, 1)[0].forceComplete();
          } else {
            log.length = 0;
            expect(p.checkAndComplete(each.key)).to.equal(0);
            expect(log).to.deep.equal(parked.filter((op) => op.keys.includes(each.key)).map((op) => op.name));
          }
          // Introspection of the structure: a list per key ever watched (kept) or per key watched now (dropped
          // once empty), holding its parked operations in order.
          const lists = (p as unknown as { watchers: Map<string, Op[]> }).watchers;
          const expectedKeys = keepsEmptyLists ? [...watched] : KEYS.filter((key) => parked.some((op) => op.keys.includes(key)));
          expect([...lists.keys()].sort()).to.deep.equal(expectedKeys.sort());
          for (const [key, list] of lists) expect(list).to.deep.equal(parked.filter((op) => op.keys.includes(key)));
        }
      }),
    );
  });
});
