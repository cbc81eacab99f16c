/**
 * Selection flags of `podid migrate` (`-n`, `--service-account`, `--role`), and of `podid
 * finalize` and `podid scan` (`-n`, `--service-account`), checked against what the scan found. Pure.
 */
import { UsageError } from './errors.js';
import type { Inventory } from './scan/inventory.js';
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
  const hint = 'kubectl get serviceaccounts -A lists them';
  // The scan lists what -n AND --service-account select: with both, only their combination can be judged.
  const both = selection.namespaces.length > 0 && selection.serviceAccounts.length > 0;
  for (const ns of both ? [] : selection.namespaces) {
    if (!listed.some((sa) => sa.namespace === ns)) return new UsageError('SELECTION_EMPTY', `-n ${ns}: no namespace ${ns} (not even its default ServiceAccount) in ${where}`, `check the namespace; ${hint}`);
  }
  for (const ref of both ? [] : selection.serviceAccounts) {
    if (!listed.some((sa) => `${sa.namespace}/${sa.name}` === ref)) return new UsageError('SELECTION_EMPTY', `--service-account ${ref}: no ServiceAccount ${ref} in ${where}`, `check the name; ${hint}`);
  }
  if (both && listed.length === 0) {
    const flags = [...selection.namespaces.map((n) => `-n ${n}`), ...selection.serviceAccounts.map((s) => `--service-account ${s}`)];
    return new UsageError('SELECTION_EMPTY', `${flags.join(' ')}: no ServiceAccount in ${where} matches them all`, `loosen the selection; ${hint}`);
  }
  return null;
}
