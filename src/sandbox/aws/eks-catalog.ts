/**
 * The add-on catalog the sandbox's EKS answers DescribeAddonVersions and
 * DescribeAddonConfiguration from: every add-on version the world installs (with the
 * `podIdentityConfiguration` the world gives it) plus the versions of `eks-pod-identity-agent`,
 * which any cluster can install. Built once from the initial world, so later UpdateAddon calls do
 * not change what versions exist.
 */
import { compareStrings } from '../../core/text.js';
import type { PodIdentityConfigurationSpec } from '../world-types.js';
import type { SandboxState } from '../state.js';
import { EksError, byKey, invalidParameter, paginate, type JsonBody } from './eks-wire.js';

export const AGENT_ADDON = 'eks-pod-identity-agent';

/** Agent versions offered even when no cluster of the world runs them (oldest first). */
const AGENT_VERSIONS = [
  'v1.0.0-eksbuild.1', 'v1.1.0-eksbuild.1', 'v1.2.0-eksbuild.1', 'v1.3.0-eksbuild.1',
  'v1.3.2-eksbuild.2', 'v1.3.4-eksbuild.1', 'v1.3.5-eksbuild.2',
];

/** Namespaces AWS installs well-known add-ons into; everything else goes to kube-system. */
const DEFAULT_NAMESPACES: Record<string, string> = {
  'amazon-cloudwatch-observability': 'amazon-cloudwatch',
  'aws-guardduty-agent': 'amazon-guardduty',
  adot: 'opentelemetry-operator-system',
  'cert-manager': 'cert-manager',
  'external-dns': 'external-dns',
};

const ADDON_TYPES: Record<string, string> = {
  [AGENT_ADDON]: 'security',
  'vpc-cni': 'networking',
  coredns: 'networking',
  'kube-proxy': 'networking',
  'aws-ebs-csi-driver': 'storage',
  'aws-efs-csi-driver': 'storage',
  'aws-mountpoint-s3-csi-driver': 'storage',
  'snapshot-controller': 'storage',
  'amazon-cloudwatch-observability': 'observability',
  adot: 'observability',
  'aws-guardduty-agent': 'security',
};

/** Kubernetes versions every catalog version is compatible with (plus the world's cluster versions). */
const BASE_K8S_VERSIONS = ['1.24', '1.25', '1.26', '1.27', '1.28', '1.29', '1.30', '1.31', '1.32', '1.33'];

const CONFIGURATION_SCHEMA = JSON.stringify({
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  properties: {
    resources: {
      type: 'object',
      properties: {
        limits: { type: 'object', additionalProperties: { type: 'string' } },
        requests: { type: 'object', additionalProperties: { type: 'string' } },
      },
    },
    tolerations: { type: 'array', items: { type: 'object' } },
    nodeSelector: { type: 'object', additionalProperties: { type: 'string' } },
    podAnnotations: { type: 'object', additionalProperties: { type: 'string' } },
    podLabels: { type: 'object', additionalProperties: { type: 'string' } },
  },
});

export interface CatalogVersion {
  version: string;
  podIdentityConfiguration: PodIdentityConfigurationSpec[] | null;
  /** Whether the add-on needs AWS permissions (IRSA role or Pod Identity association). */
  requiresIamPermissions: boolean;
}

export interface CatalogAddon {
  name: string;
  type: string;
  defaultNamespace: string;
  /** Newest first. */
  versions: CatalogVersion[];
}

export class AddonCatalog {
  private readonly addons = new Map<string, CatalogAddon>();
  private readonly k8sVersions: string[];

  constructor(state: SandboxState) {
    const agent = this.entry(AGENT_ADDON);
    for (const v of AGENT_VERSIONS) agent.versions.push({ version: v, podIdentityConfiguration: null, requiresIamPermissions: false });
    for (const cluster of state.clusters) {
      for (const addon of cluster.addons.values()) {
        const entry = this.entry(addon.name);
        const known = entry.versions.find((v) => v.version === addon.version);
        const config = addon.podIdentityConfiguration ? structuredClone(addon.podIdentityConfiguration) : null;
        const needsIam = config !== null || addon.serviceAccountRoleArn !== null;
        if (!known) {
          entry.versions.push({ version: addon.version, podIdentityConfiguration: config, requiresIamPermissions: needsIam });
        } else {
          // A version supports Pod Identity if any cluster of the world says so.
          known.podIdentityConfiguration ??= config;
          known.requiresIamPermissions ||= needsIam;
        }
      }
    }
    for (const entry of this.addons.values()) entry.versions.sort((a, b) => compareVersions(b.version, a.version));
    this.k8sVersions = [...new Set([...BASE_K8S_VERSIONS, ...state.clusters.map((c) => c.version)])].sort(compareVersions);
  }

  private entry(name: string): CatalogAddon {
    let e = this.addons.get(name);
    if (!e) {
      e = { name, type: ADDON_TYPES[name] ?? 'other', defaultNamespace: DEFAULT_NAMESPACES[name] ?? 'kube-system', versions: [] };
      this.addons.set(name, e);
    }
    return e;
  }

  get(name: string): CatalogAddon | undefined {
    return this.addons.get(name);
  }

  /** The version CreateAddon installs when none is given. */
  defaultVersion(addon: CatalogAddon): CatalogVersion {
    return addon.versions[0]!;
  }

  /** The catalog version or InvalidParameterException, as CreateAddon/UpdateAddon answer for unknown versions. */
  version(addon: CatalogAddon, version: string, clusterName?: string): CatalogVersion {
    const v = addon.versions.find((x) => x.version === version);
    if (!v) {
      throw invalidParameter(`Addon version ${version} specified is not supported for addon ${addon.name}.`, {
        addonName: addon.name, ...(clusterName ? { clusterName } : {}),
      });
    }
    return v;
  }

  describeAddonConfiguration(query: URLSearchParams): JsonBody {
    const name = query.get('addonName') ?? '';
    const version = query.get('addonVersion') ?? '';
    if (!name) throw invalidParameter('addonName is required.');
    if (!version) throw invalidParameter('addonVersion is required.');
    const addon = this.addons.get(name);
    const v = addon?.versions.find((x) => x.version === version);
    if (!addon || !v) {
      throw new EksError('ResourceNotFoundException', `No addon configuration found for addon ${name} version ${version}.`, { addonName: name });
    }
    return {
      addonName: name,
      addonVersion: version,
      configurationSchema: CONFIGURATION_SCHEMA,
      // EKS returns an empty list for versions without Pod Identity support.
      podIdentityConfiguration: v.podIdentityConfiguration ?? [],
    };
  }

  describeAddonVersions(query: URLSearchParams): JsonBody {
    const name = query.get('addonName');
    const k8s = query.get('kubernetesVersion');
    const types = query.getAll('types');
    const owners = query.getAll('owners');
    const publishers = query.getAll('publishers');
    const selected = [...this.addons.values()]
      .filter((a) => !name || a.name === name)
      .filter((a) => types.length === 0 || types.includes(a.type))
      .filter((a) => owners.length === 0 || owners.includes('aws'))
      .filter((a) => publishers.length === 0 || publishers.includes('eks'))
      .filter(() => !k8s || this.k8sVersions.includes(k8s))
      .sort(byKey((a) => a.name));
    const page = paginate(selected, (a) => a.name, query, 'DescribeAddonVersions');
    const clusterVersions = k8s ? [k8s] : this.k8sVersions;
    return {
      addons: page.items.map((a) => ({
        addonName: a.name,
        type: a.type,
        owner: 'aws',
        publisher: 'eks',
        defaultNamespace: a.defaultNamespace,
        addonVersions: a.versions.map((v, i) => ({
          addonVersion: v.version,
          architecture: ['amd64', 'arm64'],
          computeTypes: a.name === AGENT_ADDON ? ['ec2', 'hybrid'] : ['ec2'],
          compatibilities: clusterVersions.map((cv) => ({ clusterVersion: cv, platformVersions: ['*'], defaultVersion: i === 0 })),
          requiresConfiguration: false,
          requiresIamPermissions: v.requiresIamPermissions,
        })),
      })),
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    };
  }
}

/** Orders `v1.18.3-eksbuild.1` style versions numerically, part by part (other parts in byte order, as EKS sorts them, never by locale). */
export function compareVersions(a: string, b: string): number {
  const pa = a.replace(/^v/, '').split(/[.-]/);
  const pb = b.replace(/^v/, '').split(/[.-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    const nx = Number(x);
    const ny = Number(y);
    const c = x !== '' && y !== '' && Number.isFinite(nx) && Number.isFinite(ny) ? nx - ny : compareStrings(x, y);
    if (c !== 0) return c;
  }
  return 0;
}
