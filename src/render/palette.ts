/**
 * Colours for the human renderers. Renderers never decide whether to colour: the CLI builds a
 * chalk instance at the level NO_COLOR / --no-color / the TTY allow and passes it in through
 * `chalkPalette`; tests and machine formats use `plainPalette`. What colour a verdict or a
 * severity gets is decided here and nowhere else.
 */
import type { Severity, Verdict } from '../core/scan/inventory.js';

export type Paint = (s: string) => string;

export interface Palette {
  readonly red: Paint;
  readonly yellow: Paint;
  readonly green: Paint;
  readonly cyan: Paint;
  readonly dim: Paint;
  readonly bold: Paint;
}

const identity: Paint = (s) => s;

export const plainPalette: Palette = Object.freeze({
  red: identity,
  yellow: identity,
  green: identity,
  cyan: identity,
  dim: identity,
  bold: identity,
});

/** The part of a chalk instance podid uses; structural, so chalk stays out of this module. */
export interface ChalkLike {
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  cyan(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

export function chalkPalette(chalk: ChalkLike): Palette {
  // Wrapped rather than passed through: chalk's methods are getters returning builders.
  return Object.freeze({
    red: (s: string) => chalk.red(s),
    yellow: (s: string) => chalk.yellow(s),
    green: (s: string) => chalk.green(s),
    cyan: (s: string) => chalk.cyan(s),
    dim: (s: string) => chalk.dim(s),
    bold: (s: string) => chalk.bold(s),
  });
}

export function paintVerdict(p: Palette, verdict: Verdict, text: string = verdict): string {
  switch (verdict) {
    case 'ready':
      return p.green(text);
    case 'ready-with-warnings':
      return p.yellow(text);
    case 'blocked':
      return p.red(text);
    case 'partial':
      return p.cyan(text);
    case 'migrated':
      return p.dim(text);
  }
}

/** Short, fixed-width, ASCII labels: they line up and survive any terminal or CI log. */
export const SEVERITY_LABEL: Readonly<Record<Severity, string>> = { error: 'error', warning: 'warn', info: 'info' };

export function paintSeverity(p: Palette, severity: Severity, text: string = SEVERITY_LABEL[severity]): string {
  switch (severity) {
    case 'error':
      return p.red(text);
    case 'warning':
      return p.yellow(text);
    case 'info':
      return p.dim(text);
  }
}
