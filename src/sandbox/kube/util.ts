/** Small JSON helpers shared by the Kubernetes emulator. */
import type { JsonObject } from '../world-types.js';

export function isObj(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function clone<T>(v: T): T {
  return structuredClone(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
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
  const s = stableStringify(template);
  let out = '';
  for (const seed of [2166136261, 84696351]) {
    let n = fnv1a(s, seed);
    for (let i = 0; i < 5; i++) {
      out += SAFE[n % SAFE.length];
      n = Math.floor(n / SAFE.length);
    }
  }
  return out;
}

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
  for (const part of path.split('.')) {
    if (!isObj(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

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
  if (isObj(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
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
