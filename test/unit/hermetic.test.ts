/**
 * Hermetic: nothing in the project reads outside its repository. A path that climbs out of the
 * repository (a sibling 'shared' folder, a climb of several parent directories) in source, tests, scripts or benchmarks would work on a
 * developer's machine and fail on a user's clone.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const DIRS = ['src', 'test', 'scripts', 'bench', 'bin'];

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (/\.(ts|mts|js|mjs|cjs|json|ya?ml)$/.test(name)) out.push(p);
  }
  return out;
}

describe('hermetic repository', () => {
  it('no source, test, script or benchmark names the shared folder beside the clone', () => {
    const offenders: string[] = [];
    for (const d of DIRS) {
      for (const f of files(join(ROOT, d))) {
        const text = readFileSync(f, 'utf8');
        text.split('\n').forEach((line, i) => {
          if (/\.\.\/(\.\.\/)*shared\//.test(line)) offenders.push(`${relative(ROOT, f)}:${i + 1}`);
        });
      }
    }
    expect(offenders).toEqual([]);
  });

  it('no relative URL or path in tests climbs above the repository root', () => {
    const offenders: string[] = [];
    for (const f of files(join(ROOT, 'test'))) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/new URL\('((?:\.\.\/)+)[^']*', import\.meta\.url\)/g)) {
        const target = resolve(join(f, '..'), m[1]!);
        if (relative(ROOT, target).startsWith('..')) offenders.push(`${relative(ROOT, f)}: ${m[0]}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
