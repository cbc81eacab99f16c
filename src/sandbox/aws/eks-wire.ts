/**
 * EKS's REST-JSON wire conventions, shared by the sandbox's EKS operations: errors (code in the
 * `x-amzn-ErrorType` header, `{message, ...}` body, per-code HTTP status), request-body readers
 * that answer InvalidParameterException the way EKS does, epoch-second timestamps and opaque
 * `nextToken` pagination.
 */
import { AwsServiceError, requestId, type HttpReply } from './common.js';

/** The error codes EKS uses, with the HTTP status the SDK's error schemas declare for each. */
export const EKS_ERROR_STATUS = {
  ResourceNotFoundException: 404,
  ResourceInUseException: 409,
  InvalidParameterException: 400,
  InvalidRequestException: 400,
  ResourceLimitExceededException: 400,
  AccessDeniedException: 403,
  ThrottlingException: 429,
  ServerException: 500,
  UnknownOperationException: 404,
} as const;
export type EksErrorCode = keyof typeof EKS_ERROR_STATUS;

/** Members EKS adds to error bodies next to `message` (the SDK copies them onto the exception). */
export interface EksErrorFields {
  clusterName?: string;
  nodegroupName?: string;
  fargateProfileName?: string;
  addonName?: string;
}

export class EksError extends AwsServiceError {
  constructor(code: EksErrorCode, message: string, readonly fields: EksErrorFields = {}) {
    super(code, message, EKS_ERROR_STATUS[code]);
  }
}

export function renderEksError(err: AwsServiceError): HttpReply {
  const fields = err instanceof EksError ? err.fields : {};
  return {
    status: err.status,
    headers: {
      'content-type': 'application/json',
      // The SDK reads the code from this header first (loadRestJsonErrorCode: header, code, __type).
      'x-amzn-errortype': err.code,
      'x-amzn-requestid': requestId(),
    },
    body: JSON.stringify({ ...fields, message: err.message }),
  };
}

export function jsonReply(value: unknown): HttpReply {
  return {
    status: 200,
    headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId() },
    body: JSON.stringify(value),
  };
}

/** REST-JSON timestamps default to epoch seconds (numbers, fractions allowed). */
export function epoch(d: Date): number {
  return d.getTime() / 1000;
}

export function invalidParameter(message: string, fields: EksErrorFields = {}): EksError {
  return new EksError('InvalidParameterException', message, fields);
}

export type JsonBody = Record<string, unknown>;

export function parseJsonBody(body: Buffer): JsonBody {
  const text = body.toString('utf8').trim();
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidParameter('The request body is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidParameter('The request body must be a JSON object.');
  }
  return value as JsonBody;
}

export function optString(body: JsonBody, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidParameter(`${key} must be a string.`);
  return v;
}

export function reqString(body: JsonBody, key: string): string {
  const v = optString(body, key);
  if (v === undefined || v === '') throw invalidParameter(`${key} is required.`);
  return v;
}

export function optBoolean(body: JsonBody, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalidParameter(`${key} must be a boolean.`);
  return v;
}

export function optStringMap(body: JsonBody, key: string): Record<string, string> | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidParameter(`${key} must be a map of strings.`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (typeof val !== 'string') throw invalidParameter(`${key}.${k} must be a string.`);
    out[k] = val;
  }
  return out;
}

const ROLE_ARN = /^arn:(aws|aws-cn|aws-us-gov):iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** EKS rejects anything that is not an IAM role ARN where it expects one. */
export function checkRoleArn(value: string, key: string): void {
  if (!ROLE_ARN.test(value)) {
    throw invalidParameter(`${key} ${value} is not a valid IAM role ARN. Expected arn:<partition>:iam::<account>:role/<name>.`);
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Kubernetes naming rules: namespaces are DNS labels, service accounts DNS subdomains. */
export function checkKubeNames(namespace: string, serviceAccount: string): void {
  if (namespace.length > 63 || !DNS_LABEL.test(namespace)) {
    throw invalidParameter(`namespace ${namespace} is not a valid Kubernetes namespace name.`);
  }
  if (serviceAccount.length > 253 || !DNS_SUBDOMAIN.test(serviceAccount)) {
    throw invalidParameter(`serviceAccount ${serviceAccount} is not a valid Kubernetes service account name.`);
  }
}

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

/**
 * One page of `items` (already sorted by `keyOf`). The token names the last key returned, not an
 * offset, so deletions between pages neither skip nor repeat items.
 */
export function paginate<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  query: URLSearchParams,
  scope: string,
): Page<T> {
  const rawMax = query.get('maxResults');
  let max = 100;
  if (rawMax !== null) {
    max = Number(rawMax);
    if (!Number.isInteger(max) || max < 1 || max > 100) {
      throw invalidParameter('maxResults must be an integer between 1 and 100.');
    }
  }
  let start = 0;
  const token = query.get('nextToken');
  if (token !== null && token !== '') {
    const after = decodeToken(token, scope);
    start = items.findIndex((i) => keyOf(i) > after);
    if (start < 0) start = items.length;
  }
  const slice = items.slice(start, start + max);
  const more = start + max < items.length;
  const last = slice.at(-1);
  return { items: slice, ...(more && last !== undefined ? { nextToken: encodeToken(scope, keyOf(last)) } : {}) };
}

function encodeToken(scope: string, key: string): string {
  return Buffer.from(JSON.stringify({ s: scope, k: key })).toString('base64url');
}

function decodeToken(token: string, scope: string): string {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { s?: unknown; k?: unknown };
    if (v.s === scope && typeof v.k === 'string') return v.k;
  } catch {
    // fall through: any token this list did not issue is invalid
  }
  throw invalidParameter('The nextToken provided is not valid for this request.');
}

export function byKey<T>(keyOf: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => {
    const ka = keyOf(a);
    const kb = keyOf(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  };
}
