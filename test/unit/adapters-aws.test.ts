/** The AWS adapter's mapping of SDK answers and errors (aws-sdk-client-mock; the wire is covered by test/sandbox). */
import { DescribeClusterCommand, EKSClient, ListAddonsCommand } from '@aws-sdk/client-eks';
import { GetAccountAuthorizationDetailsCommand, GetPolicyCommand, GetPolicyVersionCommand, GetRoleCommand, IAMClient, ListAttachedRolePoliciesCommand, ListRolesCommand, NoSuchEntityException } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clientConfig, createAwsPorts, decodePolicyDocument } from '../../src/adapters/aws.js';
import { mapAwsError } from '../../src/adapters/aws-errors.js';
import { ExitCode, exitCodeOf, PodidError, UsageError } from '../../src/core/errors.js';

let iamMock: AwsClientStub<IAMClient>;
let eksMock: AwsClientStub<EKSClient>;
let stsMock: AwsClientStub<STSClient>;
// Mocked here, not at import: test/setup/no-leaks.ts records the clients as they were before the file.
beforeAll(() => {
  iamMock = mockClient(IAMClient);
  eksMock = mockClient(EKSClient);
  stsMock = mockClient(STSClient);
});
afterEach(() => {
  iamMock.reset();
  eksMock.reset();
  stsMock.reset();
});
// The mocks patch the SDK clients' prototypes; a test worker runs other files after this one.
afterAll(() => {
  iamMock.restore();
  eksMock.restore();
  stsMock.restore();
});

const sdkError = (name: string, message: string, extra: object = {}) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 }, ...extra });
const ports = () => createAwsPorts({ region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' }, maxAttempts: 1 });
const ROLE = 'arn:aws:iam::111122223333:role/team/app';

describe('IAM port', () => {
  it('decodes the URL-encoded trust policy of a found role', async () => {
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }] };
    iamMock.on(GetRoleCommand, { RoleName: 'app' }).resolves({ Role: { Arn: ROLE, RoleName: 'app', Path: '/team/', RoleId: 'id', CreateDate: new Date(), AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(trust)) } });
    expect(await (await ports()).iam.getRole(ROLE)).toEqual({ arn: ROLE, state: 'found', trustPolicy: trust, error: null, permissionsBoundary: null });
  });

  it('NoSuchEntity -> missing; AccessDenied -> unreadable; another path -> missing', async () => {
    const p = await ports();
    iamMock
      .on(GetRoleCommand)
      .rejectsOnce(new NoSuchEntityException({ message: 'The role with name app cannot be found.', $metadata: {} }))
      .rejectsOnce(sdkError('AccessDenied', 'User: x is not authorized to perform: iam:GetRole'))
      .resolvesOnce({ Role: { Arn: 'arn:aws:iam::111122223333:role/app', RoleName: 'app', Path: '/', RoleId: 'id', CreateDate: new Date(), AssumeRolePolicyDocument: '%7B%7D' } });
    expect(await p.iam.getRole(ROLE)).toMatchObject({ state: 'missing', trustPolicy: null });
    const denied = await p.iam.getRole(ROLE);
    expect(denied.state).toBe('unreadable');
    expect(denied.error).toContain('iam:GetRole');
    expect(await p.iam.getRole(ROLE)).toMatchObject({ state: 'missing', error: expect.stringContaining('different path') });
  });

  it('ListRoles: every page at 1,000 a page, each role judged as GetRole judges it', async () => {
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
    const role = (name: string, doc: string | undefined) => ({ Arn: `arn:aws:iam::111122223333:role/${name}`, RoleName: name, Path: '/', RoleId: name, CreateDate: new Date(), AssumeRolePolicyDocument: doc });
    const pages = [
      { Roles: [role('a', encodeURIComponent(JSON.stringify(trust))), role('bad', '%7Bnot')], IsTruncated: true, Marker: 'm1' },
      { Roles: [role('none', undefined)], IsTruncated: false },
    ];
    // Each request as it was sent (the SDK's paginator reuses one input object from page to page).
    const sent: object[] = [];
    iamMock.on(ListRolesCommand).callsFake((input: object) => {
      sent.push({ ...input });
      return pages[sent.length - 1];
    });
    expect(await (await ports()).iam.listRoles('aws')).toEqual([
      { arn: 'arn:aws:iam::111122223333:role/a', state: 'found', trustPolicy: trust, error: null },
      { arn: 'arn:aws:iam::111122223333:role/bad', state: 'found', trustPolicy: null, error: expect.stringContaining('trust policy is not valid JSON') },
      { arn: 'arn:aws:iam::111122223333:role/none', state: 'found', trustPolicy: null, error: 'ListRoles returned no trust policy' },
    ]);
    expect(sent).toEqual([{ MaxItems: 1000 }, { Marker: 'm1', MaxItems: 1000 }]);
  });

  it('GetAccountAuthorizationDetails: roles only, every page at 1,000 a page, each with its permissions boundary', async () => {
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
    const doc = encodeURIComponent(JSON.stringify(trust));
    const role = (name: string, boundary?: string) => ({
      Arn: `arn:aws:iam::111122223333:role/${name}`, RoleName: name, Path: '/', AssumeRolePolicyDocument: doc,
      ...(boundary ? { PermissionsBoundary: { PermissionsBoundaryType: 'PermissionsBoundaryPolicy' as const, PermissionsBoundaryArn: boundary } } : {}),
    });
    iamMock
      .on(GetAccountAuthorizationDetailsCommand)
      .resolvesOnce({ RoleDetailList: [role('a', 'arn:aws:iam::111122223333:policy/b')], IsTruncated: true, Marker: 'm1' })
      .resolvesOnce({ RoleDetailList: [role('c')], IsTruncated: false });
    expect(await (await ports()).iam.listRoleDetails('aws')).toEqual([
      { arn: 'arn:aws:iam::111122223333:role/a', state: 'found', trustPolicy: trust, error: null, permissionsBoundary: 'arn:aws:iam::111122223333:policy/b' },
      { arn: 'arn:aws:iam::111122223333:role/c', state: 'found', trustPolicy: trust, error: null, permissionsBoundary: null },
    ]);
    const inputs = iamMock.commandCalls(GetAccountAuthorizationDetailsCommand).map((c) => c.args[0].input);
    // (The SDK paginator updates one input object between pages: the last Marker is what was sent second.)
    expect(inputs.map((i) => [i.Filter, i.MaxItems])).toEqual([[['Role'], 1000], [['Role'], 1000]]);
    expect(inputs[1]?.Marker).toBe('m1');
  });

  it('GetAccountAuthorizationDetails denied is an AccessDenied PodidError naming the action', async () => {
    iamMock.on(GetAccountAuthorizationDetailsCommand).rejects(sdkError('AccessDenied', 'User: x is not authorized to perform: iam:GetAccountAuthorizationDetails'));
    const err = await (await ports()).iam.listRoleDetails('aws').catch((e: unknown) => e);
    expect((err as PodidError).code).toBe('AWS_ACCESS_DENIED');
    expect((err as PodidError).message).toContain('iam:GetAccountAuthorizationDetails');
  });

  it('ListRoles denied is a READ_DENIED PodidError (the collector then reads role by role)', async () => {
    iamMock.on(ListRolesCommand).rejects(sdkError('AccessDenied', 'User: x is not authorized to perform: iam:ListRoles'));
    const err = await (await ports()).iam.listRoles('aws').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PodidError);
    expect((err as PodidError).code).toBe('AWS_ACCESS_DENIED');
  });

  it('reads a managed policy through its default version', async () => {
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'eks-auth:AssumeRoleForPodIdentity', Resource: '*' }] };
    iamMock.on(GetPolicyCommand).resolves({ Policy: { DefaultVersionId: 'v3' } });
    iamMock.on(GetPolicyVersionCommand, { VersionId: 'v3' }).resolves({ PolicyVersion: { Document: encodeURIComponent(JSON.stringify(policy)) } });
    expect(await (await ports()).iam.getPolicyDocument('arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy')).toEqual(policy);
  });

  it('walks every page of attached policies', async () => {
    iamMock
      .on(ListAttachedRolePoliciesCommand)
      .resolvesOnce({ AttachedPolicies: [{ PolicyArn: 'p1', PolicyName: 'one' }], IsTruncated: true, Marker: 'm' })
      .resolvesOnce({ AttachedPolicies: [{ PolicyArn: 'p2', PolicyName: 'two' }], IsTruncated: false });
    expect(await (await ports()).iam.listAttachedRolePolicies(ROLE)).toEqual([{ arn: 'p1', name: 'one' }, { arn: 'p2', name: 'two' }]);
    expect(iamMock.commandCalls(ListAttachedRolePoliciesCommand)[1]?.args[0].input).toMatchObject({ RoleName: 'app', Marker: 'm' });
  });

  it('a denied read other than GetRole is a PodidError naming the action', async () => {
    iamMock.on(ListAttachedRolePoliciesCommand).rejects(sdkError('AccessDenied', 'not authorized'));
    const err = await (await ports()).iam.listAttachedRolePolicies(ROLE).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PodidError);
    expect((err as PodidError).code).toBe('AWS_ACCESS_DENIED');
    expect((err as PodidError).hint).toContain('iam:ListAttachedRolePolicies');
  });
});

describe('EKS and STS ports', () => {
  it('maps DescribeCluster, including Auto Mode and the OIDC issuer', async () => {
    eksMock.on(DescribeClusterCommand, { name: 'prod' }).resolves({
      cluster: { name: 'prod', arn: 'arn:aws:eks:us-east-1:111122223333:cluster/prod', version: '1.31', platformVersion: 'eks.4', status: 'ACTIVE', endpoint: 'https://x.eks.amazonaws.com', identity: { oidc: { issuer: 'https://oidc' } }, computeConfig: { enabled: true } },
    });
    expect(await (await ports()).eks('us-east-1').describeCluster('prod')).toEqual({
      name: 'prod', arn: 'arn:aws:eks:us-east-1:111122223333:cluster/prod', version: '1.31', platformVersion: 'eks.4', status: 'ACTIVE', endpoint: 'https://x.eks.amazonaws.com', oidcIssuer: 'https://oidc', autoMode: true,
    });
  });

  it('follows nextToken', async () => {
    eksMock.on(ListAddonsCommand).resolvesOnce({ addons: ['a'], nextToken: 't' }).resolvesOnce({ addons: ['b'] });
    expect(await (await ports()).eks('us-east-1').listAddons('prod')).toEqual(['a', 'b']);
  });

  it('EKS AccessDeniedException names the call', async () => {
    eksMock.on(DescribeClusterCommand).rejects(sdkError('AccessDeniedException', 'User: arn:aws:iam::1:user/ci is not authorized to perform: eks:DescribeCluster'));
    const err = await (await ports()).eks('us-east-1').describeCluster('prod').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AWS_ACCESS_DENIED', message: expect.stringContaining('eks:DescribeCluster') });
  });

  it('expired credentials on STS are an environment failure (exit 6) with the credentials hint', async () => {
    stsMock.on(GetCallerIdentityCommand).rejects(sdkError('ExpiredToken', 'The security token included in the request is expired'));
    const err = await (await ports()).sts.getCallerIdentity().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PodidError);
    expect(err).not.toBeInstanceOf(UsageError);
    expect((err as PodidError).code).toBe('AWS_CREDENTIALS_INVALID');
    expect(exitCodeOf(err)).toBe(ExitCode.environment);
    expect((err as PodidError).hint).toContain('--profile');
  });
});

describe('mapAwsError', () => {
  it('missing credentials -> UsageError', () => {
    const err = mapAwsError(sdkError('CredentialsProviderError', 'Could not load credentials from any providers'), 'sts:GetCallerIdentity', 'https://sts');
    expect(err).toBeInstanceOf(UsageError);
    expect(err.code).toBe('AWS_NO_CREDENTIALS');
    expect(err.hint).toMatch(/AWS_PROFILE/);
  });

  it('network failure names the endpoint the request went to', () => {
    const e = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED', $podidEndpoint: 'http://127.0.0.1:9' });
    const err = mapAwsError(e, 'eks:ListClusters', 'https://eks.us-east-1.amazonaws.com');
    expect(err.code).toBe('AWS_UNREACHABLE');
    expect(err.message).toBe('cannot reach http://127.0.0.1:9 for eks:ListClusters: ECONNREFUSED');
  });

  it('other service errors keep name, status and the first line of the message', () => {
    const err = mapAwsError(sdkError('ServerException', 'boom\nstack'), 'eks:DescribeAddon', 'x');
    expect(err.message).toBe('eks:DescribeAddon failed (HTTP 400): ServerException: boom');
  });
});

describe('client configuration', () => {
  it('retries with standard backoff, times out requests, and leaves endpoints to AWS_ENDPOINT_URL* unless given', () => {
    const c = clientConfig({}, 'eu-west-1');
    expect(c).toMatchObject({ region: 'eu-west-1', maxAttempts: 6, retryMode: 'standard', requestHandler: { requestTimeout: 30_000, connectionTimeout: 5_000, throwOnRequestTimeout: true } });
    expect('endpoint' in c).toBe(false);
    expect(clientConfig({ endpoint: 'http://x', profile: 'p' }, 'r')).toMatchObject({ endpoint: 'http://x', profile: 'p' });
  });

  it('decodes plain and URL-encoded policy documents', () => {
    expect(decodePolicyDocument('{"a":1}')).toEqual({ a: 1 });
    expect(decodePolicyDocument('%7B%22a%22%3A%22b%20c%22%7D')).toEqual({ a: 'b c' });
  });
});
