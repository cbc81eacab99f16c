/**
 * The target flags shared by `podid scan` and `podid migrate`, turned into what the application
 * layer takes: validated scan options (kubeconfig contexts resolved to EKS clusters) and the
 * ports (AWS SDK and Kubernetes client, loaded lazily). Flags and the environment are read here;
 * the scan itself runs in app/scan.ts.
 */
import type { ClusterScanOptions } from '../app/scan.js';
import { UsageError } from '../core/errors.js';
import type { ScanPorts } from '../core/ports.js';
import type { CliEnv } from './env.js';
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
export async function setUpLiveScan(flags: TargetFlags, env: CliEnv, now: Date): Promise<LiveScanSetup> {
  const trustPolicyLimit = positiveInt('--trust-policy-limit', flags.trustPolicyLimit, 2048);
  const concurrency = positiveInt('--concurrency', flags.concurrency, 8);
  const serviceAccounts = checkServiceAccountFlags(flags.serviceAccount ?? []);
  const namespaces = flags.allNamespaces ? [] : checkNamespaceFlags(flags.namespace ?? []);

  const { loadKubeconfig, resolveTargets } = await import('../adapters/kubeconfig.js');
  const kc = await loadKubeconfig(flags.kubeconfig, { KUBECONFIG: env.kubeconfig });
  const targets = resolveTargets(kc, {
    ...(flags.context?.length ? { contexts: flags.context } : {}),
    ...(flags.allContexts ? { allContexts: true } : {}),
    ...(flags.cluster ? { cluster: flags.cluster } : {}),
    ...(flags.region ? { region: flags.region } : {}),
    ...(env.awsRegion ? { defaultRegion: env.awsRegion } : {}),
  });

  const { createScanPorts } = await import('../adapters/scan-ports.js');
  const region = flags.region ?? targets[0]?.region ?? env.awsRegion;
  const ports = await createScanPorts({
    // As with the AWS CLI, --profile wins over static keys in the environment (aws.ts).
    aws: { ...(flags.profile ? { profile: flags.profile } : env.awsProfile ? { profile: env.awsProfile, profileFrom: 'AWS_PROFILE' as const } : {}), ...(region ? { region } : {}) },
    kubeconfig: kc,
  });
  return { options: { targets, trustPolicyLimit, concurrency, namespaces, serviceAccounts, now, toolVersion: VERSION }, ports };
}
