/**
 * The CLI runs against its CliContext (src/cli/context.ts): nothing in src/cli or src/app reads
 * the process's environment, working directory or streams, or ends the process, except main()
 * (the shell that passes the real process's) and the SIGINT (and SIGTERM) handlers (a second
 * interrupt exits 130 at once). This is what lets the tests run the CLI in-process (test/helpers/podid.ts)
 * without one run's environment or output leaking into another's.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Source without comments, so a comment that names process.env is not a use of it. */
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`])\/\/.*$/gm, '$1');

const PROCESS_IO = /\bprocess\.(env|cwd|stdout|stderr|stdin|exit|exitCode|argv)\b/g;

describe('src/cli and src/app reach the process only through the CliContext', () => {
  it('no process.env, cwd(), stdout, stderr, stdin, argv or exit outside main() and the SIGINT handlers', () => {
    const offenders: string[] = [];
    for (const file of [...files(join(ROOT, 'src/cli')), ...files(join(ROOT, 'src/app'))]) {
      const rel = relative(ROOT, file);
      const lines = code(readFileSync(file, 'utf8')).split('\n');
      const shellStart = rel === 'src/cli/main.ts' ? lines.findIndex((l) => l.startsWith('export async function main(')) : -1;
      lines.forEach((line, i) => {
        if (shellStart >= 0 && i >= shellStart) return;
        for (const m of line.matchAll(PROCESS_IO)) {
          // A second SIGINT ends the process at once (live-ports.ts, commands/apply.ts).
          if (m[1] === 'exit' && line.includes('process.exit(ExitCode.interrupted)') && lines.slice(Math.max(0, i - 3), i).some((l) => l.includes("'SIGINT'"))) continue;
          offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
        }
      });
    }
    expect(offenders).toEqual([]);
  });

  it('the check sees a use of the process in code, and not one in a comment', () => {
    expect(code('const a = process.env.X; // process.cwd()').match(PROCESS_IO)).toEqual(['process.env']);
    expect(code('/* process.stdout */ write(1);').match(PROCESS_IO)).toBeNull();
  });
});
