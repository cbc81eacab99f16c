/**
 * vitest globalSetup: every temporary file of a test run (journals, kubeconfigs, plans, exec
 * plugins, the demo's and the sandboxes' directories) goes under one directory, removed when the
 * run ends, so no run leaves directories behind (the tests' own clean-up is not relied upon).
 * TMPDIR is set before the test workers start; they and every process they start inherit it.
 *
 * That directory is on a RAM disk where there is one: podid fsyncs every journal record and the
 * journal's directory, as it must on a real disk, and there those fsyncs block the test worker,
 * and the in-process sandbox it serves. On tmpfs an fsync returns at once; the product still
 * makes every one of them. Only a tmpfs /dev/shm mounted without noexec is used (the tests run
 * exec plugins from their temporary directories), and only when TMPDIR is not set already.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function ramDisk(): string | undefined {
  if (process.env.TMPDIR) return undefined;
  try {
    const shm = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')).find((f) => f[1] === '/dev/shm');
    return shm && shm[2] === 'tmpfs' && !(shm[3] ?? '').split(',').includes('noexec') ? '/dev/shm' : undefined;
  } catch {
    return undefined;
  }
}

export default function setup(): () => void {
  const dir = mkdtempSync(join(ramDisk() ?? tmpdir(), 'podid-tests-'));
  process.env.TMPDIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
