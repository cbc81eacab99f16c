/**
 * A JSON parser that builds only the parts of a document its reader asked for, straight from the
 * response bytes. A fleet scan reads a few hundred MB of Kubernetes list pages of which it keeps
 * a few fields per object; `JSON.parse(body.toString())` would decode every byte into a string
 * and allocate every object and string of every pod (managedFields, status, volumes, ...) only
 * for the collector to drop them. Here the skipped values are stepped over byte by byte without
 * allocating anything, and only the kept values become JavaScript values.
 *
 * `Keep` says what to keep: `true` keeps a value whole; an object keeps only those keys of an
 * object value (each with its own `Keep`), and applies to every element of an array value.
 * Scalars are kept as they are. So `parseKept(bytes, keep)` equals `prune(JSON.parse(text), keep)`
 * (test/unit/json-keep.property.test.ts checks that on generated documents).
 *
 * Strictness: kept values are parsed as JSON.parse parses them (escapes, UTF-8, numbers, the
 * `__proto__` key as an own property). Skipped values are checked for structure only (strings
 * terminated, brackets balanced and matched, nothing after the document), not for the syntax of
 * their numbers and literals: a truncated or garbled body fails, a malformed number inside a
 * skipped field does not.
 */

export type Keep = true | { readonly [key: string]: Keep };

/** A compiled `Keep` object: the wanted keys as bytes, for matching without decoding keys. */
export interface KeepPlan {
  readonly names: readonly string[];
  readonly bytes: readonly Uint8Array[];
  readonly children: readonly (KeepPlan | null)[];
  readonly byName: ReadonlyMap<string, KeepPlan | null>;
  /** Applied to each object kept with this plan as soon as it is parsed (see mapKept). */
  readonly map?: (kept: Record<string, unknown>) => unknown;
  /** Per name: shared values (see shareKept) with the last one parsed, or undefined (not shared). */
  readonly shared?: readonly (LastShared | undefined)[];
}

/** Compiles `keep` once (for a reader that parses many documents with it); `null` keeps everything. */
export function compileKeep(keep: Keep): KeepPlan | null {
  if (keep === true) return null;
  const names = Object.keys(keep);
  const children = names.map((n) => compileKeep(keep[n]!));
  return {
    names,
    bytes: names.map((n) => Buffer.from(n, 'utf8')),
    children,
    byName: new Map(names.map((n, i) => [n, children[i]!])),
  };
}

/**
 * `plan`, with `map` applied to each object it keeps, as soon as that object is parsed (for a
 * list's items: one at a time, each kept object garbage at once instead of a page of them
 * living until the page is mapped). An object value only: an array kept with `plan` is an array
 * of mapped objects.
 */
export function mapKept(plan: KeepPlan, map: (kept: Record<string, unknown>) => unknown): KeepPlan {
  return { ...plan, map };
}

/**
 * `plan`, with the values at `paths` (each a path of names from `plan`) shared: a value whose
 * bytes equal those of the value parsed last at that place (in this document or an earlier one
 * parsed with the same plan) is that same value, parsed once and frozen. For the
 * parts of a list's items that repeat byte for byte: the pods of one ReplicaSet have the same
 * labels, owner and containers, so 100,000 pods hold about 10,000 distinct ones. Stepping over
 * the bytes and comparing them costs less than building the value again; the values are
 * read-only (frozen) since any number of items hold them. A shared value is still checked as
 * every skipped value is (structure), then parsed as a kept value the first time.
 */
export function shareKept(plan: KeepPlan, paths: readonly (readonly string[])[]): KeepPlan {
  const here = new Set(paths.filter((p) => p.length === 1).map((p) => p[0]!));
  const children = plan.names.map((name, i) => {
    const deeper = paths.filter((p) => p.length > 1 && p[0] === name).map((p) => p.slice(1));
    const child = plan.children[i]!;
    if (deeper.length === 0) return child;
    if (child === null) throw new Error(`shareKept: ${name} is kept whole, it has no parts to share`);
    return shareKept(child, deeper);
  });
  for (const name of here) if (!plan.names.includes(name)) throw new Error(`shareKept: ${name} is not kept`);
  return {
    ...plan,
    children,
    byName: new Map(plan.names.map((n, i) => [n, children[i]!])),
    shared: plan.names.map((n, i) => (here.has(n) ? new LastShared() : plan.shared?.[i])),
  };
}

export class JsonKeepError extends SyntaxError {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at byte ${offset}`);
    this.name = 'JsonKeepError';
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** Byte classes for skipping: 0 ordinary, 1 quote, 2 open bracket, 3 close bracket. */
const CLASS = new Uint8Array(256);
CLASS[QUOTE] = 1;
CLASS[OPEN_OBJECT] = 2;
CLASS[OPEN_ARRAY] = 2;
CLASS[CLOSE_OBJECT] = 3;
CLASS[CLOSE_ARRAY] = 3;
/** Bytes that end a scalar token: , } ] and whitespace. */
const DELIM = new Uint8Array(256);
for (const c of [COMMA, CLOSE_OBJECT, CLOSE_ARRAY, 0x20, 0x0a, 0x0d, 0x09]) DELIM[c] = 1;

// The parser's state for the document being parsed (parsing is synchronous, so one set suffices).
// Hot loops copy it into locals.
let buf: Buffer = Buffer.alloc(0);
let pos = 0;
let end = 0;
let stack = new Uint8Array(64);

/** Parses `bytes` (one JSON document, UTF-8), keeping what `keep` says. */
export function parseKept(bytes: Uint8Array, keep: Keep | KeepPlan | null): unknown {
  const plan = keep === null || isPlan(keep) ? keep : compileKeep(keep);
  buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  pos = 0;
  end = buf.length;
  try {
    skipWhitespace();
    const value = parseValue(plan);
    skipWhitespace();
    if (pos !== end) throw fail('unexpected data after the JSON document');
    return value;
  } finally {
    buf = Buffer.alloc(0);
  }
}

function isPlan(k: Keep | KeepPlan): k is KeepPlan {
  return k !== true && k.byName instanceof Map && Array.isArray(k.children);
}

function fail(message: string): JsonKeepError {
  return new JsonKeepError(pos >= end ? 'unexpected end of JSON' : message, pos);
}

function skipWhitespace(): void {
  const b = buf;
  let p = pos;
  while (p < end) {
    const c = b[p]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    p++;
  }
  pos = p;
}

function parseValue(plan: KeepPlan | null): unknown {
  const c = buf[pos];
  if (c === OPEN_OBJECT) return plan === null ? parseObject() : parseObjectKept(plan);
  if (c === OPEN_ARRAY) return parseArray(plan);
  if (c === QUOTE) return parseString();
  return parseScalar();
}

function parseObject(): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  pos++;
  skipWhitespace();
  if (buf[pos] === CLOSE_OBJECT) {
    pos++;
    return obj;
  }
  for (;;) {
    if (buf[pos] !== QUOTE) throw fail('expected a property name');
    const key = parseString();
    expectColon();
    set(obj, key, parseValue(null));
    if (afterMember(CLOSE_OBJECT)) return obj;
  }
}

function parseObjectKept(plan: KeepPlan): unknown {
  const obj: Record<string, unknown> = {};
  pos++;
  skipWhitespace();
  if (buf[pos] === CLOSE_OBJECT) {
    pos++;
    return plan.map === undefined ? obj : plan.map(obj);
  }
  const { bytes, names, children, shared } = plan;
  const wanted = bytes.length;
  const b = buf;
  for (;;) {
    if (b[pos] !== QUOTE) throw fail('expected a property name');
    const start = pos + 1;
    let j = start;
    let escaped = false;
    for (;;) {
      if (j >= end) {
        pos = j;
        throw fail('unterminated string');
      }
      const ch = b[j]!;
      if (ch === QUOTE) break;
      if (ch === BACKSLASH) {
        escaped = true;
        j += 2;
      } else j++;
    }
    let index = -1;
    if (escaped) {
      const key = parseString();
      if (plan.byName.has(key)) index = names.indexOf(key);
    } else {
      const len = j - start;
      for (let k = 0; k < wanted; k++) {
        const want = bytes[k]!;
        if (want.length !== len) continue;
        let m = 0;
        while (m < len && b[start + m] === want[m]) m++;
        if (m === len) {
          index = k;
          break;
        }
      }
      pos = j + 1;
    }
    expectColon();
    if (index >= 0) set(obj, names[index]!, shared?.[index] !== undefined ? parseShared(children[index]!, shared[index]!) : parseValue(children[index]!));
    else pos = skip(b, pos, end);
    if (afterMember(CLOSE_OBJECT)) return plan.map === undefined ? obj : plan.map(obj);
  }
}

function parseArray(plan: KeepPlan | null): unknown[] {
  const arr: unknown[] = [];
  pos++;
  skipWhitespace();
  if (buf[pos] === CLOSE_ARRAY) {
    pos++;
    return arr;
  }
  for (;;) {
    arr.push(parseValue(plan));
    if (afterMember(CLOSE_ARRAY)) return arr;
  }
}

/** After a member: `,` (then whitespace) or the closing bracket. Returns true when closed. */
function afterMember(close: number): boolean {
  let c = buf[pos];
  if (c !== COMMA && c !== close) {
    skipWhitespace();
    c = buf[pos];
  }
  if (c === COMMA) {
    pos++;
    if (buf[pos] !== QUOTE) skipWhitespace();
    return false;
  }
  if (c === close) {
    pos++;
    return true;
  }
  throw fail(close === CLOSE_OBJECT ? "expected ',' or '}'" : "expected ',' or ']'");
}

function expectColon(): void {
  if (buf[pos] === COLON) pos++;
  else {
    skipWhitespace();
    if (buf[pos] !== COLON) throw fail("expected ':'");
    pos++;
  }
  const c = buf[pos];
  if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) skipWhitespace();
}

/** JSON.parse's own-property semantics, `__proto__` included. */
function set(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

function parseString(): string {
  const b = buf;
  const start = pos + 1;
  let j = start;
  let plain = true;
  let hash = 0;
  for (;;) {
    if (j >= end) {
      pos = j;
      throw fail('unterminated string');
    }
    const c = b[j]!;
    if (c === QUOTE) break;
    if (c === BACKSLASH) {
      plain = false;
      j += 2;
      continue;
    }
    if (c < 0x20) {
      pos = j;
      throw fail('control character in string');
    }
    if (c >= 0x80) plain = false;
    hash = (Math.imul(hash, 31) + c) | 0;
    j++;
  }
  pos = j + 1;
  // Escapes or UTF-8: as JSON.parse reads them; plain ASCII is its own Latin-1 decoding.
  if (!plain) return JSON.parse(b.toString('utf8', start - 1, j + 1)) as string;
  return j - start <= INTERN_MAX_LENGTH ? intern(b, start, j, hash) : b.toString('latin1', start, j);
}

/**
 * Kept strings repeat: every pod of a fleet names its namespace, node, phase, owner kind and
 * service account, and 100,000 pods hold a few hundred distinct values of each. Short ASCII
 * strings go through a small direct-mapped cache keyed by a hash of their bytes: a hit returns
 * the string already made (no allocation; one copy retained however many objects hold it), a
 * miss makes it and takes the slot.
 */
const INTERN_MAX_LENGTH = 64;
const INTERN_SLOTS = 1 << 14;
const interned: (string | undefined)[] = new Array<string | undefined>(INTERN_SLOTS).fill(undefined);

function intern(b: Buffer, start: number, stop: number, hash: number): string {
  const slot = (hash ^ (hash >>> 15)) & (INTERN_SLOTS - 1);
  const hit = interned[slot];
  const length = stop - start;
  if (hit !== undefined && hit.length === length) {
    let k = 0;
    while (k < length && hit.charCodeAt(k) === b[start + k]) k++;
    if (k === length) return hit;
  }
  const made = b.toString('latin1', start, stop);
  interned[slot] = made;
  return made;
}

/**
 * Shared values (shareKept): the bytes and the value last parsed at each shared position. A
 * list's items come in key order (namespace, then name), so the items that repeat a value are
 * neighbours (a ReplicaSet's pods are named after it): comparing with the last one finds nearly
 * every repeat without hashing. A different value is parsed and takes the place; its bytes are
 * copied (into a buffer kept for the place), since a page's buffer is reused once it is parsed.
 */
class LastShared {
  /** The last value's bytes: the first `length` bytes of a buffer reused from value to value. */
  bytes: Buffer = Buffer.alloc(0);
  length = -1;
  value: unknown = undefined;
}

function parseShared(plan: KeepPlan | null, last: LastShared): unknown {
  const b = buf;
  const start = pos;
  // The last value's bytes first, compared natively: a JSON object, array or string ends where
  // its own brackets or quotes say, so bytes equal to a whole value already checked are that
  // value, and the bytes after it need not be stepped through (about half of a pod's bytes are
  // its labels, owner and containers). A number or literal could go on past them: never shared.
  const known = last.length;
  if (known > 0 && start + known <= end && (b[start] === OPEN_OBJECT || b[start] === OPEN_ARRAY || b[start] === QUOTE) && b.compare(last.bytes, 0, known, start, start + known) === 0) {
    pos = start + known;
    return last.value;
  }
  const stop = skip(b, start, end);
  const length = stop - start;
  const value = deepFreeze(parseValue(plan));
  if (last.bytes.length < length) last.bytes = Buffer.allocUnsafeSlow(Math.max(length, 2 * last.bytes.length, 256));
  b.copy(last.bytes, 0, start, stop);
  last.length = length;
  last.value = value;
  return value;
}

function deepFreeze(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

function parseScalar(): unknown {
  const start = pos;
  const b = buf;
  let p = pos;
  while (p < end && DELIM[b[p]!] === 0) p++;
  pos = p;
  const token = b.toString('latin1', start, p);
  if (token === 'true') return true;
  if (token === 'false') return false;
  if (token === 'null') return null;
  if (NUMBER.test(token)) return Number(token);
  pos = start;
  throw fail(token === '' ? 'expected a value' : `unexpected token ${JSON.stringify(token.slice(0, 20))}`);
}

/**
 * Steps over the value at `p` without building it; returns the position after it. Nested
 * values: every byte is looked at once (strings may hold any bracket), the open brackets are
 * tracked so a `}` cannot close a `[`.
 */
function skip(b: Buffer, p: number, stop: number): number {
  let c = b[p];
  if (c === QUOTE) {
    p++;
    for (;;) {
      if (p >= stop) return failAt(p, 'unterminated string');
      c = b[p++]!;
      if (c === QUOTE) return p;
      if (c === BACKSLASH) p++;
    }
  }
  if (c !== OPEN_OBJECT && c !== OPEN_ARRAY) {
    const start = p;
    while (p < stop && DELIM[b[p]!] === 0) p++;
    if (p === start) return failAt(p, 'expected a value');
    return p;
  }
  let depth = 0;
  let st = stack;
  for (;;) {
    if (p >= stop) return failAt(p, 'unexpected end of JSON');
    c = b[p++]!;
    const k = CLASS[c]!;
    if (k === 0) continue;
    if (k === 1) {
      for (;;) {
        if (p >= stop) return failAt(p, 'unterminated string');
        c = b[p++]!;
        if (c === QUOTE) break;
        if (c === BACKSLASH) p++;
      }
    } else if (k === 2) {
      if (depth === st.length) {
        const grown = new Uint8Array(st.length * 2);
        grown.set(st);
        stack = st = grown;
      }
      st[depth++] = c;
    } else {
      if (depth === 0 || st[--depth] !== c - 2) return failAt(p - 1, 'mismatched bracket');
      if (depth === 0) return p;
    }
  }
}

function failAt(p: number, message: string): never {
  pos = p;
  throw fail(message);
}
