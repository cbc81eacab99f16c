/**
 * The sandbox's IAM: the read operations podid uses to inspect roles, policies and OIDC
 * providers, UpdateAssumeRolePolicy with IAM's validation (JSON shape, trust-policy rules, the
 * whitespace-insensitive length quota), and Create/DeleteOpenIDConnectProvider (podid finalize
 * --delete-oidc-provider, and its rollback). Roles and providers of accounts other than the
 * caller's are invisible, as they are to a real caller.
 */
import { createHash } from 'node:crypto';
import type { OidcProviderState, RoleState, SandboxState } from '../state.js';
import { EKS_OIDC_THUMBPRINT, stableId } from '../state.js';
import type { JsonObject } from '../world-types.js';
import { AwsServiceError, type AwsServiceModule } from './common.js';
import { awsManagedPolicy, isAwsManagedArn } from './managed-policies.js';
import { createQueryService, memberList, memberStructs, paginate, requiredParam, validationError, type QueryParams, type XmlObject } from './query.js';
import { callerIdentity } from './sts.js';

export const IAM_NAMESPACE = 'https://iam.amazonaws.com/doc/2010-05-08/';
export const IAM_VERSION = '2010-05-08';

/** New roles get IAM's default maximum session duration (one hour). */
const MAX_SESSION_DURATION = 3600;
/** IAM's default quota of OIDC providers per account (OpenIdConnectProvidersPerAccount). */
const OIDC_PROVIDERS_PER_ACCOUNT = 100;

/** IAM returns policy documents URL-encoded (RFC 3986); SDKs leave decoding to the caller. */
export function encodeDocument(doc: JsonObject): string {
  return encodeURIComponent(JSON.stringify(doc));
}

interface PolicyView {
  arn: string;
  name: string;
  path: string;
  document: JsonObject;
  defaultVersionId: string;
  description?: string;
  createDate: Date;
  updateDate: Date;
}

export function createIamService(state: SandboxState): AwsServiceModule {
  const { partition } = state.settings;
  // OIDC providers and customer-managed policies carry no dates in the world; they "exist since" the sandbox started.
  const started = new Date(state.clock.now());
  const account = () => state.settings.account;

  const visibleRoles = (): RoleState[] => state.roles.filter((r) => r.account === account());

  /** IAM role names are case-insensitive: GetRole(RoleName=CART) finds `cart`. */
  function role(params: QueryParams): RoleState {
    const name = requiredParam(params, 'RoleName');
    const found = visibleRoles().find((r) => r.name.toLowerCase() === name.toLowerCase());
    if (!found) throw noSuchEntity(`The role with name ${name} cannot be found.`);
    return found;
  }

  function accessDenied(action: string, resource: string): AwsServiceError {
    return new AwsServiceError(
      'AccessDenied',
      `User: ${callerIdentity(state).arn} is not authorized to perform: iam:${action} on resource: ${resource}`,
      403,
    );
  }

  function policy(action: string, arn: string): PolicyView {
    const missing = () => noSuchEntity(`Policy ${arn} does not exist or is not attachable.`);
    if (isAwsManagedArn(arn)) {
      const p = awsManagedPolicy(arn);
      if (!p || !arn.startsWith(`arn:${partition}:`)) throw missing();
      return { ...p };
    }
    const m = /^arn:([^:]+):iam::(\d{12}):policy(\/(?:.*\/)?)([^/]+)$/.exec(arn);
    if (!m) throw invalidInput(`ARN ${arn} is not valid.`);
    if (m[2] !== account()) throw accessDenied(action, arn);
    const spec = state.policies.find((p) => p.arn === arn);
    if (!spec) throw missing();
    return {
      arn, name: m[4]!, path: m[3]!, document: spec.document, defaultVersionId: 'v1', createDate: started, updateDate: started,
    };
  }

  function oidcProviderArn(url: string, owner: string): string {
    return `arn:${partition}:iam::${owner}:oidc-provider/${url.replace(/^https:\/\//, '')}`;
  }

  /**
   * The caller-account provider an OpenIDConnectProviderArn names, or undefined when there is
   * none; a malformed ARN is InvalidInput and another account's is AccessDenied, as for GetRole.
   */
  function oidcProvider(action: string, params: QueryParams): { arn: string; provider: OidcProviderState | undefined } {
    const arn = requiredParam(params, 'OpenIDConnectProviderArn');
    const m = /^arn:[^:]+:iam::(\d{12}):oidc-provider\/(.+)$/.exec(arn);
    if (!m) throw invalidInput(`ARN ${arn} is not valid.`);
    if (m[1] !== account()) throw accessDenied(action, arn);
    return { arn, provider: state.oidcProviders.find((o) => o.account === account() && oidcProviderArn(o.url, o.account) === arn) };
  }

  const attachmentCount = (arn: string) => visibleRoles().filter((r) => r.attachedPolicies.includes(arn)).length;

  return createQueryService({
    namespace: IAM_NAMESPACE,
    version: IAM_VERSION,
    internalErrorCode: 'ServiceFailure',
    operations: {
      GetRole: {
        mutating: false,
        handler: (params) => ({ Role: roleXml(role(params), true) }),
      },
      ListRoles: {
        mutating: false,
        handler: (params) => {
          const prefix = params.get('PathPrefix') ?? '/';
          const roles = visibleRoles().filter((r) => r.path.startsWith(prefix));
          const { page, IsTruncated, Marker } = paginate(roles, (r) => r.name, params);
          // ListRoles leaves out Tags, RoleLastUsed and PermissionsBoundary, as IAM does.
          return { Roles: page.map((r) => roleXml(r, false)), IsTruncated, Marker };
        },
      },
      GetAccountAuthorizationDetails: {
        mutating: false,
        handler: (params) => {
          // IAM's API reference, GetAccountAuthorizationDetails: every user, group, role and
          // managed policy of the account (the sandbox has no users or groups), `Filter.member.N`
          // narrowing to entity types, paginated with MaxItems/Marker over all of them; roles
          // with their inline and attached policies, permissions boundary, tags and last use;
          // policy documents URL-encoded as everywhere in IAM.
          const filters = entityFilters(params);
          const wants = (t: EntityType) => filters.length === 0 || filters.includes(t);
          const entities: { key: string; role?: RoleState; policy?: PolicyView }[] = [];
          if (wants('Role')) for (const r of visibleRoles()) entities.push({ key: `role:${r.name}`, role: r });
          if (wants('LocalManagedPolicy')) {
            for (const spec of state.policies) {
              if (spec.arn.split(':')[4] === account()) entities.push({ key: `policy:${spec.arn}`, policy: policy('GetAccountAuthorizationDetails', spec.arn) });
            }
          }
          if (wants('AWSManagedPolicy')) {
            // AWS managed policies appear as far as they are attached to something in the account.
            const attached = [...new Set(visibleRoles().flatMap((r) => r.attachedPolicies))].filter(isAwsManagedArn).sort();
            for (const arn of attached) {
              const p = awsManagedPolicy(arn);
              if (p) entities.push({ key: `policy:${arn}`, policy: { ...p } });
            }
          }
          const { page, IsTruncated, Marker } = paginate(entities, (e) => e.key, params);
          return {
            UserDetailList: [],
            GroupDetailList: [],
            RoleDetailList: page.flatMap((e) => (e.role ? [roleDetailXml(e.role)] : [])),
            Policies: page.flatMap((e) =>
              e.policy
                ? [{
                    PolicyName: e.policy.name,
                    PolicyId: stableId('ANPA', e.policy.arn),
                    Arn: e.policy.arn,
                    Path: e.policy.path,
                    DefaultVersionId: e.policy.defaultVersionId,
                    AttachmentCount: attachmentCount(e.policy.arn),
                    PermissionsBoundaryUsageCount: visibleRoles().filter((r) => r.permissionsBoundary === e.policy!.arn).length,
                    IsAttachable: true,
                    Description: e.policy.description,
                    CreateDate: e.policy.createDate,
                    UpdateDate: e.policy.updateDate,
                    PolicyVersionList: [{ Document: encodeDocument(e.policy.document), VersionId: e.policy.defaultVersionId, IsDefaultVersion: true, CreateDate: e.policy.updateDate }],
                  }]
                : [],
            ),
            IsTruncated,
            Marker,
          };
        },
      },
      UpdateAssumeRolePolicy: {
        mutating: true,
        handler: (params) => {
          const r = role(params);
          const text = requiredParam(params, 'PolicyDocument');
          // GetRole shows the new document at once; STS and EKS see it after iamPropagationMs.
          const principalExists = (arn: string): boolean => {
            // IAM resolves principals when it stores a policy; the sandbox knows the caller's account fully.
            const m = /^arn:[^:]+:iam::(\d{12}):role\//.exec(arn);
            return !m || m[1] !== account() || state.roleByArn(arn) !== undefined;
          };
          state.setTrustPolicy(r, validateTrustPolicy(text, state.settings.trustPolicyLimit, principalExists));
          return null;
        },
      },
      ListAttachedRolePolicies: {
        mutating: false,
        handler: (params) => {
          const r = role(params);
          const prefix = params.get('PathPrefix') ?? '/';
          const attached = r.attachedPolicies
            .map((arn) => ({ arn, ...splitPolicyArn(arn) }))
            .filter((p) => p.path.startsWith(prefix));
          const { page, IsTruncated, Marker } = paginate(attached, (p) => p.arn, params);
          return { AttachedPolicies: page.map((p) => ({ PolicyName: p.name, PolicyArn: p.arn })), IsTruncated, Marker };
        },
      },
      ListRolePolicies: {
        mutating: false,
        handler: (params) => {
          const r = role(params);
          const { page, IsTruncated, Marker } = paginate(Object.keys(r.inlinePolicies), (n) => n, params);
          return { PolicyNames: page, IsTruncated, Marker };
        },
      },
      GetRolePolicy: {
        mutating: false,
        handler: (params) => {
          const r = role(params);
          const name = requiredParam(params, 'PolicyName');
          const doc = Object.hasOwn(r.inlinePolicies, name) ? r.inlinePolicies[name] : undefined;
          if (!doc) throw noSuchEntity(`The role policy with name ${name} cannot be found.`);
          return { RoleName: r.name, PolicyName: name, PolicyDocument: encodeDocument(doc) };
        },
      },
      GetPolicy: {
        mutating: false,
        handler: (params) => {
          const p = policy('GetPolicy', requiredParam(params, 'PolicyArn'));
          return {
            Policy: {
              PolicyName: p.name,
              PolicyId: stableId('ANPA', p.arn),
              Arn: p.arn,
              Path: p.path,
              DefaultVersionId: p.defaultVersionId,
              AttachmentCount: attachmentCount(p.arn),
              PermissionsBoundaryUsageCount: 0,
              IsAttachable: true,
              Description: p.description,
              CreateDate: p.createDate,
              UpdateDate: p.updateDate,
              Tags: [],
            },
          };
        },
      },
      GetPolicyVersion: {
        mutating: false,
        handler: (params) => {
          const arn = requiredParam(params, 'PolicyArn');
          const versionId = requiredParam(params, 'VersionId');
          const p = policy('GetPolicyVersion', arn);
          // The sandbox keeps only each policy's default version.
          if (versionId !== p.defaultVersionId) {
            throw noSuchEntity(`Policy ${arn} version ${versionId} does not exist or is not attachable.`);
          }
          return {
            PolicyVersion: { Document: encodeDocument(p.document), VersionId: p.defaultVersionId, IsDefaultVersion: true, CreateDate: p.updateDate },
          };
        },
      },
      ListRoleTags: {
        mutating: false,
        handler: (params) => {
          const r = role(params);
          const { page, IsTruncated, Marker } = paginate(tagList(r.tags), (t) => t.Key, params);
          return { Tags: page, IsTruncated, Marker };
        },
      },
      ListOpenIDConnectProviders: {
        mutating: false,
        handler: () => ({
          OpenIDConnectProviderList: state.oidcProviders
            .filter((p) => p.account === account())
            .map((p) => ({ Arn: oidcProviderArn(p.url, p.account) })),
        }),
      },
      GetOpenIDConnectProvider: {
        mutating: false,
        handler: (params) => {
          const { arn, provider: p } = oidcProvider('GetOpenIDConnectProvider', params);
          if (!p) throw noSuchEntity(`OpenIDConnect Provider not found for arn ${arn}`);
          return {
            // IAM returns the URL without its scheme, and the tags sorted by key.
            Url: p.url.replace(/^https:\/\//, ''),
            ClientIDList: p.clientIds,
            ThumbprintList: p.thumbprints,
            CreateDate: p.createDate,
            Tags: [...p.tags].sort((a, b) => (a.Key < b.Key ? -1 : a.Key > b.Key ? 1 : 0)),
          };
        },
      },
      /**
       * IAM API Reference, CreateOpenIDConnectProvider: Url (https://, no query, up to 255
       * characters) required; up to 100 ClientIDList entries of 1-255 characters; up to 5
       * ThumbprintList entries of 40 hex characters (optional: IAM then retrieves the issuer's
       * certificate thumbprint itself); up to 50 Tags. The same URL twice in one account is
       * EntityAlreadyExists. Returns OpenIDConnectProviderArn and the Tags.
       */
      CreateOpenIDConnectProvider: {
        mutating: true,
        handler: (params) => {
          const url = requiredParam(params, 'Url');
          if (!/^https:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(url) || url.length > 255) {
            throw invalidInput(`The URL ${url} is not valid: it must begin with https:// and have no query or fragment.`);
          }
          const clientIds = memberList(params, 'ClientIDList');
          if (clientIds.length > 100) throw new AwsServiceError('LimitExceeded', 'Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100', 409);
          for (const c of clientIds) if (c.length < 1 || c.length > 255) throw invalidInput(`Client ID ${c} is not valid: 1 to 255 characters.`);
          const given = memberList(params, 'ThumbprintList');
          if (given.length > 5) throw new AwsServiceError('LimitExceeded', 'Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: 5', 409);
          for (const t of given) if (!/^[0-9a-fA-F]{40}$/.test(t)) throw invalidInput(`Thumbprint ${t} is not valid: 40 hexadecimal characters.`);
          const tags = memberStructs(params, 'Tags').map((t) => ({ Key: t['Key'] ?? '', Value: t['Value'] ?? '' }));
          if (tags.length > 50) throw new AwsServiceError('LimitExceeded', 'Cannot exceed quota for TagsPerOpenIdConnectProvider: 50', 409);
          for (const t of tags) if (t.Key.length < 1 || t.Key.length > 128 || t.Value.length > 256) throw invalidInput(`Tag ${t.Key} is not valid: a key of 1 to 128 characters, a value of up to 256.`);
          const mine = state.oidcProviders.filter((p) => p.account === account());
          if (mine.some((p) => p.url.replace(/\/$/, '').toLowerCase() === url.replace(/\/$/, '').toLowerCase())) {
            throw new AwsServiceError('EntityAlreadyExists', `Provider with url ${url} already exists.`, 409);
          }
          if (mine.length >= OIDC_PROVIDERS_PER_ACCOUNT) throw new AwsServiceError('LimitExceeded', `Cannot exceed quota for OpenIdConnectProvidersPerAccount: ${OIDC_PROVIDERS_PER_ACCOUNT}`, 409);
          const host = url.replace(/^https:\/\//, '').split('/')[0]!;
          // Without a thumbprint IAM reads the issuer's certificate chain; the sandbox knows EKS's.
          const thumbprints = given.length > 0 ? given.map((t) => t.toLowerCase()) : [/^oidc\.eks\./.test(host) ? EKS_OIDC_THUMBPRINT : createHash('sha1').update(host).digest('hex')];
          state.oidcProviders.push({ url, clientIds, account: account(), thumbprints, tags, createDate: new Date(state.clock.now()) });
          return { OpenIDConnectProviderArn: oidcProviderArn(url, account()), Tags: tags };
        },
      },
      /**
       * IAM API Reference, DeleteOpenIDConnectProvider: roles that name the provider are not
       * changed, and "any attempt to assume a role that references a deleted provider fails" (the
       * credential probe answers trust-denied for IRSA from that issuer). "This operation is
       * idempotent; it does not fail or return an error if you call the operation for a provider
       * that does not exist."
       */
      DeleteOpenIDConnectProvider: {
        mutating: true,
        handler: (params) => {
          const { provider } = oidcProvider('DeleteOpenIDConnectProvider', params);
          if (provider) state.oidcProviders.splice(state.oidcProviders.indexOf(provider), 1);
          return null;
        },
      },
    },
  });
}

/** What a Role and a RoleDetail share. */
function roleCommonXml(r: RoleState): XmlObject {
  return {
    Path: r.path,
    RoleName: r.name,
    RoleId: r.roleId,
    Arn: r.arn,
    CreateDate: r.createDate,
    AssumeRolePolicyDocument: encodeDocument(r.assumeRolePolicyDocument),
  };
}

function roleXml(r: RoleState, full: boolean): XmlObject {
  return {
    ...roleCommonXml(r),
    MaxSessionDuration: MAX_SESSION_DURATION,
    ...(full ? { Tags: tagList(r.tags), RoleLastUsed: {} } : {}),
    ...(full && r.permissionsBoundary ? { PermissionsBoundary: { PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: r.permissionsBoundary } } : {}),
  };
}

/** A RoleDetail of GetAccountAuthorizationDetails: the role with its policies (IAM API reference, RoleDetail). */
function roleDetailXml(r: RoleState): XmlObject {
  return {
    ...roleCommonXml(r),
    InstanceProfileList: [],
    RolePolicyList: Object.entries(r.inlinePolicies).map(([PolicyName, doc]) => ({ PolicyName, PolicyDocument: encodeDocument(doc) })),
    AttachedManagedPolicies: r.attachedPolicies.map((arn) => ({ PolicyName: splitPolicyArn(arn).name, PolicyArn: arn })),
    ...(r.permissionsBoundary ? { PermissionsBoundary: { PermissionsBoundaryType: 'PermissionsBoundaryPolicy', PermissionsBoundaryArn: r.permissionsBoundary } } : {}),
    Tags: tagList(r.tags),
    RoleLastUsed: {},
  };
}

/** GetAccountAuthorizationDetails' entity types (its `Filter` values). */
const ENTITY_TYPES = ['User', 'Role', 'Group', 'LocalManagedPolicy', 'AWSManagedPolicy'] as const;
type EntityType = (typeof ENTITY_TYPES)[number];

/** `Filter.member.1`, `Filter.member.2`, ...: each must be an entity type (IAM's enum validation). */
function entityFilters(params: QueryParams): EntityType[] {
  const values = memberList(params, 'Filter');
  for (const v of values) {
    if (!(ENTITY_TYPES as readonly string[]).includes(v)) {
      throw validationError(`Value '[${v}]' at 'filter' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [${ENTITY_TYPES.join(', ')}]]`);
    }
  }
  return values as EntityType[];
}

function tagList(tags: Record<string, string>): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** `arn:aws:iam::aws:policy/service-role/X` -> path `/service-role/`, name `X`. */
function splitPolicyArn(arn: string): { path: string; name: string } {
  const m = /:policy(\/(?:.*\/)?)([^/]+)$/.exec(arn);
  return m ? { path: m[1]!, name: m[2]! } : { path: '/', name: arn };
}

function noSuchEntity(message: string): AwsServiceError {
  return new AwsServiceError('NoSuchEntity', message, 404);
}

function invalidInput(message: string): AwsServiceError {
  return new AwsServiceError('InvalidInput', message, 400);
}

function malformed(message: string): AwsServiceError {
  return new AwsServiceError('MalformedPolicyDocument', message, 400);
}

const POLICY_VERSIONS = new Set(['2012-10-17', '2008-10-17']);

/**
 * Parse and check a trust policy as IAM's UpdateAssumeRolePolicy does, returning the decoded
 * document. The length quota (ACLSizePerRole, Service Quotas L-C07B4B0D) counts characters
 * without whitespace, so a pretty-printed document just under the limit is accepted.
 */
export function validateTrustPolicy(text: string, limit: number, principalExists: (arn: string) => boolean = () => true): JsonObject {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformed('This policy contains invalid Json');
  }
  if (!isObject(doc)) throw malformed('Syntax errors in policy.');
  if (!('Version' in doc)) throw malformed('Missing required field Version');
  if (typeof doc.Version !== 'string' || !POLICY_VERSIONS.has(doc.Version)) {
    throw malformed('The policy failed legacy parsing');
  }
  if (!('Statement' in doc)) throw malformed('Missing required field Statement');
  const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  for (const st of statements) {
    if (!isObject(st)) throw malformed('Syntax errors in policy.');
    if (st.Effect !== 'Allow' && st.Effect !== 'Deny') {
      throw malformed(st.Effect === undefined ? 'Missing required field Effect' : `Invalid effect: ${String(st.Effect)}`);
    }
    if (st.Principal === undefined && st.NotPrincipal === undefined) throw malformed('Missing required field Principal');
    if (st.Action === undefined && st.NotAction === undefined) throw malformed('Policy statement must contain actions.');
    // Trust policies name who may assume the role; the role itself is the resource.
    if (st.Resource !== undefined) throw malformed('Has prohibited field Resource');
    if (st.NotResource !== undefined) throw malformed('Has prohibited field NotResource');
    checkTrustActions(st.Action ?? st.NotAction);
    checkPrincipal(st.Principal ?? st.NotPrincipal, principalExists);
    checkConditions(st.Condition);
  }
  const sids = statements.map((st) => (isObject(st) ? st.Sid : undefined)).filter((sid): sid is string => typeof sid === 'string' && sid !== '');
  if (new Set(sids).size !== sids.length) throw malformed('Statement IDs (SID) in a single policy must be unique.');
  const size = text.replace(/\s/g, '').length;
  if (size > limit) {
    throw new AwsServiceError('LimitExceeded', `Cannot exceed quota for ACLSizePerRole: ${limit}`, 409);
  }
  return doc;
}

/** A trust policy grants only STS's role-assumption actions (and their companions such as sts:TagSession). */
function checkTrustActions(actions: unknown): void {
  for (const a of strings(actions)) {
    if (a !== '*' && !/^sts:[A-Za-z*?]+$/i.test(a)) throw malformed('AssumeRole policy may only specify STS AssumeRole actions.');
  }
}

const PRINCIPAL_KEYS = new Set(['AWS', 'Federated', 'Service', 'CanonicalUser']);
const AWS_PRINCIPAL = /^(\*|\d{12}|arn:aws(-cn|-us-gov)?:(iam::\d{12}:(root|(user|role|federated-user)\/[\w+=,.@/-]+)|sts::\d{12}:(assumed-role|federated-user)\/[\w+=,.@/-]+))$/;
const FEDERATED_PRINCIPAL = /^(arn:aws(-cn|-us-gov)?:iam::\d{12}:(oidc-provider|saml-provider)\/\S+|[a-z0-9.-]+\.[a-z]{2,})$/;
const SERVICE_PRINCIPAL = /^[a-z0-9.-]+\.(amazonaws\.com(\.cn)?|amazon\.com)$/;

/** IAM's principal grammar; an unknown type, a value of the wrong shape or a role that does not exist is "Invalid principal". */
function checkPrincipal(principal: unknown, principalExists: (arn: string) => boolean): void {
  if (principal === '*') return;
  const invalid = (key: string, value: unknown) => malformed(`Invalid principal in policy: ${JSON.stringify(key)}:${JSON.stringify(value)}`);
  if (!isObject(principal)) throw malformed('Syntax errors in policy.');
  for (const [key, raw] of Object.entries(principal)) {
    if (!PRINCIPAL_KEYS.has(key)) throw invalid(key, raw);
    const values = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw : undefined;
    if (!values || values.length === 0) throw invalid(key, raw);
    for (const v of values) {
      if (typeof v !== 'string') throw invalid(key, v);
      const ok = key === 'AWS' ? AWS_PRINCIPAL.test(v) && principalExists(v)
        : key === 'Federated' ? FEDERATED_PRINCIPAL.test(v)
          : key === 'Service' ? SERVICE_PRINCIPAL.test(v) || v === '*'
            : /^[0-9a-f]{64}$/.test(v);
      if (!ok) throw invalid(key, v);
    }
  }
}

const OPERATORS = new Set([
  'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
  'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals',
  'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
  'Bool', 'BinaryEquals', 'IpAddress', 'NotIpAddress', 'ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike',
]);

/** Condition operators as IAM knows them: optional ForAllValues:/ForAnyValue:, optional IfExists (Null takes neither). */
function checkConditions(condition: unknown): void {
  if (condition === undefined) return;
  if (!isObject(condition)) throw malformed('Syntax errors in policy.');
  for (const [op, block] of Object.entries(condition)) {
    const base = op.replace(/^(ForAllValues|ForAnyValue):/, '').replace(/IfExists$/, '');
    if (!(op === 'Null' || OPERATORS.has(base))) throw malformed(`Invalid Condition type : ${op}`);
    if (!isObject(block)) throw malformed('Syntax errors in policy.');
  }
}

function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
