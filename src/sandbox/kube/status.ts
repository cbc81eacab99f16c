/** metav1.Status errors, the shape every Kubernetes client decodes from a failed request. */
import type { HttpReply } from '../aws/common.js';
import type { JsonObject } from '../world-types.js';

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: { reason: string; message: string; field?: string }[];
  retryAfterSeconds?: number;
}

/** A request the API server refuses; rendered as a Status with `code` = HTTP status. */
export class KubeError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'KubeError';
  }
}

export function statusBody(code: number, reason: string, message: string, details?: StatusDetails): JsonObject {
  const body: JsonObject = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason };
  if (details) body.details = details;
  body.code = code;
  return body;
}

export function jsonReply(status: number, body: unknown): HttpReply {
  return jsonTextReply(status, JSON.stringify(body));
}

/** A reply whose JSON body is already serialised. */
export function jsonTextReply(status: number, json: string): HttpReply {
  return { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-cache, private' }, body: json };
}

export function errorReply(err: KubeError): HttpReply {
  return jsonReply(err.code, statusBody(err.code, err.reason, err.message, err.details));
}

/** `deployments.apps`, `pods`: how the API server names a resource in messages. */
export function qualified(plural: string, group: string): string {
  return group ? `${plural}.${group}` : plural;
}

export function notFound(plural: string, group: string, name: string): KubeError {
  return new KubeError(404, 'NotFound', `${qualified(plural, group)} "${name}" not found`, { name, group: group || undefined, kind: plural });
}

export function conflict(plural: string, group: string, name: string): KubeError {
  return new KubeError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(plural, group)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group: group || undefined, kind: plural },
  );
}

export function invalid(kind: string, group: string, name: string, field: string, message: string): KubeError {
  return new KubeError(422, 'Invalid', `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${field}: ${message}`, {
    name,
    group: group || undefined,
    kind,
    causes: [{ reason: 'FieldValueInvalid', message, field }],
  });
}

export function badRequest(message: string): KubeError {
  return new KubeError(400, 'BadRequest', message);
}
