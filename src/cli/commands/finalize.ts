/**
 * `podid finalize --dry-run | --apply`: scan, plan the removal of IRSA from ServiceAccounts that
 * run on Pod Identity, print the review, confirm, then run the use case (app/finalize.ts).
 */
import { ExitCode, UsageError } from '../../core/errors.js';
import { confirmChange, journalDirOf } from '../confirm.js';
import type { CliContext } from '../context.js';
import { createIo } from '../io.js';
import { createLivePorts, interruptible } from '../live-ports.js';
import { DEFAULT_REQUEST_TIMEOUT, parseRequestTimeout, positiveInt, setUpLiveScan, type TargetFlags } from '../live-scan.js';
import { eventsTo, reportPartial } from '../progress.js';
import { VERSION } from '../version.js';
import { newRunId } from './apply.js';

export interface FinalizeCliOptions extends TargetFlags {
  dryRun?: boolean;
  apply?: boolean;
  yes?: boolean;
  journalDir?: string;
  output: 'text' | 'json';
  color?: boolean;
}

export async function runFinalize(opts: FinalizeCliOptions, ctx: CliContext): Promise<number> {
  if (Boolean(opts.dryRun) === Boolean(opts.apply)) {
    throw new UsageError('ROLLBACK_FLAGS_CONFLICT', opts.dryRun ? '--dry-run and --apply exclude each other' : 'podid finalize needs --dry-run (review what would be removed) or --apply (remove it)', 'run podid finalize --dry-run first, then podid finalize --apply');
  }
  const concurrency = positiveInt('--concurrency', opts.concurrency, 8);
  const dir = journalDirOf(opts.journalDir, ctx);
  const json = opts.output === 'json';
  const io = await createIo({ ...(opts.color === false ? { color: false } : {}) }, ctx);
  const app = await import('../../app/finalize.js');
  let planned;
  try {
    const { options, ports } = await setUpLiveScan(opts, ctx, new Date());
    planned = await app.planFinalizeRun(options, ports, eventsTo(io));
  } finally {
    io.done();
  }
  const { plan } = planned;
  const render = await import('../../render/finalize.js');
  const review = render.renderFinalizePlan(plan, { palette: io.palette });
  if (json) io.warn(review);
  else io.out(review);
  if (opts.dryRun) {
    if (json) io.out(`${JSON.stringify(plan, null, 2)}\n`);
    if (planned.partial) {
      reportPartial(io, planned.inventory);
      return ExitCode.partial;
    }
    return ExitCode.ok;
  }
  if (!plan.serviceAccounts.some((s) => s.action === 'finalize')) {
    if (json) io.out(`${JSON.stringify({ kind: 'podid-finalize-result', schemaVersion: 1, runId: null, journal: null, status: 'no-changes', exitCode: plan.serviceAccounts.length > 0 ? ExitCode.refused : ExitCode.ok, serviceAccounts: plan.serviceAccounts.map((s) => ({ cluster: s.cluster, namespace: s.namespace, serviceAccount: s.name, roleArn: s.roleArn, outcome: 'refused', reason: s.reason, warnings: s.warnings })) }, null, 2)}\n`);
    // Something was refused and nothing else is left to do: say so in the exit code.
    return plan.serviceAccounts.length > 0 ? ExitCode.refused : ExitCode.ok;
  }
  const clusters = plan.clusters.map((c) => c.name).join(', ');
  if (!(await confirmChange({ yes: opts.yes, command: 'podid finalize --apply', question: `Remove IRSA from these ServiceAccounts on ${clusters}?`, hint: 'review it (podid finalize --dry-run), then pass --yes' }, ctx))) {
    io.warn('Finalize cancelled; nothing was changed.');
    return ExitCode.ok;
  }
  const [{ journalDirectory }, { realClock }, { DEFAULT_RETRY }] = await Promise.all([import('../../adapters/journal-fs.js'), import('../../core/apply/ports.js'), import('../../core/apply/retry.js')]);
  const ports = await createLivePorts({ profile: opts.profile, region: opts.region ?? plan.clusters[0]?.region, kubeconfig: opts.kubeconfig, requestTimeoutMs: parseRequestTimeout(opts.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT) || 2_147_483_647 }, ctx);
  const startedAt = new Date();
  const progress = eventsTo(io);
  return interruptible(io, 'podid finalize --apply', async (signal) => {
    const store = journalDirectory(dir);
    const result = await app.finalizeRun(
      { plan, runId: newRunId(startedAt), startedAt, toolVersion: VERSION, concurrency },
      { ports, journal: store, locks: store, clock: realClock, random: Math.random, retry: DEFAULT_RETRY, signal },
      (e) => {
        if (e.type === 'finalize-step') {
          io.done();
          io.warn(render.finalizeStepLine(e.report, io.palette));
        } else progress(e);
      },
    );
    io.done();
    io.out(json ? `${JSON.stringify(result, null, 2)}\n` : render.renderFinalizeResult(result, { palette: io.palette }));
    if (planned.partial) reportPartial(io, planned.inventory);
    return result.exitCode;
  });
}
