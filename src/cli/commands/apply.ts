/**
 * `podid migrate --apply`: plan (or load --plan FILE, checked), show the review, confirm, then
 * run the use case (app/apply.ts) and print the run result. The composition root of apply:
 * flags -> options, ports (AWS SDK and Kubernetes client, lazily), the journal directory,
 * SIGINT. The executor (core/apply) does the work.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ExitCode, UsageError } from '../../core/errors.js';
import type { ApplyPorts } from '../../core/apply/ports.js';
import type { MigrationPlan } from '../../core/plan/model.js';
import { confirmChange, defaultJournalDir } from '../confirm.js';
import { parseDuration } from '../duration.js';
import { createIo, type Io } from '../io.js';
import { readEnv } from '../env.js';
import { positiveInt } from '../live-scan.js';
import { eventsTo } from '../progress.js';
import { VERSION } from '../version.js';
import { makePlan, type MigrateCliOptions } from './migrate.js';

export const DEFAULT_PROPAGATION_WAIT = '15s';
export const DEFAULT_ROLLOUT_TIMEOUT = '5m';
export const DEFAULT_REQUEST_TIMEOUT = '30s';

export { defaultJournalDir };

export function newRunId(now: Date): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

const SCOPE_FLAGS: (keyof MigrateCliOptions)[] = ['context', 'allContexts', 'cluster', 'namespace', 'allNamespaces', 'serviceAccount', 'role', 'installAgent', 'crossAccountSourceRole'];

async function loadPlan(opts: MigrateCliOptions, io: Io): Promise<{ plan: MigrationPlan; source: string | null }> {
  if (opts.plan === undefined) return { plan: await makePlan(opts, io), source: null };
  const given = SCOPE_FLAGS.filter((f) => opts[f] !== undefined && opts[f] !== false);
  if (given.length > 0) {
    throw new UsageError('APPLY_FLAGS_CONFLICT', `--plan ${opts.plan}: the plan already fixes what is applied; drop ${given.map((f) => `--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`, 'make a new plan with those flags (podid migrate --dry-run --out plan.json), then apply it');
  }
  let text: string;
  try {
    text = opts.plan === '-' ? readFileSync(0, 'utf8') : readFileSync(opts.plan, 'utf8');
  } catch (err) {
    throw new UsageError('PLAN_UNREADABLE', `--plan ${opts.plan}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, 'pass the file written by podid migrate --dry-run --out FILE');
  }
  const { parsePlanDocument } = await import('../../core/plan/validate.js');
  return { plan: parsePlanDocument(text, opts.plan), source: resolve(opts.plan) };
}

function confirm(opts: MigrateCliOptions, plan: MigrationPlan): Promise<boolean> {
  const clusters = plan.clusters.map((c) => c.name).join(', ');
  return confirmChange({ yes: opts.yes, command: 'podid migrate --apply', question: `Apply these changes to ${clusters}?`, hint: 'review the plan (podid migrate --dry-run), then pass --yes' });
}

/**
 * Test-only (PODID_TEST_KILL_AFTER_MUTATIONS=k): SIGKILL this process as soon as its k-th
 * mutating call has answered, and never send a (k+1)-th, so exactly k mutations happened.
 */
export function killAfter(ports: ApplyPorts, k: number): ApplyPorts {
  let sent = 0;
  const wrap = <T>(send: () => Promise<T>): Promise<T> => {
    sent++;
    if (sent > k) {
      process.kill(process.pid, 'SIGKILL');
      return new Promise<T>(() => undefined);
    }
    const index = sent;
    return send().finally(() => {
      if (index === k) process.kill(process.pid, 'SIGKILL');
    });
  };
  return {
    iam: { getRole: (a) => ports.iam.getRole(a), updateAssumeRolePolicy: (a, d) => wrap(() => ports.iam.updateAssumeRolePolicy(a, d)) },
    eks: (region) => {
      const e = ports.eks(region);
      return { ...e, createAssociation: (c, i) => wrap(() => e.createAssociation(c, i)), createAddon: (c, i) => wrap(() => e.createAddon(c, i)), updateAddon: (c, i) => wrap(() => e.updateAddon(c, i)), deleteAssociation: (c, id) => wrap(() => e.deleteAssociation(c, id)), deleteAddon: (c, a) => wrap(() => e.deleteAddon(c, a)) };
    },
    kube: (context) => {
      const k8s = ports.kube(context);
      return { ...k8s, restartWorkload: (kind, ns, name, at) => wrap(() => k8s.restartWorkload(kind, ns, name, at)), setRestartedAt: (kind, ns, name, at) => wrap(() => k8s.setRestartedAt(kind, ns, name, at)), patchServiceAccountAnnotations: (ns, name, a) => wrap(() => k8s.patchServiceAccountAnnotations(ns, name, a)) };
    },
  };
}

export async function runApply(opts: MigrateCliOptions): Promise<number> {
  if (opts.dryRun) throw new UsageError('APPLY_FLAGS_CONFLICT', '--dry-run and --apply exclude each other', 'pass one of them');
  const propagationWaitMs = parseDuration('--propagation-wait', opts.propagationWait ?? DEFAULT_PROPAGATION_WAIT, '15s');
  const rolloutTimeoutMs = parseDuration('--rollout-timeout', opts.rolloutTimeout ?? DEFAULT_ROLLOUT_TIMEOUT, '5m');
  const requestTimeoutMs = parseDuration('--request-timeout', opts.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT, '30s');
  if (rolloutTimeoutMs < 1000) throw new UsageError('BAD_FLAG_VALUE', `--rollout-timeout ${opts.rolloutTimeout}: must be at least 1s`, 'for example --rollout-timeout 5m');
  if (requestTimeoutMs < 100) throw new UsageError('BAD_FLAG_VALUE', `--request-timeout ${opts.requestTimeout}: must be at least 100ms`, 'for example --request-timeout 30s');
  const concurrency = positiveInt('--concurrency', opts.concurrency, 8);
  const journalDir = resolve(opts.journalDir ?? defaultJournalDir());
  const json = opts.output === 'json';
  const io = await createIo({ ...(opts.color === false ? { color: false } : {}) });

  const { plan, source } = await loadPlan(opts, io);
  const maxConcurrentRollouts = opts.plan !== undefined && opts.maxConcurrentRollouts === '5' ? plan.options.maxConcurrentRollouts : positiveInt('--max-concurrent-rollouts', opts.maxConcurrentRollouts, 5);
  const restart = opts.restart && plan.options.restart;

  const { renderPlan } = await import('../../render/plan.js');
  const review = renderPlan(plan, { palette: io.palette });
  if (json) io.warn(review);
  else io.out(review);

  const { renderRunResult, renderRunResultJson, stepLine } = await import('../../render/apply.js');
  const app = await import('../../app/apply.js');
  const startedAt = new Date();
  if (plan.steps.length === 0) {
    const result = app.noChanges(plan, startedAt, new Date());
    // The review already says "No changes." for people.
    if (json) io.out(renderRunResultJson(result));
    return ExitCode.ok;
  }
  if (!(await confirm(opts, plan))) {
    io.warn('Apply cancelled; nothing was changed.');
    return ExitCode.ok;
  }

  const [{ createAwsApplyPorts }, { kubeApplyPortFactory }, { loadKubeconfig }, { journalDirectory }, { realClock }, { DEFAULT_RETRY }] = await Promise.all([
    import('../../adapters/aws-write.js'),
    import('../../adapters/kube-write.js'),
    import('../../adapters/kubeconfig.js'),
    import('../../adapters/journal-fs.js'),
    import('../../core/apply/ports.js'),
    import('../../core/apply/retry.js'),
  ]);
  const env = readEnv();
  const region = opts.region ?? plan.clusters[0]?.region ?? env.awsRegion;
  const aws = await createAwsApplyPorts({ ...(opts.profile ? { profile: opts.profile } : {}), ...(region ? { region } : {}), requestTimeoutMs });
  const kubeconfig = await loadKubeconfig(opts.kubeconfig, { KUBECONFIG: env.kubeconfig });
  const kube = await kubeApplyPortFactory(kubeconfig, { requestTimeoutMs });
  let ports: ApplyPorts = { iam: aws.iam, eks: aws.eks, kube };
  const killAt = Number(process.env['PODID_TEST_KILL_AFTER_MUTATIONS'] ?? '');
  if (Number.isInteger(killAt) && killAt > 0) ports = killAfter(ports, killAt);

  const abort = new AbortController();
  const saved = process.listeners('SIGINT');
  process.removeAllListeners('SIGINT');
  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts++;
    if (interrupts > 1) process.exit(ExitCode.interrupted);
    io.done();
    io.warn('Interrupted: finishing the calls in flight and writing the journal (interrupt again to stop at once).');
    abort.abort();
  });
  const progress = eventsTo(io);
  try {
    const dir = journalDirectory(journalDir);
    const result = await app.applyPlan(
      {
        plan,
        planSource: source,
        executor: { propagationWaitMs, maxConcurrentRollouts, rolloutTimeoutMs, concurrency, failFast: Boolean(opts.failFast), restart, pollMs: 500, settleTimeoutMs: Math.max(rolloutTimeoutMs, 60_000) },
        runId: newRunId(startedAt),
        startedAt,
        toolVersion: VERSION,
      },
      { ports, journal: dir, locks: dir, clock: realClock, random: Math.random, retry: DEFAULT_RETRY, signal: abort.signal },
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
    io.out(json ? renderRunResultJson(result) : renderRunResult(result, { palette: io.palette }));
    return result.exitCode;
  } finally {
    io.done();
    process.removeAllListeners('SIGINT');
    for (const l of saved) process.on('SIGINT', l as () => void);
  }
}
