import { expect } from "chai";
import { cli } from "./run-cli.ts";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildTimeline, classify } from "../../src/cli/timeline.ts";
import { describeGroupEvent, memberIdPrefix, shortMemberId } from "../../src/cli/timeline-groups.ts";
import { memberIdPrefix as viewerMemberIdPrefix } from "../../web/src/state/groups.ts";
import { formatTimelineMermaid, mermaidId } from "../../src/cli/timeline-mermaid.ts";
import { formatTimelineText } from "../../src/cli/timeline-text.ts";
import { TraceFormatError } from "../../src/sim/trace.ts";

const S = 1_000_000;


const HEADER = { format: "kafkasim-trace", formatVersion: 1, kafkasim: "0.1.0", scenario: "tiny", seed: 3, nodes: ["broker-1", "broker-2", "p1"] };
let seq = 0;
const ev = (t: number, node: string, kind: string, fields: Record<string, unknown> = {}) => ({ t, seq: seq++, node, kind, ...fields });
const EVENTS = [
  ev(0, "broker-1", "host-start", { incarnation: 1 }),
  ev(100, "broker-1", "controller-elected", { controllerEpoch: 1, epochZkVersion: 1, zxid: 5 }),
  ev(200, "broker-1", "send", { to: "broker-2", type: "LeaderAndIsr", mid: 1, bytes: 10 }),
  ev(300, "broker-2", "deliver", { from: "broker-1", type: "LeaderAndIsr", mid: 1 }),
  ev(400, "broker-1", "leader-elected", { topicPartition: "t-0", leader: 1, leaderEpoch: 0, isr: [1, 2], unclean: false, reason: "new-partition" }),
  ev(1 * S, "nemesis", "fault", { type: "partition", groups: [["broker-1"], ["broker-2"]] }),
  ev(1 * S + 10, "p1", "send", { to: "broker-2", type: "Produce", mid: 2, bytes: 10 }),
  ev(1 * S + 20, "broker-1", "send", { to: "broker-2", type: "Fetch", mid: 3, bytes: 10 }),
  ev(1 * S + 30, "broker-1", "drop", { to: "broker-2", type: "Fetch", mid: 3, reason: "partition" }),
  ev(2 * S, "broker-1", "isr-shrink", { topicPartition: "t-0", leaderEpoch: 0, isr: [1], previousIsr: [1, 2] }),
  ev(3 * S, "broker-2", "host-crash", { incarnation: 1 }),
  ev(3 * S + 5, "broker-2", "hwm", { topicPartition: "t-0", highWatermark: 4, previous: 3 }),
  ev(4 * S, "broker-2", "host-start", { incarnation: 2 }),
  ev(4 * S + 1, "broker-2", "replica-truncate", { topicPartition: "t-0", offset: 3, mode: "high-watermark", reason: "high-watermark", leaderEpoch: 1, logEndOffset: 5 }),
  ev(5 * S, "p1", "op", { type: "fail", f: "send", opId: 7, error: "NOT_ENOUGH_REPLICAS" }),
  ev(6 * S, "p1", "violation", { name: "lost-write", evidence: { value: "p1-000007" } }),
];
const TRACE = [HEADER, ...EVENTS].map((line) => JSON.stringify(line)).join("\n") + "\n";

function traceFile(text = TRACE): string {
  const file = join(mkdtempSync(join(tmpdir(), "kafkasim-timeline-")), "trace.jsonl");
  writeFileSync(file, text);
  return file;
}

describe("kafkasim timeline", function () {
  this.timeout(60_000);

  describe("the model (pure)", () => {
    it("keeps key events in order and leaves routine ones out", () => {
      const timeline = buildTimeline(TRACE);
      const keys = timeline.rows.filter((row) => row.kind === "key").map((row) => (row.kind === "key" ? row.label.split(" ")[0] : ""));
      expect(keys).to.deep.equal(["controller", "t-0", "fault", "t-0", "crash", "restart", "t-0", "send", "VIOLATION"]);
      expect(timeline.lanes).to.deep.equal(["broker-1", "broker-2", "p1"]);
      expect(classify(EVENTS[0] as never)).to.equal(null); // the first start of a host is not news
      expect(classify(EVENTS[11] as never)).to.equal(null); // nor a high watermark step
    });

    it("summarises messages between key events unless asked for them; drops always earn a line", () => {
      const summaries = buildTimeline(TRACE).rows.filter((row) => row.kind === "summary");
      expect(summaries).to.deep.equal([{ kind: "summary", t: 1 * S + 10, untilT: 1 * S + 30, sent: 2, dropped: 1 }]);
      const messages = buildTimeline(TRACE, { messages: true }).rows.filter((row) => row.kind === "message");
      expect(messages).to.deep.equal([
        { kind: "message", t: 200, from: "broker-1", to: "broker-2", type: "LeaderAndIsr" },
        { kind: "message", t: 1 * S + 10, from: "p1", to: "broker-2", type: "Produce" },
        { kind: "message", t: 1 * S + 20, from: "broker-1", to: "broker-2", type: "Fetch", dropped: "partition" },
      ]);
    });

    it("a window, a node selection and --max narrow the rows; lane states carry into the window", () => {
      const window = buildTimeline(TRACE, { fromUs: 3.5 * S, toUs: 5.5 * S, nodes: ["broker-2", "p1"] });
      expect(window.lanes).to.deep.equal(["broker-2", "p1"]);
      expect(window.initialStates.get("broker-2")).to.equal("down");
      expect(window.rows.map((row) => row.t)).to.deep.equal([4 * S, 4 * S + 1, 5 * S]);
      const capped = buildTimeline(TRACE, { max: 2 });
      expect(capped.rows.filter((row) => row.kind !== "summary")).to.have.length(2);
      expect(capped.omitted).to.equal(7);
      expect(() => buildTimeline(TRACE, { nodes: ["broker-9"] })).to.throw(/unknown node "broker-9"/);
    });

    it("draws lanes with glyphs, a down lane blank, and the time on the left", () => {
      const lines = formatTimelineText(buildTimeline(TRACE));
      expect(lines[0]).to.equal("tiny  seed 3  start – end");
      expect(lines[1]).to.equal("        time  broker-1  broker-2  p1  ");
      const crash = lines.find((line) => line.includes("crash"))!;
      expect(crash).to.equal("          3s  │         ✕         │   broker-2 crash");
      const shrink = lines.find((line) => line.includes("isr [1,2] →"))!;
      expect(shrink).to.equal("          2s  −         │         │   broker-1 t-0 isr [1,2] → [1]");
      const afterCrash = lines.findIndex((line) => line.includes("crash"));
      expect(lines[afterCrash + 1]).to.match(/^ {10}4s {2}│ {9}▲ {9}│ {3}broker-2 restart/);
      expect(lines.some((line) => line.includes("· 2 messages sent, 1 dropped"))).to.equal(true);
      const arrows = formatTimelineText(buildTimeline(TRACE, { messages: true }));
      expect(arrows).to.include("       200µs  ●─────────▶         │   broker-1 → broker-2 LeaderAndIsr");
      expect(arrows.some((line) => line.includes("●┄┄┄┄┄┄┄┄┄×") || line.includes("×┄┄┄┄┄┄┄┄┄●"))).to.equal(true);
    });

    it("as Mermaid: participants, arrows labelled with the request type, crossed dashed drops, notes", () => {
      const lines = formatTimelineMermaid(buildTimeline(TRACE, { messages: true }));
      expect(lines.slice(0, 4)).to.deep.equal(["sequenceDiagram", "  participant broker_1 as broker-1", "  participant broker_2 as broker-2", "  participant p1 as p1"]);
      expect(lines).to.include("  broker_1->>broker_2: LeaderAndIsr");
      expect(lines).to.include("  broker_1--xbroker_2: Fetch dropped (partition)");
      expect(lines).to.include("  Note over broker_2: 3s crash");
      expect(lines).to.include('  Note over broker_1,broker_2: 1s fault partition groups=[["broker-1"],["broker-2"]]');
      expect(lines.filter((line) => line.includes("Fetch"))).to.have.length(1); // the drop is drawn once, at its send
      expect(mermaidId("end")).to.equal("end_");
    });

    it("a bad line names its line number", () => {
      const broken = TRACE.split("\n");
      broken[3] = '{"t": 5, "seq": 2, "node": "broker-1"';
      expect(() => buildTimeline(broken.join("\n"))).to.throw(TraceFormatError, /^line 4: expected a JSON object/);
      broken[3] = '{"t": "soon", "seq": 2, "node": "broker-1", "kind": "send"}';
      expect(() => buildTimeline(broken.join("\n"))).to.throw(TraceFormatError, /^line 4: expected an event/);
      expect(() => buildTimeline('{"format":"other"}\n')).to.throw(TraceFormatError, /^line 1:/);
    });
  });

  describe("consumer groups", () => {
    // The group events as the model writes them (issue 15's trace contract; docs/groups.md, "Trace events").
    const C1 = "c1-b38f8ad5-f330-79a0-488c-f55d7072445b";
    const C2 = "c2-d20d7661-3e4e-a391-5063-8fb782e1c6f8";
    const I3 = "c3-instance-0042f368-66ad-fdd5-a00e-51dbceb54c99";
    const members = [C1, C2].map((memberId) => ({ memberId, instanceId: null }));
    const GROUP_HEADER = { ...HEADER, scenario: "groups", nodes: ["broker-1", "broker-2", "c1", "c2"] };
    const GROUP_EVENTS = [
      ev(1 * S, "broker-2", "offsets-topic-created", { partitions: 3, replicationFactor: 3, assignment: [[2, 1], [1, 2], [2, 1]] }),
      ev(1 * S + 5, "broker-1", "group-coordinator-loading", { partition: 2, epoch: 0, bytes: 0 }),
      ev(1 * S + 10, "broker-1", "group-coordinator-loaded", { partition: 2, groups: 0, offsets: 0 }),
      ev(2 * S, "broker-1", "group-state", { group: "g1", state: "PreparingRebalance", previousState: "Empty", generation: 0, protocol: null, leader: C1, members: members.slice(0, 1), partition: 2 }),
      ev(3 * S, "broker-1", "group-state", { group: "g1", state: "Stable", previousState: "CompletingRebalance", generation: 3, protocol: "range", leader: C1, members, partition: 2 }),
      ev(3 * S + 1, "c1", "consumer-group-joined", { process: "c1", group: "g1", member: C1, generation: 3, leader: true, protocol: "range", rebalanceProtocol: "EAGER" }),
      ev(3 * S + 2, "c1", "partitions-assigned", { process: "c1", group: "g1", member: C1, generation: 3, partitions: ["t-0", "t-1"], protocol: "EAGER" }),
      ev(3 * S + 3, "c1", "op", { type: "ok", f: "commit", opId: 4, mode: "auto", group: "g1", member: C1, generation: 3, offsets: [{ topic: "t", partition: 0, offset: 7 }] }),
      ev(4 * S, "c2", "consumer-poll-timeout", { process: "c2", group: "g1", member: C2, generation: 3, maxPollIntervalMs: 300000 }),
      ev(4 * S + 1, "c2", "partitions-lost", { process: "c2", group: "g1", member: "", generation: -1, partitions: ["t-2"], protocol: "EAGER" }),
      ev(4 * S + 2, "broker-1", "group-member-removed", { group: "g1", member: C2, instanceId: null, reason: "leave-group" }),
      ev(4 * S + 3, "broker-1", "group-member-removed", { group: "g1", member: I3, instanceId: "c3-instance", reason: "static-member-replaced" }),
      ev(5 * S, "c1", "partitions-revoked", { process: "c1", group: "g1", member: C1, generation: 3, partitions: ["t-1"], protocol: "COOPERATIVE" }),
      ev(6 * S, "broker-1", "group-coordinator-unloaded", { partition: 2, groups: 1 }),
      ev(7 * S, "broker-2", "group-state", { group: "g1", state: "Stable", previousState: null, generation: 3, protocol: "range", leader: C1, members, partition: 2 }),
      ev(8 * S, "broker-2", "group-state", { group: "g1", state: "Empty", previousState: "PreparingRebalance", generation: 4, protocol: null, leader: null, members: [], partition: 2 }),
      ev(9 * S, "broker-2", "group-state", { group: "g1", state: "Dead", previousState: "Empty", generation: 4, protocol: null, leader: null, members: [], partition: 2 }),
    ];
    const GROUP_TRACE = [GROUP_HEADER, ...GROUP_EVENTS].map((line) => JSON.stringify(line)).join("\n") + "\n";

    it("shortens member ids as the viewer does: the client or instance id and four hex digits of the UUID", () => {
      expect(shortMemberId(C1)).to.equal("c1-b38f");
      expect(shortMemberId(I3)).to.equal("c3-instance-0042");
      expect(shortMemberId("c1-5f2a")).to.equal("c1-5f2a");
      expect(shortMemberId("")).to.equal("");
      // The viewer's state module keeps its own copy of the rule (it imports nothing from src/).
      for (const id of [C1, I3, "c1-5f2a", "", "x-b38f8ad5-f330-79a0-488c-f55d7072445"]) expect(viewerMemberIdPrefix(id), id).to.equal(memberIdPrefix(id));
      expect(memberIdPrefix(I3)).to.equal("c3-instance");
    });

    it("one compact line per group key event, in the coordinator's or the client's lane", () => {
      const rows = buildTimeline(GROUP_TRACE).rows.filter((row) => row.kind === "key");
      expect(rows.map((row) => (row.kind === "key" ? `${row.node} ${row.glyph} ${row.label}` : ""))).to.deep.equal([
        "broker-2 ◇ __consumer_offsets created: 3 partitions, replication factor 3",
        "broker-1 ● coordinator loaded __consumer_offsets-2: 0 groups, 0 offsets",
        "broker-1 ◎ group g1 PreparingRebalance gen 0 (1 member, leader c1-b38f)",
        "broker-1 ◎ group g1 Stable gen 3 (2 members, leader c1-b38f)",
        "c1 ⊕ group g1 assigned t-0,t-1 (gen 3, c1-b38f, EAGER)",
        "c2 ⌛ group g1 poll timeout (max.poll.interval.ms 300000 ms): c2-d20d leaves the group",
        "c2 ⊗ group g1 lost t-2 (no generation, EAGER)",
        "broker-1 ⏏ group g1 member c2-d20d removed: leave-group",
        "broker-1 ⏏ group g1 member c3-instance-0042 removed: static-member-replaced",
        "c1 ⊖ group g1 revoked t-1 (gen 3, c1-b38f, COOPERATIVE)",
        "broker-1 ○ coordinator unloaded __consumer_offsets-2: 1 group",
        "broker-2 ◎ group g1 loaded as Stable gen 3 (2 members, leader c1-b38f)",
        "broker-2 ◎ group g1 Empty gen 4 (no members)",
        "broker-2 ◎ group g1 Dead gen 4",
      ]);
      expect(rows.every((row) => row.kind === "key" && row.category === "group")).to.equal(true);
      // Loading (loaded follows it), joins (the assignment follows) and commits are not key events.
      expect(classify(GROUP_EVENTS[1] as never)).to.equal(null);
      expect(classify(GROUP_EVENTS[5] as never)).to.equal(null);
      expect(classify(GROUP_EVENTS[7] as never)).to.equal(null);
      expect(describeGroupEvent(EVENTS[4] as never)).to.equal(null);
    });

    it("draws them in their lanes, and as Mermaid notes over their node", () => {
      const lines = formatTimelineText(buildTimeline(GROUP_TRACE));
      expect(lines).to.include("          3s  ◎         │         │   │   broker-1 group g1 Stable gen 3 (2 members, leader c1-b38f)");
      expect(lines).to.include("   3.000002s  │         │         ⊕   │   c1 group g1 assigned t-0,t-1 (gen 3, c1-b38f, EAGER)");
      const mermaid = formatTimelineMermaid(buildTimeline(GROUP_TRACE));
      expect(mermaid).to.include("  Note over broker_2: 7s group g1 loaded as Stable gen 3 (2 members, leader c1-b38f)");
      expect(mermaid).to.include("  Note over broker_1: 4.000002s group g1 member c2-d20d removed: leave-group");
    });
  });

  describe("the command", () => {
    it("prints the text timeline and the Mermaid diagram of a window", () => {
      const file = traceFile();
      const text = cli(["timeline", file]);
      expect(text.code, text.stderr).to.equal(0);
      expect(text.stdout).to.contain("VIOLATION lost-write");
      const mermaid = cli(["timeline", file, "--format", "mermaid", "--from", "1s", "--to", "3.5s", "--nodes", "broker-1,broker-2", "--messages"]);
      expect(mermaid.code, mermaid.stderr).to.equal(0);
      expect(mermaid.stdout.split("\n")[0]).to.equal("sequenceDiagram");
      expect(mermaid.stdout).to.contain("broker_1--xbroker_2: Fetch dropped (partition)");
      expect(mermaid.stdout).to.not.contain("participant p1");
      expect(mermaid.stdout).to.not.contain("LeaderAndIsr");
      // By default: key events and faults, no message arrows, a note where messages were dropped.
      const plain = cli(["timeline", file, "--format", "mermaid", "--from", "1s", "--to", "3.5s", "--nodes", "broker-1,broker-2"]);
      expect(plain.code, plain.stderr).to.equal(0);
      expect(plain.stdout).to.not.match(/->>|--x/);
      expect(plain.stdout).to.match(/Note over broker_1,broker_2: \d+ messages, \d+ dropped/);
    });

    it("a corrupt trace line and bad options: one line naming the problem, exit 2", () => {
      const lines = TRACE.split("\n");
      lines[5] = "not json";
      const corrupt = traceFile(lines.join("\n"));
      const cases: [string[], RegExp][] = [
        [["timeline", corrupt], new RegExp(`^kafkasim: ${corrupt.replace(/[.]/g, "\\.")}: line 6: expected a JSON object, found invalid JSON$`)],
        [["timeline", traceFile(), "--format", "svg"], /^kafkasim: --format: expected text or mermaid, found "svg"$/],
        [["timeline", traceFile(), "--nodes", "zk-9"], /^kafkasim: --nodes: unknown node "zk-9"/],
        [["timeline", traceFile(), "--from", "soon"], /^kafkasim: --from: expected a duration/],
      ];
      for (const [args, pattern] of cases) {
        const result = cli(args);
        expect(result.code, args.join(" ")).to.equal(2);
        expect(result.stdout).to.equal("");
        expect(result.stderr.trim().split("\n")).to.have.length(1);
        expect(result.stderr.trim()).to.match(pattern);
      }
    });
  });
});
