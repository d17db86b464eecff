/**
 * Assertions for our own invariants (TigerBeetle style). A failed assertion is a bug in
 * psync-sim, never in the peer or the scenario: those get typed errors instead.
 */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** Documents that both outcomes are expected (TigerBeetle's maybe()). Does nothing. */
export function maybe(_condition: boolean): void {}

/** For exhaustive switches over unions: a new variant must fail to compile. */
export function assertNever(value: never): never {
  throw new AssertionError(`unhandled variant: ${JSON.stringify(value)}`);
}
