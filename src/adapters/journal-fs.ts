/**
 * The run journal and the apply lock on the local filesystem.
 *
 * Journal: `<dir>/<runId>.jsonl`, mode 0600, in a directory created 0700. The first record is
 * written to a temporary file, fsynced, renamed into place and the directory fsynced, so the
 * journal either exists whole or not at all; every later record is one append followed by fsync
 * before the run goes on (see core/apply/journal.ts).
 *
 * Lock: one file per cluster (`<dir>/locks/<sha256 of the cluster ARN>.lock`, created with
 * O_EXCL) holding the owner's pid, host and run id. A lock whose owner is on this host and no
 * longer running is stale and taken over; a lock held by a live process, or by another host,
 * refuses the run (exit 4) with the file to delete if that run is known to be dead.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PodidError, RefusedError, UsageError } from '../core/errors.js';
import { linkRuns, parseJournal, summarizeJournal, type AnyRunRecord, type HeldLock, type JournalRecord, type JournalStore, type JournalWriter, type LockPort, type RunSummary } from '../core/apply/journal.js';

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems do not allow fsync on a directory; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * `mkdir -p`, one directory at a time from the nearest existing ancestor. Not
 * `mkdirSync(..., { recursive: true })`: under a pseudo filesystem that answers ENOENT to every
 * mkdir (`/proc/x`, `/sys/x`) Node's recursive mkdir retries the parent for ever, a hang.
 */
function makeDirs(dir: string): void {
  const missing: string[] = [];
  let at = resolve(dir);
  for (;;) {
    try {
      if (!statSync(at).isDirectory()) throw Object.assign(new Error(`${at} is not a directory`), { code: 'ENOTDIR' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      missing.push(at);
      const parent = dirname(at);
      if (parent === at) break;
      at = parent;
    }
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

function ensureDir(dir: string, flag: string): void {
  try {
    makeDirs(dir);
  } catch (err) {
    throw new UsageError('JOURNAL_DIR_UNUSABLE', `${flag} ${dir}: cannot create the directory (${(err as NodeJS.ErrnoException).code ?? String(err)})`, 'pass a writable --journal-dir');
  }
}

/** Creates the journal of a run with its first record, durably, and returns it open for appending. */
export function createJournal(dir: string, first: AnyRunRecord): JournalWriter {
  ensureDir(dir, '--journal-dir');
  const path = join(dir, `${first.runId}.jsonl`);
  const tmp = `${path}.tmp`;
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(first)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    fsyncDir(dir);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new UsageError('JOURNAL_WRITE_FAILED', `cannot write the run journal ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)}); nothing was changed`, 'pass a writable --journal-dir');
  }
  const fd = openSync(path, 'a', 0o600);
  return {
    path,
    async append(record) {
      try {
        writeSync(fd, `${JSON.stringify(record)}\n`);
        fsyncSync(fd);
      } catch (err) {
        throw new PodidError('JOURNAL_WRITE_FAILED', `cannot append to the run journal ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { hint: 'free space or fix permissions, then run podid migrate --apply again: it resumes from the current state' });
      }
    },
  };
}

export interface LockInfo {
  pid: number;
  host: string;
  runId: string;
  cluster: string;
  startedAt: string;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a lock's owner is known to be gone: same host, process not running (or the file is not a lock). */
export function lockIsStale(info: LockInfo | null, here: { host: string; alive: (pid: number) => boolean }): boolean {
  if (info === null) return true;
  return info.host === here.host && !here.alive(info.pid);
}

function readLock(path: string): LockInfo | null {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
    return typeof parsed.pid === 'number' && typeof parsed.host === 'string' ? parsed : null;
  } catch {
    return null;
  }
}

/** Takes one lock file per cluster (in a fixed order), or none: refuses while another live apply holds any. */
export function acquireLocks(dir: string, clusters: readonly string[], runId: string, now: () => string): HeldLock {
  const lockDir = join(dir, 'locks');
  ensureDir(lockDir, '--journal-dir');
  const held: string[] = [];
  const release = () => {
    for (const p of held.splice(0)) rmSync(p, { force: true });
  };
  const host = hostname();
  try {
    for (const cluster of [...new Set(clusters)].sort()) {
      const path = join(lockDir, `${createHash('sha256').update(cluster).digest('hex').slice(0, 32)}.lock`);
      const info: LockInfo = { pid: process.pid, host, runId, cluster, startedAt: now() };
      for (let attempt = 0; ; attempt++) {
        try {
          const fd = openSync(path, 'wx', 0o600);
          try {
            writeSync(fd, `${JSON.stringify(info)}\n`);
            fsyncSync(fd);
          } finally {
            closeSync(fd);
          }
          held.push(path);
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
            throw new UsageError('LOCK_FAILED', `cannot create the lock file ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, 'pass a writable --journal-dir');
          }
          const owner = readLock(path);
          if (attempt === 0 && lockIsStale(owner, { host, alive: pidAlive })) {
            rmSync(path, { force: true });
            continue;
          }
          throw new RefusedError(
            'APPLY_LOCKED',
            `another podid run holds the lock of ${cluster}${owner ? ` (run ${owner.runId}, pid ${owner.pid} on ${owner.host}, since ${owner.startedAt})` : ''}`,
            `wait for it to finish; if that run is dead, delete ${path}`,
          );
        }
      }
    }
  } catch (err) {
    release();
    throw err;
  }
  return { release };
}

/** The journal directory as apply's JournalStore and LockPort. */
export function journalDirectory(dir: string, now: () => string = () => new Date().toISOString()): JournalStore & LockPort {
  return {
    create: async (first) => createJournal(dir, first),
    acquire: (clusters, runId) => acquireLocks(dir, clusters, runId, now),
  };
}

const isStrings = (v: unknown): boolean => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Why a journal's first record cannot be a run podid lists, shows or rolls back (null: it can):
 * the same check for `podid runs`, `runs show` and `rollback`. The run id inside must be the
 * file's name, so a copied journal never shows as a second run with the same id.
 */
export function runRecordProblem(fileName: string, records: readonly JournalRecord[]): string | null {
  const run = records[0] as unknown as Record<string, unknown> | undefined;
  if (run === undefined || summarizeJournal(fileName, records) === null) return 'its first record is not a podid run record';
  if (typeof run['runId'] !== 'string' || typeof run['startedAt'] !== 'string') return 'its run record has no run id or start time';
  if (!isStrings(run['clusters'])) return 'its run record\'s clusters is not a list of cluster ARNs';
  const command = run['command'] ?? 'apply';
  if (command === 'apply') {
    const plan = run['plan'] as Record<string, unknown> | undefined;
    if (!isObject(plan) || !Array.isArray(plan!['steps']) || !Array.isArray(plan!['clusters']) || !isObject(run['previous'])) return 'its run record has no plan or previous state';
  } else if (command === 'finalize') {
    if (!isObject(run['contexts']) || !isObject(run['previous'])) return 'its run record has no contexts or previous state';
  } else if (command === 'rollback') {
    if (typeof run['rollbackOf'] !== 'string') return 'its run record does not name the run it rolls back';
  } else return `its run record names an unknown command ${JSON.stringify(command)}`;
  if (`${String(run['runId'])}.jsonl` !== fileName) return `its run id ${JSON.stringify(run['runId'])} is not its file name (a copied or renamed journal)`;
  return null;
}

/**
 * Every run journal in the directory, summarised and linked (rollbacks to their runs), newest
 * first. A `.jsonl` file that is not a journal podid can read is left out and told to
 * `unreadable` (its path and why), so a listing never hides it silently.
 */
export function listRuns(dir: string, unreadable: (path: string, reason: string) => void = () => undefined): RunSummary[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.jsonl'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UsageError('JOURNAL_DIR_UNUSABLE', `--journal-dir ${dir}: cannot read the directory (${(err as NodeJS.ErrnoException).code ?? String(err)})`, 'pass the directory podid migrate --apply wrote its journals to');
  }
  const out: RunSummary[] = [];
  for (const name of names) {
    const path = join(dir, name);
    try {
      const records = parseJournal(readFileSync(path, 'utf8'));
      const problem = runRecordProblem(name, records);
      const summary = problem === null ? summarizeJournal(path, records) : null;
      if (summary !== null) out.push(summary);
      else unreadable(path, problem ?? 'its first record is not a podid run record');
    } catch (err) {
      unreadable(path, err instanceof Error ? err.message : String(err));
    }
  }
  return linkRuns(out);
}

/** The records of one run's journal, by run id. */
export function readRun(dir: string, runId: string): { path: string; records: JournalRecord[] } {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(runId)) {
    throw new UsageError('RUN_NOT_FOUND', `${JSON.stringify(runId)} is not a run id`, 'list the runs with podid runs');
  }
  const path = join(dir, `${runId}.jsonl`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError('RUN_NOT_FOUND', `no run ${runId} in ${dir} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, 'list the runs with podid runs (and pass the same --journal-dir as the run)');
  }
  let records: JournalRecord[];
  try {
    records = parseJournal(text);
  } catch (err) {
    throw new UsageError('JOURNAL_INVALID', `${path}: ${err instanceof Error ? err.message : String(err)}`, 'the journal is damaged beyond its last line; restore it from a backup');
  }
  const problem = runRecordProblem(`${runId}.jsonl`, records);
  if (problem !== null) throw new UsageError('JOURNAL_INVALID', `${path}: ${problem}`, 'pass the id of a run listed by podid runs');
  return { path, records };
}
