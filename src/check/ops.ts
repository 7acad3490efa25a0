/**
 * The client history as the history checkers read it: the producers' "op" events (f "send": invoke / ok /
 * fail / info per value) and the clients' "client-config" events, parsed from the trace. It models no Kafka
 * component. Values are unique per producer (`${process}-${n padded to 6}`, n in the order the workload handed
 * them to the producer), so a value names one write; a value that does not follow that shape is numbered by the
 * order of its first op instead. Values are found by (producer, value number) in per-producer typed tables — a
 * value string is parsed, never hashed, on the per-op path — and by a Map only when they do not have that shape.
 */

import type { TraceEvent, TraceFields } from "../sim/trace.ts";
import { Float64Column, Int32Column, Uint8Column } from "../sim/column.ts";

export type OpType = "invoke" | "ok" | "fail" | "info";

/** One history entry of a producer's write. */
export interface SendOp {
  readonly type: OpType;
  /** Virtual µs. */
  readonly time: number;
  readonly offset?: number;
  readonly error?: string;
  readonly attempts?: number;
}

/** Everything the history says about one value (built on demand, for evidence). */
export interface Write {
  readonly value: string;
  readonly process: string;
  readonly opId: unknown;
  readonly topic: string;
  /** The partition the producer sent it to (-1: never assigned one). */
  readonly partition: number;
  /** The value number n: the order the workload handed values to this producer. */
  readonly n: number;
  readonly ops: SendOp[];
}

const OP_TYPES: readonly OpType[] = ["invoke", "ok", "fail", "info"];

/** Value numbers at or above this are kept in the Map (a table is an array indexed by value number). */
const TABLE_LIMIT = 1 << 22;

/** One process's values `${process}-${digits}`: its table value number → write index (-1: none). */
interface ValueOwner {
  readonly process: string;
  /** `${process}-`. */
  readonly prefix: string;
  /** The process's index in `processNames`. */
  readonly code: number;
  readonly writes: Int32Column;
  /** Values handed so far that do not have the shape (their value numbers: the order of their first op). */
  handed: number;
}

/**
 * The writes of every producer, keyed by value, plus each client's configuration. Stored in columns (a write is
 * an index; its ops a chain through the op columns): every write of the run is kept until the end, and an object
 * per write and per op was most of the history's heap. `write` builds a Write object for evidence.
 *
 * The key is the value, as a string-keyed Map would have it, but found without hashing: a value with the shape
 * `${owner}-${digits}` (at most 9 digits, below TABLE_LIMIT) lives in its owner's table at its value number when
 * that slot was free at its first op and the emitting process was the owner; every other value lives in `other`.
 * A lookup reads the owner's table (checking the slot's value is this one) and then `other` (when not empty).
 */
export class WriteHistory {
  /** process → its table (created at its first op), and the same in creation order. */
  private readonly owners = new Map<string, ValueOwner>();
  private readonly ownerList: ValueOwner[] = [];
  /** The owner the last lookup used (ops and committed logs come in runs of one producer's values). */
  private lastOwner: ValueOwner | null = null;
  /** Values not in a table: value → write index. Usually empty. */
  private readonly other = new Map<string, number>();
  /** Writes a deleted topic took out of the index (they keep their columns; a value seen again is new). */
  private readonly unindexed = new Set<number>();
  /**
   * Per write (by index). A value with its process's shape is `${prefix}${n}` with n written in `digits` digits
   * (leading zeros included), so the history keeps that count, not the string: no string stored per write (a
   * young string in an old array per op was most of an op's cost), and a lookup compares a count. 0: the value
   * has not that shape, and `otherValues` holds it.
   */
  private readonly digits = new Uint8Column();
  /** write index → its value, for the writes whose value has not their process's shape (usually empty). */
  private readonly otherValues = new Map<number, string>();
  private readonly processCodes = new Int32Column();
  private readonly processNames: string[] = [];
  private readonly opIds: unknown[] = [];
  private readonly topicCodes = new Int32Column();
  private readonly topicNames: string[] = [];
  private readonly partitions = new Int32Column();
  private readonly ns = new Float64Column();
  private readonly firstOps = new Int32Column();
  private readonly lastOps = new Int32Column();
  /** Per op (by index): OP_TYPES code, time, offset and attempts (NaN: absent), the next op of its write (-1: none). */
  private readonly opTypes = new Int32Column();
  private readonly opTimes = new Float64Column();
  private readonly opOffsets = new Float64Column();
  private readonly opAttempts = new Float64Column();
  private readonly opNext = new Int32Column();
  /** op index → its error (only failed ops have one). */
  private readonly opErrors = new Map<number, string>();
  /** process → its "client-config" fields (the latest one, if a client restarted). */
  readonly configs = new Map<string, Record<string, unknown>>();

  observe(event: TraceEvent): void {
    if (event.kind === "client-config") {
      const process = typeof event.process === "string" ? event.process : event.node;
      this.configs.set(process, event);
      return;
    }
    if (event.kind === "topic-deleted" && typeof event.topic === "string") {
      this.topicDeleted(event.topic);
      return;
    }
    if (event.kind === "op") this.observeOp(event, event.t, event.node);
  }

  /** An "op" event's fields, emitted at `t` on `node` (the checkers' path: no event object). */
  observeOp(fields: TraceFields, t: number, node: string): void {
    if (fields.f !== "send") return;
    const value = fields.value;
    const topic = fields.topic;
    if (typeof value !== "string" || typeof topic !== "string") return;
    const type = opTypeCode(fields.type);
    if (type < 0) return;
    const process = typeof fields.process === "string" ? fields.process : node;
    const owner = this.ownerNamed(process);
    const n = valueNumberIn(value, owner.prefix);
    const op = this.opTypes.length;
    let i = n >= 0 ? this.findNumbered(value, owner, n) : this.find(value, this.ownerOf(value));
    if (i < 0) {
      i = this.processCodes.length;
      if (n >= 0) this.digits.push(value.length - owner.prefix.length);
      else {
        this.digits.push(0);
        this.otherValues.set(i, value);
      }
      this.processCodes.push(owner.code);
      this.opIds.push(fields.opId);
      this.topicCodes.push(this.topicCode(topic));
      this.partitions.push(-1);
      this.ns.push(n >= 0 ? n : this.valueNumber(owner, value));
      this.firstOps.push(op);
      this.lastOps.push(op);
      if (n >= 0 && n < TABLE_LIMIT && owner.writes.get(n, -1) < 0) owner.writes.put(n, i, -1);
      else this.other.set(value, i);
    } else {
      this.opNext.set(this.lastOps.at(i), op);
      this.lastOps.set(i, op);
    }
    const partition = fields.partition;
    if (typeof partition === "number" && partition >= 0) this.partitions.set(i, partition);
    this.opTypes.push(type);
    this.opTimes.push(t);
    const offset = fields.offset;
    this.opOffsets.push(typeof offset === "number" ? offset : NaN);
    const attempts = fields.attempts;
    this.opAttempts.push(typeof attempts === "number" ? attempts : NaN);
    this.opNext.push(-1);
    if (typeof fields.error === "string") this.opErrors.set(op, fields.error);
  }

  /** How many write indexes there are (indexes run from 0 below it; a deleted topic's stay unused). */
  get size(): number {
    return this.processCodes.length;
  }

  /** The index of the write of `value`, or -1 when the history does not know it. */
  indexOf(value: string): number {
    // The owner of the last lookup first, parsed once (the committed logs hold runs of one producer's values).
    const last = this.lastOwner;
    if (last !== null) {
      const n = valueNumberIn(value, last.prefix);
      if (n >= 0) return this.findNumbered(value, last, n);
    }
    return this.find(value, this.ownerOf(value));
  }

  /** The code of write `i`'s process (one per process name, from 0). */
  processCodeOf(i: number): number {
    return this.processCodes.at(i);
  }

  processOf(i: number): string {
    return this.processNames[this.processCodes.at(i)];
  }

  /** The value number n of write `i`. */
  nOf(i: number): number {
    return this.ns.at(i);
  }

  /** Write `i` as an object (evidence). */
  write(i: number): Write {
    return {
      value: this.valueOf(i),
      process: this.processOf(i),
      opId: this.opIds[i],
      topic: this.topicNames[this.topicCodes.at(i)],
      partition: this.partitions.at(i),
      n: this.ns.at(i),
      ops: this.opsOf(i),
    };
  }

  /** The value's history, in order; each op's keys in the order type, time, offset, error, attempts (present ones only). */
  opsOf(i: number): SendOp[] {
    const ops: SendOp[] = [];
    for (let op = this.firstOps.at(i); op >= 0; op = this.opNext.at(op)) {
      const entry: { type: OpType; time: number; offset?: number; error?: string; attempts?: number } = { type: OP_TYPES[this.opTypes.at(op)], time: this.opTimes.at(op) };
      const offset = this.opOffsets.at(op);
      if (!Number.isNaN(offset)) entry.offset = offset;
      const error = this.opErrors.get(op);
      if (error !== undefined) entry.error = error;
      const attempts = this.opAttempts.at(op);
      if (!Number.isNaN(attempts)) entry.attempts = attempts;
      ops.push(entry);
    }
    return ops;
  }

  /** The topic-partitions the producers wrote to, in first-write order. */
  topicPartitions(): string[] {
    const seen = new Set<number>();
    const found: string[] = [];
    for (let i = 0; i < this.processCodes.length; i++) {
      const partition = this.partitions.at(i);
      if (partition < 0 || (this.unindexed.size > 0 && this.unindexed.has(i))) continue;
      // (topic, partition) as one exact number: topic codes are few, partitions below 2^32.
      const topicCode = this.topicCodes.at(i);
      const key = topicCode * 4294967296 + partition;
      if (seen.has(key)) continue;
      seen.add(key);
      found.push(`${this.topicNames[topicCode]}-${partition}`);
    }
    return found;
  }

  /**
   * Whether a producer's configuration promises per-partition order: enable.idempotence, or at most one
   * request in flight per connection. null when the producer recorded no "client-config".
   */
  orderPromised(process: string): { promised: boolean | null; config: Record<string, unknown> } {
    const config = this.configs.get(process);
    if (config === undefined) return { promised: null, config: {} };
    const idempotence = config["enable.idempotence"];
    const inFlight = config["max.in.flight.requests.per.connection"];
    const promised = idempotence === true || idempotence === "true" || inFlight === 1 || inFlight === "1";
    return {
      promised,
      config: { "enable.idempotence": idempotence ?? null, "max.in.flight.requests.per.connection": inFlight ?? null },
    };
  }

  // ---- The value index ----

  /** The write of `value` (-1: none), given the owner whose shape it has (null: no known owner's). */
  private find(value: string, owner: ValueOwner | null): number {
    if (owner !== null) return this.findNumbered(value, owner, valueNumberIn(value, owner.prefix));
    return this.other.size === 0 ? -1 : (this.other.get(value) ?? -1);
  }

  /** As `find`, with `value`'s number in `owner`'s shape already parsed (n >= 0): no second parse per op. */
  private findNumbered(value: string, owner: ValueOwner, n: number): number {
    if (n < TABLE_LIMIT) {
      const i = owner.writes.get(n, -1);
      // The slot's write is `owner`'s with this n: it is this value when it has as many digits.
      if (i >= 0 && this.digits.at(i) === value.length - owner.prefix.length) return i;
    }
    return this.other.size === 0 ? -1 : (this.other.get(value) ?? -1);
  }

  /** The known owner whose shape `value` has (at most one: the digits run to the end), or null. */
  private ownerOf(value: string): ValueOwner | null {
    const last = this.lastOwner;
    if (last !== null && valueNumberIn(value, last.prefix) >= 0) return last;
    if (this.ownerList.length <= 8) {
      for (const owner of this.ownerList) {
        if (valueNumberIn(value, owner.prefix) >= 0) return (this.lastOwner = owner);
      }
      return null;
    }
    const dash = value.lastIndexOf("-");
    const owner = dash < 0 ? undefined : this.owners.get(value.slice(0, dash));
    if (owner === undefined || valueNumberIn(value, owner.prefix) < 0) return null;
    return (this.lastOwner = owner);
  }

  private ownerNamed(process: string): ValueOwner {
    const last = this.lastOwner;
    if (last !== null && last.process === process) return last;
    // A scan of a few owners before the Map: the producers' ops interleave, so `last` often misses.
    const owners = this.ownerList;
    if (owners.length <= 8) {
      for (let k = 0; k < owners.length; k++) if (owners[k].process === process) return (this.lastOwner = owners[k]);
    }
    let owner = this.owners.get(process);
    if (owner === undefined) {
      owner = { process, prefix: `${process}-`, code: this.processNames.length, writes: new Int32Column(), handed: 0 };
      this.processNames.push(process);
      this.owners.set(process, owner);
      this.ownerList.push(owner);
    }
    return (this.lastOwner = owner);
  }

  private topicCode(topic: string): number {
    const last = this.topicNames.length - 1;
    if (last >= 0 && this.topicNames[last] === topic) return last;
    const code = this.topicNames.indexOf(topic);
    if (code >= 0) return code;
    this.topicNames.push(topic);
    return this.topicNames.length - 1;
  }

  /** A deleted topic's writes are gone with it; a re-created topic starts a new history. */
  private topicDeleted(topic: string): void {
    const code = this.topicNames.indexOf(topic);
    if (code < 0) return;
    for (let i = 0; i < this.processCodes.length; i++) {
      if (this.topicCodes.at(i) !== code || this.unindexed.has(i)) continue;
      const value = this.valueOf(i);
      const owner = this.ownerOf(value);
      const n = owner === null ? -1 : valueNumberIn(value, owner.prefix);
      if (owner !== null && n < TABLE_LIMIT && owner.writes.get(n, -1) === i) owner.writes.put(n, -1, -1);
      else this.other.delete(value);
      this.unindexed.add(i);
    }
  }

  /** Write `i`'s value (built from its process's prefix, n and digit count when it has the shape). */
  private valueOf(i: number): string {
    const digits = this.digits.at(i);
    if (digits === 0) return this.otherValues.get(i)!;
    return `${this.processNames[this.processCodes.at(i)]}-${String(this.ns.at(i)).padStart(digits, "0")}`;
  }

  /** The value number of a value without the short shape: its digits when it has the long shape, else the order of its first op. */
  private valueNumber(owner: ValueOwner, value: string): number {
    const prefix = owner.prefix;
    if (value.startsWith(prefix) && /^\d+$/.test(value.slice(prefix.length))) return Number(value.slice(prefix.length));
    return owner.handed++;
  }
}

function opTypeCode(type: unknown): number {
  switch (type) {
    case "invoke":
      return 0;
    case "ok":
      return 1;
    case "fail":
      return 2;
    case "info":
      return 3;
    default:
      return -1;
  }
}

/** `value`'s number when it is `${prefix}` then 1 to 9 digits, else -1. */
function valueNumberIn(value: string, prefix: string): number {
  const start = prefix.length;
  const digits = value.length - start;
  if (digits < 1 || digits > 9 || !value.startsWith(prefix)) return -1;
  let n = 0;
  for (let k = start; k < value.length; k++) {
    const c = value.charCodeAt(k) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}
