/**
 * `podid migrate --dry-run --emit terraform FILE`: the plan as Terraform, for teams whose IAM
 * roles and EKS resources live in Terraform (podid applying them behind Terraform's back would
 * only produce drift). What it writes, and why each part takes the shape it does:
 *
 * - `aws_eks_pod_identity_association` resources, one per planned association (with
 *   `target_role_arn` for cross-account role chaining). They do not exist yet, so they are real
 *   resources that `terraform apply` creates.
 * - `aws_eks_addon` resources for agent installs: the plan only installs the agent where the
 *   add-on is absent, so a new resource is right too.
 * - For every trust-policy change, a `data "aws_iam_policy_document"` holding only the new (or
 *   extended) Pod Identity statement, with a comment naming the role and how to merge it into
 *   the role's `assume_role_policy`. The rest of the trust policy is the user's Terraform, which
 *   podid cannot see and must not restate.
 * - Add-on updates as comments: the add-on already exists and is managed somewhere (an
 *   `aws_eks_addon` or the eks module's `cluster_addons`); a second resource for it would fail
 *   to create. The comment says what to change in the existing definition.
 * - Restarts, blocked and manual items as comments: Terraform cannot restart workloads.
 *
 * Every string goes through {@link hclString}, so names and values from the outside world cannot
 * break the file or inject interpolation.
 */
import { createHash } from 'node:crypto';
import { parseClusterArn, parseRoleArn } from '../core/arn.js';
import { isJsonObject, type JsonObject } from '../core/json.js';
import type { CreateAssociationStep, MigrationPlan, PlanStep, UpdateAddonStep, UpdateTrustStep } from '../core/plan/model.js';
import { clusterLabeller, type ClusterLabeller } from '../core/plan/labels.js';
import { oneLine } from './common.js';
import { compareStrings } from '../core/text.js';

// ---------------------------------------------------------------------------------------------
// A small HCL writer: enough for blocks, string and string-list attributes, and comments.

/** A Terraform expression written as is (a reference such as `var.x` or `aws.alias`), never user text. */
interface HclExpr {
  readonly expr: string;
}
type HclScalar = string | HclExpr;
type HclValue = HclScalar | readonly HclScalar[];
type HclNode =
  | { readonly kind: 'attr'; readonly name: string; readonly value: HclValue }
  | { readonly kind: 'block'; readonly type: string; readonly labels: readonly string[]; readonly body: readonly HclNode[] }
  | { readonly kind: 'comment'; readonly text: string }
  /** Pre-formatted lines (object-valued attributes the writer has no model for), indented as a block. */
  | { readonly kind: 'raw'; readonly lines: readonly string[] };

const attr = (name: string, value: HclValue): HclNode => ({ kind: 'attr', name, value });
const block = (type: string, labels: readonly string[], body: readonly HclNode[]): HclNode => ({ kind: 'block', type, labels, body });
const comment = (text: string): HclNode => ({ kind: 'comment', text });

/**
 * A quoted HCL string literal. Besides the JSON-like escapes, `${` and `%{` start template
 * interpolations and directives inside quoted strings; doubling the sigil makes them literal,
 * so an IAM policy variable such as `${aws:PrincipalTag/x}` reaches the policy unchanged.
 */
export function hclString(s: string): string {
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  // A function replacement: in a replacement string `$$` would itself collapse to `$`.
  return `"${out.replace(/\$\{/g, () => '$${').replace(/%\{/g, () => '%%{')}"`;
}

const expr = (text: string): HclExpr => ({ expr: text });

function renderScalar(value: HclScalar): string {
  return typeof value === 'string' ? hclString(value) : value.expr;
}

function renderValue(value: HclValue, indent: string): string {
  if (!Array.isArray(value)) return renderScalar(value as HclScalar);
  const list = value as readonly HclScalar[];
  if (list.length <= 1) return `[${list.map(renderScalar).join(', ')}]`;
  return `[\n${list.map((v) => `${indent}  ${renderScalar(v)},`).join('\n')}\n${indent}]`;
}

function renderNodes(nodes: readonly HclNode[], indent: string): string[] {
  const out: string[] = [];
  // Like `terraform fmt`: the `=` of consecutive attributes line up.
  let run: { name: string; value: HclValue }[] = [];
  const flush = () => {
    const width = Math.max(0, ...run.map((a) => a.name.length));
    for (const a of run) out.push(`${indent}${a.name.padEnd(width)} = ${renderValue(a.value, indent)}`);
    run = [];
  };
  for (const node of nodes) {
    if (node.kind === 'attr') {
      // `terraform fmt` aligns the `=` of consecutive single-line attributes only: an attribute
      // whose value spans lines ends the group and keeps a single space before its `=`.
      if (renderValue(node.value, indent).includes('\n')) {
        flush();
        out.push(`${indent}${node.name} = ${renderValue(node.value, indent)}`);
        continue;
      }
      run.push(node);
      continue;
    }
    flush();
    if (node.kind === 'comment') {
      out.push(`${indent}# ${oneLine(node.text)}`.trimEnd());
    } else if (node.kind === 'raw') {
      out.push(...node.lines.map((l) => `${indent}${l}`));
    } else {
      const labels = node.labels.map((l) => ` ${hclString(l)}`).join('');
      out.push(`${indent}${node.type}${labels} {`, ...renderNodes(node.body, `${indent}  `), `${indent}}`);
    }
  }
  flush();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Names

/** A Terraform identifier: letters, digits and underscores, not starting with a digit. */
export function tfIdentifier(s: string): string {
  const cleaned = s.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(cleaned) ? cleaned : `_${cleaned}`;
}

/**
 * Unique names for `items` (by `key`, e.g. the association's cluster/ns/sa). Sanitising can make
 * two names equal (`a-b`/`c` and `a`/`b-c`); every member of such a group gets a suffix from a
 * hash of its key, so a name never depends on which other item came first.
 */
function uniqueNames(items: readonly { key: string; base: string }[]): string[] {
  const counts = new Map<string, number>();
  for (const { base } of items) counts.set(base, (counts.get(base) ?? 0) + 1);
  const taken = new Set<string>();
  return items.map(({ key, base }) => {
    let name = (counts.get(base) ?? 0) > 1 ? `${base}_${createHash('sha256').update(key).digest('hex').slice(0, 8)}` : base;
    for (let n = 2; taken.has(name); n++) name = `${base}_${n}`;
    taken.add(name);
    return name;
  });
}

// ---------------------------------------------------------------------------------------------
// IAM statements as aws_iam_policy_document `statement` blocks

function strings(value: unknown, path: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((v) => {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw unsupported(`${path} holds ${JSON.stringify(v)}`);
  });
}

/**
 * A statement element `statement` blocks have no attribute for (an unknown element, a condition
 * value that is an object). Internal to this module: such a statement is written as JSON in
 * `source_policy_documents` instead (see {@link policyDocumentBody}), so rendering never fails.
 */
class NotExpressible extends Error {}

function unsupported(what: string): NotExpressible {
  return new NotExpressible(what);
}


function principals(type: 'principals' | 'not_principals', value: unknown): HclNode[] {
  // aws_iam_policy_document writes `type = "*"`, `identifiers = ["*"]` as `"Principal": "*"`.
  if (value === '*') return [block(type, [], [attr('type', '*'), attr('identifiers', ['*'])])];
  if (!isJsonObject(value)) throw unsupported(`${type} ${JSON.stringify(value)}`);
  return Object.entries(value).map(([t, ids]) => block(type, [], [attr('type', t), attr('identifiers', strings(ids, `${type}.${t}`))]));
}

const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Principal', 'NotPrincipal', 'Condition']);

/**
 * One `statement` block, in the attribute order Terraform users write (not the JSON's order).
 * `substitute` maps a condition value that stands for something Terraform knows better (the
 * externalId placeholder) to the expression that holds it. Throws {@link NotExpressible} when
 * the statement has an element `statement` blocks cannot hold.
 */
function statementBlock(statement: JsonObject, substitute: ReadonlyMap<string, HclExpr> = new Map()): HclNode {
  for (const key of Object.keys(statement)) if (!STATEMENT_KEYS.has(key)) throw unsupported(`unknown element ${key}`);
  const body: HclNode[] = [];
  const listAttr = (key: string, name: string) => {
    if (statement[key] !== undefined) body.push(attr(name, strings(statement[key], key)));
  };
  if (typeof statement['Sid'] === 'string' && statement['Sid'] !== '') body.push(attr('sid', statement['Sid']));
  body.push(attr('effect', typeof statement['Effect'] === 'string' ? statement['Effect'] : 'Allow'));
  listAttr('Action', 'actions');
  listAttr('NotAction', 'not_actions');
  listAttr('Resource', 'resources');
  listAttr('NotResource', 'not_resources');
  if (statement['Principal'] !== undefined) body.push(...principals('principals', statement['Principal']));
  if (statement['NotPrincipal'] !== undefined) body.push(...principals('not_principals', statement['NotPrincipal']));
  const condition = statement['Condition'];
  if (condition !== undefined) {
    if (!isJsonObject(condition)) throw unsupported('Condition is not an object');
    for (const [test, entries] of Object.entries(condition)) {
      if (!isJsonObject(entries)) throw unsupported(`Condition.${test} is not an object`);
      for (const [variable, values] of Object.entries(entries)) {
        const list = strings(values, `Condition.${test}.${variable}`).map((v) => substitute.get(v) ?? v);
        body.push(block('condition', [], [attr('test', test), attr('variable', variable), attr('values', list)]));
      }
    }
  }
  return block('statement', [], body);
}

/**
 * The body of an `aws_iam_policy_document` holding these statements: a `statement` block each
 * where Terraform's blocks can say it, and the rest as one JSON policy document in
 * `source_policy_documents` (which the data source merges with its statements), so any statement
 * IAM accepted can be written.
 */
function policyDocumentBody(statements: readonly JsonObject[], substitute?: ReadonlyMap<string, HclExpr>): HclNode[] {
  const blocks: HclNode[] = [];
  const asJson: JsonObject[] = [];
  for (const statement of statements) {
    try {
      blocks.push(statementBlock(statement, substitute));
    } catch (err) {
      if (!(err instanceof NotExpressible)) throw err;
      asJson.push(statement);
    }
  }
  if (asJson.length === 0) return blocks;
  return [attr('source_policy_documents', [JSON.stringify({ Version: '2012-10-17', Statement: asJson })]), ...blocks];
}

function policyDocument(name: string, statement: JsonObject, substitute?: ReadonlyMap<string, HclExpr>): HclNode {
  return block('data', ['aws_iam_policy_document', name], policyDocumentBody([statement], substitute));
}

// ---------------------------------------------------------------------------------------------
// The plan

/** The cluster's EKS name, for `cluster_name` (the provider's region and account say which one). */
function clusterName(plan: MigrationPlan, ref: string): string {
  const known = plan.clusters.find((c) => c.arn === ref) ?? plan.clusters.find((c) => c.name === ref);
  if (known) return known.name;
  const parsed = parseClusterArn(ref);
  return parsed.ok ? parsed.arn.name : ref;
}

const labellers = new WeakMap<MigrationPlan, ClusterLabeller>();

/** How comments name a cluster: by name, with region (and account) when names collide in the plan. */
function label(plan: MigrationPlan, ref: string): string {
  let l = labellers.get(plan);
  if (l === undefined) {
    l = clusterLabeller(plan.clusters);
    labellers.set(plan, l);
  }
  return l(ref);
}

/** The label as part of a resource name: `prod`, or `prod_us_east_1` when two clusters are called prod. */
function labelName(plan: MigrationPlan, ref: string): string {
  return label(plan, ref).replace(/[\s(),]+/g, '_').replace(/_+$/, '');
}

/**
 * Provider aliases. EKS resources live in a region of an account, and the default `aws`
 * provider has one of each; a plan spanning several needs one aliased provider per region and
 * account, named `<region>_<account>` (`us_east_1_111122223333`). A plan within one region and
 * account keeps the default provider, as most configurations have it.
 */
interface Providers {
  /** The `provider` meta-argument for a cluster's resources; null: the default provider. */
  of(clusterRef: string): HclNode[];
  header: HclNode[];
}

function providerAlias(region: string, account: string): string {
  return tfIdentifier(`${region}_${account}`);
}

function providers(plan: MigrationPlan): Providers {
  const places = new Map<string, { region: string; account: string }>();
  for (const c of plan.clusters) places.set(providerAlias(c.region, c.account), { region: c.region, account: c.account });
  if (places.size <= 1) return { of: () => [], header: [] };
  const header = [
    comment(`This plan spans ${places.size} regions/accounts, so each EKS resource names its provider. Configure these aliased`),
    comment('AWS providers (provider "aws" with alias and region, and credentials for the account):'),
    ...[...places].sort(([a], [b]) => compareStrings(a, b)).map(([alias, p]) => comment(`  aws.${alias}  (region ${p.region}, account ${p.account})`)),
  ];
  return {
    header,
    of: (ref) => {
      const c = plan.clusters.find((x) => x.arn === ref);
      const parsed = c === undefined ? parseClusterArn(ref) : null;
      const place = c ?? (parsed?.ok === true ? parsed.arn : undefined);
      return place === undefined ? [] : [attr('provider', expr(`aws.${providerAlias(place.region, place.account)}`))];
    },
  };
}

function stepsOf<K extends PlanStep['kind']>(plan: MigrationPlan, kind: K): Extract<PlanStep, { kind: K }>[] {
  return plan.steps.filter((s): s is Extract<PlanStep, { kind: K }> => s.kind === kind);
}

/** Statement `index` of the step's new trust policy; null when the plan has none there (checkPlanIntegrity refuses such a plan). */
function statementAt(step: UpdateTrustStep, index: number): JsonObject | null {
  const raw = step.after['Statement'];
  const statement = Array.isArray(raw) ? (raw[index] as unknown) : index === 0 ? raw : undefined;
  return isJsonObject(statement) ? statement : null;
}

/** The names of the policy documents {@link trustSection} writes for a trust step. */
function trustDocs(step: UpdateTrustStep, name: string): string[] {
  return [
    ...(step.added.some((i) => statementAt(step, i) !== null) ? [name] : []),
    ...step.extended.filter((i) => statementAt(step, i) !== null).map((i) => `${name}_extended_${i}`),
  ];
}

function missingStatement(step: UpdateTrustStep, index: number): HclNode {
  return comment(`Role ${step.roleName} (${step.roleArn}): the plan has no statement ${index} in its new trust policy; nothing written for it (plan again).`);
}

function trustNames(plan: MigrationPlan): Map<string, string> {
  const steps = stepsOf(plan, 'update-trust');
  const names = uniqueNames(steps.map((s) => ({ key: s.roleArn, base: `${tfIdentifier(s.roleName)}_pod_identity_trust` })));
  return new Map(steps.map((s, i) => [s.roleArn.toLowerCase(), names[i] ?? '']));
}

function trustSection(plan: MigrationPlan, names: ReadonlyMap<string, string>): HclNode[] {
  return stepsOf(plan, 'update-trust').flatMap((s) => {
    const name = names.get(s.roleArn.toLowerCase()) ?? '';
    const who = s.subjects.map((x) => `${x.namespace}/${x.serviceAccount} on ${label(plan, x.cluster)}`);
    const shown = who.length <= 6 ? who.join(', ') : `${who.slice(0, 6).join(', ')} and ${who.length - 6} more`;
    const out: HclNode[] = [];
    const added = s.added.map((i) => statementAt(s, i));
    s.added.forEach((i, k) => {
      if (added[k] === null) out.push(missingStatement(s, i));
    });
    const present = added.filter((x): x is JsonObject => x !== null);
    if (present.length > 0) {
      const ref = `data.aws_iam_policy_document.${name}.json`;
      out.push(
        comment(`Role ${s.roleName} (${s.roleArn}): the Pod Identity statement${s.added.length === 1 ? '' : 's'} podid adds to its trust policy,`),
        comment(`admitting exactly ${shown} (each admitted by the role's IRSA trust today).`),
        comment(`Merge into the role's assume_role_policy: list ${ref} in source_policy_documents`),
        comment('of the aws_iam_policy_document that builds the trust policy (keep every existing statement).'),
        block('data', ['aws_iam_policy_document', name], policyDocumentBody(present)),
      );
    }
    for (const i of s.extended) {
      const statement = statementAt(s, i);
      if (statement === null) {
        out.push(missingStatement(s, i));
        continue;
      }
      const sid = typeof statement['Sid'] === 'string' && statement['Sid'] !== '' ? statement['Sid'] : null;
      const ext = `${name}_extended_${i}`;
      out.push(
        comment(`Role ${s.roleName} (${s.roleArn}): statement ${i} of its trust policy, extended by podid (still exactly the listed service accounts).`),
        sid === null
          ? comment('The statement has no sid: change the values of the existing statement to match this one.')
          : comment(`It replaces the existing statement "${sid}": list data.aws_iam_policy_document.${ext}.json in override_policy_documents of the role's trust document.`),
        block('data', ['aws_iam_policy_document', ext], policyDocumentBody([statement])),
      );
    }
    return out;
  });
}

function associationSection(plan: MigrationPlan, provider: Providers, trust: ReadonlyMap<string, string>): HclNode[] {
  const steps = stepsOf(plan, 'create-association');
  const names = uniqueNames(steps.map((s) => ({
    key: `${s.cluster}/${s.namespace}/${s.serviceAccount}`,
    base: tfIdentifier(`${labelName(plan, s.cluster)}_${s.namespace}_${s.serviceAccount}`),
  })));
  return steps.flatMap((s, i) => {
    const name = names[i] ?? '';
    const body: HclNode[] = [
      ...provider.of(s.cluster),
      attr('cluster_name', clusterName(plan, s.cluster)),
      attr('namespace', s.namespace),
      attr('service_account', s.serviceAccount),
      attr('role_arn', s.roleArn),
    ];
    if (s.targetRoleArn !== null) body.push(attr('target_role_arn', s.targetRoleArn));
    const trustDoc = trust.get(s.roleArn.toLowerCase());
    const trustStep = stepsOf(plan, 'update-trust').find((t) => t.roleArn.toLowerCase() === s.roleArn.toLowerCase());
    if (trustDoc !== undefined && trustStep !== undefined) {
      const docs = trustDocs(trustStep, trustDoc);
      body.push(comment(`After the trust change: add the aws_iam_role that merges ${docs.map((d) => `data.aws_iam_policy_document.${d}`).join(', ')} to depends_on.`));
      body.push(attr('depends_on', docs.map((d) => expr(`data.aws_iam_policy_document.${d}`))));
    }
    return [...(s.targetRoleArn !== null ? crossAccountHead(s) : []), block('resource', ['aws_eks_pod_identity_association', name], body), ...crossAccountDocs(s, name)];
  });
}

function crossAccountHead(s: CreateAssociationStep): HclNode[] {
  return [comment(`Cross-account role chaining: for pods of ${s.namespace}/${s.serviceAccount}, EKS assumes ${s.roleArn}, then ${s.targetRoleArn ?? ''}.`)];
}

/**
 * The aws provider floor: `aws_eks_pod_identity_association` arrived in 5.29.0; its
 * `target_role_arn` argument and `external_id` attribute in 6.2.0 (the provider's CHANGELOG;
 * 6.1.0 was withdrawn from the registry).
 */
export const AWS_PROVIDER_FLOOR = '5.29.0';
export const AWS_PROVIDER_FLOOR_TARGET_ROLE = '6.2.0';

function requiredProviders(plan: MigrationPlan): HclNode[] {
  const chained = stepsOf(plan, 'create-association').some((s) => s.targetRoleArn !== null);
  const floor = chained ? AWS_PROVIDER_FLOOR_TARGET_ROLE : AWS_PROVIDER_FLOOR;
  return [
    comment(chained ? `target_role_arn and external_id need the aws provider ${floor} or later.` : `aws_eks_pod_identity_association needs the aws provider ${floor} or later.`),
    block('terraform', [], [
      { kind: 'raw', lines: ['required_providers {', '  aws = {', '    source  = "hashicorp/aws"', `    version = ">= ${floor}"`, '  }', '}'] },
    ]),
  ];
}

/**
 * The two statements for the other account and the source role. The target trust requires the
 * association's externalId, which EKS generates on create: it is a required variable here, so
 * Terraform cannot apply the statement until someone supplies the real value.
 */
function crossAccountDocs(s: CreateAssociationStep, name: string): HclNode[] {
  if (s.crossAccount === null || s.targetRoleArn === null) return [];
  const target = parseRoleArn(s.targetRoleArn);
  const account = target.ok ? `account ${target.arn.account}` : 'the target role account';
  // EKS generates the externalId when it creates the association; the reference makes Terraform
  // create the association first and write the target trust with the real value (two phases).
  const substitute = new Map([[s.crossAccount.externalIdPlaceholder, expr(`aws_eks_pod_identity_association.${name}.external_id`)]]);
  return [
    comment(`Two-phase: the externalId exists only once aws_eks_pod_identity_association.${name} is created; the reference below`),
    comment('makes Terraform create the association first. Add this statement to the trust policy of'),
    comment(`${s.targetRoleArn} (in ${account}, with that account's provider); only then restart the workloads of the service account:`),
    policyDocument(`${name}_target_trust`, s.crossAccount.targetTrustStatement, substitute),
    comment(`Add to a permission policy of ${s.roleArn}, so it may assume and tag the target role:`),
    policyDocument(`${name}_source_permission`, s.crossAccount.sourcePermissionStatement),
  ];
}

function agentSection(plan: MigrationPlan, provider: Providers): HclNode[] {
  const steps = stepsOf(plan, 'install-agent');
  const names = uniqueNames(steps.map((s) => ({ key: s.cluster, base: tfIdentifier(`${labelName(plan, s.cluster)}_eks_pod_identity_agent`) })));
  return steps.flatMap((s, i) => [
    comment(`Pod Identity agent for ${label(plan, s.cluster)}. With the eks module, add eks-pod-identity-agent to cluster_addons instead.`),
    block('resource', ['aws_eks_addon', names[i] ?? ''], [
      ...provider.of(s.cluster),
      attr('cluster_name', clusterName(plan, s.cluster)),
      attr('addon_name', s.addonName),
      ...(s.addonVersion === null ? [] : [attr('addon_version', s.addonVersion)]),
    ]),
  ]);
}

function addonHint(plan: MigrationPlan, s: UpdateAddonStep): HclNode[] {
  const lines = [
    `Add-on ${s.addonName} on ${label(plan, s.cluster)} (version ${s.addonVersion}): move it from IRSA to Pod Identity.`,
    'In the aws_eks_addon resource that manages it, remove service_account_role_arn and add:',
    '',
    ...s.podIdentityAssociations.flatMap((a) => [
      '  pod_identity_association {',
      `    service_account = ${hclString(a.serviceAccount)}`,
      `    role_arn        = ${hclString(a.roleArn)}`,
      '  }',
    ]),
    '',
    `(eks module: pod_identity_association = [{ service_account = ..., role_arn = ... }] in its cluster_addons entry.)`,
    "The update replaces the add-on's associations and restarts its pods.",
  ];
  return lines.map(comment);
}

const KUBECTL_KIND = { Deployment: 'deployment', StatefulSet: 'statefulset', DaemonSet: 'daemonset' } as const;

function restartComments(plan: MigrationPlan): HclNode[] {
  const steps = stepsOf(plan, 'restart-batch');
  if (steps.length === 0) return [];
  const out = [comment(`After terraform apply, restart these in batches of at most ${plan.options.maxConcurrentRollouts} so new pods get Pod Identity credentials:`)];
  for (const s of steps) {
    const context = plan.clusters.find((c) => c.arn === s.cluster)?.context ?? null;
    const ctx = context === null ? '' : ` --context ${context}`;
    out.push(comment(`${label(plan, s.cluster)} batch ${s.batch}:`));
    for (const w of s.workloads) out.push(comment(`  kubectl${ctx} -n ${w.namespace} rollout restart ${KUBECTL_KIND[w.kind]}/${w.name}`));
  }
  return out;
}

function leftOutComments(plan: MigrationPlan): HclNode[] {
  const out: HclNode[] = [];
  for (const b of plan.blocked) {
    const t = b.target;
    const what =
      t.kind === 'service-account' ? `service account ${t.namespace}/${t.name} on ${label(plan, t.cluster)}`
      : t.kind === 'addon' ? `add-on ${t.name} on ${label(plan, t.cluster)}`
      : t.kind === 'role' ? `role ${t.roleArn}`
      : `cluster ${label(plan, t.cluster)}`;
    out.push(comment(`Blocked, not included: ${what}: ${b.reasons.map((r) => r.code).join(', ')}`));
  }
  for (const m of plan.manual) out.push(comment(`Manual: ${m.kind} ${m.namespace}/${m.name} on ${label(plan, m.cluster)}: ${m.advice}`));
  return out;
}

export function renderTerraform(plan: MigrationPlan): string {
  const provider = providers(plan);
  const header = [
    comment(`Generated by podid ${plan.toolVersion} from the migration plan created ${plan.createdAt}.`),
    comment(`Clusters: ${plan.clusters.map((c) => `${c.name} (${c.arn})`).join(', ') || 'none'}.`),
    // A partial scan's plan: the clusters this file does not cover, and why.
    ...plan.unscanned.map((u) => comment(`Not scanned, not in this file: ${u.name === u.context ? `context ${u.context}` : `${u.name} (context ${u.context})`}: ${u.reasons.map((f) => f.code).join(', ')}.`)),
    comment('podid does not apply or track this file. Review it, then apply it with Terraform instead of'),
    comment('`podid migrate --apply` (not both: the associations would already exist for the other).'),
    ...provider.header,
  ];
  const trust = trustNames(plan);
  const sections = [
    plan.steps.length > 0 ? requiredProviders(plan) : [],
    agentSection(plan, provider),
    trustSection(plan, trust),
    associationSection(plan, provider, trust),
    stepsOf(plan, 'update-addon').flatMap((s) => addonHint(plan, s)),
    restartComments(plan),
    leftOutComments(plan),
  ];
  if (plan.steps.length === 0) sections.push([comment('No changes: the plan has no steps.')]);
  // One blank line between top-level blocks; a comment stays attached to the block after it.
  const chunks: string[][] = [renderNodes(header, '')];
  for (const section of sections.filter((s) => s.length > 0)) {
    let pending: HclNode[] = [];
    for (const node of section) {
      pending.push(node);
      if (node.kind === 'block') {
        chunks.push(renderNodes(pending, ''));
        pending = [];
      }
    }
    if (pending.length > 0) chunks.push(renderNodes(pending, ''));
  }
  return `${chunks.map((c) => c.join('\n')).join('\n\n')}\n`;
}
