/**
 * One error family for podid. Every error a user can cause carries a stable code from the
 * catalogue below, a one-line message saying what went wrong and where, a hint saying how to
 * fix it, and the exit code the catalogue gives its code (README.md's table; docs/errors.md lists
 * every code, and a unit test keeps the two in step).
 */
export const ExitCode = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  gateFailed: 3,
  refused: 4,
  partial: 5,
  environment: 6,
  interrupted: 130,
} as const;
export type ExitCodeName = keyof typeof ExitCode;

interface ErrorDef {
  /** What the exit code says: usage (2, fix the input), environment (6, AWS/Kubernetes/network failed), unexpected (1, a bug). */
  readonly exit: ExitCodeName;
  /** One line for docs/errors.md. */
  readonly summary: string;
}

/** Every error code podid throws. A code is a promise to scripts: it never changes meaning. */
export const ERRORS = {
  // --- usage (2): the command line or an input file is wrong ------------------------------------
  BAD_FLAG_VALUE: { exit: 'usage', summary: 'a flag value is not valid; the message names the flag and gives an example' },
  TARGET_FLAGS_CONFLICT: { exit: 'usage', summary: 'flags that cannot be combined (--all-contexts with --context, --manifests with cluster flags, --cluster with several contexts)' },
  SERVICE_ACCOUNT_REF_INVALID: { exit: 'usage', summary: '--service-account is not NAMESPACE/NAME' },
  PLAN_OPTION_INVALID: { exit: 'usage', summary: 'a planning option is out of range' },
  BAD_PORT: { exit: 'usage', summary: 'podid sandbox --port is not a port number' },
  PORT_IN_USE: { exit: 'usage', summary: 'podid sandbox --port is taken on 127.0.0.1' },
  WRITE_FAILED: { exit: 'usage', summary: 'an output file (--out, --emit, --kubeconfig-out, --env-out) or stdout cannot be written (a reader that closes the pipe early is not an error)' },
  OUTPUT_EXISTS: { exit: 'usage', summary: 'podid sandbox would overwrite an existing --kubeconfig-out or --env-out file (pass --force)' },
  OUTPUT_SAME_FILE: { exit: 'usage', summary: 'two output flags name the same file (--kubeconfig-out and --env-out; --out and --emit)' },
  STDOUT_CONFLICT: { exit: 'usage', summary: 'two outputs were sent to stdout: two of -o json|yaml, --out -, --emit terraform - (-o json with --out - is the one plan document, allowed)' },
  SELECTION_EMPTY: { exit: 'usage', summary: 'migrate: --role, -n or --service-account matches no IRSA service account or add-on of the scanned clusters; finalize and scan: -n or --service-account names no namespace or ServiceAccount of the scanned clusters, or of the files of `scan --manifests` (any of them, in a fleet run where some could not be scanned: a warning and exit 5 instead)' },
  CONFIG_NOT_FOUND: { exit: 'usage', summary: '--config names a file that does not exist' },
  CONFIG_UNREADABLE: { exit: 'usage', summary: 'the config file cannot be read (a directory, permissions)' },
  CONFIG_INVALID: { exit: 'usage', summary: '.podid.yaml (or --config) is not valid, or not text (UTF-8, or UTF-16 with a byte-order mark); the message names the entry and field' },
  KUBECONFIG_NOT_FOUND: { exit: 'usage', summary: 'no kubeconfig at --kubeconfig, $KUBECONFIG or ~/.kube/config' },
  PROXY_UNSUPPORTED: { exit: 'usage', summary: 'HTTPS_PROXY or HTTP_PROXY names a socks5:// proxy for an AWS call (AWS calls go through http:// or https:// proxies)' },
  KUBECONFIG_INVALID: { exit: 'usage', summary: 'a kubeconfig file does not parse, or a context\'s cluster entry cannot be used (in a fleet: KUBECONFIG_ENTRY_INVALID finding)' },
  KUBECONFIG_EMPTY: { exit: 'usage', summary: 'every kubeconfig file is empty: no clusters, users or contexts' },
  CONTEXT_NONE: { exit: 'usage', summary: 'the kubeconfig has no (current) context' },
  CONTEXT_UNKNOWN: { exit: 'usage', summary: '--context (or the current context) is not in the kubeconfig; or migrate --apply: a cluster of the plan, or rollback --apply: a cluster of the run it undoes, names a context that is not (checked before any change)' },
  CONTEXT_NO_SERVER: { exit: 'usage', summary: 'a context has no cluster with a server URL (in a fleet: NOT_AN_EKS_CONTEXT finding)' },
  CONTEXT_CLUSTER_UNKNOWN: { exit: 'usage', summary: 'podid cannot tell which EKS cluster a context points to (in a fleet: NOT_AN_EKS_CONTEXT finding)' },
  CONTEXT_REGION_UNKNOWN: { exit: 'usage', summary: 'podid cannot tell the region of a context\'s cluster (in a fleet: NOT_AN_EKS_CONTEXT finding)' },
  CONTEXT_ENDPOINT_MISMATCH: { exit: 'usage', summary: 'a context\'s server is not its EKS cluster\'s endpoint (in a fleet: CLUSTER_ENDPOINT_MISMATCH finding); or migrate --apply: a cluster of the plan, or rollback --apply: a cluster of the run it undoes, names a context that points at another API server (checked before any change)' },
  CLUSTER_NOT_FOUND: { exit: 'usage', summary: 'the EKS cluster behind a context does not exist in its region (in a fleet: CLUSTER_NOT_FOUND finding)' },
  MANIFESTS_NOT_FOUND: { exit: 'usage', summary: 'a --manifests path does not exist' },
  MANIFESTS_UNREADABLE: { exit: 'usage', summary: 'a --manifests file cannot be read' },
  AWS_NO_CREDENTIALS: { exit: 'usage', summary: 'no AWS credentials were found' },
  AWS_PROFILE_UNUSABLE: { exit: 'usage', summary: '--profile (or AWS_PROFILE) yields no credentials' },
  PLAN_INVALID: { exit: 'usage', summary: 'a plan document is not valid' },
  PLAN_TOO_NEW: { exit: 'usage', summary: 'a plan document was written by a newer podid' },
  PLAN_TOO_OLD: { exit: 'usage', summary: 'a plan document was written by an older podid whose trust statement this one no longer writes' },
  PLAN_WRONG_KIND: { exit: 'usage', summary: 'the file is not a podid plan document' },
  POLICY_INVALID: { exit: 'usage', summary: 'a trust policy document is not valid' },
  POLICY_EDIT_INVALID: { exit: 'usage', summary: 'a trust-policy edit was asked for with inputs that cannot be right' },
  WORLD_INVALID: { exit: 'usage', summary: 'podid sandbox: the world file is not valid' },
  APPLY_FLAGS_CONFLICT: { exit: 'usage', summary: 'migrate: --apply with --dry-run, --plan or another --apply-only flag (--verify-probe, --rollout-timeout, --propagation-wait, --fail-fast, --journal-dir) without --apply, or scope flags with --plan (the plan fixes the scope)' },
  PLAN_UNREADABLE: { exit: 'usage', summary: 'migrate --apply --plan names a file that cannot be read' },
  CONFIRMATION_REQUIRED: { exit: 'usage', summary: 'migrate --apply, finalize --apply or rollback --apply without a terminal to confirm on and without --yes; nothing was changed' },
  JOURNAL_DIR_UNUSABLE: { exit: 'usage', summary: 'the --journal-dir directory cannot be created or written' },
  JOURNAL_WRITE_FAILED: { exit: 'usage', summary: 'the run journal cannot be written (before the first change: nothing was changed)' },
  LOCK_FAILED: { exit: 'usage', summary: 'the apply lock file cannot be created in --journal-dir' },
  RUN_NOT_FOUND: { exit: 'usage', summary: 'runs show / rollback: no journal of that run id in --journal-dir, or no run to roll back' },
  ROLLBACK_OF_ROLLBACK: { exit: 'usage', summary: 'rollback: the run named is itself a rollback; podid does not roll back a rollback (apply or finalize again)' },
  ALREADY_ROLLED_BACK: { exit: 'usage', summary: 'rollback: a successful rollback already undid the run named; it is not rolled back again (what is in place now may be a later run\'s). Nothing changed' },
  ROLLBACK_SUPERSEDED: { exit: 'usage', summary: 'rollback: a later apply or finalize run, not rolled back, changed the same association, trust policy, workload, add-on, ServiceAccount or OIDC provider (named); roll that run back first. Nothing changed' },
  JOURNAL_INVALID: { exit: 'usage', summary: 'a run journal cannot be read: a line other than the last is not JSON, the first record is not a run, a field of the run record has the wrong type, or its run id is not its file name (runs show and rollback alike)' },
  ROLLBACK_FLAGS_CONFLICT: { exit: 'usage', summary: 'rollback / finalize: neither or both of --dry-run and --apply, or a flag that needs the other' },
  // --- refused (4): podid declines to act ---------------------------------------------------------
  APPLY_LOCKED: { exit: 'refused', summary: 'another podid run (migrate --apply, finalize --apply or rollback --apply) holds the lock of a cluster of the plan; the message names the run and the lock file' },
  // --- interrupted (130): the user stopped podid -------------------------------------------------
  CONFIRMATION_INTERRUPTED: { exit: 'interrupted', summary: 'migrate --apply, finalize --apply or rollback --apply: Ctrl-C (SIGINT, or SIGTERM) at the confirmation question; nothing was changed' },
  // --- environment (6): AWS, Kubernetes or the network failed; the input was fine ---------------
  AWS_CREDENTIALS_INVALID: { exit: 'environment', summary: 'AWS rejected the credentials (expired, unknown key, bad signature)' },
  AWS_ACCESS_DENIED: { exit: 'environment', summary: 'an AWS call was denied; the hint names the IAM action to grant' },
  AWS_NOT_FOUND: { exit: 'environment', summary: 'an AWS resource podid read vanished during the run' },
  AWS_THROTTLED: { exit: 'environment', summary: 'AWS kept throttling a call past podid\'s retries' },
  AWS_UNREACHABLE: { exit: 'environment', summary: 'an AWS endpoint did not answer (network, proxy, timeout)' },
  AWS_ENDPOINT_INVALID: { exit: 'environment', summary: 'an AWS endpoint URL (AWS_ENDPOINT_URL*) is not a valid URL' },
  AWS_ERROR: { exit: 'environment', summary: 'an AWS call failed otherwise (the message names the call and AWS\'s error); an AWS quota error (`LimitExceeded`, "Cannot exceed quota for ...", such as a trust policy over the role trust policy length quota) is one of these, named as a quota and never retried, not `AWS_THROTTLED`' },
  KUBE_CREDENTIALS_UNAVAILABLE: { exit: 'environment', summary: 'a context\'s credentials could not be had: its exec plugin (aws eks get-token) is missing, failed, did not answer within the request timeout or printed no usable ExecCredential, or its token-file cannot be read' },
  KUBE_UNAUTHORIZED: { exit: 'environment', summary: 'a Kubernetes API server rejected the context\'s credentials (401; for an exec plugin\'s or token-file\'s token, again after podid got a new one)' },
  KUBE_FORBIDDEN: { exit: 'environment', summary: 'a Kubernetes list was forbidden (403); the hint names the permissions' },
  KUBE_THROTTLED: { exit: 'environment', summary: 'a Kubernetes API server kept answering 429 past podid\'s retries' },
  KUBE_UNREACHABLE: { exit: 'environment', summary: 'a Kubernetes API server did not answer (network, timeout, TLS)' },
  KUBE_ERROR: { exit: 'environment', summary: 'a Kubernetes call failed otherwise (the message names the call and the status), or answered with an object in a shape Kubernetes never serves (scan, apply, rollback and finalize alike: the message names the object and the field)' },
  // --- unexpected (1): podid broke an invariant of its own -------------------------------------
  ROLE_ARN_INVALID: { exit: 'unexpected', summary: 'an internal call got a value that is not a role ARN (a bug)' },
  POLICY_UNSUPPORTED_OPERATOR: { exit: 'unexpected', summary: 'a condition operator reached an evaluator that cannot judge it (a bug)' },
} as const satisfies Record<string, ErrorDef>;

export type ErrorCode = keyof typeof ERRORS;
export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

/** The codes whose documented exit is `E`, so a UsageError cannot carry an environment code. */
export type ErrorCodeWithExit<E extends ExitCodeName> = { [C in ErrorCode]: (typeof ERRORS)[C]['exit'] extends E ? C : never }[ErrorCode];

export class PodidError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly exit: ExitCodeName;

  /** `exit` defaults to the catalogue's exit for `code`. */
  constructor(code: ErrorCode, message: string, opts: { hint?: string; exit?: ExitCodeName; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'PodidError';
    this.code = code;
    this.hint = opts.hint;
    this.exit = opts.exit ?? ERRORS[code].exit;
  }
}

/** Bad flags, a bad file, a bad value: exit 2. */
export class UsageError extends PodidError {
  constructor(code: ErrorCodeWithExit<'usage'>, message: string, hint?: string) {
    super(code, message, hint === undefined ? { exit: 'usage' } : { exit: 'usage', hint });
    this.name = 'UsageError';
  }
}

/** Drift, conflict, stale plan: podid declines to act, exit 4. */
export class RefusedError extends PodidError {
  constructor(code: ErrorCode, message: string, hint?: string) {
    super(code, message, hint === undefined ? { exit: 'refused' } : { exit: 'refused', hint });
    this.name = 'RefusedError';
  }
}

/** One line for the user: `podid: <message> (<hint>)`. */
export function formatError(err: unknown): string {
  if (err instanceof PodidError) {
    return err.hint ? `${err.message} — ${err.hint}` : err.message;
  }
  if (err instanceof Error) return `unexpected error: ${err.message}`;
  return `unexpected error: ${String(err)}`;
}

export function exitCodeOf(err: unknown): number {
  if (err instanceof PodidError) return ExitCode[err.exit];
  return ExitCode.unexpected;
}
