/**
 * Reads the SigV4 Authorization header the AWS SDK sends. The sandbox accepts any credentials
 * (it has no secrets to check) but, like AWS, rejects requests that are not signed, and routes
 * by the service named in the signature's credential scope.
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface SigV4Scope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

const AUTH = /^AWS4-HMAC-SHA256\s+Credential=([^/\s]+)\/(\d{8})\/([^/\s]+)\/([^/\s]+)\/aws4_request\s*,\s*SignedHeaders=[^,\s]+\s*,\s*Signature=[0-9a-f]{64}\s*$/;

/** The signature's scope, or undefined when the request is not SigV4-signed. */
export function parseSigV4(headers: IncomingHttpHeaders): SigV4Scope | undefined {
  const auth = headers['authorization'];
  if (typeof auth !== 'string') return undefined;
  const m = AUTH.exec(auth);
  if (!m) return undefined;
  return { accessKeyId: m[1]!, date: m[2]!, region: m[3]!, service: m[4]! };
}

/** Whether a request looks like it was meant for AWS (so an unsigned one gets an AWS-shaped refusal). */
export function looksLikeAws(headers: IncomingHttpHeaders): boolean {
  return typeof headers['x-amz-date'] === 'string' || typeof headers['authorization'] === 'string' ||
    String(headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
}
