/** File I/O for the CLI (the only layer allowed to touch fs): reading inputs, writing outputs atomically. */

import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import type { TraceSink } from "../sim/trace.ts";
import { UsageError } from "./errors.ts";

export function readInput(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : (code ?? "unreadable");
    throw new UsageError(`${file}: cannot read the file (${why})`);
  }
}

/**
 * Streams lines to `file.partial` with buffered writes and renames it over `file` on commit(), so a run
 * that fails half-way never leaves a half-written trace behind under the real name.
 */
export class AtomicLineFile implements TraceSink {
  private readonly partial: string;
  private fd: number;
  private buffer: string[] = [];
  private buffered = 0;

  constructor(private readonly file: string) {
    this.partial = `${file}.partial`;
    try {
      // An output folder that does not exist yet is made (`--trace out/run.jsonl` from a fresh clone).
      mkdirSync(dirname(file), { recursive: true });
      this.fd = openSync(this.partial, "w");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "error";
      throw new UsageError(`${file}: cannot write the file (${code})`);
    }
  }

  write(line: string): void {
    this.buffer.push(line);
    this.buffered += line.length + 1;
    if (this.buffered >= 1 << 16) this.flush();
  }

  commit(): void {
    this.flush();
    closeSync(this.fd);
    renameSync(this.partial, this.file);
  }

  abort(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    rmSync(this.partial, { force: true });
  }

  private flush(): void {
    if (this.buffer.length === 0) return;
    writeSync(this.fd, this.buffer.join("\n") + "\n");
    this.buffer = [];
    this.buffered = 0;
  }
}
