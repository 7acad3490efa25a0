/**
 * A temporal index of one attribute: the event indexes where its value changed, in increasing order, and the
 * values. `at(index)` is the value after applying events[0..index], found by binary search, so the timeline
 * answers any playback position without replaying from the start or cloning state.
 */

export class Series<T> {
  private readonly indexes: number[] = [];
  private readonly values: T[] = [];

  constructor(private readonly initial: T) {}

  /** Records the value from event `index` on (indexes must not decrease); an unchanged value records nothing. */
  set(index: number, value: T): void {
    const n = this.indexes.length;
    if (n > 0 && this.indexes[n - 1] === index) {
      this.values[n - 1] = value;
      return;
    }
    if ((n > 0 ? this.values[n - 1] : this.initial) === value) return;
    this.indexes.push(index);
    this.values.push(value);
  }

  /** The value now (at the end of what was recorded so far). */
  get last(): T {
    const n = this.values.length;
    return n > 0 ? this.values[n - 1] : this.initial;
  }

  /** The value after events[0..index] (index -1: before any). */
  at(index: number): T {
    const indexes = this.indexes;
    let lo = 0;
    let hi = indexes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (indexes[mid] <= index) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? this.initial : this.values[lo - 1];
  }

  /** Number of recorded changes. */
  get changes(): number {
    return this.indexes.length;
  }
}

/** The last position i in the sorted `sorted` with sorted[i] <= value, or -1. */
export function lastAtOrBelow(sorted: ArrayLike<number>, value: number, length: number = sorted.length): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}
