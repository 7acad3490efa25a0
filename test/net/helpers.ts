import { World } from "../../src/sim/world.ts";
import type { Host, HostDisk, Message, Process, ProcessContext } from "../../src/sim/host.ts";
import { Network, type NetworkConfig } from "../../src/net/network.ts";

export const diskStub: HostDisk = { onCrash() {}, onPowerLoss() {} };

export interface TestMessage extends Message {
  readonly seq: number;
  /** Kernel time at send. */
  readonly sentAt: number;
}

export interface Received {
  t: number;
  from: string;
  to: string;
  type: string;
  seq: number;
  sentAt: number;
  incarnation: number;
}

export interface Net {
  world: World;
  net: Network;
  hosts: Map<string, Host>;
  log: Received[];
  /** TCP resets the recorder processes were told of (Process.onConnectionRefused): time, node, peer. */
  refused: { t: number; node: string; peer: string }[];
  /** Sends from `from` to `to` now (through the host's context, as model code does). */
  send(from: string, to: string, seq?: number, sizeBytes?: number): void;
  /** Runs `action` at absolute virtual time `t`. */
  at(t: number, action: () => void): void;
  run(untilUs?: number): void;
  addHost(name: string): Host;
}

/** A world with a network and started recorder hosts. */
export function makeNet(names: string[], config: NetworkConfig, seed: number | string = 1): Net {
  const world = new World(seed);
  const net = new Network(world, config);
  const log: Received[] = [];
  const refused: { t: number; node: string; peer: string }[] = [];
  const hosts = new Map<string, Host>();
  let nextSeq = 0;

  const recorder = (context: ProcessContext): Process => ({
    onStart() {},
    onTimer() {},
    onMessage(from: string, message: Message) {
      const m = message as TestMessage;
      log.push({
        t: world.kernel.now,
        from,
        to: context.node,
        type: m.type,
        seq: m.seq,
        sentAt: m.sentAt,
        incarnation: context.incarnation,
      });
    },
    onConnectionRefused(peer: string) {
      refused.push({ t: world.kernel.now, node: context.node, peer });
    },
  });

  const addHost = (name: string): Host => {
    const host = world.addHost(name, diskStub, recorder);
    hosts.set(name, host);
    host.start();
    return host;
  };
  for (const name of names) addHost(name);

  const driver = { handleEvent: (_kind: number, a: unknown) => (a as () => void)() };

  return {
    world,
    net,
    hosts,
    log,
    refused,
    addHost,
    send(from, to, seq, sizeBytes) {
      const message: TestMessage = {
        type: "Ping",
        seq: seq ?? nextSeq++,
        sentAt: world.kernel.now,
        ...(sizeBytes === undefined ? {} : { sizeBytes }),
      };
      const context = hosts.get(from)!.context;
      if (context === null) throw new Error(`${from} is down`);
      context.send(to, message);
    },
    at(t, action) {
      world.kernel.at(t, driver, 0, action);
    },
    run(untilUs = world.kernel.now + 1_000_000_000) {
      const verdict = world.kernel.run({ untilUs, maxEvents: 10_000_000 });
      if (verdict.reason === "model-error") throw verdict.error;
    },
  };
}

/** Deliveries from `from` to `to`, in delivery order. */
export function between(log: Received[], from: string, to: string): Received[] {
  return log.filter((r) => r.from === from && r.to === to);
}
