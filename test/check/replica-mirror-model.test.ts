import { expect } from "chai";
import fc from "fast-check";
import { ReplicaMirror } from "../../src/check/replica-mirror.ts";
import type { LogLoadedBatch, TraceRecords } from "../../src/sim/trace.ts";
import { ReferenceReplicaMirror } from "./replica-mirror-reference.ts";

// Issue 18 round 4: the mirror appends a batch in place (room made once per batch), reloads without a rebuild when
// the loaded log is its own records, and compares two mirrors' columns directly (firstDifference). Random
// operations on two replicas must leave them as the mirror before (replica-mirror-reference.ts) left them, offset
// by offset, with the same reload answers; firstDifference must answer as knows + sameRecord offset by offset.

type Op =
  | { op: "append"; r: number; back: number; gaps: number[]; epoch: number; values: number[]; records: boolean }
  | { op: "truncate"; r: number; back: number }
  | { op: "startAt"; r: number; offset: number }
  | { op: "retention"; r: number; offset: number }
  | { op: "reload"; r: number; start: number; endBack: number; endAhead: number; drop: number; change: number; extra: boolean };

const VALUES = ["a", "b", "c", null];
const replica = fc.integer({ min: 0, max: 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant("append" as const),
      r: replica,
      back: fc.integer({ min: -2, max: 3 }),
      gaps: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 0, maxLength: 4 }),
      epoch: fc.integer({ min: 0, max: 2 }),
      values: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 5, maxLength: 5 }),
      records: fc.boolean(),
    }),
    weight: 6,
  },
  fc.record({ op: fc.constant("truncate" as const), r: replica, back: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ op: fc.constant("startAt" as const), r: replica, offset: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ op: fc.constant("retention" as const), r: replica, offset: fc.integer({ min: 0, max: 40 }) }),
  {
    arbitrary: fc.record({
      op: fc.constant("reload" as const),
      r: replica,
      start: fc.integer({ min: -3, max: 3 }),
      endBack: fc.integer({ min: 0, max: 3 }),
      endAhead: fc.integer({ min: 0, max: 2 }),
      drop: fc.integer({ min: -1, max: 8 }),
      change: fc.integer({ min: -4, max: 8 }),
      extra: fc.boolean(),
    }),
    weight: 3,
  },
);

/** A batch as the log-append's TRACE_RECORDS carries it. */
function records(offsets: number[], values: (string | null)[]): TraceRecords {
  return { baseOffset: offsets[0], recordCount: offsets.length, offsetDeltaAt: (i) => offsets[i] - offsets[0], valueAt: (i) => values[i] };
}

/** The loaded log a broker would trace for `reference`'s content, changed as `o` says. */
function loadedBatches(reference: ReferenceReplicaMirror, start: number, end: number, o: Extract<Op, { op: "reload" }>): LogLoadedBatch[] {
  const batches: [number, number[], (string | null)[], number][] = [];
  let k = 0;
  for (let offset = start; offset < end; offset++) {
    const record = reference.at(offset);
    if (record === undefined) continue;
    k++;
    if (k === o.drop) continue;
    const epoch = k === o.change ? record.partitionLeaderEpoch + 1 : record.partitionLeaderEpoch;
    const value = k === -o.change ? "changed" : record.value;
    const last = batches[batches.length - 1];
    if (last !== undefined && last[0] === epoch) {
      last[1].push(offset);
      last[2].push(value);
      last[3] = offset;
    } else {
      batches.push([epoch, [offset], [value], offset]);
    }
  }
  if (o.extra && end > start) batches.push([9, [end - 1], ["extra"], end - 1]);
  return batches;
}

function expectSame(mirror: ReplicaMirror, reference: ReferenceReplicaMirror, step: number): void {
  expect([mirror.logStartOffset, mirror.logEndOffset], `step ${step}: bounds`).to.deep.equal([reference.logStartOffset, reference.logEndOffset]);
  for (let offset = 0; offset < reference.logEndOffset + 4; offset++) {
    expect(mirror.at(offset), `step ${step}: offset ${offset}`).to.deep.equal(reference.at(offset));
  }
}

/** firstDifference's oracle: the first offset both know where the records differ. */
function naiveDifference(a: ReplicaMirror, b: ReplicaMirror, from: number, to: number): number {
  for (let offset = from; offset < to; offset++) if (a.knows(offset) && b.knows(offset) && !a.sameRecord(offset, b)) return offset;
  return -1;
}

describe("ReplicaMirror against the mirror before round 4", () => {
  it("random appends, truncations, retention and reloads leave both replicas' mirrors, and the reload answers, as before", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), (ops) => {
        const mirrors = [new ReplicaMirror("broker-1", "t-0"), new ReplicaMirror("broker-2", "t-0")];
        const references = [new ReferenceReplicaMirror("broker-1", "t-0"), new ReferenceReplicaMirror("broker-2", "t-0")];
        ops.forEach((o, step) => {
          const mirror = mirrors[o.r];
          const reference = references[o.r];
          const at = 100 + step;
          switch (o.op) {
            case "append": {
              const first = Math.max(0, reference.logEndOffset - o.back);
              const offsets = [first];
              for (const gap of o.gaps) offsets.push(offsets[offsets.length - 1] + gap);
              const values = offsets.map((_, i) => VALUES[o.values[i]]);
              if (o.records) {
                mirror.appendRecords(records(offsets, values), o.epoch, at);
                reference.appendRecords(records(offsets, values), o.epoch, at);
              } else {
                mirror.append(offsets, values, o.epoch, at);
                reference.append(offsets, values, o.epoch, at);
              }
              break;
            }
            case "truncate":
              mirror.truncateTo(reference.logEndOffset - o.back);
              reference.truncateTo(reference.logEndOffset - o.back);
              break;
            case "startAt":
              mirror.startAt(o.offset);
              reference.startAt(o.offset);
              break;
            case "retention":
              mirror.advanceLogStart(o.offset);
              reference.advanceLogStart(o.offset);
              break;
            case "reload": {
              const start = Math.max(0, reference.logStartOffset + o.start);
              const end = Math.max(start, reference.logEndOffset - o.endBack + o.endAhead);
              const batches = loadedBatches(reference, start, end, o);
              expect(mirror.reload(start, end, batches, at), `step ${step}: reload`).to.equal(reference.reload(start, end, batches, at));
              break;
            }
          }
          expectSame(mirror, reference, step);
          const [a, b] = mirrors;
          const from = Math.max(a.logStartOffset, b.logStartOffset);
          const to = Math.min(a.logEndOffset, b.logEndOffset);
          if (from < to) expect(a.firstDifference(b, from, to), `step ${step}: firstDifference`).to.equal(naiveDifference(a, b, from, to));
        });
      }),
      { numRuns: 400 },
    );
  });
});
