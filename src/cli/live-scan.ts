/**
 * The target flags shared by `podid scan` and `podid migrate`, turned into what the application
 * layer takes: validated scan options (kubeconfig contexts resolved to EKS clusters) and the
 * ports (AWS SDK and Kubernetes client, loaded lazily). Flags and the environment are read here;
 * the scan itself runs in app/scan.ts.
 */
import type { AwsOptions } from '../adapters/aws.js';
import type { ClusterScanOptions } from '../app/scan.js';
import { PodidError, UsageError } from '../core/errors.js';
import { DEFAULT_TRUST_POLICY_LIMIT } from '../core/policy/serialize.js';
import type { ScanPorts } from '../core/ports.js';
import { homeOf, type CliContext } from './context.js';
import { readEnv, type CliEnv } from './env.js';
import { envProxies, type ProxyFor } from '../adapters/proxy-env.js';
import { VERSION } from './version.js';

export interface TargetFlags {
  context?: string[];
  allContexts?: boolean;
  kubeconfig?: string;
  cluster?: string;
  region?: string;
  profile?: string;
  namespace?: string[];
  allNamespaces?: boolean;
  serviceAccount?: string[];
  trustPolicyLimit: string;
  concurrency: string;
  /** kubectl's --request-timeout: 30s, 1m, 500ms, a bare number of seconds; 0 for none. */
  requestTimeout?: string;
}

/** The default bound on every AWS and Kubernetes request. */
export const DEFAULT_REQUEST_TIMEOUT = '30s';

/**
 * kubectl's --request-timeout: a duration with a unit (500ms, 30s, 2m, 1h, or combined: 1m30s)
 * or a bare number of seconds; 0 means no timeout. Returns milliseconds.
 */
export function parseRequestTimeout(raw: string): number {
  const value = raw.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let at = 0;
  for (let m = re.exec(value); m !== null; m = re.exec(value)) {
    total += Number(m[1]) * units[m[2]!]!;
    at = re.lastIndex;
  }
  if (value === '' || at !== value.length) {
    throw new UsageError('BAD_FLAG_VALUE', `--request-timeout ${raw}: expected a duration such as 30s, 1m or 500ms (0 for none)`, 'for example --request-timeout 10s');
  }
  return Math.round(total);
}

export function positiveInt(flag: string, raw: string, example: number, min = 1): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min) throw new UsageError('BAD_FLAG_VALUE', `${flag} ${raw}: expected a whole number of at least ${min}`, `for example ${flag} ${example}`);
  return n;
}

/** Kubernetes namespace names (RFC 1123 labels), as -n takes them. */
export function checkNamespaceFlags(values: readonly string[]): string[] {
  for (const v of values) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v) || v.length > 63) {
      throw new UsageError('BAD_FLAG_VALUE', `--namespace ${v}: not a Kubernetes namespace name`, 'namespace names are lower-case letters, digits and -, for example -n kube-system');
    }
  }
  return [...values];
}

export function checkServiceAccountFlags(values: readonly string[]): string[] {
  for (const v of values) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(v)) {
      throw new UsageError('BAD_FLAG_VALUE', `--service-account ${v}: expected NAMESPACE/NAME`, 'for example --service-account shop/cart');
    }
  }
  return [...values];
}

export interface LiveScanSetup {
  readonly options: ClusterScanOptions;
  readonly ports: ScanPorts;
}

/**
 * Validates the target flags, loads the kubeconfig, resolves the contexts to EKS clusters and
 * builds the ports. Every usage error (a bad flag, an unknown context, no region) is thrown
 * before any API call.
 */
export async function setUpLiveScan(flags: TargetFlags, ctx: CliContext, now: Date): Promise<LiveScanSetup> {
  const env = readEnv(ctx.env);
  const trustPolicyLimit = positiveInt('--trust-policy-limit', flags.trustPolicyLimit, DEFAULT_TRUST_POLICY_LIMIT);
  const concurrency = positiveInt('--concurrency', flags.concurrency, 8);
  const serviceAccounts = checkServiceAccountFlags(flags.serviceAccount ?? []);
  const namespaces = flags.allNamespaces ? [] : checkNamespaceFlags(flags.namespace ?? []);

  const requestTimeoutMs = parseRequestTimeout(flags.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT);

  const { resolveFleetTargets } = await import('../adapters/kubeconfig.js');
  const kc = await loadRunKubeconfig(flags.kubeconfig, ctx);
  const { targets, unresolved } = resolveFleetTargets(kc, {
    ...(flags.context?.length ? { contexts: flags.context } : {}),
    ...(flags.allContexts ? { allContexts: true } : {}),
    ...(flags.cluster ? { cluster: flags.cluster } : {}),
    ...(flags.region ? { region: flags.region } : {}),
    ...(env.awsRegion ? { defaultRegion: env.awsRegion } : {}),
  });

  const { createScanPorts } = await import('../adapters/scan-ports.js');
  const ports = await createScanPorts({
    aws: awsOptionsOf({ profile: flags.profile, region: flags.region ?? targets[0]?.region, requestTimeoutMs }, env),
    kubeconfig: kc,
    kube: { requestTimeoutMs },
  });
  return {
    options: {
      targets,
      unresolved: unresolved.map((u) => ({ context: u.context, clusterName: null, region: null, server: u.server, error: { code: u.error.code, message: u.error.message, hint: u.error.hint ?? null } })),
      trustPolicyLimit,
      concurrency,
      namespaces,
      serviceAccounts,
      now,
      toolVersion: VERSION,
    },
    ports,
  };
}

/**
 * The AWS client options of a run, scan or change alike: --profile, else AWS_PROFILE (named as
 * such in errors; as with the AWS CLI, either wins over static keys in the environment, aws.ts);
 * the region (else AWS_REGION / AWS_DEFAULT_REGION); the request and connection timeouts; the
 * proxies. A bad AWS_ENDPOINT_URL* is refused here, before any call.
 */
export function awsOptionsOf(opts: { profile?: string | undefined; region?: string | undefined; requestTimeoutMs: number }, env: CliEnv): AwsOptions {
  checkAwsEndpoints(env);
  const region = opts.region ?? env.awsRegion;
  return {
    ...(opts.profile ? { profile: opts.profile } : env.awsProfile ? { profile: env.awsProfile, profileFrom: 'AWS_PROFILE' as const } : {}),
    ...(region ? { region } : {}),
    ...awsTimeouts(opts.requestTimeoutMs),
    proxy: runProxies(env),
  };
}

/** Where the run's proxy variables send each URL (null: they name no proxy). */
export function runProxies(env: CliEnv): ProxyFor | null {
  return envProxies(env.proxy);
}

/**
 * An AWS_ENDPOINT_URL* variable that is not a URL fails every AWS call; say so once, naming the
 * variable and its value (the SDK's own error names neither). Exit 6 (environment).
 */
export function checkAwsEndpoints(env: CliEnv): void {
  for (const { name, value } of env.awsEndpoints) {
    if (!URL.canParse(value)) {
      throw new PodidError('AWS_ENDPOINT_INVALID', `${name} is not a valid URL: ${JSON.stringify(value)}`, {
        hint: `set ${name} to a URL such as ${name === 'AWS_ENDPOINT_URL' ? 'https://sts.us-east-1.amazonaws.com' : `https://${name.slice('AWS_ENDPOINT_URL_'.length).toLowerCase()}.us-east-1.amazonaws.com`}, or unset it`,
      });
    }
  }
}

/** --request-timeout bounds an AWS request's answer and its connection (0: the SDK's own, none). */
export function awsTimeouts(ms: number): { requestTimeoutMs: number; connectionTimeoutMs: number } {
  return ms === 0 ? { requestTimeoutMs: 0, connectionTimeoutMs: 0 } : { requestTimeoutMs: ms, connectionTimeoutMs: Math.min(ms, 5_000) };
}

type Kubeconfig = import('../adapters/kubeconfig.js').Kubeconfig;

/** The kubeconfigs a run has loaded, by --kubeconfig (one run = one CliContext). */
const runKubeconfigs = new WeakMap<CliContext, Map<string, Promise<Kubeconfig>>>();

/**
 * The kubeconfig of a run: --kubeconfig, else KUBECONFIG, else ~/.kube/config; relative paths in
 * the run's directory. Loaded once per run: `migrate --apply` and `finalize` scan and then write
 * through the same Kubeconfig, so its exec plugin credentials (kept per Kubeconfig, kube-auth.ts)
 * serve both, and `aws eks get-token` runs once per user, not once per phase.
 */
export function loadRunKubeconfig(flag: string | undefined, ctx: CliContext): Promise<Kubeconfig> {
  let loaded = runKubeconfigs.get(ctx);
  if (!loaded) runKubeconfigs.set(ctx, (loaded = new Map()));
  const key = flag ?? '';
  let kc = loaded.get(key);
  if (!kc) {
    kc = (async () => {
      const { loadKubeconfig } = await import('../adapters/kubeconfig.js');
      // Exec credential plugins (aws eks get-token) run with the run's environment and directory.
      const env = readEnv(ctx.env);
      // A cluster without proxy-url goes through HTTPS_PROXY / HTTP_PROXY unless NO_PROXY says not (kubectl's rule).
      return loadKubeconfig(flag, { KUBECONFIG: env.kubeconfig }, homeOf(ctx), ctx.cwd, ctx.env, runProxies(env));
    })();
    loaded.set(key, kc);
  }
  return kc;
}
