/**
 * Seeded random streams. Every consumer of randomness gets its own stream forked by name from the run's
 * seed (`rng.fork("net")`, `rng.fork("broker-2")`), so adding randomness in one place never shifts another
 * stream. Streams are seedrandom's Alea generator, keyed by the path of names from the root seed.
 */

import seedrandom from "seedrandom";

export class Rng {
  private readonly next: () => number;

  constructor(readonly path: string) {
    this.next = seedrandom.alea(path);
  }

  /** The root stream of a run. */
  static fromSeed(seed: number | string): Rng {
    return new Rng(`kafkasim:${seed}`);
  }

  /** An independent stream named relative to this one; the same name always gives the same stream. */
  fork(name: string): Rng {
    return new Rng(`${this.path}/${name}`);
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.next();
  }

  /** Uniform integer in [min, max] (both inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** Exponentially distributed with the given mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  /** Normally distributed (Box–Muller, one value per call). */
  normal(mean: number, stddev: number): number {
    const u = 1 - this.next();
    const v = this.next();
    return mean + stddev * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fisher–Yates shuffle of a copy. */
  shuffle<T>(items: readonly T[]): T[] {
    const copy = items.slice();
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = copy[i];
      copy[i] = copy[j];
      copy[j] = tmp;
    }
    return copy;
  }
}
