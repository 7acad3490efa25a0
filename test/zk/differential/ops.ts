/**
 * The differential test's vocabulary, shared by every ZooKeeper under test (a real ZooKeeper through
 * node-zookeeper-client, the DataTree model, and the simulated ensemble through the simulated client): the
 * operations (DiffOp), the normalised results (DiffResult) that must agree exactly, the adapter interface
 * (ZkUnderTest) and a fast-check generator of operation sequences.
 *
 * Conventions every adapter follows:
 * - Paths in ops and results are relative to a fresh root znode the adapter creates (persistent, by session A)
 *   before the first op: "/" is that root, "/a" is root + "/a". Runs never collide and see an empty tree.
 * - Two sessions: A (opened first; does every read and holds every watch) and B (opened when an op first needs
 *   it; "closeSession" closes B — its ephemerals are deleted — and the next B op opens a new session B).
 * - Each result carries the watch events session A received from the start of the op until its result, in
 *   order. After an op of session B, and after closeSession, the adapter makes sure every event the op caused
 *   has reached A (the real adapter does a round trip on A) before the next op.
 * - A path that the client library rejects before sending (ZooKeeper's PathUtils: empty segments, "." or ".."
 *   segments, a trailing "/" except as a sequential prefix) gives code BADARGUMENTS.
 * - A multi's code is its first non-OK sub-result (the server's reply header says OK; the Java client throws
 *   that first error).
 * - zxids in stats are named after the op whose transaction has that zxid: "op3"; "root" for the run root's
 *   creation, "init" for anything older.
 * - Events of closeSession are sorted (ZooKeeper deletes a closed session's ephemerals in hash-set order; the
 *   set of events does not depend on that order).
 */

import fc from "fast-check";
import { ZK_CODES, type ZkCode, type ZkWatchEventType, type ZkWriteOp } from "../../../src/protocol/zk.ts";

export type SessionName = "A" | "B";

export type DiffOp =
  | { op: "create"; session: SessionName; path: string; data: string; ephemeral: boolean; sequential: boolean }
  | { op: "delete"; session: SessionName; path: string; version: number }
  | { op: "setData"; session: SessionName; path: string; data: string; version: number }
  | { op: "getData"; path: string; watch: boolean }
  | { op: "exists"; path: string; watch: boolean }
  | { op: "getChildren"; path: string; watch: boolean }
  | { op: "multi"; session: SessionName; ops: ZkWriteOp[] }
  | { op: "closeSession" };

/** The deterministic fields of a Stat. */
export interface DiffStat {
  version: number;
  cversion: number;
  aversion: number;
  numChildren: number;
  dataLength: number;
  /** "" for a persistent node, else the owning session's name. */
  ephemeralOwner: string;
  czxid: string;
  mzxid: string;
  pzxid: string;
}

export interface DiffEvent {
  event: ZkWatchEventType;
  path: string;
}

export interface DiffOpResult {
  code: ZkCode;
  path?: string;
  stat?: DiffStat;
}

export interface DiffResult {
  code: ZkCode;
  /** create: the created path. */
  path?: string;
  /** getData. */
  data?: string;
  /** getChildren: sorted. */
  children?: string[];
  /** getData, exists (null: no such node), getChildren, setData. */
  stat?: DiffStat | null;
  /** multi. */
  results?: DiffOpResult[];
  /** Watch events session A received during this op. */
  events: DiffEvent[];
}

export interface ZkUnderTest {
  /** Runs the ops in order from a fresh root and returns one result per op. */
  run(ops: DiffOp[]): Promise<DiffResult[]>;
  /** Releases whatever the adapter holds (connections). */
  close?(): Promise<void>;
}

// ---- helpers for adapters ----

const CODE_NAMES = new Map<number, ZkCode>(Object.entries(ZK_CODES).map(([name, code]) => [code, name as ZkCode]));

/** A ZooKeeper error number as our ZkCode name. */
export function codeName(code: number): ZkCode {
  const name = CODE_NAMES.get(code);
  if (!name) throw new Error(`unknown ZooKeeper error code ${code}`);
  return name;
}

/** Names zxids after the op whose transaction has them. */
export class ZxidLabels {
  private readonly labels = new Map<string, string>();
  private rootZxid: bigint | null = null;

  root(zxid: bigint | number): void {
    this.rootZxid = BigInt(zxid);
    this.labels.set(String(zxid), "root");
  }

  set(zxid: bigint | number, label: string): void {
    this.labels.set(String(zxid), label);
  }

  label(zxid: bigint | number): string {
    const known = this.labels.get(String(zxid));
    if (known) return known;
    if (this.rootZxid !== null && BigInt(zxid) < this.rootZxid) return "init";
    return `?${String(zxid)}`;
  }
}

/** Paths under a run root. */
export class RunRoot {
  constructor(readonly root: string) {}

  abs(path: string): string {
    return path === "/" ? this.root : this.root + path;
  }

  rel(path: string): string {
    if (path === this.root) return "/";
    if (path.startsWith(this.root + "/")) return path.slice(this.root.length);
    return `<outside>${path}`;
  }
}

/** Sorts a closeSession's events (see the conventions above). */
export function sortEvents(events: DiffEvent[]): DiffEvent[] {
  const key = (e: DiffEvent) => `${e.path} ${e.event}`;
  return [...events].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** The first non-OK code of a multi's sub-results. */
export function multiCode(results: DiffOpResult[]): ZkCode {
  return results.find((r) => r.code !== "OK")?.code ?? "OK";
}

// ---- printing ----

export function formatOp(op: DiffOp): string {
  switch (op.op) {
    case "create":
      return (
        `${op.session}: create ${op.path} ${JSON.stringify(op.data)}` +
        `${op.ephemeral ? " ephemeral" : ""}${op.sequential ? " sequential" : ""}`
      );
    case "delete":
      return `${op.session}: delete ${op.path} v${op.version}`;
    case "setData":
      return `${op.session}: setData ${op.path} ${JSON.stringify(op.data)} v${op.version}`;
    case "getData":
    case "exists":
    case "getChildren":
      return `A: ${op.op} ${op.path}${op.watch ? " watch" : ""}`;
    case "multi":
      return `${op.session}: multi [${op.ops.map(formatSubOp).join("; ")}]`;
    case "closeSession":
      return "B: closeSession";
  }
}

function formatSubOp(op: ZkWriteOp): string {
  return op.op === "check" ? `check ${op.path} v${op.version}` : formatOp({ ...op, session: "A" }).slice(3);
}

export function formatOps(ops: DiffOp[]): string {
  return ops.map((op, i) => `  ${String(i).padStart(2)}  ${formatOp(op)}`).join("\n");
}

// ---- generator ----

const SEGMENTS = fc.constantFrom("a", "a", "a", "a", "b", "b", "b", "c", "s0000000000", "s0000000001", "0000000000");

/**
 * A valid relative path from a small alphabet, mostly one or two levels deep, so that nodes get reused and
 * both successes and every kind of error are frequent.
 */
export const validPath: fc.Arbitrary<string> = fc
  .oneof(
    { weight: 6, arbitrary: fc.tuple(SEGMENTS) },
    { weight: 4, arbitrary: fc.tuple(SEGMENTS, SEGMENTS) },
    { weight: 1, arbitrary: fc.tuple(SEGMENTS, SEGMENTS, SEGMENTS) },
  )
  .map((segments) => "/" + segments.join("/"));

/** Paths the client rejects (for single ops only). */
const invalidPath = fc.constantFrom("/a/", "/a//b", "/a/.", "/a/../b", "/./a", "//a");

/**
 * A run's universe: a few valid paths and all their ancestors. Most ops pick their paths from it, so that
 * nodes get created, read, watched, changed and deleted within one run.
 */
const universe: fc.Arbitrary<string[]> = fc.uniqueArray(validPath, { minLength: 1, maxLength: 3 }).map((paths) => {
  const all = new Set<string>();
  for (const p of paths) {
    const segments = p.split("/").slice(1);
    for (let i = 1; i <= segments.length; i++) all.add("/" + segments.slice(0, i).join("/"));
  }
  return [...all].sort();
});

const data = fc.constantFrom("", "x", "hello", "é", "日本語");
const version = fc.constantFrom(-1, -1, -1, -1, -1, 0, 0, 0, 1, 1, 2);
const session = fc.constantFrom<SessionName>("A", "A", "A", "B", "B");

/** The ops of one run over a universe of paths. */
function opsOver(paths: string[]): fc.Arbitrary<DiffOp> {
  const known = fc.constantFrom(...paths);
  const valid = fc.oneof({ weight: 6, arbitrary: known }, { weight: 1, arbitrary: validPath });
  const any = fc.oneof(
    { weight: 20, arbitrary: valid },
    { weight: 1, arbitrary: fc.constant("/") },
    { weight: 1, arbitrary: invalidPath },
  );
  // A sequential create's prefix: "/a/s" gives "/a/s0000000000", "/a/" gives "/a/0000000000" (never "/" alone,
  // which would create a sibling of the run root).
  const sequentialPrefix = fc.oneof(
    { weight: 3, arbitrary: valid.map((p) => p.replace(/\/[^/]*$/, "/s")) },
    { weight: 2, arbitrary: valid.map((p) => p + "/") },
  );
  const createTarget = fc.oneof(
    { weight: 7, arbitrary: any.map((path) => ({ path, sequential: false })) },
    { weight: 3, arbitrary: sequentialPrefix.map((path) => ({ path, sequential: true })) },
  );
  const subCreateTarget = fc.oneof(
    { weight: 7, arbitrary: valid.map((path) => ({ path, sequential: false })) },
    { weight: 3, arbitrary: sequentialPrefix.map((path) => ({ path, sequential: true })) },
  );
  const subVersion = fc.constantFrom(-1, -1, -1, 0, 1);
  const subOp: fc.Arbitrary<ZkWriteOp> = fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .tuple(subCreateTarget, data, fc.boolean(), fc.boolean())
        .map(
          ([{ path, sequential }, d, e1, e2]): ZkWriteOp => ({
            op: "create",
            path,
            data: d,
            ephemeral: e1 && e2,
            sequential,
          }),
        ),
    },
    {
      weight: 3,
      arbitrary: fc.tuple(known, subVersion).map(([path, v]): ZkWriteOp => ({ op: "delete", path, version: v })),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(known, data, subVersion)
        .map(([path, d, v]): ZkWriteOp => ({ op: "setData", path, data: d, version: v })),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(known, subVersion).map(([path, v]): ZkWriteOp => ({ op: "check", path, version: v })),
    },
  );
  return fc.oneof(
    {
      weight: 28,
      arbitrary: fc.tuple(session, createTarget, data, fc.boolean(), fc.boolean()).map(
        ([s, { path, sequential }, d, e1, e2]): DiffOp => ({
          op: "create",
          session: s,
          path,
          data: d,
          // ephemeral: half of session B's creates, a quarter of A's
          ephemeral: s === "B" ? e1 : e1 && e2,
          sequential,
        }),
      ),
    },
    {
      weight: 15,
      arbitrary: fc
        .tuple(session, any, version)
        .map(([s, path, v]): DiffOp => ({ op: "delete", session: s, path, version: v })),
    },
    {
      weight: 15,
      arbitrary: fc
        .tuple(session, any, data, version)
        .map(([s, path, d, v]): DiffOp => ({ op: "setData", session: s, path, data: d, version: v })),
    },
    {
      weight: 26,
      arbitrary: fc
        .tuple(fc.constantFrom("getData", "exists", "getChildren"), any, fc.boolean(), fc.boolean())
        .map(([op, path, w1, w2]): DiffOp => ({ op: op as "getData", path, watch: w1 || w2 })),
    },
    {
      weight: 14,
      arbitrary: fc
        .tuple(session, fc.array(subOp, { minLength: 0, maxLength: 4 }))
        .map(([s, ops]): DiffOp => ({ op: "multi", session: s, ops })),
    },
    { weight: 4, arbitrary: fc.constant<DiffOp>({ op: "closeSession" }) },
  );
}

/**
 * Sequences of up to `maxLength` ops over a random universe of paths: first creates of some of the universe's
 * paths (parents first), then random ops.
 */
export function diffOps(maxLength = 30): fc.Arbitrary<DiffOp[]> {
  const setupCreate = (path: string): DiffOp => ({
    op: "create",
    session: "A",
    path,
    data: "x",
    ephemeral: false,
    sequential: false,
  });
  return universe.chain((paths) =>
    fc
      .tuple(
        fc.subarray(paths, { maxLength: Math.min(paths.length, 4) }),
        fc.array(opsOver(paths), { minLength: Math.min(15, maxLength), maxLength, size: "max" }),
      )
      .map(([setup, rest]) => [...setup.map(setupCreate), ...rest].slice(0, maxLength)),
  );
}
