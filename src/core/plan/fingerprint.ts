/**
 * Step fingerprints: sha256 (hex) of the canonical JSON of exactly the inputs a step was planned
 * from. `podid migrate --apply` re-reads those inputs, recomputes the fingerprint with the same
 * helper and refuses the step when it differs (the world moved since the plan was made). The
 * helpers are the single definition of "the input" for each step kind, so plan and apply cannot
 * drift apart. Hashing is pure computation, so node:crypto is fine in core.
 */
import { createHash } from 'node:crypto';
import type { Fingerprint } from './model.js';
import { compareStrings } from '../text.js';

/**
 * JSON with object keys sorted (recursively); arrays keep their order because order is part of
 * their meaning (statement order, batch order). `undefined` members are dropped, as
 * JSON.stringify does, so an optional field that is absent and one that is undefined agree.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`cannot fingerprint the number ${value}`);
    if (typeof value === 'bigint' || typeof value === 'function' || typeof value === 'symbol') throw new TypeError(`cannot fingerprint a ${typeof value}`);
    return value === undefined ? 'null' : JSON.stringify(value);
  }
  // Built in one string, without the entry arrays (every plan step is fingerprinted).
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      // A hole stays empty, as map and join leave it.
      if (i in value) out += canonicalJson(value[i] === undefined ? null : value[i]);
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  let out = '{';
  let first = true;
  for (const k of Object.keys(record).sort(compareStrings)) {
    const v = record[k];
    if (v === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += `${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

export function fingerprintOf(value: unknown): Fingerprint {
  return createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex');
}

/** update-trust: the trust policy document as read (GetRole's AssumeRolePolicyDocument, decoded). */
export function fingerprintTrust(trustPolicy: Readonly<Record<string, unknown>>): Fingerprint {
  return fingerprintOf(trustPolicy);
}

/** The association for namespace/serviceAccount as read; the planner only creates where there is none. */
export interface AssociationState {
  associationId: string;
  roleArn: string;
  targetRoleArn: string | null;
}

/**
 * create-association: no association exists for the service account, and the ServiceAccount is
 * the one the plan saw (uid: not deleted and re-created; resourceVersion: annotation unchanged).
 */
export function fingerprintAssociationInput(input: { association: AssociationState | null; saUid: string; saResourceVersion: string }): Fingerprint {
  const association = input.association === null ? null : { associationId: input.association.associationId, roleArn: input.association.roleArn, targetRoleArn: input.association.targetRoleArn };
  return fingerprintOf({ association, saResourceVersion: input.saResourceVersion, saUid: input.saUid });
}

/** update-addon: the add-on's version, its IRSA role and the associations it owns (order-free). */
export function fingerprintAddon(input: { version: string; serviceAccountRoleArn: string | null; podIdentityAssociations: readonly string[] }): Fingerprint {
  return fingerprintOf({
    podIdentityAssociations: [...input.podIdentityAssociations].sort(),
    serviceAccountRoleArn: input.serviceAccountRoleArn,
    version: input.version,
  });
}

/** install-agent: the eks-pod-identity-agent add-on as read; the plan installs only where it is absent. */
export function fingerprintAgent(addon: { version: string; status: string } | null): Fingerprint {
  return fingerprintOf({ addon: addon === null ? null : { status: addon.status, version: addon.version } });
}

/** An association a restart relies on but the plan does not create (the SA's verdict was partial). */
export interface ServedAssociation {
  namespace: string;
  serviceAccount: string;
  associationId: string;
  /** null when the association was listed but not described. */
  roleArn: string | null;
  targetRoleArn: string | null;
}

/**
 * restart-batch: the uids of the batch's workloads, in batch order, and the existing
 * association of every served service account the plan does not associate itself (sorted by
 * namespace/name). A restart puts that association into effect, so one deleted or re-pointed
 * at another role since the plan must stop the restart, not be applied blindly.
 */
export function fingerprintRestartBatch(uids: readonly string[], associations: readonly ServedAssociation[] = []): Fingerprint {
  const served = [...associations]
    .map((a) => ({ associationId: a.associationId, namespace: a.namespace, roleArn: a.roleArn, serviceAccount: a.serviceAccount, targetRoleArn: a.targetRoleArn }))
    .sort((a, b) => compareStrings(a.namespace, b.namespace) || compareStrings(a.serviceAccount, b.serviceAccount));
  return fingerprintOf({ associations: served, uids: [...uids] });
}
