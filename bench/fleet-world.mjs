// Generates a large sandbox world for benchmarks: CLUSTERS clusters, SAS service accounts each
// (each with a 2-replica Deployment), roles shared across clusters in groups.
import { stringify } from 'yaml';

export function fleetWorld({ clusters = 3, serviceAccounts = 200, latencyMs = 0 } = {}) {
  const account = '111122223333';
  const issuer = (i) => `https://oidc.eks.us-east-1.amazonaws.com/id/BENCH${String(i).padStart(27, '0')}`;
  const host = (i) => issuer(i).slice('https://'.length);
  const roles = [];
  const world = {
    account, region: 'us-east-1', latencyMs, rolloutDelayMs: 0, associationPropagationMs: 0,
    clusters: [],
    iam: {
      roles,
      openIdConnectProviders: Array.from({ length: clusters }, (_, i) => ({ url: issuer(i) })),
    },
  };
  roles.push({
    name: 'bench-node',
    assumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
    attachedPolicies: ['arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy'],
  });
  for (let s = 0; s < serviceAccounts; s++) {
    const ns = `team-${s % 20}`;
    roles.push({
      name: `svc-${s}`,
      assumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: Array.from({ length: clusters }, (_, c) => ({
          Effect: 'Allow',
          Principal: { Federated: `arn:aws:iam::${account}:oidc-provider/${host(c)}` },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: { StringEquals: { [`${host(c)}:sub`]: `system:serviceaccount:${ns}:svc-${s}`, [`${host(c)}:aud`]: 'sts.amazonaws.com' } },
        })),
      },
    });
  }
  for (let c = 0; c < clusters; c++) {
    const objects = [];
    for (let s = 0; s < serviceAccounts; s++) {
      const ns = `team-${s % 20}`;
      objects.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: `svc-${s}`, namespace: ns, annotations: { 'eks.amazonaws.com/role-arn': `arn:aws:iam::${account}:role/svc-${s}` } } });
      objects.push({
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: `svc-${s}`, namespace: ns },
        spec: { replicas: 2, selector: { matchLabels: { app: `svc-${s}` } }, template: { metadata: { labels: { app: `svc-${s}` } }, spec: { serviceAccountName: `svc-${s}`, containers: [{ name: 'app', image: 'example/app:1' }] } } },
      });
    }
    world.clusters.push({
      name: `bench-${c}`, version: '1.31', platformVersion: 'eks.10', oidcIssuer: issuer(c),
      addons: [{ name: 'eks-pod-identity-agent', version: 'v1.3.4-eksbuild.1' }],
      nodegroups: [{ name: 'ng', nodeRole: `arn:aws:iam::${account}:role/bench-node`, nodes: 5 }],
      objects,
    });
  }
  return stringify(world);
}
