/**
 * The sandbox's credential model must not share code with podid's own policy evaluator
 * (src/core/policy): the sandbox is the end-to-end oracle for podid's trust changes (issue 8), and
 * an oracle that shares the evaluator would share its bugs. This walks every module the sandbox
 * imports, transitively, and fails on any path into src/core/policy.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FORBIDDEN = resolve(ROOT, 'src/core/policy');

function localImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
    const spec = (m[1] ?? m[2])!;
    out.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
  }
  return out;
}

function reach(entry: string): Map<string, string> {
  const seen = new Map<string, string>([[entry, '']]);
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const dep of localImports(file)) {
      if (seen.has(dep)) continue;
      seen.set(dep, file);
      if (!dep.startsWith(FORBIDDEN)) queue.push(dep);
    }
  }
  return seen;
}

describe('sandbox independence from podid\'s policy evaluator', () => {
  it('no module reachable from the sandbox server imports src/core/policy', () => {
    const seen = reach(resolve(ROOT, 'src/sandbox/server.ts'));
    expect(seen.has(resolve(ROOT, 'src/sandbox/credentials.ts'))).toBe(true);
    const bad = [...seen].filter(([f]) => f.startsWith(FORBIDDEN)).map(([f, from]) => `${from.slice(ROOT.length + 1)} -> ${f.slice(ROOT.length + 1)}`);
    expect(bad).toEqual([]);
  });

  it('the walker would see such an import', () => {
    // A module known to import the evaluator: the check above is not vacuous.
    const seen = reach(resolve(ROOT, 'src/core/policy/index.ts'));
    expect([...seen.keys()].some((f) => f.startsWith(FORBIDDEN) && !f.endsWith('index.ts'))).toBe(true);
  });
});
