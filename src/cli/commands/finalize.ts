/**
 * `podid finalize --dry-run | --apply`: scan, plan the removal of IRSA from ServiceAccounts that
 * run on Pod Identity, print the review, confirm, then run the use case (app/finalize.ts).
 */
import { ExitCode, UsageError } from '../../core/errors.js';
import { confirmChange, journalDirOf } from '../confirm.js';
import type { CliContext } from '../context.js';
import { createIo } from '../io.js';
import { documentFormat, inFormat, type OutputFormat } from '../output.js';
import { createLivePorts, interruptible, livePortOptions, liveServices } from '../live-ports.js';
import { setUpLiveScan, type TargetFlags } from '../live-scan.js';
import { eventsTo, reportPartial, warnSelectionUnscanned } from '../progress.js';
import { VERSION } from '../version.js';
import { newRunId } from './apply.js';

export interface FinalizeCliOptions extends TargetFlags {
  dryRun?: boolean;
  apply?: boolean;
  yes?: boolean;
  /** Also delete each cluster's OIDC provider nothing refers to any more (its own consent). */
  deleteOidcProvider?: boolean;
  journalDir?: string;
  output: OutputFormat;
  color?: boolean;
}

export async function runFinalize(opts: FinalizeCliOptions, ctx: CliContext): Promise<number> {
  if (Boolean(opts.dryRun) === Boolean(opts.apply)) {
    throw new UsageError('ROLLBACK_FLAGS_CONFLICT', opts.dryRun ? '--dry-run and --apply exclude each other' : 'podid finalize needs --dry-run (review what would be removed) or --apply (remove it)', 'run podid finalize --dry-run first, then podid finalize --apply');
  }
  const dir = journalDirOf(opts.journalDir, ctx);
  const format = documentFormat(opts.output);
  const json = format !== 'text';
  const doc = (json: string) => (format === 'text' ? json : inFormat(format, json));
  const io = await createIo({ ...(opts.color === false ? { color: false } : {}) }, ctx);
  const app = await import('../../app/finalize.js');
  const [{ realClock }, { DEFAULT_RETRY }] = await Promise.all([import('../../core/apply/ports.js'), import('../../core/apply/retry.js')]);
  // --request-timeout and --concurrency, checked before anything is read.
  const { concurrency } = livePortOptions(opts, undefined);
  const livePorts = (region: string | undefined) => createLivePorts(livePortOptions(opts, region), ctx);
  // --delete-oidc-provider reads every role of the account (IAM is global: any region will do).
  let ports: Awaited<ReturnType<typeof livePorts>> | undefined = opts.deleteOidcProvider ? await livePorts(undefined) : undefined;
  let planned;
  try {
    const { options, ports: scanPorts } = await setUpLiveScan(opts, ctx, new Date());
    planned = await app.planFinalizeRun(options, scanPorts, eventsTo(io), ports ? { iam: ports.iam, clock: realClock, retry: DEFAULT_RETRY, random: Math.random } : undefined);
  } finally {
    io.done();
  }
  const { plan } = planned;
  // Named nothing on the scanned clusters, but some could not be scanned: it may be there (exit 5).
  if (planned.unmatched !== null) warnSelectionUnscanned(io, planned.inventory, planned.unmatched);
  const render = await import('../../render/finalize.js');
  const review = render.renderFinalizePlan(plan, { palette: io.palette });
  if (json) io.warn(review);
  else io.out(review);
  if (opts.dryRun) {
    if (json) io.out(await doc(`${JSON.stringify(plan, null, 2)}\n`));
    if (planned.partial) {
      reportPartial(io, planned.inventory);
      return ExitCode.partial;
    }
    return ExitCode.ok;
  }
  const finalizing = plan.serviceAccounts.some((s) => s.action === 'finalize');
  const deletions = plan.oidcProviders.filter((p) => p.action === 'delete');
  const providerRefused = plan.oidcProviders.some((p) => p.action === 'refused');
  if (!finalizing && deletions.length === 0) {
    // Something was refused (a ServiceAccount, or a provider some role still trusts) and nothing else is left to do: say so in the exit code.
    // Else, over a partial scan, "nothing to do" is only said of the clusters that were scanned (exit 5).
    const exitCode = plan.serviceAccounts.length > 0 || providerRefused ? ExitCode.refused : planned.partial ? ExitCode.partial : ExitCode.ok;
    if (json) io.out(await doc(`${JSON.stringify({ kind: 'podid-finalize-result', schemaVersion: 1, runId: null, journal: null, status: 'no-changes', exitCode, serviceAccounts: plan.serviceAccounts.map((s) => ({ cluster: s.cluster, namespace: s.namespace, serviceAccount: s.name, roleArn: s.roleArn, outcome: 'refused', reason: s.reason, warnings: s.warnings })), oidcProviders: plan.oidcProviders.map((p) => ({ cluster: p.cluster, providerArn: p.providerArn, outcome: p.action, reason: p.reason, trustedBy: p.trustedBy, trustedByCount: p.trustedByCount })) }, null, 2)}\n`));
    if (planned.partial) reportPartial(io, planned.inventory);
    return exitCode;
  }
  const clusters = plan.clusters.map((c) => c.name).join(', ');
  const providerHint = 'review it (podid finalize --dry-run --delete-oidc-provider), then pass --yes: with --yes, --delete-oidc-provider is the consent to delete';
  if (finalizing && !(await confirmChange({ yes: opts.yes, command: 'podid finalize --apply', question: `Remove IRSA from these ServiceAccounts on ${clusters}?`, hint: deletions.length > 0 ? providerHint : 'review it (podid finalize --dry-run), then pass --yes' }, ctx))) {
    io.warn('Finalize cancelled; nothing was changed.');
    return ExitCode.ok;
  }
  if (deletions.length > 0) {
    // The deletion has its own confirmation: a second question on a terminal; with --yes, --delete-oidc-provider itself is the consent.
    const names = deletions.map((p) => p.providerArn).join(', ');
    const which = [...new Set(deletions.map((p) => p.cluster.slice(p.cluster.lastIndexOf('/') + 1)))].join(', ');
    const consent = await confirmChange({ yes: opts.yes, command: 'podid finalize --apply --delete-oidc-provider', question: `${finalizing ? 'Also DELETE' : 'DELETE'} the IAM OIDC provider ${names}? IRSA stops working for every ServiceAccount of ${which}.`, hint: providerHint }, ctx);
    if (!consent) {
      for (const p of deletions) Object.assign(p, { action: 'declined', reason: 'not confirmed: the provider is kept' });
      io.warn('The OIDC provider is kept.');
      if (!finalizing) return ExitCode.ok;
    }
  }
  ports ??= await livePorts(plan.clusters[0]?.region);
  const applyPorts = ports;
  const startedAt = new Date();
  const progress = eventsTo(io);
  return interruptible(io, 'podid finalize --apply', async (signal) => {
    const result = await app.finalizeRun(
      { plan, runId: newRunId(startedAt), startedAt, toolVersion: VERSION, concurrency },
      await liveServices(applyPorts, dir, signal),
      (e) => {
        if (e.type === 'finalize-step') {
          io.done();
          io.warn(render.finalizeStepLine(e.report, io.palette));
        } else progress(e);
      },
    );
    io.done();
    io.out(json ? await doc(`${JSON.stringify(result, null, 2)}\n`) : render.renderFinalizeResult(result, { palette: io.palette }));
    if (planned.partial) reportPartial(io, planned.inventory);
    return result.exitCode;
  });
}
