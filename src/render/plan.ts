/**
 * `podid migrate --dry-run`: the migration plan as a review a person can approve line by line,
 * in the spirit of `terraform plan` — what the plan covers and was made with, then every change
 * in execution order (agent installs, trust policies as coloured diffs, associations, add-on
 * updates, restarts), what it will not do (blocked, with reasons) and what is left to the user
 * (manual), and one summary line. `renderPlanJson` is the plan document itself (`-o json`,
 * `--out plan.json`). docs/plan.md explains both.
 */
import { parseClusterArn, parseRoleArn } from '../core/arn.js';
import { clusterLabeller, type ClusterLabeller } from '../core/plan/labels.js';
import type {
  BlockedItem, CreateAssociationStep, InstallAgentStep, ManualItem, MigrationPlan, PlanStep, RestartBatchStep, RoleAccess, RolloutTarget,
  UnscannedPlanCluster, UpdateAddonStep, UpdateTrustStep,
} from '../core/plan/model.js';
import type { Finding } from '../core/scan/inventory.js';
import { POD_IDENTITY_SERVICE, parsePolicy } from '../core/policy/index.js';
import { CLUSTER_CARRIED_CODES, KIND_ABBREVIATION, bySeverity, oneLine, plural } from './common.js';
import { trustDiff } from './diff.js';
import { jsonChunks } from './json-chunks.js';
import { SEVERITY_LABEL, paintSeverity, type Palette } from './palette.js';

export interface PlanRenderOptions {
  readonly palette: Palette;
  /** Unchanged lines around each trust-policy change; 3 like `diff -u`. */
  readonly diffContext?: number;
}

/** The plan document, two-space JSON with a trailing newline: what `-o json` prints and `--out` writes. */
export function renderPlanJson(plan: MigrationPlan): string {
  return `${JSON.stringify(plan, null, 2)}\n`;
}

/** renderPlanJson's text in pieces (a fleet's plan is MB of JSON): its steps, blocked and manual items a few at a time. */
export function* renderPlanJsonChunks(plan: MigrationPlan): Generator<string> {
  const lists: Record<string, readonly unknown[]> = { steps: plan.steps, blocked: plan.blocked, manual: plan.manual };
  // The top level in its own key order, the lists left to stream in their places.
  const shell = Object.fromEntries(Object.entries(plan).map(([k, v]) => [k, Object.hasOwn(lists, k) ? [] : v]));
  yield* jsonChunks(shell, lists);
  yield '\n';
}

export function renderPlan(plan: MigrationPlan, opts: PlanRenderOptions): string {
  const ctx: Ctx = { plan, p: opts.palette, diffContext: opts.diffContext ?? 3, label: clusterLabeller(plan.clusters) };
  const out: string[] = [...header(ctx), ''];
  const stepsOf = <K extends PlanStep['kind']>(kind: K) => plan.steps.filter((s): s is Extract<PlanStep, { kind: K }> => s.kind === kind);

  const sections: [string, string[]][] = [
    ['Not scanned: not in this plan', plan.unscanned.flatMap((u) => unscanned(ctx, u))],
    ['Agent add-ons (CreateAddon)', stepsOf('install-agent').flatMap((s) => installAgent(ctx, s))],
    ['Trust policies (UpdateAssumeRolePolicy)', stepsOf('update-trust').flatMap((s) => updateTrust(ctx, s))],
    ['Pod identity associations (CreatePodIdentityAssociation)', associations(ctx, stepsOf('create-association'))],
    ['Add-ons (UpdateAddon)', stepsOf('update-addon').flatMap((s) => updateAddon(ctx, s))],
    ['Restarts (rollout restart, in batches)', restarts(ctx, stepsOf('restart-batch'))],
    ['Blocked: not in this plan', blockedSection(ctx, plan.blocked)],
    ['Manual: podid will not restart these', plan.manual.flatMap((m) => manual(ctx, m))],
  ];
  const shown = sections.filter(([, lines]) => lines.length > 0);
  if (plan.steps.length > 0) {
    out.push(`Symbols: ${ctx.p.green('+')} create, ${ctx.p.yellow('~')} update in place, ${ctx.p.red('!')} blocked, ${ctx.p.yellow('?')} manual`, '');
  }
  for (const [title, lines] of shown) out.push(ctx.p.bold(title), ...lines, '');
  out.push(...summary(ctx));
  return `${out.join('\n')}\n`;
}

interface Ctx {
  readonly plan: MigrationPlan;
  readonly p: Palette;
  readonly diffContext: number;
  readonly label: ClusterLabeller;
}

/**
 * A step's cluster is its ARN; the reader wants the name the plan knows it by, with the region
 * (and account) when two clusters of the plan share a name.
 */
function clusterName(ctx: Ctx, ref: string): string {
  return oneLine(ctx.label(ref));
}

function clusterAccount(ctx: Ctx, ref: string): string | null {
  const known = ctx.plan.clusters.find((c) => c.arn === ref || c.name === ref);
  if (known) return known.account;
  const parsed = parseClusterArn(ref);
  return parsed.ok ? parsed.arn.account : null;
}

/** `role/cart` for a role of the cluster's account; the full ARN when the account is the point. */
function roleRef(arn: string, account: string | null): string {
  const parsed = parseRoleArn(arn);
  if (!parsed.ok || parsed.arn.account !== account) return oneLine(arn);
  return oneLine(`role${parsed.arn.path}${parsed.arn.name}`);
}

function header(ctx: Ctx): string[] {
  const { plan, p } = ctx;
  const o = plan.options;
  const lines = [p.bold(`podid migration plan, created ${oneLine(plan.createdAt)} by podid ${oneLine(plan.toolVersion)}`)];
  lines.push(`  caller     ${oneLine(plan.caller.arn)} (account ${oneLine(plan.caller.account)})`);
  if (plan.clusters.length === 0) lines.push(plan.unscanned.length === 0 ? '  clusters   none' : `  clusters   none: ${plural(plan.unscanned.length, 'cluster')} could not be scanned (see Not scanned)`);
  plan.clusters.forEach((c, i) => {
    const context = c.context !== null && c.context !== c.arn ? `, context ${oneLine(c.context)}` : '';
    lines.push(`  ${i === 0 ? 'clusters ' : '         '}  ${oneLine(c.name)} (${oneLine(c.arn)}${context})`);
  });
  const restart = o.restart ? `restart yes, at most ${o.maxConcurrentRollouts} rollouts at a time per cluster` : 'restart no (--no-restart)';
  lines.push(`  options    install-agent ${o.installAgent ? 'yes' : 'no'}, ${restart}, trust policy limit ${o.trustPolicyLimit}`);
  if (o.crossAccountSourceRole !== null) lines.push(`             cross-account source role ${oneLine(o.crossAccountSourceRole)}`);
  const sel = o.selection;
  const scoped: [string, string[]][] = [['contexts', sel.contexts], ['namespaces', sel.namespaces], ['service accounts', sel.serviceAccounts], ['roles', sel.roles]];
  const scope = scoped.filter(([, v]) => v.length > 0).map(([k, v]) => `${k} ${v.map(oneLine).join(', ')}`);
  if (scope.length > 0) lines.push(`  selection  ${scope.join('; ')}`);
  return lines;
}

function installAgent(ctx: Ctx, s: InstallAgentStep): string[] {
  const version = s.addonVersion === null ? 'the default version for the cluster' : `version ${oneLine(s.addonVersion)}`;
  return [`  ${ctx.p.green('+')} agent add-on ${s.addonName} on ${clusterName(ctx, s.cluster)} (${version})`];
}


function updateTrust(ctx: Ctx, s: UpdateTrustStep): string[] {
  const { p } = ctx;
  const counts = [s.added.length > 0 ? `+${s.added.length} statement${s.added.length === 1 ? '' : 's'}` : '', s.extended.length > 0 ? `~${s.extended.length} extended` : ''].filter((x) => x !== '').join(', ');
  const who = `${POD_IDENTITY_SERVICE} for ${plural(s.subjects.length, 'service account')} on ${s.clusters.map((c) => clusterName(ctx, c)).join(', ')}`;
  const lines = [`  ${p.yellow('~')} role ${oneLine(s.roleName)} (${oneLine(s.roleArn)})  trust policy: ${counts} (${who})`];
  lines.push(...accessLines(ctx, s).map((l) => `      ${l}`));
  lines.push(...trustDiff(s.before, s.after, { palette: p, context: ctx.diffContext }));
  const kept = unchangedStatements(ctx, s);
  if (kept.length > 0) lines.push(p.dim(`      unchanged: ${plural(kept.length, 'statement')} (${kept.join('; ')})`));
  const length = `length ${s.lengthBefore} -> ${s.lengthAfter} of ${s.limit} (IAM, without whitespace)`;
  const paint = s.lengthAfter > s.limit ? p.red : s.lengthAfter * 10 >= s.limit * 9 ? p.yellow : p.dim;
  lines.push(`      ${paint(length)}`);
  return lines;
}

/** `system:serviceaccount:shop:cart` -> `shop/cart`; other values as written. */
function subjectLabel(sub: string): string {
  if (sub === '*') return 'every service account';
  const m = /^system:serviceaccount:([^:]*):(.*)$/.exec(sub);
  return oneLine(m === null ? sub : `${m[1]}/${m[2]}`);
}

function providerLabel(ctx: Ctx, provider: string): string {
  const names = ctx.plan.clusters.filter((c) => c.oidcProvider === provider).map((c) => clusterName(ctx, c.arn));
  if (names.length > 0) return names.join(', ');
  const issuer = provider.slice(provider.indexOf('oidc-provider/') + 'oidc-provider/'.length);
  return `provider ${oneLine(issuer)}`;
}

function clusterValue(ctx: Ctx, v: string): string {
  if (v === '*') return 'any cluster';
  if (v.startsWith('name:')) return `cluster named ${oneLine(v.slice(5))}`;
  return clusterName(ctx, v);
}

/** Who can assume the role, one line per grant, as the plan stores it (recomputed from the documents on load). */
function accessSummary(ctx: Ctx, a: RoleAccess): string[] {
  const out: string[] = [];
  for (const g of a.irsa) {
    const extra = g.otherConditions.length > 0 ? ` (also ${g.otherConditions.map(oneLine).join(', ')})` : '';
    out.push(`IRSA via ${providerLabel(ctx, g.provider)}: ${g.subjects.map(subjectLabel).join(', ')}${extra}`);
  }
  for (const g of a.podIdentity) {
    if (g.kind === 'unconditioned') out.push(`Pod Identity: any cluster in any account (statement ${g.statement} has no conditions)`);
    else if (g.kind === 'unprovable') out.push(`Pod Identity: none provably (statement ${g.statement}: ${oneLine(g.reason)})`);
    else {
      const clusters = g.clusters.map((c) => clusterValue(ctx, c)).join(', ');
      const any = (v: string[], what: string) => (v.length === 1 && v[0] === '*' ? `any ${what}` : v.map(oneLine).join(', '));
      const accounts = g.accounts.length === 1 && g.accounts[0] === '*' ? ', any account' : '';
      if (g.namespaces.length * g.serviceAccounts.length <= 4 && !g.namespaces.includes('*') && !g.serviceAccounts.includes('*')) {
        const pairs = g.namespaces.flatMap((ns) => g.serviceAccounts.map((sa) => oneLine(`${ns}/${sa}`)));
        out.push(`Pod Identity on ${clusters}${accounts}: ${pairs.join(', ')}`);
      } else {
        out.push(`Pod Identity on ${clusters}${accounts}: namespaces ${any(g.namespaces, 'namespace')} x service accounts ${any(g.serviceAccounts, 'service account')}`);
      }
    }
  }
  for (const g of a.other) out.push(`other: ${g.principals.map(oneLine).join(', ')} (statement ${g.statement}, untouched)`);
  if (a.denies.length > 0) out.push(`Deny: statement ${a.denies.join(', ')} (kept)`);
  return out.length === 0 ? ['nobody'] : out;
}

function accessLines(ctx: Ctx, s: UpdateTrustStep): string[] {
  const { p } = ctx;
  const before = accessSummary(ctx, s.access.before);
  const after = accessSummary(ctx, s.access.after);
  const lines = [p.bold('who can assume this role:')];
  before.forEach((l, i) => lines.push(`  ${i === 0 ? 'before' : '      '}  ${l}`));
  after.forEach((l, i) => {
    const fresh = !before.includes(l);
    lines.push(`  ${i === 0 ? 'after ' : '      '}${fresh ? p.green('+ ') : '  '}${fresh ? p.green(l) : l}`);
  });
  const basis = s.basis === 'irsa'
    ? `new: ${plural(s.subjects.length, 'service account')}, each the Pod Identity twin of a service account the IRSA trust admits (checked: nobody else)`
    : `new: ${plural(s.subjects.length, 'cross-account service account')} whose associations chain through this source role (each target role admits only its association's externalId)`;
  lines.push(p.dim(`  ${basis}`));
  return lines;
}

/** The statements the change leaves as they are, so a reviewer sees that the OIDC statements stay. */
function unchangedStatements(ctx: Ctx, s: UpdateTrustStep): string[] {
  const touched = new Set([...s.added, ...s.extended]);
  const access = s.access.after;
  const describe = (i: number): string => {
    const irsa = access.irsa.filter((g) => g.statement === i).map((g) => `IRSA via ${providerLabel(ctx, g.provider)}`);
    const pod = access.podIdentity.some((g) => g.statement === i) ? ['Pod Identity'] : [];
    const other = access.other.some((g) => g.statement === i) ? ['other principals'] : [];
    const deny = access.denies.includes(i) ? ['Deny'] : [];
    const what = [...irsa, ...pod, ...other, ...deny];
    return `${i}: ${what.length === 0 ? 'grants nothing podid recognises' : what.join(', ')}`;
  };
  let count = 0;
  try {
    count = parsePolicy(s.after).statements.length;
  } catch {
    return [];
  }
  return Array.from({ length: count }, (_, i) => i).filter((i) => !touched.has(i)).map(describe);
}

function jsonBlock(value: unknown, indent: string): string[] {
  return JSON.stringify(value, null, 2).split('\n').map((l) => `${indent}${l}`);
}

function associations(ctx: Ctx, steps: readonly CreateAssociationStep[]): string[] {
  const { p } = ctx;
  const width = Math.max(0, ...steps.map((s) => clusterName(ctx, s.cluster).length));
  return steps.flatMap((s) => {
    const account = clusterAccount(ctx, s.cluster);
    const sa = oneLine(`${s.namespace}/${s.serviceAccount}`);
    const chain = s.targetRoleArn === null ? roleRef(s.roleArn, account) : `${roleRef(s.roleArn, account)} -> ${oneLine(s.targetRoleArn)}`;
    const lines = [`  ${p.green('+')} association  ${clusterName(ctx, s.cluster).padEnd(width)}  ${sa} -> ${chain}`];
    if (s.annotationRoleArn !== (s.targetRoleArn ?? s.roleArn)) lines.push(p.dim(`      IRSA annotation today: ${oneLine(s.annotationRoleArn)}`));
    if (s.crossAccount !== null && s.targetRoleArn !== null) {
      const target = parseRoleArn(s.targetRoleArn);
      const where = target.ok ? `account ${target.arn.account}` : 'the other account';
      const cluster = ctx.plan.clusters.find((c) => c.arn === s.cluster);
      const name = oneLine(cluster?.name ?? clusterName(ctx, s.cluster));
      lines.push(p.yellow(`      two-phase: podid does not change ${where}, and does not restart these workloads (see Manual). Once the association exists,`));
      lines.push(p.yellow('      every new pod of this service account (a scale-up, a rescheduled pod, the next rollout) gets no credentials until step 2 is done'));
      lines.push(p.yellow("      (apply prints the externalId): do steps 1-3 right after the apply. After the association exists:"));
      lines.push(p.yellow(`      1. read its externalId: aws eks list-pod-identity-associations --cluster-name ${name}${cluster === undefined ? '' : ` --region ${oneLine(cluster.region)}`} --namespace ${oneLine(s.namespace)} --service-account ${oneLine(s.serviceAccount)},`));
      lines.push(p.yellow('         then aws eks describe-pod-identity-association --association-id ID (its externalId field)'));
      lines.push(p.yellow(`      2. add to the trust policy of ${oneLine(s.targetRoleArn)}, with that externalId in place of the placeholder:`));
      lines.push(...jsonBlock(s.crossAccount.targetTrustStatement, '        '));
      lines.push(p.yellow(`      3. add to a permission policy of ${oneLine(s.roleArn)}:`), ...jsonBlock(s.crossAccount.sourcePermissionStatement, '        '));
      lines.push(p.yellow('      4. restart the workloads of this service account (kubectl rollout restart)'));
    }
    return lines;
  });
}

function updateAddon(ctx: Ctx, s: UpdateAddonStep): string[] {
  const { p } = ctx;
  const account = clusterAccount(ctx, s.cluster);
  const next = `[${s.podIdentityAssociations.map((a) => `${oneLine(a.serviceAccount)} -> ${roleRef(a.roleArn, account)}`).join(', ')}]`;
  const from = s.before.serviceAccountRoleArn !== null ? 'serviceAccountRoleArn' : `podIdentityAssociations [${s.before.podIdentityAssociations.map(oneLine).join(', ')}]`;
  const lines = [`  ${p.yellow('~')} add-on ${oneLine(s.addonName)} on ${clusterName(ctx, s.cluster)}: ${from} -> podIdentityAssociations ${next}`];
  const details = [`version ${oneLine(s.addonVersion)}`];
  if (s.before.serviceAccountRoleArn !== null) details.push(`serviceAccountRoleArn ${roleRef(s.before.serviceAccountRoleArn, account)} is no longer used`);
  if (s.before.podIdentityAssociations.length > 0) details.push(`replaces ${plural(s.before.podIdentityAssociations.length, 'existing association')}`);
  details.push("EKS restarts the add-on's pods");
  lines.push(p.dim(`      ${details.join('; ')}`));
  return lines;
}

/** `deploy/cart, sts/orders in shop; ds/log-shipper in logging`: namespaces in first-seen order. */
function workloadList(workloads: readonly RolloutTarget[]): string {
  const byNamespace = new Map<string, string[]>();
  for (const w of workloads) {
    const list = byNamespace.get(w.namespace) ?? [];
    list.push(`${KIND_ABBREVIATION[w.kind]}/${oneLine(w.name)}`);
    byNamespace.set(w.namespace, list);
  }
  return [...byNamespace].map(([ns, names]) => `${names.join(', ')} in ${oneLine(ns)}`).join('; ');
}

function restarts(ctx: Ctx, steps: readonly RestartBatchStep[]): string[] {
  const { p, plan } = ctx;
  if (!plan.options.restart) {
    const any = plan.steps.some((s) => s.kind === 'create-association');
    return any ? [p.yellow('  none (--no-restart): restart the workloads of the associated service accounts yourself; running pods keep IRSA until then')] : [];
  }
  const clusters = [...new Set(steps.map((s) => s.cluster))];
  return clusters.flatMap((cluster) => [
    `  ${clusterName(ctx, cluster)}`,
    ...steps.filter((s) => s.cluster === cluster).flatMap((s) => {
      const sas = [...new Set(s.workloads.flatMap((w) => w.serviceAccounts.map((sa) => oneLine(`${w.namespace}/${sa}`))))];
      const lines = [`    batch ${s.batch}: ${workloadList(s.workloads)}`];
      if (sas.length > 0) lines.push(p.dim(`      after the association${sas.length === 1 ? '' : 's'} of ${sas.join(', ')}`));
      return lines;
    }),
  ]);
}

function blockedLabel(ctx: Ctx, t: BlockedItem['target']): string {
  switch (t.kind) {
    case 'service-account':
      return `service account ${oneLine(`${t.namespace}/${t.name}`)} on ${clusterName(ctx, t.cluster)} (${roleRef(t.roleArn, clusterAccount(ctx, t.cluster))})`;
    case 'addon':
      return `add-on ${oneLine(t.name)} on ${clusterName(ctx, t.cluster)}`;
    case 'role':
      return `role ${oneLine(t.roleArn)}`;
    case 'cluster':
      return `cluster ${clusterName(ctx, t.cluster)}`;
  }
}

function reasonLines(ctx: Ctx, reasons: readonly Finding[]): string[] {
  const { p } = ctx;
  return bySeverity(reasons).flatMap((f) => {
    const label = SEVERITY_LABEL[f.severity].padEnd(5);
    return [`      ${paintSeverity(p, f.severity, label)} ${oneLine(f.code)}  ${oneLine(f.message)}`, p.dim(`            fix: ${oneLine(f.fix)}`)];
  });
}

/** A cluster a fleet run could not scan: which, and why (its error finding). */
function unscanned(ctx: Ctx, u: UnscannedPlanCluster): string[] {
  const where = u.name === u.context ? `context ${oneLine(u.context)}` : `${oneLine(u.name)} (context ${oneLine(u.context)})`;
  return [`  ${ctx.p.red('!')} ${where}`, ...reasonLines(ctx, u.reasons)];
}

/** Findings about the cluster that the planner gives each of its blocked service accounts and add-ons: the scan's, and the agent it lacks. */
const CLUSTER_LEVEL = new Set([...CLUSTER_CARRIED_CODES, 'AGENT_REQUIRED']);
const reasonKey = (f: Finding) => `${f.code}\u0000${f.message}\u0000${f.fix}\u0000${f.suppressed?.reason ?? ''}`;

/**
 * The blocked items, a cluster's items together (the plan sorts them so). A cluster-level finding
 * that several items of one cluster carry (CLUSTER_BLOCKED, AGENT_REQUIRED, ...) is shown once,
 * above them, as the scan table does: on a blocked cluster of 200 service accounts the same
 * finding 200 times would bury everything else.
 */
function blockedSection(ctx: Ctx, items: readonly BlockedItem[]): string[] {
  const { p } = ctx;
  const clusterOf = (b: BlockedItem) => (b.target.kind === 'service-account' || b.target.kind === 'addon' ? b.target.cluster : null);
  const lines: string[] = [];
  for (let i = 0; i < items.length;) {
    const cluster = clusterOf(items[i]!);
    let end = i + 1;
    while (cluster !== null && end < items.length && clusterOf(items[end]!) === cluster) end += 1;
    const group = items.slice(i, end);
    i = end;
    const counts = new Map<string, { finding: Finding; n: number }>();
    for (const b of group) {
      for (const f of new Map(b.reasons.filter((r) => CLUSTER_LEVEL.has(r.code)).map((r) => [reasonKey(r), r])).values()) {
        const seen = counts.get(reasonKey(f)) ?? { finding: f, n: 0 };
        seen.n += 1;
        counts.set(reasonKey(f), seen);
      }
    }
    const shared = cluster === null ? [] : [...counts.values()].filter((c) => c.n > 1).map((c) => c.finding);
    const sharedKeys = new Set(shared.map(reasonKey));
    if (shared.length > 0) {
      const sas = group.filter((b) => b.target.kind === 'service-account' && b.reasons.some((r) => sharedKeys.has(reasonKey(r)))).length;
      const addons = group.filter((b) => b.target.kind === 'addon' && b.reasons.some((r) => sharedKeys.has(reasonKey(r)))).length;
      const what = [sas > 0 ? plural(sas, 'service account') : '', addons > 0 ? plural(addons, 'add-on') : ''].filter((x) => x !== '').join(' and ');
      lines.push(`  ${p.red('!')} cluster ${clusterName(ctx, cluster!)}: for each of the ${what} below`, ...reasonLines(ctx, shared));
    }
    for (const b of group) {
      const own = b.reasons.filter((r) => !sharedKeys.has(reasonKey(r)));
      lines.push(`  ${p.red('!')} ${blockedLabel(ctx, b.target)}`);
      if (own.length > 0) lines.push(...reasonLines(ctx, own));
      else lines.push(p.dim(`      the cluster's findings above`));
    }
  }
  return lines;
}

function manual(ctx: Ctx, m: ManualItem): string[] {
  return [
    `  ${ctx.p.yellow('?')} ${KIND_ABBREVIATION[m.kind]}/${oneLine(m.name)} in ${oneLine(m.namespace)} on ${clusterName(ctx, m.cluster)} (service account ${oneLine(m.serviceAccount)})`,
    ctx.p.dim(`      ${oneLine(m.advice)}`),
  ];
}

function summary(ctx: Ctx): string[] {
  const { p, plan } = ctx;
  const s = plan.summary;
  const lines: string[] = [];
  const skipped = plan.unscanned.length;
  const uncovered = `this plan does not cover ${skipped === 1 ? 'it' : 'them'}; plan again once ${skipped === 1 ? 'it' : 'they'} can be read.`;
  const notScanned = `${plural(skipped, 'cluster')} not scanned (see Not scanned): ${uncovered}`;
  let manualSaid = false;
  if (plan.steps.length === 0 && plan.clusters.length === 0 && skipped > 0) {
    // Nothing was judged: "already uses EKS Pod Identity" would be a claim about clusters nobody read.
    lines.push(`${p.bold('No plan:')} ${skipped === 1 ? 'the selected cluster could not be scanned' : `none of the ${skipped} selected clusters could be scanned`} (see Not scanned), so nothing was judged.`);
  } else if (plan.steps.length === 0) {
    const why = [s.blocked > 0 ? `${s.blocked} blocked: resolve them and plan again.` : '', skipped > 0 ? notScanned : ''].filter((x) => x !== '');
    // Workloads podid does not restart (a bare Pod, a Job, ...) still run without Pod Identity:
    // never "everything already uses it" while some are left to do by hand.
    if (why.length === 0 && s.manual > 0) {
      why.push(`Not everything selected uses EKS Pod Identity yet: ${plural(s.manual, 'workload')} to restart or recreate yourself (see Manual above).`);
      manualSaid = true;
    }
    if (why.length === 0) why.push('Everything selected already uses EKS Pod Identity.');
    const where = skipped > 0 ? ` on the ${plural(plan.clusters.length, 'scanned cluster')}` : '';
    lines.push(`${p.bold(`No changes${where}.`)} ${why.join(' ')}`);
  } else {
    if (s.agentsToInstall > 0) lines.push(`Agents: ${plural(s.agentsToInstall, 'eks-pod-identity-agent add-on')} to install`);
    const blockedText = s.blocked > 0 ? p.red(`${s.blocked} blocked`) : `${s.blocked} blocked`;
    lines.push(
      `${p.bold('Plan:')} ${plural(s.rolesToUpdate, 'role')} to update, ${plural(s.associationsToCreate, 'association')} to create, ${plural(s.addonsToUpdate, 'add-on')} to update, ${plural(s.workloadsToRestart, 'workload')} to restart, ${blockedText}`,
    );
  }
  if (s.manual > 0 && !manualSaid) lines.push(`Manual: ${plural(s.manual, 'workload')} to restart or recreate yourself (see above)`);
  if (plan.steps.length > 0 && skipped > 0) lines.push(p.red(`Not scanned: ${plural(skipped, 'cluster')} (see above): ${uncovered}`));
  return lines;
}
