/**
 * The scenario AST: what parser.ts builds from a `.scn` file, what printer.ts turns back into
 * text, what the executor walks, and what the fuzzer builds by hand.
 *
 * Theory of operation. Everything here is plain data (no classes, no methods, no cycles), so
 * a test can compare two ASTs with toEqual and the fuzzer can write one as an object literal.
 * Every node carries `pos` (1-based line and column of its first token); an AST built in code
 * uses NO_POS ({line: 0, col: 0}). Units live in field names: `...Us` is an integer count of
 * virtual microseconds, `...Bytes` bytes, `...Bps` bits per second. Node names are plain
 * strings that the parser has checked against `nodes`; `'*'` means "every node" where allowed.
 *
 * The body is one flat list in file order: time statements (`at`, `run`, `await`) and the
 * steps that follow them. A step runs at the instant reached by the time statements above it,
 * exactly as the file reads; the printer indents steps under their time statement.
 *
 * Semantics are those of scenarios/README.md; this file only fixes the shape.
 */

/** A source position: 1-based line and column (in characters) of the first token. */
export interface Pos {
  line: number;
  col: number;
}

/** The position of an AST node built in code rather than parsed. */
export const NO_POS: Pos = Object.freeze({ line: 0, col: 0 }) as Pos;

export interface Scenario {
  /** `title TEXT...`: the rest of the line as written (quotes kept), or null without a title. */
  title: string | null;
  /** `seed N`: decimal digits or 0x-hex as written (the CLI's `--seed` is a string too), or null. */
  seed: string | null;
  /** `nodes NAME...`, in declaration order; never empty in a parsed scenario. */
  nodes: NodeDecl[];
  configs: ConfigDecl[];
  /** Header `link` lines (the defaults and per-pair models at time 0). */
  links: LinkDecl[];
  disks: DiskDecl[];
  /** `clients NAME...`: application client hosts (sim/clients); absent when the file has none. */
  clients?: NodeDecl[];
  /** `client TARGET OPTIONS` lines, in file order; absent when the file has none. */
  clientOptions?: ClientOptionsDecl[];
  /** `sentinels NAME...`: sentinel processes, each on its own host (absent: none). */
  sentinels?: NodeDecl[];
  /** `sentinel TARGET WORDS...`: sentinel.conf lines, in file order (absent: none). */
  sentinelConfigs?: SentinelConfigDecl[];
  /** Everything from the first `at` on, in file order. The first statement is always an `at`. */
  body: Statement[];
}

export interface NodeDecl {
  pos: Pos;
  name: string;
}

/**
 * `config TARGET NAME VALUE...`: a redis.conf line for one node or `*`. NAME and VALUE are kept
 * as written (VALUE is the raw rest of the line, quotes included, `save 900 1` gives "900 1");
 * the executor validates them against Redis's config table.
 */
export interface ConfigDecl {
  pos: Pos;
  target: string; // a node name or '*'
  name: string;
  value: string;
}

/** `client TARGET [timeout DUR] [retry DUR]`: TARGET a client or `*`; absent fields keep the defaults. */
export interface ClientOptionsDecl {
  pos: Pos;
  target: string;
  timeoutUs?: number;
  retryUs?: number;
}

/** `sentinel TARGET WORDS...`: a sentinel.conf line without its leading `sentinel`, for one sentinel or `*`. */
export interface SentinelConfigDecl {
  pos: Pos;
  target: string; // a sentinel name or '*'
  words: string[];
}

/** A link model change; absent fields keep their current value (the defaults at first). */
export interface LinkModel {
  latencyUs?: number;
  jitterUs?: number;
  bandwidthBps?: number;
}

/** `'*'` (the default for every link) or an unordered pair of distinct nodes. */
export type LinkTarget = '*' | [string, string];

export interface LinkDecl {
  pos: Pos;
  target: LinkTarget;
  model: LinkModel;
}

/** `disk TARGET write RATE read RATE`; absent fields keep the default. */
export interface DiskModel {
  writeBps?: number;
  readBps?: number;
}

export interface DiskDecl {
  pos: Pos;
  target: string; // a node name or '*'
  model: DiskModel;
}

// ---------------------------------------------------------------------------------------------
// Body statements

/** `at TIME` (relative: false, timeUs absolute) or `at +DUR` (relative: true, timeUs a delta). */
export interface AtStmt {
  kind: 'at';
  pos: Pos;
  relative: boolean;
  timeUs: number;
}

/** `run DUR` */
export interface RunStmt {
  kind: 'run';
  pos: Pos;
  durUs: number;
}

/** `await PREDICATE within DUR` */
export interface AwaitStmt {
  kind: 'await';
  pos: Pos;
  pred: Predicate;
  withinUs: number;
}

export type TimeStmt = AtStmt | RunStmt | AwaitStmt;

/** `NODE: COMMAND ARGS...`: args[0] is the command name; binary strings (latin1, one char per byte). */
export interface CommandStep {
  kind: 'command';
  pos: Pos;
  node: string;
  args: string[];
}

/** `load NODE COUNT [over DUR] [size BYTES] [keys N] [db N] [ttl DUR]`, defaults filled in. */
export interface LoadStep {
  kind: 'load';
  pos: Pos;
  /** A data node, or (only with `from`) `@MASTERNAME`: the client follows the sentinels. */
  node: string;
  count: number;
  overUs: number; // default 0: all writes at this instant
  sizeBytes: number; // default 16
  keys: number | null; // null: a fresh key:<n> per write
  db: number; // default 0
  /** Extension: `ttl DUR` makes every write `SET key value PX <ms>`; absent = no expiry. */
  ttlUs?: number;
  /** `from CLIENT`: the writes travel over the network from that client (pinned to `node`) into the ledger. */
  from?: string;
  /** `wait N TIMEOUT` (only with `from`): WAIT N TIMEOUT after each write; acknowledged only if it answers >= N. */
  wait?: { replicas: number; timeoutMs: number };
}

/** `partition G1 | G2 [| G3...]`: at least two non-empty, disjoint groups. */
export interface PartitionStep {
  kind: 'partition';
  pos: Pos;
  groups: string[][];
}

/** `partition A -> B`: what A sends to B is held. */
export interface PartitionOneWayStep {
  kind: 'partition-one-way';
  pos: Pos;
  from: string;
  to: string;
}

/** Bare `heal`: undo every partition. */
export interface HealAllStep {
  kind: 'heal-all';
  pos: Pos;
}

/** `heal G1 | G2 [| G3...]`: undo the named partition. */
export interface HealStep {
  kind: 'heal';
  pos: Pos;
  groups: string[][];
}

/** `heal A -> B` */
export interface HealOneWayStep {
  kind: 'heal-one-way';
  pos: Pos;
  from: string;
  to: string;
}

/** `kill-link A B` */
export interface KillLinkStep {
  kind: 'kill-link';
  pos: Pos;
  a: string;
  b: string;
}

/** `crash NODE`, `poweroff NODE`, `restart NODE` */
export interface NodeFaultStep {
  kind: 'crash' | 'poweroff' | 'restart';
  pos: Pos;
  node: string;
}

/** `pause NODE DUR` */
export interface PauseStep {
  kind: 'pause';
  pos: Pos;
  node: string;
  durUs: number;
}

/** `link A B OPTIONS` / `link * OPTIONS` after the first `at`: change the model from now on. */
export interface LinkStep {
  kind: 'link';
  pos: Pos;
  target: LinkTarget;
  model: LinkModel;
}

/** `let NAME = VALUE`: later `$NAME`. A second `let` of the same name overwrites. */
export interface LetStep {
  kind: 'let';
  pos: Pos;
  name: string;
  value: Operand;
}

/** `expect PREDICATE` */
export interface ExpectStep {
  kind: 'expect';
  pos: Pos;
  pred: Predicate;
}

export type Step =
  | CommandStep
  | LoadStep
  | PartitionStep
  | PartitionOneWayStep
  | HealAllStep
  | HealStep
  | HealOneWayStep
  | KillLinkStep
  | NodeFaultStep
  | PauseStep
  | LinkStep
  | LetStep
  | ExpectStep;

export type Statement = TimeStmt | Step;

// ---------------------------------------------------------------------------------------------
// Predicates and values

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'contains';
/** `contains` (the field's text contains the value) is the sentinel extension's operator. */
export const COMPARE_OPS: readonly CompareOp[] = ['==', '!=', '<', '<=', '>', '>=', 'contains'];

/**
 * `NODE.FIELD`: a field of the node's INFO (all sections); for a sentinel, of its INFO.
 * `SENTINEL.MASTER.FIELD` (master set): a field of `SENTINEL MASTER MASTER` by Redis's name.
 * `CLIENT.FIELD` (a client's ledger: sent, acked, failed, unknown, lost) and `writes.FIELD` (the
 * same summed over every load).
 */
export interface FieldRef {
  kind: 'field';
  pos: Pos;
  node: string;
  field: string;
  master?: string;
}

/**
 * A value: a field, a number (a finite decimal such as 42, -1 or 1.5), a bare word (`up`,
 * `master`), a quoted string (binary, latin1), or `$name` (a `let` variable, without the `$`).
 */
export type Operand =
  | FieldRef
  | { kind: 'number'; pos: Pos; value: number }
  | { kind: 'word'; pos: Pos; value: string }
  | { kind: 'string'; pos: Pos; value: string }
  | { kind: 'var'; pos: Pos; name: string };

/** `NODE.FIELD OP VALUE` */
export interface ComparePred {
  kind: 'compare';
  pos: Pos;
  left: FieldRef;
  op: CompareOp;
  right: Operand;
}

/** What `=> REPLY` expects: `OK`, `nil`, an integer, a quoted string, or `error PREFIX`. */
export type ExpectedReply =
  | { kind: 'ok' }
  | { kind: 'nil' }
  | { kind: 'integer'; value: number | bigint } // bigint only beyond ±2^53, as in Reply
  | { kind: 'string'; value: string }
  | { kind: 'error'; prefix: string }
  /** `[ REPLY ... ]`: an array reply, element by element (nested arrays allowed). */
  | { kind: 'array'; items: ExpectedReply[] };

/** `NODE: COMMAND ARGS... => REPLY` */
export interface ReplyPred {
  kind: 'reply';
  pos: Pos;
  node: string;
  args: string[];
  expected: ExpectedReply;
}

/** `converged [NODE...]`: nodes empty means every node that is up. */
export interface ConvergedPred {
  kind: 'converged';
  pos: Pos;
  nodes: string[];
}

/**
 * `settled MASTER`: every sentinel that is up names the same address and config epoch for
 * MASTER; that node is up and a master; every other up data node they list as its replica
 * replicates from it with its link up.
 */
export interface SettledPred {
  kind: 'settled';
  pos: Pos;
  master: string;
}

/** `A and B`, `A or B` (left-associative; `and` binds tighter than `or`). `or` is an extension. */
export interface BinaryPred {
  kind: 'and' | 'or';
  pos: Pos;
  left: Predicate;
  right: Predicate;
}

/** `not A` (binds tighter than `and`). An extension of the language, documented in scenarios/README.md. */
export interface NotPred {
  kind: 'not';
  pos: Pos;
  operand: Predicate;
}

export type Predicate = ComparePred | ReplyPred | ConvergedPred | SettledPred | BinaryPred | NotPred;
