import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ERRORS, ExitCode, exitCodeOf, PodidError, UsageError } from '../../src/core/errors.js';

const DOC = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

describe('error codes', () => {
  it('docs/errors.md lists every code once, with the exit code and the summary the catalogue gives it', () => {
    const rows = [...DOC.matchAll(/^\| `([A-Z_]+)` \| (\d+) \| (.*) \|$/gm)].map((m) => [m[1], Number(m[2]), m[3]]);
    expect(rows).toEqual(ERROR_CODES.map((c) => [c, ExitCode[ERRORS[c].exit], ERRORS[c].summary]));
  });

  it('takes the exit code from the catalogue: usage 2, environment 6, a bug 1', () => {
    expect(exitCodeOf(new UsageError('BAD_FLAG_VALUE', 'x'))).toBe(2);
    expect(exitCodeOf(new PodidError('AWS_THROTTLED', 'x'))).toBe(6);
    expect(exitCodeOf(new PodidError('KUBE_UNREACHABLE', 'x'))).toBe(6);
    expect(exitCodeOf(new PodidError('ROLE_ARN_INVALID', 'x'))).toBe(1);
    expect(exitCodeOf(new TypeError('x'))).toBe(1);
  });

  it('documents 6 (environment) in README.md', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toMatch(/^\| 6 \| environment/m);
    expect(readme).toContain('docs/errors.md');
  });
});
