/**
 * What a `psiweb` sub-command talks to: its output streams and how it ends. Commands
 * take it as a parameter, so tests run them in-process and read what they printed.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { PsiwebError } from '../../errors.ts';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** A CliIo that keeps what a command printed (for running commands in-process in tests). */
export function capturingIo(): CliIo & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    stdout: (t: string) => void (io.out += t),
    stderr: (t: string) => void (io.err += t),
  };
  return io;
}

export const processIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

/** Bad command-line arguments: the command prints the message and its usage, exit 2. */
export class UsageError extends PsiwebError {
  override name = 'UsageError';
}

/** Exit codes: 0 done, 1 the operation failed (abort, refused transaction), 2 bad usage. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** node:util's parseArgs with positionals allowed; a malformed command line is a UsageError. */
export function parseCommandLine<const O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, strict: true, options });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
