/** The resource types this API server serves, and the discovery documents that describe them. */
import type { JsonObject } from '../world-types.js';

export interface ResourceType {
  plural: string;
  singular: string;
  kind: string;
  /** '' for the core group. */
  group: string;
  version: string;
  namespaced: boolean;
  shortNames: string[];
  /** Owns pods through a template (generation tracks spec changes, status is controller-written). */
  workload: boolean;
  /** Fields accepted in fieldSelector besides metadata.name / metadata.namespace. */
  fields: string[];
}

const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

export const RESOURCES: ResourceType[] = [
  { plural: 'namespaces', singular: 'namespace', kind: 'Namespace', group: '', version: 'v1', namespaced: false, shortNames: ['ns'], workload: false, fields: ['status.phase'] },
  { plural: 'nodes', singular: 'node', kind: 'Node', group: '', version: 'v1', namespaced: false, shortNames: ['no'], workload: false, fields: ['spec.unschedulable'] },
  { plural: 'serviceaccounts', singular: 'serviceaccount', kind: 'ServiceAccount', group: '', version: 'v1', namespaced: true, shortNames: ['sa'], workload: false, fields: [] },
  {
    plural: 'pods', singular: 'pod', kind: 'Pod', group: '', version: 'v1', namespaced: true, shortNames: ['po'], workload: false,
    fields: ['spec.nodeName', 'spec.serviceAccountName', 'spec.schedulerName', 'spec.restartPolicy', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  },
  { plural: 'deployments', singular: 'deployment', kind: 'Deployment', group: 'apps', version: 'v1', namespaced: true, shortNames: ['deploy'], workload: true, fields: [] },
  { plural: 'replicasets', singular: 'replicaset', kind: 'ReplicaSet', group: 'apps', version: 'v1', namespaced: true, shortNames: ['rs'], workload: true, fields: [] },
  { plural: 'statefulsets', singular: 'statefulset', kind: 'StatefulSet', group: 'apps', version: 'v1', namespaced: true, shortNames: ['sts'], workload: true, fields: [] },
  { plural: 'daemonsets', singular: 'daemonset', kind: 'DaemonSet', group: 'apps', version: 'v1', namespaced: true, shortNames: ['ds'], workload: true, fields: [] },
  { plural: 'jobs', singular: 'job', kind: 'Job', group: 'batch', version: 'v1', namespaced: true, shortNames: [], workload: true, fields: [] },
  { plural: 'cronjobs', singular: 'cronjob', kind: 'CronJob', group: 'batch', version: 'v1', namespaced: true, shortNames: ['cj'], workload: false, fields: [] },
];

export function apiVersionOf(t: ResourceType): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

export function resourceByPlural(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

export function resourceByKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCES.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind);
}

export function resource(plural: string): ResourceType {
  const t = RESOURCES.find((r) => r.plural === plural);
  if (!t) throw new Error(`unknown resource ${plural}`);
  return t;
}

const GROUPS = ['apps', 'batch'];

function groupVersion(group: string): JsonObject {
  return { groupVersion: `${group}/v1`, version: 'v1' };
}

function apiGroup(group: string): JsonObject {
  return { name: group, versions: [groupVersion(group)], preferredVersion: groupVersion(group) };
}

function resourceList(group: string): JsonObject {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/v1` : 'v1',
    resources: RESOURCES.filter((r) => r.group === group).map((r) => {
      const out: JsonObject = { name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: VERBS };
      if (r.shortNames.length > 0) out.shortNames = r.shortNames;
      if (r.workload && r.group === 'apps') out.categories = ['all'];
      return out;
    }),
  };
}

/** The discovery document at `path` (relative to the cluster's API root), or undefined. */
export function discoveryDocument(path: string): JsonObject | undefined {
  switch (path) {
    case '/api':
      return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:443' }] };
    case '/apis':
      return { kind: 'APIGroupList', apiVersion: 'v1', groups: GROUPS.map(apiGroup) };
    case '/api/v1':
      return resourceList('');
  }
  for (const g of GROUPS) {
    if (path === `/apis/${g}`) return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(g) };
    if (path === `/apis/${g}/v1`) return resourceList(g);
  }
  return undefined;
}

/** Patch numbers EKS ships per minor version (what `/version` reports). */
const EKS_PATCH: Record<string, number> = {
  '1.23': 17, '1.24': 17, '1.25': 16, '1.26': 15, '1.27': 16, '1.28': 15, '1.29': 8, '1.30': 4, '1.31': 2, '1.32': 0, '1.33': 0,
};

export function versionInfo(version: string): JsonObject {
  const [major = '1', minor = '0'] = version.split('.');
  const patch = EKS_PATCH[`${major}.${minor}`] ?? 0;
  return {
    major,
    minor: `${minor}+`,
    gitVersion: `v${major}.${minor}.${patch}-eks-a737599`,
    gitCommit: 'a737599b2d8d4b0c8ee36fd6fc14b4c1ac0e3f72',
    gitTreeState: 'clean',
    buildDate: '2024-08-26T21:27:41Z',
    goVersion: 'go1.22.5',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}
