/**
 * The ZooKeeper client's request queues (ClientCnxn's outgoingQueue and pendingQueue): first in, first out,
 * over an array with a moving head, so steady-state pushes and shifts allocate nothing.
 */

export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item, left in place. */
  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  /** Removes and returns the oldest item. */
  shift(): T | undefined {
    const items = this.items;
    if (this.head === items.length) return undefined;
    const item = items[this.head];
    items[this.head++] = undefined;
    if (this.head === items.length) {
      items.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= items.length) {
      // Long-lived backlog: drop the consumed prefix so the array does not grow without bound.
      this.items = items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Removes every item and returns them oldest first. */
  drain(): T[] {
    const out = this.items.slice(this.head) as T[];
    this.items.length = 0;
    this.head = 0;
    return out;
  }
}
