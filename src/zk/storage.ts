/**
 * A ZooKeeper server's files on its virtual disk: the transaction log (one chunk per txn, appended and
 * fsynced before the server acknowledges a proposal — group-committed like SyncRequestProcessor), fuzzy
 * snapshots of the data tree written to a temp file, fsynced and renamed, and the currentEpoch /
 * acceptedEpoch files. Recovery loads the newest valid snapshot and replays the log after it up to the
 * first chunk whose CRC fails (a torn write), truncating the log there — as FileTxnSnapLog does.
 * Simplifications: one log file (no log rolling or purging), snapshots are not purged.
 */

import { valid, type Disk, type IoContext } from "../disk/disk.ts";
import { assert } from "../sim/assert.ts";
import type { Zxid } from "../protocol/zk.ts";
import { DataTree, type DataTreeSnapshot } from "./datatree.ts";
import type { ZkTxnEntry } from "./txn.ts";

export const TXN_LOG = "version-2/log";
export const CURRENT_EPOCH = "currentEpoch";
export const ACCEPTED_EPOCH = "acceptedEpoch";
const SNAPSHOT_PREFIX = "version-2/snapshot.";

/** Approximate on-disk size of a txn (TxnHeader + the txn's path and data), for disk capacity. */
export function txnSizeBytes(entry: ZkTxnEntry): number {
  return 40 + txnBodyBytes(entry.txn);
}

function txnBodyBytes(txn: ZkTxnEntry["txn"]): number {
  switch (txn.type) {
    case "create":
    case "setData":
      return 16 + txn.path.length + txn.data.length;
    case "delete":
    case "check":
      return 8 + txn.path.length;
    case "multi": {
      let bytes = 8;
      for (const sub of txn.txns) bytes += txnBodyBytes(sub);
      return bytes;
    }
    default:
      return 8;
  }
}

export interface RecoveredState {
  tree: DataTree;
  /** zxids of the log entries loaded, in order (the in-memory committed log starts from these). */
  entries: ZkTxnEntry[];
  lastLoggedZxid: Zxid;
  currentEpoch: number;
  acceptedEpoch: number;
  /** Log chunks dropped because their CRC failed (a torn or flipped write) and everything after. */
  truncatedChunks: number;
  snapshotZxid: Zxid;
}

interface SnapshotFile {
  zxid: Zxid;
  tree: DataTreeSnapshot;
}

export class ZkStorage {
  /** zxid of each log chunk, by chunk index (the log is in zxid order). */
  private logZxids: Zxid[] = [];
  /** Chunks appended and not yet covered by a completed fsync. */
  /**
   * Log entries not yet covered by a completed fsync, in log order, each with its append sequence number:
   * after a TRUNC the same zxids can come back as new chunks, so durability is tracked by append, not zxid.
   */
  private unsynced: { seq: number; zxid: Zxid }[] = [];
  private appendSeq = 0;
  private fsyncInFlight = false;
  private fsyncWanted = false;
  private snapshotsInFlight = 0;
  /** Epoch-file writes waiting behind the one in flight, per file. */
  private readonly epochWrites = new Map<string, { epoch: number; done: () => void }[]>();
  private flushWaiters: (() => void)[] = [];
  /** Called with the highest zxid made durable by each completed log fsync. */
  onLogDurable: (zxid: Zxid) => void = () => {};
  /** Called when a disk operation fails (ZooKeeper exits on an unrecoverable I/O error). */
  onIoError: (what: string, error: string) => void = () => {};

  constructor(
    private readonly disk: Disk,
    private readonly context: IoContext,
  ) {}

  /** Rebuilds the server's state from disk only. */
  recover(): RecoveredState {
    const currentEpoch = this.readEpoch(CURRENT_EPOCH);
    const acceptedEpoch = Math.max(this.readEpoch(ACCEPTED_EPOCH), currentEpoch);
    let tree = new DataTree();
    let snapshotZxid = 0;
    const snapshots = this.disk.list(SNAPSHOT_PREFIX).filter((name) => !name.endsWith(".tmp"));
    for (let i = snapshots.length - 1; i >= 0; i--) {
      const read = this.disk.read(snapshots[i]);
      if (read.error !== null || read.chunks.length !== 1 || !valid(read.chunks[0])) continue;
      const snapshot = read.chunks[0].data as SnapshotFile;
      tree = DataTree.fromSnapshot(snapshot.tree);
      snapshotZxid = snapshot.zxid;
      break;
    }
    const entries: ZkTxnEntry[] = [];
    let truncatedChunks = 0;
    this.logZxids = [];
    this.unsynced = [];
    if (this.disk.exists(TXN_LOG)) {
      const read = this.disk.read(TXN_LOG);
      assert(read.error === null, "txn log unreadable");
      let good = 0;
      while (good < read.chunks.length && valid(read.chunks[good])) good++;
      truncatedChunks = read.chunks.length - good;
      if (truncatedChunks > 0) this.disk.truncate(TXN_LOG, good);
      for (let i = 0; i < good; i++) {
        const entry = read.chunks[i].data as ZkTxnEntry;
        this.logZxids.push(entry.header.zxid);
        // After a crash the page cache may still hold unsynced entries: count none as durable until an fsync.
        this.unsynced.push({ seq: ++this.appendSeq, zxid: entry.header.zxid });
        if (entry.header.zxid > snapshotZxid) {
          tree.apply(entry);
          entries.push(entry);
        }
      }
    }
    const lastLoggedZxid = Math.max(snapshotZxid, this.logZxids.length > 0 ? this.logZxids[this.logZxids.length - 1] : 0);
    return { tree, entries, lastLoggedZxid, currentEpoch, acceptedEpoch, truncatedChunks, snapshotZxid };
  }

  get lastLoggedZxid(): Zxid {
    return this.logZxids.length > 0 ? this.logZxids[this.logZxids.length - 1] : 0;
  }

  /** Appends a txn to the log (page cache) and asks for a group fsync; onLogDurable reports it. */
  append(entry: ZkTxnEntry): boolean {
    assert(entry.header.zxid > this.lastLoggedZxid, "txn log must grow in zxid order");
    const error = this.disk.append(TXN_LOG, entry, txnSizeBytes(entry));
    if (error !== null) {
      this.onIoError("txn log append", error);
      return false;
    }
    this.logZxids.push(entry.header.zxid);
    this.unsynced.push({ seq: ++this.appendSeq, zxid: entry.header.zxid });
    this.requestFsync();
    return true;
  }

  /** Drops every log entry after `zxid` (a TRUNC from the leader) and makes that durable. */
  truncateAfter(zxid: Zxid): void {
    for (const name of this.disk.list(SNAPSHOT_PREFIX)) {
      const read = this.disk.read(name);
      if (read.error === null && read.chunks.length === 1 && (read.chunks[0].data as SnapshotFile).zxid > zxid) this.disk.delete(name);
    }
    let keep = this.logZxids.length;
    while (keep > 0 && this.logZxids[keep - 1] > zxid) keep--;
    this.logZxids.length = keep;
    this.unsynced = this.unsynced.filter((entry) => entry.zxid <= zxid);
    if (this.disk.exists(TXN_LOG)) {
      const error = this.disk.truncate(TXN_LOG, keep);
      if (error !== null) this.onIoError("txn log truncate", error);
      else this.requestFsync();
    }
  }

  /** Replaces everything with a snapshot received from the leader (SNAP sync). */
  installSnapshot(zxid: Zxid, tree: DataTree): void {
    this.logZxids = [];
    this.unsynced = [];
    if (this.disk.exists(TXN_LOG)) this.disk.truncate(TXN_LOG, 0);
    this.writeSnapshot(zxid, tree);
    this.requestFsync();
  }

  /** Calls `done` once everything logged so far is durable and no snapshot write is still in flight. */
  flush(done: () => void): void {
    this.flushWaiters.push(done);
    this.requestFsync();
  }

  private runFlushWaiters(): void {
    if (this.fsyncInFlight || this.snapshotsInFlight > 0 || this.unsynced.length > 0) return;
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const waiter of waiters) waiter();
  }

  /** Writes snapshot.<zxid> atomically (tmp, fsync, rename) — a fuzzy snapshot of the applied tree. */
  writeSnapshot(zxid: Zxid, tree: DataTree): void {
    const name = `${SNAPSHOT_PREFIX}${zxid.toString(16).padStart(16, "0")}`;
    const tmp = `${name}.tmp`;
    const snapshot: SnapshotFile = { zxid, tree: tree.snapshot() };
    const error = this.disk.writeFile(tmp, snapshot, 128 + tree.nodeCount() * 64);
    if (error !== null) {
      this.onIoError("snapshot write", error);
      return;
    }
    this.snapshotsInFlight++;
    this.disk.fsync(tmp, this.context, (syncError) => {
      this.snapshotsInFlight--;
      if (syncError !== null) {
        this.onIoError("snapshot fsync", syncError);
        return;
      }
      this.disk.rename(tmp, name);
      this.runFlushWaiters();
    });
  }

  /**
   * Writes currentEpoch or acceptedEpoch durably (AtomicFileOutputStream: tmp, fsync, rename), then calls
   * `done`. Writes to one file are serialised, so a later write can never be overwritten by an earlier one
   * and no write's tmp file is truncated under another's fsync.
   */
  writeEpoch(file: typeof CURRENT_EPOCH | typeof ACCEPTED_EPOCH, epoch: number, done: () => void): void {
    const queue = this.epochWrites.get(file);
    if (queue !== undefined) {
      queue.push({ epoch, done });
      return;
    }
    this.epochWrites.set(file, []);
    this.writeEpochNow(file, epoch, done);
  }

  private writeEpochNow(file: typeof CURRENT_EPOCH | typeof ACCEPTED_EPOCH, epoch: number, done: () => void): void {
    const tmp = `${file}.tmp`;
    const error = this.disk.writeFile(tmp, epoch, 8);
    if (error !== null) {
      // The writes queued behind it belong to the role the error ends: later writes start afresh.
      this.epochWrites.delete(file);
      this.onIoError(`${file} write`, error);
      return;
    }
    this.disk.fsync(tmp, this.context, (syncError) => {
      if (syncError !== null) {
        this.epochWrites.delete(file);
        this.onIoError(`${file} fsync`, syncError);
        return;
      }
      this.disk.rename(tmp, file);
      const next = this.epochWrites.get(file)!.shift();
      if (next === undefined) this.epochWrites.delete(file);
      else this.writeEpochNow(file, next.epoch, next.done);
      done();
    });
  }

  private readEpoch(file: string): number {
    if (!this.disk.exists(file)) return 0;
    const read = this.disk.read(file);
    if (read.error !== null || read.chunks.length !== 1 || !valid(read.chunks[0])) return 0;
    return read.chunks[0].data as number;
  }

  private requestFsync(): void {
    if (!this.disk.exists(TXN_LOG)) {
      this.runFlushWaiters();
      return;
    }
    if (this.fsyncInFlight) {
      this.fsyncWanted = true;
      return;
    }
    this.fsyncInFlight = true;
    this.fsyncWanted = false;
    const seqAtCall = this.appendSeq;
    this.disk.fsync(TXN_LOG, this.context, (error) => {
      this.fsyncInFlight = false;
      if (error !== null) {
        this.onIoError("txn log fsync", error);
        return;
      }
      // Entries appended after the call are not covered; entries truncated since are gone from the list.
      let durable = 0;
      while (durable < this.unsynced.length && this.unsynced[durable].seq <= seqAtCall) durable++;
      this.unsynced.splice(0, durable);
      // Everything in the log before the first still-unsynced entry is durable.
      this.onLogDurable(this.unsynced.length > 0 ? this.unsynced[0].zxid - 1 : this.lastLoggedZxid);
      if (this.fsyncWanted || this.unsynced.length > 0) this.requestFsync();
      else this.runFlushWaiters();
    });
  }
}
