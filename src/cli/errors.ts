/**
 * Bad input never produces a stack trace: a UsageError (or a ScenarioError) is printed as one line and the
 * process exits with code 2. Exit codes: 0 expectation met, 1 not met, 2 bad input, 3 no verdict about Kafka
 * (a model error, a stall, or the run's event / wall-time / memory bound).
 */

export class UsageError extends Error {}

export const EXIT_OK = 0;
export const EXIT_EXPECTATION_FAILED = 1;
export const EXIT_USAGE = 2;
/** The run reached no verdict about Kafka: the model failed, or the run stopped at a bound before its end. */
export const EXIT_NO_VERDICT = 3;

/** Verdicts that say nothing about Kafka: the simulator failed, or the run was cut short by one of its bounds. */
const NO_VERDICT = new Set(["model-error", "stalled", "event-limit", "wall-limit", "memory-limit"]);

export function reachedVerdict(result: { verdict: string }): boolean {
  return !NO_VERDICT.has(result.verdict);
}

/** 0: expectation met; 1: not met; 3: no verdict (model error or a bound reached). */
export function exitCodeOf(result: { verdict: string; expectationMet: boolean }): number {
  if (!reachedVerdict(result)) return EXIT_NO_VERDICT;
  return result.expectationMet ? EXIT_OK : EXIT_EXPECTATION_FAILED;
}

export function parseSeed(text: string): number | string {
  if (/^-?\d+$/.test(text)) {
    const seed = Number(text);
    if (Number.isSafeInteger(seed)) return seed;
  }
  throw new UsageError(`--seed: expected an integer, found "${text}"`);
}
