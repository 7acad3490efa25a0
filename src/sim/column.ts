/**
 * Growable columns of numbers in typed arrays: what a virtual disk file (per chunk: size, write time, damage),
 * a log segment (per batch: last offset) and the checkers' client history (per write and per op, src/check/ops.ts
 * and history.ts) keep for every write of the run. Not a Kafka concept — storage for the simulator: a typed array's elements live in one buffer outside the JavaScript heap, so millions of entries
 * are no objects for the garbage collector to copy, and growing a column copies outside the heap too.
 * Monomorphic classes rather than one generic one: `at` is on the hottest read paths.
 */

import { assert } from "./assert.ts";

/** Any number (sizes, virtual times, offsets). */
export class Float64Column {
  /** Entries [0, length) are the column; the rest is spare capacity. */
  length = 0;
  private values = new Float64Array(0);

  /** Entry `index`; the caller keeps index in [0, length). */
  at(index: number): number {
    return this.values[index];
  }

  set(index: number, value: number): void {
    assert(index >= 0 && index < this.length, "column index out of range");
    this.values[index] = value;
  }

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(Math.max(8, this.values.length * 2));
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }

  /** Keeps the first `length` entries. */
  truncate(length: number): void {
    assert(Number.isInteger(length) && length >= 0 && length <= this.length, "column truncated beyond its end");
    this.length = length;
  }
}

/** Small codes in [0, 255]. */
export class Uint8Column {
  /** Entries [0, length) are the column; the rest is spare capacity. */
  length = 0;
  private values = new Uint8Array(0);

  /** Entry `index`; the caller keeps index in [0, length). */
  at(index: number): number {
    return this.values[index];
  }

  set(index: number, value: number): void {
    assert(index >= 0 && index < this.length, "column index out of range");
    this.values[index] = value;
  }

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Uint8Array(Math.max(8, this.values.length * 2));
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }

  /** Keeps the first `length` entries. */
  truncate(length: number): void {
    assert(Number.isInteger(length) && length >= 0 && length <= this.length, "column truncated beyond its end");
    this.length = length;
  }
}

/** 32-bit integers (indexes, partitions, small codes). */
export class Int32Column {
  /** Entries [0, length) are the column; the rest is spare capacity. */
  length = 0;
  private values = new Int32Array(0);

  /** Entry `index`; the caller keeps index in [0, length). */
  at(index: number): number {
    return this.values[index];
  }

  set(index: number, value: number): void {
    assert(index >= 0 && index < this.length, "column index out of range");
    this.values[index] = value;
  }

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Int32Array(Math.max(8, this.values.length * 2));
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }

  /** Entry `index`, or `fill` at or beyond the end (a sparse table: see put). */
  get(index: number, fill: number): number {
    return index < this.length ? this.values[index] : fill;
  }

  /** Sets entry `index`, growing the column (entries between the old end and `index` are `fill`) when it lies beyond the end. */
  put(index: number, value: number, fill: number): void {
    assert(Number.isInteger(index) && index >= 0, "column index out of range");
    if (index >= this.values.length) {
      let size = Math.max(8, this.values.length * 2);
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
}
