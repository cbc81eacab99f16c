/**
 * The AWS side of apply's ports (core/apply/ports.ts) over the AWS SDK v3, loaded lazily:
 * GetRole and UpdateAssumeRolePolicy (IAM), the pod identity association and add-on calls (EKS).
 *
 * Clients are built with maxAttempts 1: the SDK's own retry would re-send a create whose answer
 * was lost, so apply's executor retries instead (throttling and 5xx with backoff and jitter, a
 * lost answer by reading back). Every failure is thrown as an ApplyCallError saying which kind
 * it was.
 */
import type { EKSClient } from '@aws-sdk/client-eks';
import type { IAMClient } from '@aws-sdk/client-iam';
import { PodidError } from '../core/errors.js';
import { isJsonObject } from '../core/json.js';
import { ApplyCallError, type AddonRecord, type AssociationRecord, type CallFailureKind, type EksApplyPort, type IamApplyPort } from '../core/apply/ports.js';
import { allItems, callMapped } from './aws-call.js';
import { addonInfo } from './aws-eks.js';
import { awsErrorName, mapAwsError } from './aws-errors.js';
import { IAM_REGION, awsAgents, clientConfig, decodePolicyDocument, iamEndpoint, roleRef, trackEndpoint, type AwsOptions } from './aws.js';

const THROTTLED = new Set(['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded', 'SlowDown', 'ProvisionedThroughputExceededException', 'RequestThrottled', 'RequestThrottledException']);
const IN_USE = new Set(['ResourceInUseException', 'EntityAlreadyExists', 'EntityAlreadyExistsException', 'ResourceAlreadyExistsException']);
const NOT_FOUND = new Set(['NoSuchEntity', 'NoSuchEntityException', 'ResourceNotFoundException', 'NotFoundException']);
const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'UnauthorizedException']);
const CONFLICT = new Set(['ConcurrentModification', 'ConcurrentModificationException']);
const LOST_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT']);
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Which kind of failure an SDK error is, for the executor's retry decision. */
export function classifyAwsError(err: unknown): CallFailureKind {
  const name = awsErrorName(err);
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; message?: unknown; $metadata?: { httpStatusCode?: number }; $fault?: unknown; $retryable?: { throttling?: boolean } };
  const code = typeof e.code === 'string' ? e.code : '';
  const status = e.$metadata?.httpStatusCode;
  if (THROTTLED.has(name) || status === 429 || e.$retryable?.throttling === true) return 'throttled';
  if (IN_USE.has(name)) return 'in-use';
  if (NOT_FOUND.has(name)) return 'not-found';
  if (DENIED.has(name)) return 'denied';
  if (CONFLICT.has(name)) return 'server';
  // Connection refused before anything was sent: nothing committed, safe to send again.
  if (UNREACHABLE_CODES.has(code) || UNREACHABLE_CODES.has(name)) return 'server';
  // The request went out and no answer came back: it may have committed.
  if (LOST_CODES.has(code) || LOST_CODES.has(name) || name === 'TimeoutError' || name === 'RequestTimeout' || (typeof e.message === 'string' && /socket hang up|timed? ?out/i.test(e.message))) return 'lost';
  if ((status !== undefined && status >= 500) || e.$fault === 'server') return 'server';
  if (status !== undefined && status >= 400) return 'invalid';
  return 'other';
}

function toCallError(err: unknown, action: string, endpoint: string): PodidError {
  if (err instanceof PodidError) return err;
  const mapped = mapAwsError(err, action, endpoint);
  // Missing or rejected credentials: a usage problem for the whole run, not a step failure.
  if (mapped.exit === 'usage') return mapped;
  const kind = classifyAwsError(err);
  const message = kind === 'lost' ? `no answer from ${endpoint} for ${action} (${mapped.message}); the change may have been made` : mapped.message;
  const code = kind === 'throttled' ? 'AWS_THROTTLED' : kind === 'lost' ? 'AWS_UNREACHABLE' : kind === 'denied' ? 'AWS_ACCESS_DENIED' : kind === 'not-found' ? 'AWS_NOT_FOUND' : 'AWS_ERROR';
  return new ApplyCallError(kind, code, message, {
    ...(mapped.code === 'AWS_ACCESS_DENIED' ? { hint: `grant ${action} to the identity podid runs as (see docs/apply.md for the permissions apply needs)` } : mapped.hint !== undefined ? { hint: mapped.hint } : {}),
    cause: err,
  });
}

export interface AwsApplyPorts {
  iam: IamApplyPort;
  eks(region: string): EksApplyPort;
}

export async function createAwsApplyPorts(opts: AwsOptions): Promise<AwsApplyPorts> {
  const [eksSdk, iamSdk, agents] = await Promise.all([import('@aws-sdk/client-eks'), import('@aws-sdk/client-iam'), awsAgents(opts)]);
  const single = { ...opts, maxAttempts: 1 };
  const defaultRegion = opts.region ?? 'us-east-1';
  const iamClients = new Map<string, IAMClient>();
  const iamFor = (partition: string): IAMClient => {
    let c = iamClients.get(partition);
    if (!c) {
      c = new iamSdk.IAMClient(clientConfig(single, IAM_REGION[partition] ?? defaultRegion, agents));
      trackEndpoint(c);
      iamClients.set(partition, c);
    }
    return c;
  };
  const iam: IamApplyPort = {
    async getRole(roleArn) {
      const ref = roleRef(roleArn);
      try {
        const out = await iamFor(ref.partition).send(new iamSdk.GetRoleCommand({ RoleName: ref.name }));
        if ((out.Role?.Arn ?? '').toLowerCase() !== ref.arn.toLowerCase()) return null;
        const raw = out.Role?.AssumeRolePolicyDocument;
        if (raw === undefined) throw new PodidError('AWS_ERROR', `iam:GetRole returned no trust policy for ${roleArn}`);
        const doc = decodePolicyDocument(raw);
        if (!isJsonObject(doc)) throw new PodidError('AWS_ERROR', `the trust policy of ${roleArn} is not a JSON object`);
        return { arn: ref.arn, document: doc };
      } catch (err) {
        if (classifyAwsError(err) === 'not-found') return null;
        throw toCallError(err, 'iam:GetRole', iamEndpoint(ref.partition));
      }
    },
    async updateAssumeRolePolicy(roleArn, document) {
      const ref = roleRef(roleArn);
      try {
        await iamFor(ref.partition).send(new iamSdk.UpdateAssumeRolePolicyCommand({ RoleName: ref.name, PolicyDocument: JSON.stringify(document) }));
      } catch (err) {
        throw toCallError(err, 'iam:UpdateAssumeRolePolicy', iamEndpoint(ref.partition));
      }
    },
    // One page per call, not the SDK's paginateListRoles: apply's SDK retries are off and the
    // executor retries each call itself (core/apply/retry.ts), so a throttled page is sent again
    // on its own instead of the whole listing starting over.
    async listRolesPage(partition, marker) {
      let out;
      try {
        // 1,000 is ListRoles' largest page.
        out = await iamFor(partition).send(new iamSdk.ListRolesCommand({ MaxItems: 1000, ...(marker === null ? {} : { Marker: marker }) }));
      } catch (err) {
        throw toCallError(err, 'iam:ListRoles', iamEndpoint(partition));
      }
      if (out.IsTruncated && !out.Marker) throw new ApplyCallError('other', 'AWS_ERROR', 'iam:ListRoles answered a truncated page without a Marker, so the rest of the roles cannot be read');
      const roles = (out.Roles ?? []).map((r) => {
        const arn = r.Arn ?? '';
        if (r.AssumeRolePolicyDocument === undefined) return { arn, document: null, error: 'ListRoles returned no trust policy' };
        try {
          const doc = decodePolicyDocument(r.AssumeRolePolicyDocument);
          if (!isJsonObject(doc)) return { arn, document: null, error: 'the trust policy is not a JSON object' };
          return { arn, document: doc, error: null };
        } catch (err) {
          return { arn, document: null, error: `the trust policy is not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
        }
      });
      return { roles, marker: out.IsTruncated ? (out.Marker ?? null) : null };
    },
    async getOidcProvider(arn) {
      const partition = arn.split(':')[1] ?? 'aws';
      try {
        const out = await iamFor(partition).send(new iamSdk.GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
        const url = out.Url ?? arn.slice(arn.indexOf(':oidc-provider/') + ':oidc-provider/'.length);
        return {
          arn,
          url: /^https:\/\//.test(url) ? url : `https://${url}`,
          clientIds: out.ClientIDList ?? [],
          thumbprints: out.ThumbprintList ?? [],
          tags: (out.Tags ?? []).map((t) => ({ key: t.Key ?? '', value: t.Value ?? '' })),
        };
      } catch (err) {
        if (classifyAwsError(err) === 'not-found') return null;
        throw toCallError(err, 'iam:GetOpenIDConnectProvider', iamEndpoint(partition));
      }
    },
    async deleteOidcProvider(arn) {
      const partition = arn.split(':')[1] ?? 'aws';
      try {
        await iamFor(partition).send(new iamSdk.DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }));
      } catch (err) {
        throw toCallError(err, 'iam:DeleteOpenIDConnectProvider', iamEndpoint(partition));
      }
    },
    async createOidcProvider(p) {
      // The journaled ARN says which partition (and so which IAM endpoint) the provider lives in.
      const partition = p.arn.split(':')[1] ?? 'aws';
      try {
        const out = await iamFor(partition).send(new iamSdk.CreateOpenIDConnectProviderCommand({
          Url: p.url,
          ClientIDList: p.clientIds,
          ...(p.thumbprints.length > 0 ? { ThumbprintList: p.thumbprints } : {}),
          ...(p.tags.length > 0 ? { Tags: p.tags.map((t) => ({ Key: t.key, Value: t.value })) } : {}),
        }));
        return out.OpenIDConnectProviderArn ?? '';
      } catch (err) {
        throw toCallError(err, 'iam:CreateOpenIDConnectProvider', iamEndpoint(partition));
      }
    },
  };

  const eksPorts = new Map<string, EksApplyPort>();
  return {
    iam,
    eks(region) {
      let port = eksPorts.get(region);
      if (!port) {
        const client = new eksSdk.EKSClient(clientConfig(single, region, agents));
        trackEndpoint(client);
        port = createEksApplyPort(eksSdk, client, region);
        eksPorts.set(region, port);
      }
      return port;
    },
  };
}

type EksSdk = typeof import('@aws-sdk/client-eks');

function toAssociation(a: {
  associationId?: string; associationArn?: string; namespace?: string; serviceAccount?: string; roleArn?: string; targetRoleArn?: string; externalId?: string; ownerArn?: string; disableSessionTags?: boolean; createdAt?: Date;
}): AssociationRecord {
  return {
    associationId: a.associationId ?? '',
    associationArn: a.associationArn ?? '',
    namespace: a.namespace ?? '',
    serviceAccount: a.serviceAccount ?? '',
    roleArn: a.roleArn ?? '',
    targetRoleArn: a.targetRoleArn || null,
    externalId: a.externalId || null,
    ownerArn: a.ownerArn || null,
    disableSessionTags: a.disableSessionTags === true,
    createdAt: a.createdAt instanceof Date ? a.createdAt.toISOString() : null,
  };
}

function createEksApplyPort(sdk: EksSdk, client: EKSClient, region: string): EksApplyPort {
  const endpoint = `https://eks.${region}.amazonaws.com`;
  const call = callMapped((err, action) => toCallError(err, action, endpoint));
  /** The ids of every association of the cluster, or of one namespace/serviceAccount (all pages, 100 a page: EKS's largest). */
  const associationIds = (input: { clusterName: string; namespace?: string; serviceAccount?: string }) =>
    call('eks:ListPodIdentityAssociations', async () =>
      (await allItems(sdk.paginateListPodIdentityAssociations({ client, pageSize: 100 }, input), (p) => p.associations)).flatMap((a) => (a.associationId ? [a.associationId] : [])),
    );
  const describeAssociation = async (cluster: string, associationId: string): Promise<AssociationRecord | null> => {
    try {
      const out = await client.send(new sdk.DescribePodIdentityAssociationCommand({ clusterName: cluster, associationId }));
      return out.association ? toAssociation(out.association) : null;
    } catch (err) {
      if (classifyAwsError(err) === 'not-found') return null;
      throw toCallError(err, 'eks:DescribePodIdentityAssociation', endpoint);
    }
  };

  return {
    async findAssociations(cluster, namespace, serviceAccount) {
      const ids = await associationIds({ clusterName: cluster, namespace, serviceAccount });
      const out: AssociationRecord[] = [];
      for (const id of ids) {
        const a = await describeAssociation(cluster, id);
        if (a !== null) out.push(a);
      }
      return out;
    },
    describeAssociation,
    createAssociation: (cluster, input) =>
      call('eks:CreatePodIdentityAssociation', async () => {
        const out = await client.send(
          new sdk.CreatePodIdentityAssociationCommand({
            clusterName: cluster,
            namespace: input.namespace,
            serviceAccount: input.serviceAccount,
            roleArn: input.roleArn,
            ...(input.targetRoleArn ? { targetRoleArn: input.targetRoleArn } : {}),
            clientRequestToken: input.clientRequestToken,
            tags: input.tags,
          }),
        );
        if (!out.association) throw new PodidError('AWS_ERROR', 'eks:CreatePodIdentityAssociation returned no association');
        return toAssociation(out.association);
      }),
    async describeAddon(cluster, addon) {
      try {
        const out = await client.send(new sdk.DescribeAddonCommand({ clusterName: cluster, addonName: addon }));
        const a = out.addon;
        if (!a) return null;
        const record: AddonRecord = { ...addonInfo(a, addon), issues: (a.health?.issues ?? []).map((i) => `${i.code ?? 'issue'}: ${i.message ?? ''}`) };
        return record;
      } catch (err) {
        if (classifyAwsError(err) === 'not-found') return null;
        throw toCallError(err, 'eks:DescribeAddon', endpoint);
      }
    },
    createAddon: (cluster, input) =>
      call('eks:CreateAddon', async () => {
        await client.send(new sdk.CreateAddonCommand({ clusterName: cluster, addonName: input.addonName, ...(input.addonVersion ? { addonVersion: input.addonVersion } : {}), clientRequestToken: input.clientRequestToken }));
      }),
    updateAddon: (cluster, input) =>
      call('eks:UpdateAddon', async () => {
        await client.send(new sdk.UpdateAddonCommand({ clusterName: cluster, addonName: input.addonName, podIdentityAssociations: input.podIdentityAssociations, ...(input.serviceAccountRoleArn !== undefined ? { serviceAccountRoleArn: input.serviceAccountRoleArn } : {}), clientRequestToken: input.clientRequestToken }));
      }),
    listAssociationIds: (cluster) => associationIds({ clusterName: cluster }),
    deleteAssociation: (cluster, associationId) =>
      call('eks:DeletePodIdentityAssociation', async () => {
        await client.send(new sdk.DeletePodIdentityAssociationCommand({ clusterName: cluster, associationId }));
      }),
    deleteAddon: (cluster, addonName) =>
      call('eks:DeleteAddon', async () => {
        await client.send(new sdk.DeleteAddonCommand({ clusterName: cluster, addonName }));
      }),
    clusterIssuer: (cluster) =>
      call('eks:DescribeCluster', async () => {
        const out = await client.send(new sdk.DescribeClusterCommand({ name: cluster }));
        return out.cluster?.identity?.oidc?.issuer ?? null;
      }),
  };
}
