/**
 * One string order in podid's own code: compareStrings (core/text.ts), code-unit order, the same
 * on every machine. localeCompare depends on the locale (ICU data, LANG) and puts "a" before
 * "B", so journals, reports and plans sorted with it could differ between machines.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compareStrings } from '../../src/core/text.js';
import { compareVersions } from '../../src/sandbox/aws/eks-catalog.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('string order', () => {
  it('compareStrings is code-unit order', () => {
    expect(['b', 'B', 'a', 'a-b', 'a_b'].sort(compareStrings)).toEqual(['B', 'a', 'a-b', 'a_b', 'b']);
  });

  it('src/core, src/app, src/render, src/cli and the sandbox never call localeCompare', () => {
    const offenders = ['core', 'app', 'render', 'cli', 'sandbox']
      .flatMap((d) => files(join(ROOT, 'src', d)))
      .flatMap((f) => readFileSync(f, 'utf8').split('\n').flatMap((line, i) => (/\.localeCompare\(/.test(line) ? [`${relative(ROOT, f)}:${i + 1}`] : [])));
    expect(offenders).toEqual([]);
  });

  it("the sandbox orders add-on versions' words in byte order, as EKS does", () => {
    expect(['v1.2.0-eksbuild.1', 'v1.2.0-Eksbuild.1', 'v1.10.0-eksbuild.1'].sort(compareVersions)).toEqual(['v1.2.0-Eksbuild.1', 'v1.2.0-eksbuild.1', 'v1.10.0-eksbuild.1']);
  });
});
