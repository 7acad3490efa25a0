import { expect } from "chai";
import { LineHash, MemorySink, Trace } from "../../src/sim/trace.ts";

describe("trace", () => {
  it("gives the same running hash with and without a sink", () => {
    const emitAll = (trace: Trace) => {
      trace.emit("broker-1", "hwm", { topicPartition: "t-0", highWatermark: 3, note: 'quote " and \\ slash' });
      trace.emit("zk-1", "zk-serving");
      trace.emit("p1", "op", {});
      trace.emit("p1", "op", { value: null, list: [1, 2], missing: undefined });
    };
    const clock = { now: 5 };
    const hashOnly = new Trace(clock).enableHash();
    emitAll(hashOnly);
    const sink = new MemorySink();
    const withSink = new Trace(clock).enableHash().addSink(sink);
    emitAll(withSink);
    expect(hashOnly.hash()).to.equal(withSink.hash());
    const replay = new LineHash();
    for (const line of sink.lines) replay.update(line);
    expect(replay.digest()).to.equal(hashOnly.hash());
  });

  it("hands an observer with a kind filter only the kinds it asked for, with every event counted", () => {
    const trace = new Trace({ now: 1 });
    const seen: string[] = [];
    trace.observe((event) => seen.push(`${event.seq}:${event.kind}`), ["b"]);
    trace.emit("n", "a", { x: 1 });
    trace.emit("n", "b", { x: 2 });
    expect(seen).to.deep.equal(["1:b"]);
    expect(trace.count).to.equal(2);
  });

  it("hands observers the emitted fields object itself (no copy), its line built from the fields alone", () => {
    const sink = new MemorySink();
    const trace = new Trace({ now: 7 }).addSink(sink);
    const seen: unknown[] = [];
    trace.observe((event) => seen.push(event));
    const fields = { topicPartition: "t-0", highWatermark: 3 };
    trace.emit("broker-1", "hwm", fields);
    trace.emit("zk-1", "zk-serving");
    expect(seen[0]).to.equal(fields);
    expect(seen[0]).to.deep.equal({ topicPartition: "t-0", highWatermark: 3, t: 7, seq: 0, node: "broker-1", kind: "hwm" });
    expect(seen[1]).to.deep.equal({ t: 7, seq: 1, node: "zk-1", kind: "zk-serving" });
    expect(sink.lines).to.deep.equal(['{"t":7,"seq":0,"node":"broker-1","kind":"hwm","topicPartition":"t-0","highWatermark":3}', '{"t":7,"seq":1,"node":"zk-1","kind":"zk-serving"}']);
  });

  it("wants a kind only when a sink, the hash or an observer would receive it", () => {
    const trace = new Trace({ now: 1 });
    expect(trace.wants("send")).to.equal(false);
    trace.observe(() => {}, ["op", "hwm"]);
    expect(trace.wants("op")).to.equal(true);
    expect(trace.wants("send")).to.equal(false);
    trace.observe(() => {});
    expect(trace.wants("send")).to.equal(true);
    const hashed = new Trace({ now: 1 }).enableHash();
    expect(hashed.wants("send")).to.equal(true);
    const sunk = new Trace({ now: 1 }).addSink(new MemorySink());
    expect(sunk.wants("deliver")).to.equal(true);
  });
});
