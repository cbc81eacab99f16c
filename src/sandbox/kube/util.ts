/** Small JSON helpers shared by the Kubernetes emulator. */
import type { JsonObject } from '../world-types.js';

export function isObj(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A deep copy of a JSON value (what stored objects are). Written out rather than structuredClone,
 * which serialises through the V8 serializer and costs several times more per small object; a
 * value that is not plain JSON (a Date, a Map) still goes through structuredClone.
 */
export function clone<T>(v: T): T {
  return copyJson(v) as T;
}

function copyJson(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = copyJson(v[i]);
    return out;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = copyJson((v as Record<string, unknown>)[k]);
  return out;
}

/**
 * Stored objects are immutable (store.ts freezes them): a change is a new object. Freeze `v` and
 * every object in it, stopping at parts already frozen (shared or stored before).
 */
export function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (typeof v[i] === 'object') deepFreeze(v[i]);
    } else {
      const o = v as Record<string, unknown>;
      // for-in over a plain object's own keys (JSON values inherit none) walks V8's enum cache.
      for (const k in o) if (typeof o[k] === 'object') deepFreeze(o[k]);
    }
  }
  return v;
}

/**
 * A value many stored objects hold (what a controller's pods have alike: containers, volumes,
 * conditions, owner references): frozen, so one copy can serve them all. Callers keep such values
 * in small caches keyed by what they are made from.
 */
export function share<T extends object>(v: T): T {
  return deepFreeze(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObj(a) && isObj(b)) {
    // Keys with undefined values count as absent (as in JSON).
    let na = 0;
    for (const k of Object.keys(a)) {
      if (a[k] === undefined) continue;
      na++;
      if (!deepEqual(a[k], b[k])) return false;
    }
    let nb = 0;
    for (const k of Object.keys(b)) if (b[k] !== undefined) nb++;
    return na === nb;
  }
  return false;
}

/** JSON with sorted keys, so equal objects hash equally whatever their key order. */
export function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (isObj(v)) {
    return `{${Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** The alphabet Kubernetes uses for generated name suffixes and hashes (no vowels, no look-alikes). */
const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

function fnv1a(s: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h;
}

/** A template hash the way controllers print one (fnv-1a, then safe-encoded): `5d8f7b9c6d`. */
export function templateHash(template: unknown): string {
  // A stored template is frozen (never changes): hash it once.
  const frozen = typeof template === 'object' && template !== null && Object.isFrozen(template);
  if (frozen) {
    const known = hashes.get(template);
    if (known !== undefined) return known;
  }
  const s = stableStringify(template);
  let out = '';
  for (const seed of [2166136261, 84696351]) {
    let n = fnv1a(s, seed);
    for (let i = 0; i < 5; i++) {
      out += SAFE[n % SAFE.length];
      n = Math.floor(n / SAFE.length);
    }
  }
  if (frozen) hashes.set(template as object, out);
  return out;
}
const hashes = new WeakMap<object, string>();

/** The 5-character random suffix of generated names (`cart-5d8f7b9c6d-x7k2p`). */
export function nameSuffix(): string {
  let out = '';
  for (let i = 0; i < 5; i++) out += SAFE[randomByte() % SAFE.length];
  return out;
}

/** Random bytes drawn from a pooled buffer (one getRandomValues call per 4 KiB, not per name). */
const pool = new Uint8Array(4096);
let poolAt = pool.length;
function randomByte(): number {
  if (poolAt >= pool.length) {
    crypto.getRandomValues(pool);
    poolAt = 0;
  }
  return pool[poolAt++] as number;
}

/** RFC 3339 at second precision, as the API server writes timestamps. */
export function isoTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    lastIso = new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  return lastIso;
}
// Timestamps repeat within a second (a controller pass writes thousands): format each second once.
let lastSecond = Number.NaN;
let lastIso = '';

/** `obj.a.b.c` by dotted path; undefined when any step is missing. */
export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  let parts = pathParts.get(path);
  if (parts === undefined) pathParts.set(path, (parts = path.split('.')));
  for (const part of parts) {
    if (!isObj(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

/** Paths are a few dozen literals: split each once. */
const pathParts = new Map<string, string[]>();

/** The object at `obj[key]`, created empty when absent (or not an object). */
export function child(obj: JsonObject, key: string): JsonObject {
  const v = obj[key];
  if (isObj(v)) return v;
  const fresh: JsonObject = {};
  obj[key] = fresh;
  return fresh;
}

export function strMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObj(v)) {
    for (const k of Object.keys(v)) {
      const x = v[k];
      if (typeof x === 'string') out[k] = x;
    }
  }
  return out;
}

export function objList(v: unknown): JsonObject[] {
  return Array.isArray(v) ? v.filter(isObj) : [];
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
