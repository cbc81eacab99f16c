/**
 * The world file's schema (contract: docs/sandbox.md). Each leaf says what it expects in words
 * ("a 12-digit account ID"), because those words end up in the user's error message; world.ts
 * adds what was found instead and where. Account and region inheritance happens in world.ts,
 * after parsing, since it needs the top level.
 */
import { z } from 'zod';
import { ADDON_STATUSES, CLUSTER_STATUSES, FAULT_KINDS, type JsonObject } from './world-types.js';

/** Fall back to the parse-wide messages for a missing field ("required field is missing"). */
const expecting = (what: string) => (iss: { input?: unknown }) => (iss.input === undefined ? undefined : `expected ${what}`);

/** A string matching `pattern`, described as `what` when it does not. */
function text(what: string, pattern: RegExp = /\S/) {
  return z.string({ error: expecting(what) }).regex(pattern, { error: expecting(what) });
}

/**
 * A closed object: unknown keys are typos to report, listing the allowed ones. `readBack`
 * names fields that GET /_sandbox/state emits (ARNs, endpoints); they are accepted, so a state
 * dump reloads as a world, and dropped by world.ts, because the sandbox derives them itself.
 */
function fields<S extends z.core.$ZodLooseShape, K extends string = never>(shape: S, readBack: readonly K[] = []) {
  const allowed = Object.keys(shape).join(', ');
  const ignored = Object.fromEntries(readBack.map((k) => [k, z.unknown().optional()])) as { [P in K]: z.ZodOptional<z.ZodUnknown> };
  return z.strictObject({ ...shape, ...ignored }, {
    error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown field (allowed: ${allowed})` : undefined),
  });
}

const ACCOUNT_ID = text('a 12-digit account ID', /^\d{12}$/);
const REGION = text('an AWS region like us-east-1', /^[a-z]{2}(-[a-z]+)+-\d+$/);
const ARN = text('an ARN (arn:<partition>:<service>:<region>:<account>:<resource>)', /^arn:[a-z-]+:[a-z0-9-]+:[a-z0-9-]*:(\d{12}|aws)?:.+$/);
const ROLE_ARN = text('an IAM role ARN (arn:aws:iam::111122223333:role/name)', /^arn:[a-z-]+:iam::\d{12}:role\/.+$/);
const POLICY_ARN = text('an IAM policy ARN (arn:aws:iam::aws:policy/name)', /^arn:[a-z-]+:iam::(\d{12}|aws):policy\/.+$/);
const HTTPS_URL = text('an https:// URL', /^https:\/\/[^\s/]+(\/\S*)?$/);
// EKS names: 1-100 characters, starting with a letter or digit.
const EKS_NAME = text('a name of letters, digits, - and _ (starting with a letter or digit)', /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/);
// Namespaces and service accounts end up in `system:serviceaccount:<ns>:<sa>`; keep them Kubernetes-valid.
const K8S_LABEL = text('a Kubernetes namespace name (lowercase letters, digits and -)', /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
const K8S_SUBDOMAIN = text('a Kubernetes name (lowercase letters, digits, - and .)', /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/);
const STRING_MAP = z.record(z.string(), z.string({ error: expecting('a string') }));
const MS = z.number().int().min(0);

function isPlainObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A policy document: an object, or the JSON string IAM itself stores (so documents copied from
 * `aws iam get-role` paste in unchanged). Decoded here; its content is left to the IAM module,
 * since odd trust policies are exactly what the sandbox exists to serve.
 */
const POLICY_DOCUMENT = z.unknown().transform((value, ctx): JsonObject => {
  let doc = value;
  if (typeof value === 'string') {
    try {
      doc = JSON.parse(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `invalid JSON in the policy document string: ${(err as Error).message}` });
      return z.NEVER;
    }
  }
  if (!isPlainObject(doc)) {
    const got = value === undefined ? 'required field is missing' : `expected a policy document object or a JSON string of one (got ${Array.isArray(doc) ? 'a list' : JSON.stringify(doc)})`;
    ctx.addIssue({ code: 'custom', message: got });
    return z.NEVER;
  }
  return doc;
});

/** A Kubernetes manifest: free-form, but it must say what it is and what it is called. */
const K8S_OBJECT = z.looseObject({
  apiVersion: text('an apiVersion like v1 or apps/v1'),
  kind: text('a kind like Deployment'),
  // Namespace defaulting (to `default`, except cluster-scoped kinds) is the kube module's job.
  metadata: z.looseObject({ name: K8S_SUBDOMAIN, namespace: K8S_LABEL.optional() }),
});

const ADDON = fields({
  name: text('an add-on name like vpc-cni'),
  version: text('an add-on version like v1.18.3-eksbuild.1'),
  status: z.enum(ADDON_STATUSES).default('ACTIVE'),
  serviceAccountRoleArn: ROLE_ARN.nullable().default(null),
  // Absent or null: this add-on version does not support Pod Identity.
  podIdentityConfiguration: z.array(fields({
    serviceAccount: K8S_SUBDOMAIN,
    recommendedManagedPolicies: z.array(POLICY_ARN).default(() => []),
  })).nullable().default(null),
});

const NODEGROUP = fields({
  name: EKS_NAME,
  nodeRole: ROLE_ARN,
  amiType: text('an EKS AMI type like AL2023_x86_64_STANDARD', /^[A-Za-z0-9_]+$/).default('AL2023_x86_64_STANDARD'),
  // One node by default: enough to host a DaemonSet pod and keep generated objects few; worlds
  // that test spreading say how many they want. The cap stops a typo creating a million Nodes.
  nodes: z.number().int().min(0).max(1000).default(1),
});

const FARGATE_PROFILE = fields({
  name: EKS_NAME,
  // EKS requires 1 to 5 selectors per profile.
  selectors: z.array(fields({ namespace: K8S_LABEL, labels: STRING_MAP.optional() })).min(1).max(5),
  podExecutionRoleArn: ROLE_ARN.nullable().default(null),
});

const ASSOCIATION = fields({
  namespace: K8S_LABEL,
  serviceAccount: K8S_SUBDOMAIN,
  roleArn: ROLE_ARN,
  targetRoleArn: ROLE_ARN.nullable().default(null),
  disableSessionTags: z.boolean().default(false),
  associationId: text('an association ID like a-0123456789abcdefg', /^a-[a-z0-9]{17}$/).optional(),
  ownerArn: ARN.nullable().optional(),
  // EKS generates it for associations with a target role; a world may fix it so target trust policies can name it.
  externalId: text('an external ID (the value a target role trusts under sts:ExternalId)').nullable().optional(),
}, ['associationArn']);

const CLUSTER = fields({
  name: EKS_NAME,
  account: ACCOUNT_ID.optional(),
  region: REGION.optional(),
  version: text('a Kubernetes version string like "1.29"', /^\d+\.\d+$/),
  platformVersion: text('an EKS platform version like eks.8', /^eks\.\d+$/),
  oidcIssuer: HTTPS_URL.nullable().default(null),
  autoMode: z.boolean().default(false),
  status: z.enum(CLUSTER_STATUSES).default('ACTIVE'),
  addons: z.array(ADDON).default(() => []),
  nodegroups: z.array(NODEGROUP).default(() => []),
  fargateProfiles: z.array(FARGATE_PROFILE).default(() => []),
  podIdentityAssociations: z.array(ASSOCIATION).default(() => []),
  objects: z.array(K8S_OBJECT).default(() => []),
  // Sandbox options to rehearse a stuck rollout (docs/sandbox.md).
  stuckWorkloads: z.array(fields({
    kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']),
    namespace: K8S_LABEL,
    name: K8S_SUBDOMAIN,
    reason: z.enum(['CrashLoopBackOff', 'ImagePullBackOff']).default('CrashLoopBackOff'),
  })).default(() => []),
  missingImages: z.array(text('an image or pattern like example/cart:2 or *:broken')).default(() => []),
  // The API server URL DescribeCluster reports and the kubeconfig names, instead of the sandbox's
  // own: a URL nothing listens on rehearses an unreachable cluster (the sandbox serves none there).
  apiServerUrl: text('an http:// or https:// URL', /^https?:\/\/[^\s/]+(\/\S*)?$/).optional(),
}, ['arn', 'endpoint']);

const ROLE = fields({
  name: text('a role name of letters, digits and +=,.@_-', /^[\w+=,.@-]{1,64}$/),
  // IAM paths begin and end with `/` and hold printable ASCII.
  path: text('an IAM path that starts and ends with / (like /service/)', /^\/([\x21-\x7e]*\/)?$/).default('/'),
  account: ACCOUNT_ID.optional(),
  assumeRolePolicyDocument: POLICY_DOCUMENT,
  attachedPolicies: z.array(POLICY_ARN).default(() => []),
  inlinePolicies: z.record(z.string(), POLICY_DOCUMENT).default(() => ({})),
  tags: STRING_MAP.default(() => ({})),
  // GetRole returns it (ListRoles does not); podid reports it (ROLE_PERMISSIONS_BOUNDARY).
  permissionsBoundary: POLICY_ARN.nullable().optional(),
}, ['arn']);

// Optional, so worlds that only exercise EKS or Kubernetes stay short.
const IAM = fields({
  // IAM's default quota for trust policy length (characters, whitespace excluded); accounts can raise it.
  trustPolicyLimit: z.number().int().min(1).default(2048),
  roles: z.array(ROLE).default(() => []),
  policies: z.array(fields({
    arn: text('a customer-managed policy ARN (arn:aws:iam::111122223333:policy/name)', /^arn:[a-z-]+:iam::\d{12}:policy\/.+$/),
    document: POLICY_DOCUMENT,
  })).default(() => []),
  openIdConnectProviders: z.array(fields({
    url: HTTPS_URL,
    // What eksctl, Terraform and the console register for IRSA.
    clientIds: z.array(text('a client ID like sts.amazonaws.com')).default(() => ['sts.amazonaws.com']),
    account: ACCOUNT_ID.optional(),
  })).default(() => []),
});

const CALLER = fields({
  arn: ARN,
  allow: z.array(text('an action pattern like eks:Describe* or *', /^(\*|[a-z0-9-]+:[A-Za-z0-9*?]+)$/)),
});

const FAULT = fields({
  target: text('service:Operation (iam:UpdateAssumeRolePolicy) or k8s:<verb>:<resource> (k8s:patch:deployments; * matches any part)', /^((iam|sts|eks):[A-Za-z*]+|k8s:[a-z*]+:[a-z*]+)$/),
  error: z.enum(FAULT_KINDS),
  after: MS.default(0),
  times: z.number().int().min(1).default(1),
  when: z.enum(['before', 'after-commit']).default('before'),
  cluster: EKS_NAME.optional(),
  namespace: K8S_LABEL.optional(),
});

export const worldFileSchema = fields({
  account: ACCOUNT_ID,
  region: REGION,
  partition: z.enum(['aws', 'aws-cn', 'aws-us-gov']).default('aws'),
  latencyMs: MS.default(0),
  rolloutDelayMs: MS.default(0),
  associationPropagationMs: MS.default(0),
  // Time before a trust-policy change is seen by the credential model (GetRole shows it at once).
  iamPropagationMs: MS.default(0),
  // Time an add-on spends CREATING, UPDATING or DELETING before it is ACTIVE (or gone).
  addonTransitionMs: MS.default(0),
  // Time a deleted association's namespace/service account stays unusable for a new association.
  associationReuseDelayMs: MS.default(0),
  // At least one: a sandbox without a cluster has nothing for podid to migrate.
  clusters: z.array(CLUSTER).min(1),
  iam: IAM.prefault({}),
  caller: CALLER.nullable().default(null),
  faults: z.array(FAULT).default(() => []),
});

export type WorldFile = z.output<typeof worldFileSchema>;
