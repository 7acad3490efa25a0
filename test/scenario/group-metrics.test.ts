/**
 * The consumer-group MBeans in the trace's `metrics` events, over real group runs: GroupMetadataManager's gauges
 * agree with the coordinators' group-state events, group-coordinator-metrics counts the offsets the coordinator
 * committed, the group requests' RequestsPerSec appear once handled, and consumer-coordinator-metrics counts the
 * consumer's rebalances and commits as its history shows them. Runs without groups, and brokers that never hosted
 * a __consumer_offsets replica, add no group MBean.
 */

import { expect } from "chai";
import type { TraceEvent } from "../../src/sim/trace.ts";
import { run, scenarioFile, withCluster, type Run } from "./helpers.ts";

type MBeans = Record<string, Record<string, number | null>>;

const GMM = "kafka.coordinator.group:type=GroupMetadataManager,name=";
const GCM = "kafka.server:type=group-coordinator-metrics";
const CCM = "kafka.consumer:type=consumer-coordinator-metrics,client-id=";
const GROUP_MBEAN = /GroupMetadataManager|group-coordinator-metrics|consumer-coordinator-metrics|request=(FindCoordinator|JoinGroup|SyncGroup|Heartbeat|LeaveGroup|OffsetCommit|OffsetFetch)\b/;

const cache = new Map<string, Run>();
function runOf(name: string): Run {
  if (!cache.has(name)) cache.set(name, run(scenarioFile(name)));
  return cache.get(name)!;
}

function mbeans(event: TraceEvent): MBeans {
  return event.mbeans as MBeans;
}

function samples(events: readonly TraceEvent[], node: string): TraceEvent[] {
  return events.filter((e) => e.kind === "metrics" && e.node === node);
}

/**
 * The groups each broker caches, replayed from the trace: group-state sets a group's state on its coordinator
 * (Dead: dropped, as Kafka removes a Dead group from the cache), group-coordinator-unloaded drops them, a crash
 * forgets everything. Returns the per-state counts on `node` just before `t`.
 */
function cachedStates(events: readonly TraceEvent[], node: string, t: number): Map<string, string> {
  const groups = new Map<string, string>();
  for (const e of events) {
    if (e.t >= t) break;
    if (e.node !== node) continue;
    if (e.kind === "host-crash" || e.kind === "host-power-loss" || e.kind === "host-start") groups.clear();
    else if (e.kind === "group-coordinator-unloaded") for (const g of e.groups as string[]) groups.delete(g);
    else if (e.kind === "group-state") {
      if (e.state === "Dead") groups.delete(e.group as string);
      else groups.set(e.group as string, e.state as string);
    }
  }
  return groups;
}

function count(states: Map<string, string>, state: string): number {
  return [...states.values()].filter((s) => s === state).length;
}

describe("consumer-group JMX metrics in the trace", function () {
  this.timeout(300_000);

  it("NumGroupsStable / PreparingRebalance / CompletingRebalance on every broker agree with its group-state events (rebalances, then a coordinator failover)", () => {
    for (const name of ["group-eager-rebalance", "group-coordinator-failover"]) {
      const { events } = runOf(name);
      const brokers = [...new Set(events.filter((e) => e.kind === "metrics" && /^broker-/.test(e.node)).map((e) => e.node))];
      let stableSeen = 0;
      for (const node of brokers) {
        for (const sample of samples(events, node)) {
          const m = mbeans(sample);
          if (m[`${GMM}NumGroups`] === undefined) continue;
          // A group event at the very instant of the sample may be on either side of it.
          if (events.some((e) => e.t === sample.t && e.node === node && e.kind.startsWith("group-"))) continue;
          const states = cachedStates(events, node, sample.t);
          const at = `${name} ${node} at ${sample.t / 1e6}s`;
          expect(m[`${GMM}NumGroupsStable`].Value, at).to.equal(count(states, "Stable"));
          expect(m[`${GMM}NumGroupsPreparingRebalance`].Value, at).to.equal(count(states, "PreparingRebalance"));
          expect(m[`${GMM}NumGroupsCompletingRebalance`].Value, at).to.equal(count(states, "CompletingRebalance"));
          expect(m[`${GMM}NumGroupsDead`].Value, at).to.equal(0);
          expect(m[`${GMM}NumGroups`].Value, at).to.be.at.least(states.size);
          stableSeen += m[`${GMM}NumGroupsStable`].Value as number;
        }
      }
      expect(stableSeen, `${name}: some sample shows the group Stable`).to.be.greaterThan(0);
    }
  });

  it("NumGroupsStable is 1 on the coordinator at the first sample after the group went Stable", () => {
    const { events } = runOf("group-commit-after-process");
    const stable = events.find((e) => e.kind === "group-state" && e.state === "Stable")!;
    const next = events.find((e) => e.kind === "group-state" && e.t > stable.t);
    const sample = samples(events, stable.node).find((e) => e.t > stable.t)!;
    expect(next === undefined || next.t > sample.t, "still Stable at the sample").to.equal(true);
    expect(mbeans(sample)[`${GMM}NumGroupsStable`].Value).to.equal(1);
    expect(mbeans(sample)[`${GMM}NumGroups`].Value).to.equal(1);
    const before = samples(events, stable.node).filter((e) => e.t < events.find((g) => g.kind === "group-state")!.t);
    for (const e of before) expect(mbeans(e)[`${GMM}NumGroupsStable`]?.Value ?? 0).to.equal(0);
  });

  it("offset-commit-count counts the offsets the coordinator committed; NumOffsets the partitions with a committed offset", () => {
    const { events } = runOf("group-commit-after-process");
    const committed = events.filter((e) => e.kind === "group-offsets-committed");
    const coordinator = committed[0].node;
    const last = samples(events, coordinator).at(-1)!;
    const offsets = committed.filter((e) => e.node === coordinator && e.t < last.t).reduce((n, e) => n + (e.offsets as unknown[]).length, 0);
    expect(offsets).to.be.greaterThan(0);
    expect(mbeans(last)[GCM]["offset-commit-count"]).to.equal(offsets);
    // Six partitions of t, each committed at least once.
    expect(mbeans(last)[`${GMM}NumOffsets`].Value).to.equal(6);
    expect(mbeans(last)[GCM]["group-completed-rebalance-count"]).to.equal(events.filter((e) => e.kind === "group-state" && e.node === coordinator && e.state === "Stable" && e.t < last.t).length);
  });

  it("partition-load-time shows on the new coordinator after a failover", () => {
    const { events } = runOf("group-coordinator-failover");
    const loaded = events.find((e) => e.kind === "group-coordinator-loaded" && (e.groups as number) > 0)!;
    const sample = samples(events, loaded.node).find((e) => e.t > loaded.t)!;
    expect(mbeans(sample)[GCM]["partition-load-time-max"]).to.be.a("number");
  });

  it("rebalance-total counts the consumer's completed rebalances and commit-total its answered commits", () => {
    const { events } = runOf("group-commit-after-process");
    for (const client of ["c1", "c2"]) {
      // The first incarnation's last sample (c1 crashes at 20 s).
      const crash = events.find((e) => e.kind === "host-crash" && e.node === client)?.t ?? Infinity;
      const own = samples(events, client).filter((e) => e.t < crash);
      expect(own.length, client).to.be.greaterThan(0);
      const last = own.at(-1)!;
      const m = mbeans(last)[`${CCM}${client}`];
      const mine = (e: TraceEvent) => e.process === client && e.t < last.t;
      const joined = events.filter((e) => e.kind === "consumer-group-joined" && mine(e)).length;
      expect(joined, client).to.be.greaterThan(0);
      expect(m["rebalance-total"], `${client} rebalance-total`).to.equal(joined);
      // Every commit of this calm scenario is answered once: commit-total = the commits acknowledged.
      const ok = events.filter((e) => e.kind === "op" && e.f === "commit" && e.type === "ok" && mine(e)).length;
      expect(ok, client).to.be.greaterThan(0);
      expect(m["commit-total"], `${client} commit-total`).to.equal(ok);
      expect(m["join-total"]).to.be.at.least(m["rebalance-total"] as number);
      expect(m["assigned-partitions"]).to.be.greaterThan(0);
    }
  });

  it("rebalance-total of the surviving consumers rises with each rebalance of the group", () => {
    const { events } = runOf("group-eager-rebalance");
    for (const client of ["c1", "c3"]) {
      const totals = samples(events, client).map((e) => mbeans(e)[`${CCM}${client}`]["rebalance-total"] as number);
      for (let k = 1; k < totals.length; k++) expect(totals[k], client).to.be.at.least(totals[k - 1]);
      expect(totals.at(-1), client).to.be.greaterThan(1);
    }
  });

  it("the group requests' RequestsPerSec appear on the brokers that handled them, with the era's version tag", () => {
    const { events } = runOf("group-commit-after-process");
    const coordinator = events.find((e) => e.kind === "group-offsets-committed")!.node;
    const m = mbeans(samples(events, coordinator).at(-1)!);
    for (const request of ["JoinGroup", "SyncGroup", "Heartbeat", "OffsetCommit", "OffsetFetch"]) {
      expect(m, request).to.have.property(`kafka.network:type=RequestMetrics,name=RequestsPerSec,request=${request},version=${{ JoinGroup: 9, SyncGroup: 5, Heartbeat: 4, OffsetCommit: 8, OffsetFetch: 8 }[request]}`);
    }
  });

  it("a broker that never hosted a __consumer_offsets replica reports no coordinator MBean", () => {
    const spec = withCluster(scenarioFile("group-commit-after-process"), { config: { "offsets.topic.num.partitions": 1, "offsets.topic.replication.factor": 1 } });
    const { events } = run(spec);
    const hosts = new Set(events.filter((e) => e.kind === "group-coordinator-loading").map((e) => e.node));
    expect(hosts.size).to.equal(1);
    for (const node of ["broker-1", "broker-2", "broker-3"]) {
      const keys = new Set(samples(events, node).flatMap((e) => Object.keys(mbeans(e))));
      expect(keys.has(`${GMM}NumGroups`), node).to.equal(hosts.has(node));
      expect(keys.has(GCM), node).to.equal(hosts.has(node));
    }
  });

  it("runs without groups have no group MBean (brokers, producers, the assign() consumer)", () => {
    for (const name of ["happy-path", "leader-failover"]) {
      const { events } = run(scenarioFile(name));
      const keys = new Set(events.filter((e) => e.kind === "metrics").flatMap((e) => Object.keys(mbeans(e))));
      expect(keys.size, name).to.be.greaterThan(0);
      expect([...keys].filter((k) => GROUP_MBEAN.test(k)), name).to.deep.equal([]);
    }
  });
});
