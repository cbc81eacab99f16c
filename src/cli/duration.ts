import { UsageError } from '../core/errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go-style durations as kubectl takes them (`30s`, `5m`, `1m30s`, `1500ms`, `0`). */
export function parseDuration(flag: string, raw: string, example: string): number {
  const text = raw.trim();
  if (text === '0') return 0;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw new UsageError('BAD_FLAG_VALUE', `${flag} ${raw}: expected a duration such as ${example}`, 'units: ms, s, m, h (1m30s)');
  }
  return Math.round(parts.reduce((ms, p) => ms + Number(p[1]) * (UNIT_MS[p[2] as string] ?? 0), 0));
}
