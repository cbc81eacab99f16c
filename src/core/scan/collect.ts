/**
 * The live scan's reading phase: targets + ports -> FleetSnapshot. Strictly read-only.
 *
 * Cost is what makes a fleet scan usable, so the shape of the calls is fixed:
 * - per cluster: DescribeCluster first (a context whose server is not the cluster's endpoint is
 *   refused before anything else is read), then add-ons, node groups, Fargate profiles,
 *   associations, and ONE paginated all-namespaces list per Kubernetes kind; namespace and
 *   service-account scoping filter those lists, never multiply them;
 * - IAM: every role is fetched once per run (clusters share roles), AWS-managed policy documents
 *   once per ARN;
 * - every remote call goes through one limiter, so parallelism is bounded fleet-wide. Only leaf
 *   calls take a slot (orchestration never does), so nested fan-out cannot deadlock.
 */
import { ROLE_ARN_ANNOTATION } from '../annotations.js';
import type { ScanPorts } from '../../adapters/ports.js';
import { READ_DENIED, READ_NOT_FOUND } from '../../adapters/ports.js';
import { parseClusterArn, parseRoleArn } from '../arn.js';
import { createLimiter, DEFAULT_CONCURRENCY, type Limiter } from '../concurrency.js';
import { PodidError, UsageError } from '../errors.js';
import type {
  AddonSnapshot,
  ClusterSnapshot,
  FleetSnapshot,
  KubeSnapshot,
  NodeRoleSnapshot,
  RoleSnapshot,
} from './snapshot.js';

/** The cluster behind one kubeconfig context (adapters/kubeconfig.ts resolves these). */
export interface CollectTarget {
  context: string;
  server: string;
  clusterName: string;
  region: string;
}

export interface CollectOptions {
  trustPolicyLimit: number;
  /** -n/--namespace; empty or absent: all namespaces. */
  namespaces?: readonly string[];
  /** --service-account NS/NAME; empty or absent: every service account. */
  serviceAccounts?: readonly string[];
  /** Remote calls in flight at once, fleet-wide (default 8). */
  concurrency?: number;
  /** Referenced roles above which ListRoles replaces GetRole (default LIST_ROLES_THRESHOLD). */
  listRolesThreshold?: number;
  onProgress?: (msg: string) => void;
}

export const POD_IDENTITY_ACTION = 'eks-auth:AssumeRoleForPodIdentity';

/**
 * Above this many referenced roles (caller's account, one partition), roles are read with
 * ListRoles instead of one GetRole each. ListRoles returns up to 1,000 roles per page, trust
 * policies included, so it costs ceil(roles in the account / 1,000) calls however many are
 * referenced (a handful under IAM's role quota), but every page is large: the account's every
 * role and trust policy travels and is parsed. With few references GetRole is cheaper (an
 * account with thousands of roles and 3 referenced keeps its 3 GetRole calls); past a few dozen,
 * ListRoles wins on calls and latency. 25 keeps small scans (the demo world refers to ~15) on
 * GetRole.
 */
export const LIST_ROLES_THRESHOLD = 25;

export async function collectFleet(targets: readonly CollectTarget[], ports: ScanPorts, opts: CollectOptions): Promise<FleetSnapshot> {
  const scope = buildScope(opts);
  const call = createLimiter(opts.concurrency ?? DEFAULT_CONCURRENCY);
  const progress = opts.onProgress ?? (() => undefined);

  const caller = await call(() => ports.sts.getCallerIdentity());
  const iam = new IamReader(ports, call, caller.account, opts.listRolesThreshold ?? LIST_ROLES_THRESHOLD);

  // Two contexts for one cluster (an alias and the ARN-named one) would list it twice.
  const unique = new Map<string, CollectTarget>();
  for (const t of targets) {
    const key = `${t.region}/${t.clusterName}`;
    if (!unique.has(key)) unique.set(key, t);
    else progress(`context ${t.context} is the same cluster as ${unique.get(key)?.context}; scanning it once`);
  }

  const clusters = await Promise.all(
    [...unique.values()].map(async (target) => {
      const cluster = await collectCluster(target, ports, call, scope, progress);
      iam.roles(referencedRoles(cluster, scope));
      for (const ng of cluster.nodegroups) if (ng.nodeRole) iam.nodeRole(ng.nodeRole);
      return cluster;
    }),
  );
  progress('reading IAM roles');
  const { roles, nodeRoles } = await iam.settle();
  return { caller, trustPolicyLimit: opts.trustPolicyLimit, clusters, roles, nodeRoles };
}

// ---------------------------------------------------------------------------------------------
// Scope

interface Scope {
  namespace(ns: string): boolean;
  serviceAccount(ns: string, name: string): boolean;
}

function buildScope(opts: CollectOptions): Scope {
  const namespaces = new Set(opts.namespaces ?? []);
  const accounts = new Set<string>();
  for (const ref of opts.serviceAccounts ?? []) {
    const m = /^([^/\s]+)\/([^/\s]+)$/.exec(ref.trim());
    if (!m) throw new UsageError('SERVICE_ACCOUNT_REF_INVALID', `--service-account ${JSON.stringify(ref)} is not NAMESPACE/NAME`, 'e.g. --service-account shop/cart');
    accounts.add(`${m[1]}/${m[2]}`);
  }
  const namespace = (ns: string) => namespaces.size === 0 || namespaces.has(ns);
  return {
    namespace,
    serviceAccount: (ns, name) => namespace(ns) && (accounts.size === 0 || accounts.has(`${ns}/${name}`)),
  };
}

function scopeKube(kube: KubeSnapshot, scope: Scope): KubeSnapshot {
  return {
    serviceAccounts: kube.serviceAccounts.filter((sa) => scope.serviceAccount(sa.namespace, sa.name)),
    workloads: kube.workloads.filter((w) => scope.serviceAccount(w.namespace, w.serviceAccount)),
    pods: kube.pods.filter((p) => scope.serviceAccount(p.namespace, p.serviceAccount)),
    // Nodes are cluster-wide facts (agent coverage, Windows, Fargate): never scoped.
    nodes: kube.nodes,
  };
}

// ---------------------------------------------------------------------------------------------
// One cluster

/** Compares API server URLs: scheme, host (case-insensitive), port, path without trailing slashes. */
export function sameEndpoint(a: string, b: string): boolean {
  const norm = (u: string): string => {
    try {
      const url = new URL(u.trim());
      return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`.toLowerCase();
    } catch {
      return u.trim().replace(/\/+$/, '').toLowerCase();
    }
  };
  return norm(a) === norm(b);
}

async function collectCluster(target: CollectTarget, ports: ScanPorts, call: Limiter, scope: Scope, progress: (msg: string) => void): Promise<ClusterSnapshot> {
  const eks = ports.eks(target.region);
  const name = target.clusterName;
  progress(`${name}: describing the cluster`);
  const info = await call(() => eks.describeCluster(name));
  if (!sameEndpoint(info.endpoint, target.server)) {
    throw new UsageError(
      'CONTEXT_ENDPOINT_MISMATCH',
      `context ${JSON.stringify(target.context)} talks to ${target.server}, but EKS cluster ${name} in ${target.region} has endpoint ${info.endpoint}; scanning would mix two clusters`,
      `point the context at the cluster (aws eks update-kubeconfig --name ${name} --region ${target.region}) or pass the right --cluster/--region`,
    );
  }
  const arn = parseClusterArn(info.arn);
  const account = arn.ok ? arn.arn.account : (info.arn.split(':')[4] ?? '');
  const partition = arn.ok ? arn.arn.partition : (info.arn.split(':')[1] ?? 'aws');

  const kube = ports.kube(target.context);
  progress(`${name}: reading EKS and Kubernetes`);
  const [addons, nodegroups, fargateProfiles, associations, kubeSnapshot] = await Promise.all([
    collectAddons(name, eks, call),
    call(() => eks.listNodegroups(name)).then((ngs) => Promise.all(ngs.map((ng) => call(() => eks.describeNodegroup(name, ng))))),
    call(() => eks.listFargateProfiles(name)).then((fps) => Promise.all(fps.map((fp) => call(() => eks.describeFargateProfile(name, fp))))),
    call(() => eks.listPodIdentityAssociations(name)).then((list) =>
      // Every association is described (the quota check counts them all); roles are only read for the scoped ones.
      Promise.all(list.map((a) => call(() => eks.describePodIdentityAssociation(name, a.associationId)))),
    ),
    Promise.all([
      call(() => kube.listServiceAccounts()),
      call(() => kube.listDeployments()),
      call(() => kube.listStatefulSets()),
      call(() => kube.listDaemonSets()),
      call(() => kube.listReplicaSets()),
      call(() => kube.listJobs()),
      call(() => kube.listCronJobs()),
      call(() => kube.listPods()),
      call(() => kube.listNodes()),
    ]).then(([serviceAccounts, deployments, statefulSets, daemonSets, replicaSets, jobs, cronJobs, pods, nodes]) =>
      scopeKube({ serviceAccounts, workloads: [...deployments, ...statefulSets, ...daemonSets, ...replicaSets, ...jobs, ...cronJobs], pods, nodes }, scope),
    ),
  ]);
  progress(`${name}: ${kubeSnapshot.serviceAccounts.length} service accounts, ${kubeSnapshot.pods.length} pods`);
  return {
    context: target.context,
    name: info.name,
    arn: info.arn,
    account,
    region: target.region,
    partition,
    version: info.version,
    platformVersion: info.platformVersion,
    status: info.status,
    endpoint: info.endpoint,
    oidcIssuer: info.oidcIssuer,
    autoMode: info.autoMode,
    addons,
    nodegroups,
    fargateProfiles,
    associations,
    kube: kubeSnapshot,
  };
}

async function collectAddons(cluster: string, eks: ReturnType<ScanPorts['eks']>, call: Limiter): Promise<AddonSnapshot[]> {
  const names = await call(() => eks.listAddons(cluster));
  return Promise.all(
    names.map(async (addonName) => {
      const a = await call(() => eks.describeAddon(cluster, addonName));
      // Only IRSA add-ons are migrated; whether their version supports Pod Identity decides how.
      const podIdentityConfiguration = a.serviceAccountRoleArn ? await call(() => eks.describeAddonConfiguration(a.name, a.version)) : null;
      return { ...a, podIdentityConfiguration };
    }),
  );
}

/**
 * Role ARNs the analysis will ask about, normalised (the keys of FleetSnapshot.roles). Parsed
 * leniently: values that are not role ARNs at all are skipped here and reported by the analysis.
 */
function referencedRoles(c: ClusterSnapshot, scope: Scope): string[] {
  const raw: string[] = [];
  for (const sa of c.kube.serviceAccounts) {
    const v = sa.annotations[ROLE_ARN_ANNOTATION];
    if (v !== undefined) raw.push(v);
  }
  for (const a of c.addons) if (a.serviceAccountRoleArn) raw.push(a.serviceAccountRoleArn);
  for (const a of c.associations) {
    if (a.ownerArn !== null || scope.serviceAccount(a.namespace, a.serviceAccount)) raw.push(a.roleArn);
  }
  const out = new Set<string>();
  for (const value of raw) {
    const parsed = parseRoleArn(value.trim());
    if (parsed.ok) out.add(parsed.arn.arn);
  }
  return [...out];
}

// ---------------------------------------------------------------------------------------------
// IAM

/**
 * Fetches each role, node role and policy document at most once per run (promise caches). Roles
 * are read as each cluster's references arrive (IAM overlaps the slower clusters' listing): by
 * GetRole while few are referenced, else from one ListRoles walk per partition, with GetRole for
 * any role the listing does not hold as referenced (a path mismatch, one created meanwhile), so
 * every snapshot says what GetRole would have. One difference by design: an identity allowed
 * ListRoles but denied GetRole on some role gets that role from the listing (found, with its
 * trust policy) rather than `unreadable`; IAM did give podid the document.
 */
class IamReader {
  private readonly cache = new Map<string, Promise<RoleSnapshot>>();
  private readonly nodeRoles = new Map<string, Promise<NodeRoleSnapshot>>();
  private readonly policies = new Map<string, Promise<unknown>>();
  /** Same-account roles referenced so far, per partition (the count the threshold is about). */
  private readonly referenced = new Map<string, number>();
  /** Per partition: lowercased role ARN -> the listing's snapshot; null when ListRoles is denied. */
  private readonly listings = new Map<string, Promise<Map<string, RoleSnapshot> | null>>();

  constructor(
    private readonly ports: ScanPorts,
    private readonly call: Limiter,
    private readonly callerAccount: string,
    private readonly listRolesThreshold: number,
  ) {}

  /** One cluster's referenced roles (normalised ARNs); the ones not seen before are read. */
  roles(arns: readonly string[]): void {
    const fresh = new Map<string, string>();
    for (const arn of arns) {
      if (this.cache.has(arn) || fresh.has(arn)) continue;
      const parsed = parseRoleArn(arn);
      const account = parsed.ok ? parsed.arn.account : '';
      if (account !== this.callerAccount) {
        // GetRole reads by name in the caller's own account: another account's role cannot be read.
        this.cache.set(arn, Promise.resolve({ arn, state: 'unreadable', trustPolicy: null, error: `role is in account ${account}; podid reads IAM as account ${this.callerAccount}` }));
        continue;
      }
      const partition = parsed.ok ? parsed.arn.partition : 'aws';
      this.referenced.set(partition, (this.referenced.get(partition) ?? 0) + 1);
      fresh.set(arn, partition);
    }
    for (const [arn, partition] of fresh) {
      const useListing = (this.referenced.get(partition) ?? 0) > this.listRolesThreshold;
      this.cache.set(arn, handled(useListing ? this.fromListing(arn, partition) : this.getRole(arn)));
    }
  }

  private getRole(arn: string): Promise<RoleSnapshot> {
    return this.call(() => this.ports.iam.getRole(arn));
  }

  private async fromListing(arn: string, partition: string): Promise<RoleSnapshot> {
    let listing = this.listings.get(partition);
    if (!listing) {
      listing = handled(
        this.call(() => this.ports.iam.listRoles(partition)).then(
          (roles) => new Map(roles.map((r) => [r.arn.toLowerCase(), r])),
          (err: unknown) => {
            // Allowed GetRole but not ListRoles: read role by role, as below the threshold.
            if (err instanceof PodidError && err.code === READ_DENIED) return null;
            throw err;
          },
        ),
      );
      this.listings.set(partition, listing);
    }
    // IAM role ARNs compare case-insensitively, as GetRole (by name) resolves them.
    const hit = (await listing)?.get(arn.toLowerCase());
    return hit ? { ...hit, arn } : this.getRole(arn);
  }

  nodeRole(arn: string): void {
    if (!this.nodeRoles.has(arn)) this.nodeRoles.set(arn, handled(this.readNodeRole(arn)));
  }

  async settle(): Promise<{ roles: Record<string, RoleSnapshot>; nodeRoles: Record<string, NodeRoleSnapshot> }> {
    const entries = async <T>(m: Map<string, Promise<T>>): Promise<Record<string, T>> =>
      Object.fromEntries(await Promise.all([...m].sort(([a], [b]) => a.localeCompare(b)).map(async ([k, p]) => [k, await p] as const)));
    const [roles, nodeRoles] = await Promise.all([entries(this.cache), entries(this.nodeRoles)]);
    return { roles, nodeRoles };
  }

  private policyDocument(policyArn: string): Promise<unknown> {
    let doc = this.policies.get(policyArn);
    if (!doc) {
      doc = handled(this.call(() => this.ports.iam.getPolicyDocument(policyArn)));
      this.policies.set(policyArn, doc);
    }
    return doc;
  }

  private async readNodeRole(arn: string): Promise<NodeRoleSnapshot> {
    const undecided = (detail: string): NodeRoleSnapshot => ({ arn, allowsAssumeRoleForPodIdentity: null, detail });
    const parsed = parseRoleArn(arn);
    if (!parsed.ok) return undecided(`node role ${JSON.stringify(arn)} is not a role ARN`);
    if (parsed.arn.account !== this.callerAccount) return undecided(`node role is in account ${parsed.arn.account}; podid reads IAM as account ${this.callerAccount}`);
    const iam = this.ports.iam;
    try {
      const [attached, inline] = await Promise.all([this.call(() => iam.listAttachedRolePolicies(arn)), this.call(() => iam.listRolePolicies(arn))]);
      const sources = await Promise.all([
        ...attached.map(async (p) => ({ source: p.arn, document: await readable(this.policyDocument(p.arn)) })),
        ...inline.map(async (name) => ({ source: `inline policy ${name}`, document: await readable(this.call(() => iam.getRolePolicy(arn, name))) })),
      ]);
      return decideNodeRole(arn, sources);
    } catch (err) {
      if (err instanceof PodidError && (err.code === READ_DENIED || err.code === READ_NOT_FOUND)) return undecided(err.message);
      throw err;
    }
  }
}

/**
 * Marks a cached promise as handled: it is awaited later (settle), possibly after it rejected,
 * and an early rejection must not surface as an unhandled rejection meanwhile.
 */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** A document, or why it could not be read (denied / gone); other failures propagate. */
async function readable(doc: Promise<unknown>): Promise<unknown> {
  try {
    return await doc;
  } catch (err) {
    if (err instanceof PodidError && (err.code === READ_DENIED || err.code === READ_NOT_FOUND)) return new Unreadable(err.message);
    throw err;
  }
}

class Unreadable {
  constructor(readonly reason: string) {}
}

export function decideNodeRole(arn: string, sources: readonly { source: string; document: unknown }[]): NodeRoleSnapshot {
  const unreadable: string[] = [];
  let allowedBy: string | undefined;
  for (const { source, document } of sources) {
    if (document instanceof Unreadable) {
      unreadable.push(`${source} (${document.reason})`);
      continue;
    }
    const effect = policyEffectOn(document, POD_IDENTITY_ACTION);
    if (effect === 'deny') return { arn, allowsAssumeRoleForPodIdentity: false, detail: `${POD_IDENTITY_ACTION} is explicitly denied by ${source}` };
    if (effect === 'allow' && allowedBy === undefined) allowedBy = source;
  }
  if (allowedBy !== undefined) return { arn, allowsAssumeRoleForPodIdentity: true, detail: `allowed by ${allowedBy}` };
  if (unreadable.length > 0) return { arn, allowsAssumeRoleForPodIdentity: null, detail: `could not read ${unreadable.join(', ')}` };
  return { arn, allowsAssumeRoleForPodIdentity: false, detail: `no attached or inline policy allows ${POD_IDENTITY_ACTION}` };
}

/**
 * What an identity policy says about `action`: `deny` (an unconditional Deny covers it), `allow`
 * (an Allow covers it), or `none`. Action and NotAction patterns are IAM globs (`*`, `?`),
 * compared case-insensitively. Resources are not narrowed (the pod-identity action is granted on
 * `*`); a conditional Deny is not counted, since it may not apply.
 */
export function policyEffectOn(document: unknown, action: string): 'allow' | 'deny' | 'none' {
  if (typeof document !== 'object' || document === null) return 'none';
  const raw = (document as { Statement?: unknown }).Statement;
  const statements = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  let allowed = false;
  for (const s of statements) {
    if (typeof s !== 'object' || s === null) continue;
    const st = s as { Effect?: unknown; Action?: unknown; NotAction?: unknown; Condition?: unknown };
    const covers = st.Action !== undefined ? patterns(st.Action).some((p) => globMatch(p, action)) : st.NotAction !== undefined ? !patterns(st.NotAction).some((p) => globMatch(p, action)) : false;
    if (!covers) continue;
    if (st.Effect === 'Deny' && (st.Condition === undefined || isEmptyObject(st.Condition))) return 'deny';
    if (st.Effect === 'Allow') allowed = true;
  }
  return allowed ? 'allow' : 'none';
}

function patterns(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function isEmptyObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && Object.keys(v).length === 0;
}

export function globMatch(pattern: string, value: string): boolean {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i').test(value);
}
