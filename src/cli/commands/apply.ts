/**
 * `podid migrate --apply`: plan (or load --plan FILE, checked), show the review, confirm, then
 * run the use case (app/apply.ts) and print the run result. The composition root of apply:
 * flags -> options, ports (AWS SDK and Kubernetes client, lazily), the journal directory,
 * SIGINT. The executor (core/apply) does the work.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ExitCode, UsageError } from '../../core/errors.js';
import type { MigrationPlan } from '../../core/plan/model.js';
import type { RunResult } from '../../core/apply/result.js';
import { confirmChange, journalDirOf } from '../confirm.js';
import { inFormat } from '../output.js';
import { pathIn, readStdin, type CliContext } from '../context.js';
import { readEnv } from '../env.js';
import { parseDuration } from '../duration.js';
import { createIo, type Io } from '../io.js';
import { positiveInt } from '../live-scan.js';
import { createLivePorts, interruptible, liveAwsOptions, livePortOptions, liveServices } from '../live-ports.js';
import { eventsTo, reportPartial } from '../progress.js';
import { VERSION } from '../version.js';
import { makePlan, type MigrateCliOptions } from './migrate.js';

export const DEFAULT_PROPAGATION_WAIT = '15s';
export const DEFAULT_ROLLOUT_TIMEOUT = '5m';

export function newRunId(now: Date): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

const SCOPE_FLAGS: (keyof MigrateCliOptions)[] = ['context', 'allContexts', 'cluster', 'namespace', 'allNamespaces', 'serviceAccount', 'role', 'installAgent', 'crossAccountSourceRole'];

async function loadPlan(opts: MigrateCliOptions, io: Io, ctx: CliContext): Promise<{ plan: MigrationPlan; source: string | null; partialScan?: boolean }> {
  if (opts.plan === undefined) {
    const { plan, inventory, partial } = await makePlan(opts, io, ctx);
    // Clusters that could not be scanned are not in the plan; say so, and apply the rest.
    if (partial) reportPartial(io, inventory);
    return { plan, source: null, partialScan: partial };
  }
  const given = SCOPE_FLAGS.filter((f) => opts[f] !== undefined && opts[f] !== false);
  if (given.length > 0) {
    throw new UsageError('APPLY_FLAGS_CONFLICT', `--plan ${opts.plan}: the plan already fixes what is applied; drop ${given.map((f) => `--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`, 'make a new plan with those flags (podid migrate --dry-run --out plan.json), then apply it');
  }
  let text: string;
  try {
    text = opts.plan === '-' ? (await readStdin(ctx, 'the plan')).toString('utf8') : readFileSync(pathIn(ctx, opts.plan), 'utf8');
  } catch (err) {
    throw new UsageError('PLAN_UNREADABLE', `--plan ${opts.plan}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, 'pass the file written by podid migrate --dry-run --out FILE');
  }
  const { parsePlanDocument } = await import('../../core/plan/validate.js');
  const plan = parsePlanDocument(text, opts.plan);
  // A plan made from a partial scan does not cover the clusters it could not read: say so, and
  // the run is partial as a plan-and-apply of the same fleet would be.
  if (plan.unscanned.length > 0) {
    io.warn(`podid: the plan was made from a partial scan: ${plan.unscanned.length} of ${plan.unscanned.length + plan.clusters.length} clusters could not be scanned (${plan.unscanned.map((u) => u.context).join(', ')}); it changes nothing on them`);
  }
  return { plan, source: pathIn(ctx, opts.plan), partialScan: plan.unscanned.length > 0 };
}

export async function runApply(opts: MigrateCliOptions, ctx: CliContext): Promise<number> {
  if (opts.dryRun) throw new UsageError('APPLY_FLAGS_CONFLICT', '--dry-run and --apply exclude each other', 'pass one of them');
  const propagationWaitMs = parseDuration('--propagation-wait', opts.propagationWait ?? DEFAULT_PROPAGATION_WAIT, '15s');
  const rolloutTimeoutMs = parseDuration('--rollout-timeout', opts.rolloutTimeout ?? DEFAULT_ROLLOUT_TIMEOUT, '5m');
  // The target flags' --request-timeout (kubectl's: each AWS or Kubernetes call; 0 for none) and
  // --concurrency, checked here, before anything is read.
  const { concurrency } = livePortOptions(opts, undefined);
  if (rolloutTimeoutMs < 1000) throw new UsageError('BAD_FLAG_VALUE', `--rollout-timeout ${opts.rolloutTimeout}: must be at least 1s`, 'for example --rollout-timeout 5m');
  const verifyProbe = opts.verifyProbe === undefined ? null : opts.verifyProbe.trim();
  if (verifyProbe !== null && (verifyProbe === '' || /\s/.test(verifyProbe))) {
    throw new UsageError('BAD_FLAG_VALUE', `--verify-probe ${JSON.stringify(opts.verifyProbe)}: not a container image reference`, 'name an image with the AWS CLI, for example --verify-probe amazon/aws-cli:2.17.0');
  }
  const journalDir = journalDirOf(opts.journalDir, ctx);
  // -o json / yaml: the run result document on stdout (the review on stderr); text / table: the report.
  const json = opts.output === 'json' || opts.output === 'yaml';
  // -o yaml: the JSON document in YAML with the settings of every other command (cli/output.ts).
  const documentText = async (result: RunResult) => inFormat(opts.output === 'yaml' ? 'yaml' : 'json', (await import('../../render/apply.js')).renderRunResultJson(result));
  const io = await createIo({ ...(opts.color === false ? { color: false } : {}) }, ctx);

  const { plan, source, partialScan } = await loadPlan(opts, io, ctx);
  // Clusters the scan could not read were not applied: the run is partial even if all else went well.
  const exitFor = (code: number) => (partialScan && code === ExitCode.ok ? ExitCode.partial : code);
  // A saved plan keeps its own limit unless the command line sets one (even the default value).
  const maxConcurrentRollouts = opts.plan !== undefined && !opts.maxConcurrentRolloutsGiven ? plan.options.maxConcurrentRollouts : positiveInt('--max-concurrent-rollouts', opts.maxConcurrentRollouts, 5);
  const restart = opts.restart && plan.options.restart;

  const { renderPlan } = await import('../../render/plan.js');
  const review = renderPlan(plan, { palette: io.palette });
  if (json) io.warn(review);
  else io.out(review);

  const { renderRunResult, stepLine } = await import('../../render/apply.js');
  const app = await import('../../app/apply.js');
  const startedAt = new Date();
  if (plan.steps.length === 0) {
    const result = app.noChanges(plan, startedAt, new Date());
    // The review already says "No changes." for people.
    if (json) io.out(await documentText(result));
    return exitFor(ExitCode.ok);
  }
  const clusters = plan.clusters.map((c) => c.name).join(', ');
  if (!(await confirmChange({ yes: opts.yes, command: 'podid migrate --apply', question: `Apply these changes to ${clusters}?`, hint: 'review the plan (podid migrate --dry-run), then pass --yes' }, ctx))) {
    io.warn('Apply cancelled; nothing was changed.');
    return ExitCode.ok;
  }

  const portOptions = livePortOptions(opts, plan.clusters[0]?.region);
  if (source !== null) {
    // A saved plan says who made it; applying it as someone else is allowed, but said.
    const { createAwsPorts } = await import('../../adapters/aws.js');
    const me = await (await createAwsPorts(liveAwsOptions(portOptions, readEnv(ctx.env)))).sts.getCallerIdentity();
    if (me.arn !== plan.caller.arn) io.warn(`Note: the plan was made by ${plan.caller.arn}; applying it as ${me.arn}.`);
  }
  // The clusters whose Kubernetes API the run uses (associations and add-ons are verified on
  // their pods, workloads restarted): each context is checked before the lock, the journal and
  // any change: in the kubeconfig, and pointing at its cluster's endpoint (as the scan checks).
  const kubeSteps = new Set(plan.steps.filter((s) => s.kind === 'create-association' || s.kind === 'update-addon' || s.kind === 'restart-batch').map((s) => s.cluster));
  const ports = await createLivePorts(portOptions, ctx, plan.clusters.filter((c) => kubeSteps.has(c.arn)));
  const progress = eventsTo(io);
  return interruptible(io, 'podid migrate --apply', async (signal) => {
    const result = await app.applyPlan(
      {
        plan,
        planSource: source,
        executor: { propagationWaitMs, maxConcurrentRollouts, rolloutTimeoutMs, concurrency, failFast: Boolean(opts.failFast), restart, verifyProbe, pollMs: 500, settleTimeoutMs: Math.max(rolloutTimeoutMs, 60_000) },
        runId: newRunId(startedAt),
        startedAt,
        toolVersion: VERSION,
      },
      await liveServices(ports, journalDir, signal),
      (e) => {
        // One line per completed step; the spinner (on a terminal) for the rest.
        if (e.type === 'apply-step') {
          io.done();
          io.warn(stepLine(e.report, io.palette));
        } else if (e.type === 'apply-workload') {
          io.done();
          io.warn(`  ${e.workload.status} ${e.workload.kind}/${e.workload.namespace}/${e.workload.name}: ${e.workload.message}`);
        } else {
          progress(e);
        }
      },
    );
    io.done();
    io.out(json ? await documentText(result) : renderRunResult(result, { palette: io.palette }));
    return exitFor(result.exitCode);
  });
}
