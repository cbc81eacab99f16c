/**
 * Output files, written so that a reader never sees half of one and a failure never leaves half
 * a set: each file goes to a temporary file in its own directory (so the rename stays on one
 * filesystem and is atomic), and only when every temporary file is written are they renamed
 * into place. A failed write removes the temporary files and leaves every target as it was.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';

export interface OutputFile {
  /** The flag that named the file, for messages (`--out`, `--emit terraform`). */
  readonly flag: string;
  readonly path: string;
  readonly content: string;
  /** File mode (default 0o644 less the umask); 0o600 for files holding credentials. */
  readonly mode?: number;
  /** Refuse to replace an existing file (unless `force`). */
  readonly noClobber?: boolean;
}

function describe(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'its directory does not exist';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'ENOTDIR') return 'a parent is not a directory';
  if (code === 'ENOSPC') return 'no space left on the device';
  if (code === 'EROFS') return 'read-only file system';
  return code ?? String(err);
}

/** Two outputs naming one file would leave only the last: refused, naming both flags. */
export function checkDistinctOutputs(files: readonly Pick<OutputFile, 'flag' | 'path'>[], cwd?: string): void {
  const seen = new Map<string, string>();
  for (const f of files) {
    const at = cwd === undefined ? resolve(f.path) : resolve(cwd, f.path);
    const other = seen.get(at);
    if (other !== undefined) throw new UsageError('OUTPUT_SAME_FILE', `${other} and ${f.flag} name the same file (${f.path})`, 'give each output its own file');
    seen.set(at, f.flag);
  }
}

/** The file operations writeOutputs uses (tests give failing ones). */
export interface OutputFs {
  renameSync: typeof renameSync;
  linkSync: typeof linkSync;
}

const NODE_FS: OutputFs = { renameSync, linkSync };

/** What linkSync fails with where a filesystem has no hard links. */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/**
 * Writes every file or none (see the module comment). Throws a one-line UsageError. Relative
 * paths are relative to `cwd` (the run's working directory); messages name them as given.
 *
 * Putting the set in place: each target that exists is first kept as a hard link beside it,
 * then the temporary file is renamed over it; a `noClobber` file is linked into place instead,
 * which fails if the path was created since it was checked (no check-then-act window). If any
 * step fails, the targets already replaced get their kept file back and new ones are removed.
 */
export function writeOutputs(files: readonly OutputFile[], opts: { force?: boolean; cwd?: string; fs?: OutputFs } = {}): void {
  const fs = opts.fs ?? NODE_FS;
  const at = (p: string) => (opts.cwd === undefined ? p : resolve(opts.cwd, p));
  checkDistinctOutputs(files, opts.cwd);
  for (const f of files) {
    if (existsSync(at(f.path)) && statSync(at(f.path)).isDirectory()) {
      throw new UsageError('WRITE_FAILED', `${f.flag} ${f.path}: cannot write (it is a directory)`, 'name a file');
    }
    if (f.noClobber && !opts.force && existsSync(at(f.path))) {
      throw new UsageError('OUTPUT_EXISTS', `${f.flag} ${f.path}: the file already exists`, 'pass --force to replace it, or choose another path');
    }
  }
  const beside = (path: string, what: string) => join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.${what}`);
  const written: { temp: string; file: OutputFile }[] = [];
  /** Targets put in place, with the kept previous file if there was one. */
  const placed: { target: string; kept: string | null }[] = [];
  try {
    for (const file of files) {
      const temp = beside(at(file.path), 'tmp');
      try {
        writeFileSync(temp, file.content, { mode: file.mode ?? 0o644, flag: 'wx' });
      } catch (err) {
        throw new UsageError('WRITE_FAILED', `${file.flag} ${file.path}: cannot write (${describe(err)})`, 'choose a writable path; nothing was written');
      }
      written.push({ temp, file });
    }
    for (const { temp, file } of written) {
      const target = at(file.path);
      try {
        if (file.noClobber && !opts.force) {
          try {
            fs.linkSync(temp, target);
          } catch (err) {
            // A filesystem without hard links: checked above, renamed now.
            if (!NO_LINKS.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
            fs.renameSync(temp, target);
          }
          placed.push({ target, kept: null });
        } else {
          let kept: string | null = null;
          if (existsSync(target)) {
            kept = beside(target, 'old');
            try {
              fs.linkSync(target, kept);
            } catch (err) {
              if (!NO_LINKS.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
              copyFileSync(target, kept);
            }
          }
          fs.renameSync(temp, target);
          placed.push({ target, kept });
        }
      } catch (err) {
        for (const { target: t, kept } of placed.reverse()) {
          try {
            if (kept) fs.renameSync(kept, t);
            else rmSync(t, { force: true });
          } catch {
            // Best effort: the message below still says what failed.
          }
        }
        placed.length = 0;
        if ((err as NodeJS.ErrnoException).code === 'EEXIST' && file.noClobber) {
          throw new UsageError('OUTPUT_EXISTS', `${file.flag} ${file.path}: the file already exists (created while podid was writing)`, 'pass --force to replace it, or choose another path; nothing was written');
        }
        throw new UsageError('WRITE_FAILED', `${file.flag} ${file.path}: cannot write (${describe(err)})`, 'choose a writable path; nothing was written');
      }
    }
  } finally {
    for (const { temp } of written) rmSync(temp, { force: true });
    for (const { kept } of placed) if (kept) rmSync(kept, { force: true });
  }
}

/** Content with exactly one trailing newline. */
export const withNewline = (s: string): string => (s.endsWith('\n') ? s : `${s}\n`);
