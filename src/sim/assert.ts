/**
 * Model assertions. A failed assertion is a bug in the simulator (never a Kafka error, which is a typed
 * value): it throws ModelAssertionError, and the run loop turns it into an `assertion-failed` verdict.
 */

export class ModelAssertionError extends Error {
  override name = "ModelAssertionError";
}

export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ModelAssertionError(message);
}

export function unreachable(value: never, message = "unreachable"): never {
  throw new ModelAssertionError(`${message}: ${String(value)}`);
}
