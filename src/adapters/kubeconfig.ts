/**
 * Which clusters a scan targets: kubeconfig contexts, and the EKS cluster (name, region) behind
 * each. `aws eks update-kubeconfig` names contexts and cluster entries by cluster ARN and writes
 * an exec user running `aws eks get-token --cluster-name X --region R`; both are read here, and
 * `--cluster`/`--region` override them.
 *
 * The files are read here without @kubernetes/client-node (whose KubeConfig pulls a 1.7 MB bundle,
 * about 20 MB of memory and 0.2 s of CPU into every live scan), into the entries it models, with
 * its rules: the same fields, the same checks and messages, relative certificate paths made
 * absolute against the file's directory. Where client-go (kubectl) differs, its rules hold: a
 * `token-file` and an exec command with a path separator are relative to the file's directory,
 * the token-file read when a request needs it (kube-auth.ts). A file the YAML parser
 * reads with any error or warning is handed to client-node's loader instead, so what it accepts
 * and how it words a failure stay its own. A user with an auth-provider or a cluster with a
 * proxy-url is handed to client-node as these entries (KubeConfig.loadFromOptions, kube-auth.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, delimiter, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import type { Cluster, Context, User } from '@kubernetes/client-node';
import { parseDocument } from 'yaml';
import { parseClusterArn } from '../core/arn.js';
import { UsageError } from '../core/errors.js';
import type { ProxyFor } from './proxy-env.js';

/**
 * A kubeconfig user as client-node models it, plus `tokenFile`: the user's `token-file`, made
 * absolute against its kubeconfig file's directory and read when a request needs it (kube-auth.ts;
 * client-go's rule: a broken token-file of a user no selected context uses fails nothing).
 */
export type KubeUser = User & { tokenFile?: string };

/** The parts of a loaded kubeconfig target resolution reads. */
export interface KubeconfigView {
  getCurrentContext(): string;
  getContexts(): readonly { name: string; cluster: string; user: string }[];
  getClusters(): readonly { name: string; server: string }[];
  getUsers(): readonly { name: string; exec?: unknown }[];
}

/**
 * A loaded kubeconfig: its clusters, users and contexts as @kubernetes/client-node models them
 * (KubeConfig.loadFromOptions takes them as they are), and the current context.
 */
export class Kubeconfig implements KubeconfigView {
  /**
   * The environment and working directory exec credential plugins run with: the run's
   * (CliContext's), set by loadKubeconfig; unset, this process's.
   */
  plugin: { env?: NodeJS.ProcessEnv; cwd?: string } = {};
  /**
   * Clusters whose `proxyUrl` came from HTTPS_PROXY / HTTP_PROXY (by cluster name; set by
   * loadKubeconfig), not from the entry's proxy-url: for messages.
   */
  proxyFrom = new Map<string, 'HTTPS_PROXY' | 'HTTP_PROXY'>();

  constructor(
    readonly clusters: Cluster[],
    readonly users: KubeUser[],
    readonly contexts: Context[],
    readonly currentContext: string,
  ) {}

  getCurrentContext(): string {
    return this.currentContext;
  }
  getContexts(): Context[] {
    return this.contexts;
  }
  getClusters(): Cluster[] {
    return this.clusters;
  }
  getUsers(): KubeUser[] {
    return this.users;
  }
  /** The first entry of that name (client-node's lookup). */
  getContext(name: string | undefined): Context | null {
    return this.contexts.find((c) => c.name === name) ?? null;
  }
  getCluster(name: string | undefined): Cluster | null {
    return this.clusters.find((c) => c.name === name) ?? null;
  }
  getUser(name: string | undefined): KubeUser | null {
    return this.users.find((u) => u.name === name) ?? null;
  }
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
export function kubeconfigPaths(explicit: string | undefined, env: NodeJS.ProcessEnv, home: string): string[] {
  if (explicit !== undefined && explicit !== '') return [explicit];
  const fromEnv = env['KUBECONFIG'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv.split(delimiter).filter((p) => p !== '');
  return [join(home, '.kube', 'config')];
}

/**
 * Loads and merges the kubeconfig files (kubectl's rule: the first file's current-context wins).
 * Relative paths are relative to `cwd` (the run's working directory); messages name them as given.
 */
export async function loadKubeconfig(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv,
  home: string,
  cwd?: string,
  pluginEnv?: NodeJS.ProcessEnv,
  proxyFor?: ProxyFor | null,
): Promise<Kubeconfig> {
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
  // kubectl's merge rule: for a name defined in several files, the first file wins; so does the
  // first current-context set. (client-node's KubeConfig.mergeConfig throws on duplicates instead.)
  const clusters: Cluster[] = [];
  const users: KubeUser[] = [];
  const contexts: Context[] = [];
  let currentContext = '';
  const empty: string[] = [];
  for (const path of existing) {
    let kc: Kubeconfig;
    try {
      const text = readFileSync(at(path), 'utf8');
      const doc = readYaml(text);
      // kubectl reads an empty file as an empty config; client-node throws a TypeError.
      // Unreadable YAML is left to client-node's loader, to report.
      const shape = doc.value === undefined ? 'mapping' : documentShape(doc.value.js);
      if (shape === 'empty') {
        empty.push(path);
        continue;
      }
      if (shape !== 'mapping') {
        throw new UsageError('KUBECONFIG_INVALID', `cannot read kubeconfig ${path}: expected a mapping with clusters, users and contexts, found ${shape}`, 'fix the file or pass another with --kubeconfig');
      }
      kc = doc.clean ? fromDocument(doc.value!.js, dirname(at(path))) : await withClientNode(text, dirname(at(path)));
    } catch (err) {
      if (err instanceof UsageError) throw err;
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
  // kubectl sends a cluster without proxy-url through HTTPS_PROXY / HTTP_PROXY unless NO_PROXY
  // (or a loopback server) says not: client-go's transport uses Go's ProxyFromEnvironment when
  // the entry sets no proxy (proxy-env.ts). The entry then reads as if it had that proxy-url.
  const fromEnv = new Map<string, 'HTTPS_PROXY' | 'HTTP_PROXY'>();
  if (proxyFor) {
    clusters.forEach((c, i) => {
      if (c.proxyUrl) return;
      const proxy = proxyFor(c.server);
      if (!proxy) return;
      clusters[i] = { ...c, proxyUrl: proxy.url };
      fromEnv.set(c.name, proxy.from);
    });
  }
  const loaded = new Kubeconfig(clusters, users, contexts, currentContext);
  loaded.proxyFrom = fromEnv;
  loaded.plugin = { ...(pluginEnv ? { env: pluginEnv } : {}), ...(cwd !== undefined ? { cwd } : {}) };
  return loaded;
}

/**
 * The YAML document's value (none when the parser reports an error), and whether it was read
 * without any error or warning: if not, client-node's loader reads the text.
 */
function readYaml(text: string): { value: { js: unknown } | undefined; clean: boolean } {
  // Merge keys (<<) as js-yaml, client-node's parser, reads them.
  const doc = parseDocument(text, { merge: true });
  if (doc.errors.length > 0) return { value: undefined, clean: false };
  return { value: { js: doc.toJS() as unknown }, clean: doc.warnings.length === 0 };
}

/** `empty` (nothing, or only comments), `mapping`, or what else the file holds. */
function documentShape(value: unknown): 'empty' | 'mapping' | string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'mapping' : `a ${typeof value}`;
}

/**
 * The entries of a parsed kubeconfig, as client-node's loadFromString and loadFromFile make them
 * (config_types.js): the same fields, checks and messages, in the same order (clusters, contexts,
 * users); `dir` (a file's directory) makes relative certificate paths absolute.
 */
function fromDocument(obj: any, dir?: string): Kubeconfig {
  // client-node reads a field that is not a list as empty; kubectl refuses the file (its JSON
  // decoding of the Config fails), and so does podid: `clusters: 5` is a typo, not "no clusters".
  const list = (a: unknown, field: string): any[] => {
    if (Array.isArray(a) || a === undefined || a === null) return a ?? [];
    throw new Error(`${field} must be a list, found ${typeof a === 'object' ? 'a mapping' : `a ${typeof a}`}`);
  };
  const clusters: Cluster[] = list(obj.clusters, 'clusters').map((elt: any, i: number) => {
    if (!elt.name) throw new Error(`clusters[${i}].name is missing`);
    if (!elt.cluster) throw new Error(`clusters[${i}].cluster is missing`);
    if (!elt.cluster.server) throw new Error(`clusters[${i}].cluster.server is missing`);
    return {
      caData: elt.cluster['certificate-authority-data'],
      caFile: absolute(dir, elt.cluster['certificate-authority']),
      name: elt.name,
      server: elt.cluster.server.replace(/\/$/, ''),
      skipTLSVerify: elt.cluster['insecure-skip-tls-verify'] === true,
      tlsServerName: elt.cluster['tls-server-name'],
      proxyUrl: elt.cluster['proxy-url'],
    };
  });
  const contexts: Context[] = list(obj.contexts, 'contexts').map((elt: any, i: number) => {
    if (!elt.name) throw new Error(`contexts[${i}].name is missing`);
    if (!elt.context) throw new Error(`contexts[${i}].context is missing`);
    if (!elt.context.cluster) throw new Error(`contexts[${i}].context.cluster is missing`);
    return { cluster: elt.context.cluster, name: elt.name, user: elt.context.user || undefined, namespace: elt.context.namespace || undefined };
  });
  const users: KubeUser[] = list(obj.users, 'users').map((elt: any, i: number) => {
    if (!elt.name) throw new Error(`users[${i}].name is missing`);
    const u = elt.user;
    const tokenFile = u && !u.token ? absolute(dir, u['token-file']) : undefined;
    return {
      authProvider: u ? u['auth-provider'] : null,
      certData: u ? u['client-certificate-data'] : null,
      certFile: absolute(dir, u ? u['client-certificate'] : null),
      exec: u ? execWithCommandIn(dir, u.exec) : null,
      keyData: u ? u['client-key-data'] : null,
      keyFile: absolute(dir, u ? u['client-key'] : null),
      name: elt.name,
      // client-go reads a token-file (relative to the kubeconfig's directory) when a request
      // needs it, and again a minute later (client-node read it once at load, relative to the
      // working directory): kube-auth.ts reads it.
      token: u && u.token ? u.token : undefined,
      ...(tokenFile ? { tokenFile } : {}),
      password: u ? u.password : null,
      username: u ? u.username : null,
      impersonateUser: u ? u.as : null,
    };
  });
  return new Kubeconfig(clusters, users, contexts, obj['current-context']);
}

/**
 * client-go's rule for an exec command: one with a path separator (./bin/aws-token) is
 * relative to the kubeconfig file's directory; a bare name (aws) is looked up on PATH.
 */
function execWithCommandIn(dir: string | undefined, exec: unknown): unknown {
  if (typeof exec !== 'object' || exec === null) return exec;
  const command = (exec as { command?: unknown }).command;
  if (typeof command !== 'string' || !command.includes(sep)) return exec;
  return { ...exec, command: absolute(dir, command) };
}

/**
 * Whether requests to a cluster entry's server go over TLS (`https:`) or plain HTTP (`http:`),
 * decided once from the parsed URL (the scheme's case does not matter) for both the scan
 * (kube-http.ts) and apply (kube-write.ts). client-go's rules, as one-line usage errors naming
 * the entry: plain HTTP only with insecure-skip-tls-verify (the credentials travel unencrypted
 * otherwise), no other scheme, and no certificate-authority together with
 * insecure-skip-tls-verify (verification would be silently off).
 */
export function clusterTransport(cluster: Cluster): 'https:' | 'http:' {
  const entry = `kubeconfig cluster ${JSON.stringify(cluster.name)}`;
  const fix = 'fix the cluster entry in the kubeconfig (aws eks update-kubeconfig rewrites it)';
  if (cluster.skipTLSVerify && (cluster.caFile || cluster.caData)) {
    throw new UsageError(
      'KUBECONFIG_INVALID',
      `${entry} sets both insecure-skip-tls-verify and certificate-authority${cluster.caData ? '-data' : ''}: specifying a root certificates file with the insecure flag is not allowed`,
      'remove insecure-skip-tls-verify to verify the server with the CA, or remove the CA',
    );
  }
  let protocol: string;
  try {
    protocol = new URL(cluster.server).protocol;
  } catch {
    throw new UsageError('KUBECONFIG_INVALID', `${entry}: server ${JSON.stringify(cluster.server)} is not a URL`, fix);
  }
  if (protocol === 'https:') return 'https:';
  if (protocol === 'http:') {
    if (cluster.skipTLSVerify) return 'http:';
    throw new UsageError(
      'KUBECONFIG_INVALID',
      `${entry}: server ${cluster.server} is plain HTTP, which would send the credentials unencrypted; HTTP is allowed only with insecure-skip-tls-verify: true`,
      'use the https:// endpoint of the cluster',
    );
  }
  throw new UsageError('KUBECONFIG_INVALID', `${entry}: server ${cluster.server} has the scheme ${protocol.replace(/:$/, '')}; only https (or http with insecure-skip-tls-verify) is supported`, fix);
}

/** client-node's makeAbsolutePath, for a set path. */
function absolute<T>(dir: string | undefined, file: T): T {
  return dir && typeof file === 'string' && file && !isAbsolute(file) ? (join(dir, file) as T) : file;
}

/** A file the YAML parser had anything to say about, read by client-node itself (its errors, its values). */
async function withClientNode(text: string, dir?: string): Promise<Kubeconfig> {
  const k8s = await import('./k8s-client.js');
  const kc = new k8s.KubeConfig();
  kc.loadFromString(text);
  if (dir !== undefined) kc.makePathsAbsolute(dir);
  return new Kubeconfig(kc.clusters, kc.users, kc.contexts, kc.currentContext);
}

/** A kubeconfig from YAML text (tests, and kubeconfigs passed on stdin). */
export async function kubeconfigFromString(text: string): Promise<Kubeconfig> {
  try {
    const doc = readYaml(text);
    return doc.clean ? fromDocument(doc.value!.js) : await withClientNode(text);
  } catch (err) {
    throw new UsageError('KUBECONFIG_INVALID', `cannot read kubeconfig: ${err instanceof Error ? err.message : String(err)}`);
  }
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
