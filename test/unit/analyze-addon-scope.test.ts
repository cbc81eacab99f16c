/**
 * A narrowed scan (-n / --service-account, carried on the snapshot as `scope`) reports an
 * add-on only when one of its service accounts is in scope; an unscoped one reports them all.
 */
import { describe, expect, it } from 'vitest';
import { analyzeFleet } from '../../src/core/scan/analyze.js';
import { scanScope } from '../../src/core/scan/scope.js';
import type { AddonSnapshot, FleetSnapshot } from '../../src/core/scan/snapshot.js';
import { ACCOUNT, baseFleet, foundRole, irsaStatement, policy, prod, roleArn } from './analyze-snapshot.js';

const NOW = new Date('2025-06-01T12:00:00Z');

function addon(name: string, role: string, serviceAccounts: string[] | null): AddonSnapshot {
  return {
    name, version: 'v1.0.0-eksbuild.1', status: 'ACTIVE', arn: `arn:aws:eks:us-east-1:${ACCOUNT}:addon/prod/${name}/x`,
    serviceAccountRoleArn: role, podIdentityAssociations: [],
    podIdentityConfiguration: serviceAccounts === null ? null : serviceAccounts.map((serviceAccount) => ({ serviceAccount, recommendedManagedPolicies: [] })),
  };
}

/** prod with shop/cart, vpc-cni (kube-system/aws-node), CloudWatch (amazon-cloudwatch/cloudwatch-agent) and adot (unknown). */
function fleet(): FleetSnapshot {
  const s = baseFleet();
  const c = prod(s);
  c.addons.push(addon('vpc-cni', roleArn('vpc-cni'), ['aws-node']));
  c.addons.push(addon('amazon-cloudwatch-observability', roleArn('cw'), ['cloudwatch-agent']));
  // An add-on podid has no namespace for: only the service account annotated with its role says where it runs.
  c.addons.push(addon('adot', roleArn('adot'), null));
  c.kube.serviceAccounts.push({ namespace: 'kube-system', name: 'adot-collector', uid: 'a', resourceVersion: '1', annotations: { 'eks.amazonaws.com/role-arn': roleArn('adot') } });
  for (const name of ['vpc-cni', 'cw', 'adot']) s.roles[roleArn(name)] = foundRole(roleArn(name), policy(irsaStatement('system:serviceaccount:kube-system:x')));
  return s;
}

function addonsIn(scope: { namespaces?: string[]; serviceAccounts?: string[] } | null): string[] {
  const s = fleet();
  if (scope !== null) s.scope = scanScope(scope.namespaces, scope.serviceAccounts);
  return analyzeFleet(s, { now: NOW }).addons.map((a) => a.name);
}

describe('analyzeFleet: add-ons in a scoped scan', () => {
  it('reports every IRSA add-on without a scope', () => {
    expect(addonsIn(null)).toEqual(['adot', 'amazon-cloudwatch-observability', 'vpc-cni']);
    expect(addonsIn({})).toEqual(['adot', 'amazon-cloudwatch-observability', 'vpc-cni']);
  });

  it('drops them all for a service account of another namespace (--service-account shop/checkout)', () => {
    expect(addonsIn({ serviceAccounts: ['shop/checkout'] })).toEqual([]);
  });

  it('drops them all for a namespace no add-on uses (-n nope)', () => {
    expect(addonsIn({ namespaces: ['nope'] })).toEqual([]);
  });

  it("keeps the ones whose service account's namespace is in scope", () => {
    expect(addonsIn({ namespaces: ['kube-system'] })).toEqual(['adot', 'vpc-cni']);
    expect(addonsIn({ namespaces: ['amazon-cloudwatch'] })).toEqual(['amazon-cloudwatch-observability']);
  });

  it('keeps exactly the add-on whose service account is named', () => {
    expect(addonsIn({ serviceAccounts: ['kube-system/aws-node'] })).toEqual(['vpc-cni']);
    expect(addonsIn({ serviceAccounts: ['amazon-cloudwatch/cloudwatch-agent'] })).toEqual(['amazon-cloudwatch-observability']);
    // Known only through the service account annotated with its role.
    expect(addonsIn({ serviceAccounts: ['kube-system/adot-collector'] })).toEqual(['adot']);
    // aws-node in the wrong namespace is not vpc-cni's.
    expect(addonsIn({ serviceAccounts: ['shop/aws-node'] })).toEqual([]);
  });

  it('does not take an annotated service account outside kube-system and the add-on namespace as the add-on\'s', () => {
    const s = fleet();
    prod(s).kube.serviceAccounts.push({ namespace: 'shop', name: 'borrower', uid: 'b', resourceVersion: '1', annotations: { 'eks.amazonaws.com/role-arn': roleArn('adot') } });
    s.scope = scanScope([], ['shop/borrower']);
    expect(analyzeFleet(s, { now: NOW }).addons).toEqual([]);
  });

  it('keeps cluster readiness and the summary consistent with the add-ons it reports', () => {
    const s = fleet();
    s.scope = scanScope(['shop']);
    const inv = analyzeFleet(s, { now: NOW });
    expect(inv.summary.addons).toBe(0);
    expect(inv.serviceAccounts.map((r) => `${r.namespace}/${r.name}`)).toContain('shop/cart');
  });
});

describe('scanScope', () => {
  it('normalises and validates the references', () => {
    expect(scanScope(['b', 'a', 'a'], [' shop/cart ', 'shop/cart'])).toEqual({ namespaces: ['a', 'b'], serviceAccounts: ['shop/cart'] });
    expect(() => scanScope([], ['cart'])).toThrow(/NAMESPACE\/NAME/);
  });
});

describe("analyzeFleet: an add-on's own role", () => {
  const report = (mutate: (s: FleetSnapshot) => void) => {
    const s = fleet();
    mutate(s);
    return analyzeFleet(s, { now: NOW }).addons.find((a) => a.name === 'vpc-cni')!;
  };

  it('a role that does not exist blocks the add-on (ROLE_NOT_FOUND), as the plan blocks it', () => {
    const a = report((s) => (s.roles[roleArn('vpc-cni')] = { arn: roleArn('vpc-cni'), state: 'missing', trustPolicy: null, error: 'role vpc-cni does not exist' }));
    expect(a.findings.map((f) => f.code)).toEqual(['ROLE_NOT_FOUND']);
    expect(a.verdict).toBe('blocked');
  });

  it('a role podid could not read blocks it too (ROLE_UNREADABLE)', () => {
    const a = report((s) => (s.roles[roleArn('vpc-cni')] = { arn: roleArn('vpc-cni'), state: 'unreadable', trustPolicy: null, error: 'AccessDenied' }));
    expect(a.findings.map((f) => f.code)).toEqual(['ROLE_UNREADABLE']);
    expect(a.verdict).toBe('blocked');
  });

  it('an add-on already migrated stays migrated when its old IRSA role is gone', () => {
    const a = report((s) => {
      s.roles[roleArn('vpc-cni')] = { arn: roleArn('vpc-cni'), state: 'missing', trustPolicy: null, error: 'gone' };
      prod(s).addons.find((x) => x.name === 'vpc-cni')!.podIdentityAssociations.push('a-1');
    });
    expect(a.findings.map((f) => f.code)).toEqual(['ADDON_MIGRATED']);
    expect(a.verdict).toBe('migrated');
  });

  it('a role of another account blocks it (ADDON_ROLE_CROSS_ACCOUNT: UpdateAddon cannot chain roles)', () => {
    const a = report((s) => (prod(s).addons.find((x) => x.name === 'vpc-cni')!.serviceAccountRoleArn = 'arn:aws:iam::444455556666:role/vpc-cni'));
    expect(a.findings.map((f) => f.code)).toEqual(['ADDON_ROLE_CROSS_ACCOUNT']);
    expect(a.verdict).toBe('blocked');
  });

  it('a readable role adds nothing', () => {
    expect(report(() => {}).findings).toEqual([]);
  });
});
