/**
 * Virtual time. The simulator's clock counts integer microseconds from the start of a run; Kafka and
 * ZooKeeper configs are in milliseconds, so model code converts at the edge with `ms()`. No ambient time here.
 */

/** Integer microseconds of virtual time. */
export type Micros = number;

export const MICROS_PER_MS = 1000;
export const MICROS_PER_SECOND = 1_000_000;

/** Milliseconds (possibly fractional) → integer microseconds. */
export function ms(milliseconds: number): Micros {
  return Math.round(milliseconds * MICROS_PER_MS);
}

export function seconds(s: number): Micros {
  return Math.round(s * MICROS_PER_SECOND);
}

export function toMs(t: Micros): number {
  return t / MICROS_PER_MS;
}

const UNIT_MS: Record<string, number> = { us: 0.001, "µs": 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s|m|h)\s*$/;

/**
 * Parses a scenario duration: a number of milliseconds or a string with a unit ("250ms", "3.1s", "2m", "1h").
 * Returns microseconds, or null when the text is not a duration (callers turn that into a located error).
 */
export function parseDuration(value: unknown): Micros | null {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? ms(value) : null;
  if (typeof value !== "string") return null;
  const match = DURATION.exec(value);
  if (match === null) return null;
  return ms(Number(match[1]) * UNIT_MS[match[2]]);
}

/** "1.234s"-style rendering of a virtual time, for summaries and errors. */
export function formatTime(t: Micros): string {
  if (t < MICROS_PER_MS) return `${t}µs`;
  if (t < MICROS_PER_SECOND) return `${(t / MICROS_PER_MS).toFixed(3).replace(/\.?0+$/, "")}ms`;
  return `${(t / MICROS_PER_SECOND).toFixed(6).replace(/\.?0+$/, "")}s`;
}
