/**
 * What every changing command (migrate --apply, rollback, finalize) builds the same way: the
 * live ports over the AWS SDK and the Kubernetes client (loaded lazily), the test-only
 * kill-after-k-mutations hook, and SIGINT and SIGTERM handling (finish what is in flight, start
 * nothing new, exit 130; a second signal exits at once).
 */
import type { AwsOptions } from '../adapters/aws.js';
import type { ExecutionServices } from '../app/execution.js';
import { DEFAULT_CONCURRENCY } from '../core/concurrency.js';
import { ExitCode, UsageError } from '../core/errors.js';
import type { ApplyPorts } from '../core/apply/ports.js';
import type { CliContext } from './context.js';
import { readEnv, type CliEnv } from './env.js';
import { awsOptionsOf, DEFAULT_REQUEST_TIMEOUT, loadRunKubeconfig, parseRequestTimeout, positiveInt } from './live-scan.js';
import type { Io } from './io.js';

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
    iam: { ...ports.iam, updateAssumeRolePolicy: (a, d) => wrap(() => ports.iam.updateAssumeRolePolicy(a, d)), deleteOidcProvider: (a) => wrap(() => ports.iam.deleteOidcProvider(a)), createOidcProvider: (p) => wrap(() => ports.iam.createOidcProvider(p)) },
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

/**
 * The ports options of a changing command (migrate --apply, rollback, finalize) from its flags:
 * --request-timeout as kubectl reads it (0 stays 0: no request timeout, and an exec plugin gets
 * kube-auth's 60 s ceiling), --concurrency (8 when absent), the region from --region, else the
 * plan's or scan's first cluster's.
 */
export function livePortOptions(flags: { profile?: string | undefined; region?: string | undefined; kubeconfig?: string | undefined; requestTimeout?: string | undefined; concurrency?: string | undefined }, region: string | undefined): LivePortOptions {
  return {
    profile: flags.profile,
    region: flags.region ?? region,
    kubeconfig: flags.kubeconfig,
    requestTimeoutMs: parseRequestTimeout(flags.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT),
    concurrency: positiveInt('--concurrency', flags.concurrency ?? String(DEFAULT_CONCURRENCY), DEFAULT_CONCURRENCY),
  };
}

export interface LivePortOptions {
  profile?: string | undefined;
  /** --region, else the plan's first cluster's; AWS_REGION / AWS_DEFAULT_REGION when neither. */
  region?: string | undefined;
  kubeconfig?: string | undefined;
  requestTimeoutMs: number;
  /** --concurrency: the DescribeCluster calls checking the clusters' contexts in flight at once (as the scan bounds its AWS calls). */
  concurrency: number;
}

/** The AWS client options of a changing command (awsOptionsOf, as the scan's). */
export function liveAwsOptions(opts: LivePortOptions, env: CliEnv): AwsOptions {
  return awsOptionsOf(opts, env);
}

/** Whose clusters are checked, for the CONTEXT_UNKNOWN line: a plan's (apply) or a journaled run's (rollback). */
export interface ContextSource {
  /** `the plan's`, `the run's` */
  whose: string;
  /** What a context pointing at another cluster would do: `applying the plan`, `rolling back`. */
  doing: string;
  hint: string;
}

const PLAN_CONTEXTS: ContextSource = {
  whose: "the plan's",
  doing: 'applying the plan',
  hint: 'use the kubeconfig the plan was made with (--kubeconfig, KUBECONFIG), or make a new plan with this one (podid migrate --dry-run --out FILE); nothing was changed',
};

/**
 * `clusters`: the clusters of a plan (or journal) whose Kubernetes API the run will use. Each
 * must name a context of the kubeconfig, and that context's server must be the cluster's
 * endpoint as EKS describes it (the scan's check, CONTEXT_ENDPOINT_MISMATCH), checked here,
 * before the lock, the journal and anything is changed: found only at the first Kubernetes call,
 * a missing context would fail the run halfway (after trust writes), and a context pointing at
 * another cluster would read and write that other cluster's Kubernetes objects.
 */
export async function createLivePorts(opts: LivePortOptions, ctx: CliContext, clusters: readonly { name: string; region: string; context: string | null }[] = [], source: ContextSource = PLAN_CONTEXTS): Promise<ApplyPorts> {
  const [{ createAwsApplyPorts }, { kubeApplyPortFactory }] = await Promise.all([
    import('../adapters/aws-write.js'),
    import('../adapters/kube-write.js'),
  ]);
  const awsOptions = liveAwsOptions(opts, readEnv(ctx.env));
  const aws = await createAwsApplyPorts(awsOptions);
  const kubeconfig = await loadRunKubeconfig(opts.kubeconfig, ctx);
  const targets = clusters.map((c) => {
    const context = c.context === null ? null : kubeconfig.getContext(c.context);
    if (c.context === null || context === null) {
      throw new UsageError(
        'CONTEXT_UNKNOWN',
        c.context === null ? `${source.whose} cluster ${c.name} names no kubeconfig context, so podid cannot reach its Kubernetes API` : `${source.whose} cluster ${c.name} names kubeconfig context ${JSON.stringify(c.context)}, which is not in the kubeconfig`,
        source.hint,
      );
    }
    return { context: c.context, server: kubeconfig.getCluster(context.cluster)?.server ?? '', clusterName: c.name, region: c.region };
  });
  if (targets.length > 0) {
    const [{ createAwsPorts }, { describeContextClusters }] = await Promise.all([import('../adapters/aws.js'), import('../core/scan/collect.js')]);
    const eks = await createAwsPorts(awsOptions);
    await describeContextClusters(targets, (region) => eks.eks(region), opts.concurrency, `${source.doing} would mix two clusters`, (t) => `point the context at the cluster (aws eks update-kubeconfig --name ${t.clusterName} --region ${t.region}), or ${source.hint}`);
  }
  const kube = await kubeApplyPortFactory(kubeconfig, { requestTimeoutMs: opts.requestTimeoutMs });
  const ports: ApplyPorts = { iam: aws.iam, eks: aws.eks, kube };
  // Test-only: the run's environment, never the process's, arms the hook.
  const killAt = Number(ctx.env['PODID_TEST_KILL_AFTER_MUTATIONS'] ?? '');
  return Number.isInteger(killAt) && killAt > 0 ? killAfter(ports, killAt) : ports;
}

/** The services of a changing use case: these ports, the journal directory (journals and locks), the real clock and AWS-style retries. */
export async function liveServices(ports: ApplyPorts, journalDir: string, signal: AbortSignal): Promise<ExecutionServices> {
  const [{ journalDirectory }, { realClock }, { DEFAULT_RETRY }] = await Promise.all([import('../adapters/journal-fs.js'), import('../core/apply/ports.js'), import('../core/apply/retry.js')]);
  const store = journalDirectory(journalDir);
  return { ports, journal: store, locks: store, clock: realClock, random: Math.random, retry: DEFAULT_RETRY, signal };
}

/**
 * Runs `fn` with an AbortSignal that the first SIGINT or SIGTERM aborts (SIGTERM is how a CI job
 * is cancelled and a pod stopped: it gets the same clean stop, exit 130); a second one exits at
 * once. Restores the previous handlers after.
 */
export async function interruptible<T>(io: Io, what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  let interrupts = 0;
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const onSignal = () => {
    interrupts++;
    if (interrupts > 1) process.exit(ExitCode.interrupted);
    io.done();
    io.warn(`Interrupted: finishing the calls in flight and writing the journal (interrupt again to stop at once). Run ${what} again to finish.`);
    abort.abort();
  };
  const saved = signals.map((s) => [s, process.listeners(s)] as const);
  for (const s of signals) {
    process.removeAllListeners(s);
    process.on(s, onSignal);
  }
  try {
    return await fn(abort.signal);
  } finally {
    io.done();
    for (const [s, listeners] of saved) {
      process.removeAllListeners(s);
      for (const l of listeners) process.on(s, l as () => void);
    }
  }
}
