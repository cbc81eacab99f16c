/**
 * writeOutputs: a set of output files is written whole or not at all, even when putting the
 * second one in place fails after the first replaced its target.
 */
import { existsSync, linkSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeOutputs, type OutputFs } from '../../src/cli/files.js';

const dir = () => mkdtempSync(join(tmpdir(), 'podid-files-'));

/** Node's operations, but renaming into `failOn` fails as a full disk would. */
function failingRename(failOn: string): OutputFs {
  return {
    linkSync,
    renameSync: (from, to) => {
      if (String(to) === failOn) throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
      renameSync(from, to);
    },
  };
}

describe('writeOutputs', () => {
  it('writes every file, and leaves no temporary or kept file behind', () => {
    const d = dir();
    writeFileSync(join(d, 'plan.json'), 'old plan');
    writeOutputs([
      { flag: '--out', path: join(d, 'plan.json'), content: 'new plan' },
      { flag: '--emit terraform', path: join(d, 'main.tf'), content: 'tf' },
    ]);
    expect(readFileSync(join(d, 'plan.json'), 'utf8')).toBe('new plan');
    expect(readFileSync(join(d, 'main.tf'), 'utf8')).toBe('tf');
    expect(readdirSync(d).sort()).toEqual(['main.tf', 'plan.json']);
  });

  it('when the second file cannot be put in place, the first target gets its old content back and a new one is removed', () => {
    const d = dir();
    writeFileSync(join(d, 'plan.json'), 'old plan');
    const files = [
      { flag: '--out', path: join(d, 'plan.json'), content: 'new plan' },
      { flag: '--emit terraform', path: join(d, 'main.tf'), content: 'tf' },
    ];
    expect(() => writeOutputs(files, { fs: failingRename(join(d, 'main.tf')) })).toThrow('--emit terraform ' + join(d, 'main.tf') + ': cannot write (no space left on the device)');
    expect(readFileSync(join(d, 'plan.json'), 'utf8')).toBe('old plan');
    expect(readdirSync(d)).toEqual(['plan.json']);

    const fresh = dir();
    const files2 = [
      { flag: '--out', path: join(fresh, 'plan.json'), content: 'new plan' },
      { flag: '--emit terraform', path: join(fresh, 'main.tf'), content: 'tf' },
    ];
    expect(() => writeOutputs(files2, { fs: failingRename(join(fresh, 'main.tf')) })).toThrow(/cannot write/);
    expect(readdirSync(fresh)).toEqual([]);
  });

  it('a no-clobber file that appears after the check is not replaced (OUTPUT_EXISTS), and nothing of the set stays', () => {
    const d = dir();
    const target = join(d, 'kubeconfig');
    const racing: OutputFs = {
      renameSync,
      linkSync: (from, to) => {
        if (String(to) === target && !existsSync(target)) writeFileSync(target, 'written by someone else');
        linkSync(from, to);
      },
    };
    expect(() =>
      writeOutputs(
        [
          { flag: '--env-out', path: join(d, 'env'), content: 'A=1', noClobber: true },
          { flag: '--kubeconfig-out', path: target, content: 'ours', noClobber: true },
        ],
        { fs: racing },
      ),
    ).toThrow(/--kubeconfig-out .*: the file already exists \(created while podid was writing\)/);
    expect(readFileSync(target, 'utf8')).toBe('written by someone else');
    expect(readdirSync(d)).toEqual(['kubeconfig']);
  });
});
