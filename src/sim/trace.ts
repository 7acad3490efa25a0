/**
 * The run's trace: DESIGN.md's JSON Lines format — a header line, then one event per line
 * `{"t": µs, "seq": n, "node": "...", "kind": "...", ...fields}` in execution order. Lines go to sinks
 * (a file stream supplied by the CLI, an in-memory array, the determinism self-check) and through a running
 * 64-bit hash; observers (checkers, the viewer's live mode) get event objects (the emit site's fields object
 * itself, with t, seq, node and kind added: emit owns it). When nothing consumes the
 * trace, `trace.on` is false and model code skips building events altogether: an untraced run pays nothing;
 * `trace.wants(kind)` lets the hottest call sites skip kinds that only kind-filtered observers could read.
 */

export const TRACE_FORMAT = "kafkasim-trace";
export const TRACE_FORMAT_VERSION = 1;

export interface TraceHeader {
  format: typeof TRACE_FORMAT;
  formatVersion: number;
  kafkasim: string;
  scenario: string;
  seed: number | string;
  nodes: string[];
  [key: string]: unknown;
}

export interface TraceEvent {
  t: number;
  seq: number;
  node: string;
  kind: string;
  [field: string]: unknown;
}

export type TraceFields = Record<string, unknown>;

/**
 * The records of an appended batch as the checkers read them, without arrays: what `Log.traceAppend` puts under
 * TRACE_RECORDS on its log-append fields (the batch itself). A symbol key, so no trace line carries it
 * (JSON.stringify skips symbol keys) and a line is the same with or without it.
 */
export interface TraceRecords {
  readonly baseOffset: number;
  readonly recordCount: number;
  offsetDeltaAt(index: number): number;
  valueAt(index: number): string | null;
}

export const TRACE_RECORDS: unique symbol = Symbol("kafkasim.trace.records");

/** The records an emit site put under TRACE_RECORDS, if any. */
export function traceRecords(fields: TraceFields): TraceRecords | undefined {
  return (fields as { [TRACE_RECORDS]?: TraceRecords })[TRACE_RECORDS];
}

/**
 * One batch of a `log-loaded` event after an unclean shutdown (docs/trace.md): [partitionLeaderEpoch, the records'
 * offsets, their values, the batch's last offset]. Written by the LogManager, read by the checkers and the viewer.
 */
export type LogLoadedBatch = readonly [number, readonly number[], readonly (string | null)[], number];

/** Receives serialized lines (without the trailing newline). */
export interface TraceSink {
  write(line: string): void;
}

export type TraceObserver = (event: TraceEvent) => void;

/**
 * An observer of the emit site's own arguments, before any event object is made: `fields` is the emit site's
 * object as it was (possibly undefined), without t, seq, node or kind. It may keep nothing of `fields` unless it
 * makes it an event first (`traceEvent`), as a TraceObserver would have received it.
 */
export type TraceFieldsObserver = (t: number, seq: number, node: string, kind: string, fields: TraceFields | undefined) => void;

/** Running hash over lines: two 32-bit FNV-1a style lanes with different primes, printed as 16 hex digits. */
export class LineHash {
  private h1 = 0x811c9dc5;
  private h2 = 0x01234567;

  update(line: string): void {
    let h1 = this.h1;
    let h2 = this.h2;
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    }
    // Line separator, so ["ab","c"] and ["a","bc"] differ.
    this.h1 = Math.imul(h1 ^ 0x0a, 0x01000193);
    this.h2 = Math.imul(h2 ^ 0x0a, 0x5bd1e995) ^ (h1 >>> 15);
  }

  digest(): string {
    return (this.h1 >>> 0).toString(16).padStart(8, "0") + (this.h2 >>> 0).toString(16).padStart(8, "0");
  }
}

/** 32-bit hash of one line (for the determinism self-check's per-event comparison). */
export function hashLine(line: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < line.length; i++) h = Math.imul(h ^ line.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class Trace {
  /** True when anything consumes events; model code guards event construction with it. */
  on = false;
  /** Number of events emitted so far (the next event's seq). */
  count = 0;
  private readonly sinks: TraceSink[] = [];
  private readonly observers: TraceObserver[] = [];
  /** Per observer, the same function when it takes the emit's arguments (observeFields), else null. */
  private readonly fieldsObservers: (TraceFieldsObserver | null)[] = [];
  /** Per observer, the kinds it wants (null: every kind), parallel to `observers`. */
  private readonly observerKinds: (ReadonlySet<string> | null)[] = [];
  /** Kinds some kind-filtered observer reads; `wants` answers from it when no sink takes every line. */
  private readonly observedKinds = new Set<string>();
  /** Kinds some kind-filtered observer reads as event objects (`observe`, not `observeFields`). */
  private readonly objectKinds = new Set<string>();
  /** True when every event is consumed: a sink (file, memory, hash) or an observer without a kind filter. */
  private everyKind = false;
  private lineHash: LineHash | null = null;
  private needLines = false;
  private headerLine: string | null = null;

  /** `clock` supplies the current virtual time in µs (the kernel). */
  constructor(private readonly clock: { readonly now: number }) {}

  /** Turns on the running hash of event lines (the header is not hashed: it names the kafkasim version). */
  enableHash(): this {
    this.lineHash = new LineHash();
    this.needLines = true;
    this.everyKind = true;
    this.on = true;
    return this;
  }

  addSink(sink: TraceSink): this {
    this.sinks.push(sink);
    if (this.headerLine !== null) sink.write(this.headerLine);
    this.needLines = true;
    this.everyKind = true;
    this.on = true;
    return this;
  }

  /**
   * Hands every event — or, with `kinds`, only events of those kinds — to `observer` as an object. A kind
   * filter spares the run building event objects nobody reads (the checkers need a few kinds of the many).
   */
  observe(observer: TraceObserver, kinds?: Iterable<string>): this {
    return this.addObserver(observer, null, kinds);
  }

  /**
   * As `observe`, but hands the emit's arguments instead of an event object: the checkers read the hottest kinds
   * (log-append, hwm, op: hundreds of thousands per run) field by field, and adding t, seq, node and kind to the
   * emit site's object changes its hidden class (and grows its property store) on every event.
   */
  observeFields(observer: TraceFieldsObserver, kinds: Iterable<string>): this {
    return this.addObserver(ignoreEvent, observer, kinds);
  }

  private addObserver(observer: TraceObserver, fieldsObserver: TraceFieldsObserver | null, kinds: Iterable<string> | undefined): this {
    this.observers.push(observer);
    this.fieldsObservers.push(fieldsObserver);
    const filter = kinds === undefined ? null : new Set(kinds);
    this.observerKinds.push(filter);
    if (filter === null) this.everyKind = true;
    else for (const kind of filter) {
      this.observedKinds.add(kind);
      if (fieldsObserver === null) this.objectKinds.add(kind);
    }
    this.on = true;
    return this;
  }

  /**
   * Whether an event of `kind` would reach anyone: hot call sites (every send, delivery and replica fetch) ask
   * this instead of `on`, so a run whose only consumers are the checkers builds no fields for kinds they skip.
   */
  wants(kind: string): boolean {
    return this.everyKind || (this.on && this.observedKinds.has(kind));
  }

  /**
   * Whether an event of `kind` reaches a trace line or an event-object observer, which read every field by name.
   * When not, only fields observers (the checkers) read it, and an emit site may leave out the fields they read
   * another way (log-append's `offsets` and `values`: the checkers read its TRACE_RECORDS).
   */
  wantsAllFields(kind: string): boolean {
    return this.everyKind || this.objectKinds.has(kind);
  }

  writeHeader(header: TraceHeader): void {
    this.headerLine = JSON.stringify(header);
    for (const sink of this.sinks) sink.write(this.headerLine);
  }

  /**
   * Records one event at the current virtual time. Callers on hot paths check `trace.on` first. Emit takes
   * ownership of `fields`: a fresh object per call, with no `t`, `seq`, `node` or `kind` key; the observers'
   * event is that object with those four added (after the line is built), so the caller must not reuse it.
   */
  emit(node: string, kind: string, fields?: TraceFields): void {
    if (!this.on) return;
    const t = this.clock.now;
    const seq = this.count++;
    if (this.needLines) {
      let line = `{"t":${t},"seq":${seq},"node":${JSON.stringify(node)},"kind":${JSON.stringify(kind)}`;
      if (fields !== undefined) {
        const rest = JSON.stringify(fields);
        line += rest.length > 2 ? "," + rest.slice(1) : "}";
      } else {
        line += "}";
      }
      if (this.lineHash !== null) this.lineHash.update(line);
      for (let i = 0; i < this.sinks.length; i++) this.sinks[i].write(line);
    }
    let event: TraceEvent | null = null;
    for (let i = 0; i < this.observers.length; i++) {
      const kinds = this.observerKinds[i];
      if (kinds !== null && !kinds.has(kind)) continue;
      const fieldsObserver = this.fieldsObservers[i];
      if (fieldsObserver !== null) {
        fieldsObserver(t, seq, node, kind, fields);
        continue;
      }
      event ??= traceEvent(t, seq, node, kind, fields);
      this.observers[i](event);
    }
  }

  /** The running hash of all event lines so far ("" when hashing is off). */
  hash(): string {
    return this.lineHash === null ? "" : this.lineHash.digest();
  }
}

/**
 * The observers' event: `fields` itself, with t, seq, node and kind added (emit owns it; its line is already
 * built). No copy: the checkers read every log-append, hwm and op event of a run, and a copy per event was a
 * quarter of the trace's cost to them. Added last, so the object's key order is not the line's; observers read
 * fields by name. A fields observer makes the event itself for the kinds it keeps (the same object: adding the
 * four keys again, for a later observer, changes nothing).
 */
export function traceEvent(t: number, seq: number, node: string, kind: string, fields: TraceFields | undefined): TraceEvent {
  if (fields === undefined) return { t, seq, node, kind };
  const event = fields as TraceEvent;
  event.t = t;
  event.seq = seq;
  event.node = node;
  event.kind = kind;
  return event;
}

function ignoreEvent(): void {}

/** Keeps every line in memory (tests, the viewer's what-if runs). */
export class MemorySink implements TraceSink {
  readonly lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
  }
}

/** Parses a JSON Lines trace into its header and events; errors name the line. */
export function parseTrace(text: string): { header: TraceHeader; events: TraceEvent[] } {
  const lines = text.split("\n").filter((line) => line.length > 0);
  if (lines.length === 0) throw new TraceFormatError(1, "expected a header line, found an empty trace");
  const header = parseLine(lines[0], 1) as TraceHeader;
  if (header.format !== TRACE_FORMAT) throw new TraceFormatError(1, `expected "format": "${TRACE_FORMAT}"`);
  const events: TraceEvent[] = [];
  for (let i = 1; i < lines.length; i++) {
    const event = parseLine(lines[i], i + 1) as TraceEvent;
    if (typeof event.t !== "number" || typeof event.seq !== "number" || typeof event.kind !== "string") {
      throw new TraceFormatError(i + 1, 'expected an event with numeric "t", "seq" and a string "kind"');
    }
    events.push(event);
  }
  return { header, events };
}

export class TraceFormatError extends Error {
  constructor(
    readonly line: number,
    readonly detail: string,
  ) {
    super(`line ${line}: ${detail}`);
  }
}

function parseLine(line: string, lineNumber: number): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new TraceFormatError(lineNumber, "expected a JSON object");
    }
    return value as Record<string, unknown>;
  } catch (error) {
    if (error instanceof TraceFormatError) throw error;
    throw new TraceFormatError(lineNumber, "expected a JSON object, found invalid JSON");
  }
}
