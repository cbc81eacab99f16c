import { GetCallerIdentityCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { afterEach, describe, expect, it } from 'vitest';
import { AwsServiceError, type AwsRequest } from '../../src/sandbox/aws/common.js';
import { callerIdentity, createStsService } from '../../src/sandbox/aws/sts.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { SandboxState } from '../../src/sandbox/state.js';
import type { World } from '../../src/sandbox/world-types.js';

const ACCOUNT = '111122223333';
const clock = { now: () => Date.UTC(2025, 0, 15, 12, 0, 0) };

/** A complete, validated-shape World with nothing in it but the account and caller. */
function makeWorld(over: Partial<World> = {}): World {
  return {
    account: ACCOUNT, region: 'us-east-1', partition: 'aws', latencyMs: 0, rolloutDelayMs: 0, associationPropagationMs: 0,
    clusters: [], caller: null, faults: [],
    iam: { trustPolicyLimit: 2048, roles: [], policies: [], openIdConnectProviders: [] },
    ...over,
  };
}

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function stsFor(world: World): Promise<STSClient> {
  sandbox = await startSandbox({ world, clock });
  return new STSClient({
    region: 'us-east-1', endpoint: sandbox.endpoint, maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDSANDBOX', secretAccessKey: 'sandbox' },
  });
}

describe('STS GetCallerIdentity through STSClient', () => {
  it('answers the world account and a sandbox user when the world names no caller', async () => {
    const sts = await stsFor(makeWorld());
    const id = await sts.send(new GetCallerIdentityCommand({}));
    expect(id.Account).toBe(ACCOUNT);
    expect(id.Arn).toBe(`arn:aws:iam::${ACCOUNT}:user/sandbox`);
    expect(id.UserId).toMatch(/^AIDA[A-Z2-7]{17}$/);
    expect(sandbox!.state.calls).toEqual([{ service: 'sts', operation: 'GetCallerIdentity', mutating: false, status: 200 }]);
  });

  it("answers the world's caller ARN; an assumed role's UserId is the role id and session name", async () => {
    const arn = `arn:aws:sts::${ACCOUNT}:assumed-role/ci-deployer/gha-1234`;
    const sts = await stsFor(makeWorld({ caller: { arn, allow: ['sts:GetCallerIdentity'] } }));
    const id = await sts.send(new GetCallerIdentityCommand({}));
    expect(id).toMatchObject({ Account: ACCOUNT, Arn: arn });
    expect(id.UserId).toMatch(/^AROA[A-Z2-7]{17}:gha-1234$/);
  });

  it('uses the world partition for the default identity', async () => {
    const sts = await stsFor(makeWorld({ partition: 'aws-us-gov', region: 'us-gov-west-1' }));
    const id = await sts.send(new GetCallerIdentityCommand({}));
    expect(id.Arn).toBe(`arn:aws-us-gov:iam::${ACCOUNT}:user/sandbox`);
  });

  it('is refused with AccessDenied (403) when the caller allow list does not include it', async () => {
    const sts = await stsFor(makeWorld({ caller: { arn: `arn:aws:iam::${ACCOUNT}:user/ci`, allow: ['eks:Describe*'] } }));
    const err = await sts.send(new GetCallerIdentityCommand({})).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(STSServiceException);
    expect((err as STSServiceException).name).toBe('AccessDenied');
    expect((err as STSServiceException).$metadata.httpStatusCode).toBe(403);
  });
});

describe('STS module wire format (route/run without the server)', () => {
  const state = (world = makeWorld()) => new SandboxState(world, clock, () => {
    throw new Error('no clusters in this world');
  });
  const request = (params: Record<string, string>): AwsRequest => ({
    service: 'sts', region: 'us-east-1', accessKeyId: 'AKIDSANDBOX', method: 'POST', path: '/',
    query: new URLSearchParams(), headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: Buffer.from(new URLSearchParams(params).toString()),
  });

  it('renders GetCallerIdentityResponse XML in the STS namespace', async () => {
    const reply = await createStsService(state()).route(request({ Action: 'GetCallerIdentity', Version: '2011-06-15' })).run();
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('text/xml');
    expect(String(reply.body)).toMatch(
      /^<GetCallerIdentityResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><GetCallerIdentityResult><UserId>AIDA\w+<\/UserId><Account>111122223333<\/Account><Arn>arn:aws:iam::111122223333:user\/sandbox<\/Arn><\/GetCallerIdentityResult><ResponseMetadata><RequestId>/,
    );
  });

  it('rejects other actions and versions with InvalidAction and renders STS errors', () => {
    const sts = createStsService(state());
    for (const params of [{ Action: 'AssumeRoleWithSAML', Version: '2011-06-15' }, { Action: 'GetCallerIdentity', Version: '2010-05-08' }]) {
      expect(() => sts.route(request(params))).toThrow(expect.objectContaining({ code: 'InvalidAction', status: 400 }));
    }
    const reply = sts.renderError(new AwsServiceError('InternalFailure', 'boom', 500));
    expect(reply.status).toBe(500);
    expect(String(reply.body)).toContain('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Receiver</Type><Code>InternalFailure</Code>');
  });

  it('callerIdentity gives the root user the account id as UserId', () => {
    const id = callerIdentity(state(makeWorld({ caller: { arn: `arn:aws:iam::${ACCOUNT}:root`, allow: ['*'] } })));
    expect(id).toEqual({ account: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root`, userId: ACCOUNT });
  });
});
