/**
 * The root of the Git work tree around a directory: the nearest ancestor (or itself) holding a
 * `.git` entry (a directory, or the file a worktree or submodule has). SARIF paths are written
 * relative to it, because code scanning resolves relative URIs against the repository root, not
 * against the directory podid ran in (a CI step with `working-directory: k8s`).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export function findRepoRoot(cwd: string, exists: (path: string) => boolean = existsSync): string | null {
  let dir = resolve(cwd);
  for (;;) {
    if (exists(join(dir, '.git'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}
