/**
 * Deciding a rollback compares the plans of the runs before it (lineage.ts `resumes`): each run's
 * plan document is canonicalised once, not once per pair of runs. A journal directory of a long
 * migration holds dozens of runs of plans of thousands of ServiceAccounts: per pair, 40 runs of
 * 5,000-ServiceAccount plans took 38 s and 80 took 150 s before `podid rollback` said anything.
 */
import { describe, expect, it, vi } from 'vitest';
import { JOURNAL_KIND, JOURNAL_SCHEMA_VERSION, linkRuns, summarizeJournal, type JournalRecord, type RunSummary } from '../../src/core/apply/journal.js';
import * as fingerprint from '../../src/core/plan/fingerprint.js';
import { decideRollback, type JournaledRun } from '../../src/core/rollback/lineage.js';
import { PROD } from './fixtures/apply-fake.js';

vi.mock('../../src/core/plan/fingerprint.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/core/plan/fingerprint.js')>();
  return { ...actual, canonicalJson: vi.fn(actual.canonicalJson) };
});

function succeededRuns(n: number): JournaledRun[] {
  const js: JournalRecord[][] = [];
  for (let i = 0; i < n; i++) {
    const runId = `r${String(i).padStart(3, '0')}`;
    const startedAt = new Date(Date.UTC(2026, 11, 1, 0, i)).toISOString();
    js.push([
      { kind: JOURNAL_KIND, schemaVersion: JOURNAL_SCHEMA_VERSION, record: 'run', command: 'apply', runId, startedAt, toolVersion: 't', clusters: [PROD], planSource: null,
        options: { propagationWaitMs: 0, maxConcurrentRollouts: 1, rolloutTimeoutMs: 1000, concurrency: 1, failFast: false, restart: true },
        plan: { steps: [], clusters: [{ arn: PROD, context: 'prod' }], createdAt: startedAt }, previous: { roles: [], associations: [], addons: [], workloads: [] } } as never,
      { record: 'finished', at: startedAt, status: 'succeeded', exitCode: 0, summary: {} },
    ]);
  }
  const summaries = linkRuns(js.map((records) => summarizeJournal(`/j/${(records[0] as { runId: string }).runId}.jsonl`, records)!));
  return summaries.map((summary: RunSummary) => ({ summary, records: js.find((r) => (r[0] as { runId: string }).runId === summary.runId)! }));
}

describe('rollback lineage cost', () => {
  it("canonicalises each run's plan once, however many runs came before", () => {
    const runs = succeededRuns(30);
    const canonical = vi.mocked(fingerprint.canonicalJson);
    canonical.mockClear();
    decideRollback(runs[0]!, runs);
    decideRollback(runs.at(-1)!, runs);
    expect(canonical.mock.calls.length).toBeLessThanOrEqual(2 * runs.length);
  });
});
