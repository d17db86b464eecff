/**
 * Exit statuses and the process-level error policy of the psync-sim command line. A CI reads
 * the status, so each one means exactly one thing:
 *   0 every check held; 1 an expectation failed (or fuzz found a failure); 2 invalid input of
 *   any kind (a scenario file, a flag, a value, an unwritable output path), one line, no stack;
 *   3 an internal error (a psync-sim bug): one line and the command that reproduces it, the
 *   stack only with --debug; 130 interrupted (SIGINT) after the summary so far.
 * Wall clock, signals and the environment are allowed here: this is the CLI, not the simulation.
 */

export const EXIT = { ok: 0, failed: 1, invalid: 2, internal: 3, interrupted: 130 } as const;

export const EXIT_CODES_HELP = [
  'Exit status:',
  '  0    every check held (fuzz: no failure found)',
  '  1    an expectation failed (fuzz: a failure was found and written)',
  '  2    invalid input: a scenario file (FILE:LINE:COL: message), a flag, a value, an output path',
  '  3    internal error, a psync-sim bug: one line and the command to replay it (--debug: the stack)',
  '  130  interrupted (Ctrl-C), after printing the summary so far',
].join('\n');

/** Invalid input from the user: printed as one line, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

let interrupted = false;
/** True once SIGINT arrived; long loops stop at their next boundary and print what they have. */
/**
 * A numeric option's value as a usage error shows it: yargs turns a value that is not a number
 * (`--runs abc`) into NaN, which would read as "got NaN".
 */
export function shownNumber(v: number): string {
  return Number.isNaN(v) ? 'something that is not a number' : String(v);
}

export function isInterrupted(): boolean {
  return interrupted;
}

/**
 * Install the process-wide policy: SIGINT sets the flag (a second one exits at once, 130);
 * EPIPE on stdout (`psync-sim ... | head`) ends quietly with the status so far; ENOSPC on
 * stdout ends with one line and status 2 (the output path cannot be written).
 */
export function installProcessPolicy(): void {
  process.on('SIGINT', () => {
    if (interrupted) process.exit(EXIT.interrupted);
    interrupted = true;
    for (const f of interruptHooks) f();
  });
  const onStreamError = (e: NodeJS.ErrnoException): void => {
    if (e.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok);
    if (e.code === 'ENOSPC') {
      try {
        process.stderr.write('psync-sim: stdout: no space left on device\n');
      } catch {
        // stderr may be full too: the status still tells.
      }
      process.exit(EXIT.invalid);
    }
    throw e;
  };
  process.stdout.on('error', onStreamError);
  process.stderr.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ENOSPC') process.exit(typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok);
    throw e;
  });
}

/** A one-line shell rendering of argv, to tell the user how to reproduce an internal error. */
export function replayLine(argv: readonly string[]): string {
  const q = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return ['psync-sim', ...argv.map(q)].join(' ');
}

/** Is this error an OS-level problem with a path the user gave (not a psync-sim bug)? */
export function isPathError(e: unknown): e is NodeJS.ErrnoException {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && ['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR', 'EROFS', 'ENOSPC', 'EPERM', 'EEXIST', 'ENAMETOOLONG', 'ELOOP'].includes(code);
}

const interruptHooks: Array<() => void> = [];
/** Call `f` when SIGINT arrives (a campaign on worker threads stops its workers). */
export function onInterrupt(f: () => void): void {
  interruptHooks.push(f);
}
