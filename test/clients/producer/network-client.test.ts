import { expect } from "chai";
import fc from "fast-check";
import { NetworkClient, type RequestFailure } from "../../../src/clients/producer/network-client.ts";
import type { Message, ProcessContext } from "../../../src/sim/host.ts";
import { Rng } from "../../../src/sim/rng.ts";

/**
 * NetworkClient's requests in flight, matched in their node's queue (no Map by correlation id): a response
 * answers only the request of that id sent to that node, a timeout's data is its request, and the counts agree
 * with a model through sends, responses, timeouts, disconnects and close.
 */

interface Harness {
  client: NetworkClient;
  timers: Map<number, unknown>;
  outcomes: string[];
}

function harness(): Harness {
  const timers = new Map<number, unknown>();
  let nextTimer = 0;
  const context = {
    send: () => undefined,
    setTimer: (_delay: number, _tag: string, data?: unknown) => {
      timers.set(++nextTimer, data);
      return nextTimer;
    },
    cancelTimer: (id: number) => timers.delete(id),
    now: () => 0,
    tracing: false,
    trace: () => undefined,
  } as unknown as ProcessContext;
  const client = new NetworkClient(context, 30_000, 50, 5, new Rng("network-client"), () => undefined);
  return { client, timers, outcomes: [] };
}

function send(h: Harness, host: string, correlationId: number): void {
  h.client.send(host, { type: "Produce", correlationId } as unknown as Message & { correlationId: number }, {
    onResponse: () => h.outcomes.push(`ok ${correlationId}`),
    onFailure: (error: RequestFailure) => h.outcomes.push(`${error} ${correlationId}`),
  });
}

describe("NetworkClient in-flight requests", () => {
  it("answers a request only from the node it was sent to, once", () => {
    const h = harness();
    send(h, "broker-1", 1);
    send(h, "broker-2", 2);
    expect(h.client.onResponse("broker-2", { type: "ProduceResponse", correlationId: 1 } as never)).to.equal(false);
    expect(h.client.onResponse("broker-1", { type: "ProduceResponse", correlationId: 1 } as never)).to.equal(true);
    expect(h.client.onResponse("broker-1", { type: "ProduceResponse", correlationId: 1 } as never)).to.equal(false);
    expect(h.outcomes).to.deep.equal(["ok 1"]);
    expect(h.client.inFlightRequestCount).to.equal(1);
  });

  it("keeps its counts and outcomes equal to a model of per-node queues", () => {
    const hosts = ["broker-1", "broker-2", "broker-3"];
    const step = fc.oneof(
      fc.record({ kind: fc.constant("send" as const), host: fc.nat({ max: 2 }) }),
      fc.record({ kind: fc.constant("respond" as const), host: fc.nat({ max: 2 }), which: fc.nat() }),
      fc.record({ kind: fc.constant("timeout" as const), which: fc.nat() }),
      fc.record({ kind: fc.constant("disconnect" as const), host: fc.nat({ max: 2 }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), fc.boolean(), (steps, closeAtEnd) => {
        const h = harness();
        const model = new Map<string, number[]>(hosts.map((host) => [host, []]));
        const expected: string[] = [];
        let nextId = 1;
        const total = () => [...model.values()].reduce((sum, queue) => sum + queue.length, 0);
        for (const each of steps) {
          if (each.kind === "send") {
            const id = nextId++;
            send(h, hosts[each.host], id);
            model.get(hosts[each.host])!.push(id);
          } else if (each.kind === "respond") {
            // Any id so far, sent to this node or not: only a request in flight to this node is answered.
            const id = nextId === 1 ? 1 : 1 + (each.which % (nextId - 1));
            const queue = model.get(hosts[each.host])!;
            const at = queue.indexOf(id);
            expect(h.client.onResponse(hosts[each.host], { type: "ProduceResponse", correlationId: id } as never)).to.equal(at >= 0);
            if (at >= 0) {
              queue.splice(at, 1);
              expected.push(`ok ${id}`);
            }
          } else if (each.kind === "timeout") {
            const pending = [...h.timers.values()];
            if (pending.length === 0) continue;
            const request = pending[each.which % pending.length] as { host: string };
            h.client.onRequestTimeout(request);
            for (const id of model.get(request.host)!.splice(0)) expected.push(`REQUEST_TIMED_OUT ${id}`);
          } else {
            h.client.disconnect(hosts[each.host], "NETWORK_EXCEPTION");
            for (const id of model.get(hosts[each.host])!.splice(0)) expected.push(`NETWORK_EXCEPTION ${id}`);
          }
          expect(h.client.inFlightRequestCount).to.equal(total());
          expect(h.client.hasInFlight).to.equal(total() > 0);
          for (const host of hosts) expect(h.client.inFlightCount(host)).to.equal(model.get(host)!.length);
          expect(h.timers.size).to.equal(total());
        }
        expect(h.outcomes).to.deep.equal(expected);
        if (closeAtEnd) {
          h.client.close();
          expect([h.client.inFlightRequestCount, h.timers.size]).to.deep.equal([0, 0]);
        }
      }),
    );
  });
});

describe("NetworkClient.latestReconnectAtUs", () => {
  it("is never before any node's reconnect time, through disconnects at any times (the Sender skips the nodes before it)", () => {
    const hosts = ["broker-1", "broker-2", "broker-3"];
    fc.assert(
      fc.property(fc.array(fc.record({ host: fc.nat({ max: 2 }), advanceUs: fc.nat({ max: 3_000_000 }) }), { maxLength: 30 }), (steps) => {
        let nowUs = 0;
        const context = { send: () => undefined, setTimer: () => 0, cancelTimer: () => undefined, now: () => nowUs, tracing: false, trace: () => undefined } as unknown as ProcessContext;
        // Exponential backoff with jitter (50 ms up to 1 s): later disconnects may end sooner than earlier ones.
        const client = new NetworkClient(context, 30_000, 50, 5, new Rng("n"), () => undefined, 1, 1000, new Rng("jitter"));
        for (const s of steps) {
          nowUs += s.advanceUs;
          client.disconnect(hosts[s.host], "NETWORK_EXCEPTION");
          const latest = Math.max(...hosts.map((h) => client.reconnectAt(h) ?? Number.NEGATIVE_INFINITY));
          expect(client.latestReconnectAtUs).to.be.at.least(latest);
        }
      }),
    );
  });
});
