/**
 * What one run of the CLI is given by whoever hosts it: the environment, the working directory
 * and the three standard streams (with their terminal facts). `main.ts` passes the real
 * process's; tests run the same CLI in-process with their own (test/helpers/podid.ts). Nothing
 * in src/cli or src/app reads process.env, process.cwd() or the process's streams, or calls
 * process.exit: they read this. Signal handling stays per process (live-ports.ts, sandbox.ts).
 */
import { homedir } from 'node:os';
import { resolve } from 'node:path';

/** A stream podid writes to; `isTTY` and `columns` as Node's tty.WriteStream has them. */
export type CliOutput = NodeJS.WritableStream & { readonly isTTY?: boolean; readonly columns?: number };

export interface CliContext {
  /**
   * The environment podid reads its own variables from (cli/env.ts). The AWS SDK reads its own
   * (AWS_ENDPOINT_URL*, credentials, AWS_PROFILE, AWS_CONFIG_FILE, ...) from process.env, so a
   * host must make process.env agree with this for the duration of the run: the real process
   * passes process.env itself; the in-process test host swaps process.env for each run (see
   * runCli for why podid does not pass those to the SDK itself).
   */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Relative paths on the command line and in the environment are relative to this. */
  readonly cwd: string;
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean };
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
}

/** A path as given on the command line, resolved against the run's working directory for I/O. */
export function pathIn(ctx: Pick<CliContext, 'cwd'>, path: string): string {
  return resolve(ctx.cwd, path);
}

/** The home directory: HOME as the run sees it (what os.homedir() reads on POSIX), else the OS's. */
export function homeOf(ctx: Pick<CliContext, 'env'>): string {
  const home = ctx.env['HOME'];
  return home !== undefined && home !== '' ? home : homedir();
}

/**
 * All of stdin, as bytes. At a terminal, podid would otherwise sit silent waiting for input
 * that is never coming (a `-` typed by mistake, a pipe forgotten): one line on stderr says what
 * it reads and how to end it. Nothing is said when stdin is a pipe or a file.
 */
export async function readStdin(ctx: Pick<CliContext, 'stdin' | 'stderr'>, what: string): Promise<Buffer> {
  if (ctx.stdin.isTTY === true) ctx.stderr.write(`podid: reading ${what} from stdin (end with ${process.platform === 'win32' ? 'Ctrl-Z, Enter' : 'Ctrl-D'})\n`);
  return readAll(ctx.stdin);
}

/** All of stdin, as bytes. */
async function readAll(stdin: CliContext['stdin']): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}
