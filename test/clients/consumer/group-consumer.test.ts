import { expect } from "chai";
import type { JoinGroupRequest, OffsetFetchRequest } from "../../../src/protocol/group.ts";
import { FakeCluster } from "./fake-cluster.ts";
import { groupHarness } from "./group-harness.ts";

function values(events: { values?: unknown }[]): unknown[] {
  return events.flatMap((e) => e.values as unknown[]);
}

describe("group consumer: joining", () => {
  it("joins (MEMBER_ID_REQUIRED, then with its id), syncs, fetches committed offsets and reads from them", () => {
    const cluster = new FakeCluster(2).append(0, ["a0", "a1", "a2"]).append(1, ["b0"]);
    const h = groupHarness(cluster, { c1: {} }, (group) => group.offsets.set("t-0", 1));
    h.runTo(1000);
    const joins = cluster.seen("JoinGroup").map((r) => r.request as JoinGroupRequest);
    expect(joins.map((j) => j.memberId)).to.deep.equal(["", "c1-1"]);
    expect(joins[1].protocols.map((p) => p.name)).to.deep.equal(["range"]);
    expect(joins[1].rebalanceTimeoutMs).to.equal(300_000);
    const fetches = cluster.seen("OffsetFetch").map((r) => r.request as OffsetFetchRequest);
    expect(fetches).to.have.length(1);
    expect(fetches[0].requireStable).to.equal(true);
    const offsetFetch = h.ops("offset-fetch", "c1");
    expect(offsetFetch).to.have.length(1);
    expect(offsetFetch[0].offsets).to.deep.equal([
      { topic: "t", partition: 0, offset: 1 },
      { topic: "t", partition: 1, offset: -1 },
    ]);
    expect(offsetFetch[0].generation).to.equal(1);
    const assigned = h.kinds("partitions-assigned", "c1");
    expect(assigned.map((e) => e.partitions)).to.deep.equal([["t-0", "t-1"]]);
    expect(assigned[0].protocol).to.equal("EAGER");
    // t-0 from its committed offset 1, t-1 (none committed) from the earliest.
    const polls = h.ops("poll", "c1");
    expect(values(polls.filter((p) => p.partition === 0))).to.deep.equal(["a1", "a2"]);
    expect(values(polls.filter((p) => p.partition === 1))).to.deep.equal(["b0"]);
    expect(polls.every((p) => p.group === "g" && p.member === "c1-1" && p.generation === 1)).to.equal(true);
    expect(values(h.ops("process", "c1"))).to.have.members(["a1", "a2", "b0"]);
  });
});
