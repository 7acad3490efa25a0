/**
 * The viewer on a real transactional trace: a transactional producer over topics a and b (every third
 * transaction aborted) and a read_committed consumer, traced and loaded into the state timeline (web/src/state)
 * and the drawing index (web/src/ui/trace-index.ts). Control records, aborted records, the LSO, the
 * coordinator's view per transactional.id, the txn ops, the labelled transaction requests and the producer's
 * txn-*-time-ns-total agree with the trace's own events.
 */

import { expect } from "chai";
import type { TraceEvent, TraceHeader } from "../../src/sim/trace.ts";
import { Timeline } from "../../web/src/state/index.ts";
import { indexTrace, parseTraceText, txnLaneName, type TraceIndex } from "../../web/src/ui/trace-index.ts";
import { chartLines, CHARTS } from "../../web/src/ui/metrics-view.ts";
import { transactionalTrace } from "./fixtures/transaction-trace.ts";

describe("viewer on a real transactional trace", function () {
  this.timeout(120_000);
  let header: TraceHeader;
  let events: TraceEvent[];
  let timeline: Timeline;
  let index: TraceIndex;
  const of = (kind: string) => events.filter((e) => e.kind === kind);

  before(() => {
    ({ header, events } = parseTraceText(transactionalTrace()));
    timeline = Timeline.build(header, events);
    index = indexTrace(header, events);
  });

  it("the trace has committed and aborted transactions", () => {
    const txns = of("op").filter((e) => e.f === "txn" && e.type === "ok");
    expect(txns.filter((e) => e.result === "commit").length).to.be.greaterThan(0);
    expect(txns.filter((e) => e.result === "abort").length).to.be.greaterThan(0);
  });

  it("every replica's control records are the markers the leaders wrote, COMMIT and ABORT", () => {
    const end = timeline.stateAt(events.length - 1);
    const written = new Map<string, string[]>();
    for (const e of of("txn-marker-written")) {
      const key = `${String(e.topic)}-${String(e.partition)}`;
      written.set(key, [...(written.get(key) ?? []), `${String(e.offset)}:${String(e.result)}`]);
    }
    expect(written.size).to.be.at.least(2);
    for (const [tp, markers] of written) {
      const partition = end.partitions.find((p) => p.topicPartition === tp)!;
      expect(partition.replicaViews.length, tp).to.equal(3);
      for (const r of partition.replicaViews) {
        const controls = r.window(0, r.logEndOffset, 0).filter((record) => record.control !== undefined);
        expect(controls.map((record) => `${record.offset}:${record.control}`), `${r.host} ${tp}`).to.deep.equal(markers);
      }
    }
  });

  it("records of aborted transactions are shaded aborted, those of committed ones committed, on every replica", () => {
    const end = timeline.stateAt(events.length - 1);
    const outcome = new Map<string, string>();
    for (const e of of("op")) {
      if (e.f !== "txn" || e.type !== "ok") continue;
      for (const send of e.sends as { value: string }[]) outcome.set(send.value, e.result === "abort" ? "aborted" : "committed");
    }
    let aborted = 0;
    for (const partition of end.partitions.filter((p) => p.topic === "a" || p.topic === "b")) {
      for (const r of partition.replicaViews) {
        for (const record of r.window(0, r.logEndOffset, 0)) {
          if (record.control !== undefined) continue;
          expect(record.txn, `${r.host} ${partition.topicPartition}@${record.offset}`).to.equal(outcome.get(String(record.value)) ?? "open");
          if (record.txn === "aborted") aborted++;
        }
      }
    }
    expect(aborted).to.be.greaterThan(0);
  });

  it("a record is open until its marker is appended on that replica, then committed or aborted", () => {
    // A follower's append of an ABORT marker (log-append names a control batch's type).
    const marker = of("log-append").find((e) => e.controlType === "ABORT" && e.asLeader === false)!;
    const tp = String(marker.topicPartition);
    const before = timeline.stateAt(marker.seq - 1).partitions.find((p) => p.topicPartition === tp)!.replicaViews.find((r) => r.host === marker.node)!;
    const after = timeline.stateAt(marker.seq).partitions.find((p) => p.topicPartition === tp)!.replicaViews.find((r) => r.host === marker.node)!;
    const last = before.window(0, marker.baseOffset as number, 0).at(-1)!;
    expect(last.txn).to.equal("open");
    const same = after.window(last.offset, last.offset + 1, 0)[0];
    expect(same.txn).to.equal("aborted");
  });

  it("the leader's LSO is the last txn-lso, and moves with it", () => {
    const lsos = of("txn-lso");
    expect(lsos.length).to.be.greaterThan(0);
    for (const e of lsos.filter((_, k) => k % 7 === 0)) {
      const r = timeline.stateAt(e.seq).partitions.find((p) => p.topicPartition === e.topicPartition)!.replicaViews.find((x) => x.host === e.node)!;
      expect(r.lastStableOffset, `${e.node} ${String(e.topicPartition)} #${e.seq}`).to.equal(e.lastStableOffset);
      expect(r.lastStableOffset!).to.be.at.most(r.highWatermark);
    }
    // Followers trace no LSO: the strip shows none for them.
    const end = timeline.stateAt(events.length - 1);
    const a1 = end.partitions.find((p) => p.topicPartition === "a-1")!;
    for (const r of a1.replicaViews) expect(r.lastStableOffset === null, r.host).to.equal(r.role !== "leader");
    // An open transaction holds the LSO below the HW somewhere in the run.
    expect(lsos.some((e) => (e.lastStableOffset as number) < (e.highWatermark as number))).to.equal(true);
  });

  it("the Transactions panel shows the coordinator's state, producer id and epoch, partitions and coordinator epoch at each txn-state", () => {
    const states = of("txn-state");
    expect(states.length).to.be.greaterThan(40);
    for (const e of states) {
      const view = timeline.stateAt(e.seq).transactions.find((x) => x.transactionalId === e.transactionalId)!;
      expect(view.state).to.equal(e.state);
      expect(view.previousState).to.equal(e.previousState);
      expect(view.producerId).to.equal(e.producerId);
      expect(view.producerEpoch).to.equal(e.producerEpoch);
      expect(view.partitions).to.deep.equal(e.partitions);
      expect(view.coordinatorEpoch).to.equal(e.coordinatorEpoch);
      expect(view.coordinator).to.equal(e.node);
      expect(view.coordinatorStatus).to.equal("active");
    }
    expect(timeline.stateAt(states[0].seq - 1).transactions.every((x) => x.state === "Unknown")).to.equal(true);
  });

  it("the panel counts commits and aborts as the txn ops completed, and names the producer's state", () => {
    const end = timeline.stateAt(events.length - 1);
    const [view] = end.transactions;
    const ok = of("op").filter((e) => e.f === "txn" && e.type === "ok");
    expect(view.commits).to.equal(ok.filter((e) => e.result === "commit").length);
    expect(view.aborts).to.equal(ok.filter((e) => e.result === "abort").length);
    expect(view.client).to.equal("p1");
    expect(view.producerState).to.equal(of("producer-txn-state").at(-1)!.state);
  });

  it("txn ops are operations in the inspector, not confused with the producer's sends of the same opId", () => {
    const firstOk = of("op").find((e) => e.f === "txn" && e.type === "ok")!;
    const view = timeline.stateAt(firstOk.seq);
    const txn = view.ops.recent.find((op) => op.f === "txn" && op.opId === firstOk.opId)!;
    expect(txn.type).to.equal("ok");
    expect(String(txn.value)).to.match(/^commit pid 0\/0 · 10 records$/);
    const send0 = view.ops.recent.concat(view.ops.open).filter((op) => op.f === "send" && op.opId === firstOk.opId);
    for (const op of send0) expect(op.value).to.be.a("string").and.match(/^p1-/);
  });

  it("the drawing index: a lane per transactional.id with one span per status change", () => {
    const lane = index.txnLanes.get("tx-1")!;
    expect(index.lanes[lane]).to.deep.include({ name: txnLaneName("tx-1"), group: "txn" });
    expect(index.txnSpans.length).to.be.at.least(of("txn-state").length);
    const last = index.txnSpans.at(-1)!;
    expect(last.state).to.equal(of("txn-state").at(-1)!.state);
  });

  it("txn outcomes are glyphs on the producer's lane and markers on the leaders' lanes", () => {
    const p1 = index.laneOf.get("p1")!;
    const ok = of("op").filter((e) => e.f === "txn" && e.type === "ok");
    const onP1 = index.marks.filter((m) => m.lane === p1 && m.category === "txn");
    expect(onP1.filter((m) => m.glyph === "✓").length).to.equal(ok.filter((e) => e.result === "commit").length);
    expect(onP1.filter((m) => m.glyph === "✗").length).to.equal(ok.filter((e) => e.result === "abort").length);
    const markers = index.marks.filter((m) => m.category === "txn" && /marker/.test(m.label));
    expect(markers.length).to.equal(of("txn-marker-written").length);
  });

  it("EndTxn and WriteTxnMarkers arrows are labelled with the outcome; AddPartitionsToTxn with its type", () => {
    const m = index.messages;
    const labelsOf = (type: string) => [...Array(m.count).keys()].filter((i) => m.types[m.type[i]] === type).map((i) => m.labels.get(i) ?? type);
    const endTxn = labelsOf("EndTxn");
    const aborts = of("producer-txn-request").filter((e) => e.type === "EndTxn" && e.state === "ABORTING_TRANSACTION").length;
    expect(endTxn.filter((l) => l === "EndTxn abort").length).to.equal(aborts);
    expect(endTxn.every((l) => l === "EndTxn commit" || l === "EndTxn abort")).to.equal(true);
    const markers = labelsOf("WriteTxnMarkers");
    expect(markers.length).to.equal(of("txn-markers-sent").length);
    expect(markers.every((l) => /^WriteTxnMarkers (COMMIT|ABORT) [ab]-\d/.test(l))).to.equal(true);
    expect(labelsOf("AddPartitionsToTxn").every((l) => l === "AddPartitionsToTxn")).to.equal(true);
  });

  it("the dashboard: ongoing transactions per coordinator, and the producer's txn-*-time-ns-total", () => {
    const ongoing = chartLines(index, CHARTS.find((c) => c.derived === "txn-ongoing")!);
    expect(ongoing.map((l) => l.node)).to.deep.equal([of("txn-state")[0].node]);
    expect(Math.max(...ongoing[0].v)).to.equal(1);
    const commit = chartLines(index, CHARTS.find((c) => c.attribute === "txn-commit-time-ns-total")!);
    expect(commit.map((l) => l.node)).to.deep.equal(["p1"]);
    // The commits' time: from each COMMITTING_TRANSACTION to the READY after it, in ns.
    let expected = 0;
    let since = -1;
    const lastSample = commit[0].t.at(-1)!;
    for (const e of of("producer-txn-state")) {
      if (e.t > lastSample) break;
      if (e.state === "COMMITTING_TRANSACTION") since = e.t;
      else if (e.state === "READY" && since >= 0) {
        expected += (e.t - since) * 1000;
        since = -1;
      }
    }
    expect(commit[0].v.at(-1)).to.equal(expected);
    expect(expected).to.be.greaterThan(0);
    const abort = chartLines(index, CHARTS.find((c) => c.attribute === "txn-abort-time-ns-total")!);
    expect(abort[0].v.at(-1)).to.be.greaterThan(0);
  });
});
