/**
 * The three patch formats the API server accepts: JSON merge patch (RFC 7386), strategic merge
 * patch (Kubernetes' merge-by-key for lists like containers and env) and JSON patch (RFC 6902,
 * the default of @kubernetes/client-node 1.x).
 */
import type { JsonObject } from '../world-types.js';
import { KubeError, badRequest } from './status.js';
import { clone, deepEqual, isObj } from './util.js';

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  const out: JsonObject = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/**
 * Lists merged element-by-element on a key (patchMergeKey in the Kubernetes API types). Other
 * lists are replaced, as the API server does for fields without a merge strategy.
 */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  ownerReferences: 'uid',
  conditions: 'type',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
  secrets: 'name',
};
/** Lists of scalars merged as sets (patchStrategy: merge without a key). */
const MERGE_SETS = new Set(['finalizers']);

export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return stripDirectives(rest);
  }
  if (patch.$patch === 'delete') return undefined;
  const out: JsonObject = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k.startsWith('$setElementOrder/') || k === '$retainKeys') continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const drop = Array.isArray(v) ? v : [];
      const cur = out[field];
      if (Array.isArray(cur)) out[field] = cur.filter((x) => !drop.some((d) => deepEqual(d, x)));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    const mergeKey = MERGE_KEYS[k];
    if (Array.isArray(v) && mergeKey && Array.isArray(out[k])) {
      out[k] = mergeList(out[k] as unknown[], v, mergeKey);
    } else if (Array.isArray(v) && MERGE_SETS.has(k) && Array.isArray(out[k])) {
      const cur = out[k] as unknown[];
      out[k] = [...cur, ...v.filter((x) => !cur.some((c) => deepEqual(c, x)))];
    } else if (Array.isArray(v)) {
      out[k] = v.filter((x) => !(isObj(x) && x.$patch === 'delete')).map(stripDirectives);
    } else {
      const merged = strategicMergePatch(out[k], v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
  }
  return out;
}

function mergeList(current: unknown[], patch: unknown[], key: string): unknown[] {
  const out = [...current];
  if (patch.some((p) => isObj(p) && p.$patch === 'replace')) {
    return patch.filter((p) => !(isObj(p) && p.$patch === 'replace')).map(stripDirectives);
  }
  for (const p of patch) {
    if (!isObj(p) || p[key] === undefined) {
      out.push(stripDirectives(p));
      continue;
    }
    const idx = out.findIndex((c) => isObj(c) && deepEqual(c[key], p[key]));
    if (p.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
    } else if (idx >= 0) {
      out[idx] = strategicMergePatch(out[idx], p);
    } else {
      out.push(stripDirectives(p));
    }
  }
  return out;
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObj(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x);
  return out;
}

/** RFC 6901 pointer segments. */
function pointer(path: unknown): string[] {
  if (typeof path !== 'string' || (path !== '' && !path.startsWith('/'))) throw badRequest(`invalid JSON pointer: ${String(path)}`);
  return path === '' ? [] : path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function unprocessable(message: string): KubeError {
  return new KubeError(422, 'Invalid', message);
}

function getAt(doc: unknown, segs: string[]): unknown {
  let cur = doc;
  for (const s of segs) {
    if (Array.isArray(cur)) cur = cur[Number(s)];
    else if (isObj(cur)) cur = cur[s];
    else return undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

function parentOf(doc: unknown, segs: string[], op: string): { parent: JsonObject | unknown[]; last: string } {
  const parent = getAt(doc, segs.slice(0, -1));
  const last = segs[segs.length - 1];
  if (last === undefined || (!isObj(parent) && !Array.isArray(parent))) {
    throw unprocessable(`jsonpatch ${op} operation does not apply: doc is missing path: "/${segs.join('/')}"`);
  }
  return { parent, last };
}

function arrayIndex(arr: unknown[], last: string, forInsert: boolean, op: string): number {
  if (forInsert && last === '-') return arr.length;
  const i = Number(last);
  const max = forInsert ? arr.length : arr.length - 1;
  if (!/^\d+$/.test(last) || i > max) throw unprocessable(`jsonpatch ${op} operation does not apply: index ${last} out of bounds`);
  return i;
}

function add(doc: unknown, segs: string[], value: unknown): unknown {
  if (segs.length === 0) return clone(value);
  const { parent, last } = parentOf(doc, segs, 'add');
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true, 'add'), 0, clone(value));
  else parent[last] = clone(value);
  return doc;
}

function remove(doc: unknown, segs: string[], op = 'remove'): unknown {
  const { parent, last } = parentOf(doc, segs, op);
  if (Array.isArray(parent)) {
    parent.splice(arrayIndex(parent, last, false, op), 1);
  } else {
    if (!(last in parent)) throw unprocessable(`jsonpatch ${op} operation does not apply: doc is missing key: /${segs.join('/')}`);
    delete parent[last];
  }
  return doc;
}

export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('json patch must be an array of operations');
  let doc = clone(target);
  for (const raw of ops) {
    if (!isObj(raw)) throw badRequest('json patch operation must be an object');
    const segs = pointer(raw.path);
    switch (raw.op) {
      case 'add':
        doc = add(doc, segs, raw.value);
        break;
      case 'remove':
        doc = remove(doc, segs);
        break;
      case 'replace':
        if (segs.length === 0) doc = clone(raw.value);
        else doc = add(remove(doc, segs, 'replace'), segs, raw.value);
        break;
      case 'move': {
        const from = pointer(raw.from);
        const value = getAt(doc, from);
        if (value === undefined) throw unprocessable(`jsonpatch move operation does not apply: doc is missing from path: ${String(raw.from)}`);
        doc = add(remove(doc, from, 'move'), segs, value);
        break;
      }
      case 'copy': {
        const value = getAt(doc, pointer(raw.from));
        if (value === undefined) throw unprocessable(`jsonpatch copy operation does not apply: doc is missing from path: ${String(raw.from)}`);
        doc = add(doc, segs, value);
        break;
      }
      case 'test':
        if (!deepEqual(getAt(doc, segs), raw.value)) throw unprocessable(`testing value ${String(raw.path)} failed: test failed`);
        break;
      default:
        throw badRequest(`unexpected json patch operation: ${String(raw.op)}`);
    }
  }
  return doc;
}

export type PatchType = 'json' | 'merge' | 'strategic';

export function patchTypeOf(contentType: string | undefined): PatchType | 'apply' | undefined {
  const ct = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  switch (ct) {
    case 'application/json-patch+json':
      return 'json';
    case 'application/merge-patch+json':
      return 'merge';
    case 'application/strategic-merge-patch+json':
      return 'strategic';
    case 'application/apply-patch+yaml':
    case 'application/apply-patch+cbor':
      return 'apply';
    default:
      return undefined;
  }
}

export function applyPatch(type: PatchType, target: JsonObject, patch: unknown): JsonObject {
  const result = type === 'json' ? jsonPatch(target, patch) : type === 'merge' ? mergePatch(target, patch) : strategicMergePatch(target, patch);
  if (!isObj(result)) throw unprocessable('the patch does not produce an object');
  return result;
}
