/**
 * EKS's `clientRequestToken` ("a unique, case-sensitive identifier that you provide to ensure the
 * idempotency of the request": EKS API reference for CreatePodIdentityAssociation,
 * UpdatePodIdentityAssociation, CreateAddon, UpdateAddon). A retry with the same token and the
 * same parameters answers the original result without doing anything again, so an executor that
 * retries after a lost response does not create twice. The same token with other parameters is
 * refused: EKS documents no error for that case, so the sandbox answers
 * InvalidParameterException, as AWS APIs that do document it refuse such a retry
 * (EC2's IdempotentParameterMismatch). Only successful results are remembered: a failed request
 * may be retried with its token. The AWS SDKs fill the token in themselves and reuse it when they
 * retry a request.
 */
import { invalidParameter, type EksErrorFields, type JsonBody } from './eks-wire.js';

export class IdempotencyTokens {
  private readonly seen = new Map<string, { fingerprint: string; result: JsonBody }>();

  /** Run `perform` once per (scope, token); `scope` names the operation and its target. */
  run(scope: string, body: JsonBody, fields: EksErrorFields, perform: () => JsonBody): JsonBody {
    const token = body['clientRequestToken'];
    if (typeof token !== 'string' || token === '') return perform();
    const key = `${scope}\u0000${token}`;
    const { clientRequestToken: _t, ...params } = body;
    const fingerprint = canonical(params);
    const prior = this.seen.get(key);
    if (prior) {
      if (prior.fingerprint !== fingerprint) {
        throw invalidParameter(`Client request token ${token} was already used for a request with different parameters.`, fields);
      }
      return structuredClone(prior.result);
    }
    const result = perform();
    this.seen.set(key, { fingerprint, result: structuredClone(result) });
    return result;
  }
}

/** JSON with sorted keys, so parameter order does not matter. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
