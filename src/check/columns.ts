/**
 * Growable typed columns for the checkers' per-write and per-op history (ops.ts). Not a Kafka concept — storage
 * for the checkers: every write of a run is kept until the end-of-run checks, and a typed array holds a column
 * in one buffer outside the JavaScript heap (nothing for the garbage collector to scan or copy). Deliberately
 * minimal and unchecked: the history is the only writer and reads only indexes it pushed.
 */

/** Any number (virtual times, offsets, value numbers); NaN marks "absent" where a column says so. */
export class F64Column {
  length = 0;
  values = new Float64Array(64);

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }
}

/** 32-bit integers (indexes, partitions, small codes); -1 marks "none" where a column says so. */
export class I32Column {
  length = 0;
  values = new Int32Array(64);

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Int32Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }

  /** Sets entry `index`, growing the column (new entries are `fill`) when it lies beyond the end. */
  put(index: number, value: number, fill: number): void {
    if (index >= this.values.length) {
      let size = this.values.length * 2;
      while (size <= index) size *= 2;
      const grown = new Int32Array(size);
      grown.set(this.values);
      this.values = grown;
    }
    if (index >= this.length) {
      this.values.fill(fill, this.length, index);
      this.length = index + 1;
    }
    this.values[index] = value;
  }

  /** Entry `index`, or `fill` beyond the end. */
  get(index: number, fill: number): number {
    return index < this.length ? this.values[index] : fill;
  }
}
