import { expect } from "chai";
import fc from "fast-check";
import type { CommittedLog } from "../../src/check/committed-log.ts";
import { LostWriteChecker } from "../../src/check/history.ts";
import { WriteHistory } from "../../src/check/ops.ts";
import type { TraceEvent } from "../../src/sim/trace.ts";
import { ReferenceLostWriteChecker, ReferenceWriteHistory } from "./history-reference.ts";

// The columnar stores (values found by (producer, value number), acks in columns) must answer exactly as the
// value-keyed stores they replaced, whatever the values look like: the workload's `${process}-${6 digits}`, other
// paddings of the same number, another producer's values, a dash in the process name, long or odd values, and
// topic deletions in between.

const PROCESSES = ["p1", "p2", "p-1"];
const OWNERS = ["p1", "p2", "p-1", "p", "q"];
const ODD_VALUES = ["x", "p1-", "p1-a1", "p1-1e3", "p1--1", "p-1-2-3", "p1-0000000000012", "-5"];

const value = fc.oneof(
  fc.record({ owner: fc.constantFrom(...OWNERS), n: fc.integer({ min: 0, max: 12 }), width: fc.integer({ min: 1, max: 11 }) }).map(({ owner, n, width }) => `${owner}-${String(n).padStart(width, "0")}`),
  fc.constantFrom(...ODD_VALUES),
);

const sendOp = fc.record({
  process: fc.constantFrom(...PROCESSES),
  value,
  type: fc.constantFrom("invoke", "ok", "ok", "fail", "info", "other"),
  topic: fc.constantFrom("t", "u-1"),
  partition: fc.constantFrom(-1, 0, 1, 2, undefined),
  offset: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
  attempts: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  error: fc.option(fc.constantFrom("NOT_LEADER_OR_FOLLOWER", "REQUEST_TIMED_OUT"), { nil: undefined }),
  txnOpId: fc.option(fc.integer({ min: 0, max: 2 }), { freq: 4, nil: undefined }),
  opId: fc.integer({ min: 0, max: 50 }),
});

type SendStep = typeof sendOp extends fc.Arbitrary<infer T> ? T : never;

type Step =
  | { kind: "send"; op: SendStep }
  | { kind: "txn"; process: string; opId: number; type: string; result: string }
  | { kind: "topic-deleted"; topic: string };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 12, arbitrary: sendOp.map((op) => ({ kind: "send" as const, op })) },
  {
    weight: 1,
    arbitrary: fc.record({ process: fc.constantFrom(...PROCESSES), opId: fc.integer({ min: 0, max: 2 }), type: fc.constantFrom("invoke", "ok", "fail"), result: fc.constantFrom("commit", "abort") }).map((txn) => ({ kind: "txn" as const, ...txn })),
  },
  { weight: 1, arbitrary: fc.constantFrom("t", "u-1").map((topic) => ({ kind: "topic-deleted" as const, topic })) },
);

function toEvents(steps: Step[]): TraceEvent[] {
  return steps.map((s, seq) => {
    const t = seq * 1000;
    if (s.kind === "topic-deleted") return { t, seq, node: "controller", kind: "topic-deleted", topic: s.topic };
    if (s.kind === "txn") return { t, seq, node: s.process, kind: "op", process: s.process, f: "txn", opId: s.opId, type: s.type, result: s.result };
    const fields: Record<string, unknown> = { process: s.op.process, f: "send", opId: s.op.opId, value: s.op.value, key: null, topic: s.op.topic, type: s.op.type };
    for (const key of ["partition", "offset", "error", "attempts", "txnOpId"] as const) if (s.op[key] !== undefined) fields[key] = s.op[key];
    return { t, seq, node: s.op.process, kind: "op", ...fields };
  });
}

/** A committed log per topic-partition holding the values `held` gives it at offsets 0, 1, … (null for t-2: none). */
function logs(held: Map<string, string[]>): (tp: string) => CommittedLog | null {
  return (tp) => {
    if (tp === "t-2") return null;
    const values = held.get(tp) ?? [];
    return {
      topicPartition: tp,
      source: "leader",
      leader: "broker-1",
      highWatermark: values.length,
      logStartOffset: 0,
      recordsAt: (offset) => (offset < values.length ? [{ offset, id: `0|${values[offset]}`, value: values[offset], partitionLeaderEpoch: 0, appendedAt: 0 }] : []),
      valueAt: (offset) => (offset >= 0 && offset < values.length ? values[offset] : undefined),
      values: new Set(values),
    };
  };
}

describe("history columns: the same answers as the value-keyed stores", () => {
  it("WriteHistory: same writes, indexes, value numbers and topic-partitions", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const history = new WriteHistory();
        const reference = new ReferenceWriteHistory();
        for (const event of toEvents(steps)) {
          history.observe({ ...event });
          reference.observe({ ...event });
        }
        expect(history.size).to.equal(reference.size);
        for (let i = 0; i < reference.size; i++) {
          expect(history.write(i)).to.deep.equal(reference.write(i));
          expect(history.processOf(i)).to.equal(reference.processOf(i));
          expect(history.nOf(i)).to.equal(reference.nOf(i));
        }
        const values = new Set<string>(ODD_VALUES);
        for (const s of steps) if (s.kind === "send") values.add(s.op.value);
        for (const owner of OWNERS) for (let n = 0; n < 13; n++) values.add(`${owner}-${String(n).padStart(6, "0")}`);
        for (const v of values) expect(history.indexOf(v), v).to.equal(reference.indexOf(v));
        expect(history.topicPartitions()).to.deep.equal(reference.topicPartitions());
      }),
      { numRuns: 300 },
    );
  });

  it("LostWriteChecker: same acknowledged writes and lost-write violations", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), fc.array(fc.constantFrom("p1-000001", "p2-000002", "p-1-000003", "x"), { maxLength: 6 }), (steps, kept) => {
        const checker = new LostWriteChecker();
        const reference = new ReferenceLostWriteChecker();
        for (const event of toEvents(steps)) {
          checker.observe({ ...event });
          reference.observe({ ...event });
        }
        expect(checker.ackedWrites).to.deep.equal(reference.ackedWrites);
        const committed = logs(new Map([["t-0", kept], ["u-1-1", [...kept].reverse()]]));
        expect(checker.check(committed, 99)).to.deep.equal(reference.check(committed, 99));
      }),
      { numRuns: 300 },
    );
  });
});
