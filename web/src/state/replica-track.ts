/**
 * One replica's history (one broker's log of one partition), built in one pass: an append-only record store
 * where every record carries the event index that appended it and, once removed, the one that removed it,
 * indexed by offset; plus a Series per attribute (role, leader epoch, ISR, log start, log end, high watermark).
 * A view at any position reads these without copying the log.
 */

import { Series } from "./series.ts";
import type { LogRecord, ReplicaRole, ReplicaView } from "./types.ts";

/** Default look-back for removed records shown in a window: 2 s of virtual time. */
export const RECENT_US = 2_000_000;

/** A record as stored: also the last offset of its batch (a truncation removes the batch holding its target whole). */
interface StoredRecord extends LogRecord {
  batchLast: number;
  /** A transactional data record: the markers of its producer that followed it on this replica, in order. */
  markers?: StoredRecord[];
  /** A marker: the data records it closed. */
  members?: StoredRecord[];
}

/** What log-append says of a transactional batch (absent for every other batch). */
export interface TxnBatchInfo {
  producerId: number;
  control: "COMMIT" | "ABORT" | null;
}

export class ReplicaTrack {
  readonly exists = new Series<boolean>(false);
  readonly role = new Series<ReplicaRole>("none");
  readonly leaderEpoch = new Series<number>(-1);
  readonly isr = new Series<number[] | null>(null);
  readonly logStartOffset = new Series<number>(0);
  readonly logEndOffset = new Series<number>(0);
  readonly highWatermark = new Series<number>(0);
  readonly lastStableOffset = new Series<number | null>(null);
  /** Every record this replica ever held, by offset, oldest version first. */
  private readonly byOffset: StoredRecord[][] = [];
  /** The records held at the end of what was built so far, in offset order, from `liveHead` on. */
  private live: StoredRecord[] = [];
  private liveHead = 0;
  /** Transactional data records not yet followed by a marker of their producer, by producer id. */
  private readonly openTxns = new Map<number, StoredRecord[]>();

  constructor(
    readonly host: string,
    readonly brokerId: number,
    readonly topicPartition: string,
  ) {}

  // ---- building (event indexes never decrease) ----

  append(index: number, offset: number, value: string | null, epoch: number, batchLast: number = offset, txn: TxnBatchInfo | null = null): void {
    const n = this.live.length;
    if (n > this.liveHead && this.live[n - 1].offset >= offset) this.truncateTo(index, offset);
    const record: StoredRecord = { offset, value, epoch, appendedSeq: index, batchLast };
    if (txn !== null) this.transactional(record, txn);
    this.live.push(record);
    let versions = this.byOffset[offset];
    if (versions === undefined) {
      // Fill holes so the array stays dense (offsets are small integers).
      while (this.byOffset.length < offset) this.byOffset.push([]);
      versions = [];
      this.byOffset[offset] = versions;
    }
    versions.push(record);
  }

  /**
   * Removes every held record at or after `offset`, and the rest of the batch holding it (Log.truncateTo
   * drops that batch whole, as Kafka's LogSegment.truncateTo does, though the log end becomes `offset`).
   */
  truncateTo(index: number, offset: number): void {
    const live = this.live;
    while (live.length > this.liveHead && live[live.length - 1].batchLast >= offset) {
      const record = live.pop()!;
      record.truncatedSeq = index;
      // A truncated marker reopens the transaction of the records it closed that are still held.
      if (record.members !== undefined && record.producerId !== undefined) {
        const held = record.members.filter((member) => member.truncatedSeq === undefined);
        if (held.length > 0) this.openTxns.set(record.producerId, [...held, ...(this.openTxns.get(record.producerId) ?? [])]);
      }
    }
  }

  /** A transactional record: a data record joins its producer's open transaction, a marker closes it. */
  private transactional(record: StoredRecord, txn: TxnBatchInfo): void {
    record.producerId = txn.producerId;
    if (txn.control === null) {
      record.markers = [];
      const open = this.openTxns.get(txn.producerId);
      if (open === undefined) this.openTxns.set(txn.producerId, [record]);
      else open.push(record);
      return;
    }
    record.control = txn.control;
    const members = (this.openTxns.get(txn.producerId) ?? []).filter((member) => member.truncatedSeq === undefined);
    this.openTxns.delete(txn.producerId);
    record.members = members;
    for (const member of members) member.markers!.push(record);
  }

  /** Removes every held record below `offset` (retention, a log start that moved up). */
  removeBelow(index: number, offset: number): void {
    const live = this.live;
    while (this.liveHead < live.length && live[this.liveHead].offset < offset) live[this.liveHead++].truncatedSeq = index;
    if (this.liveHead > 1024 && this.liveHead * 2 > live.length) {
      this.live = live.slice(this.liveHead);
      this.liveHead = 0;
    }
  }

  /** Removes the held records at these offsets (compaction). */
  removeOffsets(index: number, offsets: readonly number[]): void {
    if (offsets.length === 0) return;
    const gone = new Set(offsets);
    const kept: StoredRecord[] = [];
    for (let k = this.liveHead; k < this.live.length; k++) {
      const record = this.live[k];
      if (gone.has(record.offset)) record.truncatedSeq = index;
      else kept.push(record);
    }
    this.live = kept;
    this.liveHead = 0;
  }

  removeAll(index: number): void {
    this.truncateTo(index, -1);
  }

  /**
   * The log as a restart loaded it (log-loaded's batches): records that match what was held stay; from the
   * first difference on, the held ones are removed and the loaded ones appended.
   */
  replaceContent(index: number, records: { offset: number; epoch: number; value: string | null; batchLast: number }[]): void {
    const live = this.live;
    let k = 0;
    while (
      k < records.length &&
      this.liveHead + k < live.length &&
      live[this.liveHead + k].offset === records[k].offset &&
      live[this.liveHead + k].epoch === records[k].epoch &&
      live[this.liveHead + k].value === records[k].value
    ) {
      k++;
    }
    if (this.liveHead + k < live.length) {
      const from = k < records.length ? Math.min(records[k].offset, live[this.liveHead + k].offset) : live[this.liveHead + k].offset;
      this.truncateTo(index, from);
    }
    for (let i = k; i < records.length; i++) this.append(index, records[i].offset, records[i].value, records[i].epoch, records[i].batchLast);
  }

  /** Records held now whose offsets reach `offset` or beyond. */
  get lastLiveOffset(): number {
    return this.live.length > this.liveHead ? this.live[this.live.length - 1].offset : -1;
  }

  // ---- reading ----

  /** Records with offsets in [from, to) present after events[0..index], plus ones removed since `sinceIndex`. */
  window(index: number, sinceIndex: number, from: number, to: number): LogRecord[] {
    const out: LogRecord[] = [];
    const end = Math.min(to, this.byOffset.length);
    for (let offset = Math.max(0, from); offset < end; offset++) {
      const versions = this.byOffset[offset];
      for (let i = 0; i < versions.length; i++) {
        const record = versions[i];
        if (record.appendedSeq > index) break;
        const removed = record.truncatedSeq;
        if (removed === undefined || removed > index) {
          out.push(withTxn({ offset: record.offset, value: record.value, epoch: record.epoch, appendedSeq: record.appendedSeq }, record, index));
        } else if (removed > sinceIndex) {
          out.push(withTxn({ offset: record.offset, value: record.value, epoch: record.epoch, appendedSeq: record.appendedSeq, truncatedSeq: removed }, record, index));
        }
      }
    }
    return out;
  }

  view(index: number, up: boolean, offline: boolean, sinceIndexOf: (recentUs: number) => number): ReplicaView {
    return {
      host: this.host,
      brokerId: this.brokerId,
      topicPartition: this.topicPartition,
      up,
      offline,
      role: this.role.at(index),
      leaderEpoch: this.leaderEpoch.at(index),
      isr: this.isr.at(index),
      logStartOffset: this.logStartOffset.at(index),
      logEndOffset: this.logEndOffset.at(index),
      highWatermark: this.highWatermark.at(index),
      lastStableOffset: this.lastStableOffset.at(index),
      window: (from: number, to: number, recentUs: number = RECENT_US): LogRecord[] => this.window(index, sinceIndexOf(recentUs), from, to),
    };
  }
}

/** The transactional fields of a record at `index`: its producer, a marker's type, a data record's outcome so far. */
function withTxn(out: LogRecord, record: StoredRecord, index: number): LogRecord {
  if (record.producerId === undefined) return out;
  out.producerId = record.producerId;
  if (record.control !== undefined) {
    out.control = record.control;
    return out;
  }
  out.txn = "open";
  const markers = record.markers ?? [];
  for (let k = markers.length - 1; k >= 0; k--) {
    const marker = markers[k];
    if (marker.appendedSeq <= index && (marker.truncatedSeq === undefined || marker.truncatedSeq > index)) {
      out.txn = marker.control === "ABORT" ? "aborted" : "committed";
      break;
    }
  }
  return out;
}
