/**
 * What-if, without the DOM: edits of a scenario's fault list (add, move, delete), the branch tree the edits make
 * (each edit of a run is a new branch under it, with the run's verdict once it ran), the comparison of two runs
 * (violations, the first trace line where they part, each replica's log end), and the scenario as a URL fragment
 * (deflate-raw + base64url, so a teacher can hand out an edited scenario as a link). Pure: documents are plain
 * JSON values and every edit returns a new one.
 */

/** A scenario document as a file holds it (validated only when it runs). */
export type ScenarioDocument = Record<string, unknown>;
export type FaultDocument = Record<string, unknown>;

/** The faults the what-if panel adds: the node faults of the scenario format, and a two-sided partition. */
export const WHATIF_FAULT_TYPES = ["crash", "power-loss", "pause", "partition", "restart"] as const;
export type WhatIfFaultType = (typeof WHATIF_FAULT_TYPES)[number];

export function faultsOf(document: ScenarioDocument): FaultDocument[] {
  return Array.isArray(document.faults) ? (document.faults as FaultDocument[]) : [];
}

/** A fault's start in ms: a number of ms, a duration string ("5s", "250ms", "2m", "4123456us"), or a range's start. */
export function faultAtMs(fault: FaultDocument): number | null {
  const at = Array.isArray(fault.at) ? fault.at[0] : fault.at;
  return durationMs(at);
}

export function durationMs(value: unknown): number | null {
  if (typeof value === "number") return value;
  if (typeof value !== "string") return null;
  const match = /^(\d+(?:\.\d+)?)(us|ms|s|m|h)$/.exec(value.trim());
  if (match === null) return null;
  const unit = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as "us" | "ms" | "s" | "m" | "h"];
  return Number(match[1]) * unit;
}

/** "5s", "1250ms": whole milliseconds, in seconds when exact. */
export function formatMs(ms: number): string {
  const whole = Math.max(0, Math.round(ms));
  return whole % 1000 === 0 ? `${whole / 1000}s` : `${whole}ms`;
}

/** The same document with fault `index` starting at `atMs` (a range becomes that one time). */
export function moveFault(document: ScenarioDocument, index: number, atMs: number): ScenarioDocument {
  const faults = faultsOf(document).map((fault, i) => (i === index ? { ...fault, at: formatMs(atMs) } : fault));
  return { ...document, faults };
}

export function deleteFault(document: ScenarioDocument, index: number): ScenarioDocument {
  return { ...document, faults: faultsOf(document).filter((_, i) => i !== index) };
}

/**
 * A fault of `type` on `node` at `atMs`, lasting `forMs` (crash, power loss: then the node restarts; pause: it
 * resumes; partition: `node` is cut off from every other node, or from `peer` only). A restart is instant.
 */
export function newFault(type: WhatIfFaultType, node: string, atMs: number, forMs: number, peer?: string): FaultDocument {
  const at = formatMs(atMs);
  const note = `Added in the what-if panel: ${type} of ${node}${peer !== undefined ? ` and ${peer}` : ""} at ${at}.`;
  switch (type) {
    case "restart":
      return { at, type, node, note };
    case "partition":
      return { at, type, groups: peer !== undefined ? [[node], [peer]] : [[node], "rest"], for: formatMs(forMs), note };
    case "power-loss":
      return { at, type, node, for: formatMs(forMs), note };
    default:
      return { at, type, node, for: formatMs(forMs), note };
  }
}

/** Faults sorted by start time (stable), as the scenario's list reads best. */
export function addFault(document: ScenarioDocument, fault: FaultDocument): ScenarioDocument {
  const faults = [...faultsOf(document), fault];
  const keyed = faults.map((item, i) => ({ item, i, at: faultAtMs(item) ?? Infinity }));
  keyed.sort((a, b) => a.at - b.at || a.i - b.i);
  return { ...document, faults: keyed.map((entry) => entry.item) };
}

/** One line for a fault: "5s crash broker-1 (for 3s)". */
export function describeFault(fault: FaultDocument): string {
  const at = Array.isArray(fault.at) ? `${String(fault.at[0])}–${String(fault.at[1])}` : String(fault.at);
  const target = fault.node ?? fault.nodes ?? fault.groups ?? (fault.from !== undefined ? `${JSON.stringify(fault.from)} → ${JSON.stringify(fault.to)}` : "");
  const what = typeof target === "string" ? target : JSON.stringify(target);
  const span = fault.for !== undefined ? ` for ${String(fault.for)}` : fault.until !== undefined ? ` until ${String(fault.until)}` : "";
  return `${at} ${String(fault.type)} ${what}${span}`.replace(/\s+/g, " ").trim();
}

/** A run's outcome, as the branch tree shows it. */
export interface BranchResult {
  verdict: string;
  expectationMet: boolean;
  violations: string[];
  traceHash: string;
}

export interface Branch {
  id: number;
  parent: number | null;
  /** What the edit was ("moved the crash of broker-2 to 14s"); the root's is "original". */
  label: string;
  document: ScenarioDocument;
  seed: number | string | undefined;
  result: BranchResult | null;
  /** The trace's lines once it ran (kept for comparison; the viewer shows one branch at a time). */
  trace: string | null;
}

/** The branches of one what-if session: a tree rooted at the original scenario. */
export class BranchTree {
  readonly branches: Branch[] = [];

  constructor(document: ScenarioDocument, seed: number | string | undefined) {
    this.branches.push({ id: 0, parent: null, label: "original", document, seed, result: null, trace: null });
  }

  get(id: number): Branch {
    const branch = this.branches[id];
    if (branch === undefined) throw new RangeError(`no branch ${id}`);
    return branch;
  }

  /** A new branch under `parent` for an edited document. */
  branch(parent: number, label: string, document: ScenarioDocument, seed = this.get(parent).seed): Branch {
    const branch: Branch = { id: this.branches.length, parent, label, document, seed, result: null, trace: null };
    this.branches.push(branch);
    return branch;
  }

  children(id: number): Branch[] {
    return this.branches.filter((branch) => branch.parent === id);
  }

  /** Depth-first, children in creation order: [branch, depth] for drawing the tree. */
  walk(): [Branch, number][] {
    const out: [Branch, number][] = [];
    const visit = (branch: Branch, depth: number): void => {
      out.push([branch, depth]);
      for (const child of this.children(branch.id)) visit(child, depth + 1);
    };
    visit(this.branches[0], 0);
    return out;
  }
}

/** The first trace line (1-based, the header is line 1) where two runs part, or null when identical. */
export function firstDivergingLine(a: string, b: string): { line: number; left: string | null; right: string | null } | null {
  const left = a.split("\n");
  const right = b.split("\n");
  // Line 1 is the header (it names the scenario, which an edit may keep): compare from the first event.
  for (let i = 1; i < Math.max(left.length, right.length); i++) {
    if (left[i] !== right[i]) return { line: i + 1, left: left[i] ?? null, right: right[i] ?? null };
  }
  return null;
}

/** Violation names with counts, for a side-by-side table: name → [left count, right count]. */
export function violationCounts(left: readonly string[], right: readonly string[]): Map<string, [number, number]> {
  const counts = new Map<string, [number, number]>();
  for (const name of left) counts.set(name, [(counts.get(name)?.[0] ?? 0) + 1, counts.get(name)?.[1] ?? 0]);
  for (const name of right) counts.set(name, [counts.get(name)?.[0] ?? 0, (counts.get(name)?.[1] ?? 0) + 1]);
  return counts;
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

async function pipe(bytes: Uint8Array<ArrayBuffer>, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const output = new Blob([bytes]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(output).arrayBuffer());
}

/** The scenario (and seed) as a URL fragment value: deflate-raw of its JSON, base64url. */
export async function encodeScenario(document: ScenarioDocument, seed?: number | string): Promise<string> {
  const json = JSON.stringify(seed === undefined ? document : { ...document, seed });
  return toBase64Url(await pipe(new TextEncoder().encode(json), new CompressionStream("deflate-raw")));
}

/** The document encodeScenario wrote; throws on a value that is not one. */
export async function decodeScenario(text: string): Promise<ScenarioDocument> {
  const json = new TextDecoder().decode(await pipe(fromBase64Url(text), new DecompressionStream("deflate-raw")));
  const value: unknown = JSON.parse(json);
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new TypeError("not a scenario document");
  return value as ScenarioDocument;
}
