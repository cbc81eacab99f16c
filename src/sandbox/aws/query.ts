/**
 * The AWS query protocol (IAM, STS): form-encoded `Action=...&Version=...` requests, XML
 * responses wrapped in `<{Action}Response><{Action}Result>`, errors as `<ErrorResponse>`.
 * Shared by iam.ts and sts.ts so both speak exactly the wire shape the SDK's AwsQueryProtocol
 * deserializer expects (lists as `<member>` children, timestamps as ISO 8601).
 */
import {
  AwsServiceError, requestId, type AwsRequest, type AwsServiceModule, type HttpReply, type RoutedOperation,
} from './common.js';

/** A value the XML writer can render. Arrays become `<member>` lists; null/undefined are omitted. */
export type XmlValue = string | number | boolean | Date | XmlValue[] | XmlObject | null | undefined;
export interface XmlObject {
  [element: string]: XmlValue;
}

/** Request parameters after form decoding (body and query string merged, body wins). */
export type QueryParams = URLSearchParams;

export interface QueryOperation {
  mutating: boolean;
  /** Returns the `<{Action}Result>` members, or null for operations with an empty result. */
  handler(params: QueryParams): XmlObject | null;
}

export interface QueryServiceSpec {
  /** XML namespace: https://iam.amazonaws.com/doc/2010-05-08/ */
  namespace: string;
  /** API version the SDK sends in `Version`. */
  version: string;
  operations: Record<string, QueryOperation>;
  /** Code for unexpected failures: IAM says ServiceFailure, STS InternalFailure. */
  internalErrorCode: string;
}

/** Build an AwsServiceModule from an operation table. */
export function createQueryService(spec: QueryServiceSpec): AwsServiceModule {
  const renderError = (err: AwsServiceError): HttpReply => queryError(spec.namespace, err);
  return {
    renderError,
    route(req: AwsRequest): RoutedOperation {
      const params = queryParams(req);
      const action = params.get('Action');
      if (!action) {
        throw new AwsServiceError('MissingAction', 'Missing Action', 400);
      }
      const version = params.get('Version');
      const op = Object.hasOwn(spec.operations, action) ? spec.operations[action] : undefined;
      if (!op || (version !== null && version !== spec.version)) {
        throw new AwsServiceError('InvalidAction', `Could not find operation ${action} for version ${version ?? 'NO_VERSION_SPECIFIED'}`, 400);
      }
      return {
        operation: action,
        mutating: op.mutating,
        run(): HttpReply {
          try {
            return queryResponse(spec.namespace, action, op.handler(params));
          } catch (e) {
            if (e instanceof AwsServiceError) return renderError(e);
            // A bug in the emulator must still reach the SDK as a well-formed server fault.
            const message = e instanceof Error ? e.message : String(e);
            return renderError(new AwsServiceError(spec.internalErrorCode, message, 500));
          }
        },
      };
    },
  };
}

/** Form parameters of a query request: the body (POST) over the query string (GET). */
export function queryParams(req: AwsRequest): QueryParams {
  const params = new URLSearchParams(req.query);
  const body = new URLSearchParams(req.body.toString('utf8'));
  for (const key of new Set(body.keys())) {
    params.delete(key);
    for (const v of body.getAll(key)) params.append(key, v);
  }
  return params;
}

/** A successful response: `<{Action}Response><{Action}Result>...</...><ResponseMetadata>`. */
export function queryResponse(namespace: string, action: string, result: XmlObject | null): HttpReply {
  const id = requestId();
  const resultXml = result === null ? '' : element(`${action}Result`, result);
  const body = `<${action}Response xmlns="${escapeXml(namespace)}">${resultXml}` +
    `<ResponseMetadata><RequestId>${id}</RequestId></ResponseMetadata></${action}Response>\n`;
  return { status: 200, headers: xmlHeaders(id), body };
}

/** An error response in the query protocol's shape, with the HTTP status the error carries. */
export function queryError(namespace: string, err: AwsServiceError): HttpReply {
  const id = requestId();
  const body = `<ErrorResponse xmlns="${escapeXml(namespace)}"><Error>` +
    `<Type>${err.fault}</Type><Code>${escapeXml(err.code)}</Code><Message>${escapeXml(err.message)}</Message>` +
    `</Error><RequestId>${id}</RequestId></ErrorResponse>\n`;
  return { status: err.status, headers: xmlHeaders(id), body };
}

function xmlHeaders(id: string): Record<string, string> {
  return { 'content-type': 'text/xml', 'x-amzn-requestid': id };
}

/** Render one element. Lists use `<member>`; dates are ISO 8601 without milliseconds, as IAM writes them. */
export function element(name: string, value: XmlValue): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) {
    if (value.length === 0) return `<${name}/>`;
    return `<${name}>${value.map((v) => element('member', v)).join('')}</${name}>`;
  }
  if (value instanceof Date) return `<${name}>${isoSeconds(value)}</${name}>`;
  if (typeof value === 'object') {
    const inner = Object.entries(value).map(([k, v]) => element(k, v)).join('');
    return inner === '' ? `<${name}/>` : `<${name}>${inner}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

export function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Escape text for XML 1.0 content and double-quoted attributes. Whitespace control characters become
 * character references so parsers keep them; other C0 controls are not allowed in XML 1.0 at
 * all, so they are dropped rather than producing a document the SDK cannot parse.
 */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"\u0000-\u001f]/g, (c) => {
    switch (c) {
      case '&': return '&amp;';
      case '<': return '&lt;';
      case '>': return '&gt;';
      case '"': return '&quot;';
      case '\t': return '&#x9;';
      case '\n': return '&#xA;';
      case '\r': return '&#xD;';
      default: return '';
    }
  });
}

/** A required string parameter; IAM answers a missing one with ValidationError. */
export function requiredParam(params: QueryParams, name: string): string {
  const v = params.get(name);
  if (v === null || v === '') {
    throw validationError(`Value null at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`);
  }
  return v;
}

/** MaxItems: 1..1000 (IAM's bounds), `fallback` when absent. */
export function maxItemsParam(params: QueryParams, fallback = 100): number {
  const raw = params.get('MaxItems');
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw validationError(`Value '${raw}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000`);
  }
  return n;
}

export function validationError(detail: string): AwsServiceError {
  return new AwsServiceError('ValidationError', `1 validation error detected: ${detail}`, 400);
}

/**
 * Marker/MaxItems pagination over a list whose items have stable keys. The marker is opaque to
 * callers (base64 of the last key returned), so it stays valid if earlier items change.
 */
export function paginate<T>(items: readonly T[], key: (item: T) => string, params: QueryParams, fallbackMax = 100): {
  page: T[];
  IsTruncated: boolean;
  Marker: string | undefined;
} {
  const max = maxItemsParam(params, fallbackMax);
  const marker = params.get('Marker');
  let start = 0;
  if (marker !== null && marker !== '') {
    const after = decodeMarker(marker);
    const idx = items.findIndex((i) => key(i) === after);
    if (after === undefined || idx < 0) {
      throw new AwsServiceError('ValidationError', 'Invalid Marker.', 400);
    }
    start = idx + 1;
  }
  const page = items.slice(start, start + max);
  const truncated = start + max < items.length;
  const last = page[page.length - 1];
  return {
    page,
    IsTruncated: truncated,
    Marker: truncated && last !== undefined ? Buffer.from(key(last), 'utf8').toString('base64') : undefined,
  };
}

/**
 * A list parameter as the query protocol sends it: `Name.member.1=a&Name.member.2=b`, in index
 * order (an empty list arrives as a bare `Name=`).
 */
export function memberList(params: QueryParams, name: string): string[] {
  const prefix = `${name}.member.`;
  const found: [number, string][] = [];
  for (const [k, v] of params) {
    if (k.startsWith(prefix) && /^\d+$/.test(k.slice(prefix.length))) found.push([Number(k.slice(prefix.length)), v]);
  }
  return found.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

/** A list of structures: `Tags.member.1.Key=k&Tags.member.1.Value=v`, in index order. */
export function memberStructs(params: QueryParams, name: string): Record<string, string>[] {
  const prefix = `${name}.member.`;
  const byIndex = new Map<number, Record<string, string>>();
  for (const [k, v] of params) {
    if (!k.startsWith(prefix)) continue;
    const m = /^(\d+)\.(\w+)$/.exec(k.slice(prefix.length));
    if (!m) continue;
    const i = Number(m[1]);
    const entry = byIndex.get(i) ?? {};
    entry[m[2]!] = v;
    byIndex.set(i, entry);
  }
  return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, e]) => e);
}

function decodeMarker(marker: string): string | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(marker)) return undefined;
  return Buffer.from(marker, 'base64').toString('utf8');
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}
