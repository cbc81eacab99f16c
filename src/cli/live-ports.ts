/**
 * What every changing command (migrate --apply, rollback, finalize) builds the same way: the
 * live ports over the AWS SDK and the Kubernetes client (loaded lazily), the test-only
 * kill-after-k-mutations hook, and SIGINT handling (finish what is in flight, start nothing new,
 * exit 130; a second SIGINT exits at once).
 */
import { ExitCode } from '../core/errors.js';
import type { ApplyPorts } from '../core/apply/ports.js';
import type { CliContext } from './context.js';
import { readEnv } from './env.js';
import { awsTimeouts, loadRunKubeconfig } from './live-scan.js';
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

export async function createLivePorts(opts: { profile?: string | undefined; region?: string | undefined; kubeconfig?: string | undefined; requestTimeoutMs: number }, ctx: CliContext): Promise<ApplyPorts> {
  const [{ createAwsApplyPorts }, { kubeApplyPortFactory }] = await Promise.all([
    import('../adapters/aws-write.js'),
    import('../adapters/kube-write.js'),
  ]);
  const env = readEnv(ctx.env);
  const region = opts.region ?? env.awsRegion;
  // As migrate --apply: --profile, else AWS_PROFILE (named as such in errors); the request and connection timeouts.
  const aws = await createAwsApplyPorts({
    ...(opts.profile ? { profile: opts.profile } : env.awsProfile ? { profile: env.awsProfile, profileFrom: 'AWS_PROFILE' as const } : {}),
    ...(region ? { region } : {}),
    ...awsTimeouts(opts.requestTimeoutMs),
  });
  const kubeconfig = await loadRunKubeconfig(opts.kubeconfig, ctx);
  const kube = await kubeApplyPortFactory(kubeconfig, { requestTimeoutMs: opts.requestTimeoutMs });
  return withTestKillHook({ iam: aws.iam, eks: aws.eks, kube }, ctx);
}

/** The ports, wrapped by killAfter when the run's environment sets PODID_TEST_KILL_AFTER_MUTATIONS. */
export function withTestKillHook(ports: ApplyPorts, ctx: CliContext): ApplyPorts {
  const killAt = Number(ctx.env['PODID_TEST_KILL_AFTER_MUTATIONS'] ?? '');
  return Number.isInteger(killAt) && killAt > 0 ? killAfter(ports, killAt) : ports;
}

/** Runs `fn` with an AbortSignal that the first SIGINT aborts; restores the previous handlers after. */
export async function interruptible<T>(io: Io, what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  const saved = process.listeners('SIGINT');
  process.removeAllListeners('SIGINT');
  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts++;
    if (interrupts > 1) process.exit(ExitCode.interrupted);
    io.done();
    io.warn(`Interrupted: finishing the calls in flight and writing the journal (interrupt again to stop at once). Run ${what} again to finish.`);
    abort.abort();
  });
  try {
    return await fn(abort.signal);
  } finally {
    io.done();
    process.removeAllListeners('SIGINT');
    for (const l of saved) process.on('SIGINT', l as () => void);
  }
}
