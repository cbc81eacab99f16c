/** The collector over in-memory ports: policy evaluation, scoping, caching, bounded parallelism. */
import { describe, expect, it } from 'vitest';
import type { EksPort, IamPort, KubePort, RequestLimiter, ScanPorts } from '../../src/core/ports.js';
import { PodidError, UsageError } from '../../src/core/errors.js';
import { collectFleet, decideNodeRole, globMatch, policyEffectOn, sameEndpoint } from '../../src/core/scan/collect.js';
import type { RoleSnapshot, ServiceAccountObject } from '../../src/core/scan/snapshot.js';

const doc = (...Statement: object[]) => ({ Version: '2012-10-17', Statement });

describe('policyEffectOn eks-auth:AssumeRoleForPodIdentity', () => {
  const A = 'eks-auth:AssumeRoleForPodIdentity';
  it.each([
    [doc({ Effect: 'Allow', Action: 'eks-auth:AssumeRoleForPodIdentity', Resource: '*' }), 'allow'],
    [doc({ Effect: 'Allow', Action: ['ec2:Describe*', 'EKS-AUTH:assumeroleforpodidentity'], Resource: '*' }), 'allow'],
    [doc({ Effect: 'Allow', Action: 'eks-auth:*', Resource: '*' }), 'allow'],
    [doc({ Effect: 'Allow', Action: '*', Resource: '*' }), 'allow'],
    [doc({ Effect: 'Allow', Action: 'eks-auth:AssumeRole?orPodIdentity', Resource: '*' }), 'allow'],
    [doc({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }), 'allow'],
    [doc({ Effect: 'Allow', NotAction: ['eks-auth:*'], Resource: '*' }), 'none'],
    [doc({ Effect: 'Allow', Action: 'eks:*', Resource: '*' }), 'none'],
    [doc({ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Deny', Action: 'eks-auth:*', Resource: '*' }), 'deny'],
    [doc({ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Deny', Action: 'eks-auth:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }), 'allow'],
    [{ Version: '2012-10-17', Statement: { Effect: 'Allow', Action: 'eks-auth:AssumeRoleForPodIdentity', Resource: '*' } }, 'allow'],
    [{}, 'none'],
    [null, 'none'],
  ])('%j -> %s', (document, expected) => {
    expect(policyEffectOn(document, A)).toBe(expected);
  });

  it('globMatch escapes regex characters', () => {
    expect(globMatch('a.b', 'axb')).toBe(false);
    expect(globMatch('a.*', 'a.b')).toBe(true);
  });
});

describe('decideNodeRole', () => {
  const arn = 'arn:aws:iam::111122223333:role/node';
  it('names the granting policy', () => {
    expect(decideNodeRole(arn, [{ source: 'p1', document: doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' }) }, { source: 'p2', document: doc({ Effect: 'Allow', Action: 'eks-auth:*', Resource: '*' }) }])).toEqual({
      arn,
      allowsAssumeRoleForPodIdentity: true,
      detail: 'allowed by p2',
    });
  });
  it('is false when nothing grants it', () => {
    expect(decideNodeRole(arn, [{ source: 'p1', document: doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' }) }]).allowsAssumeRoleForPodIdentity).toBe(false);
  });
  it('a deny anywhere wins', () => {
    const r = decideNodeRole(arn, [
      { source: 'allow', document: doc({ Effect: 'Allow', Action: '*', Resource: '*' }) },
      { source: 'deny', document: doc({ Effect: 'Deny', Action: 'eks-auth:AssumeRoleForPodIdentity', Resource: '*' }) },
    ]);
    expect(r).toMatchObject({ allowsAssumeRoleForPodIdentity: false });
    expect(r.detail).toContain('deny');
  });
});

describe('sameEndpoint', () => {
  it.each([
    ['https://ABC.gr7.us-east-1.eks.amazonaws.com', 'https://abc.gr7.us-east-1.eks.amazonaws.com/', true],
    ['https://abc.example.com:443', 'https://abc.example.com', true],
    ['http://127.0.0.1:1/k8s/a/b/c', 'http://127.0.0.1:1/k8s/a/b/c//', true],
    ['http://127.0.0.1:1/k8s/a/b/prod', 'http://127.0.0.1:1/k8s/a/b/staging', false],
    ['https://a.example.com', 'https://b.example.com', false],
  ])('%s vs %s', (a, b, same) => {
    expect(sameEndpoint(a, b)).toBe(same);
  });
});

// ---------------------------------------------------------------------------------------------
// collectFleet over fakes

const ACCOUNT = '111122223333';
const sa = (namespace: string, name: string, role?: string): ServiceAccountObject => ({
  namespace, name, uid: `${namespace}-${name}`, resourceVersion: '1', annotations: role === undefined ? {} : { 'eks.amazonaws.com/role-arn': role },
});

function fakePorts(opts: { nodeRoleDenied?: boolean; listRolesDenied?: boolean; detailsDenied?: boolean; listed?: RoleSnapshot[] } = {}) {
  const calls: string[] = [];
  // In flight at once: AWS calls and Kubernetes requests (each bounded by its own limiter).
  const inFlight = { aws: 0, kube: 0 };
  const peak = { aws: 0, kube: 0 };
  const track = async <T>(name: string, value: T): Promise<T> => {
    const kind = name.startsWith('k8s:') ? 'kube' : 'aws';
    calls.push(name);
    inFlight[kind] += 1;
    peak[kind] = Math.max(peak[kind], inFlight[kind]);
    await new Promise((r) => setImmediate(r));
    inFlight[kind] -= 1;
    return value;
  };
  // A list is one request here; the port runs it through the collector's limiter, as kube.ts does per page.
  const page = <T>(each: RequestLimiter | undefined, name: string, value: T): Promise<T> => (each ?? ((fn) => fn()))(() => track(name, value));
  const clusters: Record<string, { sas: ServiceAccountObject[] }> = {
    a: { sas: [sa('shop', 'cart', 'arn:aws:iam::111122223333:role/shared'), sa('ops', 'dns', ' arn:aws:iam::111122223333:role/dns '), sa('ops', 'bad', 'not-an-arn')] },
    b: { sas: [sa('shop', 'cart', 'arn:aws:iam::111122223333:role/shared'), sa('x', 'other', 'arn:aws:iam::999999999999:role/foreign')] },
  };
  const eks: EksPort = {
    listClusters: () => track('eks:ListClusters', Object.keys(clusters)),
    describeCluster: (name) =>
      track('eks:DescribeCluster', { name, arn: `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/${name}`, version: '1.30', platformVersion: 'eks.9', status: 'ACTIVE', endpoint: `https://${name}.example.com`, oidcIssuer: null, autoMode: false }),
    listAddons: () => track('eks:ListAddons', ['vpc-cni']),
    describeAddon: (_c, name) => track('eks:DescribeAddon', { name, version: 'v1', status: 'ACTIVE', arn: 'addon-arn', serviceAccountRoleArn: 'arn:aws:iam::111122223333:role/cni', podIdentityAssociations: [] }),
    describeAddonConfiguration: () => track('eks:DescribeAddonConfiguration', null),
    listNodegroups: () => track('eks:ListNodegroups', ['ng']),
    describeNodegroup: (_c, name) => track('eks:DescribeNodegroup', { name, nodeRole: 'arn:aws:iam::111122223333:role/node', amiType: 'AL2023_x86_64_STANDARD', status: 'ACTIVE' }),
    listFargateProfiles: () => track('eks:ListFargateProfiles', []),
    describeFargateProfile: () => Promise.reject(new Error('unexpected')),
    listPodIdentityAssociations: () => track('eks:ListPodIdentityAssociations', [{ associationId: 'a-1', associationArn: 'arn-1', namespace: 'ops', serviceAccount: 'dns', ownerArn: null }]),
    describePodIdentityAssociation: (_c, id) => track('eks:DescribePodIdentityAssociation', { associationId: id, associationArn: 'arn-1', namespace: 'ops', serviceAccount: 'dns', roleArn: 'arn:aws:iam::111122223333:role/dns', targetRoleArn: null, ownerArn: null }),
  };
  const iam: IamPort = {
    getRole: (arn) => track(`iam:GetRole ${arn}`, { arn, state: 'found', trustPolicy: { Version: '2012-10-17', Statement: [] }, error: null, permissionsBoundary: null } satisfies RoleSnapshot),
    listRoles: async (partition) => {
      if (opts.listRolesDenied) throw new PodidError('AWS_ACCESS_DENIED', 'iam:ListRoles was denied');
      return track(`iam:ListRoles ${partition}`, opts.listed ?? []);
    },
    // GetAccountAuthorizationDetails: the same roles, with their boundaries (none here).
    listRoleDetails: async (partition) => {
      if (opts.detailsDenied || opts.listRolesDenied) throw new PodidError('AWS_ACCESS_DENIED', 'User: x is not authorized to perform: iam:GetAccountAuthorizationDetails');
      return track(`iam:GetAccountAuthorizationDetails ${partition}`, (opts.listed ?? []).map((r) => ({ ...r, permissionsBoundary: null })));
    },
    listAttachedRolePolicies: async (arn) => {
      if (opts.nodeRoleDenied) throw new PodidError('AWS_ACCESS_DENIED', 'iam:ListAttachedRolePolicies was denied');
      return track(`iam:ListAttachedRolePolicies ${arn}`, [{ arn: 'arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy', name: 'AmazonEKSWorkerNodePolicy' }]);
    },
    listRolePolicies: (arn) => track(`iam:ListRolePolicies ${arn}`, []),
    getRolePolicy: () => Promise.reject(new Error('unexpected')),
    getPolicyDocument: (arn) => track(`iam:GetPolicy ${arn}`, doc({ Effect: 'Allow', Action: ['ec2:DescribeInstances', 'eks-auth:AssumeRoleForPodIdentity'], Resource: '*' })),
  };
  const kube = (context: string): KubePort => {
    const c = clusters[context]!;
    return {
      context,
      listServiceAccounts: (each) => page(each, `k8s:${context}:sa`, c.sas),
      listPods: (each) =>
        page(each, `k8s:${context}:pods`, [
          { namespace: 'shop', name: 'p', serviceAccount: 'cart', nodeName: 'n', phase: 'Running', owner: null, identity: 'irsa' as const, labels: {} },
          { namespace: 'ops', name: 'd', serviceAccount: 'dns', nodeName: 'n', phase: 'Running', owner: null, identity: 'irsa' as const, labels: {} },
          {
            namespace: 'kube-system', name: 'eks-pod-identity-agent-x', serviceAccount: 'eks-pod-identity-agent-sa', nodeName: 'n', phase: 'Running',
            owner: { kind: 'DaemonSet', name: 'eks-pod-identity-agent' }, identity: 'none' as const, labels: {},
          },
        ]),
      listDeployments: (each) => page(each, `k8s:${context}:deploy`, []),
      listReplicaSets: (each) => page(each, `k8s:${context}:rs`, []),
      listStatefulSets: (each) => page(each, `k8s:${context}:sts`, []),
      listDaemonSets: (each) => page(each, `k8s:${context}:ds`, []),
      listJobs: (each) => page(each, `k8s:${context}:jobs`, []),
      listCronJobs: (each) => page(each, `k8s:${context}:cj`, []),
      listNodes: (each) => page(each, `k8s:${context}:nodes`, [{ name: 'n', os: 'linux', computeType: 'ec2' as const, nodegroup: 'ng' }]),
    };
  };
  const ports: ScanPorts = { sts: { getCallerIdentity: () => track('sts', { account: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/ci` }) }, iam, eks: () => eks, kube };
  return { ports, calls, peak: () => peak };
}

const targets = [
  { context: 'a', server: 'https://a.example.com/', clusterName: 'a', region: 'us-east-1' },
  { context: 'b', server: 'https://B.example.com', clusterName: 'b', region: 'us-east-1' },
];

describe('collectFleet', () => {
  it('fetches each role and policy once per run, skips non-ARNs, marks other accounts unreadable', async () => {
    const f = fakePorts();
    const snap = await collectFleet(targets, f.ports, { trustPolicyLimit: 2048 });
    expect(snap.clusters.map((c) => c.name)).toEqual(['a', 'b']);
    expect(Object.keys(snap.roles)).toEqual([
      'arn:aws:iam::111122223333:role/cni',
      'arn:aws:iam::111122223333:role/dns',
      'arn:aws:iam::111122223333:role/shared',
      'arn:aws:iam::999999999999:role/foreign',
    ]);
    expect(snap.roles['arn:aws:iam::999999999999:role/foreign']).toMatchObject({ state: 'unreadable' });
    expect(f.calls.filter((c) => c.startsWith('iam:GetRole'))).toHaveLength(3);
    expect(f.calls.filter((c) => c.startsWith('iam:GetPolicy'))).toHaveLength(1);
    expect(f.calls.filter((c) => c.startsWith('iam:ListAttachedRolePolicies'))).toHaveLength(1);
    expect(snap.nodeRoles['arn:aws:iam::111122223333:role/node']).toEqual({
      arn: 'arn:aws:iam::111122223333:role/node',
      allowsAssumeRoleForPodIdentity: true,
      detail: 'allowed by arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy',
    });
    expect(f.calls.filter((c) => c === 'k8s:a:sa')).toHaveLength(1);
    expect(f.calls).not.toContain('k8s:version');
  });

  it('bounds parallelism fleet-wide: AWS calls and Kubernetes requests each', async () => {
    const f = fakePorts();
    await collectFleet(targets, f.ports, { trustPolicyLimit: 2048, concurrency: 3 });
    expect(f.peak().aws).toBeLessThanOrEqual(3);
    expect(f.peak().aws).toBeGreaterThan(1);
    expect(f.peak().kube).toBeLessThanOrEqual(3);
    expect(f.peak().kube).toBeGreaterThan(1);
  });

  it('records a node role whose policies cannot be read instead of failing', async () => {
    const f = fakePorts({ nodeRoleDenied: true });
    const snap = await collectFleet(targets, f.ports, { trustPolicyLimit: 2048 });
    expect(snap.nodeRoles['arn:aws:iam::111122223333:role/node']).toMatchObject({ allowsAssumeRoleForPodIdentity: null, detail: expect.stringContaining('denied') });
  });

  it('scopes by namespace and service account after one list, and reads only scoped roles', async () => {
    const f = fakePorts();
    const snap = await collectFleet(targets, f.ports, { trustPolicyLimit: 2048, serviceAccounts: ['shop/cart'] });
    for (const c of snap.clusters) expect(c.kube.serviceAccounts.map((s) => `${s.namespace}/${s.name}`)).toEqual(['shop/cart']);
    // Add-on roles are cluster facts and stay; roles of out-of-scope SAs and associations are not read.
    expect(Object.keys(snap.roles)).toEqual(['arn:aws:iam::111122223333:role/cni', 'arn:aws:iam::111122223333:role/shared']);
    // Associations are all kept (the quota check counts them), even out of scope, but an
    // out-of-scope one is not described: its role is unknown (null), and no call was made.
    expect(snap.clusters[0]!.associations).toEqual([{ associationId: 'a-1', associationArn: 'arn-1', namespace: 'ops', serviceAccount: 'dns', roleArn: null, targetRoleArn: null, ownerArn: null }]);
    expect(f.calls).not.toContain('eks:DescribePodIdentityAssociation');
    // The agent's pods are cluster readiness: kept whatever the scope; other pods are scoped.
    expect(snap.clusters[0]!.kube.pods.map((p) => `${p.namespace}/${p.name}`)).toEqual(['shop/p', 'kube-system/eks-pod-identity-agent-x']);
    await expect(collectFleet(targets, f.ports, { trustPolicyLimit: 2048, serviceAccounts: ['cart'] })).rejects.toBeInstanceOf(UsageError);
  });

  it('describes an association of an in-scope annotated service account, once per cluster', async () => {
    const f = fakePorts();
    const snap = await collectFleet(targets, f.ports, { trustPolicyLimit: 2048 });
    // Both clusters list a-1 (ops/dns); only cluster a has ops/dns annotated.
    expect(f.calls.filter((c) => c === 'eks:DescribePodIdentityAssociation')).toHaveLength(1);
    expect(snap.clusters[0]!.associations[0]).toMatchObject({ roleArn: 'arn:aws:iam::111122223333:role/dns' });
    expect(snap.clusters[1]!.associations[0]).toMatchObject({ roleArn: null });
  });

  it('describes the associations an IRSA add-on owns, whatever the scope', async () => {
    const f = fakePorts();
    const eks = f.ports.eks('us-east-1');
    eks.listPodIdentityAssociations = async () => [
      { associationId: 'a-cni', associationArn: 'arn-cni', namespace: 'kube-system', serviceAccount: 'aws-node', ownerArn: 'addon-arn' },
      { associationId: 'a-other', associationArn: 'arn-other', namespace: 'kube-system', serviceAccount: 'x', ownerArn: 'arn:aws:eks:us-east-1:111122223333:addon/a/gone/1' },
    ];
    const describedIds: string[] = [];
    eks.describePodIdentityAssociation = async (_c, id) => {
      describedIds.push(id);
      return { associationId: id, associationArn: 'arn-cni', namespace: 'kube-system', serviceAccount: 'aws-node', roleArn: 'arn:aws:iam::111122223333:role/cni', targetRoleArn: null, ownerArn: 'addon-arn' };
    };
    await collectFleet(targets, f.ports, { trustPolicyLimit: 2048, serviceAccounts: ['shop/cart'] });
    // vpc-cni (arn addon-arn, IRSA) is reported; the owner of a-other is no add-on the scan reports.
    expect(describedIds).toEqual(['a-cni', 'a-cni']);
  });

  it('reads extra roles (e.g. --cross-account-source-role) once, like referenced ones', async () => {
    const f = fakePorts();
    const snap = await collectFleet(targets, f.ports, {
      trustPolicyLimit: 2048,
      serviceAccounts: ['shop/cart'],
      extraRoleArns: [' arn:aws:iam::111122223333:role/source ', 'arn:aws:iam::111122223333:role/shared', 'not-a-role'],
    });
    expect(snap.roles['arn:aws:iam::111122223333:role/source']).toMatchObject({ state: 'found' });
    expect(f.calls.filter((c) => c === 'iam:GetRole arn:aws:iam::111122223333:role/source')).toHaveLength(1);
    // shared is also referenced by both clusters: still one read.
    expect(f.calls.filter((c) => c === 'iam:GetRole arn:aws:iam::111122223333:role/shared')).toHaveLength(1);
    expect(Object.keys(snap.roles)).toEqual(['arn:aws:iam::111122223333:role/cni', 'arn:aws:iam::111122223333:role/shared', 'arn:aws:iam::111122223333:role/source']);
  });

  it('refuses a context whose server is another endpoint', async () => {
    const f = fakePorts();
    const err = await collectFleet([{ ...targets[0]!, server: 'https://b.example.com' }], f.ports, { trustPolicyLimit: 2048 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).code).toBe('CONTEXT_ENDPOINT_MISMATCH');
    expect(f.calls.some((c) => c.startsWith('k8s:'))).toBe(false);
  });

  it('reports a cluster that does not exist as a usage error naming the context, cluster and region', async () => {
    const f = fakePorts();
    f.ports.eks('us-east-1').describeCluster = (name) => Promise.reject(new PodidError('AWS_NOT_FOUND', `eks:DescribeCluster: No cluster found for name: ${name}.`));
    const err = await collectFleet([{ ...targets[0]!, clusterName: 'nope', region: 'eu-west-1' }], f.ports, { trustPolicyLimit: 2048 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect(err).toMatchObject({ code: 'CLUSTER_NOT_FOUND', exit: 'usage', hint: 'check --cluster/--region or the kubeconfig context' });
    expect((err as UsageError).message).toBe('context "a": EKS cluster "nope" does not exist in eu-west-1');
    expect(f.calls.some((c) => c.startsWith('k8s:'))).toBe(false);
  });

  it('passes other DescribeCluster failures through unchanged', async () => {
    const f = fakePorts();
    const denied = new PodidError('AWS_ACCESS_DENIED', 'eks:DescribeCluster was denied: no');
    f.ports.eks('us-east-1').describeCluster = () => Promise.reject(denied);
    await expect(collectFleet([targets[0]!], f.ports, { trustPolicyLimit: 2048 })).rejects.toBe(denied);
  });

  it('records the scope on the snapshot for the analysis, and none when unscoped', async () => {
    const f = fakePorts();
    const scoped = await collectFleet(targets, f.ports, { trustPolicyLimit: 2048, namespaces: ['shop'], serviceAccounts: [' shop/cart'] });
    expect(scoped.scope).toEqual({ namespaces: ['shop'], serviceAccounts: ['shop/cart'] });
    const full = await collectFleet(targets, f.ports, { trustPolicyLimit: 2048, namespaces: [] });
    expect(full.scope).toBeUndefined();
  });

  it('scans a cluster reached through two contexts once', async () => {
    const f = fakePorts();
    const snap = await collectFleet([targets[0]!, { ...targets[0]!, context: 'alias' }], f.ports, { trustPolicyLimit: 2048 });
    expect(snap.clusters).toHaveLength(1);
  });

  describe('one listing of the account roles above the threshold', () => {
    const found = (arn: string, Sid: string): RoleSnapshot => ({ arn, state: 'found', trustPolicy: { Version: '2012-10-17', Statement: [{ Sid }] }, error: null });
    const listed = [
      // IAM spells the ARN its own way; the snapshot keeps the referenced (normalised) ARN.
      found('arn:aws:iam::111122223333:role/SHARED', 'listed-shared'),
      found('arn:aws:iam::111122223333:role/cni', 'listed-cni'),
      found('arn:aws:iam::111122223333:role/unreferenced', 'x'),
    ];

    it('reads referenced roles from GetAccountAuthorizationDetails (boundaries included), GetRole only for what it lacks, each role once', async () => {
      const f = fakePorts({ listed });
      const snap = await collectFleet(targets, f.ports, { trustPolicyLimit: 2048, listRolesThreshold: 1 });
      expect(f.calls.filter((c) => c.startsWith('iam:GetAccountAuthorizationDetails') || c.startsWith('iam:ListRoles'))).toEqual(['iam:GetAccountAuthorizationDetails aws']);
      // dns is not in the listing: GetRole tells what it is (missing, other path, or created since).
      expect(f.calls.filter((c) => c.startsWith('iam:GetRole'))).toEqual(['iam:GetRole arn:aws:iam::111122223333:role/dns']);
      expect(snap.roles['arn:aws:iam::111122223333:role/shared']).toEqual({ ...found('arn:aws:iam::111122223333:role/shared', 'listed-shared'), permissionsBoundary: null });
      expect(snap.roles['arn:aws:iam::111122223333:role/cni']).toEqual({ ...found('arn:aws:iam::111122223333:role/cni', 'listed-cni'), permissionsBoundary: null });
      expect(snap.roles['arn:aws:iam::111122223333:role/dns']).toMatchObject({ state: 'found', trustPolicy: { Statement: [] } });
      expect(snap.roles['arn:aws:iam::999999999999:role/foreign']).toMatchObject({ state: 'unreadable' });
      expect(snap.roles['arn:aws:iam::111122223333:role/unreferenced']).toBeUndefined();
      expect(snap.boundariesUnknown).toBeUndefined();
    });

    it('GetAccountAuthorizationDetails denied: ListRoles, and the roles whose boundary is therefore unknown are counted with why', async () => {
      const f = fakePorts({ listed, detailsDenied: true });
      const events: unknown[] = [];
      const snap = await collectFleet(targets, f.ports, { trustPolicyLimit: 2048, listRolesThreshold: 1, onEvent: (e) => events.push(e) });
      expect(f.calls.filter((c) => c.startsWith('iam:ListRoles'))).toEqual(['iam:ListRoles aws']);
      expect(snap.roles['arn:aws:iam::111122223333:role/shared']).toEqual(found('arn:aws:iam::111122223333:role/shared', 'listed-shared'));
      // shared and cni came from ListRoles; dns from GetRole, which returns the boundary.
      const gap = { roles: 2, reason: 'User: x is not authorized to perform: iam:GetAccountAuthorizationDetails' };
      expect(snap.boundariesUnknown).toEqual(gap);
      expect(events).toContainEqual({ type: 'iam-boundaries-unknown', ...gap });
    });

    it('keeps GetRole at or below the threshold', async () => {
      const f = fakePorts({ listed: [found('arn:aws:iam::111122223333:role/shared', 'listed')] });
      await collectFleet(targets, f.ports, { trustPolicyLimit: 2048, listRolesThreshold: 3 });
      expect(f.calls.filter((c) => c.startsWith('iam:ListRoles') || c.startsWith('iam:GetAccountAuthorizationDetails'))).toEqual([]);
      expect(f.calls.filter((c) => c.startsWith('iam:GetRole'))).toHaveLength(3);
    });

    it('falls back to GetRole per role when both listings are denied', async () => {
      const f = fakePorts({ listRolesDenied: true });
      const snap = await collectFleet(targets, f.ports, { trustPolicyLimit: 2048, listRolesThreshold: 0 });
      expect(f.calls.filter((c) => c.startsWith('iam:GetRole')).sort()).toEqual([
        'iam:GetRole arn:aws:iam::111122223333:role/cni',
        'iam:GetRole arn:aws:iam::111122223333:role/dns',
        'iam:GetRole arn:aws:iam::111122223333:role/shared',
      ]);
      expect(snap.roles['arn:aws:iam::111122223333:role/shared']).toMatchObject({ state: 'found' });
      expect(snap.boundariesUnknown).toBeUndefined();
    });

    it('falls back to GetRole per role when the listings fail past their retries (issue 10: a fleet run does not abort)', async () => {
      const f = fakePorts();
      f.ports.iam.listRoleDetails = () => Promise.reject(new PodidError('AWS_UNREACHABLE', 'cannot reach https://iam.amazonaws.com for iam:GetAccountAuthorizationDetails'));
      f.ports.iam.listRoles = () => Promise.reject(new PodidError('AWS_UNREACHABLE', 'cannot reach https://iam.amazonaws.com for iam:ListRoles'));
      const snap = await collectFleet(targets, f.ports, { trustPolicyLimit: 2048, listRolesThreshold: 0 });
      expect(f.calls.filter((c) => c.startsWith('iam:GetRole'))).toHaveLength(3);
      expect(snap.roles['arn:aws:iam::111122223333:role/shared']).toMatchObject({ state: 'found' });
    });

    it('still fails the scan on a bug in the IAM port (not a PodidError)', async () => {
      const f = fakePorts();
      f.ports.iam.listRoleDetails = () => Promise.reject(new TypeError('boom'));
      await expect(collectFleet(targets, f.ports, { trustPolicyLimit: 2048, listRolesThreshold: 0 })).rejects.toBeInstanceOf(TypeError);
    });
  });
});
