/**
 * A list the producer's hot path fills again on every call (ready hosts, drained batches, active deques): not a
 * Kafka component, a simulator device. clear() keeps the backing store — `array.length = 0` would free it, and
 * the next push allocate a new one, on every wake-up. Slots past `size` keep stale entries until overwritten.
 */
export class ReusedList<T> {
  private readonly items: T[] = [];
  size = 0;

  get(index: number): T {
    return this.items[index];
  }

  set(index: number, item: T): void {
    this.items[index] = item;
  }

  push(item: T): void {
    this.items[this.size++] = item;
  }

  includes(item: T): boolean {
    for (let i = 0; i < this.size; i++) if (this.items[i] === item) return true;
    return false;
  }

  clear(): void {
    this.size = 0;
  }

  /** Keeps the first `size` entries. */
  truncate(size: number): void {
    this.size = size;
  }
}
