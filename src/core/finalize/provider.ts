/**
 * `podid finalize --delete-oidc-provider`: whether a cluster's IAM OIDC provider may go. It may
 * only when no role of its account refers to it any more, judged over EVERY role of the account
 * (ListRoles, all pages) with the trust policies this finalize writes in place of the current
 * ones. Why so strict (docs/rollback.md cites the pages):
 *
 * - IAM API Reference, DeleteOpenIDConnectProvider: "Deleting an IAM OIDC provider resource does
 *   not update any roles that reference the provider as a principal in their trust policies. Any
 *   attempt to assume a role that references a deleted provider fails."
 * - EKS User Guide, "Create an IAM OIDC provider for your cluster": "To use IAM roles for service
 *   accounts, an IAM OIDC provider must exist for your cluster's OIDC issuer URL." Deleting it
 *   stops IRSA for every ServiceAccount of the cluster, in every namespace, at once.
 * - A role trusts only OIDC providers of its own account (cross-account IRSA registers the
 *   issuer again in the role's account: EKS User Guide, "Authenticate to another account with
 *   IRSA"), so the provider's account is the only one to read.
 *
 * A listing that is incomplete (a page failed, access denied, throttled past the retries, a role
 * whose trust policy cannot be decoded) never counts as "nobody trusts it": the answer is then
 * unknown and nothing is deleted.
 */
import { issuerHostPath, providerIssuer } from '../arn.js';
import { PodidError } from '../errors.js';
import type { JsonObject } from '../json.js';
import { compareStrings, plural, wildcardMatch } from '../text.js';
import type { IamApplyPort, ListedRole, OidcProviderRecord } from '../apply/ports.js';

/** How many of the roles that still refer to a provider the plan and the review name. */
export const TRUSTED_BY_SHOWN = 5;

export interface FinalizeProvider {
  /** The cluster whose issuer the provider is for. */
  cluster: string;
  providerArn: string;
  /**
   * - `delete`: nothing refers to it after this finalize; deleted at --apply (after its own
   *   confirmation), then checked again over a fresh listing.
   * - `refused`: some role still refers to it, or podid could not read every role (reason says).
   * - `absent`: the account has no such provider: nothing to delete.
   * - `declined`: the deletion was not confirmed.
   */
  action: 'delete' | 'refused' | 'absent' | 'declined';
  reason: string;
  /** The first roles that still refer to it (up to TRUSTED_BY_SHOWN), and how many do in all. */
  trustedBy: string[];
  trustedByCount: number;
  /** How many roles were read (all of the account's, when the listing was complete). */
  rolesRead: number;
  /** The provider as GetOpenIDConnectProvider described it when planned (null when absent or unknown). */
  provider: OidcProviderRecord | null;
}

/** Why a trust policy keeps the provider in use, or null when it does not refer to it. */
export function providerReference(doc: JsonObject, providerArn: string): string | null {
  const arn = providerArn.toLowerCase();
  const host = (providerIssuer(providerArn) ?? issuerHostPath(providerArn)).toLowerCase();
  const names = (s: string): boolean => {
    const t = s.toLowerCase();
    return t === arn || t === host || t.startsWith(`${host}:`);
  };
  let why: string | null = null;
  const walk = (v: unknown, inCondition: boolean): void => {
    if (why !== null) return;
    if (typeof v === 'string') {
      if (names(v)) why = inCondition ? 'names it in a condition' : 'names it as a principal';
    } else if (Array.isArray(v)) {
      for (const x of v) walk(x, inCondition);
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        // Condition keys such as `<issuer>:sub` are the provider's own.
        if (names(k)) why = 'names it in a condition key';
        walk(x, inCondition || k === 'Condition');
      }
    }
  };
  walk(doc, false);
  if (why !== null) return why;
  // A statement that admits any principal to AssumeRoleWithWebIdentity accepts this provider's tokens too.
  const statements = Array.isArray(doc['Statement']) ? doc['Statement'] : doc['Statement'] === undefined ? [] : [doc['Statement']];
  for (const st of statements) {
    if (typeof st !== 'object' || st === null || Array.isArray(st)) continue;
    const s = st as JsonObject;
    if (s['Effect'] !== 'Allow') continue;
    const covers = s['Action'] !== undefined
      ? strings(s['Action']).some((a) => wildcardMatch(a, 'sts:AssumeRoleWithWebIdentity', { ignoreCase: true }))
      : s['NotAction'] !== undefined && !strings(s['NotAction']).some((a) => wildcardMatch(a, 'sts:AssumeRoleWithWebIdentity', { ignoreCase: true }));
    if (!covers) continue;
    if (s['NotPrincipal'] !== undefined) return 'admits web identities through NotPrincipal';
    const p = s['Principal'];
    const wild = p === '*' || (typeof p === 'object' && p !== null && Object.values(p as JsonObject).some((x) => strings(x).includes('*')));
    if (wild) return 'admits web identities from any provider (Principal "*")';
  }
  return null;
}

function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export interface ProviderTrustVerdict {
  /** Role ARNs that still refer to the provider, sorted, with why. */
  trustedBy: { roleArn: string; why: string }[];
  /** Roles whose trust policy could not be read: the answer is unknown while there are any. */
  unreadable: { roleArn: string; error: string }[];
  rolesRead: number;
}

/**
 * Who still trusts `providerArn` among `roles` (every role of its account), each judged by the
 * document this finalize leaves it with: `after` (by lowercased role ARN) where finalize edits
 * the role, its current document otherwise. Pure.
 */
export function providerTrustedBy(providerArn: string, roles: readonly ListedRole[], after: ReadonlyMap<string, JsonObject> = new Map()): ProviderTrustVerdict {
  const trustedBy: ProviderTrustVerdict['trustedBy'] = [];
  const unreadable: ProviderTrustVerdict['unreadable'] = [];
  for (const r of roles) {
    const doc = after.get(r.arn.toLowerCase()) ?? r.document;
    if (doc === null) {
      unreadable.push({ roleArn: r.arn, error: r.error ?? 'no trust policy' });
      continue;
    }
    const why = providerReference(doc, providerArn);
    if (why !== null) trustedBy.push({ roleArn: r.arn, why });
  }
  trustedBy.sort((a, b) => compareStrings(a.roleArn, b.roleArn));
  unreadable.sort((a, b) => compareStrings(a.roleArn, b.roleArn));
  return { trustedBy, unreadable, rolesRead: roles.length };
}

/** `a, b, c and 4 more`: the first few of a list, and how many more. */
export function firstFew(items: readonly string[], total = items.length, shown = TRUSTED_BY_SHOWN): string {
  const head = items.slice(0, shown);
  const more = total - head.length;
  return more > 0 ? `${head.join(', ')} and ${more} more` : head.join(', ');
}

/** The decision for one provider from a verdict: delete it, or refuse with why (pure). */
export function decideDeletion(verdict: ProviderTrustVerdict, account: string): Pick<FinalizeProvider, 'action' | 'reason' | 'trustedBy' | 'trustedByCount' | 'rolesRead'> {
  const base = { trustedBy: verdict.trustedBy.slice(0, TRUSTED_BY_SHOWN).map((t) => t.roleArn), trustedByCount: verdict.trustedBy.length, rolesRead: verdict.rolesRead };
  if (verdict.trustedBy.length > 0) {
    const shown = verdict.trustedBy.slice(0, TRUSTED_BY_SHOWN).map((t) => `${t.roleArn} (${t.why})`);
    return { ...base, action: 'refused', reason: `kept: ${plural(verdict.trustedBy.length, 'role')} still ${verdict.trustedBy.length === 1 ? 'refers' : 'refer'} to it: ${firstFew(shown, verdict.trustedBy.length)}; deleting it would break IRSA for them` };
  }
  if (verdict.unreadable.length > 0) {
    return { ...base, action: 'refused', reason: `kept: the trust policy of ${firstFew(verdict.unreadable.map((u) => `${u.roleArn} (${u.error})`), verdict.unreadable.length)} cannot be read, so podid cannot tell whether it still trusts the provider` };
  }
  return { ...base, action: 'delete', reason: `no role of account ${account} refers to it any more (${verdict.rolesRead} roles read${verdict.rolesRead === 1 ? '' : ', every page'})` };
}

/** Thrown when the role listing is incomplete: podid never judges a provider on part of the roles. */
export class IncompleteListingError extends PodidError {
  constructor(page: number, cause: unknown) {
    const why = cause instanceof PodidError ? cause.message : cause instanceof Error ? cause.message : String(cause);
    super('AWS_ERROR', `the role listing is incomplete (iam:ListRoles page ${page}: ${why})`, { cause });
    this.name = 'IncompleteListingError';
  }
}

/**
 * Every role of the caller's account in `partition`, page by page, each page read through `read`
 * (retried on throttling and 5xx). Any page that fails past its retries throws
 * IncompleteListingError: the caller must not decide on what was read so far.
 */
export async function listAllRoles(iam: IamApplyPort, partition: string, read: <T>(fn: () => Promise<T>) => Promise<T>): Promise<ListedRole[]> {
  const roles: ListedRole[] = [];
  let marker: string | null = null;
  let page = 0;
  const seen = new Set<string>();
  do {
    page++;
    const at: string | null = marker;
    let out: { roles: ListedRole[]; marker: string | null };
    try {
      out = await read(() => iam.listRolesPage(partition, at));
    } catch (err) {
      throw new IncompleteListingError(page, err);
    }
    roles.push(...out.roles);
    marker = out.marker;
    // A marker that comes round again would page forever; IAM never does that, a broken proxy might.
    if (marker !== null && seen.has(marker)) throw new IncompleteListingError(page, new Error('the same Marker came back twice'));
    if (marker !== null) seen.add(marker);
  } while (marker !== null);
  return roles;
}

/** A cluster of the finalize plan whose provider --delete-oidc-provider asks about. */
export interface ProviderCandidate {
  cluster: string;
  partition: string;
  /** The cluster's account: its provider lives there (the one eksctl and Terraform create). */
  account: string;
  providerArn: string;
}

/**
 * The plan-time decision for each candidate provider: read it (GetOpenIDConnectProvider), list
 * every role of its account once per partition, and judge each role by the document this
 * finalize leaves it with (`after`, by lowercased role ARN).
 */
export async function assessProviders(
  candidates: readonly ProviderCandidate[],
  after: ReadonlyMap<string, JsonObject>,
  deps: { iam: IamApplyPort; callerAccount: string; read: <T>(fn: () => Promise<T>) => Promise<T> },
): Promise<FinalizeProvider[]> {
  const listings = new Map<string, Promise<ListedRole[]>>();
  const out: FinalizeProvider[] = [];
  for (const c of candidates) {
    const base = { cluster: c.cluster, providerArn: c.providerArn, trustedBy: [], trustedByCount: 0, rolesRead: 0, provider: null };
    if (c.account !== deps.callerAccount) {
      out.push({ ...base, action: 'refused', reason: `kept: it is in account ${c.account} and podid runs as account ${deps.callerAccount}, whose roles are the only ones it can list; run finalize with credentials of ${c.account}` });
      continue;
    }
    let provider: OidcProviderRecord | null;
    try {
      provider = await deps.read(() => deps.iam.getOidcProvider(c.providerArn));
    } catch (err) {
      out.push({ ...base, action: 'refused', reason: `kept: it cannot be read (${err instanceof Error ? err.message : String(err)})` });
      continue;
    }
    if (provider === null) {
      out.push({ ...base, action: 'absent', reason: `account ${c.account} has no IAM OIDC provider for this cluster's issuer: nothing to delete` });
      continue;
    }
    let listing = listings.get(c.partition);
    if (!listing) {
      listing = listAllRoles(deps.iam, c.partition, deps.read);
      listings.set(c.partition, listing);
    }
    let roles: ListedRole[];
    try {
      roles = await listing;
    } catch (err) {
      out.push({ ...base, provider, action: 'refused', reason: `kept: ${err instanceof Error ? err.message : String(err)}; podid deletes a provider only after reading the trust policy of every role of its account (iam:ListRoles, every page)` });
      continue;
    }
    out.push({ ...base, provider, ...decideDeletion(providerTrustedBy(c.providerArn, roles, after), c.account) });
  }
  return out;
}
