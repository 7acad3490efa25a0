import { expect } from "chai";
import type { Log } from "../../../src/broker/log/log.ts";
import { MemorySink, traceRecords, type TraceEvent, type TraceFields } from "../../../src/sim/trace.ts";
import { batchOf, makeBroker } from "./helpers.ts";

// Log.traceAppend (issue 18 round 3): the log-append event carries the batch under TRACE_RECORDS for the checkers,
// and builds its `offsets` and `values` arrays only when a trace line or an event-object observer reads them.

function appendWith(setUp: (rig: ReturnType<typeof makeBroker>) => void) {
  const rig = makeBroker();
  const seen: TraceFields[] = [];
  rig.world.trace.observeFields((_t, _seq, _node, kind, fields) => {
    if (kind === "log-append") seen.push(fields!);
  }, ["log-append"]);
  setUp(rig);
  const log = rig.manager().getOrCreateLog("t", 0) as Log;
  expect(log.appendAsLeader(batchOf(2, "a"), 3).error).to.equal(null);
  expect(log.appendAsLeader(batchOf(1, "b"), 3).error).to.equal(null);
  return seen;
}

function recordsOf(fields: TraceFields): [number, string | null][] {
  const records = traceRecords(fields)!;
  return Array.from({ length: records.recordCount }, (_, i) => [records.baseOffset + records.offsetDeltaAt(i), records.valueAt(i)]);
}

describe("Log.traceAppend: the log-append event", () => {
  it("carries the batch for a fields observer and builds no arrays when nothing else reads the kind", () => {
    const seen = appendWith(() => {});
    expect(seen.map((fields) => [fields.baseOffset, fields.lastOffset, fields.offsets, fields.values])).to.deep.equal([
      [0, 1, undefined, undefined],
      [2, 2, undefined, undefined],
    ]);
    expect(seen.map(recordsOf)).to.deep.equal([
      [
        [0, "a-0"],
        [1, "a-1"],
      ],
      [[2, "b-0"]],
    ]);
  });

  it("builds the arrays, with the line unchanged, when a sink writes lines or an observer reads event objects", () => {
    const sink = new MemorySink();
    const withSink = appendWith((rig) => rig.world.trace.addSink(sink));
    const events: TraceEvent[] = [];
    const withObserver = appendWith((rig) => rig.world.trace.observe((event) => events.push(event), ["log-append"]));
    for (const seen of [withSink, withObserver]) {
      expect(seen.map((fields) => [fields.offsets, fields.values])).to.deep.equal([
        [
          [0, 1],
          ["a-0", "a-1"],
        ],
        [[2], ["b-0"]],
      ]);
      // The same batch is still there for the checkers.
      expect(seen.map(recordsOf)[1]).to.deep.equal([[2, "b-0"]]);
    }
    const line = sink.lines.find((l) => l.includes('"kind":"log-append"'))!;
    expect(line).to.match(/"topicPartition":"t-0","baseOffset":0,"lastOffset":1,"partitionLeaderEpoch":3,"asLeader":true,"offsets":\[0,1\],"values":\["a-0","a-1"\]}$/);
    expect(events).to.have.length(2);
  });
});
