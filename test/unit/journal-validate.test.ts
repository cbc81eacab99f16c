import { describe, expect, it } from 'vitest';
import { runRecordProblem } from '../../src/adapters/journal-fs.js';
import { JOURNAL_KIND, JOURNAL_SCHEMA_VERSION, type JournalRecord } from '../../src/core/apply/journal.js';

const apply = (over: Record<string, unknown> = {}): JournalRecord[] => [
  { kind: JOURNAL_KIND, schemaVersion: JOURNAL_SCHEMA_VERSION, record: 'run', command: 'apply', runId: 'r1', startedAt: '2026-12-01T00:00:00.000Z', toolVersion: 't', clusters: ['arn:aws:eks:us-east-1:111122223333:cluster/prod'], planSource: null, options: {}, plan: { clusters: [], steps: [] }, previous: {}, ...over } as unknown as JournalRecord,
];

describe('runRecordProblem: the one check podid runs, runs show and rollback apply to a journal', () => {
  it('accepts a well-formed run record named by its file', () => {
    expect(runRecordProblem('r1.jsonl', apply())).toBeNull();
  });

  it.each([
    [{ clusters: 42 }, "its run record's clusters is not a list of cluster ARNs"],
    [{ runId: 7 }, 'its run record has no run id or start time'],
    [{ plan: null }, 'its run record has no plan or previous state'],
    [{ command: 'deploy' }, 'its run record names an unknown command "deploy"'],
  ])('refuses %j', (over, why) => {
    expect(runRecordProblem('r1.jsonl', apply(over))).toBe(why);
  });

  it('refuses a run id that is not the file name (a copied journal would list the run twice)', () => {
    expect(runRecordProblem('copy.jsonl', apply())).toBe('its run id "r1" is not its file name (a copied or renamed journal)');
    expect(runRecordProblem('r1.jsonl', [])).toBe('its first record is not a podid run record');
  });
});
