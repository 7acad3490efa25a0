// The viewer's reconstruction on hand-written event sequences: truncated records stay visible for recentUs
// and then go, HW and LEO markers, ISR changes, host crash and restart, znode create / delete / ephemeral
// expiry, a new ZooKeeper leader's tree, operations, indexAtTime.
import { expect } from "chai";
import { Timeline } from "../../web/src/state/index.ts";
import type { ClusterView, ReplicaView } from "../../web/src/state/index.ts";
import type { TraceEvent, TraceHeader } from "../../src/sim/trace.ts";

const HEADER: TraceHeader = { format: "kafkasim-trace", formatVersion: 1, kafkasim: "test", scenario: "unit", seed: 1, nodes: ["zk-1", "broker-1", "broker-2", "p1"] };

/** Builds events with increasing seq; `at` is in ms. */
class Events {
  readonly list: TraceEvent[] = [];
  add(atMs: number, node: string, kind: string, fields: Record<string, unknown> = {}): number {
    this.list.push({ t: atMs * 1000, seq: this.list.length, node, kind, ...fields });
    return this.list.length - 1;
  }
  append(atMs: number, node: string, offsets: number[], epoch: number, values?: string[]): number {
    return this.add(atMs, node, "log-append", {
      topicPartition: "t-0",
      baseOffset: offsets[0],
      lastOffset: offsets[offsets.length - 1],
      partitionLeaderEpoch: epoch,
      asLeader: node === "broker-1",
      offsets,
      values: values ?? offsets.map((o) => `v${o}`),
    });
  }
  timeline(): Timeline {
    return Timeline.build(HEADER, this.list);
  }
}

function replica(view: ClusterView, host: string, topicPartition = "t-0"): ReplicaView {
  const partition = view.partitions.find((p) => p.topicPartition === topicPartition);
  const found = partition?.replicaViews.find((r) => r.host === host);
  if (found === undefined) throw new Error(`no replica of ${topicPartition} on ${host}`);
  return found;
}

function started(events: Events): void {
  for (const node of HEADER.nodes) events.add(0, node, "host-start", { incarnation: 1 });
}

describe("viewer state: Timeline on hand-written traces", () => {
  it("before any event everything is down and empty; indexAtTime finds the last event at or before t", () => {
    const events = new Events();
    started(events);
    events.add(5, "zk-1", "zk-serving", { role: "LEADING", epoch: 1, zxid: "0x0" });
    events.add(5, "broker-1", "controller-elected", { controllerEpoch: 1 });
    const timeline = events.timeline();
    const before = timeline.stateAt(-1);
    expect(before.hosts.map((h) => [h.name, h.state, h.incarnation])).to.deep.equal([
      ["zk-1", "down", 0],
      ["broker-1", "down", 0],
      ["broker-2", "down", 0],
      ["p1", "down", 0],
    ]);
    expect(before.partitions).to.deep.equal([]);
    expect(before.zkLeader).to.equal(null);
    expect(timeline.indexAtTime(-1)).to.equal(-1);
    expect(timeline.indexAtTime(0)).to.equal(3);
    expect(timeline.indexAtTime(4_999)).to.equal(3);
    expect(timeline.indexAtTime(5_000)).to.equal(5);
    expect(timeline.indexAtTime(1e12)).to.equal(5);
    expect(timeline.stateAt(4).zkLeader).to.equal("zk-1");
    expect(timeline.stateAt(4).controller).to.equal(null);
    expect(timeline.stateAt(99)).to.include({ index: 5, controller: "broker-1" });
  });

  it("truncated records stay flagged for recentUs of virtual time, then are gone; the replacement shows beside them", () => {
    const events = new Events();
    started(events);
    events.add(1, "broker-2", "log-created", { topicPartition: "t-0", logStartOffset: 0 });
    const first = events.append(10, "broker-2", [0, 1], 0);
    const second = events.append(10, "broker-2", [2, 3], 0);
    events.add(10, "broker-2", "hwm", { topicPartition: "t-0", highWatermark: 2 });
    const truncate = events.add(100, "broker-2", "log-truncate", { topicPartition: "t-0", offset: 2, previousLogEndOffset: 4, highWatermark: 2 });
    const reappend = events.append(150, "broker-2", [2], 1, ["w2"]);
    events.add(2_099, "zk-1", "zk-not-serving");
    events.add(2_101, "zk-1", "zk-not-serving");
    const timeline = events.timeline();

    const beforeTruncate = replica(timeline.stateAt(truncate - 1), "broker-2");
    expect(beforeTruncate).to.include({ logStartOffset: 0, logEndOffset: 4, highWatermark: 2 });
    expect(beforeTruncate.window(0, 10).map((r) => [r.offset, r.value, r.epoch, r.appendedSeq, r.truncatedSeq])).to.deep.equal([
      [0, "v0", 0, first, undefined],
      [1, "v1", 0, first, undefined],
      [2, "v2", 0, second, undefined],
      [3, "v3", 0, second, undefined],
    ]);

    const afterReappend = replica(timeline.stateAt(reappend), "broker-2");
    expect(afterReappend).to.include({ logEndOffset: 3, highWatermark: 2 });
    expect(afterReappend.window(0, 10).map((r) => [r.offset, r.value, r.truncatedSeq])).to.deep.equal([
      [0, "v0", undefined],
      [1, "v1", undefined],
      [2, "v2", truncate],
      [2, "w2", undefined],
      [3, "v3", truncate],
    ]);
    // 1.999 s after the truncation they still show; 2.001 s after, they are gone.
    expect(replica(timeline.stateAt(reappend + 1), "broker-2").window(0, 10)).to.have.length(5);
    expect(replica(timeline.stateAt(reappend + 2), "broker-2").window(0, 10).map((r) => r.value)).to.deep.equal(["v0", "v1", "w2"]);
    // A window of 0 µs shows only what is present; a narrower range only its offsets.
    expect(replica(timeline.stateAt(reappend), "broker-2").window(1, 3, 0).map((r) => r.value)).to.deep.equal(["v1", "w2"]);
  });

  it("a truncation inside a batch removes the whole batch, as Log.truncateTo does", () => {
    const events = new Events();
    started(events);
    events.add(1, "broker-2", "log-created", { topicPartition: "t-0", logStartOffset: 0 });
    events.append(2, "broker-2", [0, 1, 2, 3], 0);
    events.add(3, "broker-2", "log-truncate", { topicPartition: "t-0", offset: 2, previousLogEndOffset: 4, highWatermark: 0 });
    const view = replica(events.timeline().stateAt(2 + HEADER.nodes.length), "broker-2");
    expect(view.logEndOffset).to.equal(2);
    expect(view.window(0, 10, 0).filter((r) => r.truncatedSeq === undefined)).to.deep.equal([]);
  });

  it("leader and follower roles, leader epochs, the leader's ISR, HW and LEO markers", () => {
    const events = new Events();
    started(events);
    events.add(1, "broker-1", "log-created", { topicPartition: "t-0", logStartOffset: 0 });
    events.add(1, "broker-1", "become-leader", { topicPartition: "t-0", leaderEpoch: 0, isr: [1, 2], replicas: [1, 2], logEndOffset: 0, highWatermark: 0 });
    events.add(1, "broker-2", "log-created", { topicPartition: "t-0", logStartOffset: 0 });
    events.add(1, "broker-2", "become-follower", { topicPartition: "t-0", leaderEpoch: 0, leader: 1, logEndOffset: 0, highWatermark: 0 });
    events.append(2, "broker-1", [0, 1], 0);
    const shrink = events.add(3, "broker-1", "isr-shrink", { topicPartition: "t-0", leaderEpoch: 0, isr: [1], previousIsr: [1, 2], zkVersion: 1 });
    events.add(3, "broker-1", "hwm", { topicPartition: "t-0", highWatermark: 2, previous: 0, leaderEpoch: 0, role: "leader" });
    const byController = events.add(4, "broker-1", "isr-shrink", { topicPartition: "t-0", leaderEpoch: 1, isr: [2], by: "controller" });
    const timeline = events.timeline();

    const leader = replica(timeline.stateAt(shrink - 1), "broker-1");
    expect(leader).to.include({ role: "leader", leaderEpoch: 0, logEndOffset: 2, highWatermark: 0, brokerId: 1, up: true, offline: false });
    expect(leader.isr).to.deep.equal([1, 2]);
    expect(replica(timeline.stateAt(shrink + 1), "broker-1").isr).to.deep.equal([1]);
    expect(replica(timeline.stateAt(shrink + 1), "broker-1").highWatermark).to.equal(2);
    // The controller's own ISR writes are not the leader's view.
    expect(replica(timeline.stateAt(byController), "broker-1").isr).to.deep.equal([1]);
    const follower = replica(timeline.stateAt(shrink), "broker-2");
    expect(follower).to.include({ role: "follower", leaderEpoch: 0, logEndOffset: 0, highWatermark: 0 });
    expect(follower.isr).to.equal(null);
  });

  it("a host crash drops roles and controllership but keeps the log; a restart reloads it from log-loaded", () => {
    const events = new Events();
    started(events);
    events.add(1, "broker-1", "log-created", { topicPartition: "t-0", logStartOffset: 0 });
    events.add(1, "broker-1", "become-leader", { topicPartition: "t-0", leaderEpoch: 3, isr: [1], replicas: [1], logEndOffset: 0, highWatermark: 0 });
    events.add(1, "broker-1", "controller-id", { activeController: 1, controllerEpoch: 2 });
    events.append(2, "broker-1", [0, 1, 2], 3);
    const crash = events.add(3, "broker-1", "host-power-loss", { incarnation: 1 });
    events.add(4, "broker-1", "host-start", { incarnation: 2 });
    events.add(4, "broker-1", "log-recovery", { topicPartition: "t-0", clean: false, logStartOffset: 0, logEndOffset: 2 });
    // The power loss brought back a record the log had lost: the loaded content is the truth.
    const loaded = events.add(4, "broker-1", "log-loaded", {
      topicPartition: "t-0",
      logStartOffset: 0,
      logEndOffset: 2,
      highWatermark: 1,
      batches: [
        [3, [0], ["v0"], 0],
        [2, [1], ["old1"], 1],
      ],
    });
    const timeline = events.timeline();

    const down = timeline.stateAt(crash);
    expect(down.hosts.find((h) => h.name === "broker-1")).to.deep.equal({ name: "broker-1", state: "down", incarnation: 1 });
    expect(down.controller).to.equal(null);
    expect(replica(down, "broker-1")).to.include({ up: false, role: "none", leaderEpoch: -1, logEndOffset: 3 });
    expect(replica(down, "broker-1").window(0, 10).map((r) => r.value)).to.deep.equal(["v0", "v1", "v2"]);

    const up = timeline.stateAt(loaded);
    expect(up.hosts.find((h) => h.name === "broker-1")!.incarnation).to.equal(2);
    const reloaded = replica(up, "broker-1");
    expect(reloaded).to.include({ up: true, role: "none", logEndOffset: 2, highWatermark: 1 });
    expect(reloaded.window(0, 10, 0).filter((r) => r.truncatedSeq === undefined).map((r) => [r.value, r.epoch])).to.deep.equal([
      ["v0", 3],
      ["old1", 2],
    ]);
  });

  it("znodes: create, setData, delete; ephemerals go with their session; partition state from its znode", () => {
    const events = new Events();
    started(events);
    events.add(1, "zk-1", "zk-serving", { role: "LEADING", epoch: 1, zxid: "0x0", tree: { znodes: [], sessions: [] } });
    events.add(2, "zk-1", "zk-session-created", { sessionId: "0x1", client: "broker-1", timeoutMs: 6000 });
    events.add(2, "zk-1", "zk-commit", { zxid: "0x1", txn: "createSession", sessionId: "0x1" });
    events.add(3, "zk-1", "zk-commit", { zxid: "0x2", txn: "create", sessionId: "0x1", path: "/brokers", data: "" });
    events.add(3, "zk-1", "zk-commit", { zxid: "0x3", txn: "create", sessionId: "0x1", path: "/brokers/ids", data: "" });
    const registered = events.add(4, "zk-1", "zk-commit", { zxid: "0x4", txn: "create", sessionId: "0x1", path: "/brokers/ids/1", ephemeral: true, data: "b1", ephemeralOwner: "0x1" });
    events.add(5, "zk-1", "zk-commit", {
      zxid: "0x5",
      txn: "multi",
      sessionId: "0x1",
      ops: ["create /brokers/topics", "create /brokers/topics/t", "create /brokers/topics/t/partitions/0/state", "check /controller_epoch"],
      effects: [{ data: "" }, { data: '{"version":2,"partitions":{"0":[1,2]}}' }, { data: '{"controller_epoch":1,"leader":1,"version":1,"leader_epoch":0,"isr":[1,2]}' }, null],
    });
    const isrWrite = events.add(6, "zk-1", "zk-commit", {
      zxid: "0x6",
      txn: "setData",
      sessionId: "0x1",
      path: "/brokers/topics/t/partitions/0/state",
      data: '{"controller_epoch":1,"leader":1,"version":1,"leader_epoch":0,"isr":[1]}',
      version: 1,
    });
    const expiring = events.add(7, "zk-1", "zk-session-expiring", { sessionId: "0x1" });
    const closed = events.add(8, "zk-1", "zk-commit", { zxid: "0x7", txn: "closeSession", sessionId: "0x1", expired: true });
    const deleted = events.add(9, "zk-1", "zk-commit", { zxid: "0x8", txn: "delete", sessionId: "0x2", path: "/brokers/topics/t/partitions/0/state" });
    const timeline = events.timeline();

    const atRegistration = timeline.stateAt(registered);
    expect(atRegistration.zk.znodes).to.deep.equal([
      { path: "/brokers", data: "", version: 0 },
      { path: "/brokers/ids", data: "", version: 0 },
      { path: "/brokers/ids/1", data: "b1", version: 0, ephemeralOwner: "0x1" },
    ]);
    expect(atRegistration.zk.sessions).to.deep.equal([{ sessionId: "0x1", client: "broker-1", state: "open" }]);

    const written = timeline.stateAt(isrWrite);
    expect(written.partitions).to.have.length(1);
    expect(written.partitions[0]).to.deep.include({ topicPartition: "t-0", replicas: [1, 2], leader: 1, leaderEpoch: 0, isr: [1], zkVersion: 1, controllerEpoch: 1 });
    expect(timeline.stateAt(isrWrite - 1).partitions[0].isr).to.deep.equal([1, 2]);

    expect(timeline.stateAt(expiring).zk.sessions).to.deep.equal([{ sessionId: "0x1", client: "broker-1", state: "expiring" }]);
    const afterClose = timeline.stateAt(closed);
    expect(afterClose.zk.sessions).to.deep.equal([]);
    expect(afterClose.zk.znodes.map((z) => z.path)).to.not.include("/brokers/ids/1");
    expect(afterClose.zk.znodes.map((z) => z.path)).to.include("/brokers/topics/t/partitions/0/state");
    const afterDelete = timeline.stateAt(deleted);
    expect(afterDelete.zk.znodes.map((z) => z.path)).to.not.include("/brokers/topics/t/partitions/0/state");
    expect(afterDelete.partitions[0]).to.deep.include({ leader: -1, isr: [] });
  });

  it("a new ZooKeeper leader's tree replaces the mirror; a stale leader serving beside it is not the leader", () => {
    const events = new Events();
    started(events);
    events.add(0, "zk-2", "host-start", { incarnation: 1 });
    events.add(1, "zk-1", "zk-serving", { role: "LEADING", epoch: 1, zxid: "0x0", tree: { znodes: [["/a", 0, null, "x"]], sessions: [] } });
    const newer = events.add(2, "zk-2", "zk-serving", {
      role: "LEADING",
      epoch: 2,
      zxid: "0x200000000",
      tree: { znodes: [["/b", 3, "0x9", "y"]], sessions: ["0x9"] },
    });
    const gone = events.add(3, "zk-2", "host-crash", { incarnation: 1 });
    const timeline = events.timeline();
    expect(timeline.stateAt(newer - 1).zk.znodes).to.deep.equal([{ path: "/a", data: "x", version: 0 }]);
    const view = timeline.stateAt(newer);
    expect(view.zkLeader).to.equal("zk-2");
    expect(view.zk.znodes).to.deep.equal([{ path: "/b", data: "y", version: 3, ephemeralOwner: "0x9" }]);
    expect(view.zk.sessions.map((s) => s.sessionId)).to.deep.equal(["0x9"]);
    // zk-1 still serves as the leader of epoch 1 once zk-2 is gone.
    expect(timeline.stateAt(gone).zkLeader).to.equal("zk-1");
    expect(timeline.stateAt(gone).zk.znodes.map((z) => z.path)).to.deep.equal(["/a"]);
  });

  it("controllers: the newest epoch leads; a paused zombie still believes; controllerEpoch from /controller_epoch", () => {
    const events = new Events();
    started(events);
    events.add(1, "zk-1", "zk-serving", { role: "LEADING", epoch: 1, zxid: "0x0", tree: { znodes: [["/controller_epoch", 1, null, "1"]], sessions: [] } });
    events.add(1, "broker-1", "controller-id", { activeController: 1, controllerEpoch: 1 });
    events.add(1, "broker-1", "controller-elected", { controllerEpoch: 1 });
    const paused = events.add(2, "broker-1", "host-pause", { durationUs: 10_000_000 });
    events.add(3, "zk-1", "zk-commit", { zxid: "0x2", txn: "setData", sessionId: "0x2", path: "/controller_epoch", data: "2", version: 2 });
    const both = events.add(3, "broker-2", "controller-elected", { controllerEpoch: 2 });
    const resigned = events.add(4, "broker-1", "controller-id", { activeController: 2, controllerEpoch: 1 });
    const timeline = events.timeline();
    expect(timeline.stateAt(paused).hosts.find((h) => h.name === "broker-1")!.state).to.equal("paused");
    const view = timeline.stateAt(both);
    expect(view.activeControllers).to.deep.equal([
      { host: "broker-1", controllerEpoch: 1 },
      { host: "broker-2", controllerEpoch: 2 },
    ]);
    expect(view).to.include({ controller: "broker-2", controllerEpoch: 2 });
    expect(timeline.stateAt(resigned).activeControllers).to.deep.equal([{ host: "broker-2", controllerEpoch: 2 }]);
  });

  it("operations: open until completed, the last completed ones in order", () => {
    const events = new Events();
    started(events);
    const invoke0 = events.add(1, "p1", "op", { process: "p1", f: "send", opId: 0, value: "p1-0", type: "invoke", partition: -1 });
    const invoke1 = events.add(2, "p1", "op", { process: "p1", f: "send", opId: 1, value: "p1-1", type: "invoke", partition: 0 });
    const ok1 = events.add(3, "p1", "op", { process: "p1", f: "send", opId: 1, value: "p1-1", type: "ok", partition: 0, offset: 7 });
    const info0 = events.add(4, "p1", "op", { process: "p1", f: "send", opId: 0, value: "p1-0", type: "info", partition: 0, error: "REQUEST_TIMED_OUT" });
    const timeline = events.timeline();
    expect(timeline.stateAt(invoke1).ops.open.map((o) => [o.opId, o.type])).to.deep.equal([
      [0, "invoke"],
      [1, "invoke"],
    ]);
    const afterOk = timeline.stateAt(ok1).ops;
    expect(afterOk.open.map((o) => o.opId)).to.deep.equal([0]);
    expect(afterOk.recent).to.deep.equal([{ process: "p1", f: "send", opId: 1, value: "p1-1", type: "ok", invokeSeq: invoke1, completeSeq: ok1, partition: 0, offset: 7 }]);
    const done = timeline.stateAt(info0).ops;
    expect(done.open).to.deep.equal([]);
    expect(done.recent.map((o) => [o.opId, o.type, o.error])).to.deep.equal([
      [1, "ok", undefined],
      [0, "info", "REQUEST_TIMED_OUT"],
    ]);
    expect(timeline.stateAt(invoke0).ops.open[0]).to.not.have.property("partition");
  });

  it("retention, a leader's log start, compaction and deletion remove records", () => {
    const events = new Events();
    started(events);
    events.add(1, "broker-2", "log-created", { topicPartition: "t-0", logStartOffset: 0 });
    events.append(2, "broker-2", [0, 1, 2, 3, 4, 5], 0);
    const retention = events.add(3, "broker-2", "log-retention-delete", { topicPartition: "t-0", logStartOffset: 2 });
    const fromLeader = events.add(4, "broker-2", "log-start-offset", { topicPartition: "t-0", logStartOffset: 3 });
    const compaction = events.add(5, "broker-2", "log-compaction", { topicPartition: "t-0", removedOffsets: [4] });
    const deletion = events.add(6, "broker-2", "log-delete", { topicPartition: "t-0" });
    const timeline = events.timeline();
    const present = (index: number): number[] =>
      replica(timeline.stateAt(index), "broker-2")
        .window(0, 10, 0)
        .filter((r) => r.truncatedSeq === undefined)
        .map((r) => r.offset);
    expect(present(retention)).to.deep.equal([2, 3, 4, 5]);
    expect(replica(timeline.stateAt(retention), "broker-2").logStartOffset).to.equal(2);
    expect(present(fromLeader)).to.deep.equal([3, 4, 5]);
    expect(present(compaction)).to.deep.equal([3, 5]);
    expect(timeline.stateAt(deletion).partitions).to.deep.equal([]);
  });
});
