/**
 * ScenarioError: what is wrong with a scenario file, and where.
 *
 * Theory of operation. The lexer, the unit parsers and the parser throw this and nothing else
 * for a bad file (a thrown AssertionError is a bug in psync-sim, not in the file). `format()`
 * gives `FILE:LINE:COL: message`, the shape compilers use, so editors can jump to it; the
 * CLI prints exactly that and exits with status 2, never a stack trace. Line and column are
 * 1-based; the column is that of the offending token.
 */
export class ScenarioError extends Error {
  override name = 'ScenarioError';

  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    override readonly message: string,
  ) {
    super(message);
  }

  /** `FILE:LINE:COL: message` */
  format(): string {
    return `${this.file}:${this.line}:${this.col}: ${this.message}`;
  }
}
