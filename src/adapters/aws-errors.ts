/**
 * SDK errors -> podid errors. A user should see one line that says which call failed and what
 * to do, never an SDK stack: missing or expired credentials are a usage problem (exit 2); a
 * denied read names the IAM action to grant; an unreachable endpoint names the URL.
 */
import { PodidError, UsageError } from '../core/errors.js';
import { READ_DENIED, READ_NOT_FOUND } from '../core/ports.js';

export const CREDENTIALS_HINT = 'configure AWS credentials: --profile, AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (aws sso login / aws configure)';

/** Set on an SDK error by the endpoint-tracking middleware in aws.ts: where the request went. */
export const ENDPOINT_PROPERTY = '$podidEndpoint';

const NO_CREDENTIALS = new Set(['CredentialsProviderError', 'CredentialsError']);
const BAD_CREDENTIALS = new Set([
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'InvalidSignatureException',
  'TokenRefreshRequired',
  'RequestExpired',
]);
const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'UnauthorizedException']);
const NOT_FOUND = new Set(['NoSuchEntity', 'NoSuchEntityException', 'ResourceNotFoundException', 'NotFoundException']);
/** The SDK's own list of throttling error names (@smithy/service-error-classification), plus EKS's. */
const THROTTLED = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'RequestThrottled',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED']);
const TIMEOUT_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: number };
  [ENDPOINT_PROPERTY]?: unknown;
}

function shape(err: unknown): SdkErrorShape {
  return typeof err === 'object' && err !== null ? (err as SdkErrorShape) : {};
}

export function awsErrorName(err: unknown): string {
  const e = shape(err);
  return typeof e.name === 'string' ? e.name : '';
}

function firstLine(text: string): string {
  return text.split('\n')[0]?.trim() ?? '';
}

export function isAccessDenied(err: unknown): boolean {
  return DENIED.has(awsErrorName(err));
}

export function isNotFound(err: unknown): boolean {
  return NOT_FOUND.has(awsErrorName(err));
}

/**
 * Maps an SDK failure of `action` (IAM action form, `eks:DescribeCluster`) to a PodidError.
 * `fallbackEndpoint` names the service when the request never got far enough to have a URL.
 */
export function mapAwsError(err: unknown, action: string, fallbackEndpoint: string): PodidError {
  if (err instanceof PodidError) return err;
  const e = shape(err);
  const name = awsErrorName(err);
  const message = typeof e.message === 'string' ? firstLine(e.message) : String(err);
  const code = typeof e.code === 'string' ? e.code : '';
  const endpoint = typeof e[ENDPOINT_PROPERTY] === 'string' ? e[ENDPOINT_PROPERTY] : fallbackEndpoint;

  if (NO_CREDENTIALS.has(name) || /could not load credentials/i.test(message)) {
    return withCause(new UsageError('AWS_NO_CREDENTIALS', `no AWS credentials found (${message})`, CREDENTIALS_HINT), err);
  }
  if (BAD_CREDENTIALS.has(name)) {
    return new PodidError('AWS_CREDENTIALS_INVALID', `AWS rejected the credentials on ${action}: ${name}: ${message}`, { hint: CREDENTIALS_HINT, cause: err });
  }
  // IAM's quota errors share a name with throttling (LimitExceeded, 409): "Cannot exceed quota for
  // ACLSizePerRole: 2048" is a document too long for the role, which no retry or wait changes.
  const quota = /^Cannot exceed quota for (\w+)/i.exec(message);
  if (quota !== null) {
    const trust = quota[1] === 'ACLSizePerRole';
    return new PodidError('AWS_ERROR', `${action} was refused by an AWS quota: ${name || 'LimitExceeded'}: ${message}${trust ? ' (the role trust policy length, counted without whitespace)' : ''}`, {
      hint: trust
        ? 'raise the "Role trust policy length" quota (Service Quotas L-C07B4B0D, at most 8,192; IAM User Guide, "IAM and AWS STS quotas") and make a new plan with --trust-policy-limit set to it, or shorten the trust policy'
        : 'raise that quota in Service Quotas, or change less at once',
      cause: err,
    });
  }
  if (THROTTLED.has(name) || e.$metadata?.httpStatusCode === 429) {
    return new PodidError('AWS_THROTTLED', `${action} was throttled by AWS past podid's retries: ${name || 'HTTP 429'}`, {
      hint: 'run again later, or lower --concurrency so fewer calls are in flight',
      cause: err,
    });
  }
  if (code === 'ERR_INVALID_URL' || (name === 'TypeError' && /invalid url/i.test(message))) {
    // Only where the request really went: the fallback is the SDK's default, not the bad value.
    const where = typeof e[ENDPOINT_PROPERTY] === 'string' ? ` (${e[ENDPOINT_PROPERTY]})` : '';
    return new PodidError('AWS_ENDPOINT_INVALID', `the AWS endpoint for ${action} is not a valid URL${where}`, {
      hint: 'fix AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> (or endpoint_url in the AWS config file): a URL such as https://eks.us-east-1.amazonaws.com',
      cause: err,
    });
  }
  if (DENIED.has(name)) {
    return new PodidError(READ_DENIED, `${action} was denied: ${message}`, {
      hint: `grant ${action} to the identity podid runs as (podid scan only needs read permissions)`,
      cause: err,
    });
  }
  if (NOT_FOUND.has(name)) {
    return new PodidError(READ_NOT_FOUND, `${action}: ${message}`, { cause: err });
  }
  if (NETWORK_CODES.has(code) || NETWORK_CODES.has(name) || TIMEOUT_NAMES.has(name) || /socket hang up|timed? ?out/i.test(message)) {
    return new PodidError('AWS_UNREACHABLE', `cannot reach ${endpoint} for ${action}: ${code || name || message}`, {
      hint: 'check the network, proxy settings and AWS_ENDPOINT_URL*; podid retried before giving up',
      cause: err,
    });
  }
  const status = e.$metadata?.httpStatusCode;
  return new PodidError('AWS_ERROR', `${action} failed${status ? ` (HTTP ${status})` : ''}: ${name ? `${name}: ` : ''}${message}`, { cause: err });
}

function withCause<E extends PodidError>(error: E, cause: unknown): E {
  Object.defineProperty(error, 'cause', { value: cause, enumerable: false, configurable: true, writable: true });
  return error;
}
