/**
 * The CLI's one place for terminal concerns: colour (NO_COLOR, --no-color, TTY), progress
 * spinners (ora, only when stderr is a TTY), and where output goes (results on stdout,
 * progress and errors on stderr).
 */
import { once } from 'node:events';
import type { Palette } from '../render/palette.js';
import type { CliContext } from './context.js';

export interface Io {
  palette: Palette;
  /** Report progress; a spinner on a TTY, nothing otherwise. */
  progress(message: string): void;
  /** Stop the spinner (before printing results or errors). */
  done(): void;
  out(text: string): void;
  /**
   * Writes a long document piece by piece, each piece made only when stdout has taken the last
   * (a pipe to a slower reader would otherwise buffer the whole document in memory).
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
      ctx.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    },
    async outChunks(chunks) {
      for (const chunk of chunks) {
        if (!ctx.stdout.write(chunk)) await once(ctx.stdout, 'drain');
      }
    },
    warn(text) {
      ctx.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
    },
  };
}
