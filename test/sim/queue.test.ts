import { expect } from "chai";
import fc from "fast-check";
import { EventQueue, type EventTarget } from "../../src/sim/queue.ts";

const target: EventTarget = { handleEvent() {} };

type Op = { op: "push"; time: number } | { op: "cancel"; pick: number } | { op: "postpone"; pick: number; time: number } | { op: "pop" };

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant("push" as const), time: fc.integer({ min: 0, max: 50 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("cancel" as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("pop" as const) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("postpone" as const), pick: fc.nat(), time: fc.integer({ min: 0, max: 60 }) }) },
);

describe("EventQueue", () => {
  it("pops in (time, insertion sequence) order, skips cancelled events, postpones as cancel-and-push, and matches a sorted-array model", () => {
    fc.assert(
      fc.property(fc.array(opArbitrary, { maxLength: 400 }), (ops) => {
        const queue = new EventQueue();
        // Reference model: a plain array of live entries, searched linearly.
        const model: { time: number; seq: number; handle: number; label: number }[] = [];
        const handles: number[] = [];
        let seq = 0;
        for (const step of ops) {
          if (step.op === "push") {
            const label = seq;
            const handle = queue.push(step.time, target, 0, label, undefined);
            model.push({ time: step.time, seq: seq++, handle, label });
            handles.push(handle);
          } else if (step.op === "cancel") {
            if (handles.length === 0) continue;
            const handle = handles[step.pick % handles.length];
            const index = model.findIndex((entry) => entry.handle === handle);
            const cancelled = queue.cancel(handle);
            expect(cancelled).to.equal(index >= 0);
            if (index >= 0) model.splice(index, 1);
          } else if (step.op === "postpone") {
            // postpone, else cancel and push: either way the model's cancel and push (a new sequence number).
            if (handles.length === 0) continue;
            const handle = handles[step.pick % handles.length];
            const index = model.findIndex((entry) => entry.handle === handle);
            const label = seq;
            let next = handle;
            if (queue.postpone(handle, step.time, target, 0, label, undefined)) {
              expect(index, "only a pending event is postponed").to.be.at.least(0);
            } else {
              expect(index >= 0 && step.time >= model[index].time, "a pending event moved no earlier is postponed").to.equal(false);
              queue.cancel(handle);
              next = queue.push(step.time, target, 0, label, undefined);
            }
            if (index >= 0) model.splice(index, 1);
            model.push({ time: step.time, seq: seq++, handle: next, label });
            handles.push(next);
          } else {
            let best = -1;
            for (let i = 0; i < model.length; i++) {
              if (best < 0 || model[i].time < model[best].time || (model[i].time === model[best].time && model[i].seq < model[best].seq)) best = i;
            }
            const slot = queue.pop();
            if (best < 0) {
              expect(slot).to.equal(-1);
              continue;
            }
            expect(queue.poppedTime).to.equal(model[best].time);
            expect(queue.a[slot]).to.equal(model[best].label);
            queue.release(slot);
            model.splice(best, 1);
          }
          expect(queue.size).to.equal(model.length);
        }
      }),
      // The example: a postponed event ties with one pushed after it and before the postpone, which runs first.
      { numRuns: 300, examples: [[[{ op: "push", time: 2 }, { op: "push", time: 5 }, { op: "postpone", pick: 0, time: 5 }, { op: "pop" }]]] },
    );
  });

  it("breaks ties by insertion order even across growth and compaction", () => {
    const queue = new EventQueue();
    const handles: number[] = [];
    for (let i = 0; i < 5000; i++) handles.push(queue.push(7, target, 0, i, undefined));
    // Cancel 4000 of them (forces at least one compaction), keep every fifth.
    for (let i = 0; i < 5000; i++) if (i % 5 !== 0) expect(queue.cancel(handles[i])).to.equal(true);
    const seen: number[] = [];
    for (let slot = queue.pop(); slot !== -1; slot = queue.pop()) {
      seen.push(queue.a[slot] as number);
      queue.release(slot);
    }
    expect(seen).to.deep.equal(Array.from({ length: 1000 }, (_, i) => i * 5));
  });

  it("never lets a stale handle cancel a later event that reuses the slot", () => {
    const queue = new EventQueue();
    const first = queue.push(1, target, 0, "first", undefined);
    const slot = queue.pop();
    queue.release(slot);
    // Fill every slot so the first one is reused.
    const later: number[] = [];
    for (let i = 0; i < 2048; i++) later.push(queue.push(2, target, 0, i, undefined));
    expect(queue.cancel(first)).to.equal(false);
    expect(queue.size).to.equal(2048);
    expect(queue.cancel(later[0])).to.equal(true);
    expect(queue.cancel(later[0])).to.equal(false);
  });
});
