import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/adapters/config-file.js';
import { EMPTY_CONFIG, isIsoDate, parseConfig } from '../../src/core/config.js';
import { UsageError } from '../../src/core/errors.js';

const VALID = `version: 1
allowlist:
  - cluster: "arn:aws:eks:*:111122223333:cluster/prod*"
    namespace: batch
    serviceAccount: "report-*"
    codes: [WORKLOAD_ON_FARGATE]
    reason: "  Fargate batch stays on IRSA  "
    expires: 2026-12-31
  - namespace: legacy
    reason: migrating in Q3
    expires: "2025-09-30"
`;

function errorOf(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    if (err instanceof UsageError) return err;
    throw err;
  }
  throw new Error('expected a UsageError');
}

describe('parseConfig', () => {
  it('reads a valid allowlist, numbering the entries and trimming reasons', () => {
    const config = parseConfig(VALID, '.podid.yaml');
    expect(config).toEqual({
      version: 1,
      path: '.podid.yaml',
      allowlist: [
        { index: 0, cluster: 'arn:aws:eks:*:111122223333:cluster/prod*', namespace: 'batch', serviceAccount: 'report-*', codes: ['WORKLOAD_ON_FARGATE'], reason: 'Fargate batch stays on IRSA', expires: '2026-12-31', config: '.podid.yaml' },
        { index: 1, namespace: 'legacy', reason: 'migrating in Q3', expires: '2025-09-30', config: '.podid.yaml' },
      ],
    });
  });

  it('accepts a config without an allowlist', () => {
    expect(parseConfig('version: 1\n', 'c.yaml').allowlist).toEqual([]);
  });

  it.each([
    ['a bad date', 'version: 1\nallowlist:\n  - {reason: r, expires: 2025-01-01}\n  - {reason: r, expires: 2025-01-02}\n  - {reason: r, expires: 31/12/2025}\n', '.podid.yaml: allowlist[2].expires: expected a date YYYY-MM-DD'],
    ['an impossible date', 'version: 1\nallowlist:\n  - {reason: r, expires: 2025-02-30}\n', '.podid.yaml: allowlist[0].expires: expected a date YYYY-MM-DD'],
    ['a missing expiry', 'version: 1\nallowlist:\n  - {reason: r}\n', '.podid.yaml: allowlist[0].expires: required'],
    ['a missing reason', 'version: 1\nallowlist:\n  - {expires: 2025-01-01}\n', '.podid.yaml: allowlist[0].reason: required'],
    ['an empty reason', 'version: 1\nallowlist:\n  - {reason: "  ", expires: 2025-01-01}\n', '.podid.yaml: allowlist[0].reason: expected a non-empty reason'],
    ['an unknown code', 'version: 1\nallowlist:\n  - {reason: r, expires: 2025-01-01, codes: [ROLE_NOT_FOUND, FARGATE]}\n', '.podid.yaml: allowlist[0].codes[1]: unknown finding code "FARGATE" (docs/findings.md lists them)'],
    ['an empty code list', 'version: 1\nallowlist:\n  - {reason: r, expires: 2025-01-01, codes: []}\n', '.podid.yaml: allowlist[0].codes: expected at least one code (leave codes out to cover every finding)'],
    ['an unknown key', 'version: 1\nallowlist:\n  - {reason: r, expires: 2025-01-01, namespaces: x}\n', '.podid.yaml: allowlist[0].namespaces: unknown key'],
    ['an empty glob', 'version: 1\nallowlist:\n  - {reason: r, expires: 2025-01-01, cluster: ""}\n', '.podid.yaml: allowlist[0].cluster: expected a non-empty glob'],
    ['an unclosed bracket in a glob', 'version: 1\nallowlist:\n  - {reason: r, expires: 2025-01-01, namespace: "team-[ab"}\n', '.podid.yaml: allowlist[0].namespace: invalid glob "team-[ab": unclosed ] (write \\] to match it literally)'],
    ['an unclosed brace in a glob', 'version: 1\nallowlist:\n  - {reason: r, expires: 2025-01-01, file: "charts/{a,b/**"}\n', '.podid.yaml: allowlist[0].file: invalid glob "charts/{a,b/**": unclosed } (write \\} to match it literally)'],
    ['a wrong version', 'version: 2\n', '.podid.yaml: version: expected 1 (the only config version)'],
    ['a missing version', 'allowlist: []\n', '.podid.yaml: version: required'],
    ['an allowlist that is not a list', 'version: 1\nallowlist: {reason: r}\n', '.podid.yaml: allowlist: expected a list of entries'],
    ['an empty file', '', '.podid.yaml: expected a mapping with version: 1 and an allowlist'],
    ['invalid YAML', 'version: 1\nallowlist:\n  - reason: a: b\n', '.podid.yaml:3: Nested mappings are not allowed in compact mappings'],
  ])('refuses %s with a one-line error naming the path', (_, text, message) => {
    const err = errorOf(() => parseConfig(text, '.podid.yaml'));
    expect(err.message).toBe(message);
    expect(err.exit).toBe('usage');
    expect(err.message).not.toContain('\n');
  });

  it('counts the further problems', () => {
    const err = errorOf(() => parseConfig('version: 1\nallowlist:\n  - {}\n', '.podid.yaml'));
    expect(err.message).toBe('.podid.yaml: allowlist[0].reason: required (and 1 more problem)');
  });

  it('checks dates against the calendar', () => {
    expect(isIsoDate('2024-02-29')).toBe(true);
    expect(isIsoDate('2025-02-29')).toBe(false);
    expect(isIsoDate('2025-1-01')).toBe(false);
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'podid-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('returns the empty config when there is no .podid.yaml and no --config', async () => {
    expect(await loadConfig(undefined, dir)).toEqual(EMPTY_CONFIG);
  });

  it('reads .podid.yaml from the working directory', async () => {
    writeFileSync(join(dir, '.podid.yaml'), VALID);
    const config = await loadConfig(undefined, dir);
    expect(config.path).toBe('.podid.yaml');
    expect(config.allowlist).toHaveLength(2);
  });

  it('reads --config relative to the working directory, and names it in errors', async () => {
    writeFileSync(join(dir, 'ci.yaml'), 'version: 1\nallowlist:\n  - {reason: r, expires: soon}\n');
    const err = await loadConfig('ci.yaml', dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toBe('ci.yaml: allowlist[0].expires: expected a date YYYY-MM-DD');
  });

  it('requires --config to exist', async () => {
    const err = await loadConfig('missing.yaml', dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toBe('--config missing.yaml: no such file or directory');
  });
});
