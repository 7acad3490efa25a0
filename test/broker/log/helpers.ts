// Shared rig for the storage tests: a world with a no-op transport, one broker host with its Disk, and a tiny
// process that owns a LogManager (startup on start, timers routed to it, clean shutdown on shutdown).
// Not a test file itself (mocha loads only *.test.ts).
import { Disk, type DiskConfig } from "../../../src/disk/disk.ts";
import type { LogConfig } from "../../../src/broker/log/config.ts";
import { LogManager, type LogManagerOptions } from "../../../src/broker/log/log-manager.ts";
import type { Log } from "../../../src/broker/log/log.ts";
import { lastOffset, makeBatch, type RecordBatch } from "../../../src/broker/log/records.ts";
import type { Host, Process, ProcessContext } from "../../../src/sim/host.ts";
import type { TraceEvent } from "../../../src/sim/trace.ts";
import { World } from "../../../src/sim/world.ts";

export interface BrokerRig {
  world: World;
  disk: Disk;
  host: Host<Disk>;
  /** The current incarnation's log manager. */
  manager(): LogManager;
  /** The current incarnation's context. */
  context(): ProcessContext<Disk>;
  /** Trace events seen so far (when traced). */
  events: TraceEvent[];
}

export interface RigOptions extends LogManagerOptions {
  seed?: number | string;
  disk?: Partial<DiskConfig>;
  trace?: boolean;
}

export function makeBroker(options: RigOptions = {}): BrokerRig {
  const world = new World(options.seed ?? 1);
  world.setTransport({ send() {} });
  const events: TraceEvent[] = [];
  if (options.trace === true) world.trace.observe((event) => events.push(event));
  const disk = new Disk(world, "broker-1", options.disk ?? {});
  let current: LogManager | null = null;
  let currentContext: ProcessContext<Disk> | null = null;
  const host = world.addHost("broker-1", disk, (context): Process => {
    const manager = new LogManager(context, options);
    current = manager;
    currentContext = context;
    return {
      onStart: () => manager.startup(),
      onTimer: (tag, data) => {
        if (!manager.onTimer(tag, data)) throw new Error(`unrouted timer ${tag}`);
      },
      onMessage() {},
      onShutdown: () => manager.shutdown(),
    };
  });
  host.start();
  return {
    world,
    disk,
    host,
    manager: () => current!,
    context: () => currentContext!,
    events,
  };
}

/** Runs the kernel up to `untilUs` (absolute), bounded. */
export function runUntil(world: World, untilUs: number): void {
  const verdict = world.kernel.run({ untilUs, maxEvents: 1_000_000 });
  if (verdict.reason === "model-error") throw verdict.error;
}

/** Runs for `ms` more milliseconds of virtual time. */
export function runFor(world: World, ms: number): void {
  runUntil(world, world.now + Math.round(ms * 1000));
}

/** A batch of `count` records with values `${prefix}-${i}`, keys optional, all at `timestamp`. */
export function batchOf(count: number, prefix = "v", timestamp = 0, key?: (i: number) => string | null): RecordBatch {
  const records = [];
  for (let i = 0; i < count; i++) records.push({ key: key === undefined ? null : key(i), value: `${prefix}-${i}`, timestamp });
  return makeBatch({ baseOffset: 0, partitionLeaderEpoch: -1, records });
}

/** The values the log holds from its start to its end, read through Log.read (the page cache). */
export function readValues(log: Log, maxOffset = log.logEndOffset): (string | null)[] {
  const values: (string | null)[] = [];
  let offset = log.logStartOffset;
  for (let guard = 0; offset < maxOffset && guard < 100_000; guard++) {
    const read = log.read(offset, 1 << 20, maxOffset);
    if (read.error !== null) throw new Error(`read at ${offset}: ${read.error}`);
    if (read.batches.length === 0) break;
    for (const batch of read.batches) {
      for (const record of batch.records) {
        if (batch.baseOffset + record.offsetDelta >= offset) values.push(record.value);
      }
      offset = lastOffset(batch) + 1;
    }
  }
  return values;
}

/** The (offset, value) pairs of the log, read through Log.read. */
export function readOffsets(log: Log): [number, string | null][] {
  const out: [number, string | null][] = [];
  let offset = log.logStartOffset;
  for (let guard = 0; offset < log.logEndOffset && guard < 100_000; guard++) {
    const read = log.read(offset, 1 << 20);
    if (read.error !== null) throw new Error(`read at ${offset}: ${read.error}`);
    if (read.batches.length === 0) break;
    for (const batch of read.batches) {
      for (const record of batch.records) {
        const at = batch.baseOffset + record.offsetDelta;
        if (at >= offset) out.push([at, record.value]);
      }
      offset = lastOffset(batch) + 1;
    }
  }
  return out;
}

/** Small segments so tests roll: a handful of batches per segment. */
export const SMALL_SEGMENTS: Partial<LogConfig> = { "segment.bytes": 400, "index.interval.bytes": 100 };
