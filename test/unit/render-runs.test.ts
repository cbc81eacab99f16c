import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/core/apply/journal.js';
import { outcomesText, renderRunDetail, renderRuns } from '../../src/render/runs.js';

const run = (over: Partial<RunSummary>): RunSummary => ({
  runId: '20261204T120000Z-abc123',
  command: 'finalize',
  journal: '/runs/20261204T120000Z-abc123.jsonl',
  startedAt: '2026-12-04T12:00:00.000Z',
  finishedAt: '2026-12-04T12:00:05.000Z',
  clusters: ['arn:aws:eks:us-east-1:111122223333:cluster/prod'],
  status: 'succeeded',
  exitCode: 0,
  outcomes: {},
  changes: 0,
  rollbackOf: null,
  rolledBackBy: [],
  ...over,
});

describe('outcomesText: the SERVICE ACCOUNTS column of podid runs', () => {
  it('counts ServiceAccounts per outcome, sorted by outcome', () => {
    expect(outcomesText({ migrated: 3, failed: 1 }, 9)).toBe('1 failed, 3 migrated');
  });

  it('says a run changed other resources when it has changes but no ServiceAccount outcome (a finalize that only deleted the OIDC provider)', () => {
    expect(outcomesText({}, 1)).toBe('none (1 change to other resources)');
    expect(outcomesText({}, 2)).toBe('none (2 changes to other resources)');
  });

  it('does not say "other resources" for a run stopped before it judged its ServiceAccounts (killed: no outcome recorded)', () => {
    expect(outcomesText({}, 5, 'unfinished')).toBe('not recorded (5 changes)');
    expect(outcomesText({}, 1, 'unfinished')).toBe('not recorded (1 change)');
    expect(outcomesText({}, 0, 'unfinished')).toBe('-');
    expect(outcomesText({}, 2, 'succeeded')).toBe('none (2 changes to other resources)');
  });

  it('is "-" for a run that changed nothing', () => {
    expect(outcomesText({}, 0)).toBe('-');
  });
});

describe('renderRuns', () => {
  it('shows a provider-only finalize with its change, not a bare "-"', () => {
    expect(renderRuns([], { dir: '/runs' })).toBe('No runs in /runs.\n');
    expect(renderRuns([], { dir: '/typo', dirMissing: true })).toBe('No runs: /typo does not exist (runs are journaled there, or in the --journal-dir they were given).\n');
    const text = renderRuns([run({ changes: 1 })], { dir: '/runs' });
    expect(text.split('\n')[1]).toMatch(/^20261204T120000Z-abc123 +finalize +2026-12-04T12:00:00Z +prod +none \(1 change to other resources\) +succeeded$/);
  });

  it('says "rolled back by" only for a rollback that succeeded; a refused one is named as tried, not rolled back', () => {
    const apply = run({ runId: 'a1', command: 'apply', rolledBackBy: ['rb1'] });
    const refused = run({ runId: 'rb1', command: 'rollback', rollbackOf: 'a1', status: 'refused', startedAt: '2026-12-04T13:00:00.000Z' });
    expect(renderRuns([refused, apply], { dir: '/runs' })).toMatch(/\na1 +apply .* succeeded; rollback rb1 refused, not rolled back\n/);
    const ok = run({ runId: 'rb2', command: 'rollback', rollbackOf: 'a1', alsoRollsBack: ['a0'], startedAt: '2026-12-04T14:00:00.000Z' });
    const text = renderRuns([ok, refused, { ...apply, rolledBackBy: ['rb1', 'rb2'] }], { dir: '/runs' });
    expect(text).toMatch(/\na1 +apply .* succeeded; rolled back by rb2\n/);
    expect(text).toMatch(/\nrb2 +rollback .* succeeded; undoes a1 and a0\n/);
    expect(renderRunDetail(apply, [], { runs: [refused, apply] }).split('\n')[0]).toBe('apply run a1: succeeded; rollback rb1 refused, not rolled back (exit 0)');
  });
});
