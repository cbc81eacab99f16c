#!/usr/bin/env node
// Generates a large sandbox world (docs/sandbox.md schema), deterministic by seed, shared by the
// benchmarks and the large-world test.
//
//   generateWorld({ seed, clusters, serviceAccounts, pods, roles, sharedRoleFraction, nodesPerCluster,
//                  associationEvery })
//
// ServiceAccounts are spread evenly over the clusters (20 namespaces each); every SA gets one
// Deployment whose replicas add up to `pods` across the fleet. Roles: `sharedRoleFraction` of them
// (default a third) are trusted by every cluster's OIDC provider, the rest by one cluster each;
// SAs are annotated for IRSA with a role, and every `associationEvery`-th SA (default every fourth;
// 0: none) also has a Pod Identity association.
//
// CLI: node bench/generate-world.mjs [--seed N] [--clusters N] [--service-accounts N] [--pods N]
//      [--roles N] [--json]   (writes YAML, or JSON with --json, to stdout)

/** mulberry32: a small deterministic PRNG. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateWorld({
  seed = 1,
  clusters = 4,
  serviceAccounts = 10_000,
  pods = 100_000,
  roles = 3_000,
  sharedRoleFraction = 1 / 3,
  nodesPerCluster = 100,
  namespacesPerCluster = 20,
  account = '111122223333',
  associationEvery = 4,
} = {}) {
  const rand = prng(seed);
  const issuer = (c) => `https://oidc.eks.us-east-1.amazonaws.com/id/GEN${String(seed).padStart(6, '0')}${String(c).padStart(23, '0')}`;
  const host = (c) => issuer(c).slice('https://'.length);
  const shared = Math.round(roles * sharedRoleFraction);
  const roleList = [];
  // Role i: shared (all clusters) when i < shared, else owned by cluster i % clusters.
  const roleClusters = (i) => (i < shared ? Array.from({ length: clusters }, (_, c) => c) : [i % clusters]);
  const saPerCluster = Math.ceil(serviceAccounts / clusters);
  /** The SAs (cluster, namespace, name) that trust each role, filled while generating clusters. */
  const subjects = Array.from({ length: roles }, () => []);

  const owned = Array.from({ length: clusters }, () => []);
  for (let i = shared; i < roles; i++) owned[i % clusters].push(i);
  const clusterList = [];
  let saCount = 0;
  let podCount = 0;
  for (let c = 0; c < clusters; c++) {
    const objects = [];
    const associations = [];
    const sas = Math.min(saPerCluster, serviceAccounts - saCount);
    for (let s = 0; s < sas; s++, saCount++) {
      const ns = `team-${s % namespacesPerCluster}`;
      const name = `svc-${s}`;
      // A role this cluster can use: one of the shared ones or one of the cluster's own.
      const own = owned[c];
      const r = own.length === 0 || (shared > 0 && rand() < sharedRoleFraction) ? Math.floor(rand() * shared) : own[Math.floor(rand() * own.length)];
      subjects[r].push({ c, ns, name });
      const roleArn = `arn:aws:iam::${account}:role/gen-role-${r}`;
      objects.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns, annotations: { 'eks.amazonaws.com/role-arn': roleArn } } });
      // Spread the pods: the remaining pods over the remaining SAs of the fleet.
      const left = serviceAccounts - saCount;
      const replicas = Math.floor((pods - podCount) / Math.max(1, left));
      podCount += replicas;
      objects.push({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace: ns, labels: { app: name } },
        spec: {
          replicas,
          selector: { matchLabels: { app: name } },
          template: { metadata: { labels: { app: name } }, spec: { serviceAccountName: name, containers: [{ name: 'app', image: `example/${name}:1` }] } },
        },
      });
      if (associationEvery > 0 && s % associationEvery === 0) associations.push({ namespace: ns, serviceAccount: name, roleArn });
    }
    clusterList.push({
      name: `gen-${c}`,
      version: '1.31',
      platformVersion: 'eks.10',
      oidcIssuer: issuer(c),
      addons: [{ name: 'eks-pod-identity-agent', version: 'v1.3.4-eksbuild.1' }],
      nodegroups: [{ name: 'ng', nodeRole: `arn:aws:iam::${account}:role/gen-node`, amiType: 'AL2023_x86_64_STANDARD', nodes: nodesPerCluster }],
      podIdentityAssociations: associations,
      objects,
    });
  }

  roleList.push({
    name: 'gen-node',
    assumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
    attachedPolicies: ['arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy'],
  });
  for (let i = 0; i < roles; i++) {
    const statements = [];
    for (const c of roleClusters(i)) {
      const subs = subjects[i].filter((x) => x.c === c).map((x) => `system:serviceaccount:${x.ns}:${x.name}`);
      statements.push({
        Effect: 'Allow',
        Principal: { Federated: `arn:aws:iam::${account}:oidc-provider/${host(c)}` },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: { [`${host(c)}:aud`]: 'sts.amazonaws.com' },
          ...(subs.length ? { StringLike: { [`${host(c)}:sub`]: subs.length === 1 ? subs[0] : subs } } : {}),
        },
      });
    }
    roleList.push({ name: `gen-role-${i}`, assumeRolePolicyDocument: { Version: '2012-10-17', Statement: statements } });
  }

  return {
    account,
    region: 'us-east-1',
    clusters: clusterList,
    iam: {
      // Shared roles name every cluster's provider; the generated trust policies may exceed 2,048.
      trustPolicyLimit: 1_000_000,
      roles: roleList,
      openIdConnectProviders: Array.from({ length: clusters }, (_, c) => ({ url: issuer(c), clientIds: ['sts.amazonaws.com'] })),
    },
  };
}

/** Totals of a generated world, for reports. */
export function worldSize(world) {
  let sas = 0;
  let pods = 0;
  for (const c of world.clusters) {
    for (const o of c.objects) {
      if (o.kind === 'ServiceAccount') sas++;
      if (o.kind === 'Deployment') pods += o.spec.replicas;
    }
  }
  return { clusters: world.clusters.length, serviceAccounts: sas, pods, roles: world.iam.roles.length - 1 };
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const args = process.argv.slice(2);
  const opt = (flag, def) => {
    const i = args.indexOf(flag);
    return i >= 0 ? Number(args[i + 1]) : def;
  };
  const world = generateWorld({
    seed: opt('--seed', 1),
    clusters: opt('--clusters', 4),
    serviceAccounts: opt('--service-accounts', 10_000),
    pods: opt('--pods', 100_000),
    roles: opt('--roles', 3_000),
  });
  if (args.includes('--json')) process.stdout.write(`${JSON.stringify(world)}\n`);
  else {
    const { stringify } = await import('yaml');
    process.stdout.write(stringify(world));
  }
}
