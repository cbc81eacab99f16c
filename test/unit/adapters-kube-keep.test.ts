/**
 * The list reader parses only what each mapper's Keep names (kube-map.ts, json-keep.ts). Two
 * checks per mapper: every field it reads (recorded through a Proxy, absent fields included) is
 * kept, and mapping a full API object gives the same snapshot object as mapping its kept parts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseKept, type Keep } from '../../src/adapters/json-keep.js';
import {
  CRONJOB_KEEP, NODE_KEEP, POD_KEEP, SERVICE_ACCOUNT_KEEP, toCronJob, toDaemonSet, toDeployment, toJob, toNode, toPod, toReplicaSet, toServiceAccount, toStatefulSet, WORKLOAD_KEEP,
} from '../../src/adapters/kube-map.js';

/** Full objects as an API server returns them (managedFields, status, ...). */
const FIXTURES = JSON.parse(readFileSync(new URL('../fixtures/kube-objects.json', import.meta.url), 'utf8')) as Record<string, unknown[]>;

/** Every property path `read` reads of `value` (array indices as []), absent properties included. */
function readPaths(value: unknown, read: (v: never) => unknown): Set<string> {
  const paths = new Set<string>();
  const wrap = (v: unknown, path: string[]): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    return new Proxy(v, {
      get(target, prop, receiver) {
        const got = Reflect.get(target, prop, receiver) as unknown;
        if (typeof prop === 'symbol') return got;
        if (Array.isArray(target)) {
          // Array methods and length are how a mapper walks the elements, not fields.
          if (!/^\d+$/.test(prop)) return typeof got === 'function' ? got.bind(receiver) : got;
          return wrap(got, [...path, '[]']);
        }
        paths.add([...path, prop].join('.'));
        return wrap(got, [...path, prop]);
      },
    });
  };
  read(wrap(value, []) as never);
  return paths;
}

/** Whether `keep` keeps the field at `path` ([] steps into an array's elements). */
function kept(keep: Keep, path: string[]): boolean {
  let k: Keep = keep;
  for (const step of path) {
    if (k === true) return true;
    if (step === '[]') continue;
    if (!Object.hasOwn(k, step)) return false;
    k = k[step]!;
  }
  return true;
}

const MAPPERS: [string, string, Keep, (v: never) => unknown][] = [
  ['ServiceAccount', 'serviceaccounts', SERVICE_ACCOUNT_KEEP, toServiceAccount],
  ['Pod', 'pods', POD_KEEP, toPod],
  ['Deployment', 'deployments', WORKLOAD_KEEP, toDeployment],
  ['StatefulSet', 'statefulsets', WORKLOAD_KEEP, toStatefulSet],
  ['ReplicaSet', 'replicasets', WORKLOAD_KEEP, toReplicaSet],
  ['DaemonSet', 'daemonsets', WORKLOAD_KEEP, toDaemonSet],
  ['Job', 'jobs', WORKLOAD_KEEP, toJob],
  ['CronJob', 'cronjobs', CRONJOB_KEEP, toCronJob],
  ['Node', 'nodes', NODE_KEEP, toNode],
];

describe.each(MAPPERS)('%s: the Keep covers the mapper', (_kind, fixture, keep, map) => {
  const objects = FIXTURES[fixture] ?? [];

  it('has fixtures', () => {
    expect(objects.length).toBeGreaterThan(0);
  });

  it('keeps every field the mapper reads', () => {
    for (const obj of objects) {
      const missing = [...readPaths(obj, map)].filter((p) => !kept(keep, p.split('.')));
      expect(missing).toEqual([]);
    }
  });

  it('maps the kept parts of a full object as the full object', () => {
    for (const obj of objects) {
      const bytes = Buffer.from(JSON.stringify({ kind: 'List', metadata: { continue: '' }, items: [obj] }));
      const page = parseKept(bytes, { items: keep }) as { items: unknown[] };
      expect(map(page.items[0] as never)).toEqual(map(obj as never));
    }
  });
});
