/**
 * Label and field selectors: the `labelSelector` / `fieldSelector` query strings of list calls,
 * and the structured LabelSelector (matchLabels + matchExpressions) workloads use for their pods.
 */
import type { JsonObject } from '../world-types.js';
import type { ResourceType } from './resources.js';
import { badRequest } from './status.js';
import { getPath, isObj, objList, strMap } from './util.js';

export type Requirement =
  | { key: string; op: 'exists' | 'notexists' }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'gt' | 'lt'; value: number };

export type Selector = Requirement[];

/** Parse `a=b,c!=d,e in (x,y),f notin (z),g,!h,n>3`. Throws 400 on malformed input. */
export function parseLabelSelector(text: string): Selector {
  const out: Selector = [];
  const s = text.trim();
  let i = 0;
  const ws = () => {
    while (i < s.length && /\s/.test(s[i] ?? '')) i++;
  };
  const ident = (): string => {
    const m = /^[A-Za-z0-9._\-/]+/.exec(s.slice(i));
    if (!m) return '';
    i += m[0].length;
    return m[0];
  };
  const fail = (why: string) => badRequest(`unable to parse requirement: ${why} in label selector "${text}"`);
  while (i < s.length) {
    ws();
    let negate = false;
    if (s[i] === '!') {
      negate = true;
      i++;
      ws();
    }
    const key = ident();
    if (!key) throw fail('expected a key');
    ws();
    if (negate) {
      out.push({ key, op: 'notexists' });
    } else if (i >= s.length || s[i] === ',') {
      out.push({ key, op: 'exists' });
    } else if (s.startsWith('==', i) || s.startsWith('!=', i) || s[i] === '=') {
      const op = s.startsWith('!=', i) ? 'notin' : 'in';
      i += s.startsWith('==', i) || s.startsWith('!=', i) ? 2 : 1;
      ws();
      out.push({ key, op, values: [ident()] });
    } else if (s[i] === '>' || s[i] === '<') {
      const op = s[i] === '>' ? 'gt' : 'lt';
      i++;
      ws();
      const v = Number(ident());
      if (!Number.isInteger(v)) throw fail('expected an integer');
      out.push({ key, op, value: v });
    } else {
      const word = ident();
      if (word !== 'in' && word !== 'notin') throw fail(`unexpected "${word || s[i]}"`);
      ws();
      if (s[i] !== '(') throw fail('expected "("');
      const close = s.indexOf(')', i);
      if (close < 0) throw fail('expected ")"');
      const values = s.slice(i + 1, close).split(',').map((v) => v.trim());
      i = close + 1;
      out.push({ key, op: word, values });
    }
    ws();
    if (i < s.length) {
      if (s[i] !== ',') throw fail(`unexpected "${s[i]}"`);
      i++;
    }
  }
  return out;
}

export function matches(selector: Selector, labels: Record<string, string>): boolean {
  return selector.every((r) => {
    const v = labels[r.key];
    switch (r.op) {
      case 'exists':
        return v !== undefined;
      case 'notexists':
        return v === undefined;
      case 'in':
        return v !== undefined && r.values.includes(v);
      case 'notin':
        return v === undefined || !r.values.includes(v);
      case 'gt':
        return v !== undefined && Number(v) > r.value;
      case 'lt':
        return v !== undefined && Number(v) < r.value;
    }
  });
}

/** A metav1.LabelSelector object as requirements; an empty selector matches everything. */
export function fromLabelSelector(sel: unknown): Selector {
  if (!isObj(sel)) return [];
  const out: Selector = Object.entries(strMap(sel.matchLabels)).map(([key, v]) => ({ key, op: 'in' as const, values: [v] }));
  for (const e of objList(sel.matchExpressions)) {
    const key = String(e.key ?? '');
    const values = Array.isArray(e.values) ? e.values.map(String) : [];
    switch (e.operator) {
      case 'In':
        out.push({ key, op: 'in', values });
        break;
      case 'NotIn':
        out.push({ key, op: 'notin', values });
        break;
      case 'Exists':
        out.push({ key, op: 'exists' });
        break;
      case 'DoesNotExist':
        out.push({ key, op: 'notexists' });
        break;
    }
  }
  return out;
}

export function labelsOf(obj: JsonObject): Record<string, string> {
  return strMap(isObj(obj.metadata) ? obj.metadata.labels : undefined);
}

export interface FieldRequirement {
  path: string;
  value: string;
  equal: boolean;
}

/** Parse `metadata.name=x,status.phase!=Running`; fields the resource does not index answer 400. */
export function parseFieldSelector(text: string, type: ResourceType): FieldRequirement[] {
  if (text.trim() === '') return [];
  return text.split(',').map((part) => {
    const m = /^\s*([A-Za-z.]+)\s*(==|!=|=)\s*(.*?)\s*$/.exec(part);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${part}'`);
    const [, path = '', op, value = ''] = m;
    const allowed = path === 'metadata.name' || path === 'metadata.namespace' || type.fields.includes(path);
    if (!allowed) throw badRequest(`field label not supported: ${path}`);
    return { path, value, equal: op !== '!=' };
  });
}

export function matchesFields(reqs: FieldRequirement[], obj: JsonObject): boolean {
  return reqs.every((r) => {
    const raw = getPath(obj, r.path);
    const v = raw === undefined || raw === null ? '' : String(raw);
    return (v === r.value) === r.equal;
  });
}
