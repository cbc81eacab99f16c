/**
 * What the analysis records for the planner beyond the documented Inventory: the facts a
 * migration plan needs that a scan report does not show (service-account uid and
 * resourceVersion for the fingerprints, workload uids, existing associations, add-on version
 * and configuration, every read role's trust policy parsed once, who uses each role). Built by
 * `analyzeFleet` from the same snapshot as the reports, so the two always agree; the planner
 * reads only this and the Inventory, never the snapshot.
 *
 * Not serialised: `podid scan -o json` prints the documented Inventory only (the schema in
 * render/inventory-schema.ts picks its keys), so this part can change without a schema bump.
 */
import { ROLE_ARN_ANNOTATION } from '../annotations.js';
import { oidcProviderArn, parseRoleArn } from '../arn.js';
import type { JsonObject } from '../json.js';
import { parsePolicyOnce } from '../policy/index.js';
import type { AccessCluster, TrustPolicy } from '../policy/index.js';
import { compareStrings } from '../text.js';
import type { Inventory } from './inventory.js';
import type { FleetSnapshot, RoleSnapshot, WorkloadKind } from './snapshot.js';

/** An Inventory the planner can plan from: a live scan's, with its planning facts. */
export interface PlannableInventory extends Inventory {
  readonly planning: PlanningFacts;
}

export interface PlanningFacts {
  /** Who ran the scan (recorded in the plan). */
  caller: { account: string; arn: string };
  /** By cluster ARN: every scanned cluster. */
  clusters: Record<string, ClusterPlanningFacts>;
  /** Every role the scan read, under the keys the scan read it by (see {@link planningRole}). */
  roles: Record<string, RolePlanningFacts>;
  /**
   * By {@link roleKey}: who already gets each role's credentials across the fleet, sorted and
   * unique: an IRSA service account annotated with it, an association naming it without a
   * targetRoleArn, an add-on using it. A cross-account source role must have none.
   */
  roleUsers: Record<string, string[]>;
}

export interface ClusterPlanningFacts {
  /** The cluster as the trust checks see it (ARN, account, IAM OIDC provider ARN). */
  access: AccessCluster;
  partition: string;
  /** By `namespace/name`: the service accounts the scan read. */
  serviceAccounts: Record<string, { uid: string; resourceVersion: string }>;
  /** By `kind/namespace/name`: the uid of every workload object the scan read. */
  workloads: Record<string, string>;
  /** The cluster's Pod Identity associations, as listed. */
  associations: AssociationFacts[];
  /** By add-on name: what UpdateAddon's plan step needs. */
  addons: Record<string, AddonPlanningFacts>;
}

export interface AssociationFacts {
  namespace: string;
  serviceAccount: string;
  associationId: string;
  roleArn: string | null;
  targetRoleArn: string | null;
  ownerArn: string | null;
}

export interface AddonPlanningFacts {
  version: string;
  serviceAccountRoleArn: string | null;
  podIdentityAssociations: string[];
  /** The service accounts of its podIdentityConfiguration, sorted and unique; empty when it has none. */
  configuredServiceAccounts: string[];
}

export interface RolePlanningFacts {
  state: RoleSnapshot['state'];
  error: string | null;
  /** The trust policy document as IAM returned it (the plan's `before`, its fingerprint). */
  trustPolicy: JsonObject | null;
  /** The trust policy parsed once; null when there is none; `error` when it does not parse. */
  parsed: { ok: true; policy: TrustPolicy } | { ok: false; error: string } | null;
}

/** Role ARNs compare trimmed and case-insensitively (IAM role names are unique regardless of case). */
export function roleKey(raw: string): string {
  const parsed = parseRoleArn(raw);
  return (parsed.ok ? parsed.arn.arn : raw.trim()).toLowerCase();
}

export const serviceAccountKey = (namespace: string, name: string) => `${namespace}/${name}`;
export const workloadKey = (kind: WorkloadKind, namespace: string, name: string) => `${kind}/${namespace}/${name}`;

/** A role's facts by its normalised ARN, else as written (the scan's lookup order). */
export function planningRole(facts: PlanningFacts, normalised: string, written: string): RolePlanningFacts | undefined {
  const own = (k: string) => (Object.hasOwn(facts.roles, k) ? facts.roles[k] : undefined);
  return own(normalised) ?? own(written) ?? own(written.trim());
}

export function planningFacts(snapshot: FleetSnapshot): PlanningFacts {
  // Every record is built in sorted key order, so the same snapshot in any order gives the same facts.
  const clusters: Record<string, ClusterPlanningFacts> = {};
  for (const c of [...snapshot.clusters].sort((a, b) => compareStrings(a.arn, b.arn))) {
    const serviceAccounts: ClusterPlanningFacts['serviceAccounts'] = {};
    for (const sa of c.kube.serviceAccounts) {
      const key = serviceAccountKey(sa.namespace, sa.name);
      if (!Object.hasOwn(serviceAccounts, key)) serviceAccounts[key] = { uid: sa.uid, resourceVersion: sa.resourceVersion };
    }
    const workloads: ClusterPlanningFacts['workloads'] = {};
    for (const w of c.kube.workloads) {
      const key = workloadKey(w.kind, w.namespace, w.name);
      if (!Object.hasOwn(workloads, key)) workloads[key] = w.uid;
    }
    const addons: ClusterPlanningFacts['addons'] = {};
    for (const a of c.addons) {
      if (Object.hasOwn(addons, a.name)) continue;
      addons[a.name] = {
        version: a.version,
        serviceAccountRoleArn: a.serviceAccountRoleArn,
        podIdentityAssociations: [...a.podIdentityAssociations],
        configuredServiceAccounts: [...new Set((a.podIdentityConfiguration ?? []).map((p) => p.serviceAccount))].sort(),
      };
    }
    clusters[c.arn] = {
      access: { arn: c.arn, account: c.account, oidcProvider: c.oidcIssuer === null ? null : oidcProviderArn(c.partition, c.account, c.oidcIssuer) },
      partition: c.partition,
      serviceAccounts: sortedRecord(serviceAccounts),
      workloads: sortedRecord(workloads),
      associations: c.associations
        .map((a) => ({ namespace: a.namespace, serviceAccount: a.serviceAccount, associationId: a.associationId, roleArn: a.roleArn, targetRoleArn: a.targetRoleArn, ownerArn: a.ownerArn }))
        .sort((a, b) => compareStrings(a.namespace, b.namespace) || compareStrings(a.serviceAccount, b.serviceAccount) || compareStrings(a.associationId, b.associationId)),
      addons: sortedRecord(addons),
    };
  }

  const roles: Record<string, RolePlanningFacts> = {};
  for (const [key, r] of Object.entries(snapshot.roles).sort(([a], [b]) => compareStrings(a, b))) {
    // The snapshot's document itself, shared read-only like its parse: the planner copies what it
    // puts in a plan (plan-trust.ts), and nothing writes to either.
    roles[key] = { state: r.state, error: r.error, trustPolicy: r.trustPolicy, parsed: parseTrust(r.trustPolicy) };
  }

  return { caller: { account: snapshot.caller.account, arn: snapshot.caller.arn }, clusters, roles, roleUsers: roleUsers(snapshot) };
}

/** The document parsed, once for the scan's analysis and these facts (parsePolicyOnce). */
function parseTrust(doc: JsonObject | null): RolePlanningFacts['parsed'] {
  return doc === null ? null : parsePolicyOnce(doc);
}

/**
 * Who gets each role's credentials. Associations that chain through a role (with a
 * targetRoleArn) are not users of it: EKS does the chaining, their pods only ever see the
 * target role, and each target's trust requires its own association's externalId.
 */
function roleUsers(snapshot: FleetSnapshot): Record<string, string[]> {
  const users = new Map<string, Set<string>>();
  const add = (raw: string | null | undefined, who: string) => {
    if (raw === null || raw === undefined) return;
    const key = roleKey(raw);
    const set = users.get(key) ?? new Set<string>();
    set.add(who);
    users.set(key, set);
  };
  for (const c of [...snapshot.clusters].sort((a, b) => compareStrings(a.arn, b.arn))) {
    for (const sa of c.kube.serviceAccounts) add(sa.annotations[ROLE_ARN_ANNOTATION], `service account ${sa.namespace}/${sa.name} on ${c.name} (IRSA annotation)`);
    for (const a of c.associations) if (a.targetRoleArn === null) add(a.roleArn, `the association of ${a.namespace}/${a.serviceAccount} on ${c.name}`);
    for (const a of c.addons) add(a.serviceAccountRoleArn, `add-on ${a.name} on ${c.name}`);
  }
  const out: Record<string, string[]> = {};
  for (const [k, v] of [...users].sort(([a], [b]) => compareStrings(a, b))) out[k] = [...v];
  return out;
}

function sortedRecord<T>(r: Record<string, T>): Record<string, T> {
  // Lists usually come in key order already (Kubernetes lists by namespace/name): then the
  // record, built in that order, is its own sorted copy (the same keys in the same order).
  const keys = Object.keys(r);
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) sorted = compareStrings(keys[i - 1]!, keys[i]!) <= 0;
  if (sorted) return r;
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => compareStrings(a, b)));
}
