/**
 * The live scan's IAM half: referenced roles (GetRole, or one listing of the account's roles past
 * a threshold), node roles'
 * permission for eks-auth:AssumeRoleForPodIdentity, and the policy evaluation that decides it.
 * Every read goes through the collector's limiter and is cached for the run.
 */
import type { ScanPorts } from '../ports.js';
import { parseRoleArn } from '../arn.js';
import type { Limiter } from '../concurrency.js';
import { ERRORS, PodidError } from '../errors.js';
import type { NodeRoleSnapshot, RoleSnapshot } from './snapshot.js';
import { compareStrings, wildcardMatch } from '../text.js';

export const POD_IDENTITY_ACTION = 'eks-auth:AssumeRoleForPodIdentity';

/**
 * Fetches each role, node role and policy document at most once per run (promise caches). Roles
 * are read as each cluster's references arrive (IAM overlaps the slower clusters' listing): by
 * GetRole while few are referenced, else from one listing of the account's roles per partition
 * (GetAccountAuthorizationDetails, which returns each role's trust policy and permissions
 * boundary as GetRole does; ListRoles, without boundaries, when that is denied), with GetRole for
 * any role the listing does not hold as referenced (a path mismatch, one created meanwhile), so
 * every snapshot says what GetRole would have. One difference by design: an identity allowed the
 * listing but denied GetRole on some role gets that role from the listing (found, with its
 * trust policy) rather than `unreadable`; IAM did give podid the document.
 */
export class IamReader {
  private readonly cache = new Map<string, Promise<RoleSnapshot>>();
  private readonly nodeRoles = new Map<string, Promise<NodeRoleSnapshot>>();
  private readonly policies = new Map<string, Promise<unknown>>();
  /** Same-account roles referenced so far, per partition (the count the threshold is about). */
  private readonly referenced = new Map<string, number>();
  /** Per partition: lowercased role ARN -> the listing's snapshot; null when no listing could be read. */
  private readonly listings = new Map<string, Promise<Map<string, RoleSnapshot> | null>>();
  /** Per partition: why GetAccountAuthorizationDetails could not be used (ListRoles was). */
  private readonly boundaryGaps = new Map<string, string>();

  constructor(
    private readonly ports: ScanPorts,
    private readonly call: Limiter,
    private readonly callerAccount: string,
    private readonly listRolesThreshold: number,
  ) {}

  /** One cluster's referenced roles (normalised ARNs); the ones not seen before are read. */
  roles(arns: readonly string[]): void {
    const fresh = new Map<string, string>();
    for (const arn of arns) {
      if (this.cache.has(arn) || fresh.has(arn)) continue;
      const parsed = parseRoleArn(arn);
      const account = parsed.ok ? parsed.arn.account : '';
      if (account !== this.callerAccount) {
        // GetRole reads by name in the caller's own account: another account's role cannot be read.
        this.cache.set(arn, Promise.resolve({ arn, state: 'unreadable', trustPolicy: null, error: `role is in account ${account}; podid reads IAM as account ${this.callerAccount}` }));
        continue;
      }
      const partition = parsed.ok ? parsed.arn.partition : 'aws';
      this.referenced.set(partition, (this.referenced.get(partition) ?? 0) + 1);
      fresh.set(arn, partition);
    }
    for (const [arn, partition] of fresh) {
      const useListing = (this.referenced.get(partition) ?? 0) > this.listRolesThreshold;
      this.cache.set(arn, handled(useListing ? this.fromListing(arn, partition) : this.getRole(arn)));
    }
  }

  /** GetRole; a read that fails past the retries (throttled, unreachable) makes the role unreadable (ROLE_UNREADABLE), not the run. */
  private getRole(arn: string): Promise<RoleSnapshot> {
    return this.call(() => this.ports.iam.getRole(arn)).catch((err: unknown): RoleSnapshot => {
      if (isReadFailure(err)) return { arn, state: 'unreadable', trustPolicy: null, error: err.message };
      throw err;
    });
  }

  private async fromListing(arn: string, partition: string): Promise<RoleSnapshot> {
    let listing = this.listings.get(partition);
    if (!listing) {
      listing = handled(this.readListing(partition));
      this.listings.set(partition, listing);
    }
    // IAM role ARNs compare case-insensitively, as GetRole (by name) resolves them.
    const hit = (await listing)?.get(arn.toLowerCase());
    return hit ? { ...hit, arn } : this.getRole(arn);
  }

  /**
   * Every role of the partition: GetAccountAuthorizationDetails (with permissions boundaries);
   * when that is denied or fails past its retries, ListRoles (without them: IAM API reference,
   * ListRoles), noting why in `boundaryGaps`; when that fails too, null (role by role GetRole).
   */
  private async readListing(partition: string): Promise<Map<string, RoleSnapshot> | null> {
    let roles: RoleSnapshot[];
    try {
      roles = await this.call(() => this.ports.iam.listRoleDetails(partition));
    } catch (err) {
      if (!isReadFailure(err)) throw err;
      try {
        roles = await this.call(() => this.ports.iam.listRoles(partition));
        this.boundaryGaps.set(partition, err.message);
      } catch (listErr) {
        // Allowed GetRole but not ListRoles (or ListRoles failed past its retries): read role
        // by role, as below the threshold.
        if (isReadFailure(listErr)) return null;
        throw listErr;
      }
    }
    return new Map(roles.map((r) => [r.arn.toLowerCase(), r]));
  }

  /**
   * Why the permissions boundaries of some roles are unknown (read with ListRoles), with how
   * many of `roles` that is; null when every found role's boundary is known.
   */
  boundariesUnknown(roles: Readonly<Record<string, RoleSnapshot>>): { roles: number; reason: string } | null {
    const unknown = Object.values(roles).filter((r) => r.state === 'found' && r.permissionsBoundary === undefined).length;
    if (unknown === 0) return null;
    return { roles: unknown, reason: [...new Set(this.boundaryGaps.values())].join('; ') };
  }

  nodeRole(arn: string): void {
    if (!this.nodeRoles.has(arn)) this.nodeRoles.set(arn, handled(this.readNodeRole(arn)));
  }

  /** The roles and node roles read, keeping only those named in `roles` and `nodeRoles`, sorted. */
  async settle(roles: ReadonlySet<string>, nodeRoles: ReadonlySet<string>): Promise<{ roles: Record<string, RoleSnapshot>; nodeRoles: Record<string, NodeRoleSnapshot> }> {
    const entries = async <T>(m: Map<string, Promise<T>>, keep: ReadonlySet<string>): Promise<Record<string, T>> =>
      Object.fromEntries(
        await Promise.all(
          [...m]
            .filter(([k]) => keep.has(k))
            .sort(([a], [b]) => compareStrings(a, b))
            .map(async ([k, p]) => [k, await p] as const),
        ),
      );
    const [r, n] = await Promise.all([entries(this.cache, roles), entries(this.nodeRoles, nodeRoles)]);
    return { roles: r, nodeRoles: n };
  }

  private policyDocument(policyArn: string): Promise<unknown> {
    let doc = this.policies.get(policyArn);
    if (!doc) {
      doc = handled(this.call(() => this.ports.iam.getPolicyDocument(policyArn)));
      this.policies.set(policyArn, doc);
    }
    return doc;
  }

  private async readNodeRole(arn: string): Promise<NodeRoleSnapshot> {
    const undecided = (detail: string): NodeRoleSnapshot => ({ arn, allowsAssumeRoleForPodIdentity: null, detail });
    const parsed = parseRoleArn(arn);
    if (!parsed.ok) return undecided(`node role ${JSON.stringify(arn)} is not a role ARN`);
    if (parsed.arn.account !== this.callerAccount) return undecided(`node role is in account ${parsed.arn.account}; podid reads IAM as account ${this.callerAccount}`);
    const iam = this.ports.iam;
    try {
      const [attached, inline] = await Promise.all([this.call(() => iam.listAttachedRolePolicies(arn)), this.call(() => iam.listRolePolicies(arn))]);
      const sources = await Promise.all([
        ...attached.map(async (p) => ({ source: p.arn, document: await readable(this.policyDocument(p.arn)) })),
        ...inline.map(async (name) => ({ source: `inline policy ${name}`, document: await readable(this.call(() => iam.getRolePolicy(arn, name))) })),
      ]);
      return decideNodeRole(arn, sources);
    } catch (err) {
      if (isReadFailure(err)) return undecided(err.message);
      throw err;
    }
  }
}

/**
 * A read of one IAM object that failed for a reason outside podid: denied, gone, throttled or
 * unreachable past the retries (exit class environment). It makes that object unreadable (a
 * finding on what used it) instead of failing the whole run; anything else is a bug and throws.
 */
function isReadFailure(err: unknown): err is PodidError {
  return err instanceof PodidError && ERRORS[err.code].exit === 'environment';
}

/**
 * Marks a cached promise as handled: it is awaited later (settle), possibly after it rejected,
 * and an early rejection must not surface as an unhandled rejection meanwhile.
 */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** A document, or why it could not be read (denied / gone); other failures propagate. */
async function readable(doc: Promise<unknown>): Promise<unknown> {
  try {
    return await doc;
  } catch (err) {
    if (isReadFailure(err)) return new Unreadable(err.message);
    throw err;
  }
}

class Unreadable {
  constructor(readonly reason: string) {}
}

export function decideNodeRole(arn: string, sources: readonly { source: string; document: unknown }[]): NodeRoleSnapshot {
  const unreadable: string[] = [];
  let allowedBy: string | undefined;
  for (const { source, document } of sources) {
    if (document instanceof Unreadable) {
      unreadable.push(`${source} (${document.reason})`);
      continue;
    }
    const effect = policyEffectOn(document, POD_IDENTITY_ACTION);
    if (effect === 'deny') return { arn, allowsAssumeRoleForPodIdentity: false, detail: `${POD_IDENTITY_ACTION} is explicitly denied by ${source}` };
    if (effect === 'allow' && allowedBy === undefined) allowedBy = source;
  }
  if (allowedBy !== undefined) return { arn, allowsAssumeRoleForPodIdentity: true, detail: `allowed by ${allowedBy}` };
  if (unreadable.length > 0) return { arn, allowsAssumeRoleForPodIdentity: null, detail: `could not read ${unreadable.join(', ')}` };
  return { arn, allowsAssumeRoleForPodIdentity: false, detail: `no attached or inline policy allows ${POD_IDENTITY_ACTION}` };
}

/**
 * What an identity policy says about `action`: `deny` (an unconditional Deny covers it), `allow`
 * (an Allow covers it), or `none`. Action and NotAction patterns are IAM globs (`*`, `?`),
 * compared case-insensitively. Resources are not narrowed (the pod-identity action is granted on
 * `*`); a conditional Deny is not counted, since it may not apply.
 */
export function policyEffectOn(document: unknown, action: string): 'allow' | 'deny' | 'none' {
  if (typeof document !== 'object' || document === null) return 'none';
  const raw = (document as { Statement?: unknown }).Statement;
  const statements = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  let allowed = false;
  for (const s of statements) {
    if (typeof s !== 'object' || s === null) continue;
    const st = s as { Effect?: unknown; Action?: unknown; NotAction?: unknown; Condition?: unknown };
    const covers = st.Action !== undefined ? patterns(st.Action).some((p) => globMatch(p, action)) : st.NotAction !== undefined ? !patterns(st.NotAction).some((p) => globMatch(p, action)) : false;
    if (!covers) continue;
    if (st.Effect === 'Deny' && (st.Condition === undefined || isEmptyObject(st.Condition))) return 'deny';
    if (st.Effect === 'Allow') allowed = true;
  }
  return allowed ? 'allow' : 'none';
}

function patterns(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function isEmptyObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && Object.keys(v).length === 0;
}

/** IAM action patterns: `*` and `?` wildcards, compared case-insensitively. */
export function globMatch(pattern: string, value: string): boolean {
  return wildcardMatch(pattern, value, { ignoreCase: true });
}
