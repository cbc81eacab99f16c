/**
 * The live scan's reading phase: targets + ports -> FleetSnapshot. Strictly read-only.
 *
 * Cost is what makes a fleet scan usable, so the shape of the calls is fixed:
 * - per cluster: DescribeCluster first (a context whose server is not the cluster's endpoint is
 *   refused before anything else is read), then add-ons, node groups, Fargate profiles,
 *   associations, and ONE paginated all-namespaces list per Kubernetes kind; namespace and
 *   service-account scoping filter those lists, never multiply them;
 * - associations: ListPodIdentityAssociations gives every one (the quota counts them all), but
 *   its summaries lack the role, and DescribePodIdentityAssociation is one call per association;
 *   only the ones the analysis reads (an in-scope annotated service account's, a reported
 *   add-on's) are described, so a cluster with 1,000 associations does not cost 1,000 calls;
 * - IAM: every role is fetched once per run (clusters share roles), AWS-managed policy documents
 *   once per ARN (collect-iam.ts);
 * - every remote call goes through a limiter, so parallelism is bounded fleet-wide: one for AWS
 *   calls, one for Kubernetes requests (different endpoints, different rate limits; a list
 *   takes a slot per page). Only leaf calls take a slot (orchestration never does), so nested
 *   fan-out cannot deadlock;
 * - associations are described as soon as the service accounts, add-ons and the association
 *   list are in, while the (much longer) pod list is still being read.
 *
 * Scoping narrows what is judged, never the cluster facts readiness is judged on: nodes, node
 * groups, add-ons, the association count and the Pod Identity Agent's pods are kept whole, so a
 * cluster reads the same whatever -n / --service-account says.
 */
import { ROLE_ARN_ANNOTATION } from '../annotations.js';
import type { AssociationSummary, EksClusterInfo, EksPort, ScanPorts } from '../ports.js';
import { READ_NOT_FOUND } from '../ports.js';
import { parseClusterArn, parseRoleArn } from '../arn.js';
import { createLimiter, DEFAULT_CONCURRENCY, type Limiter } from '../concurrency.js';
import { ERRORS, PodidError, UsageError } from '../errors.js';
import { IamReader } from './collect-iam.js';
import { AGENT_DAEMONSET, AGENT_NAMESPACE } from './readiness.js';
import { scanScope, scopeFilter, type Scope } from './scope.js';
import type { ScanEventSink } from './events.js';
import type { AddonSnapshot, AssociationSnapshot, ClusterSnapshot, FleetSnapshot, KubeSnapshot, PodObject, ServiceAccountObject, UnscannedCluster } from './snapshot.js';
import { compareStrings } from '../text.js';

export { decideNodeRole, globMatch, policyEffectOn } from './collect-iam.js';

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
  /** AWS calls in flight at once, fleet-wide, and Kubernetes requests likewise (default 8 each). */
  concurrency?: number;
  /** Referenced roles above which one listing of the account's roles replaces GetRole (default LIST_ROLES_THRESHOLD). */
  listRolesThreshold?: number;
  /**
   * Roles to read besides the referenced ones, e.g. --cross-account-source-role, which the
   * planner checks against the snapshot. Read like any referenced role, once per run; values
   * that are not role ARNs are skipped (the caller validates and reports them).
   */
  extraRoleArns?: readonly string[];
  /** Progress, as typed events (core/scan/events.ts). */
  onEvent?: ScanEventSink;
  /**
   * Contexts of this run the caller could not resolve to an EKS cluster (a fleet run goes on
   * without them); they are reported in the snapshot's `unscanned`.
   */
  unresolved?: readonly UnscannedCluster[];
}

/**
 * Whether a failure stops only its own cluster in a fleet run: AWS, Kubernetes or the network
 * failing for it (exit class environment), a context that is not the cluster it names, or a
 * kubeconfig entry of its own that cannot be used (KUBECONFIG_INVALID raised while the cluster is
 * read is about its context's entries: plain HTTP without insecure-skip-tls-verify, another
 * scheme, a CA together with insecure-skip-tls-verify; a file that does not parse stops the run
 * before any cluster is read). kubectl refuses such a context and serves the others alike. A
 * usage error about the run itself, or a bug, still stops the run.
 */
export function isClusterFailure(err: unknown): err is PodidError {
  return err instanceof PodidError && (ERRORS[err.code].exit === 'environment' || err.code === 'CLUSTER_NOT_FOUND' || err.code === 'CONTEXT_ENDPOINT_MISMATCH' || err.code === 'KUBECONFIG_INVALID');
}

export function unscannedCluster(target: { context: string; clusterName?: string | null; region?: string | null; server?: string | null }, err: PodidError): UnscannedCluster {
  return {
    context: target.context,
    clusterName: target.clusterName ?? null,
    region: target.region ?? null,
    server: target.server ?? null,
    error: { code: err.code, message: err.message, hint: err.hint ?? null },
  };
}

/**
 * Above this many referenced roles (caller's account, one partition), roles are read in one
 * listing of the account's roles instead of one GetRole each: GetAccountAuthorizationDetails
 * (Filter Role), which like GetRole returns each role's trust policy and permissions boundary,
 * or ListRoles (no boundaries) when that is denied. Both return up to 1,000 roles per page, so
 * the listing costs ceil(roles in the account / 1,000) calls however many are referenced (a
 * handful under IAM's role quota), but every page is large: the account's every role and trust
 * policy travels and is parsed. With few references GetRole is cheaper (an account with
 * thousands of roles and 3 referenced keeps its 3 GetRole calls); past a few dozen, the listing
 * wins on calls and latency. 25 keeps small scans (the demo world refers to ~15) on GetRole.
 */
export const LIST_ROLES_THRESHOLD = 25;

export async function collectFleet(targets: readonly CollectTarget[], ports: ScanPorts, opts: CollectOptions): Promise<FleetSnapshot> {
  const scoped = scanScope(opts.namespaces, opts.serviceAccounts);
  const scope = scopeFilter(scoped);
  const call = createLimiter(opts.concurrency ?? DEFAULT_CONCURRENCY);
  const kubeCall = createLimiter(opts.concurrency ?? DEFAULT_CONCURRENCY);
  const emit: ScanEventSink = opts.onEvent ?? (() => undefined);

  // Who the caller is (its account decides how roles are read) is asked while the clusters are
  // described: both are a round trip before any list can start. A cluster reads nothing until
  // the answer is in (`identified`), and a failure to identify the caller fails the run as it
  // always has, with STS's error, whatever the clusters answered meanwhile.
  let iam!: IamReader;
  let identityFailure: unknown = undefined;
  const identified = call(() => ports.sts.getCallerIdentity()).then(
    (caller) => {
      iam = new IamReader(ports, call, caller.account, opts.listRolesThreshold ?? LIST_ROLES_THRESHOLD);
      iam.roles(normalisedRoleArns(opts.extraRoleArns ?? []));
      return caller;
    },
    (err: unknown) => {
      identityFailure = err;
      throw err;
    },
  );
  // Handled where each cluster awaits it, and below; never left unhandled in between.
  identified.catch(() => undefined);

  // Two contexts for one cluster (an alias and the ARN-named one) would list it twice.
  const unique = new Map<string, CollectTarget>();
  for (const t of targets) {
    const key = `${t.region}/${t.clusterName}`;
    if (!unique.has(key)) unique.set(key, t);
    else emit({ type: 'context-duplicate', context: t.context, sameAs: unique.get(key)!.context });
  }

  // A fleet run (several contexts) reports a cluster it cannot scan and goes on with the others;
  // a run over one context fails with that cluster's error, as there is nothing else to report.
  const unscanned: UnscannedCluster[] = [...(opts.unresolved ?? [])];
  const fleet = targets.length + unscanned.length > 1;
  for (const u of unscanned) emit({ type: 'cluster-failed', context: u.context, code: u.error.code, message: u.error.message });
  // IAM is read as the clusters' references arrive (service accounts first, long before their
  // pods are in), so roles are read while the clusters are; see settle below. References are held
  // until every cluster has listed its service accounts (or failed): whether to read roles one by
  // one or in one listing of the account counts the fleet's references, so the first cluster's
  // few are not read one by one just before the others' many arrive.
  let listing = unique.size;
  const held: string[] = [];
  const refer = (): RoleReferences => {
    let listed = false;
    return {
      roles: (arns) => (listing > 0 ? held.push(...arns) : iam.roles(arns)),
      nodeRole: (arn) => iam.nodeRole(arn),
      serviceAccountsListed: () => {
        if (listed) return;
        listed = true;
        if (--listing === 0) iam.roles(held.splice(0));
      },
    };
  };
  const collected = await Promise.all(
    [...unique.values()].map(async (target) => {
      const references = refer();
      try {
        return await collectCluster(target, ports, clusterCalls(call, kubeCall), scope, emit, references, identified);
      } catch (err) {
        if (identityFailure !== undefined && err === identityFailure) throw err;
        references.serviceAccountsListed();
        if (!fleet || !isClusterFailure(err)) throw err;
        emit({ type: 'cluster-failed', context: target.context, code: err.code, message: err.message });
        unscanned.push(unscannedCluster(target, err));
        return null;
      }
    }),
  );
  const caller = await identified;
  const clusters = collected.filter((c): c is ClusterSnapshot => c !== null);
  unscanned.sort((a, b) => compareStrings(a.context, b.context));
  emit({ type: 'iam-reading' });
  // Only what the scanned clusters refer to: a cluster that failed after its service accounts
  // were listed had its roles read, but they are not part of the snapshot.
  const wantedRoles = new Set([...normalisedRoleArns(opts.extraRoleArns ?? []), ...clusters.flatMap((c) => referencedRoles(c, scope))]);
  const wantedNodeRoles = new Set(clusters.flatMap((c) => c.nodegroups.map((ng) => ng.nodeRole).filter((r) => r !== '')));
  const { roles, nodeRoles } = await iam.settle(wantedRoles, wantedNodeRoles);
  const boundariesUnknown = iam.boundariesUnknown(roles);
  if (boundariesUnknown !== null) emit({ type: 'iam-boundaries-unknown', ...boundariesUnknown });
  return {
    caller,
    trustPolicyLimit: opts.trustPolicyLimit,
    clusters,
    roles,
    nodeRoles,
    ...(scope.unscoped ? {} : { scope: scoped }),
    ...(unscanned.length > 0 ? { unscanned } : {}),
    ...(boundariesUnknown !== null ? { boundariesUnknown } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Scope

/** A pod of the Pod Identity Agent DaemonSet: readiness counts the nodes they run on. */
function isAgentPod(p: PodObject): boolean {
  return p.namespace === AGENT_NAMESPACE && p.owner?.kind === 'DaemonSet' && p.owner.name === AGENT_DAEMONSET;
}

function scopeKube(kube: KubeSnapshot, scope: Scope): KubeSnapshot {
  return {
    serviceAccounts: kube.serviceAccounts.filter((sa) => scope.serviceAccount(sa.namespace, sa.name)),
    // A pod's ReplicaSet/Job/owner chain shares its service account, so the SA filter keeps it whole.
    workloads: kube.workloads.filter((w) => scope.serviceAccount(w.namespace, w.serviceAccount)),
    // The agent's pods are cluster readiness (which nodes it covers): never scoped, or any
    // narrowed scan would see the agent on no node and block the cluster.
    pods: kube.pods.filter((p) => scope.serviceAccount(p.namespace, p.serviceAccount) || isAgentPod(p)),
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

/**
 * The fleet limiters, for one cluster's calls: once one of them fails, the cluster's calls still
 * queued fail at once with the same error instead of running (and retrying) for a cluster whose
 * result is already lost, so a dead cluster does not hold the run. A Kubernetes list runs each
 * page request (each attempt) through `kube`, which only checks: the list's own outcome, after
 * its retries, is what `settled` records.
 */
function clusterCalls(aws: Limiter, kube: Limiter): { aws: Limiter; kube: Limiter; settled: <T>(list: Promise<T>) => Promise<T> } {
  let failure: { err: unknown } | undefined;
  const record = (err: unknown): never => {
    failure ??= { err };
    throw err;
  };
  const gate = <T>(fn: () => Promise<T>): Promise<T> => (failure === undefined ? fn() : Promise.reject(failure.err));
  return {
    aws: <T>(fn: () => Promise<T>): Promise<T> => aws(() => gate(fn)).catch(record),
    kube: <T>(fn: () => Promise<T>): Promise<T> => kube(() => gate(fn)),
    settled: <T>(list: Promise<T>): Promise<T> => list.catch(record),
  };
}

/** Where a cluster's collector reports the roles it refers to, as soon as it knows them. */
interface RoleReferences {
  roles(arns: readonly string[]): void;
  nodeRole(arn: string): void;
  /** Its service accounts' roles are reported (or the cluster failed): once per cluster. */
  serviceAccountsListed(): void;
}

async function collectCluster(
  target: CollectTarget,
  ports: ScanPorts,
  calls: ReturnType<typeof clusterCalls>,
  scope: Scope,
  emit: ScanEventSink,
  refer: RoleReferences,
  identified: Promise<unknown>,
): Promise<ClusterSnapshot> {
  const { aws: call, kube: each, settled } = calls;
  const eks = ports.eks(target.region);
  const name = target.clusterName;
  emit({ type: 'cluster-describing', context: target.context, cluster: name });
  const describing = describeContextCluster(target, eks, call);
  describing.catch(() => undefined);
  // The caller's identity first: its failure is the run's, not this cluster's.
  await identified;
  const info = await describing;
  const arn = parseClusterArn(info.arn);
  const account = arn.ok ? arn.arn.account : (info.arn.split(':')[4] ?? '');
  const partition = arn.ok ? arn.arn.partition : (info.arn.split(':')[1] ?? 'aws');

  const kube = ports.kube(target.context);
  emit({ type: 'cluster-reading', context: target.context, cluster: name });
  const serviceAccounts = settled(kube.listServiceAccounts(each)).then((listed) => {
    const sas = listed.filter((sa) => scope.serviceAccount(sa.namespace, sa.name));
    refer.roles(annotatedRoles(sas));
    refer.serviceAccountsListed();
    return sas;
  });
  const addons = collectAddons(name, eks, call).then((adds) => {
    refer.roles(normalisedRoleArns(adds.flatMap((a) => (a.serviceAccountRoleArn ? [a.serviceAccountRoleArn] : []))));
    return adds;
  });
  const listed = call(() => eks.listPodIdentityAssociations(name));
  // The associations to describe depend on the service accounts and add-ons only: described
  // while the other lists (pods above all) are still being read.
  const associations = Promise.all([listed, serviceAccounts, addons]).then(([all, sas, adds]) => {
    const needed = associationsToDescribe(all, sas, adds);
    return Promise.all(
      all.map((a): AssociationSnapshot | Promise<AssociationSnapshot> =>
        needed.has(a.associationId)
          ? call(() => eks.describePodIdentityAssociation(name, a.associationId))
          : { associationId: a.associationId, associationArn: a.associationArn, namespace: a.namespace, serviceAccount: a.serviceAccount, roleArn: null, targetRoleArn: null, ownerArn: a.ownerArn },
      ),
    ).then((described) => {
      refer.roles(associationRoles(described, scope));
      return described;
    });
  });
  const [addonList, nodegroups, fargateProfiles, associationList, kubeSnapshot] = await Promise.all([
    addons,
    call(() => eks.listNodegroups(name)).then((ngs) =>
      Promise.all(
        ngs.map((ng) =>
          call(() => eks.describeNodegroup(name, ng)).then((described) => {
            if (described.nodeRole) refer.nodeRole(described.nodeRole);
            return described;
          }),
        ),
      ),
    ),
    call(() => eks.listFargateProfiles(name)).then((fps) => Promise.all(fps.map((fp) => call(() => eks.describeFargateProfile(name, fp))))),
    associations,
    Promise.all([
      serviceAccounts,
      settled(kube.listDeployments(each)),
      settled(kube.listStatefulSets(each)),
      settled(kube.listDaemonSets(each)),
      settled(kube.listReplicaSets(each)),
      settled(kube.listJobs(each)),
      settled(kube.listCronJobs(each)),
      settled(kube.listPods(each)),
      settled(kube.listNodes(each)),
    ]).then(([sas, deployments, statefulSets, daemonSets, replicaSets, jobs, cronJobs, pods, nodes]) =>
      scopeKube({ serviceAccounts: sas, workloads: [...deployments, ...statefulSets, ...daemonSets, ...replicaSets, ...jobs, ...cronJobs], pods, nodes }, scope),
    ),
  ]);
  emit({ type: 'cluster-read', context: target.context, cluster: name, serviceAccounts: kubeSnapshot.serviceAccounts.length, pods: kubeSnapshot.pods.length });
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
    addons: addonList,
    nodegroups,
    fargateProfiles,
    associations: associationList,
    kube: kubeSnapshot,
  };
}

/**
 * The context check: DescribeCluster of the context's EKS cluster, refused
 * (CONTEXT_ENDPOINT_MISMATCH) when the context's server is not the endpoint EKS reports, so that
 * one cluster's AWS side is never read or written together with another's Kubernetes API. The
 * scan makes it before anything else of the cluster is read; migrate --apply and rollback --apply
 * make it for every cluster whose Kubernetes API they use, before the lock, the journal and any
 * change (cli/live-ports.ts). `doing` and `hint` fit the message to the command.
 */
export async function describeContextCluster(
  target: CollectTarget,
  eks: EksPort,
  call: Limiter,
  doing = 'scanning would mix two clusters',
  hint = `point the context at the cluster (aws eks update-kubeconfig --name ${target.clusterName} --region ${target.region}) or pass the right --cluster/--region`,
): Promise<EksClusterInfo> {
  const info = await describeCluster(target, eks, call);
  if (!sameEndpoint(info.endpoint, target.server)) {
    throw new UsageError(
      'CONTEXT_ENDPOINT_MISMATCH',
      `context ${JSON.stringify(target.context)} talks to ${target.server}, but EKS cluster ${target.clusterName} in ${target.region} has endpoint ${info.endpoint}; ${doing}`,
      hint,
    );
  }
  return info;
}

/**
 * describeContextCluster for each target, as a changing command (migrate --apply, rollback,
 * finalize) checks its clusters' contexts before any change: through one limiter of `concurrency`
 * (its --concurrency), as the scan bounds its AWS calls, so a plan over many clusters does not
 * send every DescribeCluster at once. Rejects with the first mismatch or failure.
 */
export async function describeContextClusters(
  targets: readonly CollectTarget[],
  eks: (region: string) => EksPort,
  concurrency: number,
  doing: string,
  hint: (target: CollectTarget) => string,
): Promise<void> {
  const call = createLimiter(concurrency);
  await Promise.all(targets.map((t) => describeContextCluster(t, eks(t.region), call, doing, hint(t))));
}

/**
 * DescribeCluster, with a cluster that does not exist reported as what it is: a wrong
 * --cluster/--region or a context pointing at a deleted cluster (a usage problem, exit 2),
 * not an unexpected failure.
 */
async function describeCluster(target: CollectTarget, eks: EksPort, call: Limiter): Promise<EksClusterInfo> {
  try {
    return await call(() => eks.describeCluster(target.clusterName));
  } catch (err) {
    if (err instanceof PodidError && err.code === READ_NOT_FOUND) {
      throw new UsageError(
        'CLUSTER_NOT_FOUND',
        `context ${JSON.stringify(target.context)}: EKS cluster ${JSON.stringify(target.clusterName)} does not exist in ${target.region}`,
        'check --cluster/--region or the kubeconfig context',
      );
    }
    throw err;
  }
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
 * The associations (by id) whose roles the analysis reads: one naming an in-scope service
 * account with an IRSA annotation (the analysis compares its role with the annotation), and one
 * owned by an add-on that uses IRSA (whatever the scope: the analysis decides which add-ons a
 * narrowed scan reports). The rest only count towards the quota, which the list gives.
 */
function associationsToDescribe(listed: readonly AssociationSummary[], serviceAccounts: KubeSnapshot['serviceAccounts'], addons: readonly AddonSnapshot[]): Set<string> {
  const annotated = new Set(serviceAccounts.filter((sa) => sa.annotations[ROLE_ARN_ANNOTATION] !== undefined).map((sa) => `${sa.namespace}/${sa.name}`));
  const reported = addons.filter((a) => a.serviceAccountRoleArn !== null);
  const owners = new Set(reported.map((a) => a.arn));
  const owned = new Set(reported.flatMap((a) => a.podIdentityAssociations));
  const out = new Set<string>();
  for (const a of listed) {
    const byAddon = (a.ownerArn !== null && owners.has(a.ownerArn)) || owned.has(a.associationArn);
    if (byAddon || annotated.has(`${a.namespace}/${a.serviceAccount}`)) out.add(a.associationId);
  }
  return out;
}

/** Role ARNs in their normalised form (the keys of FleetSnapshot.roles); values that are not role ARNs are skipped. */
function normalisedRoleArns(raw: readonly string[]): string[] {
  const out = new Set<string>();
  for (const value of raw) {
    const parsed = parseRoleArn(value.trim());
    if (parsed.ok) out.add(parsed.arn.arn);
  }
  return [...out];
}

/**
 * Role ARNs the analysis will ask about, normalised (the keys of FleetSnapshot.roles). Parsed
 * leniently: values that are not role ARNs at all are skipped here and reported by the analysis.
 */
function referencedRoles(c: ClusterSnapshot, scope: Scope): string[] {
  const addonRoles = c.addons.flatMap((a) => (a.serviceAccountRoleArn ? [a.serviceAccountRoleArn] : []));
  return [...new Set([...annotatedRoles(c.kube.serviceAccounts), ...normalisedRoleArns(addonRoles), ...associationRoles(c.associations, scope)])];
}

/** The roles in-scope service accounts are annotated with. */
function annotatedRoles(sas: readonly ServiceAccountObject[]): string[] {
  const raw: string[] = [];
  for (const sa of sas) {
    const v = sa.annotations[ROLE_ARN_ANNOTATION];
    if (v !== undefined) raw.push(v);
  }
  return normalisedRoleArns(raw);
}

/** The roles of described associations an add-on owns or an in-scope service account has. */
function associationRoles(associations: readonly AssociationSnapshot[], scope: Scope): string[] {
  const raw: string[] = [];
  for (const a of associations) {
    // Undescribed associations (roleArn null) are the ones no reader looks at.
    if (a.roleArn !== null && (a.ownerArn !== null || scope.serviceAccount(a.namespace, a.serviceAccount))) raw.push(a.roleArn);
  }
  return normalisedRoleArns(raw);
}
