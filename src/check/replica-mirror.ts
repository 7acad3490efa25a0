/**
 * A checker's mirror of one replica's log (one broker's copy of one partition), rebuilt only from the log-level
 * trace events: log-append, log-truncate, log-recovery, log-retention-delete and log-delete. It models no
 * Kafka component; it is the replication checkers' view of what each disk holds. A record is identified by
 * `${partitionLeaderEpoch}|${value}` (workload values are unique per record), so two replicas agree at an
 * offset when they hold the same value appended under the same leader epoch. Simplifications: compaction is not
 * mirrored (records a cleaner removed stay in the mirror), and records below the log start offset are dropped.
 */

export interface MirrorRecord {
  readonly offset: number;
  /** `${partitionLeaderEpoch}|${value}`. */
  readonly id: string;
  readonly value: string | null;
  readonly partitionLeaderEpoch: number;
  /** Virtual µs of the append on this replica. */
  readonly appendedAt: number;
}

export class ReplicaMirror {
  /** The first offset this mirror may hold (its log start offset). */
  private base = 0;
  /** records[i] is the record at offset base + i; undefined where the mirror does not know it. */
  private records: (MirrorRecord | undefined)[] = [];

  constructor(
    readonly node: string,
    readonly topicPartition: string,
  ) {}

  get logStartOffset(): number {
    return this.base;
  }

  get logEndOffset(): number {
    return this.base + this.records.length;
  }

  at(offset: number): MirrorRecord | undefined {
    if (offset < this.base) return undefined;
    return this.records[offset - this.base];
  }

  /**
   * Appends a batch's records at their offsets. Kafka appends only at the log end; an append below it (which
   * the log never does) overwrites from there, and one above it leaves unknown offsets in between.
   */
  append(offsets: readonly number[], values: readonly (string | null)[], partitionLeaderEpoch: number, at: number): void {
    if (offsets.length === 0) return;
    if (offsets[0] < this.logEndOffset) this.truncateTo(offsets[0]);
    for (let i = 0; i < offsets.length; i++) {
      const offset = offsets[i];
      const value = values[i] ?? null;
      while (this.logEndOffset < offset) this.records.push(undefined);
      this.records[offset - this.base] = { offset, id: `${partitionLeaderEpoch}|${value}`, value, partitionLeaderEpoch, appendedAt: at };
    }
  }

  /** Drops every record at or after `offset` (Log.truncateTo, or the log end found by recovery). */
  truncateTo(offset: number): void {
    if (offset >= this.logEndOffset) return;
    if (offset <= this.base) {
      // Log.truncateTo below the log start also moves the log start down to the target.
      this.startAt(offset);
      return;
    }
    this.records.length = offset - this.base;
  }

  /** Empty, starting at `offset` (Log.truncateFullyAndStartAt). */
  startAt(offset: number): void {
    this.base = offset;
    this.records = [];
  }

  /** The log start moved up (retention): records below it are gone. */
  advanceLogStart(offset: number): void {
    if (offset <= this.base) return;
    if (offset >= this.logEndOffset) {
      this.startAt(offset);
      return;
    }
    this.records = this.records.slice(offset - this.base);
    this.base = offset;
  }
}
