/**
 * Selection flags of `podid migrate` (`-n`, `--service-account`, `--role`), and of `podid
 * finalize` and `podid scan` (`-n`, `--service-account`), checked against what the scan found. Pure.
 */
import { UsageError } from './errors.js';
import type { Inventory } from './scan/inventory.js';
import type { ManifestDoc } from './scan/manifests.js';
import type { FleetSnapshot } from './scan/snapshot.js';

export interface Selection {
  readonly namespaces: readonly string[];
  readonly serviceAccounts: readonly string[];
  readonly roles: readonly string[];
}

/** What a selection flag can match: every scanned IRSA service account and add-on, migrated or not. */
interface Selectable {
  readonly namespace: string;
  readonly name: string | null;
  readonly roleArn: string;
}

const roleKey = (arn: string) => arn.trim().toLowerCase();

/**
 * A `--role`, `-n` or `--service-account` value (or their combination) that matches no scanned
 * IRSA service account or add-on is a mistake to say plainly (exit 2), never "no changes":
 * a typo must not read as "already migrated". Migrated ones count as matches: for them "no
 * changes" is the truth.
 */
export function unmatchedSelection(inventory: Inventory, selection: Selection): UsageError | null {
  const items: Selectable[] = [
    ...inventory.serviceAccounts.map((s) => ({ namespace: s.namespace, name: s.name, roleArn: s.role.arn || s.roleArn })),
    ...inventory.addons.map((a) => {
      const owned = inventory.serviceAccounts.find((s) => s.cluster === a.cluster && s.addon === a.name);
      return { namespace: owned?.namespace ?? 'kube-system', name: owned?.name ?? a.serviceAccount, roleArn: a.serviceAccountRoleArn };
    }),
  ];
  // A cluster a fleet run could not scan is in the inventory too, but nothing of it was judged.
  const scanned = inventory.clusters.filter((c) => c.scanned !== false);
  const where = scanned.length === 1 ? `cluster ${scanned[0]!.name}` : `the ${scanned.length} scanned clusters`;
  const hint = 'podid scan lists the IRSA service accounts and roles in scope';
  const inNamespace = (ns: string) => (i: Selectable) => i.namespace === ns;
  const isAccount = (key: string) => (i: Selectable) => `${i.namespace}/${i.name}` === key;
  const usesRole = (arn: string) => (i: Selectable) => roleKey(i.roleArn) === roleKey(arn);
  // The scan keeps what -n AND --service-account select: with both, only their combination can be judged.
  const both = selection.namespaces.length > 0 && selection.serviceAccounts.length > 0;
  for (const ns of both ? [] : selection.namespaces) {
    if (!items.some(inNamespace(ns))) return new UsageError('SELECTION_EMPTY', `-n ${ns}: no IRSA service account or add-on in namespace ${ns} in ${where}`, `check the namespace; ${hint}`);
  }
  for (const sa of both ? [] : selection.serviceAccounts) {
    if (!items.some(isAccount(sa))) return new UsageError('SELECTION_EMPTY', `--service-account ${sa}: no IRSA service account ${sa} in ${where}`, `check the name; ${hint}`);
  }
  for (const role of selection.roles) {
    if (!items.some(usesRole(role))) {
      const narrowed = selection.namespaces.length + selection.serviceAccounts.length > 0 ? ' among those -n/--service-account select' : '';
      return new UsageError('SELECTION_EMPTY', `--role ${role}: no IRSA service account or add-on uses this role in ${where}${narrowed}`, `check the ARN; ${hint}`);
    }
  }
  const matches = (i: Selectable) =>
    (selection.namespaces.length === 0 || selection.namespaces.some((ns) => inNamespace(ns)(i)))
    && (selection.serviceAccounts.length === 0 || selection.serviceAccounts.some((sa) => isAccount(sa)(i)))
    && (selection.roles.length === 0 || selection.roles.some((r) => usesRole(r)(i)));
  const flags = [...selection.namespaces.map((n) => `-n ${n}`), ...selection.serviceAccounts.map((s) => `--service-account ${s}`), ...selection.roles.map((r) => `--role ${r}`)];
  if (flags.length > 1 && !items.some(matches)) {
    return new UsageError('SELECTION_EMPTY', `${flags.join(' ')}: no IRSA service account or add-on in ${where} matches them all`, `loosen the selection; ${hint}`);
  }
  return null;
}


/** The namespaces and ServiceAccounts (`namespace/name`) that exist where a scan looked. */
interface Listed {
  readonly namespaces: ReadonlySet<string>;
  readonly serviceAccounts: ReadonlySet<string>;
}

/**
 * `-n` and `--service-account` checked against what exists (`listed`), in one line that says
 * where (`where`) and what to run to see (`hint`); `noNamespace` says why a namespace counts as
 * missing there. Live and manifests scans share it, so both refuse the same way (exit 2).
 */
function unmatchedListed(listed: Listed, selection: Omit<Selection, 'roles'>, where: string, noNamespace: string, hint: string): UsageError | null {
  // With -n AND --service-account only their combination can be judged.
  const both = selection.namespaces.length > 0 && selection.serviceAccounts.length > 0;
  for (const ns of both ? [] : selection.namespaces) {
    if (!listed.namespaces.has(ns)) return new UsageError('SELECTION_EMPTY', `-n ${ns}: no namespace ${ns} (${noNamespace}) in ${where}`, `check the namespace; ${hint}`);
  }
  for (const ref of both ? [] : selection.serviceAccounts) {
    if (!listed.serviceAccounts.has(ref)) return new UsageError('SELECTION_EMPTY', `--service-account ${ref}: no ServiceAccount ${ref} in ${where}`, `check the name; ${hint}`);
  }
  if (both && !selection.serviceAccounts.some((ref) => listed.serviceAccounts.has(ref) && selection.namespaces.includes(ref.slice(0, ref.indexOf('/'))))) {
    const flags = [...selection.namespaces.map((n) => `-n ${n}`), ...selection.serviceAccounts.map((s) => `--service-account ${s}`)];
    return new UsageError('SELECTION_EMPTY', `${flags.join(' ')}: no ServiceAccount in ${where} matches them all`, `loosen the selection; ${hint}`);
  }
  return null;
}

/**
 * `podid finalize`'s and `podid scan`'s `-n` and `--service-account` checked against the
 * ServiceAccounts the scan listed, annotated or not. A finalized ServiceAccount no longer carries
 * the IRSA annotation, so "nothing to finalize" (and, for the gate, "no IRSA left") is the truth
 * for it; but a namespace with no ServiceAccount at all (every namespace has `default`) or a
 * ServiceAccount that does not exist is a typo, said plainly (exit 2): the gate must not pass on
 * nothing.
 */
export function unmatchedListedSelection(snapshot: FleetSnapshot, selection: Omit<Selection, 'roles'>): UsageError | null {
  const clusters = snapshot.clusters;
  const where = clusters.length === 1 ? `cluster ${clusters[0]!.name}` : `the ${clusters.length} scanned clusters`;
  const listed = clusters.flatMap((c) => c.kube.serviceAccounts);
  return unmatchedListed(
    { namespaces: new Set(listed.map((sa) => sa.namespace)), serviceAccounts: new Set(listed.map((sa) => `${sa.namespace}/${sa.name}`)) },
    selection,
    where,
    'not even its default ServiceAccount',
    'kubectl get serviceaccounts -A lists them',
  );
}

/**
 * `podid scan --manifests`'s `-n` and `--service-account`, checked as a live scan checks them:
 * a namespace exists in the files when an object in them is in it (`metadata.namespace`) or a
 * Namespace object names it; a ServiceAccount when a ServiceAccount object of that namespace
 * and name is in them (one without `metadata.namespace` is in `default`, as the scan reads it),
 * or the scan reports it (a hand-wired one). Inputs podid could not read (a parse error, not
 * text, empty: each fails every gate but `never` already) may hold what was asked for: then
 * nothing is said here. An unrendered template is not such an input (see below).
 */
export function unmatchedManifestSelection(docs: readonly ManifestDoc[], inventory: Inventory, selection: Omit<Selection, 'roles'>): UsageError | null {
  if (selection.namespaces.length + selection.serviceAccounts.length === 0) return null;
  if (docs.some((d) => d.type === 'problem' && d.problem !== 'duplicate-key' && d.problem !== 'unrendered-template')) return null;
  const namespaces = new Set<string>();
  const serviceAccounts = new Set<string>();
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  for (const d of docs) {
    if (d.type !== 'object') continue;
    const meta = d.value['metadata'];
    const m = meta !== null && typeof meta === 'object' ? (meta as Record<string, unknown>) : {};
    const ns = text(m['namespace']);
    const name = text(m['name']);
    if (ns !== undefined) namespaces.add(ns);
    if (d.value['kind'] === 'Namespace' && name !== undefined) namespaces.add(name);
    if (d.value['kind'] === 'ServiceAccount' && name !== undefined) {
      namespaces.add(ns ?? 'default');
      serviceAccounts.add(`${ns ?? 'default'}/${name}`);
    }
  }
  for (const sa of inventory.serviceAccounts) {
    namespaces.add(sa.namespace);
    serviceAccounts.add(`${sa.namespace}/${sa.name}`);
  }
  // Unrendered templates (MANIFEST_UNRENDERED_TEMPLATE) may set the name at render time, but
  // they do not stop the refusal: a typo must not pass the gate because a chart sits in the
  // repository. The hint says to render them.
  const templates = [...new Set((inventory.inputFindings ?? []).filter((f) => f.code === 'MANIFEST_UNRENDERED_TEMPLATE').map((f) => f.location?.file ?? ''))].filter((f) => f !== '');
  const hint = templates.length === 0
    ? 'podid scan --manifests without -n or --service-account reports every IRSA service account in them'
    : `the manifests hold ${templates.length === 1 ? 'an unrendered template' : `${templates.length} unrendered templates`} (${templates[0]}${templates.length > 1 ? ', ...' : ''}) whose names podid cannot read: render them (helm template ... --namespace NS) and scan the output, or run without -n or --service-account`;
  return unmatchedListed({ namespaces, serviceAccounts }, selection, 'the manifests', 'no object in it, no Namespace object names it', hint);
}
