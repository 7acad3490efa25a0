/**
 * Scenario tests for issue 6's "Must show" list (clients, histories, checkers), read from the trace only:
 * retries without idempotence under lost responses duplicate writes (and, with requests in flight > 1 and lost
 * requests, reorder them); idempotence prevents both; acks=1 loses acknowledged writes on a leader crash while
 * acks=all with min.insync.replicas 2 loses none; a consumer reads every partition's final committed log.
 */

import { expect } from "chai";
import { kinds, ops, runOnce, S, scenarioFile, violationNames, type Run, type Spec } from "./helpers.ts";
import type { TraceEvent } from "../../src/sim/trace.ts";

const duplicates = (): Run => runOnce("duplicates", () => scenarioFile("producer-retry-duplicates"));
const reorder = (): Run => runOnce("reorder", () => scenarioFile("producer-retry-reorder"));
const idempotent = (): Run => runOnce("idempotent", () => scenarioFile("producer-idempotent"));
const acks1 = (): Run => runOnce("acks1", () => scenarioFile("acks1-leader-crash"));
const acksAll = (): Run =>
  runOnce("acksAll", () => {
    const spec = scenarioFile("leader-failover");
    (spec.clients as Spec[]).push({ id: "c1", type: "consumer", topics: ["t"] });
    return spec;
  });

function byName(run: Run, name: string) {
  return run.result.violations.filter((v) => v.name === name);
}

/** value → offsets at which the consumer c1 read it, per partition. */
function reads(events: TraceEvent[]): Map<string, number[]> {
  const read = new Map<string, number[]>();
  for (const e of kinds(events, "op", (e) => e.process === "c1" && e.f === "poll" && e.type === "ok")) {
    (e.values as string[]).forEach((value, i) => read.set(value, [...(read.get(value) ?? []), (e.offsets as number[])[i]]));
  }
  return read;
}

describe("client scenarios (issue 6)", function () {
  this.timeout(120_000);

  it("retries without idempotence under lost responses write duplicates, each a value the broker appended twice", () => {
    const { result, events } = duplicates();
    expect(violationNames({ result, events })).to.deep.equal(["duplicate-write"]);
    const config = kinds(events, "client-config", (e) => e.process === "p1")[0];
    expect(config["enable.idempotence"]).to.equal(false);
    const found = byName({ result, events }, "duplicate-write");
    expect(found.length).to.be.greaterThan(10);
    // Every duplicated value was retried after a lost response and the consumer read it twice too.
    const read = reads(events);
    for (const violation of found.slice(0, 20)) {
      const value = violation.evidence.value as string;
      expect(read.get(value)?.length ?? 0, value).to.be.greaterThan(1);
      const completed = ops(events, "ok", (e) => e.value === value)[0] ?? ops(events, "info", (e) => e.value === value)[0];
      expect(completed.attempts as number, value).to.be.greaterThan(1);
    }
  });

  it("with five requests in flight and lost requests, retries also reorder a producer's writes", () => {
    const run = reorder();
    expect(violationNames(run)).to.have.members(["duplicate-write", "reordered-write"]);
    const inversion = byName(run, "reordered-write")[0];
    expect(inversion.evidence.orderPromised).to.equal(false);
  });

  it("idempotence keeps one copy of each write, in order, through the same lost requests and responses", () => {
    const { result, events } = idempotent();
    expect(result.violations).to.deep.equal([]);
    // The faults were real: retries happened and the brokers deduplicated some of them.
    expect(kinds(events, "producer-dedup").length).to.be.greaterThan(0);
    expect(kinds(events, "producer-retry").length).to.be.greaterThan(5);
    // Every record carries the producer id and sequence numbers.
    const appended = kinds(events, "log-append", (e) => e.asLeader === true && e.topicPartition === "t-0");
    expect(appended.length).to.be.greaterThan(10);
    // The consumer read each value exactly once, and p1's values of each partition in increasing order.
    const read = reads(events);
    const acked = ops(events, "ok", (e) => e.process === "p1");
    expect(acked.length).to.equal(8000);
    for (const op of acked) expect(read.get(op.value as string)?.length, op.value as string).to.equal(1);
    for (const partition of [0, 1, 2]) {
      const offsets = acked
        .filter((op) => op.partition === partition)
        .sort((a, b) => (a.opId as number) - (b.opId as number))
        .map((op) => op.offset as number);
      expect(offsets, `t-${partition}`).to.deep.equal([...offsets].sort((a, b) => a - b));
    }
  });

  it("acks=1 loses acknowledged writes when the leader crashes before its followers fetched them", () => {
    const { result, events } = acks1();
    const lost = byName({ result, events }, "lost-write");
    expect(lost.length).to.be.greaterThan(0);
    const crash = kinds(events, "fault", (e) => e.type === "crash")[0];
    for (const violation of lost) {
      // Acknowledged shortly before the crash; the record at its offset now is another one (or none).
      expect(violation.evidence.ackedAt as number).to.be.within(crash.t - S, crash.t);
      expect(violation.evidence.topicPartition).to.equal("t-0");
    }
    // The old leader truncated them when it came back as a follower.
    const back = kinds(events, "log-truncate", (e) => e.node === (crash.nodes as string[])[0] && e.t > crash.t);
    expect(back.length).to.be.greaterThan(0);
  });

  it("acks=all with min.insync.replicas 2 and unclean election off loses nothing, and a consumer reads it all", () => {
    const { result, events } = acksAll();
    expect(result.violations).to.deep.equal([]);
    const read = reads(events);
    const acked = ops(events, "ok", (e) => e.process === "p1");
    expect(acked.length).to.equal(600);
    for (const op of acked) expect(read.has(op.value as string), op.value as string).to.equal(true);
    // The consumer followed the leader change and validated its position (KIP-320).
    expect(kinds(events, "consumer-validate", (e) => e.node === "c1").length).to.be.greaterThan(0);
  });
});
