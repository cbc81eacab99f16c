/**
 * The shape checks the API server's validation makes on the fields podid and the sandbox's
 * controllers read: what Kubernetes would refuse (a container `env` that is not a list of
 * {name, value}, a negative `replicas`, a `spec` that is not an object) is refused here too,
 * 422 Invalid naming the field, on create and replace alike, so a world file holding such an
 * object is a world error (exit 2) rather than an object podid later fails to read.
 */
import type { JsonObject } from '../world-types.js';
import type { ResourceType } from './resources.js';
import { invalid } from './status.js';
import { isObj } from './util.js';

interface Problem {
  readonly field: string;
  readonly message: string;
}

const show = (v: unknown): string => JSON.stringify(v) ?? String(v);
const absent = (v: unknown): boolean => v === undefined || v === null;

function mustBeObject(v: unknown, field: string, out: Problem[]): v is JsonObject {
  if (absent(v)) return false;
  if (isObj(v)) return true;
  out.push({ field, message: `Invalid value: ${show(v)}: must be an object` });
  return false;
}

function stringMap(v: unknown, field: string, out: Problem[]): void {
  if (!mustBeObject(v, field, out)) return;
  for (const [k, x] of Object.entries(v)) if (typeof x !== 'string') out.push({ field: `${field}.${k}`, message: `Invalid value: ${show(x)}: must be a string` });
}

function optionalString(v: unknown, field: string, out: Problem[]): void {
  if (!absent(v) && typeof v !== 'string') out.push({ field, message: `Invalid value: ${show(v)}: must be a string` });
}

function listOf(v: unknown, field: string, what: string, out: Problem[]): unknown[] {
  if (absent(v)) return [];
  if (Array.isArray(v)) return v;
  out.push({ field, message: `Invalid value: ${show(v)}: must be a list of ${what}` });
  return [];
}

function count(v: unknown, field: string, out: Problem[]): void {
  if (absent(v)) return;
  if (typeof v !== 'number' || !Number.isInteger(v)) out.push({ field, message: `Invalid value: ${show(v)}: must be an integer` });
  else if (v < 0) out.push({ field, message: `Invalid value: ${v}: must be greater than or equal to 0` });
}

function podSpec(spec: unknown, field: string, out: Problem[]): void {
  if (!mustBeObject(spec, field, out)) return;
  for (const key of ['containers', 'initContainers'] as const) {
    listOf(spec[key], `${field}.${key}`, 'containers', out).forEach((c, i) => {
      const at = `${field}.${key}[${i}]`;
      if (!isObj(c)) {
        out.push({ field: at, message: `Invalid value: ${show(c)}: must be a container object` });
        return;
      }
      if (typeof c.name !== 'string' || c.name === '') out.push({ field: `${at}.name`, message: 'Required value' });
      listOf(c.env, `${at}.env`, '{name, value} objects', out).forEach((e, j) => {
        if (!isObj(e) || typeof e.name !== 'string' || e.name === '') out.push({ field: `${at}.env[${j}].name`, message: `Required value${isObj(e) ? '' : ` (got ${show(e)})`}` });
        else optionalString(e.value, `${at}.env[${j}].value`, out);
      });
    });
  }
  optionalString(spec.serviceAccountName, `${field}.serviceAccountName`, out);
  optionalString(spec.nodeName, `${field}.nodeName`, out);
  stringMap(spec.nodeSelector, `${field}.nodeSelector`, out);
}

function template(t: unknown, field: string, out: Problem[]): void {
  if (!mustBeObject(t, field, out)) return;
  if (mustBeObject(t.metadata, `${field}.metadata`, out)) stringMap(t.metadata.labels, `${field}.metadata.labels`, out);
  podSpec(t.spec, `${field}.spec`, out);
}

function problems(type: ResourceType, obj: JsonObject): Problem[] {
  const out: Problem[] = [];
  if (mustBeObject(obj.metadata, 'metadata', out)) {
    stringMap(obj.metadata.labels, 'metadata.labels', out);
    stringMap(obj.metadata.annotations, 'metadata.annotations', out);
    listOf(obj.metadata.ownerReferences, 'metadata.ownerReferences', 'owner references', out).forEach((r, i) => {
      if (!isObj(r) || typeof r.kind !== 'string' || typeof r.name !== 'string') out.push({ field: `metadata.ownerReferences[${i}]`, message: `Invalid value: ${show(r)}: must name a kind and a name` });
    });
  }
  if (type.plural === 'serviceaccounts' || type.plural === 'namespaces') return out;
  if (!mustBeObject(obj.spec, 'spec', out)) return out;
  const spec = obj.spec;
  if (type.plural === 'pods') podSpec(spec, 'spec', out);
  if (type.workload) {
    count(spec.replicas, 'spec.replicas', out);
    count(spec.parallelism, 'spec.parallelism', out);
    template(spec.template, 'spec.template', out);
  }
  if (type.plural === 'cronjobs' && mustBeObject(spec.jobTemplate, 'spec.jobTemplate', out) && mustBeObject(spec.jobTemplate.spec, 'spec.jobTemplate.spec', out)) {
    template(spec.jobTemplate.spec.template, 'spec.jobTemplate.spec.template', out);
  }
  return out;
}

/** Throws 422 Invalid naming the first field of `obj` Kubernetes would refuse. */
export function checkShape(type: ResourceType, name: string, obj: JsonObject): void {
  const first = problems(type, obj)[0];
  if (first) throw invalid(type.kind, type.group, name, first.field, first.message);
}
