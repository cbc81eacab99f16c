/**
 * The live scan pipeline shared by `podid scan` and `podid migrate`: kubeconfig targets ->
 * ports (AWS SDK and Kubernetes client, loaded lazily) -> FleetSnapshot -> Inventory.
 */
import type { FleetSnapshot } from '../core/scan/snapshot.js';
import type { Inventory } from '../core/scan/inventory.js';
import { UsageError } from '../core/errors.js';
import type { Io } from './io.js';
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

export interface LiveScan {
  snapshot: FleetSnapshot;
  inventory: Inventory;
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

/** What a command needs read beyond the scan's own references. */
export interface LiveScanExtras {
  /** Roles the command's options name (migrate's --cross-account-source-role): read like any referenced role. */
  roleArns?: readonly string[];
}

export async function runLiveScan(flags: TargetFlags, io: Io, extras: LiveScanExtras = {}): Promise<LiveScan> {
  const trustPolicyLimit = positiveInt('--trust-policy-limit', flags.trustPolicyLimit, 2048);
  const concurrency = positiveInt('--concurrency', flags.concurrency, 8);
  const serviceAccounts = checkServiceAccountFlags(flags.serviceAccount ?? []);
  const namespaces = flags.allNamespaces ? [] : checkNamespaceFlags(flags.namespace ?? []);

  const { loadKubeconfig, resolveTargets } = await import('../adapters/kubeconfig.js');
  const kc = await loadKubeconfig(flags.kubeconfig);
  const defaultRegion = process.env['AWS_REGION'] || process.env['AWS_DEFAULT_REGION'] || undefined;
  const targets = resolveTargets(kc, {
    ...(flags.context?.length ? { contexts: flags.context } : {}),
    ...(flags.allContexts ? { allContexts: true } : {}),
    ...(flags.cluster ? { cluster: flags.cluster } : {}),
    ...(flags.region ? { region: flags.region } : {}),
    ...(defaultRegion ? { defaultRegion } : {}),
  });
  io.progress(`Scanning ${targets.length === 1 ? targets[0]!.context : `${targets.length} clusters`}`);

  // As with the AWS CLI, --profile wins over static keys in the environment (the SDK would
  // otherwise use the keys and warn about two credential sources on every run).
  if (flags.profile) profileOverridesEnvKeys(process.env);
  const { createScanPorts } = await import('../adapters/scan-ports.js');
  const { collectFleet } = await import('../core/scan/collect.js');
  const { analyzeFleet } = await import('../core/scan/analyze.js');
  const ports = await createScanPorts({
    aws: { ...(flags.profile ? { profile: flags.profile } : {}), ...((flags.region ?? targets[0]?.region) ? { region: flags.region ?? targets[0]!.region } : {}) },
    kubeconfig: kc,
  });
  const snapshot = await collectFleet(targets, ports, {
    trustPolicyLimit,
    namespaces,
    serviceAccounts,
    concurrency,
    ...(extras.roleArns?.length ? { extraRoleArns: extras.roleArns } : {}),
    onProgress: (msg) => io.progress(msg),
  });
  const inventory = analyzeFleet(snapshot, { now: new Date(), toolVersion: VERSION });
  return { snapshot, inventory };
}

/** Drops static credentials from the environment so the named profile is what the SDK uses. */
export function profileOverridesEnvKeys(env: NodeJS.ProcessEnv): void {
  for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) delete env[key];
}
