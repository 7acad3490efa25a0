import { expect } from "chai";
import { HistoryCheckers } from "../../src/check/history.ts";
import { ReplicationCheckers } from "../../src/check/replication.ts";
import type { Violation } from "../../src/check/violation.ts";
import { Script } from "./events.ts";

const TP = "t-0";
const B1 = "broker-1";
const B2 = "broker-2";

function check(script: Script, topicPartitions?: string[]): Violation[] {
  const replication = new ReplicationCheckers();
  const history = new HistoryCheckers();
  for (const event of script.events) {
    replication.observe(event);
    history.observe(event);
  }
  return history.check((tp) => replication.committedLog(tp), script.now, topicPartitions ?? replication.topicPartitions());
}

function named(violations: Violation[], name: string): Violation[] {
  return violations.filter((v) => v.name === name);
}

/** broker-1 leads t-0 (and t-1) at epoch 1 with broker-2 in sync; `values` appended and committed on both. */
function committed(values: string[], tp = TP): Script {
  const script = new Script().leader(B1, tp, 1, [1, 2], 0, 0).follower(B2, tp, 1, 1, 0, 0);
  script.append(B1, tp, 0, 1, values, true).append(B2, tp, 0, 1, values).hwm(B1, tp, values.length, 1);
  return script;
}

function config(script: Script, process: string, fields: Record<string, unknown>): Script {
  return script.at(1000, process, "client-config", { process, role: "producer", ...fields });
}

/** invoke + completion of value n of `process` in partition 0. */
function write(script: Script, process: string, n: number, type: "ok" | "fail" | "info", offset?: number, partition = 0): Script {
  const value = `${process}-${String(n).padStart(6, "0")}`;
  return script.op(process, "invoke", n, value, partition).op(process, type, n, value, partition, offset);
}

describe("history checkers", () => {
  describe("duplicate-write", () => {
    it("flags a value committed at two offsets, with the producer, offsets and ops", () => {
      // A lost response and a retry without idempotence: p1-000000 lands at 0 and again at 2.
      const script = committed(["p1-000000", "p1-000001", "p1-000000"]);
      write(script, "p1", 0, "ok", 2);
      write(script, "p1", 1, "ok", 1);
      const found = named(check(script), "duplicate-write");
      expect(found).to.have.length(1);
      expect(found[0]).to.deep.include({ name: "duplicate-write", time: script.now, nodes: ["p1", B1] });
      expect(found[0].evidence).to.deep.include({
        value: "p1-000000",
        producer: "p1",
        topicPartition: TP,
        offsets: [0, 2],
        placements: [
          { topicPartition: TP, offset: 0 },
          { topicPartition: TP, offset: 2 },
        ],
      });
      expect((found[0].evidence.ops as { type: string }[]).map((op) => op.type)).to.deep.equal(["invoke", "ok"]);
    });

    it("flags a failed or unknown write that appears twice", () => {
      const script = committed(["p1-000000", "p1-000000"]);
      write(script, "p1", 0, "info");
      expect(named(check(script), "duplicate-write").map((v) => v.evidence.value)).to.deep.equal(["p1-000000"]);
    });

    it("flags a value present in two partitions", () => {
      const script = committed(["p1-000000"], "t-0");
      script.leader(B1, "t-1", 1, [1], 0, 0).append(B1, "t-1", 0, 1, ["p1-000000"], true).hwm(B1, "t-1", 1, 1);
      write(script, "p1", 0, "ok", 0);
      const found = named(check(script), "duplicate-write");
      expect(found).to.have.length(1);
      expect(found[0].evidence).to.deep.include({ offsets: [0] });
      expect(found[0].evidence.placements).to.deep.equal([
        { topicPartition: "t-0", offset: 0 },
        { topicPartition: "t-1", offset: 0 },
      ]);
    });

    it("does not flag a failed write that appears once, an info write that is absent, or a retried write deduplicated to one copy", () => {
      const script = committed(["p1-000000", "p1-000001"]);
      write(script, "p1", 0, "fail");
      write(script, "p1", 1, "ok", 1);
      write(script, "p1", 2, "info");
      // p1-000001 was sent twice (attempts 2): the broker's idempotent dedup kept one copy.
      script.op("p1", "ok", 1, "p1-000001", 0, 1);
      expect(check(script)).to.deep.equal([]);
    });

    it("never confuses two producers' values (values are unique per producer)", () => {
      const script = committed(["p1-000000", "p2-000000"]);
      write(script, "p1", 0, "ok", 0);
      write(script, "p2", 0, "ok", 1);
      expect(check(script)).to.deep.equal([]);
    });

    it("does not count a copy above the HW, or replicas disagreeing without a leader, as a duplicate", () => {
      const script = committed(["p1-000000"]).append(B1, TP, 1, 1, ["p1-000000"], true);
      write(script, "p1", 0, "ok", 0);
      expect(check(script)).to.deep.equal([]);
      // No leader: broker-1 holds [a, x] and broker-2 [x, b] below the committed offset 2 — offsets where the
      // replicas disagree place no value (that is divergent-log's finding).
      const split = new Script().leader(B1, TP, 1, [1, 2], 0, 0).follower(B2, TP, 1, 1, 0, 0);
      split.append(B1, TP, 0, 1, ["a", "p1-000000"], true).append(B2, TP, 0, 1, ["p1-000000", "b"]).hwm(B1, TP, 2, 1);
      split.host(B1, "host-crash").host(B2, "host-crash");
      write(split, "p1", 0, "info");
      expect(named(check(split), "duplicate-write")).to.deep.equal([]);
      // The same logs read as one (both replicas agreeing at each offset) would be a duplicate.
      const agreed = new Script().leader(B1, TP, 1, [1, 2], 0, 0).follower(B2, TP, 1, 1, 0, 0);
      agreed.append(B1, TP, 0, 1, ["p1-000000", "p1-000000"], true).append(B2, TP, 0, 1, ["p1-000000", "p1-000000"]).hwm(B1, TP, 2, 1);
      agreed.host(B1, "host-crash").host(B2, "host-crash");
      write(agreed, "p1", 0, "info");
      expect(named(check(agreed), "duplicate-write")).to.have.length(1);
    });
  });

  describe("reordered-write", () => {
    it("flags a producer's values committed in the opposite order, once per partition, with the first inversion and a count", () => {
      // 1 and 2 were retried after 3 was appended; 4 was retried after 5.
      const script = committed(["p1-000000", "p1-000003", "p1-000001", "p1-000002", "p1-000005", "p1-000004"]);
      config(script, "p1", { "enable.idempotence": false, "max.in.flight.requests.per.connection": 5 });
      for (const [n, offset] of [[0, 0], [1, 2], [2, 3], [3, 1], [4, 5], [5, 4]]) write(script, "p1", n, "ok", offset);
      const found = named(check(script), "reordered-write");
      expect(found).to.have.length(1);
      expect(found[0]).to.deep.include({ time: script.now, nodes: ["p1", B1] });
      expect(found[0].evidence).to.deep.include({
        producer: "p1",
        topicPartition: TP,
        orderPromised: false,
        config: { "enable.idempotence": false, "max.in.flight.requests.per.connection": 5 },
        count: 3,
      });
      expect(found[0].evidence.handedFirst).to.deep.include({ value: "p1-000001", n: 1, offset: 2 });
      expect(found[0].evidence.handedSecond).to.deep.include({ value: "p1-000003", n: 3, offset: 1 });
    });

    it("says when the configuration promised order (idempotence, or one request in flight)", () => {
      for (const fields of [{ "enable.idempotence": true }, { "enable.idempotence": false, "max.in.flight.requests.per.connection": 1 }]) {
        const script = committed(["p1-000001", "p1-000000"]);
        config(script, "p1", fields);
        write(script, "p1", 0, "ok", 1);
        write(script, "p1", 1, "ok", 0);
        const found = named(check(script), "reordered-write");
        expect(found.map((v) => v.evidence.orderPromised)).to.deep.equal([true]);
      }
      const unknown = committed(["p1-000001", "p1-000000"]);
      write(unknown, "p1", 0, "ok", 1);
      write(unknown, "p1", 1, "ok", 0);
      expect(named(check(unknown), "reordered-write").map((v) => v.evidence.orderPromised)).to.deep.equal([null]);
    });

    it("does not flag order across partitions, nor between producers, nor a gap left by a failed or absent write", () => {
      // p1's 1 went to t-1 and was committed before 0 on t-0 — different partitions have no order.
      const script = committed(["p2-000001", "p1-000000", "p1-000002", "p2-000000"], "t-0");
      script.leader(B1, "t-1", 1, [1], 0, 0).append(B1, "t-1", 0, 1, ["p1-000001"], true).hwm(B1, "t-1", 1, 1);
      write(script, "p1", 0, "ok", 1);
      write(script, "p1", 1, "ok", 0, 1);
      write(script, "p1", 2, "ok", 2);
      write(script, "p1", 3, "fail");
      write(script, "p1", 4, "info");
      // p2's values are reversed — p2 reorders, p1 does not.
      write(script, "p2", 0, "ok", 3);
      write(script, "p2", 1, "ok", 0);
      const found = named(check(script), "reordered-write");
      expect(found.map((v) => [v.evidence.producer, v.evidence.topicPartition])).to.deep.equal([["p2", "t-0"]]);
    });

    it("orders each producer's values on their own: interleaved producers are not reordered", () => {
      const script = committed(["p1-000005", "p2-000000", "p1-000006", "p2-000001"]);
      write(script, "p2", 0, "ok", 1);
      write(script, "p2", 1, "ok", 3);
      for (const n of [0, 1, 2, 3, 4]) write(script, "p1", n, "fail");
      write(script, "p1", 5, "ok", 0);
      write(script, "p1", 6, "ok", 2);
      expect(check(script)).to.deep.equal([]);
    });

    it("places no value where replicas disagree without a leader", () => {
      const script = new Script().leader(B1, TP, 1, [1, 2], 0, 0).follower(B2, TP, 1, 1, 0, 0);
      script.append(B1, TP, 0, 1, ["p1-000001", "p1-000000"], true).append(B2, TP, 0, 1, ["p1-000000", "p1-000001"]).hwm(B1, TP, 2, 1);
      script.host(B1, "host-crash").host(B2, "host-crash");
      write(script, "p1", 0, "info");
      write(script, "p1", 1, "info");
      expect(check(script)).to.deep.equal([]);
    });

    it("counts a duplicated value at its first offset (the copy is a duplicate, not a reordering)", () => {
      const script = committed(["p1-000000", "p1-000001", "p1-000000", "p1-000002"]);
      write(script, "p1", 0, "ok", 2);
      write(script, "p1", 1, "ok", 1);
      write(script, "p1", 2, "ok", 3);
      const found = check(script);
      expect(found.map((v) => v.name)).to.deep.equal(["duplicate-write"]);
    });
  });

  it("keeps lost-write: an acknowledged value absent from the committed log", () => {
    const script = committed(["p1-000000"]);
    write(script, "p1", 0, "ok", 0);
    write(script, "p1", 1, "ok", 1);
    expect(check(script).map((v) => [v.name, v.evidence.value])).to.deep.equal([["lost-write", "p1-000001"]]);
  });

  it("forgets a deleted topic's writes", () => {
    const script = committed(["p1-000000", "p1-000000"]);
    write(script, "p1", 0, "ok", 0);
    script.at(1000, "controller", "topic-deleted", { topic: "t" });
    expect(check(script, [])).to.deep.equal([]);
  });

  describe("reordered-write across a duplicate (the placement index)", () => {
    it("judges each partition in log order even when a value placed first elsewhere is listed first", () => {
      // p1-000005 lands in t-0 first (scanned first) and again in t-1 at offset 2, after p1-000001 and p1-000002;
      // p1-000003 follows it at 3: one inversion (3 after 5), not three.
      const T1 = "t-1";
      const script = new Script().leader(B1, TP, 1, [1], 0, 0).leader(B1, T1, 1, [1], 0, 0);
      script.append(B1, TP, 0, 1, ["p1-000005"], true).hwm(B1, TP, 1, 1);
      script.append(B1, T1, 0, 1, ["p1-000001", "p1-000002", "p1-000005", "p1-000003"], true).hwm(B1, T1, 4, 1);
      // The history names t-0 first (partitions are scanned in first-write order).
      write(script, "p1", 5, "ok", 0, 0);
      write(script, "p1", 1, "ok", 0, 1);
      write(script, "p1", 2, "ok", 1, 1);
      write(script, "p1", 3, "ok", 3, 1);
      const found = check(script, [TP, T1]);
      expect(named(found, "duplicate-write").map((v) => v.evidence.placements)).to.deep.equal([
        [
          { topicPartition: TP, offset: 0 },
          { topicPartition: T1, offset: 2 },
        ],
      ]);
      const reordered = named(found, "reordered-write");
      expect(reordered).to.have.length(1);
      expect(reordered[0].evidence).to.deep.include({ topicPartition: T1, count: 1 });
      expect(reordered[0].evidence.handedFirst).to.deep.include({ value: "p1-000003", n: 3, offset: 3 });
      expect(reordered[0].evidence.handedSecond).to.deep.include({ value: "p1-000005", n: 5, offset: 2 });
    });
  });
});
