/**
 * EKS, IAM and STS ports over the AWS SDK v3. The SDK packages load lazily (createAwsPorts is
 * async) so `podid --help` never pays for them.
 *
 * Endpoints: when `endpoint` is not passed, the SDK itself honours AWS_ENDPOINT_URL and the
 * per-service AWS_ENDPOINT_URL_EKS / _IAM / _STS (and `endpoint_url` in the shared config file);
 * checked in @smithy/core's getEndpointFromConfig for the installed version.
 * Credentials: the standard chain, with `profile` standing in for AWS_PROFILE.
 * Resilience: throttling and 5xx are retried by the SDK's standard retry strategy (exponential
 * backoff with jitter) up to `maxAttempts`; every request has a connection and a response
 * timeout, so a hung endpoint fails the scan instead of hanging it.
 */
import type { EKSClient } from '@aws-sdk/client-eks';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { STSClient } from '@aws-sdk/client-sts';
import { parseRoleArn } from '../core/arn.js';
import { PodidError, UsageError } from '../core/errors.js';
import { isJsonObject } from '../core/json.js';
import type { RoleSnapshot } from '../core/scan/snapshot.js';
import { allItems, callMapped } from './aws-call.js';
import { ENDPOINT_PROPERTY, isAccessDenied, isNotFound, mapAwsError } from './aws-errors.js';
import { createEksPort } from './aws-eks.js';
import type { ProxyFor } from './proxy-env.js';
import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import type { AttachedPolicy, EksPort, IamPort, StsPort } from '../core/ports.js';

export interface AwsOptions {
  /** --profile, or AWS_PROFILE (then `profileFrom` says so); otherwise the default profile. */
  profile?: string;
  /** Where `profile` came from, for messages (default --profile). */
  profileFrom?: '--profile' | 'AWS_PROFILE';
  /** STS's region and IAM's fallback: --region, else the first cluster's, else AWS_REGION (the CLI decides). */
  region?: string;
  /** An explicit endpoint for every service (tests); otherwise AWS_ENDPOINT_URL* apply. */
  endpoint?: string;
  /** Explicit credentials (tests); otherwise the standard chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Attempts per call, first one included (default 6). */
  maxAttempts?: number;
  /** Time allowed for a response once connected (default 30 s). */
  requestTimeoutMs?: number;
  /** Time allowed to connect (default 5 s). */
  connectionTimeoutMs?: number;
  /** HTTPS_PROXY / HTTP_PROXY / NO_PROXY of the run (proxy-env.ts); absent or null: no proxy. */
  proxy?: ProxyFor | null;
}

/** The HTTP agents of every client of a run: set only when the environment names a proxy. */
export type AwsAgents = { httpAgent: HttpAgent; httpsAgent: HttpsAgent } | undefined;

/** The agents `opts.proxy` calls for (built once per run, shared by its clients). */
export async function awsAgents(opts: AwsOptions): Promise<AwsAgents> {
  if (!opts.proxy) return undefined;
  const { proxyAgents } = await import('./proxy-env.js');
  return proxyAgents(opts.proxy);
}

export interface AwsPorts {
  sts: StsPort;
  iam: IamPort;
  eks(region: string): EksPort;
}

/** IAM is global per partition; its endpoint lives in one region of each. */
export const IAM_REGION: Readonly<Record<string, string>> = {
  aws: 'us-east-1',
  'aws-cn': 'cn-north-1',
  'aws-us-gov': 'us-gov-west-1',
  'aws-iso': 'us-iso-east-1',
  'aws-iso-b': 'us-isob-east-1',
};

export const DEFAULT_MAX_ATTEMPTS = 6;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_CONNECTION_TIMEOUT_MS = 5_000;

const ignore = (): void => undefined;
/** A logger that drops everything, as the SDK's own NoOpLogger does (see clientConfig). */
const QUIET_LOGGER = { trace: ignore, debug: ignore, info: ignore, warn: ignore, error: ignore };

/** Client settings shared by the three services. */
export function clientConfig(opts: AwsOptions, region: string, agents?: AwsAgents) {
  return {
    region,
    maxAttempts: opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    retryMode: 'standard',
    // Resolve each command's middleware stack once per client, not on every send (the public
    // `cacheMiddleware` option of @smithy/core's client config): a fleet scan sends thousands of
    // the same few commands (measured: about a fifth of the SDK's CPU per call). Safe because
    // podid adds its only middleware (trackEndpoint) at construction, before the first send.
    cacheMiddleware: true,
    // Accepted by the SDK as NodeHttpHandler options, so @smithy/node-http-handler need not be
    // imported. Without throwOnRequestTimeout the installed handler only logs a warning when
    // requestTimeout passes and keeps waiting; with it, the request fails (TimeoutError) and the
    // retry strategy treats that as transient.
    requestHandler: {
      requestTimeout: opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      connectionTimeout: opts.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
      throwOnRequestTimeout: true,
      // HTTPS_PROXY / NO_PROXY: agents that tunnel through the proxy where it applies.
      ...(agents ?? {}),
    },
    // With a profile, the SDK's default chain skips static keys in the environment (the AWS CLI's
    // rule: --profile wins) but warns about the two sources on the console unless the client has a
    // logger of its own; the SDK's default logger drops everything, so this one does too.
    ...(opts.profile !== undefined ? { profile: opts.profile, logger: QUIET_LOGGER } : {}),
    ...(opts.endpoint !== undefined ? { endpoint: opts.endpoint } : {}),
    ...(opts.credentials !== undefined ? { credentials: opts.credentials } : {}),
  };
}

interface StackClient {
  middlewareStack: { add(mw: unknown, opts: { step: 'finalizeRequest'; name: string; priority?: 'low' }): void };
}

/**
 * Records on a failed request's error where it was sent, so "cannot reach" names the real URL
 * (AWS_ENDPOINT_URL, a VPC endpoint, ...) rather than a guess.
 */
export function trackEndpoint(client: StackClient): void {
  client.middlewareStack.add(
    (next: (args: { request?: unknown }) => Promise<unknown>) => async (args: { request?: unknown }) => {
      try {
        return await next(args);
      } catch (err) {
        const req = args.request as { protocol?: string; hostname?: string; port?: number } | undefined;
        if (typeof err === 'object' && err !== null && req?.hostname && !(ENDPOINT_PROPERTY in err)) {
          const url = `${req.protocol ?? 'https:'}//${req.hostname}${req.port ? `:${req.port}` : ''}`;
          Object.defineProperty(err, ENDPOINT_PROPERTY, { value: url, enumerable: false, configurable: true });
        }
        throw err;
      }
    },
    { step: 'finalizeRequest', name: 'podidTrackEndpoint', priority: 'low' },
  );
}

export async function createAwsPorts(opts: AwsOptions = {}): Promise<AwsPorts> {
  const [eksSdk, iamSdk, stsSdk, agents] = await Promise.all([import('@aws-sdk/client-eks'), import('@aws-sdk/client-iam'), import('@aws-sdk/client-sts'), awsAgents(opts)]);
  const defaultRegion = opts.region;

  const eksClients = new Map<string, EksPort>();
  const iamClients = new Map<string, IAMClient>();
  let stsClient: STSClient | undefined;

  const iamFor = (partition: string): IAMClient => {
    let client = iamClients.get(partition);
    if (!client) {
      client = new iamSdk.IAMClient(clientConfig(opts, IAM_REGION[partition] ?? defaultRegion ?? 'us-east-1', agents));
      trackEndpoint(client);
      iamClients.set(partition, client);
    }
    return client;
  };

  const sts: StsPort = {
    async getCallerIdentity() {
      const region = defaultRegion ?? 'us-east-1';
      if (!stsClient) {
        stsClient = new stsSdk.STSClient(clientConfig(opts, region, agents));
        trackEndpoint(stsClient);
      }
      try {
        const out = await stsClient.send(new stsSdk.GetCallerIdentityCommand({}));
        return { account: out.Account ?? '', arn: out.Arn ?? '' };
      } catch (err) {
        const mapped = mapAwsError(err, 'sts:GetCallerIdentity', `https://sts.${region}.amazonaws.com`);
        if (mapped.code === 'AWS_NO_CREDENTIALS' && opts.profile !== undefined) {
          throw new UsageError('AWS_PROFILE_UNUSABLE', `${opts.profileFrom === 'AWS_PROFILE' ? 'AWS_PROFILE=' : '--profile '}${opts.profile}: no credentials from this profile (${mapped.message})`, 'check the profile name in ~/.aws/config and ~/.aws/credentials (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE), or run aws sso login --profile ' + opts.profile);
        }
        throw mapped;
      }
    },
  };

  const iam = createIamPort(iamSdk, iamFor);

  return {
    sts,
    iam,
    eks(region: string): EksPort {
      let port = eksClients.get(region);
      if (!port) {
        const client: EKSClient = new eksSdk.EKSClient(clientConfig(opts, region, agents));
        trackEndpoint(client);
        port = createEksPort(eksSdk, client, region);
        eksClients.set(region, port);
      }
      return port;
    },
  };
}

type IamSdk = typeof import('@aws-sdk/client-iam');

/** The role name and partition IAM needs, from a role ARN the collector already validated. */
export function roleRef(roleArn: string): { name: string; partition: string; arn: string } {
  const parsed = parseRoleArn(roleArn);
  if (!parsed.ok) throw new PodidError('ROLE_ARN_INVALID', `not a role ARN: ${JSON.stringify(roleArn)}`);
  return { name: parsed.arn.name, partition: parsed.arn.partition, arn: parsed.arn.arn };
}

function partitionOfArn(arn: string): string {
  return arn.split(':')[1] ?? 'aws';
}

/** IAM returns policy documents URL-encoded (RFC 3986) JSON. */
export function decodePolicyDocument(doc: string): unknown {
  let text = doc;
  if (!text.trimStart().startsWith('{')) {
    try {
      text = decodeURIComponent(text);
    } catch {
      // Not URL-encoded after all; let JSON.parse report it.
    }
  }
  return JSON.parse(text) as unknown;
}

/** A role IAM returned (GetRole, ListRoles, GetAccountAuthorizationDetails): its trust policy decoded, or why it is not usable. */
function trustSnapshot(arn: string, raw: string | undefined, operation: string): RoleSnapshot {
  if (raw === undefined) return { arn, state: 'found', trustPolicy: null, error: `${operation} returned no trust policy` };
  try {
    const doc = decodePolicyDocument(raw);
    if (!isJsonObject(doc)) throw new Error('not a JSON object');
    return { arn, state: 'found', trustPolicy: doc as RoleSnapshot['trustPolicy'], error: null };
  } catch (err) {
    return { arn, state: 'found', trustPolicy: null, error: `trust policy is not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** IAM's endpoint in a partition, for messages when a request never got as far as a URL. */
export function iamEndpoint(partition: string): string {
  return partition === 'aws' ? 'https://iam.amazonaws.com' : `https://iam.${IAM_REGION[partition] ?? partition}.amazonaws.com`;
}

function createIamPort(sdk: IamSdk, clientFor: (partition: string) => IAMClient): IamPort {
  const call = <T>(partition: string, action: string, run: (client: IAMClient) => Promise<T>): Promise<T> =>
    callMapped((err, a) => mapAwsError(err, a, iamEndpoint(partition)))(action, () => run(clientFor(partition)));

  return {
    async getRole(roleArn: string): Promise<RoleSnapshot> {
      const ref = roleRef(roleArn);
      try {
        const out = await clientFor(ref.partition).send(new sdk.GetRoleCommand({ RoleName: ref.name }));
        const actual = out.Role?.Arn ?? '';
        // GetRole is by name; an annotation with the wrong path names a role that does not exist.
        if (actual.toLowerCase() !== ref.arn.toLowerCase()) {
          return { arn: ref.arn, state: 'missing', trustPolicy: null, error: `no role ${ref.arn}; the account has ${actual} (different path)` };
        }
        // GetRole returns the permissions boundary; ListRoles does not (IAM API reference, ListRoles).
        return { ...trustSnapshot(ref.arn, out.Role?.AssumeRolePolicyDocument, 'GetRole'), permissionsBoundary: out.Role?.PermissionsBoundary?.PermissionsBoundaryArn ?? null };
      } catch (err) {
        if (isNotFound(err)) return { arn: ref.arn, state: 'missing', trustPolicy: null, error: `role ${ref.name} does not exist` };
        if (isAccessDenied(err)) {
          return { arn: ref.arn, state: 'unreadable', trustPolicy: null, error: mapAwsError(err, 'iam:GetRole', iamEndpoint(ref.partition)).message };
        }
        throw mapAwsError(err, 'iam:GetRole', iamEndpoint(ref.partition));
      }
    },

    async listRoles(partition: string): Promise<RoleSnapshot[]> {
      return call(partition, 'iam:ListRoles', async (client) => {
        // 1,000 is ListRoles' largest page: an account at IAM's role quota takes a few calls.
        const roles = await allItems(sdk.paginateListRoles({ client, pageSize: 1000 }, {}), (p) => p.Roles);
        return roles.flatMap((r) => (r.Arn ? [trustSnapshot(r.Arn, r.AssumeRolePolicyDocument, 'ListRoles')] : []));
      });
    },

    async listRoleDetails(partition: string): Promise<RoleSnapshot[]> {
      return call(partition, 'iam:GetAccountAuthorizationDetails', async (client) => {
        const roles: RoleSnapshot[] = [];
        // Roles only, 1,000 a page (its largest). Unlike ListRoles it returns each role's
        // permissions boundary (IAM API reference: GetAccountAuthorizationDetails, RoleDetail).
        for await (const page of sdk.paginateGetAccountAuthorizationDetails({ client, pageSize: 1000 }, { Filter: ['Role'] })) {
          for (const r of page.RoleDetailList ?? []) {
            if (r.Arn) roles.push({ ...trustSnapshot(r.Arn, r.AssumeRolePolicyDocument, 'GetAccountAuthorizationDetails'), permissionsBoundary: r.PermissionsBoundary?.PermissionsBoundaryArn ?? null });
          }
        }
        return roles;
      });
    },

    async listAttachedRolePolicies(roleArn: string): Promise<AttachedPolicy[]> {
      const ref = roleRef(roleArn);
      return call(ref.partition, 'iam:ListAttachedRolePolicies', async (client) => {
        const policies = await allItems(sdk.paginateListAttachedRolePolicies({ client }, { RoleName: ref.name }), (p) => p.AttachedPolicies);
        return policies.map((p): AttachedPolicy => ({ arn: p.PolicyArn ?? '', name: p.PolicyName ?? '' }));
      });
    },

    async listRolePolicies(roleArn: string): Promise<string[]> {
      const ref = roleRef(roleArn);
      return call(ref.partition, 'iam:ListRolePolicies', (client) => allItems(sdk.paginateListRolePolicies({ client }, { RoleName: ref.name }), (p) => p.PolicyNames));
    },

    async getRolePolicy(roleArn: string, policyName: string): Promise<unknown> {
      const ref = roleRef(roleArn);
      return call(ref.partition, 'iam:GetRolePolicy', async (client) => {
        const out = await client.send(new sdk.GetRolePolicyCommand({ RoleName: ref.name, PolicyName: policyName }));
        return decodePolicyDocument(out.PolicyDocument ?? '{}');
      });
    },

    async getPolicyDocument(policyArn: string): Promise<unknown> {
      const partition = partitionOfArn(policyArn);
      const versionId = await call(partition, 'iam:GetPolicy', async (client) => {
        const out = await client.send(new sdk.GetPolicyCommand({ PolicyArn: policyArn }));
        return out.Policy?.DefaultVersionId;
      });
      if (!versionId) throw new PodidError('AWS_ERROR', `iam:GetPolicy returned no default version for ${policyArn}`);
      return call(partition, 'iam:GetPolicyVersion', async (client) => {
        const out = await client.send(new sdk.GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: versionId }));
        return decodePolicyDocument(out.PolicyVersion?.Document ?? '{}');
      });
    },
  };
}
