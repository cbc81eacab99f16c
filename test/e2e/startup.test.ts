/**
 * `podid --help` and `--version` must stay fast: the entry bundle statically imports nothing
 * heavy (AWS SDK, Kubernetes client, the sandbox, YAML, spinners). Heavy modules are dynamic
 * imports in their own chunks. This walks the built bundle's static import graph.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*import\s+(?:[^'"]*?\s+from\s+)?["']([^"']+)["'];?/gm)) out.push(m[1]!);
  for (const m of text.matchAll(/^\s*export\s+[^'"]*?\s+from\s+["']([^"']+)["'];?/gm)) out.push(m[1]!);
  return out;
}

function staticGraph(entry: string): { files: string[]; packages: Set<string> } {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const queue = [entry];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of staticImports(file)) {
      if (spec.startsWith('.')) queue.push(resolve(dirname(file), spec));
      else packages.add(spec);
    }
  }
  return { files: [...seen], packages };
}

describe('start-up path', () => {
  it('the entry bundle statically loads only commander and Node built-ins', () => {
    const { packages } = staticGraph(join(ROOT, 'dist/podid.js'));
    const external = [...packages].filter((p) => !p.startsWith('node:'));
    expect(external).toEqual(['commander']);
  });

  it('the SDKs and the sandbox are reachable only through dynamic imports', () => {
    const entry = readFileSync(join(ROOT, 'dist/podid.js'), 'utf8');
    expect(entry).toMatch(/import\(["']\.\/chunks\//);
    expect(entry).not.toMatch(/@aws-sdk|@kubernetes\/client-node/);
  });

  it('yaml, bundled into a chunk of its own (scripts/build.mjs), is not on the static path either', () => {
    const { files } = staticGraph(join(ROOT, 'dist/podid.js'));
    const withYaml = files.filter((f) => readFileSync(f, 'utf8').includes('YAMLParseError'));
    expect(withYaml).toEqual([]);
  });
});
