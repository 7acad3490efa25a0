// Shared rig for the disk tests: a world with a no-op transport, one Disk and one host whose process is a
// small script (hooks for onStart and onTimer). Not a test file itself (mocha loads only *.test.ts).
import { Disk, type DiskConfig } from "../../src/disk/disk.ts";
import type { Host, Process, ProcessContext } from "../../src/sim/host.ts";
import { World } from "../../src/sim/world.ts";

export interface Script {
  onStart?(context: ProcessContext<Disk>): void;
  onTimer?(context: ProcessContext<Disk>, tag: string, data: unknown): void;
}

export interface Rig {
  world: World;
  disk: Disk;
  host: Host<Disk>;
}

export function makeRig(script: Script = {}, config: Partial<DiskConfig> = {}, seed: number | string = 1): Rig {
  const world = new World(seed);
  world.setTransport({ send() {} });
  const disk = new Disk(world, "n1", config);
  const host = world.addHost("n1", disk, (context): Process => ({
    onStart: () => script.onStart?.(context),
    onTimer: (tag, data) => script.onTimer?.(context, tag, data),
    onMessage() {},
  }));
  return { world, disk, host };
}

/** Runs the kernel up to `untilUs` (absolute), bounded. */
export function runUntil(world: World, untilUs: number): void {
  const verdict = world.kernel.run({ untilUs, maxEvents: 100_000 });
  if (verdict.reason === "model-error") throw verdict.error;
}

/** The data of each chunk, with a "~" suffix on damaged ones — compact to compare. */
export function contents(chunks: readonly { data: unknown; damage: string }[]): string[] {
  return chunks.map((chunk) => String(chunk.data) + (chunk.damage === "none" ? "" : "~" + chunk.damage));
}

export function readAll(disk: Disk, name: string): string[] {
  const result = disk.read(name);
  if (result.error !== null) return [result.error];
  return contents(result.chunks);
}
