/**
 * `podid rollback [RUN] --dry-run | --apply`: undo one run (apply or finalize) from its journal.
 * Reads the journal, prints the review, confirms, then runs the use case (app/rollback.ts).
 * Without RUN: the newest apply or finalize run that no successful rollback has undone.
 */
import { ExitCode, UsageError } from '../../core/errors.js';
import { confirmChange, journalDirOf } from '../confirm.js';
import type { CliContext } from '../context.js';
import { parseDuration } from '../duration.js';
import { createIo } from '../io.js';
import { documentFormat, inFormat, type OutputFormat } from '../output.js';
import { createLivePorts, interruptible, livePortOptions, liveServices } from '../live-ports.js';
import { positiveInt } from '../live-scan.js';
import { eventsTo } from '../progress.js';
import { VERSION } from '../version.js';
import { newRunId } from './apply.js';

export interface RollbackCliOptions {
  dryRun?: boolean;
  apply?: boolean;
  yes?: boolean;
  journalDir?: string;
  kubeconfig?: string;
  profile?: string;
  region?: string;
  propagationWait: string;
  rolloutTimeout: string;
  requestTimeout: string;
  maxConcurrentRollouts: string;
  concurrency: string;
  output: OutputFormat;
  color?: boolean;
}

export async function runRollback(runArg: string | undefined, opts: RollbackCliOptions, ctx: CliContext): Promise<number> {
  if (Boolean(opts.dryRun) === Boolean(opts.apply)) {
    throw new UsageError('ROLLBACK_FLAGS_CONFLICT', opts.dryRun ? '--dry-run and --apply exclude each other' : 'podid rollback needs --dry-run (review what would be undone) or --apply (undo it)', 'run podid rollback --dry-run first, then podid rollback --apply');
  }
  const propagationWaitMs = parseDuration('--propagation-wait', opts.propagationWait, '15s');
  const rolloutTimeoutMs = parseDuration('--rollout-timeout', opts.rolloutTimeout, '5m');
  // --request-timeout and --concurrency, checked before anything is read.
  const { concurrency } = livePortOptions(opts, undefined);
  if (rolloutTimeoutMs < 1000) throw new UsageError('BAD_FLAG_VALUE', `--rollout-timeout ${opts.rolloutTimeout}: must be at least 1s`, 'for example --rollout-timeout 5m');
  const maxConcurrentRollouts = positiveInt('--max-concurrent-rollouts', opts.maxConcurrentRollouts, 5);
  const dir = journalDirOf(opts.journalDir, ctx);
  const format = documentFormat(opts.output);
  const json = format !== 'text';
  const doc = (json: string) => (format === 'text' ? json : inFormat(format, json));
  const io = await createIo({ ...(opts.color === false ? { color: false } : {}) }, ctx);

  const [{ listRuns, readRun }, { isEmptyRollback, kubeClusters }, { decideRollback }, render] = await Promise.all([
    import('../../adapters/journal-fs.js'),
    import('../../core/rollback/plan.js'),
    import('../../core/rollback/lineage.js'),
    import('../../render/rollback.js'),
  ]);
  const runs = listRuns(dir);
  let runId = runArg;
  if (runId === undefined) {
    const succeeded = new Set(runs.filter((r) => r.command === 'rollback' && r.status === 'succeeded').map((r) => r.runId));
    const candidate = runs.find((r) => r.command !== 'rollback' && !r.rolledBackBy.some((id) => succeeded.has(id)));
    if (candidate === undefined) throw new UsageError('RUN_NOT_FOUND', `no apply or finalize run left to roll back in ${dir}`, 'list the runs with podid runs; pass --journal-dir if the runs were journaled elsewhere');
    runId = candidate.runId;
  }
  // The same checks as podid runs show: a journal it cannot summarise is not rolled back either.
  const { path, records } = readRun(dir, runId);
  const summary = runs.find((r) => r.runId === runId && r.journal === path);
  if (summary === undefined) throw new UsageError('JOURNAL_INVALID', `the journal of run ${runId} in ${dir} cannot be summarised`, 'check the file; its first line must be the run record');
  // Every run of the directory: a run already undone, or changed again by a later run, is refused;
  // what this run adopted from an earlier run of its plan is undone with it.
  const others = runs.filter((r) => r.journal !== path).flatMap((r) => {
    try {
      return [{ summary: r, records: readRun(dir, r.runId).records }];
    } catch {
      return [];
    }
  });
  const { plan, alsoRollsBack } = decideRollback({ summary, records }, others);

  const review = render.renderRollbackPlan(plan, { palette: io.palette });
  if (json && opts.dryRun) {
    io.warn(review);
    io.out(await doc(`${JSON.stringify({ kind: 'podid-rollback-plan', schemaVersion: 1, ...plan }, null, 2)}\n`));
    return ExitCode.ok;
  }
  if (json) io.warn(review);
  else io.out(review);
  if (opts.dryRun || isEmptyRollback(plan)) return ExitCode.ok;
  const clusters = plan.clusters.map((c) => c.name).join(', ');
  if (!(await confirmChange({ yes: opts.yes, command: 'podid rollback --apply', question: `Undo run ${plan.target.runId} on ${clusters}?`, hint: 'review it (podid rollback --dry-run), then pass --yes' }, ctx))) {
    io.warn('Rollback cancelled; nothing was changed.');
    return ExitCode.ok;
  }

  const app = await import('../../app/rollback.js');
  // Every cluster whose Kubernetes API the rollback uses must be a context of this kubeconfig,
  // pointing at that cluster's endpoint, checked before the lock, the journal and the first
  // change (as apply checks a plan's).
  const ports = await createLivePorts(livePortOptions(opts, plan.clusters[0]?.region), ctx, kubeClusters(plan), {
    whose: "the run's",
    doing: 'rolling back',
    hint: `roll back with the kubeconfig run ${plan.target.runId} used (--kubeconfig, KUBECONFIG), or add that context to this one; nothing was changed`,
  });
  const progress = eventsTo(io);
  const startedAt = new Date();
  return interruptible(io, `podid rollback ${plan.target.runId} --apply`, async (signal) => {
    const result = await app.rollbackRun(
      { plan, alsoRollsBack, options: { propagationWaitMs, maxConcurrentRollouts, rolloutTimeoutMs, concurrency, pollMs: 500, settleTimeoutMs: Math.max(rolloutTimeoutMs, 60_000) }, runId: newRunId(startedAt), startedAt, toolVersion: VERSION },
      await liveServices(ports, dir, signal),
      (e) => {
        if (e.type === 'rollback-step') {
          io.done();
          io.warn(render.rollbackStepLine(e.report, io.palette));
        } else progress(e);
      },
    );
    io.done();
    io.out(json ? await doc(render.renderRollbackResultJson(result)) : render.renderRollbackResult(result, { palette: io.palette }));
    return result.exitCode;
  });
}
