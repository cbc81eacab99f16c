/** Apply's AWS ports (adapters/aws-write.ts): pages walked, answers mapped, failures classified for the executor's retry. */
import { DescribePodIdentityAssociationCommand, EKSClient, ListPodIdentityAssociationsCommand } from '@aws-sdk/client-eks';
import { GetRoleCommand, IAMClient, NoSuchEntityException, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createAwsApplyPorts } from '../../src/adapters/aws-write.js';
import { ApplyCallError } from '../../src/core/apply/ports.js';

const iamMock = mockClient(IAMClient);
const eksMock = mockClient(EKSClient);
afterEach(() => {
  iamMock.reset();
  eksMock.reset();
});
// The mocks patch the SDK clients' prototypes; files that run after this one in the same worker
// (isolate: false) talk to real sandboxes through the same classes.
afterAll(() => {
  iamMock.restore();
  eksMock.restore();
});

const ports = () => createAwsApplyPorts({ region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' } });
const ROLE = 'arn:aws:iam::111122223333:role/app';
const sdkError = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

describe('EKS apply port', () => {
  it('findAssociations walks every page, 100 a page, filtered to the ServiceAccount, and describes each association', async () => {
    const pages = [
      { associations: [{ associationId: 'a-1' }, { associationId: 'a-2' }], nextToken: 't1' },
      { associations: [{ associationId: 'a-3' }] },
    ];
    const sent: object[] = [];
    eksMock.on(ListPodIdentityAssociationsCommand).callsFake((input: object) => {
      sent.push({ ...input });
      return pages[sent.length - 1];
    });
    eksMock.on(DescribePodIdentityAssociationCommand).callsFake((input: { associationId: string }) => ({
      association: { associationId: input.associationId, associationArn: `arn:aws:eks:us-east-1:111122223333:podidentityassociation/prod/${input.associationId}`, namespace: 'shop', serviceAccount: 'cart', roleArn: ROLE },
    }));
    const found = await (await ports()).eks('us-east-1').findAssociations('prod', 'shop', 'cart');
    expect(found.map((a) => a.associationId)).toEqual(['a-1', 'a-2', 'a-3']);
    expect(found[0]).toMatchObject({ namespace: 'shop', serviceAccount: 'cart', roleArn: ROLE, targetRoleArn: null, ownerArn: null });
    expect(sent).toEqual([
      { clusterName: 'prod', namespace: 'shop', serviceAccount: 'cart', maxResults: 100 },
      { clusterName: 'prod', namespace: 'shop', serviceAccount: 'cart', maxResults: 100, nextToken: 't1' },
    ]);
  });

  it('listAssociationIds walks every page of the cluster', async () => {
    eksMock
      .on(ListPodIdentityAssociationsCommand)
      .resolvesOnce({ associations: [{ associationId: 'a-1' }], nextToken: 't1' })
      .resolvesOnce({ associations: [{ associationId: 'a-2' }, {}] });
    expect(await (await ports()).eks('us-east-1').listAssociationIds('prod')).toEqual(['a-1', 'a-2']);
  });

  it('a throttled page fails as an ApplyCallError of kind throttled, naming the call (the executor retries it)', async () => {
    eksMock.on(ListPodIdentityAssociationsCommand).rejects(sdkError('ThrottlingException', 429));
    const err = await (await ports()).eks('us-east-1').listAssociationIds('prod').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplyCallError);
    expect(err).toMatchObject({ kind: 'throttled', code: 'AWS_THROTTLED', message: expect.stringContaining('eks:ListPodIdentityAssociations') });
  });
});

describe('IAM apply port', () => {
  it('GetRole of a role that does not exist is null; a 5xx is an ApplyCallError of kind server', async () => {
    iamMock.on(GetRoleCommand).rejectsOnce(new NoSuchEntityException({ message: 'no role', $metadata: {} })).rejectsOnce(sdkError('ServiceUnavailable', 503));
    const p = await ports();
    expect(await p.iam.getRole(ROLE)).toBeNull();
    expect(await p.iam.getRole(ROLE).catch((e: unknown) => e)).toMatchObject({ kind: 'server', message: expect.stringContaining('iam:GetRole') });
  });

  it('UpdateAssumeRolePolicy sends the document as compact JSON to the role by name', async () => {
    iamMock.on(UpdateAssumeRolePolicyCommand).resolves({});
    await (await ports()).iam.updateAssumeRolePolicy(ROLE, { Version: '2012-10-17', Statement: [] });
    expect(iamMock.commandCalls(UpdateAssumeRolePolicyCommand)[0]?.args[0].input).toEqual({ RoleName: 'app', PolicyDocument: '{"Version":"2012-10-17","Statement":[]}' });
  });
});
