/**
 * ARNs podid reads from the outside world: the role ARN of an IRSA annotation or add-on, the
 * cluster ARN, and the OIDC provider ARN derived from a cluster's issuer.
 *
 * Parsing is strict because the annotation is hand-written YAML: a trailing space, a bare role
 * name or an `instance-profile/` ARN all silently break IRSA, and the same mistake must not be
 * carried into a pod identity association. Problems are returned as values (never thrown) so the
 * scanner can turn them into findings.
 */

/** `aws`, `aws-cn`, `aws-us-gov`, or one of the isolated partitions. */
export type Partition = string;

export type ArnIssueCode =
  | 'ARN_WHITESPACE'
  | 'ARN_NOT_AN_ARN'
  | 'ARN_MALFORMED'
  | 'ARN_NOT_A_ROLE'
  | 'ARN_NOT_A_CLUSTER'
  | 'ARN_BAD_ACCOUNT'
  | 'ARN_BAD_NAME'
  | 'ARN_PARTITION_MISMATCH'
  | 'ARN_HAS_PATH';

export type ArnIssueSeverity = 'error' | 'warning' | 'info';

export interface ArnIssue {
  readonly code: ArnIssueCode;
  /** `error` makes the ARN unusable; `warning` and `info` travel with a usable result. */
  readonly severity: ArnIssueSeverity;
  readonly message: string;
  readonly hint?: string;
}

export interface RoleArn {
  readonly partition: Partition;
  readonly account: string;
  /** `/` when the role has no path, otherwise `/a/b/` (leading and trailing slash). */
  readonly path: string;
  readonly name: string;
  /** Normalised: trimmed, `arn:<partition>:iam::<account>:role<path><name>`. */
  readonly arn: string;
}

export interface ClusterArn {
  readonly partition: Partition;
  readonly region: string;
  readonly account: string;
  readonly name: string;
  readonly arn: string;
}

export type ArnParseResult<T> =
  | { readonly ok: true; readonly arn: T; readonly findings: readonly ArnIssue[] }
  | { readonly ok: false; readonly issues: readonly ArnIssue[] };

const ACCOUNT_RE = /^\d{12}$/;
const PARTITION_RE = /^aws(-[a-z]+)*$/;
// IAM role names: 1-64 of [\w+=,.@-] (IAM API reference, RoleName).
const ROLE_NAME_RE = /^[\w+=,.@-]{1,64}$/;
// IAM paths: segments of printable ASCII except `/`, at most 512 characters in all.
const PATH_SEGMENT_RE = /^[\x21-\x2E\x30-\x7E]+$/;
const MAX_PATH_LENGTH = 512;
// EKS cluster names: 1-100, start alphanumeric, then alphanumerics, `-` and `_`.
const CLUSTER_NAME_RE = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;
const REGION_RE = /^[a-z]{2,4}(-[a-z]+)+-\d+$/;

/**
 * The partition a region belongs to. Region prefixes are how AWS itself assigns partitions; a
 * role or provider ARN whose partition differs from its cluster's can never be assumed there.
 */
export function partitionForRegion(region: string): Partition {
  const r = region.trim().toLowerCase();
  if (r.startsWith('cn-')) return 'aws-cn';
  if (r.startsWith('us-gov-')) return 'aws-us-gov';
  if (r.startsWith('us-isob-')) return 'aws-iso-b';
  if (r.startsWith('us-isof-')) return 'aws-iso-f';
  if (r.startsWith('us-iso-')) return 'aws-iso';
  if (r.startsWith('eu-isoe-')) return 'aws-iso-e';
  if (r.startsWith('eusc-')) return 'aws-eusc';
  return 'aws';
}

interface ArnParts {
  readonly partition: string;
  readonly service: string;
  readonly region: string;
  readonly account: string;
  readonly resource: string;
}

/** Splits `arn:partition:service:region:account:resource`; the resource keeps any further colons. */
function splitArn(trimmed: string): ArnParts | undefined {
  const parts = trimmed.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  const [, partition = '', service = '', region = '', account = ''] = parts;
  return { partition, service, region, account, resource: parts.slice(5).join(':') };
}

function issue(code: ArnIssueCode, severity: ArnIssueSeverity, message: string, hint?: string): ArnIssue {
  return hint === undefined ? { code, severity, message } : { code, severity, message, hint };
}

type Preflight =
  | { readonly usable: false; readonly issues: readonly ArnIssue[] }
  | { readonly usable: true; readonly trimmed: string; readonly findings: ArnIssue[]; readonly parts: ArnParts };

/** Shared prelude: trim (with a finding) and reject things that are not ARNs at all. */
function preflight(raw: string, what: string, example: string): Preflight {
  const trimmed = raw.trim();
  const findings: ArnIssue[] = [];
  if (trimmed !== raw) {
    findings.push(issue('ARN_WHITESPACE', 'warning', `${what} ${JSON.stringify(raw)} has leading or trailing whitespace`, 'remove the whitespace; podid uses the trimmed value'));
  }
  if (!trimmed.startsWith('arn:')) {
    const bare = /^[\w+=,.@/-]+$/.test(trimmed) && trimmed !== '';
    const message = trimmed === '' ? `${what} is empty` : bare ? `${what} ${JSON.stringify(trimmed)} is a bare name, not an ARN` : `${what} ${JSON.stringify(trimmed)} is not an ARN`;
    return { usable: false, issues: [...findings, issue('ARN_NOT_AN_ARN', 'error', message, `use the full ARN, e.g. ${example}`)] };
  }
  const parts = splitArn(trimmed);
  if (parts === undefined) {
    return { usable: false, issues: [...findings, issue('ARN_MALFORMED', 'error', `${what} ${JSON.stringify(trimmed)} does not have the six colon-separated ARN fields`, `expected ${example}`)] };
  }
  if (!PARTITION_RE.test(parts.partition)) {
    return { usable: false, issues: [...findings, issue('ARN_MALFORMED', 'error', `${what} ${JSON.stringify(trimmed)} has an invalid partition ${JSON.stringify(parts.partition)}`, 'the partition is aws, aws-cn or aws-us-gov')] };
  }
  return { usable: true, trimmed, findings, parts };
}

function fail<T>(findings: readonly ArnIssue[], ...errors: ArnIssue[]): ArnParseResult<T> {
  return { ok: false, issues: [...findings, ...errors] };
}

/**
 * Parses are memoised by their input. A fleet scan and plan parse the same few thousand role
 * ARNs (and a handful of cluster and OIDC provider ARNs) hundreds of thousands of times: once per
 * service account in several places, once per subject in every trust edit and proof. A result
 * is a value of readonly types that no caller writes to, so one can be shared. Each memo is
 * cleared when it reaches MEMO_LIMIT entries, so a long-lived process (the sandbox, the tests)
 * does not keep every ARN it has seen.
 */
const MEMO_LIMIT = 50_000;

function memoised<T>(memo: Map<string, T>, key: string, compute: () => T): T {
  const hit = memo.get(key);
  if (hit !== undefined) return hit;
  if (memo.size >= MEMO_LIMIT) memo.clear();
  const value = compute();
  memo.set(key, value);
  return value;
}

const roleArnMemo = new Map<string, ArnParseResult<RoleArn>>();
const clusterArnMemo = new Map<string, ArnParseResult<ClusterArn>>();
// undefined (not a provider ARN) is a result too: stored as null.
const providerIssuerMemo = new Map<string, string | null>();

/**
 * Parses an IAM role ARN. `ctx.region` (the cluster's region) enables the partition check.
 * Errors make the result unusable; whitespace (trimmed) and a role path are reported but usable.
 */
export function parseRoleArn(raw: string, ctx: { region?: string } = {}): ArnParseResult<RoleArn> {
  // A region never contains a NUL; \u0001 stands for "no region" (no partition check).
  const region = ctx.region;
  return memoised(roleArnMemo, `${region ?? '\u0001'}\u0000${raw}`, () => parseRoleArnUncached(raw, region));
}

function parseRoleArnUncached(raw: string, region: string | undefined): ArnParseResult<RoleArn> {
  const example = 'arn:aws:iam::111122223333:role/my-role';
  const pre = preflight(raw, 'role ARN', example);
  if (!pre.usable) return { ok: false, issues: pre.issues };
  const { trimmed, findings, parts } = pre;
  const errors: ArnIssue[] = [];

  if (parts.service !== 'iam' || !parts.resource.startsWith('role/')) {
    const kind = parts.resource.split('/')[0] ?? '';
    const hint =
      parts.service === 'sts' && kind === 'assumed-role'
        ? `this is a session ARN; use the role ARN arn:${parts.partition}:iam::${parts.account}:role/${parts.resource.split('/')[1] ?? '<name>'}`
        : `expected ${example}`;
    return fail(findings, issue('ARN_NOT_A_ROLE', 'error', `${JSON.stringify(trimmed)} is a ${parts.service} ${kind || 'resource'} ARN, not an IAM role ARN`, hint));
  }
  if (parts.region !== '') {
    errors.push(issue('ARN_MALFORMED', 'error', `role ARN ${JSON.stringify(trimmed)} has a region (${parts.region}); IAM ARNs have an empty region field`, `expected ${example}`));
  }
  if (!ACCOUNT_RE.test(parts.account)) {
    errors.push(issue('ARN_BAD_ACCOUNT', 'error', `role ARN ${JSON.stringify(trimmed)} has account ${JSON.stringify(parts.account)}; an account ID is exactly 12 digits`));
  }

  const rest = parts.resource.slice('role/'.length);
  const lastSlash = rest.lastIndexOf('/');
  const name = rest.slice(lastSlash + 1);
  const path = lastSlash === -1 ? '/' : `/${rest.slice(0, lastSlash + 1)}`;
  if (!ROLE_NAME_RE.test(name)) {
    errors.push(issue('ARN_BAD_NAME', 'error', `role ARN ${JSON.stringify(trimmed)} has an invalid role name ${JSON.stringify(name)}`, 'role names are 1-64 characters of letters, digits and +=,.@_-'));
  }
  const segments = path.slice(1, -1);
  if (path !== '/' && (path.length > MAX_PATH_LENGTH || !segments.split('/').every((s) => PATH_SEGMENT_RE.test(s)))) {
    errors.push(issue('ARN_BAD_NAME', 'error', `role ARN ${JSON.stringify(trimmed)} has an invalid path ${JSON.stringify(path)}`));
  }
  if (region !== undefined) {
    const expected = partitionForRegion(region);
    if (expected !== parts.partition) {
      errors.push(issue('ARN_PARTITION_MISMATCH', 'error', `role ARN ${JSON.stringify(trimmed)} is in partition ${parts.partition} but region ${region} is in ${expected}`, `use arn:${expected}:iam::...`));
    }
  }
  if (errors.length > 0) return fail(findings, ...errors);

  if (path !== '/') {
    findings.push(issue('ARN_HAS_PATH', 'info', `role ${name} has path ${path}`, 'pod identity associations accept role ARNs with paths; the path is kept'));
  }
  const arn = `arn:${parts.partition}:iam::${parts.account}:role${path}${name}`;
  return { ok: true, arn: { partition: parts.partition, account: parts.account, path, name, arn }, findings };
}

/** Parses `arn:<partition>:eks:<region>:<account>:cluster/<name>`. */
export function parseClusterArn(raw: string): ArnParseResult<ClusterArn> {
  return memoised(clusterArnMemo, raw, () => parseClusterArnUncached(raw));
}

function parseClusterArnUncached(raw: string): ArnParseResult<ClusterArn> {
  const example = 'arn:aws:eks:us-east-1:111122223333:cluster/prod';
  const pre = preflight(raw, 'cluster ARN', example);
  if (!pre.usable) return { ok: false, issues: pre.issues };
  const { trimmed, findings, parts } = pre;
  if (parts.service !== 'eks' || !parts.resource.startsWith('cluster/')) {
    return fail(findings, issue('ARN_NOT_A_CLUSTER', 'error', `${JSON.stringify(trimmed)} is not an EKS cluster ARN`, `expected ${example}`));
  }
  const errors: ArnIssue[] = [];
  if (!ACCOUNT_RE.test(parts.account)) {
    errors.push(issue('ARN_BAD_ACCOUNT', 'error', `cluster ARN ${JSON.stringify(trimmed)} has account ${JSON.stringify(parts.account)}; an account ID is exactly 12 digits`));
  }
  if (!REGION_RE.test(parts.region)) {
    errors.push(issue('ARN_MALFORMED', 'error', `cluster ARN ${JSON.stringify(trimmed)} has an invalid region ${JSON.stringify(parts.region)}`));
  } else if (partitionForRegion(parts.region) !== parts.partition) {
    errors.push(issue('ARN_PARTITION_MISMATCH', 'error', `cluster ARN ${JSON.stringify(trimmed)} is in partition ${parts.partition} but region ${parts.region} is in ${partitionForRegion(parts.region)}`));
  }
  const name = parts.resource.slice('cluster/'.length);
  if (!CLUSTER_NAME_RE.test(name)) {
    errors.push(issue('ARN_BAD_NAME', 'error', `cluster ARN ${JSON.stringify(trimmed)} has an invalid cluster name ${JSON.stringify(name)}`));
  }
  if (errors.length > 0) return fail(findings, ...errors);
  return { ok: true, arn: { partition: parts.partition, region: parts.region, account: parts.account, name, arn: trimmed }, findings };
}

/**
 * `https://oidc.eks.us-east-1.amazonaws.com/id/ABC` -> `oidc.eks.us-east-1.amazonaws.com/id/ABC`.
 * This host+path is both the provider ARN's resource and the prefix of the `:sub`/`:aud` keys.
 */
export function issuerHostPath(issuerUrl: string): string {
  return issuerUrl.trim().replace(/^https:\/\//i, '').replace(/\/+$/, '');
}

/** The IAM OIDC provider ARN IAM creates for an issuer (what IRSA trust policies name as Federated). */
export function oidcProviderArn(partition: Partition, account: string, issuerUrl: string): string {
  return `arn:${partition}:iam::${account}:oidc-provider/${issuerHostPath(issuerUrl)}`;
}

/** The issuer host+path of an OIDC provider ARN, or undefined if it is not one. */
export function providerIssuer(providerArn: string): string | undefined {
  return memoised(providerIssuerMemo, providerArn, () => {
    const parts = splitArn(providerArn.trim());
    if (parts === undefined || parts.service !== 'iam' || !parts.resource.startsWith('oidc-provider/')) return null;
    return parts.resource.slice('oidc-provider/'.length);
  }) ?? undefined;
}
