/**
 * Loading a saved plan (`podid migrate --apply plan.json`). The file may be old, hand-edited,
 * truncated or something else entirely; apply must not act on a document it does not fully
 * understand, so it is checked in layers, each with a one-line error naming the place:
 * JSON syntax, `kind`, `schemaVersion` (newer than this podid: upgrade), then the full structure
 * (strict: an unknown key is a typo or a newer format, never ignored), then the references
 * between steps.
 */
import { z } from 'zod';
import { parseClusterArn, parseRoleArn } from '../arn.js';
import { roleKey } from '../scan/planning.js';
import { UsageError } from '../errors.js';
import { isJsonObject } from '../json.js';
import { addPodIdentityTrust, checkNoWidening, parsePolicy, podIdentityAdmits, policyLength, policyToJson, roleAccess, subjectKey } from '../policy/index.js';
import type { AccessCluster, TrustPolicy } from '../policy/index.js';
import { FINDING_CODES } from '../scan/findings.js';
import { externalIdPlaceholder, roleChaining } from './cross-account.js';
import { canonicalJson, fingerprintTrust } from './fingerprint.js';
import { PLAN_KIND, PLAN_SCHEMA_VERSION } from './model.js';
import type { CreateAssociationStep, MigrationPlan, PlanStep, RestartBatchStep, UpdateTrustStep } from './model.js';
import { agentStepId, addonStepId, associationStepId } from './plan.js';
import { restartStepId } from './plan-rollout.js';
import { trustStepId } from './plan-trust.js';

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
  oidcProvider: z.string().min(1).nullable(),
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
  subjects: z.array(z.strictObject({ cluster: z.string().min(1), namespace: z.string().min(1), serviceAccount: z.string().min(1) })).min(1),
  basis: z.enum(['irsa', 'cross-account-source']),
  added: z.array(count),
  extended: z.array(count),
  before: jsonObject,
  after: jsonObject,
  // Checked by recomputing it from before and after (checkPlanIntegrity), not by shape.
  access: z.strictObject({ before: jsonObject, after: jsonObject }),
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
  phases: z.enum(['single', 'two-phase']),
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
  // Added within schemaVersion 2: a plan saved before it has none (every cluster was scanned, or it did not say).
  unscanned: z.array(z.strictObject({ context: z.string().min(1), name: z.string().min(1), region: z.string(), reasons: z.array(finding) })).default([]),
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
  if (!isJsonObject(doc)) throw invalid(source, '(document)', 'expected a JSON object');
  const head = doc;
  if (head['kind'] !== PLAN_KIND) {
    throw new UsageError(
      'PLAN_WRONG_KIND',
      `${source}: not a podid migration plan (kind is ${head['kind'] === undefined ? 'missing' : JSON.stringify(head['kind'])}, expected "${PLAN_KIND}")`,
      'pass the file written by podid migrate --dry-run --out FILE (a scan report is not a plan)',
    );
  }
  const version = head['schemaVersion'];
  if (typeof version === 'number' && Number.isInteger(version) && version < PLAN_SCHEMA_VERSION) {
    throw new UsageError(
      'PLAN_TOO_OLD',
      `${source}: plan schemaVersion ${version} was written by an older podid, whose Pod Identity statement this one no longer writes; this one reads version ${PLAN_SCHEMA_VERSION}`,
      'make a new plan with this version (podid migrate --dry-run --out FILE) and review it',
    );
  }
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
  const plan = parsed.data as MigrationPlan;
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
 * What the schema cannot see: the parts of a step podid derives from others must be what podid
 * derives, and the plan must keep its trust boundary. Apply re-reads and fingerprints only a
 * step's inputs (`before`), so without this a hand-edited `after` (a wider principal, a dropped
 * condition, another service account) would be written to IAM under a valid fingerprint.
 * Checked, for every step, with a one-line UsageError naming it:
 * - `update-trust`: the fingerprint is of `before`; the role's account owns every cluster of the
 *   step, and each is a cluster of the plan; `after` is exactly podid's change of `before` for
 *   `subjects`; who can assume the role (`access`) recomputes from the two documents; and
 *   `checkNoWidening` proves that `after` admits nobody but the Pod Identity twins of subjects
 *   `before` admitted through IRSA (or, for the cross-account source role, the service accounts
 *   whose associations chain through it).
 * - `create-association`: its cluster is in the plan; its role is the annotated role, or the
 *   recorded --cross-account-source-role with the annotated role as target; a trust step for
 *   its role (if any) admits it, and it depends on that step; cross-account statements are
 *   exactly podid's, and the step is two-phase.
 * Exported so that `migrate --apply` runs the same checks on the plan it is given.
 */
export function checkPlanIntegrity(plan: MigrationPlan, source = 'plan'): void {
  const clusters = new Map(plan.clusters.map((c) => [c.arn, c]));
  const trustByRole = new Map<string, UpdateTrustStep>();
  for (const step of plan.steps) if (step.kind === 'update-trust') trustByRole.set(roleKey(step.roleArn), step);
  const restarted = new Map<string, string>();
  for (const [i, step] of plan.steps.entries()) {
    // The id is what dependencies and the journal name; it must be the one the step's own fields
    // give, or a step could name one role (or SA) in its id and act on another.
    const id = stepIdOf(step);
    if (step.id !== id) throw invalid(source, `steps[${i}]`, `${step.kind} ${JSON.stringify(step.id)}: its id must be ${JSON.stringify(id)}, the id of what the step changes`);
    const problem =
      step.kind === 'update-trust' ? trustProblem(plan, step)
      : step.kind === 'create-association' ? associationProblem(plan, step, trustByRole.get(roleKey(step.roleArn))) ?? chainProblem(plan, step)
      : step.kind === 'install-agent' || step.kind === 'update-addon' || step.kind === 'restart-batch' ? (clusters.has(step.cluster) ? null : `its cluster ${step.cluster} is not in clusters`)
      : null;
    const restart = problem === null && step.kind === 'restart-batch' ? restartProblem(plan, step, restarted) : null;
    if (restart !== null) throw invalid(source, `steps[${i}]`, `${step.kind} ${JSON.stringify(step.id)}: ${restart}`);
    if (problem !== null) throw invalid(source, `steps[${i}]`, `${step.kind} ${JSON.stringify(step.id)}: ${problem}`);
  }
}

function stepIdOf(step: PlanStep): string {
  switch (step.kind) {
    case 'install-agent':
      return agentStepId(step.cluster);
    case 'update-trust':
      return trustStepId(step.roleArn);
    case 'create-association':
      return associationStepId(step.cluster, step.namespace, step.serviceAccount);
    case 'update-addon':
      return addonStepId(step.cluster, step.addonName);
    case 'restart-batch':
      return restartStepId(step.cluster, step.batch);
  }
}

function accessClusters(plan: MigrationPlan): AccessCluster[] {
  return plan.clusters.map((c) => ({ arn: c.arn, account: c.account, oidcProvider: c.oidcProvider }));
}

function trustProblem(plan: MigrationPlan, step: UpdateTrustStep): string | null {
  if (step.fingerprint !== fingerprintTrust(step.before)) return 'fingerprint is not the fingerprint of before';
  const role = parseRoleArn(step.roleArn);
  if (!role.ok) return `roleArn ${JSON.stringify(step.roleArn)} is not a role ARN`;
  if (step.roleName !== role.arn.name) return `roleName ${JSON.stringify(step.roleName)} is not the name in roleArn (${role.arn.name})`;
  const planClusters = new Map(plan.clusters.map((c) => [c.arn, c]));
  for (const arn of step.clusters) {
    const parsed = parseClusterArn(arn);
    if (!parsed.ok) return `clusters holds ${JSON.stringify(arn)}, which is not a cluster ARN`;
    if (parsed.arn.account !== role.arn.account) return `cluster ${arn} is in account ${parsed.arn.account}, not the role's account ${role.arn.account}`;
    const known = planClusters.get(arn);
    if (known === undefined) return `cluster ${arn} is not one of the plan's clusters`;
    if (known.account !== role.arn.account) return `cluster ${arn} is recorded in account ${known.account}, not the role's account ${role.arn.account}`;
  }
  const stepClusters = new Set(step.clusters);
  const subjectClusters = new Set(step.subjects.map((s) => s.cluster));
  if (stepClusters.size !== subjectClusters.size || [...subjectClusters].some((c) => !stepClusters.has(c))) return 'clusters is not the set of the clusters of subjects';
  if (step.basis === 'cross-account-source') {
    const recorded = plan.options.crossAccountSourceRole;
    if (recorded === null || roleKey(recorded) !== roleKey(step.roleArn)) return 'basis is cross-account-source but the role is not the recorded crossAccountSourceRole';
    const chained = new Set(
      plan.steps.filter((s): s is CreateAssociationStep => s.kind === 'create-association' && s.targetRoleArn !== null && roleKey(s.roleArn) === roleKey(step.roleArn))
        .map((s) => subjectKey({ cluster: s.cluster, namespace: s.namespace, serviceAccount: s.serviceAccount })),
    );
    const stray = step.subjects.find((s) => !chained.has(subjectKey(s)));
    if (stray !== undefined) return `subject ${stray.namespace}/${stray.serviceAccount} on ${stray.cluster} has no cross-account association chaining through this role`;
  }
  let original: TrustPolicy;
  let current: TrustPolicy;
  let result: ReturnType<typeof addPodIdentityTrust>;
  try {
    original = parsePolicy(step.before);
    result = addPodIdentityTrust(original, { partition: role.arn.partition, clusterAccount: role.arn.account, subjects: step.subjects });
    current = result.policy;
  } catch (err) {
    return `before cannot be edited as podid would: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (result.addedSubjects.length !== step.subjects.length) return 'before already admits some of its subjects, so the step has nothing to add for them';
  if (canonicalJson(policyToJson(current)) !== canonicalJson(step.after)) {
    return "after is not podid's change of before (only the Pod Identity statements for the step's subjects may be added or extended)";
  }
  if (canonicalJson(result.added) !== canonicalJson(step.added) || canonicalJson(result.extended) !== canonicalJson(step.extended)) {
    return `added and extended must be ${JSON.stringify(result.added)} and ${JSON.stringify(result.extended)}`;
  }
  if (step.lengthBefore !== policyLength(original) || step.lengthAfter !== policyLength(current)) return 'lengthBefore or lengthAfter does not match the policies';
  if (step.limit !== plan.options.trustPolicyLimit) return `limit ${step.limit} is not the plan's trustPolicyLimit ${plan.options.trustPolicyLimit}`;
  if (step.lengthAfter > step.limit) return `after is ${step.lengthAfter} characters, over the trust policy limit of ${step.limit}`;
  if (canonicalJson({ before: roleAccess(original), after: roleAccess(current) }) !== canonicalJson(step.access)) {
    return 'access (who can assume the role before and after) does not recompute from before and after';
  }
  const proof = checkNoWidening(original, current, accessClusters(plan), step.basis === 'cross-account-source' ? { chained: step.subjects } : {});
  if (proof.problems.length > 0) return `after would widen who can assume the role: ${proof.problems[0] ?? ''}`;
  return null;
}

function associationProblem(plan: MigrationPlan, step: CreateAssociationStep, trust: UpdateTrustStep | undefined): string | null {
  const cluster = plan.clusters.find((c) => c.arn === step.cluster);
  if (cluster === undefined) return `its cluster ${step.cluster} is not in clusters`;
  if (step.phases !== (step.targetRoleArn === null ? 'single' : 'two-phase')) return `phases must be ${step.targetRoleArn === null ? 'single' : 'two-phase'}`;
  const role = parseRoleArn(step.roleArn);
  if (!role.ok) return `roleArn ${JSON.stringify(step.roleArn)} is not a role ARN`;
  if (role.arn.account !== cluster.account) return `roleArn is in account ${role.arn.account}, not the cluster account ${cluster.account}`;
  if (step.targetRoleArn === null) {
    if (roleKey(step.roleArn) !== roleKey(step.annotationRoleArn)) return `roleArn ${step.roleArn} is not the annotated role ${step.annotationRoleArn}`;
  } else {
    const recorded = plan.options.crossAccountSourceRole;
    if (recorded === null || roleKey(recorded) !== roleKey(step.roleArn)) return 'roleArn of a cross-account association must be the recorded crossAccountSourceRole';
    if (roleKey(step.targetRoleArn) !== roleKey(step.annotationRoleArn)) return `targetRoleArn ${step.targetRoleArn} is not the annotated role ${step.annotationRoleArn}`;
  }
  if (trust !== undefined) {
    const subject = { cluster: step.cluster, namespace: step.namespace, serviceAccount: step.serviceAccount };
    const inStep = trust.subjects.some((s) => subjectKey(s) === subjectKey(subject));
    if (!inStep && !podIdentityAdmits(trust.before as Parameters<typeof podIdentityAdmits>[0], cluster.account, subject)) return `the trust step ${trust.id} neither adds nor already admits ${step.namespace}/${step.serviceAccount}`;
    if (inStep && !step.dependsOn.includes(trust.id)) return `it must depend on ${trust.id}, which admits it`;
  }
  return null;
}

/**
 * A restart batch restarts only workloads of the ServiceAccounts the plan migrates, as the plan
 * records them: each workload names at least one ServiceAccount; none of them is one the plan
 * blocks or outside its recorded selection (-n, --service-account); one whose association the plan creates is a same-account one (a cross-account
 * workload is never restarted: it is in the manual list) and the batch depends on that
 * association step; the workload is not in the manual list and in no other batch. (A
 * ServiceAccount with no association step is a partial one, whose association exists: apply
 * refuses the batch if it has none.)
 */
function restartProblem(plan: MigrationPlan, step: RestartBatchStep, restarted: Map<string, string>): string | null {
  const associations = new Map<string, CreateAssociationStep>(
    plan.steps.filter((s): s is CreateAssociationStep => s.kind === 'create-association').map((s) => [`${s.cluster}\u0000${s.namespace}\u0000${s.serviceAccount}`, s] as const),
  );
  const blocked = new Set(plan.blocked.flatMap((b) => (b.target.kind === 'service-account' ? [`${b.target.cluster}\u0000${b.target.namespace}\u0000${b.target.name}`] : [])));
  const manual = new Set(plan.manual.map((m) => `${m.cluster}\u0000${m.kind}\u0000${m.namespace}\u0000${m.name}\u0000${m.serviceAccount}`));
  // The scan the plan was made from kept only what -n and --service-account select (both: their intersection).
  const { namespaces, serviceAccounts } = plan.options.selection;
  const inScope = (ns: string, sa: string) => (namespaces.length === 0 || namespaces.includes(ns)) && (serviceAccounts.length === 0 || serviceAccounts.includes(`${ns}/${sa}`));
  const scopeText = [...namespaces.map((n) => `-n ${n}`), ...serviceAccounts.map((s) => `--service-account ${s}`)].join(' ');
  for (const [j, w] of step.workloads.entries()) {
    const what = `workloads[${j}] ${w.kind}/${w.namespace}/${w.name}`;
    if (w.serviceAccounts.length === 0) return `${what} names no ServiceAccount; podid restarts a workload only for a ServiceAccount the plan migrates`;
    const key = `${step.cluster}\u0000${w.kind}\u0000${w.namespace}\u0000${w.name}`;
    const other = restarted.get(key);
    if (other !== undefined) return `${what} is restarted by ${other} already`;
    restarted.set(key, step.id);
    for (const sa of w.serviceAccounts) {
      const saKey = `${step.cluster}\u0000${w.namespace}\u0000${sa}`;
      if (manual.has(`${key}\u0000${sa}`)) return `${what} is in the plan's manual list for ${w.namespace}/${sa}, which podid does not restart`;
      if (blocked.has(saKey)) return `${what} is restarted for ${w.namespace}/${sa}, a ServiceAccount the plan blocks`;
      if (!inScope(w.namespace, sa)) return `${what} is restarted for ${w.namespace}/${sa}, outside the plan's selection (${scopeText})`;
      const association = associations.get(saKey);
      if (association === undefined) continue;
      if (association.targetRoleArn !== null) return `${what} is restarted for ${w.namespace}/${sa}, whose association is cross-account: podid never restarts those (they are in the manual list)`;
      if (!step.dependsOn.includes(association.id)) return `${what} is restarted for ${w.namespace}/${sa}, so the batch must depend on ${association.id}`;
    }
  }
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
