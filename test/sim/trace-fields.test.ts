import { expect } from "chai";
import { MemorySink, Trace, traceEvent, type TraceEvent, type TraceFields } from "../../src/sim/trace.ts";

// Trace.observeFields (issue 18 round 3): the checkers read the hottest kinds from the emit site's own object,
// before t, seq, node and kind are added to it; an event observer still gets the event, the line is unchanged.
describe("Trace.observeFields", () => {
  it("hands the emit's arguments and the untouched fields object, only for the kinds asked", () => {
    const clock = { now: 7 };
    const trace = new Trace(clock);
    const seen: [number, number, string, string, TraceFields | undefined, string[]][] = [];
    trace.observeFields((t, seq, node, kind, fields) => seen.push([t, seq, node, kind, fields, fields === undefined ? [] : Object.keys(fields)]), ["op", "hwm"]);
    const fields = { value: "p1-000001", type: "ok" };
    trace.emit("p1", "op", fields);
    trace.emit("broker-1", "log-append", { offsets: [0] });
    clock.now = 9;
    trace.emit("broker-1", "hwm");
    expect(seen).to.deep.equal([
      [7, 0, "p1", "op", fields, ["value", "type"]],
      [9, 2, "broker-1", "hwm", undefined, []],
    ]);
    expect(seen[0][4]).to.equal(fields);
  });

  it("leaves event observers their event and sinks their line, whichever was registered first", () => {
    const trace = new Trace({ now: 3 });
    const sink = new MemorySink();
    trace.addSink(sink);
    const before: TraceEvent[] = [];
    const after: TraceEvent[] = [];
    const fieldKeys: string[][] = [];
    trace.observe((event) => before.push(event), ["op"]);
    trace.observeFields((_t, _seq, _node, _kind, fields) => fieldKeys.push(Object.keys(fields ?? {})), ["op"]);
    trace.observe((event) => after.push(event), ["op"]);
    trace.emit("p1", "op", { value: "v" });
    expect(sink.lines).to.deep.equal(['{"t":3,"seq":0,"node":"p1","kind":"op","value":"v"}']);
    expect(before[0]).to.deep.equal({ value: "v", t: 3, seq: 0, node: "p1", kind: "op" });
    expect(after[0]).to.equal(before[0]);
    expect(fieldKeys).to.deep.equal([["value", "t", "seq", "node", "kind"]]);
  });

  it("traceEvent makes the event a TraceObserver gets: the fields object itself, or a new one without fields", () => {
    const fields: TraceFields = { a: 1 };
    const event = traceEvent(5, 1, "n", "k", fields);
    expect(event).to.equal(fields);
    expect(event).to.deep.equal({ a: 1, t: 5, seq: 1, node: "n", kind: "k" });
    expect(traceEvent(5, 2, "n", "k", undefined)).to.deep.equal({ t: 5, seq: 2, node: "n", kind: "k" });
  });
});

describe("Trace.wantsAllFields", () => {
  it("is false only while fields observers alone read a kind", () => {
    const trace = new Trace({ now: 0 });
    trace.observeFields(() => {}, ["log-append"]);
    expect(trace.wantsAllFields("log-append")).to.equal(false);
    trace.observe(() => {}, ["hwm"]);
    expect([trace.wantsAllFields("log-append"), trace.wantsAllFields("hwm")]).to.deep.equal([false, true]);
    trace.observe(() => {}, ["log-append"]);
    expect(trace.wantsAllFields("log-append")).to.equal(true);
    const unfiltered = new Trace({ now: 0 }).observeFields(() => {}, ["log-append"]).observe(() => {});
    expect(unfiltered.wantsAllFields("log-append")).to.equal(true);
    const withSink = new Trace({ now: 0 }).observeFields(() => {}, ["log-append"]).addSink(new MemorySink());
    expect(withSink.wantsAllFields("log-append")).to.equal(true);
  });
});
