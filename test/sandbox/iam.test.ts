import {
  CreateOpenIDConnectProviderCommand, DeleteOpenIDConnectProviderCommand, EntityAlreadyExistsException, GetAccountAuthorizationDetailsCommand, InvalidInputException,
  paginateGetAccountAuthorizationDetails,
  GetOpenIDConnectProviderCommand, GetPolicyCommand, GetPolicyVersionCommand, GetRoleCommand, GetRolePolicyCommand,
  IAMClient, IAMServiceException, LimitExceededException, ListAttachedRolePoliciesCommand, ListOpenIDConnectProvidersCommand,
  ListRolePoliciesCommand, ListRolesCommand, ListRoleTagsCommand, MalformedPolicyDocumentException, NoSuchEntityException,
  paginateListRoles, UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { afterEach, describe, expect, it } from 'vitest';
import { AwsServiceError, type AwsRequest } from '../../src/sandbox/aws/common.js';
import { createIamService, validateTrustPolicy } from '../../src/sandbox/aws/iam.js';
import { awsManagedPolicyArns } from '../../src/sandbox/aws/managed-policies.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { SandboxState } from '../../src/sandbox/state.js';
import type { IamSpec, JsonObject, RoleSpec, World } from '../../src/sandbox/world-types.js';

const ACCOUNT = '111122223333';
const OTHER = '444455556666';
const ISSUER = 'https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const clock = { now: () => Date.UTC(2025, 0, 15, 12, 0, 0) };

function irsaTrust(sub: string): JsonObject {
  const host = ISSUER.replace('https://', '');
  return {
    Version: '2012-10-17',
    Statement: [{
      Effect: 'Allow',
      Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${host}` },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { [`${host}:sub`]: sub, [`${host}:aud`]: 'sts.amazonaws.com' } },
    }],
  };
}

function role(name: string, over: Partial<RoleSpec> = {}): RoleSpec {
  return {
    name, path: '/', account: ACCOUNT, assumeRolePolicyDocument: irsaTrust(`system:serviceaccount:shop:${name}`),
    attachedPolicies: [], inlinePolicies: {}, tags: {}, ...over,
  };
}

/** A complete, validated-shape World with only IAM content (no clusters). */
function makeWorld(iam: Partial<IamSpec> = {}, over: Partial<World> = {}): World {
  return {
    account: ACCOUNT, region: 'us-east-1', partition: 'aws', latencyMs: 0, rolloutDelayMs: 0, associationPropagationMs: 0,
    clusters: [], caller: null, faults: [],
    iam: { trustPolicyLimit: 2048, roles: [], policies: [], openIdConnectProviders: [], ...iam },
    ...over,
  };
}

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function iamFor(world: World, maxAttempts = 3): Promise<IAMClient> {
  sandbox = await startSandbox({ world, clock });
  return new IAMClient({
    region: 'us-east-1', endpoint: sandbox.endpoint, maxAttempts,
    credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' },
  });
}

const decode = (doc: string | undefined): unknown => JSON.parse(decodeURIComponent(doc ?? ''));

async function rejection(p: Promise<unknown>): Promise<IAMServiceException> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(IAMServiceException);
  return err as IAMServiceException;
}

describe('IAM roles through IAMClient', () => {
  it('GetRole returns the role with its URL-encoded trust policy, tags and ISO dates; names are case-insensitive', async () => {
    const world = makeWorld({ roles: [role('cart', { path: '/apps/', tags: { team: 'shop', note: `a<b & "c"` } })] });
    const iam = await iamFor(world);
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: 'CART' }));
    expect(Role).toMatchObject({
      RoleName: 'cart', Path: '/apps/', Arn: `arn:aws:iam::${ACCOUNT}:role/apps/cart`, MaxSessionDuration: 3600,
      CreateDate: new Date(clock.now()),
    });
    expect(Role?.RoleId).toMatch(/^AROA[A-Z2-7]{17}$/);
    expect(Role?.AssumeRolePolicyDocument).toMatch(/^%7B/);
    expect(decode(Role?.AssumeRolePolicyDocument)).toEqual(world.iam.roles[0]!.assumeRolePolicyDocument);
    expect(Role?.Tags).toEqual([{ Key: 'team', Value: 'shop' }, { Key: 'note', Value: `a<b & "c"` }]);
  });

  it('answers NoSuchEntity (404) for unknown roles and hides roles of other accounts', async () => {
    const iam = await iamFor(makeWorld({ roles: [role('mine'), role('theirs', { account: OTHER })] }));
    for (const name of ['missing', 'theirs']) {
      const err = await rejection(iam.send(new GetRoleCommand({ RoleName: name })));
      expect(err).toBeInstanceOf(NoSuchEntityException);
      expect(err.$metadata.httpStatusCode).toBe(404);
      expect(err.message).toBe(`The role with name ${name} cannot be found.`);
    }
    const { Roles } = await iam.send(new ListRolesCommand({}));
    expect(Roles?.map((r) => r.RoleName)).toEqual(['mine']);
  });

  it('ListRoles pages with Marker/MaxItems (paginateListRoles) and filters by PathPrefix', async () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const iam = await iamFor(makeWorld({ roles: [...names.map((n) => role(n)), role('svc', { path: '/service/' })] }));
    const pages: string[][] = [];
    for await (const page of paginateListRoles({ client: iam, pageSize: 2 }, {})) {
      pages.push((page.Roles ?? []).map((r) => r.RoleName!));
    }
    expect(pages).toEqual([['a', 'b'], ['c', 'd'], ['e', 'svc']]);
    const first = await iam.send(new ListRolesCommand({ MaxItems: 4 }));
    expect(first.IsTruncated).toBe(true);
    expect(first.Roles).toHaveLength(4);
    expect(first.Roles?.[0]).not.toHaveProperty('Tags');
    const rest = await iam.send(new ListRolesCommand({ MaxItems: 4, Marker: first.Marker }));
    expect(rest.IsTruncated).toBe(false);
    expect(rest.Marker).toBeUndefined();
    expect(rest.Roles?.map((r) => r.RoleName)).toEqual(['e', 'svc']);
    const service = await iam.send(new ListRolesCommand({ PathPrefix: '/service/' }));
    expect(service.Roles?.map((r) => r.Arn)).toEqual([`arn:aws:iam::${ACCOUNT}:role/service/svc`]);
  });

  it('rejects bad pagination parameters with ValidationError', async () => {
    const iam = await iamFor(makeWorld({ roles: [role('a')] }));
    const tooMany = await rejection(iam.send(new ListRolesCommand({ MaxItems: 1001 })));
    expect(tooMany.name).toBe('ValidationError');
    expect(tooMany.$metadata.httpStatusCode).toBe(400);
    const marker = await rejection(iam.send(new ListRolesCommand({ Marker: 'bm90LWEtcm9sZQ==' })));
    expect(marker.name).toBe('ValidationError');
  });
});

describe('GetAccountAuthorizationDetails through IAMClient', () => {
  const boundary = `arn:aws:iam::${ACCOUNT}:policy/team-boundary`;
  const world = () =>
    makeWorld({
      roles: [
        role('a', { permissionsBoundary: boundary, attachedPolicies: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'], inlinePolicies: { extra: { Version: '2012-10-17', Statement: [] } }, tags: { team: 'shop' } }),
        role('b', { path: '/apps/' }),
        role('c'),
        role('theirs', { account: OTHER }),
      ],
      policies: [{ arn: boundary, document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] } }],
    });

  it('Filter=Role: every role of the account with its trust policy, policies, permissions boundary and tags (ListRoles leaves the boundary out)', async () => {
    const iam = await iamFor(world());
    const out = await iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['Role'] }));
    expect(out.IsTruncated).toBe(false);
    expect(out.UserDetailList).toEqual([]);
    expect(out.Policies).toEqual([]);
    expect(out.RoleDetailList?.map((r) => r.Arn)).toEqual([`arn:aws:iam::${ACCOUNT}:role/a`, `arn:aws:iam::${ACCOUNT}:role/apps/b`, `arn:aws:iam::${ACCOUNT}:role/c`]);
    const a = out.RoleDetailList![0]!;
    expect(a.PermissionsBoundary).toEqual({ PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: boundary });
    expect(decode(a.AssumeRolePolicyDocument)).toEqual(world().iam.roles[0]!.assumeRolePolicyDocument);
    expect(a.AttachedManagedPolicies).toEqual([{ PolicyName: 'AmazonS3ReadOnlyAccess', PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess' }]);
    expect(a.RolePolicyList?.map((p) => [p.PolicyName, decode(p.PolicyDocument)])).toEqual([['extra', { Version: '2012-10-17', Statement: [] }]]);
    expect(a.Tags).toEqual([{ Key: 'team', Value: 'shop' }]);
    expect(out.RoleDetailList![1]!.PermissionsBoundary).toBeUndefined();
    const listed = await iam.send(new ListRolesCommand({}));
    expect(listed.Roles?.[0]).not.toHaveProperty('PermissionsBoundary');
  });

  it('pages with MaxItems/Marker (the SDK paginator), and without a filter also lists the managed policies in use', async () => {
    const iam = await iamFor(world());
    const pages: string[][] = [];
    for await (const page of paginateGetAccountAuthorizationDetails({ client: iam, pageSize: 2 }, { Filter: ['Role'] })) pages.push((page.RoleDetailList ?? []).map((r) => r.RoleName!));
    expect(pages).toEqual([['a', 'b'], ['c']]);
    const all = await iam.send(new GetAccountAuthorizationDetailsCommand({}));
    expect(all.RoleDetailList).toHaveLength(3);
    expect(all.Policies?.map((p) => [p.Arn, p.AttachmentCount, p.PermissionsBoundaryUsageCount])).toEqual([
      [boundary, 0, 1],
      ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess', 1, 0],
    ]);
    expect(decode(all.Policies?.[0]?.PolicyVersionList?.[0]?.Document)).toEqual(world().iam.policies[0]!.document);
  });

  it('rejects an unknown Filter value with ValidationError, and is denied like any action outside caller.allow', async () => {
    const iam = await iamFor(world());
    const bad = await rejection(iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['Roles' as 'Role'] })));
    expect(bad.name).toBe('ValidationError');
    await sandbox!.close();
    const denied = await iamFor(makeWorld(world().iam, { caller: { arn: `arn:aws:iam::${ACCOUNT}:user/ci`, allow: ['iam:ListRoles'] } }));
    const err = await rejection(denied.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['Role'] })));
    expect(err.$metadata.httpStatusCode).toBe(403);
    expect(err.message).toContain('iam:GetAccountAuthorizationDetails');
  });
});

describe('UpdateAssumeRolePolicy through IAMClient', () => {
  const podIdentity = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }],
  };

  it('stores the new document: GetRole returns it and the sandbox state holds it decoded; the call is logged as mutating', async () => {
    const iam = await iamFor(makeWorld({ roles: [role('cart')] }));
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'cart', PolicyDocument: JSON.stringify(podIdentity, null, 2) }));
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: 'cart' }));
    expect(decode(Role?.AssumeRolePolicyDocument)).toEqual(podIdentity);
    expect(sandbox!.state.findRole('cart')?.assumeRolePolicyDocument).toEqual(podIdentity);
    expect(sandbox!.state.calls).toContainEqual({ service: 'iam', operation: 'UpdateAssumeRolePolicy', mutating: true, status: 200 });
    expect(sandbox!.state.calls).toContainEqual({ service: 'iam', operation: 'GetRole', mutating: false, status: 200 });
  });

  it.each([
    ['not JSON', '{"Version": "2012-10-17", ', 'This policy contains invalid Json'],
    ['no Statement', '{"Version":"2012-10-17"}', 'Missing required field Statement'],
    ['no Version', JSON.stringify({ Statement: podIdentity.Statement }), 'Missing required field Version'],
    ['a Resource', JSON.stringify({ ...podIdentity, Statement: [{ ...podIdentity.Statement[0], Resource: '*' }] }), 'Has prohibited field Resource'],
    ['no Principal', JSON.stringify({ Version: '2012-10-17', Statement: { Effect: 'Allow', Action: 'sts:AssumeRole' } }), 'Missing required field Principal'],
    ['duplicate Sids', JSON.stringify({ ...podIdentity, Statement: [{ ...podIdentity.Statement[0], Sid: 'A' }, { ...podIdentity.Statement[0], Sid: 'A' }] }), 'Statement IDs (SID) in a single policy must be unique.'],
    ['a non-STS action', JSON.stringify({ ...podIdentity, Statement: [{ ...podIdentity.Statement[0], Action: ['sts:AssumeRole', 's3:GetObject'] }] }), 'AssumeRole policy may only specify STS AssumeRole actions.'],
    ['an unknown condition operator', JSON.stringify({ ...podIdentity, Statement: [{ ...podIdentity.Statement[0], Condition: { StringEqualz: { 'aws:SourceAccount': '111122223333' } } }] }), 'Invalid Condition type : StringEqualz'],
    ['an unknown principal type', JSON.stringify({ ...podIdentity, Statement: [{ ...podIdentity.Statement[0], Principal: { Services: 'pods.eks.amazonaws.com' } }] }), 'Invalid principal in policy: "Services":"pods.eks.amazonaws.com"'],
    ['a malformed AWS principal', JSON.stringify({ ...podIdentity, Statement: [{ ...podIdentity.Statement[0], Principal: { AWS: 'arn:aws:iam::1234:role/short' } }] }), 'Invalid principal in policy: "AWS":"arn:aws:iam::1234:role/short"'],
    ['a role principal that does not exist', JSON.stringify({ ...podIdentity, Statement: [{ ...podIdentity.Statement[0], Principal: { AWS: 'arn:aws:iam::111122223333:role/ghost' } }] }), 'Invalid principal in policy: "AWS":"arn:aws:iam::111122223333:role/ghost"'],
  ])('answers MalformedPolicyDocument (400) for a document with %s and leaves the role unchanged', async (_what, doc, message) => {
    const world = makeWorld({ roles: [role('cart')] });
    const iam = await iamFor(world);
    const err = await rejection(iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'cart', PolicyDocument: doc })));
    expect(err).toBeInstanceOf(MalformedPolicyDocumentException);
    expect(err.$metadata.httpStatusCode).toBe(400);
    expect(err.message).toBe(message);
    expect(sandbox!.state.findRole('cart')?.assumeRolePolicyDocument).toEqual(world.iam.roles[0]!.assumeRolePolicyDocument);
  });

  it('answers NoSuchEntity for an unknown role', async () => {
    const iam = await iamFor(makeWorld({ roles: [role('cart')] }));
    const err = await rejection(iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'nope', PolicyDocument: JSON.stringify(podIdentity) })));
    expect(err).toBeInstanceOf(NoSuchEntityException);
  });

  /** A trust policy of exactly `size` characters once whitespace is removed. */
  function policyOfSize(size: number, indent: number): string {
    const base = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: 'sts:AssumeRole', Sid: '' }] };
    const pad = size - JSON.stringify(base).length;
    base.Statement[0]!.Sid = 'S'.repeat(pad);
    const text = JSON.stringify(base, null, indent);
    expect(text.replace(/\s/g, '')).toHaveLength(size);
    return text;
  }

  // maxAttempts 1: the SDK classifies LimitExceededException as throttling and would retry it (as against real IAM).
  it('counts the length without whitespace: a padded document at the limit is accepted, one character more is LimitExceeded (409)', async () => {
    const iam = await iamFor(makeWorld({ roles: [role('cart')] }), 1);
    const atLimit = policyOfSize(2048, 40);
    expect(atLimit.length).toBeGreaterThan(2300);
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'cart', PolicyDocument: atLimit }));
    expect(sandbox!.state.findRole('cart')?.assumeRolePolicyDocument).toEqual(JSON.parse(atLimit));

    const err = await rejection(iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'cart', PolicyDocument: policyOfSize(2049, 0) })));
    expect(err).toBeInstanceOf(LimitExceededException);
    expect(err.$metadata.httpStatusCode).toBe(409);
    expect(err.message).toBe('Cannot exceed quota for ACLSizePerRole: 2048');
    expect(sandbox!.state.findRole('cart')?.assumeRolePolicyDocument).toEqual(JSON.parse(atLimit));
  });

  it('honours a raised trustPolicyLimit from the world', async () => {
    const iam = await iamFor(makeWorld({ roles: [role('cart')], trustPolicyLimit: 4096 }), 1);
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'cart', PolicyDocument: policyOfSize(4000, 0) }));
    const err = await rejection(iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'cart', PolicyDocument: policyOfSize(4097, 0) })));
    expect(err.message).toBe('Cannot exceed quota for ACLSizePerRole: 4096');
  });

  it('renders injected throttling as IAM Throttling (400), which the SDK classifies as retryable', async () => {
    const faults = [{ target: 'iam:UpdateAssumeRolePolicy', error: 'throttle' as const, after: 0, times: 1 }];
    const once = await iamFor(makeWorld({ roles: [role('cart')] }, { faults }), 1);
    const err = await rejection(once.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'cart', PolicyDocument: JSON.stringify(podIdentity) })));
    expect(err.name).toBe('Throttling');
    expect(err.$metadata.httpStatusCode).toBe(400);
    await sandbox!.close();

    // With the SDK's default retry strategy the throttled call is retried and succeeds.
    const retrying = await iamFor(makeWorld({ roles: [role('cart')] }, { faults }), 2);
    const ok = await retrying.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'cart', PolicyDocument: JSON.stringify(podIdentity) }));
    expect(ok.$metadata.attempts).toBe(2);
    expect(sandbox!.state.findRole('cart')?.assumeRolePolicyDocument).toEqual(podIdentity);
    expect(sandbox!.state.calls.map((c) => c.status)).toEqual([400, 200]);
  });
});

describe('IAM policies, tags and OIDC providers through IAMClient', () => {
  const nodeExtra = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'eks-auth:AssumeRoleForPodIdentity', Resource: '*' }] };
  const world = () => makeWorld({
    roles: [
      role('eks-node', {
        attachedPolicies: ['arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy', `arn:aws:iam::${ACCOUNT}:policy/team/node-extra`],
        inlinePolicies: { s3: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/k&v' }] } },
        tags: { a: '1', b: '2', c: '3' },
      }),
    ],
    policies: [
      { arn: `arn:aws:iam::${ACCOUNT}:policy/team/node-extra`, document: nodeExtra },
      { arn: `arn:aws:iam::${OTHER}:policy/theirs`, document: nodeExtra },
    ],
    openIdConnectProviders: [
      { url: ISSUER, clientIds: ['sts.amazonaws.com'], account: ACCOUNT },
      { url: 'https://oidc.eks.eu-west-1.amazonaws.com/id/OTHER', clientIds: ['sts.amazonaws.com'], account: OTHER },
    ],
  });

  it('lists attached and inline policies and returns inline documents URL-encoded', async () => {
    const iam = await iamFor(world());
    const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'eks-node' }));
    expect(attached.AttachedPolicies).toEqual([
      { PolicyName: 'AmazonEKSWorkerNodePolicy', PolicyArn: 'arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy' },
      { PolicyName: 'node-extra', PolicyArn: `arn:aws:iam::${ACCOUNT}:policy/team/node-extra` },
    ]);
    expect(attached.IsTruncated).toBe(false);
    const team = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'eks-node', PathPrefix: '/team/' }));
    expect(team.AttachedPolicies?.map((p) => p.PolicyName)).toEqual(['node-extra']);

    const inline = await iam.send(new ListRolePoliciesCommand({ RoleName: 'eks-node' }));
    expect(inline.PolicyNames).toEqual(['s3']);
    const doc = await iam.send(new GetRolePolicyCommand({ RoleName: 'eks-node', PolicyName: 's3' }));
    expect(doc.PolicyDocument).not.toContain('&');
    expect(decode(doc.PolicyDocument)).toEqual(world().iam.roles[0]!.inlinePolicies.s3);
    const missing = await rejection(iam.send(new GetRolePolicyCommand({ RoleName: 'eks-node', PolicyName: 'nope' })));
    expect(missing).toBeInstanceOf(NoSuchEntityException);
  });

  it('answers GetPolicy and GetPolicyVersion for AWS-managed policies with their real documents', async () => {
    const iam = await iamFor(world());
    const arn = 'arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy';
    const { Policy } = await iam.send(new GetPolicyCommand({ PolicyArn: arn }));
    expect(Policy).toMatchObject({ PolicyName: 'AmazonEKSWorkerNodePolicy', Path: '/', Arn: arn, DefaultVersionId: 'v3', AttachmentCount: 1, IsAttachable: true });
    const { PolicyVersion } = await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: Policy!.DefaultVersionId }));
    expect(PolicyVersion?.IsDefaultVersion).toBe(true);
    const doc = decode(PolicyVersion?.Document) as { Statement: { Action: string[] }[] };
    expect(doc.Statement[0]!.Action).toContain('eks-auth:AssumeRoleForPodIdentity');
    expect(doc.Statement[0]!.Action).toContain('ec2:DescribeInstances');

    const old = await rejection(iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v1' })));
    expect(old).toBeInstanceOf(NoSuchEntityException);
  });

  it('serves every known AWS-managed policy, the EBS CSI driver policy under /service-role/, and NoSuchEntity for others', async () => {
    const iam = await iamFor(world());
    for (const arn of awsManagedPolicyArns('aws')) {
      const { Policy } = await iam.send(new GetPolicyCommand({ PolicyArn: arn }));
      const { PolicyVersion } = await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: Policy!.DefaultVersionId }));
      expect(decode(PolicyVersion?.Document)).toMatchObject({ Version: '2012-10-17', Statement: expect.any(Array) });
    }
    const ebs = await iam.send(new GetPolicyCommand({ PolicyArn: 'arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy' }));
    expect(ebs.Policy?.Path).toBe('/service-role/');
    for (const arn of ['arn:aws:iam::aws:policy/AmazonEBSCSIDriverPolicy', 'arn:aws:iam::aws:policy/NoSuchPolicy']) {
      const err = await rejection(iam.send(new GetPolicyCommand({ PolicyArn: arn })));
      expect(err).toBeInstanceOf(NoSuchEntityException);
      expect(err.message).toBe(`Policy ${arn} does not exist or is not attachable.`);
    }
  });

  it('answers customer-managed policies of the caller account and AccessDenied (403) for other accounts', async () => {
    const iam = await iamFor(world());
    const arn = `arn:aws:iam::${ACCOUNT}:policy/team/node-extra`;
    const { Policy } = await iam.send(new GetPolicyCommand({ PolicyArn: arn }));
    expect(Policy).toMatchObject({ PolicyName: 'node-extra', Path: '/team/', DefaultVersionId: 'v1', AttachmentCount: 1 });
    const { PolicyVersion } = await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v1' }));
    expect(decode(PolicyVersion?.Document)).toEqual(nodeExtra);
    const err = await rejection(iam.send(new GetPolicyCommand({ PolicyArn: `arn:aws:iam::${OTHER}:policy/theirs` })));
    expect(err.name).toBe('AccessDenied');
    expect(err.$metadata.httpStatusCode).toBe(403);
  });

  it('lists role tags with pagination', async () => {
    const iam = await iamFor(world());
    const first = await iam.send(new ListRoleTagsCommand({ RoleName: 'eks-node', MaxItems: 2 }));
    expect(first.Tags).toEqual([{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }]);
    expect(first.IsTruncated).toBe(true);
    const rest = await iam.send(new ListRoleTagsCommand({ RoleName: 'eks-node', Marker: first.Marker }));
    expect(rest.Tags).toEqual([{ Key: 'c', Value: '3' }]);
  });

  it('lists and describes the caller account OIDC providers only', async () => {
    const iam = await iamFor(world());
    const arn = `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER.replace('https://', '')}`;
    const list = await iam.send(new ListOpenIDConnectProvidersCommand({}));
    expect(list.OpenIDConnectProviderList).toEqual([{ Arn: arn }]);
    const p = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
    expect(p).toMatchObject({ Url: ISSUER.replace('https://', ''), ClientIDList: ['sts.amazonaws.com'], CreateDate: new Date(clock.now()), Tags: [] });
    expect(p.ThumbprintList).toHaveLength(1);
    const missing = await rejection(iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: `${arn}X` })));
    expect(missing).toBeInstanceOf(NoSuchEntityException);
    const other = await rejection(iam.send(new GetOpenIDConnectProviderCommand({
      OpenIDConnectProviderArn: `arn:aws:iam::${OTHER}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/OTHER`,
    })));
    expect(other.name).toBe('AccessDenied');
  });

  it('creates and deletes OIDC providers as IAM does: Url, client IDs, thumbprints and tags kept; one per URL; delete idempotent', async () => {
    const iam = await iamFor(world());
    const url = 'https://oidc.eks.us-west-2.amazonaws.com/id/NEWCLUSTER00000000000000000001';
    const arn = `arn:aws:iam::${ACCOUNT}:oidc-provider/${url.slice('https://'.length)}`;
    const created = await iam.send(new CreateOpenIDConnectProviderCommand({
      Url: url, ClientIDList: ['sts.amazonaws.com', 'other-aud'], ThumbprintList: ['0123456789abcdef0123456789abcdef01234567'],
      Tags: [{ Key: 'team', Value: 'platform' }, { Key: 'env', Value: 'prod' }],
    }));
    expect(created.OpenIDConnectProviderArn).toBe(arn);
    expect(created.Tags).toEqual([{ Key: 'team', Value: 'platform' }, { Key: 'env', Value: 'prod' }]);
    const got = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
    expect(got).toMatchObject({
      Url: url.slice('https://'.length), ClientIDList: ['sts.amazonaws.com', 'other-aud'], ThumbprintList: ['0123456789abcdef0123456789abcdef01234567'],
      // Sorted by key, as IAM returns them.
      Tags: [{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'platform' }], CreateDate: new Date(clock.now()),
    });
    expect((await iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList?.map((p) => p.Arn)).toContain(arn);

    const again = await rejection(iam.send(new CreateOpenIDConnectProviderCommand({ Url: url, ClientIDList: ['sts.amazonaws.com'] })));
    expect(again).toBeInstanceOf(EntityAlreadyExistsException);
    expect(again.$metadata.httpStatusCode).toBe(409);
    for (const bad of [{ Url: 'http://insecure.example.com' }, { Url: 'https://x.example.com/?q=1' }, { Url: 'https://y.example.com', ThumbprintList: ['abc'] }]) {
      expect(await rejection(iam.send(new CreateOpenIDConnectProviderCommand(bad)))).toBeInstanceOf(InvalidInputException);
    }
    // No thumbprint given: IAM reads the issuer's; for an EKS issuer that is the EKS one.
    await iam.send(new CreateOpenIDConnectProviderCommand({ Url: 'https://oidc.eks.eu-west-1.amazonaws.com/id/BARE', ClientIDList: [] }));
    const bare = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/BARE` }));
    expect(bare).toMatchObject({ ClientIDList: [], ThumbprintList: ['9e99a48a9960b14926bb7f3b02e22da2b0ab7280'], Tags: [] });

    await iam.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
    expect(await rejection(iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn })))).toBeInstanceOf(NoSuchEntityException);
    // Idempotent (IAM API Reference, DeleteOpenIDConnectProvider).
    await iam.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
    const other = await rejection(iam.send(new DeleteOpenIDConnectProviderCommand({
      OpenIDConnectProviderArn: `arn:aws:iam::${OTHER}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/OTHER`,
    })));
    expect(other.name).toBe('AccessDenied');
    expect(await rejection(iam.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: 'not-an-arn' })))).toBeInstanceOf(InvalidInputException);
  });

  it('rewrites AWS-managed policy ARNs and documents for the world partition', async () => {
    const iam = await iamFor(makeWorld({ roles: [] }, { partition: 'aws-us-gov', region: 'us-gov-west-1' }));
    const arn = 'arn:aws-us-gov:iam::aws:policy/AmazonEKS_CNI_Policy';
    const { PolicyVersion } = await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v5' }));
    expect(JSON.stringify(decode(PolicyVersion?.Document))).toContain('arn:aws-us-gov:ec2:*:*:network-interface/*');
    const wrong = await rejection(iam.send(new GetPolicyCommand({ PolicyArn: 'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy' })));
    expect(wrong).toBeInstanceOf(NoSuchEntityException);
  });
});

describe('IAM module wire format (route/run without the server)', () => {
  const state = () => new SandboxState(makeWorld({ roles: [role('cart')] }), clock, () => {
    throw new Error('no clusters in this world');
  });
  const request = (params: Record<string, string>, via: 'body' | 'query' = 'body'): AwsRequest => {
    const form = new URLSearchParams({ Version: '2010-05-08', ...params });
    return {
      service: 'iam', region: 'us-east-1', accessKeyId: 'AKIDSANDBOX', method: via === 'body' ? 'POST' : 'GET', path: '/',
      query: via === 'query' ? form : new URLSearchParams(), headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.from(via === 'body' ? form.toString() : ''),
    };
  };

  it('routes by Action without changing state, and marks writes as mutating', () => {
    const s = state();
    const iam = createIamService(s);
    const before = structuredClone(s.findRole('cart')!.assumeRolePolicyDocument);
    const routed = iam.route(request({ Action: 'UpdateAssumeRolePolicy', RoleName: 'cart', PolicyDocument: '{"Version":"2012-10-17","Statement":[]}' }));
    expect(routed).toMatchObject({ operation: 'UpdateAssumeRolePolicy', mutating: true });
    expect(s.findRole('cart')!.assumeRolePolicyDocument).toEqual(before);
    expect(iam.route(request({ Action: 'GetRole', RoleName: 'cart' })).mutating).toBe(false);
  });

  it('rejects unknown actions and versions with InvalidAction (400)', () => {
    const iam = createIamService(state());
    expect(() => iam.route(request({ Action: 'DeleteEverything' }))).toThrow(AwsServiceError);
    try {
      iam.route(request({ Action: 'GetRole', Version: '2009-01-01' }));
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'InvalidAction', status: 400 });
    }
  });

  it('reads parameters from a GET query string too', async () => {
    const reply = await createIamService(state()).route(request({ Action: 'GetRole', RoleName: 'cart' }, 'query')).run();
    expect(reply.status).toBe(200);
    expect(String(reply.body)).toMatch(/^<GetRoleResponse xmlns="https:\/\/iam\.amazonaws\.com\/doc\/2010-05-08\/"><GetRoleResult><Role>/);
    expect(String(reply.body)).toContain('<ResponseMetadata><RequestId>');
    expect(reply.headers['x-amzn-requestid']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers a missing required parameter with ValidationError', async () => {
    const reply = await createIamService(state()).route(request({ Action: 'GetRole' })).run();
    expect(reply.status).toBe(400);
    expect(String(reply.body)).toContain('<Code>ValidationError</Code>');
    expect(String(reply.body)).toContain(`Value null at 'roleName'`);
  });

  it('renders errors as ErrorResponse XML with Type, Code, escaped Message and RequestId', () => {
    const iam = createIamService(state());
    const sender = iam.renderError(new AwsServiceError('Throttling', 'Rate <exceeded> & "so on"', 400));
    expect(sender.status).toBe(400);
    expect(String(sender.body)).toMatch(
      /^<ErrorResponse xmlns="https:\/\/iam\.amazonaws\.com\/doc\/2010-05-08\/"><Error><Type>Sender<\/Type><Code>Throttling<\/Code><Message>Rate &lt;exceeded&gt; &amp; &quot;so on&quot;<\/Message><\/Error><RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>/,
    );
    const receiver = iam.renderError(new AwsServiceError('ServiceFailure', 'boom', 500));
    expect(receiver.status).toBe(500);
    expect(String(receiver.body)).toContain('<Type>Receiver</Type><Code>ServiceFailure</Code>');
  });

  it('validateTrustPolicy returns the decoded document and checks the Version value', () => {
    const doc = { Version: '2012-10-17', Statement: [] };
    expect(validateTrustPolicy(JSON.stringify(doc), 2048)).toEqual(doc);
    expect(() => validateTrustPolicy('{"Version":"2020-01-01","Statement":[]}', 2048)).toThrow('The policy failed legacy parsing');
    expect(() => validateTrustPolicy('[1,2]', 2048)).toThrow(expect.objectContaining({ code: 'MalformedPolicyDocument' }));
  });
});
