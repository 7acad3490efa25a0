/**
 * Kafka's Sender.inFlightBatches: per partition, the batches sent and not yet completed or re-enqueued, in the
 * order sent. Kafka keeps a HashMap from TopicPartition to a list, dropping a partition whose list empties; the
 * order in which partitions are visited (expiry, abort) is that of an insertion-ordered map with the same
 * drops: the order in which they last (re)appeared. This keeps that order without the map churn — every
 * partition's entry and list are made once and reused, present or not — and visits it only on the rare paths.
 */

import type { Micros } from "../../sim/time.ts";
import type { ProducerBatch } from "./batch.ts";
import { ReusedList } from "./reused-list.ts";

export interface PartitionInFlight {
  /** The partition's batches in flight, in the order sent; may be empty while present (after an expiry). */
  readonly batches: ProducerBatch[];
  /** Its index in `present`, -1 when absent (what a map without the key would be). */
  slot: number;
  /** When it last became present: the visiting order. */
  addedAt: number;
}

export class InFlightBatches {
  private readonly partitions = new Map<string, PartitionInFlight>();
  /** The present partitions, unordered (swap-removed). */
  private readonly present = new ReusedList<PartitionInFlight>();
  private additions = 0;
  /**
   * At most the creation time of every batch in flight (exact after a scan, then lowered by adds): while
   * delivery.timeout.ms has not passed since, no batch can have expired and the expiry check scans nothing.
   */
  private createdUsLowerBound = Number.POSITIVE_INFINITY;
  /**
   * The earliest creation time among the batches in flight, exact unless earliestStale (a batch that may have
   * had it left): the Sender's next wake-up reads it on every event instead of scanning every batch in flight.
   */
  private earliestCreatedUs = Number.POSITIVE_INFINITY;
  private earliestStale = false;

  /** No partition present (Sender.inFlightBatches is empty). */
  get isEmpty(): boolean {
    return this.present.size === 0;
  }

  add(batch: ProducerBatch): void {
    let entry = batch.inFlightPartition ?? this.partitions.get(batch.topicPartition);
    if (entry === undefined) {
      entry = { batches: [], slot: -1, addedAt: 0 };
      this.partitions.set(batch.topicPartition, entry);
    }
    batch.inFlightPartition = entry;
    if (entry.slot < 0) {
      entry.slot = this.present.size;
      entry.addedAt = this.additions++;
      this.present.push(entry);
    }
    entry.batches.push(batch);
    if (batch.createdUs < this.createdUsLowerBound) this.createdUsLowerBound = batch.createdUs;
    if (batch.createdUs < this.earliestCreatedUs) this.earliestCreatedUs = batch.createdUs;
  }

  /** Removes the batch; its partition is dropped when its list empties (Sender.removeFromInflightBatches). */
  remove(batch: ProducerBatch): void {
    const entry = batch.inFlightPartition ?? this.partitions.get(batch.topicPartition);
    if (entry === undefined || entry.slot < 0) return;
    const batches = entry.batches;
    // Batches nearly always complete in the order sent: the first leaves without a splice (which allocates).
    if (batches[0] === batch) batches.shift();
    else {
      const index = batches.indexOf(batch);
      if (index >= 0) batches.splice(index, 1);
    }
    // It may have been the earliest (or was not in flight: then staleness only costs one scan).
    if (batch.createdUs === this.earliestCreatedUs) this.earliestStale = true;
    if (batches.length === 0) this.drop(entry);
  }

  private drop(entry: PartitionInFlight): void {
    const present = this.present;
    const last = present.get(present.size - 1);
    present.set(entry.slot, last);
    last.slot = entry.slot;
    present.truncate(present.size - 1);
    entry.slot = -1;
  }

  /** The earliest delivery-timeout expiry after `nowUs` among the batches in flight, or +Infinity. */
  nextExpiryUs(deliveryTimeoutUs: Micros, nowUs: Micros): Micros {
    if (this.earliestStale) this.findEarliest();
    // The earliest expiry of all is after now: it is the answer (always +Infinity when none is in flight).
    const earliest = this.earliestCreatedUs + deliveryTimeoutUs;
    if (earliest > nowUs) return earliest;
    // Some batch in flight is already past it (not at the front of its list, so not taken): the full scan.
    let next = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.present.size; i++) {
      const batches = this.present.get(i).batches;
      for (let j = 0; j < batches.length; j++) {
        const t = batches[j].createdUs + deliveryTimeoutUs;
        if (t > nowUs && t < next) next = t;
      }
    }
    return next;
  }

  private findEarliest(): void {
    let earliest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.present.size; i++) {
      const batches = this.present.get(i).batches;
      for (let j = 0; j < batches.length; j++) if (batches[j].createdUs < earliest) earliest = batches[j].createdUs;
    }
    this.earliestCreatedUs = earliest;
    this.earliestStale = false;
  }

  /**
   * Sender.getExpiredInflightBatches: takes, partition by partition in visiting order, the batches at the front
   * of each list past delivery.timeout.ms (their partition stays present); null when none has expired.
   */
  takeExpired(deliveryTimeoutUs: Micros, nowUs: Micros): ProducerBatch[] | null {
    if (!this.anyFrontExpired(deliveryTimeoutUs, nowUs)) return null;
    const expired: ProducerBatch[] = [];
    for (const batches of this.listsInOrder()) {
      while (batches.length > 0 && batches[0].hasReachedDeliveryTimeout(deliveryTimeoutUs, nowUs)) expired.push(batches.shift()!);
    }
    if (expired.length > 0) this.earliestStale = true;
    return expired;
  }

  private anyFrontExpired(deliveryTimeoutUs: Micros, nowUs: Micros): boolean {
    if (deliveryTimeoutUs > nowUs - this.createdUsLowerBound) return false;
    let lowest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.present.size; i++) {
      const batches = this.present.get(i).batches;
      if (batches.length > 0 && batches[0].hasReachedDeliveryTimeout(deliveryTimeoutUs, nowUs)) return true;
      for (let j = 0; j < batches.length; j++) if (batches[j].createdUs < lowest) lowest = batches[j].createdUs;
    }
    this.createdUsLowerBound = lowest;
    return false;
  }

  /** Every batch in flight, partition by partition in visiting order (a copy: the caller may remove them). */
  all(): ProducerBatch[] {
    const all: ProducerBatch[] = [];
    for (const batches of this.listsInOrder()) all.push(...batches);
    return all;
  }

  /** The present partitions' lists in visiting order (the rare paths only: it sorts). */
  private listsInOrder(): ProducerBatch[][] {
    const entries: PartitionInFlight[] = [];
    for (let i = 0; i < this.present.size; i++) entries.push(this.present.get(i));
    return entries.sort((a, b) => a.addedAt - b.addedAt).map((entry) => entry.batches);
  }
}
