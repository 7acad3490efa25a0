/**
 * Bad input never produces a stack trace: a UsageError (or a ScenarioError) is printed as one line and the
 * process exits with code 2.
 */

export class UsageError extends Error {}

export const EXIT_OK = 0;
export const EXIT_EXPECTATION_FAILED = 1;
export const EXIT_USAGE = 2;

export function parseSeed(text: string): number | string {
  if (/^-?\d+$/.test(text)) {
    const seed = Number(text);
    if (Number.isSafeInteger(seed)) return seed;
  }
  throw new UsageError(`--seed: expected an integer, found "${text}"`);
}
