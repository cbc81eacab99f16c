/**
 * Trust-policy findings the scan derives from what podid would actually write: the length
 * quota only matters for an edit, NotPrincipal Allows are reported, and an organisation guard
 * that denies Pod Identity gets the standard service exemption as its fix.
 */
import { describe, expect, it } from 'vitest';
import { analyzeFleet } from '../../src/core/scan/analyze.js';
import type { Inventory, ServiceAccountReport } from '../../src/core/scan/inventory.js';
import type { JsonObject } from '../../src/core/json.js';
import type { FleetSnapshot } from '../../src/core/scan/snapshot.js';
import { ACCOUNT, PROD, baseFleet, foundRole, irsaStatement, podIdentityStatementJson, policy, prod, roleArn } from './analyze-snapshot.js';

const NOW = new Date('2025-06-01T12:00:00Z');
const CART_SUB = 'system:serviceaccount:shop:cart';
const run = (s: FleetSnapshot): Inventory => analyzeFleet(s, { now: NOW });
const cart = (inv: Inventory): ServiceAccountReport => inv.serviceAccounts.find((r) => r.namespace === 'shop' && r.name === 'cart')!;
const codes = (r: ServiceAccountReport) => r.findings.map((f) => f.code);

function withTrust(...statements: JsonObject[]): FleetSnapshot {
  const s = baseFleet();
  s.roles[roleArn('cart')] = foundRole(roleArn('cart'), policy(...statements));
  return s;
}

/** cart migrated: Pod Identity trusted for prod, association in place, every pod on Pod Identity. */
function migratedCart(): FleetSnapshot {
  const s = withTrust(irsaStatement(CART_SUB), podIdentityStatementJson([PROD]));
  const c = prod(s);
  c.associations.push({ associationId: 'a-1', associationArn: `arn:aws:eks:us-east-1:${ACCOUNT}:podidentityassociation/prod/a-1`, namespace: 'shop', serviceAccount: 'cart', roleArn: roleArn('cart'), targetRoleArn: null, ownerArn: null });
  for (const p of c.kube.pods) if (p.serviceAccount === 'cart') p.identity = 'pod-identity';
  return s;
}

describe('TRUST_POLICY_TOO_LARGE', () => {
  it('does not block a role whose trust podid leaves unchanged, even with a limit below its length', () => {
    const s = migratedCart();
    const before = cart(run(s));
    expect(before.verdict).toBe('migrated');
    expect(before.trust.lengthAfter).toBe(before.trust.length);
    s.trustPolicyLimit = (before.trust.length ?? 0) - 1;
    const after = cart(run(s));
    expect(codes(after)).not.toContain('TRUST_POLICY_TOO_LARGE');
    expect(after.verdict).toBe('migrated');
  });

  it('blocks when the statement podid adds takes the policy over the limit', () => {
    const s = baseFleet();
    const { length, lengthAfter } = cart(run(s)).trust;
    expect(lengthAfter).toBeGreaterThan(length ?? Infinity);
    s.trustPolicyLimit = (lengthAfter ?? 0) - 1;
    const r = cart(run(s));
    expect(r.findings.find((f) => f.code === 'TRUST_POLICY_TOO_LARGE')?.message).toContain(`from ${length} to ${lengthAfter}`);
    expect(r.verdict).toBe('blocked');
    // At exactly the length after, the edit fits.
    s.trustPolicyLimit = lengthAfter ?? 0;
    expect(codes(cart(run(s)))).not.toContain('TRUST_POLICY_TOO_LARGE');
  });

  it('blocks when extending an existing statement with this cluster goes over the limit', () => {
    const other = `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/staging`;
    const s = withTrust(irsaStatement(CART_SUB), podIdentityStatementJson([other]));
    const { length, lengthAfter } = cart(run(s)).trust;
    expect(lengthAfter).toBeGreaterThan(length ?? Infinity);
    s.trustPolicyLimit = length ?? 0;
    expect(codes(cart(run(s)))).toContain('TRUST_POLICY_TOO_LARGE');
  });
});

describe('TRUST_NOT_PRINCIPAL_ALLOW', () => {
  const notPrincipalAllow: JsonObject = { Effect: 'Allow', NotPrincipal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' };

  it('warns about an Allow with NotPrincipal, naming the statement, and still plans the Pod Identity statement', () => {
    const r = cart(run(withTrust(irsaStatement(CART_SUB), notPrincipalAllow)));
    const f = r.findings.find((x) => x.code === 'TRUST_NOT_PRINCIPAL_ALLOW');
    expect(f).toMatchObject({ severity: 'warning' });
    expect(f?.message).toContain('statement 1');
    expect(r.verdict).toBe('ready-with-warnings');
    // Ignored, so podid appends its own statement: the policy grows.
    expect(r.trust.lengthAfter).toBeGreaterThan(r.trust.length ?? Infinity);
  });

  it('says nothing about a Deny with NotPrincipal (IAM supports it) or a clean policy', () => {
    const deny: JsonObject = { Effect: 'Deny', NotPrincipal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/x` }, Action: 'sts:AssumeRoleWithWebIdentity' };
    expect(codes(cart(run(withTrust(irsaStatement(CART_SUB), deny))))).not.toContain('TRUST_NOT_PRINCIPAL_ALLOW');
    expect(codes(cart(run(baseFleet())))).not.toContain('TRUST_NOT_PRINCIPAL_ALLOW');
  });
});

describe('TRUST_POD_IDENTITY_DENIED fix', () => {
  const denyAll = (condition: JsonObject): JsonObject => ({ Effect: 'Deny', Principal: '*', Action: 'sts:AssumeRole', Condition: condition });

  it.each([
    ['aws:PrincipalOrgID', { StringNotEquals: { 'aws:PrincipalOrgID': 'o-abc123' } }],
    ['aws:PrincipalOrgPaths', { 'ForAllValues:StringNotLike': { 'aws:PrincipalOrgPaths': 'o-abc123/r-ab12/*' } }],
    ['aws:PrincipalAccount', { StringNotEquals: { 'aws:PrincipalAccount': ACCOUNT } }],
  ])('names the BoolIfExists aws:PrincipalIsAWSService exemption for an organisation guard on %s', (_key, condition) => {
    const r = cart(run(withTrust(irsaStatement(CART_SUB), denyAll(condition))));
    const f = r.findings.find((x) => x.code === 'TRUST_POD_IDENTITY_DENIED');
    expect(f?.fix).toContain('"BoolIfExists": {"aws:PrincipalIsAWSService": "false"}');
    expect(f?.fix).toContain('statement 1');
    expect(r.verdict).toBe('blocked');
  });

  it('finds nothing to fix once the guard has the exemption', () => {
    const guarded = denyAll({ StringNotEquals: { 'aws:PrincipalOrgID': 'o-abc123' }, BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' } });
    expect(codes(cart(run(withTrust(irsaStatement(CART_SUB), guarded))))).not.toContain('TRUST_POD_IDENTITY_DENIED');
  });

  it('keeps the generic fix for a Deny that is not an organisation guard', () => {
    const r = cart(run(withTrust(irsaStatement(CART_SUB), { Effect: 'Deny', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: 'sts:AssumeRole' })));
    const f = r.findings.find((x) => x.code === 'TRUST_POD_IDENTITY_DENIED');
    expect(f?.fix).toBe('remove or narrow the Deny statement; no Allow podid adds can override it');
  });
});
