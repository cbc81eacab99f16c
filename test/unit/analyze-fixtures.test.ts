/**
 * The scan over real-world trust policies (test/fixtures/trust-policies, each with its source): each one is put
 * on the role of a service account of a cluster whose issuer, region and account match the
 * policy, and the scan must read the grant the way IAM would.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeFleet } from '../../src/core/scan/analyze.js';
import type { FindingCode } from '../../src/core/scan/findings.js';
import type { TrustReport } from '../../src/core/scan/inventory.js';
import type { JsonObject } from '../../src/core/json.js';
import { baseCluster, baseFleet, deployment, foundRole } from './analyze-snapshot.js';

const FIXTURES = new URL('../fixtures/trust-policies/', import.meta.url);

interface Case {
  file: string;
  partition?: string;
  account?: string;
  region: string;
  issuerId?: string;
  sa: [string, string];
  irsa: TrustReport['irsa'];
  podIdentity?: TrustReport['podIdentity'];
  codes: FindingCode[];
}

const cases: Case[] = [
  { file: 'aws-docs-efs-csi-stringlike-sub-wildcard-and-aud.json', region: 'us-east-1', sa: ['kube-system', 'efs-csi-controller-sa'], irsa: 'wildcard', codes: ['TRUST_IRSA_WILDCARD'] },
  { file: 'aws-docs-irsa-get-role-stringequals-sub-aud.json', region: 'us-east-1', sa: ['default', 'my-service-account'], irsa: 'exact', codes: [] },
  { file: 'aws-docs-irsa-get-role-stringequals-sub-aud.json', region: 'us-east-1', sa: ['default', 'other'], irsa: 'none', codes: ['TRUST_NO_IRSA_GRANT'] },
  { file: 'aws-docs-pod-identity-standard.json', region: 'us-east-1', sa: ['default', 'app'], irsa: 'none', podIdentity: 'unconditioned', codes: ['TRUST_NO_IRSA_GRANT', 'TRUST_POD_IDENTITY_UNCONDITIONED'] },
  { file: 'cloudposse-eks-iam-role-wildcard-namespace.json', region: 'us-east-1', sa: ['preview-42', 'external-dns'], irsa: 'wildcard', codes: ['TRUST_IRSA_WILDCARD'] },
  { file: 'eksctl-irsa-cfn-sorted-keys-action-array.json', account: '456123987123', region: 'us-west-2', issuerId: 'A39A2842863C47208955D753DE205E6E', sa: ['default', 'sa-1'], irsa: 'exact', codes: [] },
  { file: 'eksctl-pod-identity-cfn-principal-string.json', region: 'us-east-1', sa: ['default', 'app'], irsa: 'none', podIdentity: 'unconditioned', codes: ['TRUST_NO_IRSA_GRANT', 'TRUST_POD_IDENTITY_UNCONDITIONED'] },
  { file: 'karpenter-controller-irsa-govcloud-partition.json', partition: 'aws-us-gov', region: 'us-gov-west-1', sa: ['kube-system', 'karpenter'], irsa: 'exact', codes: [] },
  { file: 'kubeflow-profile-controller-many-subs-acl-size-exceeded.json', region: 'us-west-2', sa: ['test-kubeflow-user00', 'default-editor'], irsa: 'exact', codes: ['TRUST_POLICY_TOO_LARGE', 'TRUST_IRSA_MULTIPLE_SUBJECTS'] },
  { file: 'tfmod-iam-assumable-role-with-oidc-two-clusters-tagsession-stringlike-aud.json', region: 'us-east-1', sa: ['kube-system', 'external-dns'], irsa: 'exact', codes: ['TRUST_OTHER_OIDC_PROVIDER'] },
  { file: 'tfmod-iam-assumable-role-with-oidc-two-clusters-tagsession-stringlike-aud.json', region: 'us-west-2', issuerId: '0A1B2C3D4E5F60718293A4B5C6D7E8F9', sa: ['kube-system', 'external-dns'], irsa: 'exact', codes: ['TRUST_OTHER_OIDC_PROVIDER'] },
  { file: 'tfmod-iam-v6-irsa-two-statements-same-provider-sub-arrays.json', region: 'eu-west-1', sa: ['canary', 'blue'], irsa: 'exact', codes: ['TRUST_IRSA_MULTIPLE_SUBJECTS'] },
];

describe('analyzeFleet over the shared trust-policy fixtures', () => {
  it.each(cases)('$file as $sa.0/$sa.1 in $region', (c) => {
    const doc = JSON.parse(readFileSync(new URL(c.file, FIXTURES), 'utf8')) as { policy: JsonObject };
    const partition = c.partition ?? 'aws';
    const account = c.account ?? '111122223333';
    const role = `arn:${partition}:iam::${account}:role/fixture`;
    const s = baseFleet();
    const cluster = baseCluster('fx', c.region);
    Object.assign(cluster, {
      partition,
      account,
      arn: `arn:${partition}:eks:${c.region}:${account}:cluster/fx`,
      oidcIssuer: `https://oidc.eks.${c.region}.amazonaws.com/id/${c.issuerId ?? 'EXAMPLED539D4633E53DE1B71EXAMPLE'}`,
    });
    const [ns, name] = c.sa;
    cluster.kube.serviceAccounts.push({ namespace: ns, name, uid: 'u', resourceVersion: '1', annotations: { 'eks.amazonaws.com/role-arn': role } });
    deployment(cluster, ns, name, name, ['irsa']);
    s.clusters = [cluster];
    s.roles = { [role]: foundRole(role, doc.policy) };

    const r = analyzeFleet(s, { now: new Date(0) }).serviceAccounts[0];
    expect(r?.trust.irsa).toBe(c.irsa);
    expect(r?.trust.podIdentity).toBe(c.podIdentity ?? 'none');
    expect(r?.findings.map((f) => f.code).sort()).toEqual([...c.codes].sort());
    // An unconditioned Pod Identity statement already admits every cluster: podid adds nothing.
    if (c.podIdentity === 'unconditioned') expect(r?.trust.lengthAfter).toBe(r?.trust.length);
    else expect(r?.trust.lengthAfter).toBeGreaterThan(r?.trust.length ?? Infinity);
  });

  it('measures the kubeflow policy the way IAM does (2420 characters without whitespace)', () => {
    const doc = JSON.parse(readFileSync(new URL('kubeflow-profile-controller-many-subs-acl-size-exceeded.json', FIXTURES), 'utf8')) as { policy: JsonObject };
    const s = baseFleet();
    const role = 'arn:aws:iam::111122223333:role/cart';
    s.roles[role] = foundRole(role, doc.policy);
    const r = analyzeFleet(s, { now: new Date(0) }).serviceAccounts[0];
    expect(r?.trust.length).toBe(2420);
    expect(r?.verdict).toBe('blocked');
  });
});
