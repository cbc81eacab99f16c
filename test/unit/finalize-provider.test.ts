/**
 * The pure decision behind `podid finalize --delete-oidc-provider`: who still trusts a cluster's
 * OIDC provider (every role of the account, each by the document finalize leaves it with), and
 * the listing it is judged on (all pages, or no decision).
 */
import { describe, expect, it } from 'vitest';
import { readRetrying } from '../../src/core/apply/retry.js';
import type { ListedRole } from '../../src/core/apply/ports.js';
import { assessProviders, decideDeletion, IncompleteListingError, listAllRoles, providerReference, providerTrustedBy } from '../../src/core/finalize/provider.js';
import type { JsonObject } from '../../src/core/json.js';
import { ACCOUNT, FakeWorld, roleArn } from './fixtures/apply-fake.js';

const HOST = 'oidc.eks.us-east-1.amazonaws.com/id/AAAA1111';
const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/${HOST}`;
const OTHER_HOST = 'oidc.eks.us-east-1.amazonaws.com/id/AAAA11112';
const OTHER = `arn:aws:iam::${ACCOUNT}:oidc-provider/${OTHER_HOST}`;

const irsa = (provider: string, host: string, subs: string[]): JsonObject => ({
  Effect: 'Allow', Principal: { Federated: provider }, Action: 'sts:AssumeRoleWithWebIdentity',
  Condition: { StringEquals: { [`${host}:sub`]: subs.map((s) => `system:serviceaccount:${s}`) } },
});
const podIdentity: JsonObject = { Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] };
const doc = (...statements: JsonObject[]): JsonObject => ({ Version: '2012-10-17', Statement: statements });
const listed = (name: string, document: JsonObject | null, error: string | null = null): ListedRole => ({ arn: roleArn(name), document, error });

describe('providerReference', () => {
  it('finds the provider as a Federated principal, in any case, and in condition keys', () => {
    expect(providerReference(doc(irsa(PROVIDER, HOST, ['shop:cart'])), PROVIDER)).toBe('names it as a principal');
    expect(providerReference(doc(irsa(PROVIDER.toUpperCase().replace('ARN:AWS:IAM', 'arn:aws:iam'), HOST, ['shop:cart'])), PROVIDER)).toBe('names it as a principal');
    // Only a condition on the provider's keys (another principal): still its tokens that are checked.
    const condOnly = doc({ Effect: 'Allow', Principal: { Federated: 'cognito-identity.amazonaws.com' }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: { StringEquals: { [`${HOST}:aud`]: 'sts.amazonaws.com' } } });
    expect(providerReference(condOnly, PROVIDER)).toBe('names it in a condition key');
    // A Deny naming it still refers to it: podid leaves that to a person.
    expect(providerReference(doc({ ...irsa(PROVIDER, HOST, ['x:y']), Effect: 'Deny' }), PROVIDER)).not.toBeNull();
  });

  it('does not confuse another provider whose issuer id merely starts with this one\'s', () => {
    expect(providerReference(doc(irsa(OTHER, OTHER_HOST, ['shop:cart']), podIdentity), PROVIDER)).toBeNull();
    expect(providerReference(doc(podIdentity), PROVIDER)).toBeNull();
  });

  it('counts a statement that admits any principal to AssumeRoleWithWebIdentity, not one that only allows AssumeRole', () => {
    expect(providerReference(doc({ Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRoleWith*' }), PROVIDER)).toBe('admits web identities from any provider (Principal "*")');
    expect(providerReference(doc({ Effect: 'Allow', Principal: { Federated: '*' }, Action: '*' }), PROVIDER)).not.toBeNull();
    expect(providerReference(doc({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }), PROVIDER)).toBeNull();
    expect(providerReference(doc({ Effect: 'Allow', NotPrincipal: { AWS: roleArn('x') }, NotAction: 'sts:AssumeRole' }), PROVIDER)).toBe('admits web identities through NotPrincipal');
  });
});

describe('providerTrustedBy and decideDeletion', () => {
  it('judges roles finalize edits by the document it writes: a role left with other SAs\' grants still trusts it', () => {
    const roles = [
      listed('cart', doc(irsa(PROVIDER, HOST, ['shop:cart']), podIdentity)),
      listed('shared', doc(irsa(PROVIDER, HOST, ['shop:cart', 'shop:orders']), podIdentity)),
      listed('unrelated', doc(podIdentity)),
    ];
    const after = new Map([
      [roleArn('cart').toLowerCase(), doc(podIdentity)],
      [roleArn('shared').toLowerCase(), doc(irsa(PROVIDER, HOST, ['shop:orders']), podIdentity)],
    ]);
    const v = providerTrustedBy(PROVIDER, roles, after);
    expect(v.trustedBy).toEqual([{ roleArn: roleArn('shared'), why: 'names it as a principal' }]);
    expect(v.rolesRead).toBe(3);
    const d = decideDeletion(v, ACCOUNT);
    expect(d).toMatchObject({ action: 'refused', trustedBy: [roleArn('shared')], trustedByCount: 1 });
    expect(d.reason).toContain('1 role still refers to it');
    // Once shop/orders is finalized too, nothing refers to it.
    after.set(roleArn('shared').toLowerCase(), doc(podIdentity));
    expect(decideDeletion(providerTrustedBy(PROVIDER, roles, after), ACCOUNT)).toMatchObject({ action: 'delete', trustedByCount: 0, reason: `no role of account ${ACCOUNT} refers to it any more (3 roles read, every page)` });
  });

  it('names the first few roles and the count', () => {
    const roles = Array.from({ length: 8 }, (_, i) => listed(`r${i}`, doc(irsa(PROVIDER, HOST, [`ns:sa${i}`]))));
    const d = decideDeletion(providerTrustedBy(PROVIDER, roles), ACCOUNT);
    expect(d.trustedBy).toHaveLength(5);
    expect(d.trustedByCount).toBe(8);
    expect(d.reason).toMatch(/^kept: 8 roles still refer to it: .*r4 \(names it as a principal\) and 3 more; deleting it would break IRSA for them$/);
  });

  it('refuses when a role\'s trust policy cannot be read: unknown is not "nobody"', () => {
    const d = decideDeletion(providerTrustedBy(PROVIDER, [listed('a', doc(podIdentity)), listed('broken', null, 'the trust policy is not valid JSON')]), ACCOUNT);
    expect(d.action).toBe('refused');
    expect(d.reason).toContain(`${roleArn('broken')} (the trust policy is not valid JSON) cannot be read`);
  });
});

describe('listAllRoles and assessProviders', () => {
  const read = (w: FakeWorld) => <T>(fn: () => Promise<T>) => readRetrying({ clock: w.clock, policy: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 }, random: () => 0, signal: new AbortController().signal }, fn);
  const world = () => {
    const w = new FakeWorld();
    for (const n of ['a', 'b', 'c', 'd', 'e']) w.trust.set(roleArn(n), doc(podIdentity));
    w.oidcProviders.set(PROVIDER, { arn: PROVIDER, url: `https://${HOST}`, clientIds: ['sts.amazonaws.com'], thumbprints: [], tags: [] });
    return w;
  };

  it('reads every page (retrying a throttled one) and refuses on a page that fails past its retries', async () => {
    const w = world();
    w.faults.set('ListRoles', { kind: 'throttled', times: 1 });
    expect((await listAllRoles(w.ports().iam, 'aws', read(w))).map((r) => r.arn)).toEqual(['a', 'b', 'c', 'd', 'e'].map(roleArn));
    expect(w.log.filter((l) => l.startsWith('ListRoles'))).toEqual(['ListRoles', 'ListRoles', 'ListRoles 2', 'ListRoles 4']);
    w.faults.set('ListRoles', { kind: 'denied', times: 1 });
    await expect(listAllRoles(w.ports().iam, 'aws', read(w))).rejects.toBeInstanceOf(IncompleteListingError);
  });

  it('decides per provider: delete when nothing refers to it, refused when the listing fails or the account is not the caller\'s, absent when gone', async () => {
    const w = world();
    const iam = w.ports().iam;
    const candidate = { cluster: 'prod', partition: 'aws', account: ACCOUNT, providerArn: PROVIDER };
    const [ok] = await assessProviders([candidate], new Map(), { iam, callerAccount: ACCOUNT, read: read(w) });
    expect(ok).toMatchObject({ action: 'delete', rolesRead: 5, provider: { url: `https://${HOST}` } });

    w.faults.set('ListRoles', { kind: 'throttled', times: 99 });
    const [throttled] = await assessProviders([candidate], new Map(), { iam, callerAccount: ACCOUNT, read: read(w) });
    expect(throttled!.action).toBe('refused');
    expect(throttled!.reason).toMatch(/^kept: the role listing is incomplete \(iam:ListRoles page 1: .*\); podid deletes a provider only after reading the trust policy of every role/);
    w.faults.clear();

    const [foreign] = await assessProviders([{ ...candidate, account: '444455556666', providerArn: PROVIDER.replace(ACCOUNT, '444455556666') }], new Map(), { iam, callerAccount: ACCOUNT, read: read(w) });
    expect(foreign).toMatchObject({ action: 'refused', reason: expect.stringContaining('it is in account 444455556666 and podid runs as account 111122223333') });

    w.oidcProviders.clear();
    const [absent] = await assessProviders([candidate], new Map(), { iam, callerAccount: ACCOUNT, read: read(w) });
    expect(absent).toMatchObject({ action: 'absent', provider: null });
  });
});
