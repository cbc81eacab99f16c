/**
 * `podid` on a shell's PATH: a script (docs' runbook) then runs every command as written,
 * through bash, as the built binary (bin/podid.js under this Node), a process of its own per
 * command, as a user's shell runs it.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from './cli.js';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A directory holding `podid` to put first on PATH; close() removes it. */
export async function podidOnPath(): Promise<{ bin: string; close(): Promise<void> }> {
  const bin = mkdtempSync(join(tmpdir(), 'podid-on-path-'));
  writeFileSync(join(bin, 'podid'), `#!/bin/sh\nexec ${quote(process.execPath)} ${quote(BIN)} "$@"\n`);
  chmodSync(join(bin, 'podid'), 0o755);
  return { bin, close: async () => rmSync(bin, { recursive: true, force: true }) };
}
