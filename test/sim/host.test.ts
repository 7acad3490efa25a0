import { expect } from "chai";
import { World } from "../../src/sim/world.ts";
import type { HostDisk, Message, Process, ProcessContext } from "../../src/sim/host.ts";
import { MemorySink, parseTrace } from "../../src/sim/trace.ts";

const diskStub = { crashes: 0, powerLosses: 0, onCrash() { this.crashes++; }, onPowerLoss() { this.powerLosses++; } };

function makeWorld(): { world: World; log: string[]; inbox: Map<string, ProcessContext> } {
  const world = new World(1);
  const inbox = new Map<string, ProcessContext>();
  world.setTransport({
    send(from, to, message) {
      const context = inbox.get(to);
      // Immediate loopback transport: enough to test the host's lifecycle.
      world.kernel.after(1, { handleEvent: () => context?.deliver(from.name, message) }, 0);
    },
  });
  return { world, log: [], inbox };
}

/** A process that arms a tick timer every 10 µs and logs timers and messages with its incarnation. */
function ticker(log: string[], inbox: Map<string, ProcessContext>) {
  return <D extends HostDisk>(context: ProcessContext<D>): Process => ({
    onStart() {
      inbox.set(context.node, context);
      log.push(`${context.host.kernel.now}:start#${context.incarnation}`);
      context.setTimer(10, "tick", 0);
    },
    onTimer(tag, data) {
      log.push(`${context.host.kernel.now}:${tag}${String(data)}#${context.incarnation}`);
      context.setTimer(10, "tick", (data as number) + 1);
    },
    onMessage(from: string, message: Message) {
      log.push(`${context.host.kernel.now}:${message.type}<-${from}#${context.incarnation}`);
    },
  });
}

describe("Host lifecycle", () => {
  it("crash cancels every pending timer of the incarnation; restart rebuilds a new process", () => {
    const { world, log, inbox } = makeWorld();
    const host = world.addHost("n1", diskStub, ticker(log, inbox));
    host.start();
    world.kernel.run({ untilUs: 25, maxEvents: 100 });
    host.crash();
    expect(host.state).to.equal("crashed");
    world.kernel.run({ untilUs: 100, maxEvents: 100 });
    expect(log).to.deep.equal(["0:start#1", "10:tick0#1", "20:tick1#1"]);
    host.start();
    world.kernel.run({ untilUs: 115, maxEvents: 100 });
    expect(log.slice(3)).to.deep.equal(["100:start#2", "110:tick0#2"]);
  });

  it("pause handles nothing, then replays timers and messages in arrival order with stale state", () => {
    const { world, log, inbox } = makeWorld();
    const host = world.addHost("n1", diskStub, ticker(log, inbox));
    const peer = world.addHost("n2", diskStub, () => ({ onStart() {}, onTimer() {}, onMessage() {} }));
    host.start();
    peer.start();
    world.kernel.run({ untilUs: 12, maxEvents: 100 });
    host.pause(50); // until t=62
    world.kernel.run({ untilUs: 30, maxEvents: 100 });
    peer.context!.send("n1", { type: "Ping" }); // arrives at 31, while paused
    world.kernel.run({ untilUs: 61, maxEvents: 100 });
    expect(log).to.deep.equal(["0:start#1", "10:tick0#1"]);
    world.kernel.run({ untilUs: 80, maxEvents: 100 });
    // tick1 was due at 20, the Ping arrived at 31: both run at 62, in that order; then ticking resumes.
    expect(log.slice(2)).to.deep.equal(["62:tick1#1", "62:Ping<-n2#1", "72:tick2#1"]);
  });

  it("a crash during a pause drops the backlog", () => {
    const { world, log, inbox } = makeWorld();
    const host = world.addHost("n1", diskStub, ticker(log, inbox));
    host.start();
    host.pause(1_000);
    world.kernel.run({ untilUs: 500, maxEvents: 100 });
    host.crash();
    world.kernel.run({ untilUs: 2_000, maxEvents: 100 });
    expect(log).to.deep.equal(["0:start#1"]);
    expect(host.state).to.equal("crashed");
  });

  it("exit() stops the process cleanly after the current event (System.exit: the shutdown hook runs), and restart starts it", () => {
    const { world, log, inbox } = makeWorld();
    const shutdowns: number[] = [];
    const host = world.addHost("n1", diskStub, (context) => {
      const base = ticker(log, inbox)(context);
      return {
        ...base,
        onTimer(tag, data) {
          base.onTimer(tag, data);
          if (data === 1 && context.incarnation === 1) {
            context.exit();
            log.push("after-exit");
          }
        },
        onShutdown() {
          shutdowns.push(context.incarnation);
        },
      };
    });
    host.start();
    world.kernel.run({ untilUs: 100, maxEvents: 100 });
    // The handler that asked to exit finishes; then the hook runs and the host is stopped: no tick 2.
    expect(log).to.deep.equal(["0:start#1", "10:tick0#1", "20:tick1#1", "after-exit"]);
    expect(shutdowns).to.deep.equal([1]);
    expect(host.state).to.equal("stopped");
    host.start();
    world.kernel.run({ untilUs: 115, maxEvents: 100 });
    expect(log.slice(4)).to.deep.equal(["100:start#2", "110:tick0#2"]);
  });

  it("exit() of an incarnation that crashed first does nothing", () => {
    const { world, log, inbox } = makeWorld();
    const host = world.addHost("n1", diskStub, ticker(log, inbox));
    host.start();
    const context = host.context!;
    context.exit();
    host.crash();
    host.start();
    world.kernel.run({ untilUs: 15, maxEvents: 100 });
    expect(host.state).to.equal("running");
    expect(host.incarnation).to.equal(2);
  });

  it("power loss reaches the disk; crash reaches it as a crash", () => {
    const { world, log, inbox } = makeWorld();
    const disk = { ...diskStub, crashes: 0, powerLosses: 0 };
    const host = world.addHost("n1", disk, ticker(log, inbox));
    host.start();
    host.crash();
    host.start();
    host.powerLoss();
    expect(disk.crashes).to.equal(1);
    expect(disk.powerLosses).to.equal(1);
    expect(host.state).to.equal("powered-off");
  });

  it("clock skew shifts the local clock and drift stretches local timers", () => {
    const { world } = makeWorld();
    let context: ProcessContext<HostDisk> | null = null;
    const fired: number[] = [];
    const host = world.addHost("n1", diskStub, (c) => {
      context = c;
      return { onStart() {}, onMessage() {}, onTimer: () => fired.push(world.now) };
    });
    host.start();
    host.clock.skew(world.now, 5_000, 0);
    expect(context!.now()).to.equal(5_000);
    host.clock.skew(world.now, 0, 1_000_000); // local clock runs twice as fast
    context!.setTimer(1_000, "t");
    world.kernel.run({ untilUs: 10_000, maxEvents: 10 });
    expect(fired).to.deep.equal([500]);
    expect(context!.now()).to.equal(5_000 + 2 * 10_000);
  });
});

describe("Trace", () => {
  it("writes DESIGN.md's JSON Lines with a header, and hashes event lines deterministically", () => {
    const run = () => {
      const { world, log, inbox } = makeWorld();
      const sink = new MemorySink();
      world.trace.addSink(sink).enableHash();
      world.trace.writeHeader({ format: "kafkasim-trace", formatVersion: 1, kafkasim: "test", scenario: "s", seed: 1, nodes: ["n1"] });
      world.addHost("n1", diskStub, ticker(log, inbox)).start();
      world.kernel.run({ untilUs: 35, maxEvents: 100 });
      world.trace.emit("n1", "custom", { value: 3 });
      return { sink, hash: world.trace.hash() };
    };
    const a = run();
    const b = run();
    expect(a.hash).to.match(/^[0-9a-f]{16}$/);
    expect(a.hash).to.equal(b.hash);
    const { header, events } = parseTrace(a.sink.lines.join("\n"));
    expect(header.scenario).to.equal("s");
    expect(events.map((e) => e.kind)).to.deep.equal(["host-start", "custom"]);
    expect(events[1]).to.deep.equal({ t: 35, seq: 1, node: "n1", kind: "custom", value: 3 });
  });

  it("costs nothing when off: observers receive objects, and on stays false without consumers", () => {
    const { world } = makeWorld();
    expect(world.trace.on).to.equal(false);
    world.trace.emit("x", "ignored");
    expect(world.trace.count).to.equal(0);
    const seen: string[] = [];
    world.trace.observe((event) => seen.push(`${event.node}/${event.kind}`));
    world.trace.emit("x", "seen", { a: 1 });
    expect(seen).to.deep.equal(["x/seen"]);
  });
});

describe("LocalClock", () => {
  it("steps the wall clock but never the monotonic one; both drift; reset stops drift without a jump", async () => {
    const { LocalClock } = await import("../../src/sim/host.ts");
    const clock = new LocalClock();
    clock.skew(1_000, 5_000, 100_000); // +5 ms step, 10 % fast
    expect(clock.read(1_000)).to.equal(6_000);
    expect(clock.readMonotonic(1_000)).to.equal(1_000);
    expect(clock.read(11_000)).to.equal(6_000 + 11_000);
    expect(clock.readMonotonic(11_000)).to.equal(1_000 + 11_000);
    clock.skew(11_000, -20_000, 0);
    expect(clock.readMonotonic(12_000)).to.equal(13_000);
    clock.reset(20_000);
    expect(clock.read(20_000)).to.equal(20_000);
    expect(clock.readMonotonic(20_000)).to.equal(21_000);
    expect(clock.readMonotonic(30_000)).to.equal(31_000);
  });
});

describe("Host pause: timers that fire while paused stay cancellable", () => {
  /** A process whose request timer (due at 2000 µs) is cancelled by the response (arriving at 1000 µs). */
  function requester(log: string[], inbox: Map<string, ProcessContext>) {
    return <D extends HostDisk>(context: ProcessContext<D>): Process => {
      let timer = -1;
      return {
        onStart() {
          inbox.set(context.node, context);
          timer = context.setTimer(2000, "request-timeout");
        },
        onTimer(tag) {
          log.push(`${context.host.kernel.now}:${tag}`);
        },
        onMessage(_from: string, message: Message) {
          log.push(`${context.host.kernel.now}:${message.type} cancels ${String(context.cancelTimer(timer))}`);
        },
      };
    };
  }

  it("a response parked before its request's timer fired cancels that timer on resume (as a NetworkClient completes it first)", () => {
    const { world, log, inbox } = makeWorld();
    const host = world.addHost("a", diskStub, requester(log, inbox));
    host.start();
    world.kernel.after(500, { handleEvent: () => host.pause(3000) }, 0);
    world.kernel.after(999, { handleEvent: () => inbox.get("a")!.deliver("b", { type: "Response" }) }, 0);
    world.kernel.run({ maxEvents: 1000, untilUs: 10_000 });
    // The timer fired at 2000 during the pause; the response handled first on resume cancelled it: it never runs.
    expect(log).to.deep.equal(["3500:Response cancels true"]);
  });

  it("without the cancel, the parked timer runs on resume after the parked message", () => {
    const { world, log, inbox } = makeWorld();
    const host = world.addHost("a", diskStub, (context) => ({
      onStart() {
        inbox.set(context.node, context);
        context.setTimer(2000, "request-timeout");
      },
      onTimer(tag) {
        log.push(`${context.host.kernel.now}:${tag}`);
      },
      onMessage(_from: string, message: Message) {
        log.push(`${context.host.kernel.now}:${message.type}`);
      },
    }));
    host.start();
    world.kernel.after(500, { handleEvent: () => host.pause(3000) }, 0);
    world.kernel.after(999, { handleEvent: () => inbox.get("a")!.deliver("b", { type: "Response" }) }, 0);
    world.kernel.run({ maxEvents: 1000, untilUs: 10_000 });
    expect(log).to.deep.equal(["3500:Response", "3500:request-timeout"]);
  });
});

describe("Host pause: parked events across a crash and a second pause", () => {
  it("a timer parked, replayed into a second pause, stays cancellable", () => {
    const { world, log, inbox } = makeWorld();
    let timer = -1;
    let context: ProcessContext | null = null;
    const host = world.addHost("a", diskStub, (c) => ({
      onStart() {
        context = c;
        inbox.set(c.node, c);
        timer = c.setTimer(1000, "request-timeout");
      },
      onTimer(tag) {
        log.push(`${c.host.kernel.now}:${tag}`);
      },
      onMessage() {},
    }));
    host.start();
    world.kernel.after(500, {
      handleEvent: () => {
        host.pause(1000); // the timer fires at 1000, parked
        // The resume at 1500 schedules its replay; this second pause, at the same instant, runs between them.
        world.kernel.after(1000, { handleEvent: () => host.pause(1000) }, 0);
      },
    }, 0);
    world.kernel.after(2000, { handleEvent: () => log.push(`cancel ${String(context!.cancelTimer(timer))}`) }, 0);
    world.kernel.run({ maxEvents: 1000, untilUs: 10_000 });
    expect(log).to.deep.equal(["cancel true"]);
  });

  it("replays scheduled before a crash do not run in the next incarnation", () => {
    const { world, log, inbox } = makeWorld();
    const host = world.addHost("a", diskStub, (c) => ({
      onStart() {
        inbox.set(c.node, c);
        if (c.incarnation === 1) c.setTimer(1000, "old");
      },
      onTimer(tag) {
        log.push(`${c.host.kernel.now}:${tag}#${c.incarnation}`);
      },
      onMessage() {},
    }));
    host.start();
    world.kernel.after(500, { handleEvent: () => host.pause(1000) }, 0);
    // The resume at 1500 schedules the replay; a crash and a restart at the same instant come first.
    world.kernel.after(1500, {
      handleEvent: () => {
        host.crash();
        host.start();
      },
    }, 0);
    world.kernel.run({ maxEvents: 1000, untilUs: 10_000 });
    expect(log).to.deep.equal([]);
  });
});
