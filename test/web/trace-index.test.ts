import { expect } from "chai";
import { explainViolation } from "../../web/src/ui/explain.ts";
import { chartLines, CHARTS } from "../../web/src/ui/metrics-view.ts";
import { indexTrace, lowerBound, parseTraceText } from "../../web/src/ui/trace-index.ts";
import { run, scenarioFile } from "../scenario/helpers.ts";

const S = 1_000_000;
const HEADER = { format: "kafkasim-trace" as const, formatVersion: 1, kafkasim: "0.1.0", scenario: "tiny", seed: 3, nodes: ["p1", "broker-2", "zk-1", "broker-1", "admin"] };
let seq = 0;
const ev = (t: number, node: string, kind: string, fields: Record<string, unknown> = {}) => ({ t, seq: seq++, node, kind, ...fields });

describe("viewer trace index", () => {
  seq = 0;
  const events = [
    ev(0, "zk-1", "zk-serving", { role: "LEADING", epoch: 1, zxid: "0x1" }),
    ev(100, "broker-1", "controller-elected", { controllerEpoch: 1 }),
    ev(200, "broker-1", "send", { to: "broker-2", type: "LeaderAndIsr", mid: 1, bytes: 10 }),
    ev(300, "broker-2", "deliver", { from: "broker-1", type: "LeaderAndIsr", mid: 1 }),
    ev(1 * S, "nemesis", "fault", { type: "partition", groups: [["broker-1"], ["broker-2"]], note: "cut the follower off" }),
    ev(1 * S + 20, "broker-1", "send", { to: "broker-2", type: "Fetch", mid: 2, bytes: 10 }),
    ev(1 * S + 20, "broker-1", "drop", { to: "broker-2", type: "Fetch", mid: 2, reason: "partition" }),
    ev(1 * S + 30, "p1", "send", { to: "broker-1", type: "Produce", mid: 3, bytes: 10 }),
    ev(2 * S, "broker-1", "isr-shrink", { topicPartition: "t-0", leaderEpoch: 0, isr: [1], previousIsr: [1, 2] }),
    ev(3 * S, "broker-2", "host-crash", { incarnation: 1 }),
    ev(3 * S, "nemesis", "fault", { type: "crash", nodes: ["broker-2"] }),
    ev(4 * S, "nemesis", "fault-end", { type: "partition" }),
    ev(5 * S, "broker-2", "host-start", { incarnation: 2 }),
    ev(5 * S + 1, "broker-1", "metrics", { intervalUs: S, mbeans: { "kafka.server:type=ReplicaManager,name=IsrShrinksPerSec": { Count: 1, OneMinuteRate: 0.1 } } }),
    ev(6 * S + 1, "broker-1", "metrics", { intervalUs: S, mbeans: { "kafka.server:type=ReplicaManager,name=IsrShrinksPerSec": { Count: 3, OneMinuteRate: 0.2 } } }),
    ev(7 * S, "broker-1", "controller-resigned", { controllerEpoch: 1 }),
  ];
  const index = indexTrace(HEADER, events);

  it("groups lanes: ZooKeeper, brokers, admin, clients", () => {
    expect(index.lanes.map((l) => l.name)).to.deep.equal(["zk-1", "broker-2", "broker-1", "admin", "p1"]);
  });

  it("pairs sends with deliveries and drops by message id", () => {
    const m = index.messages;
    expect(m.count).to.equal(3);
    expect([m.sendT[0], m.endT[0], m.dropped[0]]).to.deep.equal([200, 300, 0]);
    expect(m.types[m.type[1]]).to.equal("Fetch");
    expect(m.dropped[1]).to.equal(1);
    expect(Number.isNaN(m.endT[2]), "never delivered").to.equal(true);
    expect(m.from[0]).to.equal(index.laneOf.get("broker-1"));
    expect(m.to[0]).to.equal(index.laneOf.get("broker-2"));
  });

  it("turns faults and host events into bands that end when the fault ends", () => {
    const partition = index.bands.find((b) => b.kind === "partition")!;
    expect([partition.fromT, partition.toT]).to.deep.equal([1 * S, 4 * S]);
    expect(partition.lanes.sort()).to.deep.equal([index.laneOf.get("broker-1"), index.laneOf.get("broker-2")].sort());
    const down = index.bands.find((b) => b.kind === "down")!;
    expect([down.fromT, down.toT, down.lanes]).to.deep.equal([3 * S, 5 * S, [index.laneOf.get("broker-2")]]);
  });

  it("keeps role spans, narrative notes, key events and metric series", () => {
    const controller = index.roles.find((r) => r.role === "controller")!;
    expect([controller.fromT, controller.toT]).to.deep.equal([100, 7 * S]);
    expect(index.roles.find((r) => r.role === "zk-leader")!.lane).to.equal(index.laneOf.get("zk-1"));
    expect(index.narrative.map((n) => n.note)).to.deep.equal(["cut the follower off", undefined]);
    expect(index.marks.some((m) => m.category === "isr" && m.label.includes("[1,2] → [1]"))).to.equal(true);
    const spec = CHARTS.find((c) => c.title === "IsrShrinksPerSec")!;
    const [line] = chartLines(index, spec);
    expect(line.node).to.equal("broker-1");
    expect(line.v).to.deep.equal([2]); // (3 − 1) shrinks over one second
    expect(Array.from(index.keyIndexes)).to.include(8);
  });

  it("parses trace text with one-line errors naming the line", () => {
    const text = [JSON.stringify(HEADER), JSON.stringify(events[0]), ""].join("\n");
    expect(parseTraceText(text).events).to.have.length(1);
    expect(() => parseTraceText(`${JSON.stringify(HEADER)}\n{"t":1}`)).to.throw('line 2: expected an event with numeric "t" and "seq"');
    expect(() => parseTraceText('{"format":"other","nodes":[]}')).to.throw("line 1");
    expect(() => parseTraceText(`${JSON.stringify(HEADER)}\nnot json`)).to.throw("line 2: expected a JSON object, found invalid JSON");
  });

  it("lowerBound finds the first value at or above x", () => {
    expect(lowerBound([1, 3, 3, 7], 3)).to.equal(1);
    expect(lowerBound([1, 3, 3, 7], 8)).to.equal(4);
    expect(lowerBound(Float64Array.from([]), 1)).to.equal(0);
  });
});

describe("viewer violation explanations", () => {
  const kip101 = run(scenarioFile("kip-101-data-loss"));
  const header = { format: "kafkasim-trace" as const, formatVersion: 1, kafkasim: "x", scenario: "kip-101-data-loss", seed: 1, nodes: ["zk-1", "zk-2", "zk-3", "broker-1", "broker-2", "broker-3", "admin", "p1"] };
  const index = indexTrace(header, kip101.events);

  it("links a lost write to its acknowledgement, the truncation that dropped it and the elections", () => {
    const lost = index.violations.find((v) => v.name === "lost-write")!;
    expect(lost, "kip-101 loses a write").to.not.equal(undefined);
    const explanation = explainViolation(index, lost);
    expect(explanation.text.join(" ")).to.include(String(lost.evidence.value));
    const linked = explanation.links.map((l) => index.events[l.index]);
    const ack = linked.find((e) => e.kind === "op" && e.type === "ok");
    expect(ack?.value).to.equal(lost.evidence.value);
    const truncation = linked.find((e) => e.kind === "replica-truncate" && e.node === "broker-3");
    expect(truncation, "broker-3's truncation to its stale HW").to.not.equal(undefined);
    expect(Number(truncation!.offset)).to.be.at.most(Number(lost.evidence.ackedOffset));
    expect(linked.some((e) => e.kind === "leader-elected" && e.leader === 3)).to.equal(true);
  });

  it("explains the committed-data-lost hwm-regression with the election that caused it", () => {
    const regression = index.violations.find((v) => v.name === "hwm-regression")!;
    const explanation = explainViolation(index, regression);
    expect(explanation.text[0]).to.include("broker-3 became leader");
    expect(explanation.links.map((l) => index.events[l.index]).some((e) => e.kind === "leader-elected" && e.leaderEpoch === regression.evidence.leaderEpoch)).to.equal(true);
  });
});
