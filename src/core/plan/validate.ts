/**
 * Loading a saved plan (`podid migrate --apply plan.json`). The file may be old, hand-edited,
 * truncated or something else entirely; apply must not act on a document it does not fully
 * understand, so it is checked in layers, each with a one-line error naming the place:
 * JSON syntax, `kind`, `schemaVersion` (newer than this podid: upgrade), then the full structure
 * (strict: an unknown key is a typo or a newer format, never ignored), then the references
 * between steps.
 */
import { z } from 'zod';
import { parseClusterArn } from '../arn.js';
import { UsageError } from '../errors.js';
import { FINDING_CODES } from '../scan/findings.js';
import { addPodIdentityTrust, parsePolicy, policyLength, policyToJson } from '../policy/index.js';
import type { TrustPolicy } from '../policy/index.js';
import { externalIdPlaceholder, roleChaining } from './cross-account.js';
import { canonicalJson, fingerprintTrust } from './fingerprint.js';
import { PLAN_KIND, PLAN_SCHEMA_VERSION } from './model.js';
import type { CreateAssociationStep, MigrationPlan, UpdateTrustStep } from './model.js';
import { describeChange } from './plan-trust.js';

const fingerprint = z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 hex fingerprint (64 lowercase hex digits)');
const jsonObject = z.record(z.string(), z.unknown());
const count = z.int().min(0);
const stringList = z.array(z.string());

const finding = z.strictObject({
  code: z.enum(FINDING_CODES),
  severity: z.enum(['error', 'warning', 'info']),
  message: z.string(),
  fix: z.string(),
  location: z.strictObject({ file: z.string(), line: z.int().min(1) }).optional(),
  suppressed: z.strictObject({ reason: z.string(), expires: z.string() }).optional(),
});

const options = z.strictObject({
  installAgent: z.boolean(),
  restart: z.boolean(),
  maxConcurrentRollouts: z.int().min(1),
  crossAccountSourceRole: z.string().nullable(),
  selection: z.strictObject({ contexts: stringList, namespaces: stringList, serviceAccounts: stringList, roles: stringList }),
  trustPolicyLimit: z.int().min(1),
});

const cluster = z.strictObject({
  arn: z.string().min(1),
  name: z.string().min(1),
  account: z.string(),
  region: z.string(),
  context: z.string().nullable(),
  endpoint: z.string(),
});

const base = { id: z.string().min(1), dependsOn: stringList };

const installAgent = z.strictObject({
  ...base,
  kind: z.literal('install-agent'),
  cluster: z.string().min(1),
  addonName: z.literal('eks-pod-identity-agent'),
  addonVersion: z.string().nullable(),
  fingerprint,
});

const updateTrust = z.strictObject({
  ...base,
  kind: z.literal('update-trust'),
  roleArn: z.string().min(1),
  roleName: z.string().min(1),
  clusters: z.array(z.string().min(1)).min(1),
  change: z.enum(['added-statement', 'extended-statement']),
  statementIndex: count,
  before: jsonObject,
  after: jsonObject,
  lengthBefore: count,
  lengthAfter: count,
  limit: z.int().min(1),
  fingerprint,
});

const createAssociation = z.strictObject({
  ...base,
  kind: z.literal('create-association'),
  cluster: z.string().min(1),
  namespace: z.string().min(1),
  serviceAccount: z.string().min(1),
  roleArn: z.string().min(1),
  targetRoleArn: z.string().min(1).nullable(),
  annotationRoleArn: z.string(),
  crossAccount: z.strictObject({ targetTrustStatement: jsonObject, sourcePermissionStatement: jsonObject, externalIdPlaceholder: z.string().min(1) }).nullable(),
  fingerprint,
});

const updateAddon = z.strictObject({
  ...base,
  kind: z.literal('update-addon'),
  cluster: z.string().min(1),
  addonName: z.string().min(1),
  addonVersion: z.string().min(1),
  podIdentityAssociations: z.array(z.strictObject({ serviceAccount: z.string().min(1), roleArn: z.string().min(1) })).min(1),
  before: z.strictObject({ serviceAccountRoleArn: z.string().nullable(), podIdentityAssociations: stringList }),
  fingerprint,
});

const restartBatch = z.strictObject({
  ...base,
  kind: z.literal('restart-batch'),
  cluster: z.string().min(1),
  batch: z.int().min(1),
  workloads: z
    .array(z.strictObject({ kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet']), namespace: z.string().min(1), name: z.string().min(1), serviceAccounts: stringList }))
    .min(1),
  fingerprint,
});

const STEP_KINDS = ['install-agent', 'update-trust', 'create-association', 'update-addon', 'restart-batch'] as const;
const step = z.discriminatedUnion('kind', [installAgent, updateTrust, createAssociation, updateAddon, restartBatch], {
  error: (issue) => (issue.code === 'invalid_union' ? `unknown step kind; expected one of ${STEP_KINDS.join(', ')}` : undefined),
});

const blockedTarget = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('service-account'), cluster: z.string(), namespace: z.string(), name: z.string(), roleArn: z.string() }),
  z.strictObject({ kind: z.literal('addon'), cluster: z.string(), name: z.string() }),
  z.strictObject({ kind: z.literal('role'), roleArn: z.string() }),
  z.strictObject({ kind: z.literal('cluster'), cluster: z.string() }),
]);

const manual = z.strictObject({
  cluster: z.string(),
  kind: z.enum(['Pod', 'Job', 'CronJob', 'ReplicaSet', 'Deployment', 'StatefulSet', 'DaemonSet']),
  namespace: z.string(),
  name: z.string(),
  serviceAccount: z.string(),
  advice: z.string(),
});

const PlanSchema = z.strictObject({
  kind: z.literal(PLAN_KIND),
  schemaVersion: z.literal(PLAN_SCHEMA_VERSION),
  createdAt: z.iso.datetime(),
  toolVersion: z.string(),
  caller: z.strictObject({ account: z.string(), arn: z.string() }),
  options,
  clusters: z.array(cluster),
  steps: z.array(step),
  blocked: z.array(z.strictObject({ target: blockedTarget, reasons: z.array(finding) })),
  manual: z.array(manual),
  summary: z.strictObject({
    agentsToInstall: count,
    rolesToUpdate: count,
    associationsToCreate: count,
    addonsToUpdate: count,
    workloadsToRestart: count,
    blocked: count,
    manual: count,
  }),
});

/** `steps[3].fingerprint`, `options.selection.roles[0]`; the document itself is `(document)`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const key = String(seg);
      out += /^[A-Za-z_$][\w$]*$/.test(key) ? `${out === '' ? '' : '.'}${key}` : `[${JSON.stringify(key)}]`;
    }
  }
  return out === '' ? '(document)' : out;
}

const HINT = 'pass a plan written by podid migrate --dry-run --out FILE, unedited';

function invalid(source: string, where: string, problem: string, more = 0): UsageError {
  const extra = more > 0 ? ` (and ${more} more ${more === 1 ? 'problem' : 'problems'})` : '';
  return new UsageError('PLAN_INVALID', `${source}: ${where}: ${problem}${extra}`, HINT);
}

/**
 * Parses and validates a saved plan. `source` names it in errors (the file path, or `-`).
 * Throws UsageError (exit 2) with a one-line message naming the offending place.
 */
export function parsePlanDocument(text: string, source: string): MigrationPlan {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UsageError('PLAN_INVALID', `${source}: not valid JSON: ${err instanceof Error ? err.message : String(err)}`, HINT);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid(source, '(document)', 'expected a JSON object');
  const head = doc as Record<string, unknown>;
  if (head['kind'] !== PLAN_KIND) {
    throw new UsageError(
      'PLAN_WRONG_KIND',
      `${source}: not a podid migration plan (kind is ${head['kind'] === undefined ? 'missing' : JSON.stringify(head['kind'])}, expected "${PLAN_KIND}")`,
      'pass the file written by podid migrate --dry-run --out FILE (a scan report is not a plan)',
    );
  }
  const version = head['schemaVersion'];
  if (typeof version === 'number' && Number.isInteger(version) && version > PLAN_SCHEMA_VERSION) {
    throw new UsageError(
      'PLAN_TOO_NEW',
      `${source}: plan schemaVersion ${version} was written by a newer podid; this one reads version ${PLAN_SCHEMA_VERSION}`,
      'upgrade podid to apply this plan, or make a new plan with this version',
    );
  }

  const parsed = PlanSchema.safeParse(doc);
  if (!parsed.success) {
    const [first, ...rest] = parsed.error.issues;
    if (first === undefined) throw invalid(source, '(document)', 'invalid plan');
    throw invalid(source, formatPath(first.path), first.message, rest.length);
  }
  const plan: MigrationPlan = parsed.data;
  checkReferences(plan, source);
  checkPlanIntegrity(plan, source);
  return plan;
}

/** Step ids are unique, and every step depends only on steps listed before it (apply runs them in order). */
function checkReferences(plan: MigrationPlan, source: string): void {
  const seen = new Set<string>();
  for (const [i, s] of plan.steps.entries()) {
    if (seen.has(s.id)) throw invalid(source, `steps[${i}].id`, `duplicate step id ${JSON.stringify(s.id)}`);
    for (const [j, dep] of s.dependsOn.entries()) {
      if (!seen.has(dep)) throw invalid(source, `steps[${i}].dependsOn[${j}]`, `${JSON.stringify(dep)} is not an earlier step of the plan`);
    }
    seen.add(s.id);
  }
}

/**
 * What the schema cannot see: the parts of a step podid derives from others must be what
 * podid derives. Apply re-reads and fingerprints only a step's inputs (`before`), so without
 * this a hand-edited `after` (a wider principal, a dropped condition, a removed statement)
 * would be written to IAM under a valid fingerprint. Each `update-trust` step's `after` must be
 * exactly podid's dual-trust edit of its `before` for its clusters, and each cross-account
 * association's statements exactly podid's role-chaining statements. Throws a one-line
 * UsageError naming the step.
 */
export function checkPlanIntegrity(plan: MigrationPlan, source = 'plan'): void {
  for (const [i, step] of plan.steps.entries()) {
    const problem = step.kind === 'update-trust' ? trustProblem(step) : step.kind === 'create-association' ? chainProblem(plan, step) : null;
    if (problem !== null) throw invalid(source, `steps[${i}]`, `${step.kind} ${JSON.stringify(step.id)}: ${problem}`);
  }
}

function trustProblem(step: UpdateTrustStep): string | null {
  if (step.fingerprint !== fingerprintTrust(step.before)) return 'fingerprint is not the fingerprint of before';
  let current: TrustPolicy;
  let original: TrustPolicy;
  try {
    original = parsePolicy(step.before);
    current = original;
    // The planner admits the clusters one at a time in ARN order; the same edit, replayed.
    for (const arn of [...step.clusters].sort()) {
      const parsed = parseClusterArn(arn);
      if (!parsed.ok) return `clusters holds ${JSON.stringify(arn)}, which is not a cluster ARN`;
      const result = addPodIdentityTrust(current, { partition: parsed.arn.partition, clusterAccount: parsed.arn.account, clusterArns: [parsed.arn.arn] });
      if (!result.addedClusterArns.includes(parsed.arn.arn)) return `before already admits ${arn}, so the step has nothing to add for it`;
      current = result.policy;
    }
  } catch (err) {
    return `before cannot be edited as podid would: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (canonicalJson(policyToJson(current)) !== canonicalJson(step.after)) {
    return "after is not podid's dual-trust change of before (only the Pod Identity statement for the step's clusters may be added or extended)";
  }
  const { change, statementIndex } = describeChange(original, current);
  if (change !== step.change || statementIndex !== step.statementIndex) return `change and statementIndex must be ${change} at ${statementIndex}`;
  if (step.lengthBefore !== policyLength(original) || step.lengthAfter !== policyLength(current)) return 'lengthBefore or lengthAfter does not match the policies';
  return null;
}

function chainProblem(plan: MigrationPlan, step: CreateAssociationStep): string | null {
  if (step.targetRoleArn === null) return step.crossAccount === null ? null : 'crossAccount is set but targetRoleArn is null';
  if (step.crossAccount === null) return 'targetRoleArn is set but crossAccount is null';
  const cluster = plan.clusters.find((c) => c.arn === step.cluster);
  if (cluster === undefined) return `its cluster ${step.cluster} is not in clusters`;
  const expected = roleChaining(step.roleArn, step.targetRoleArn, externalIdPlaceholder(cluster, step.namespace, step.serviceAccount));
  if (canonicalJson(expected) !== canonicalJson(step.crossAccount)) return "crossAccount is not podid's role-chaining statements for this association";
  return null;
}
