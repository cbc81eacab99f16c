/**
 * The CLI's one place for terminal concerns: colour (NO_COLOR, --no-color, TTY), progress
 * spinners (ora, only when stderr is a TTY), and where output goes (results on stdout,
 * progress and errors on stderr).
 */
import { UsageError } from '../core/errors.js';
import type { Palette } from '../render/palette.js';
import type { CliContext } from './context.js';

export interface Io {
  palette: Palette;
  /** Report progress; a spinner on a TTY, nothing otherwise. */
  progress(message: string): void;
  /** Stop the spinner (before printing results or errors). */
  done(): void;
  /** Writes to stdout; nothing once its reader has gone (see watchStdout). */
  out(text: string): void;
  /**
   * Writes a long document piece by piece, each piece made only when stdout has taken the last
   * (a pipe to a slower reader would otherwise buffer the whole document in memory). Stops as
   * soon as the reader goes away.
   */
  outChunks(chunks: Iterable<string>): Promise<void>;
  warn(text: string): void;
}

export interface IoOptions {
  /** commander's --no-color sets color: false. */
  color?: boolean;
}

/** Colour on stdout: --no-color and NO_COLOR win, FORCE_COLOR forces it, else only on a terminal. */
export function colorWanted(opts: IoOptions, env: Readonly<Record<string, string | undefined>>, isTty: boolean): boolean {
  if (opts.color === false) return false;
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  if (env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '0') return true;
  return isTty;
}

/**
 * Spinners only on an interactive terminal: not when piped, not in CI, and not on a pty that
 * reports 0 columns (script(1) gives one), where the spinner would redraw forever.
 */
export function spinnerWanted(stream: { isTTY?: boolean | undefined; columns?: number | undefined }, env: Readonly<Record<string, string | undefined>>): boolean {
  return Boolean(stream.isTTY) && (stream.columns ?? 0) > 0 && env['CI'] === undefined;
}

interface StdoutState {
  /** The reader closed the pipe (`podid scan | head`, `| grep -q`): nothing more can be written, and nothing is wrong. */
  readerGone: boolean;
  /** stdout failed otherwise (a full disk behind `> file`). */
  failure: UsageError | undefined;
  /** The running command has --out (migrate): the failure's hint offers it. */
  outFlag: boolean;
}

const stdoutStates = new WeakMap<object, StdoutState>();

/**
 * What became of the run's stdout, watched once per stream. A reader that went away (EPIPE)
 * ends the output quietly and the command keeps its own exit code (a gate that failed still
 * exits 3 under `| head`); any other failure is WRITE_FAILED, thrown from the next write and
 * reported by flushStdout at the end of the run.
 */
export function watchStdout(stdout: CliContext['stdout']): StdoutState {
  const known = stdoutStates.get(stdout);
  if (known) return known;
  const state: StdoutState = { readerGone: false, failure: undefined, outFlag: false };
  stdoutStates.set(stdout, state);
  stdout.on('error', (err: unknown) => {
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED') state.readerGone = true;
    else state.failure ??= new UsageError('WRITE_FAILED', `stdout: cannot write (${err instanceof Error ? err.message : String(err)})`, `check where stdout goes (a full disk, a closed file), or ${state.outFlag ? 'write to a file with --out' : 'redirect it to a file with space'}`);
  });
  return state;
}

/** The running command has --out: a stdout that cannot be written suggests it. */
export function offerOutFlag(stdout: CliContext['stdout']): void {
  watchStdout(stdout).outFlag = true;
}

function destroyed(stream: NodeJS.WritableStream): boolean {
  return (stream as { destroyed?: boolean }).destroyed === true;
}

/** Waits until stdout has handed everything written to the OS; the failure to, if any. */
export async function flushStdout(stdout: CliContext['stdout']): Promise<UsageError | undefined> {
  const state = watchStdout(stdout);
  if (!state.readerGone && !state.failure && !destroyed(stdout)) await new Promise<void>((done) => stdout.write('', () => done()));
  return state.failure;
}

/** Resolves when `stream` can take more ('drain') or nothing more ('error', 'close'). */
function writable(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((done) => {
    if (destroyed(stream)) {
      done();
      return;
    }
    const settle = (): void => {
      stream.off('drain', settle);
      stream.off('error', settle);
      stream.off('close', settle);
      done();
    };
    stream.on('drain', settle);
    stream.on('error', settle);
    stream.on('close', settle);
  });
}

export async function createIo(opts: IoOptions, ctx: CliContext): Promise<Io> {
  const { plainPalette, chalkPalette } = await import('../render/palette.js');
  let palette = plainPalette;
  const color = colorWanted(opts, ctx.env, Boolean(ctx.stdout.isTTY));
  if (color) {
    const { Chalk } = await import('chalk');
    palette = chalkPalette(new Chalk({ level: 1 }));
  }
  let spinner: { text: string; stop(): unknown } | undefined;
  const tty = spinnerWanted(ctx.stderr, ctx.env);
  // ora loads only when there is a terminal to spin on.
  const ora = tty ? (await import('ora')).default : undefined;
  const stdout = watchStdout(ctx.stdout);
  /** False once the reader has gone; throws once stdout failed for another reason. */
  const canWrite = (): boolean => {
    if (stdout.failure) throw stdout.failure;
    return !stdout.readerGone;
  };
  return {
    palette,
    progress(message) {
      if (!ora) return;
      if (spinner) spinner.text = message;
      else spinner = ora({ text: message, stream: ctx.stderr, color: color ? 'cyan' : false }).start();
    },
    done() {
      spinner?.stop();
      spinner = undefined;
    },
    out(text) {
      if (canWrite()) ctx.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    },
    async outChunks(chunks) {
      for (const chunk of chunks) {
        if (!canWrite()) return;
        if (!ctx.stdout.write(chunk)) await writable(ctx.stdout);
      }
    },
    warn(text) {
      ctx.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
    },
  };
}
