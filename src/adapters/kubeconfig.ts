/**
 * Which clusters a scan targets: kubeconfig contexts, and the EKS cluster (name, region) behind
 * each. `aws eks update-kubeconfig` names contexts and cluster entries by cluster ARN and writes
 * an exec user running `aws eks get-token --cluster-name X --region R`; both are read here, and
 * `--cluster`/`--region` override them. The Kubernetes client loads lazily.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, delimiter, join, resolve } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { parseClusterArn } from '../core/arn.js';
import { UsageError } from '../core/errors.js';

/** The parts of a loaded kubeconfig target resolution reads (KubeConfig satisfies it). */
export interface KubeconfigView {
  getCurrentContext(): string;
  getContexts(): readonly { name: string; cluster: string; user: string }[];
  getClusters(): readonly { name: string; server: string }[];
  getUsers(): readonly { name: string; exec?: unknown }[];
}

export interface TargetOptions {
  /** --context, repeatable. */
  contexts?: readonly string[];
  /** --all-contexts. */
  allContexts?: boolean;
  /** --cluster: the EKS cluster name (one context only). */
  cluster?: string;
  /**
   * --region. With one context it overrides the region found in the kubeconfig; with several it
   * only fills in for contexts whose region cannot be found (it is also the AWS default region).
   */
  region?: string;
  /** The AWS default region (AWS_REGION, AWS_DEFAULT_REGION): the last resort when neither the context nor --region names one. */
  defaultRegion?: string;
}

/** One kubeconfig context and the EKS cluster behind it. */
export interface ScanTarget {
  context: string;
  /** The context's API server URL, checked against DescribeCluster's endpoint. */
  server: string;
  clusterName: string;
  region: string;
  /** Known when the kubeconfig names the cluster by ARN. */
  account: string | null;
  /** Where the cluster name came from, for messages. */
  via: 'flags' | 'context-arn' | 'cluster-arn' | 'exec-args';
}

/** The kubeconfig files in effect: --kubeconfig, else $KUBECONFIG (path list), else ~/.kube/config. */
export function kubeconfigPaths(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string[] {
  if (explicit !== undefined && explicit !== '') return [explicit];
  const fromEnv = env['KUBECONFIG'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv.split(delimiter).filter((p) => p !== '');
  return [join(home, '.kube', 'config')];
}

/**
 * Loads and merges the kubeconfig files (kubectl's rule: the first file's current-context wins).
 * Relative paths are relative to `cwd` (the run's working directory); messages name them as given.
 */
export async function loadKubeconfig(explicit?: string, env: NodeJS.ProcessEnv = process.env, home: string = homedir(), cwd?: string): Promise<KubeConfig> {
  const paths = kubeconfigPaths(explicit, env, home);
  const at = (p: string) => (cwd === undefined ? p : resolve(cwd, p));
  const existing = paths.filter((p) => existsSync(at(p)));
  if (existing.length === 0) {
    throw new UsageError(
      'KUBECONFIG_NOT_FOUND',
      `no kubeconfig found (looked at ${paths.join(', ')})`,
      'pass --kubeconfig PATH, set KUBECONFIG, or run aws eks update-kubeconfig --name CLUSTER --region REGION',
    );
  }
  const k8s = await import('./k8s-client.js');
  // kubectl's merge rule: for a name defined in several files, the first file wins; so does the
  // first current-context set. (KubeConfig.mergeConfig throws on duplicates instead.)
  const clusters: KubeConfig['clusters'] = [];
  const users: KubeConfig['users'] = [];
  const contexts: KubeConfig['contexts'] = [];
  let currentContext = '';
  const empty: string[] = [];
  for (const path of existing) {
    const kc = new k8s.KubeConfig();
    // kubectl reads an empty file as an empty config; the client library throws a TypeError.
    const shape = kubeconfigShape(at(path));
    if (shape === 'empty') {
      empty.push(path);
      continue;
    }
    if (shape !== 'mapping') {
      throw new UsageError('KUBECONFIG_INVALID', `cannot read kubeconfig ${path}: expected a mapping with clusters, users and contexts, found ${shape}`, 'fix the file or pass another with --kubeconfig');
    }
    try {
      kc.loadFromFile(at(path));
    } catch (err) {
      // The YAML parser's message carries a multi-line code frame; its first line says what and where.
      const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
      throw new UsageError('KUBECONFIG_INVALID', `cannot read kubeconfig ${path}: ${reason}`, 'fix the file or pass another with --kubeconfig');
    }
    const addNew = <T extends { name: string }>(into: T[], from: readonly T[]) => {
      for (const item of from) if (!into.some((x) => x.name === item.name)) into.push(item);
    };
    addNew(clusters, kc.clusters);
    addNew(users, kc.users);
    addNew(contexts, kc.contexts);
    if (!currentContext && kc.currentContext) currentContext = kc.currentContext;
  }
  if (empty.length === existing.length) {
    throw new UsageError(
      'KUBECONFIG_EMPTY',
      `the kubeconfig ${empty.join(', ')} ${empty.length === 1 ? 'is' : 'are'} empty: no clusters, users or contexts`,
      'run aws eks update-kubeconfig --name CLUSTER --region REGION, or pass another file with --kubeconfig',
    );
  }
  const merged = new k8s.KubeConfig();
  merged.loadFromOptions({ clusters, users, contexts, currentContext });
  return merged;
}

/** `empty` (nothing, or only comments), `mapping`, or what else the file holds; unreadable YAML is left to the loader. */
function kubeconfigShape(path: string): 'empty' | 'mapping' | string {
  let value: unknown;
  try {
    value = parse(readFileSync(path, 'utf8'));
  } catch {
    return 'mapping';
  }
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'mapping' : `a ${typeof value}`;
}

/** A kubeconfig from YAML text (tests, and kubeconfigs passed on stdin). */
export async function kubeconfigFromString(text: string): Promise<KubeConfig> {
  const k8s = await import('./k8s-client.js');
  const kc = new k8s.KubeConfig();
  try {
    kc.loadFromString(text);
  } catch (err) {
    throw new UsageError('KUBECONFIG_INVALID', `cannot read kubeconfig: ${err instanceof Error ? err.message : String(err)}`);
  }
  return kc;
}

/** A selected context that names no EKS cluster podid can find (a fleet run goes on without it). */
export interface UnresolvedTarget {
  context: string;
  server: string | null;
  error: UsageError;
}

/** Resolves the contexts to scan and the EKS cluster behind each. Throws UsageError with the fix. */
export function resolveTargets(kc: KubeconfigView, opts: TargetOptions = {}): ScanTarget[] {
  const { targets, unresolved } = resolveFleetTargets(kc, opts);
  if (unresolved[0] !== undefined) throw unresolved[0].error;
  return targets;
}

/**
 * As resolveTargets, but in a fleet run (several contexts selected) a context whose EKS cluster
 * cannot be told (no server, not an EKS context, no region) is returned in `unresolved` instead
 * of stopping the run. With one context selected, its problem is thrown as a usage error.
 */
export function resolveFleetTargets(kc: KubeconfigView, opts: TargetOptions = {}): { targets: ScanTarget[]; unresolved: UnresolvedTarget[] } {
  const contexts = kc.getContexts();
  const available = contexts.map((c) => c.name);
  const listing = available.length > 0 ? `available: ${available.join(', ')}` : 'the kubeconfig has no contexts';
  const requested = opts.contexts ?? [];

  if (opts.allContexts && requested.length > 0) {
    throw new UsageError('TARGET_FLAGS_CONFLICT', '--all-contexts and --context cannot be combined', 'pass either --all-contexts or one --context per cluster');
  }
  let names: string[];
  if (opts.allContexts) {
    if (available.length === 0) throw new UsageError('CONTEXT_NONE', 'the kubeconfig has no contexts', 'run aws eks update-kubeconfig --name CLUSTER --region REGION');
    names = available;
  } else if (requested.length > 0) {
    const unknown = requested.filter((n) => !available.includes(n));
    if (unknown.length > 0) {
      throw new UsageError('CONTEXT_UNKNOWN', `unknown kubeconfig context ${unknown.map((n) => JSON.stringify(n)).join(', ')}`, listing);
    }
    names = [...new Set(requested)];
  } else {
    const current = kc.getCurrentContext();
    if (!current) throw new UsageError('CONTEXT_NONE', 'the kubeconfig has no current context', `pass --context NAME or --all-contexts (${listing})`);
    if (!available.includes(current)) throw new UsageError('CONTEXT_UNKNOWN', `the current context ${JSON.stringify(current)} is not defined in the kubeconfig`, listing);
    names = [current];
  }

  if (opts.cluster !== undefined && names.length !== 1) {
    throw new UsageError('TARGET_FLAGS_CONFLICT', `--cluster names one cluster but ${names.length} contexts are selected`, 'pass --cluster with exactly one --context');
  }
  if (names.length === 1) return { targets: [resolveContext(kc, names[0]!, opts, true)], unresolved: [] };
  const targets: ScanTarget[] = [];
  const unresolved: UnresolvedTarget[] = [];
  for (const name of names) {
    try {
      targets.push(resolveContext(kc, name, opts, false));
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      const ctx = kc.getContexts().find((c) => c.name === name);
      const server = (ctx && kc.getClusters().find((c) => c.name === ctx.cluster)?.server) || null;
      unresolved.push({ context: name, server, error: err });
    }
  }
  return { targets, unresolved };
}

function resolveContext(kc: KubeconfigView, name: string, opts: TargetOptions, single: boolean): ScanTarget {
  const ctx = kc.getContexts().find((c) => c.name === name);
  const clusterEntry = ctx ? kc.getClusters().find((c) => c.name === ctx.cluster) : undefined;
  if (!ctx || !clusterEntry || !clusterEntry.server) {
    throw new UsageError('CONTEXT_NO_SERVER', `context ${JSON.stringify(name)} has no cluster with a server URL`, 'fix the kubeconfig (aws eks update-kubeconfig rewrites it)');
  }
  const user = kc.getUsers().find((u) => u.name === ctx.user);
  const exec = execClusterRef(user?.exec);
  const fromArn = clusterFromArn(name, 'context-arn') ?? clusterFromArn(ctx.cluster, 'cluster-arn');
  const base = { context: name, server: clusterEntry.server };

  if (opts.cluster !== undefined) {
    const region = opts.region ?? fromArn?.region ?? exec?.region ?? opts.defaultRegion;
    if (!region) throw new UsageError('CONTEXT_REGION_UNKNOWN', `cannot tell the region of cluster ${opts.cluster} for context ${JSON.stringify(name)}`, 'pass --region REGION or set AWS_REGION');
    const account = fromArn && fromArn.name === opts.cluster && fromArn.region === region ? fromArn.account : null;
    return { ...base, clusterName: opts.cluster, region, account, via: 'flags' };
  }
  if (fromArn) {
    const region = single && opts.region !== undefined ? opts.region : fromArn.region;
    return { ...base, clusterName: fromArn.name, region, account: region === fromArn.region ? fromArn.account : null, via: fromArn.via };
  }
  if (exec) {
    const region = (single ? opts.region : undefined) ?? exec.region ?? opts.region ?? opts.defaultRegion;
    if (!region) {
      throw new UsageError('CONTEXT_REGION_UNKNOWN', `context ${JSON.stringify(name)} runs ${exec.tool} for cluster ${exec.cluster} but names no region`, 'pass --region REGION or set AWS_REGION');
    }
    return { ...base, clusterName: exec.cluster, region, account: null, via: 'exec-args' };
  }
  throw new UsageError(
    'CONTEXT_CLUSTER_UNKNOWN',
    `cannot tell which EKS cluster context ${JSON.stringify(name)} points to: its name is not a cluster ARN and its user does not run aws eks get-token or aws-iam-authenticator`,
    'pass --cluster NAME --region REGION (with a single --context)',
  );
}

function clusterFromArn(value: string, via: 'context-arn' | 'cluster-arn'): { name: string; region: string; account: string; via: typeof via } | undefined {
  if (!value.startsWith('arn:')) return undefined;
  const parsed = parseClusterArn(value);
  return parsed.ok ? { name: parsed.arn.name, region: parsed.arn.region, account: parsed.arn.account, via } : undefined;
}

export interface ExecClusterRef {
  tool: 'aws eks get-token' | 'aws-iam-authenticator';
  cluster: string;
  region: string | undefined;
}

/**
 * The cluster an exec credential plugin asks a token for. Reads `--flag value` and
 * `--flag=value`; the region may also come from the plugin's AWS_REGION / AWS_DEFAULT_REGION env.
 */
export function execClusterRef(exec: unknown): ExecClusterRef | undefined {
  if (typeof exec !== 'object' || exec === null) return undefined;
  const e = exec as { command?: unknown; args?: unknown; env?: unknown };
  const command = typeof e.command === 'string' ? basename(e.command).replace(/\.exe$/i, '') : '';
  const args = Array.isArray(e.args) ? e.args.filter((a): a is string => typeof a === 'string') : [];
  const envRegion = regionFromEnv(e.env);

  const flag = (...names: string[]): string | undefined => {
    for (let i = 0; i < args.length; i++) {
      const arg = args[i] as string;
      for (const n of names) {
        if (arg === n && i + 1 < args.length) return args[i + 1];
        if (arg.startsWith(`${n}=`)) return arg.slice(n.length + 1);
      }
    }
    return undefined;
  };

  if (command === 'aws' && args.includes('eks') && args.includes('get-token')) {
    const cluster = flag('--cluster-name', '--cluster-id');
    if (!cluster) return undefined;
    return { tool: 'aws eks get-token', cluster, region: flag('--region') ?? envRegion };
  }
  if (command === 'aws-iam-authenticator' && args.includes('token')) {
    const cluster = flag('-i', '--cluster-id');
    if (!cluster) return undefined;
    return { tool: 'aws-iam-authenticator', cluster, region: flag('--region') ?? envRegion };
  }
  return undefined;
}

function regionFromEnv(env: unknown): string | undefined {
  if (!Array.isArray(env)) return undefined;
  const pick = (key: string) => {
    const hit = env.find((v): v is { name: string; value: string } => typeof v === 'object' && v !== null && (v as { name?: unknown }).name === key);
    return typeof hit?.value === 'string' && hit.value !== '' ? hit.value : undefined;
  };
  return pick('AWS_REGION') ?? pick('AWS_DEFAULT_REGION');
}
