/**
 * What every emulated AWS service module (IAM, STS, EKS) shares with the server: the error it
 * throws and the shape of a routed request. The server resolves the operation first (so it can
 * log it, check the caller's `allow` list and inject faults), then runs it.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { DeflatedPart } from '../gzip-parts.js';

export type AwsServiceName = 'iam' | 'sts' | 'eks';

/** An error in the service's own vocabulary; the service module renders it in its wire shape. */
export class AwsServiceError extends Error {
  constructor(
    /** The error code the SDK maps to a typed exception: NoSuchEntity, ResourceNotFoundException, ... */
    readonly code: string,
    message: string,
    /** HTTP status IAM/STS/EKS answer with for this code. */
    readonly status: number,
    /** Query protocol only: Sender (client fault) or Receiver (server fault). */
    readonly fault: 'Sender' | 'Receiver' = status >= 500 ? 'Receiver' : 'Sender',
  ) {
    super(message);
    this.name = 'AwsServiceError';
  }
}

/** A signed request after SigV4 parsing, before the service module looks at it. */
export interface AwsRequest {
  service: AwsServiceName;
  /** Region from the SigV4 credential scope. */
  region: string;
  accessKeyId: string;
  method: string;
  /** Path without the query string, percent-decoding left to the service. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpReply {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
  /** Called once the body has been written (a pooled buffer goes back to its pool). */
  release?: () => void;
  /**
   * The body as parts to compress one by one (server.ts sendCompressed; gzip-parts.ts), when
   * some of them repeat from call to call and are kept compressed: a list page's items. The
   * body is not released before the promise settles.
   */
  compressParts?: (level: number) => Promise<readonly DeflatedPart[]>;
}

/** A request the service module recognised. `run` performs it against the sandbox state. */
export interface RoutedOperation {
  /** The API operation name, as in IAM policy actions: GetRole, CreatePodIdentityAssociation. */
  operation: string;
  /** Whether the operation changes state (recorded in /_sandbox/calls). */
  mutating: boolean;
  run(): Promise<HttpReply> | HttpReply;
}

export interface AwsServiceModule {
  /**
   * Recognise the operation. Returns a RoutedOperation or throws AwsServiceError (unknown
   * operation, malformed request). Must not change state.
   */
  route(req: AwsRequest): RoutedOperation;
  /** Render an error in the service's wire format (XML for query, JSON for REST-JSON). */
  renderError(err: AwsServiceError): HttpReply;
}

export function requestId(): string {
  return crypto.randomUUID();
}
