/**
 * A RESP2 reply as a value. The node builds these; resp.ts encodes them for network clients,
 * and the scenario runner compares them for `NODE: CMD => REPLY` predicates.
 * Strings are "binary strings": one JS char per byte (latin1), as everywhere in the core.
 */
export type Reply =
  | { readonly kind: 'status'; readonly text: string }
  | { readonly kind: 'error'; readonly text: string } // without the leading '-', e.g. "ERR syntax error"
  | { readonly kind: 'int'; readonly value: number | bigint } // bigint only outside ±2^53 (intExact())
  | { readonly kind: 'bulk'; readonly value: string | null } // null = nil bulk ($-1)
  | { readonly kind: 'array'; readonly items: readonly Reply[] | null }; // null = nil array (*-1)

export const OK: Reply = { kind: 'status', text: 'OK' };
export const NIL: Reply = { kind: 'bulk', value: null };
export const status = (text: string): Reply => ({ kind: 'status', text });
export const err = (text: string): Reply => ({ kind: 'error', text });
export const int = (value: number): Reply => ({ kind: 'int', value });
/** A 64-bit integer reply: a number where that is exact, else the bigint (PTTL of a far expiry). */
export const intExact = (value: bigint): Reply =>
  ({ kind: 'int', value: value >= -9007199254740991n && value <= 9007199254740991n ? Number(value) : value });
export const bulk = (value: string | null): Reply => ({ kind: 'bulk', value });
export const array = (items: readonly Reply[] | null): Reply => ({ kind: 'array', items });

/** Redis's standard error texts, so every command says the same thing for the same fault. */
export const errWrongArgs = (cmd: string): Reply =>
  err(`ERR wrong number of arguments for '${cmd.toLowerCase()}' command`);
export const errSyntax: Reply = err('ERR syntax error');
export const errNotInteger: Reply = err('ERR value is not an integer or out of range');
export const errWrongType: Reply = err('WRONGTYPE Operation against a key holding the wrong kind of value');
