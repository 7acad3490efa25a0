/**
 * The determinism self-check (madsim's habit): run the same scenario and seed twice, compare the traces
 * event by event through per-line hashes, and report the first diverging event with both versions of it.
 * Memory stays small for long runs: the first pass keeps one 32-bit hash per event; only when the runs
 * differ is the first one replayed a third time to recover the text of the diverging line.
 */

import { hashLine, type TraceSink } from "./trace.ts";

/** Runs the scenario once, writing every trace line (header first) to `sink`. */
export type TracedRun = (sink: TraceSink) => void;

export interface DeterminismReport {
  identical: boolean;
  /** Lines compared (header included). */
  lines: number;
  firstDivergence?: { line: number; first: string | null; second: string | null };
}

class HashRecorder implements TraceSink {
  hashes = new Uint32Array(1024);
  count = 0;
  write(line: string): void {
    if (this.count === this.hashes.length) {
      const grown = new Uint32Array(this.hashes.length * 2);
      grown.set(this.hashes);
      this.hashes = grown;
    }
    this.hashes[this.count++] = hashLine(line);
  }
}

class Comparer implements TraceSink {
  count = 0;
  divergedAt = -1;
  divergentLine: string | null = null;
  constructor(private readonly expected: HashRecorder) {}
  write(line: string): void {
    const index = this.count++;
    if (this.divergedAt >= 0) return;
    if (index >= this.expected.count || this.expected.hashes[index] !== hashLine(line)) {
      this.divergedAt = index;
      this.divergentLine = line;
    }
  }
}

class LineGrabber implements TraceSink {
  count = 0;
  line: string | null = null;
  constructor(private readonly wanted: number) {}
  write(line: string): void {
    if (this.count++ === this.wanted) this.line = line;
  }
}

export function checkDeterminism(run: TracedRun): DeterminismReport {
  const first = new HashRecorder();
  run(first);
  const second = new Comparer(first);
  run(second);
  if (second.divergedAt < 0 && second.count === first.count) return { identical: true, lines: first.count };
  // Either a line differs, or the second run is a strict prefix of the first.
  const line = second.divergedAt >= 0 ? second.divergedAt : second.count;
  const grabber = new LineGrabber(line);
  run(grabber);
  return {
    identical: false,
    lines: Math.max(first.count, second.count),
    firstDivergence: { line: line + 1, first: grabber.line, second: second.divergedAt >= 0 ? second.divergentLine : null },
  };
}
