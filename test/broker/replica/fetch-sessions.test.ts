import { expect } from "chai";
import { FetchSessionHandler } from "../../../src/broker/replica/fetch-session-handler.ts";
import { CachedPartition, FetchSessionCache } from "../../../src/broker/replica/fetch-session.ts";
import { brokerHost, INITIAL_EPOCH, INVALID_SESSION_ID, type FetchRequest, type FetchResponse } from "../../../src/protocol/kafka.ts";
import { Rng } from "../../../src/sim/rng.ts";
import { ReplicaCluster, TOPIC } from "./harness.ts";

/**
 * KIP-227 incremental fetch sessions for replica fetchers (compat.fetchSessions; Kafka's FetchSession.scala,
 * FetchSessionHandler.java): full then incremental fetches, only changed partitions carried each way, the two
 * session errors and the follower's recovery, a leader restart, and the switch off.
 */

/**
 * A 2-broker cluster with t-0 and t-1 led by broker 1, broker 2 following; records every Fetch broker 1 gets from
 * broker 2 and every FetchResponse broker 2 gets.
 */
function started(fetchSessions: boolean, config: Record<string, number> = {}) {
  const cluster = new ReplicaCluster({ brokers: 2, compat: { fetchSessions }, config });
  const requests: FetchRequest[] = [];
  const responses: FetchResponse[] = [];
  const watch = () => {
    const leader = cluster.broker(1).replicaManager;
    const handleFetch = leader.handleFetch.bind(leader);
    leader.handleFetch = (from, request) => {
      if (from === brokerHost(2)) requests.push(request);
      handleFetch(from, request);
    };
    const follower = cluster.broker(2).replicaManager;
    const onResponse = follower.onResponse.bind(follower);
    follower.onResponse = (from, response, connection) => {
      if (response.type === "FetchResponse") responses.push(response);
      onResponse(from, response, connection);
    };
  };
  watch();
  cluster.updateMetadata();
  cluster.runFor(20);
  cluster.leaderAndIsr({ leader: 1, leaderEpoch: 1, isr: [1, 2], partition: 0 });
  cluster.leaderAndIsr({ leader: 1, leaderEpoch: 1, isr: [1, 2], partition: 1 });
  // t-1 joins the fetcher while its first fetch waits at the leader (replica.fetch.wait.max.ms).
  cluster.runFor(1500);
  return { cluster, requests, responses, watch };
}

const names = (request: FetchRequest | FetchResponse) => request.partitions.map((p) => `${p.topic}-${p.partition}`);

function produce(cluster: ReplicaCluster, value: string, partition = 0): void {
  const id = cluster.producer.produce(1, value, -1, 30_000, partition);
  expect(cluster.runUntil(() => cluster.producer.responses.has(id), 5000)).to.equal(true);
  expect(cluster.producer.error(id)).to.equal("NONE");
}

function leaderCache(cluster: ReplicaCluster): FetchSessionCache {
  return cluster.broker(1).replicaManager.fetchManager!.cache;
}

describe("KIP-227 fetch sessions (compat.fetchSessions)", () => {
  it("the follower's first fetch is full and creates a session; the next ones are incremental, epoch by epoch", () => {
    const { requests, responses } = started(true);
    // The partitions reach the fetcher one LeaderAndIsr at a time: the first full fetch names t-0 only.
    expect(requests[0].sessionId).to.equal(INVALID_SESSION_ID);
    expect(requests[0].sessionEpoch).to.equal(INITIAL_EPOCH);
    const sessionId = responses[0].sessionId!;
    expect(sessionId).to.be.greaterThan(0);
    const later = requests.slice(1);
    expect(later.length).to.be.greaterThan(1);
    expect(later.map((r) => r.sessionId)).to.deep.equal(later.map(() => sessionId));
    expect(later.map((r) => r.sessionEpoch)).to.deep.equal(later.map((_, i) => i + 1));
    // t-1 joined the session in an incremental fetch (added), not in a new full one.
    expect(later.some((r) => names(r).includes(`${TOPIC}-1`))).to.equal(true);
  });

  it("an idle incremental fetch carries no partition; the leader answers none until something changes", () => {
    const { cluster, requests, responses } = started(true);
    const before = requests.length;
    cluster.runFor(3000);
    const idle = requests.slice(before);
    expect(idle.length).to.be.greaterThan(2);
    expect(idle.map((r) => r.partitions.length)).to.deep.equal(idle.map(() => 0));
    expect(responses.slice(-2).map((r) => r.partitions.length)).to.deep.equal([0, 0]);
    // Smaller on the wire than a full fetch of both partitions.
    expect(idle[0].sizeBytes).to.be.lessThan(64 + 32 * 2);
  });

  it("only the partition with records is carried: the request names its new fetch offset, the response its records", () => {
    const { cluster, requests, responses } = started(true);
    cluster.runFor(1000);
    const beforeRequests = requests.length;
    const beforeResponses = responses.length;
    produce(cluster, "a", 1);
    cluster.runFor(1000);
    const withData = responses.slice(beforeResponses).filter((r) => r.partitions.length > 0);
    expect(withData.map(names)).to.deep.include([`${TOPIC}-1`]);
    for (const response of withData) expect(names(response)).to.not.include(`${TOPIC}-0`);
    const carried = requests.slice(beforeRequests).filter((r) => r.partitions.length > 0);
    expect(carried.map(names)).to.deep.include([`${TOPIC}-1`]);
    for (const request of carried) expect(names(request)).to.not.include(`${TOPIC}-0`);
    expect(cluster.broker(2).replicaManager.partition(TOPIC, 1)!.log.logEndOffset).to.equal(1);
  });

  it("FETCH_SESSION_ID_NOT_FOUND: the follower's next fetch is full without a session id, and replication goes on", () => {
    const { cluster, requests, responses } = started(true);
    const cache = leaderCache(cluster);
    const sessionId = responses[0].sessionId!;
    expect(cache.remove(sessionId)).to.not.equal(undefined);
    const before = requests.length;
    cluster.runFor(1500);
    const errorAt = responses.findIndex((r) => r.error === "FETCH_SESSION_ID_NOT_FOUND");
    expect(errorAt).to.be.greaterThan(-1);
    const after = requests.slice(before);
    const full = after.find((r) => r.sessionEpoch === INITIAL_EPOCH)!;
    expect(full.sessionId).to.equal(INVALID_SESSION_ID);
    expect(names(full).sort()).to.deep.equal([`${TOPIC}-0`, `${TOPIC}-1`]);
    expect(cache.size).to.equal(1);
    expect(cluster.eventsOf("fetch-session-error", "broker-2").map((e) => e.error)).to.deep.equal(["FETCH_SESSION_ID_NOT_FOUND"]);
    produce(cluster, "b");
    expect(cluster.runUntil(() => cluster.broker(2).replicaManager.partition(TOPIC, 0)!.log.logEndOffset === 1, 2000)).to.equal(true);
  });

  it("INVALID_FETCH_SESSION_EPOCH: the follower's next fetch is full and names the session, which the leader closes", () => {
    const { cluster, requests, responses } = started(true);
    const cache = leaderCache(cluster);
    const sessionId = responses[0].sessionId!;
    cache.get(sessionId)!.epoch += 5;
    const before = requests.length;
    cluster.runFor(1500);
    expect(responses.some((r) => r.error === "INVALID_FETCH_SESSION_EPOCH")).to.equal(true);
    const full = requests.slice(before).find((r) => r.sessionEpoch === INITIAL_EPOCH)!;
    expect(full.sessionId).to.equal(sessionId);
    expect(cache.get(sessionId)).to.equal(undefined);
    expect(cache.size).to.equal(1);
    produce(cluster, "c");
    expect(cluster.runUntil(() => cluster.broker(2).replicaManager.partition(TOPIC, 0)!.log.logEndOffset === 1, 2000)).to.equal(true);
  });

  it("a leader restart forgets every session (the cache is in memory): the follower starts over with a full fetch", () => {
    const { cluster, requests, watch } = started(true);
    expect(leaderCache(cluster).size).to.equal(1);
    cluster.world.host(brokerHost(1)).crash();
    cluster.runFor(100);
    cluster.world.host(brokerHost(1)).start();
    cluster.runFor(50);
    watch();
    expect(leaderCache(cluster).size).to.equal(0);
    const before = requests.length;
    cluster.updateMetadata();
    cluster.leaderAndIsr({ leader: 1, leaderEpoch: 2, isr: [1, 2], partition: 0 });
    cluster.leaderAndIsr({ leader: 1, leaderEpoch: 2, isr: [1, 2], partition: 1 });
    cluster.runFor(3000);
    const after = requests.slice(before);
    expect(after.length).to.be.greaterThan(0);
    // The reset connection closed the session on the follower's side (handleError): full, naming the old session.
    expect(after[0].sessionEpoch).to.equal(INITIAL_EPOCH);
    expect(after.slice(1).every((r) => r.sessionEpoch! > 0)).to.equal(true);
    expect(leaderCache(cluster).size).to.equal(1);
  });

  it("off (presets 0.10.2 and 0.11): every Fetch names and every response answers every partition, with no session fields", () => {
    const { cluster, requests, responses } = started(false);
    cluster.runFor(2000);
    const steady = requests.slice(-5);
    for (const request of steady) {
      expect(request.sessionEpoch).to.equal(undefined);
      expect(names(request)).to.deep.equal([`${TOPIC}-0`, `${TOPIC}-1`]);
      expect(request.sizeBytes).to.equal(64 + 32 * 2);
    }
    for (const response of responses.slice(-5)) {
      expect(response.sessionId).to.equal(undefined);
      expect(names(response)).to.deep.equal([`${TOPIC}-0`, `${TOPIC}-1`]);
    }
    expect(cluster.broker(1).replicaManager.fetchManager).to.equal(null);
  });

  it("a partition that backs off is forgotten, and a session left empty is closed by the leader", () => {
    const { cluster, requests } = started(true);
    // Both partitions leave broker 2's fetcher (broker 2 becomes their leader at a new epoch, unknown to broker 1).
    cluster.leaderAndIsr({ leader: 2, leaderEpoch: 2, isr: [2], partition: 0 }, [2]);
    cluster.leaderAndIsr({ leader: 2, leaderEpoch: 2, isr: [2], partition: 1 }, [2]);
    const before = requests.length;
    cluster.runFor(1000);
    const forgetting = requests.slice(before).find((r) => (r.forgottenPartitions?.length ?? 0) > 0);
    // The fetcher is shut down once idle: either it forgot both in a last fetch, or it just stopped.
    if (forgetting !== undefined) {
      expect(forgetting.partitions).to.deep.equal([]);
      expect(leaderCache(cluster).size).to.equal(0);
    } else {
      expect(cluster.broker(2).replicaManager.fetchState(TOPIC, 0)).to.equal(undefined);
    }
  });
});

describe("FetchSessionHandler (the follower's builder)", () => {
  const add = (handler: FetchSessionHandler, partition: number, fetchOffset: number) => handler.add(`t-${partition}`, "t", partition, fetchOffset, 0, 100, 1);
  const response = (sessionId: number, partitions: number[], error: FetchResponse["error"] = "NONE"): FetchResponse => ({
    type: "FetchResponse",
    correlationId: 1,
    error,
    sessionId,
    partitions: partitions.map((p) => ({ topic: "t", partition: p, error: "NONE", highWatermark: 0, lastStableOffset: 0, logStartOffset: 0, batches: [] })),
  });

  it("sends added partitions first, then the altered ones in session order, and forgets those not added", () => {
    const handler = new FetchSessionHandler();
    for (const p of [0, 1, 2]) add(handler, p, 10);
    const full = handler.build();
    expect([full.sessionId, full.epoch, full.toSend.length]).to.deep.equal([INVALID_SESSION_ID, INITIAL_EPOCH, 3]);
    expect(handler.handleResponse(response(7, [0, 1, 2]))).to.equal(true);
    add(handler, 2, 11); // altered
    add(handler, 3, 0); // added
    add(handler, 0, 10); // unchanged
    // t-1 not added: forgotten.
    const next = handler.build();
    expect([next.sessionId, next.epoch]).to.deep.equal([7, 1]);
    expect(next.toSend.map((p) => p.partition)).to.deep.equal([3, 2]);
    expect(next.toForget).to.deep.equal([{ topic: "t", partition: 1 }]);
    expect(handler.handleResponse(response(7, [2]))).to.equal(true);
    expect(handler.epoch).to.equal(2);
  });

  it("sends several altered partitions in session order, build after build (the altered list is reused)", () => {
    const handler = new FetchSessionHandler();
    for (const p of [0, 1, 2]) add(handler, p, 10);
    handler.build();
    expect(handler.handleResponse(response(7, [0, 1, 2]))).to.equal(true);
    const alter = (offsets: number[]): number[] => {
      offsets.forEach((offset, p) => add(handler, p, offset));
      const built = handler.build();
      expect(handler.handleResponse(response(7, built.toSend.map((x) => x.partition)))).to.equal(true);
      return built.toSend.map((x) => x.partition);
    };
    expect(alter([11, 11, 11])).to.deep.equal([0, 1, 2]);
    expect(alter([12, 11, 12])).to.deep.equal([0, 2]);
    expect(alter([12, 12, 12])).to.deep.equal([1]);
    expect(alter([12, 12, 12])).to.deep.equal([]);
  });

  it("handleError and INVALID_FETCH_SESSION_EPOCH close the session; FETCH_SESSION_ID_NOT_FOUND starts without one", () => {
    const handler = new FetchSessionHandler();
    add(handler, 0, 0);
    handler.build();
    handler.handleResponse(response(7, [0]));
    handler.handleError();
    expect([handler.sessionId, handler.epoch]).to.deep.equal([7, INITIAL_EPOCH]);
    handler.build();
    // A full response must answer exactly the session's partitions (none now): this one has an extra.
    expect(handler.handleResponse(response(8, [0]))).to.equal(false);
    expect([handler.sessionId, handler.epoch]).to.deep.equal([INVALID_SESSION_ID, INITIAL_EPOCH]);
    add(handler, 0, 0);
    handler.build();
    handler.handleResponse(response(9, [0]));
    add(handler, 0, 0);
    handler.build();
    expect(handler.handleResponse(response(9, [], "INVALID_FETCH_SESSION_EPOCH"))).to.equal(false);
    expect([handler.sessionId, handler.epoch]).to.deep.equal([9, INITIAL_EPOCH]);
    expect(handler.handleResponse(response(0, [], "FETCH_SESSION_ID_NOT_FOUND"))).to.equal(false);
    expect([handler.sessionId, handler.epoch]).to.deep.equal([INVALID_SESSION_ID, INITIAL_EPOCH]);
  });
});

describe("FetchSessionCache (eviction)", () => {
  const partitions = (n: number) => () => new Map(Array.from({ length: n }, (_, i) => [`t-${i}`, new CachedPartition("t", i, `t-${i}`, 0, 0, 0, 100, -1)]));

  it("is full at max.incremental.fetch.session.cache.slots: a consumer's session cannot evict a young follower's", () => {
    const cache = new FetchSessionCache(1, new Rng("test"));
    const follower = cache.maybeCreateSession(0, true, 2, partitions(2));
    expect(follower).to.not.equal(INVALID_SESSION_ID);
    expect(cache.maybeCreateSession(1000, false, 5, partitions(5))).to.equal(INVALID_SESSION_ID);
    expect(cache.get(follower)).to.not.equal(undefined);
  });

  it("a session unused for more than 120 s is evicted by any new one", () => {
    const cache = new FetchSessionCache(1, new Rng("test"));
    const old = cache.maybeCreateSession(0, true, 2, partitions(2));
    const fresh = cache.maybeCreateSession(120_001, false, 1, partitions(1));
    expect(fresh).to.not.equal(INVALID_SESSION_ID);
    expect(cache.get(old)).to.equal(undefined);
    expect(cache.evictions).to.equal(1);
  });

  it("a follower's session evicts a consumer's smaller or equal one, not a larger follower's", () => {
    const cache = new FetchSessionCache(1, new Rng("test"));
    const consumer = cache.maybeCreateSession(0, false, 3, partitions(3));
    const follower = cache.maybeCreateSession(10, true, 1, partitions(1));
    expect(follower).to.not.equal(INVALID_SESSION_ID);
    expect(cache.get(consumer)).to.equal(undefined);
    expect(cache.maybeCreateSession(20, true, 5, partitions(5))).to.equal(INVALID_SESSION_ID);
  });
});
