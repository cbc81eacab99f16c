/** Node objects as EKS registers them: managed node groups, Auto Mode instances, Fargate micro-VMs. */
import { createHash } from 'node:crypto';
import type { ClusterState } from '../state.js';
import type { JsonObject, NodegroupSpec } from '../world-types.js';
import { versionInfo } from './resources.js';
import { getPath, isObj, strMap } from './util.js';

const COMPUTE_TYPE = 'eks.amazonaws.com/compute-type';

function dnsSuffix(region: string): string {
  // EC2's private DNS: us-east-1 kept its historical domain, every other region has its own.
  return region === 'us-east-1' ? 'ec2.internal' : `${region}.compute.internal`;
}

/** A stable EC2 instance id for a node (the same world gives the same ids). */
function hexId(seed: string): string {
  return `i-0${createHash('sha256').update(seed).digest('hex').slice(0, 16)}`;
}

interface NodeShape {
  name: string;
  ip: string;
  os: 'linux' | 'windows';
  arch: 'amd64' | 'arm64';
  instanceType: string;
  osImage: string;
  zone: string;
  labels: Record<string, string>;
  taints?: JsonObject[];
}

function nodeObject(cluster: ClusterState, n: NodeShape): JsonObject {
  const kubelet = String(versionInfo(cluster.version).gitVersion);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      labels: {
        'beta.kubernetes.io/arch': n.arch,
        'beta.kubernetes.io/instance-type': n.instanceType,
        'beta.kubernetes.io/os': n.os,
        'failure-domain.beta.kubernetes.io/region': cluster.region,
        'failure-domain.beta.kubernetes.io/zone': n.zone,
        'kubernetes.io/arch': n.arch,
        'kubernetes.io/hostname': n.name,
        'kubernetes.io/os': n.os,
        'node.kubernetes.io/instance-type': n.instanceType,
        'topology.kubernetes.io/region': cluster.region,
        'topology.kubernetes.io/zone': n.zone,
        ...n.labels,
      },
      annotations: { 'alpha.kubernetes.io/provided-node-ip': n.ip, 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: { providerID: `aws:///${n.zone}/${hexId(`${cluster.arn}/${n.name}`)}`, ...(n.taints ? { taints: n.taints } : {}) },
    status: {
      addresses: [
        { type: 'InternalIP', address: n.ip },
        { type: 'InternalDNS', address: n.name },
        { type: 'Hostname', address: n.name },
      ],
      capacity: { cpu: '2', memory: '7910348Ki', pods: '29' },
      allocatable: { cpu: '1930m', memory: '7220172Ki', pods: '29' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }],
      nodeInfo: {
        architecture: n.arch,
        containerRuntimeVersion: 'containerd://1.7.20',
        kernelVersion: n.os === 'windows' ? '10.0.20348.2655' : '6.1.102-111.182.amzn2023.x86_64',
        kubeletVersion: kubelet,
        kubeProxyVersion: kubelet,
        operatingSystem: n.os,
        osImage: n.osImage,
      },
    },
  };
}

function osImage(amiType: string): string {
  if (amiType.startsWith('WINDOWS')) return amiType.includes('2019') ? 'Windows Server 2019 Datacenter' : 'Windows Server 2022 Datacenter';
  if (amiType.startsWith('BOTTLEROCKET')) return 'Bottlerocket OS 1.21.0 (aws-k8s)';
  if (amiType.startsWith('AL2023')) return 'Amazon Linux 2023.5.20240819';
  return 'Amazon Linux 2';
}

function instanceType(amiType: string, arch: string): string {
  if (/GPU|NVIDIA|NEURON/.test(amiType)) return arch === 'arm64' ? 'g5g.xlarge' : 'g5.xlarge';
  return arch === 'arm64' ? 'm6g.large' : 'm5.large';
}

const ZONES = ['a', 'b', 'c'];

/** Nodes of the managed node groups, plus two Auto Mode instances when an Auto Mode cluster has no groups. */
export function clusterNodes(cluster: ClusterState, nodegroups: NodegroupSpec[]): JsonObject[] {
  const out: JsonObject[] = [];
  nodegroups.forEach((ng, g) => {
    const windows = ng.amiType.startsWith('WINDOWS');
    const arch = /ARM_64|ARM64/.test(ng.amiType) ? 'arm64' : 'amd64';
    for (let i = 0; i < ng.nodes; i++) {
      const ip = `10.0.${g + 1 + Math.floor(i / 240) * 16}.${10 + (i % 240)}`;
      const zone = `${cluster.region}${ZONES[i % ZONES.length]}`;
      out.push(
        nodeObject(cluster, {
          name: `ip-${ip.replace(/\./g, '-')}.${dnsSuffix(cluster.region)}`,
          ip,
          os: windows ? 'windows' : 'linux',
          arch,
          instanceType: instanceType(ng.amiType, arch),
          osImage: osImage(ng.amiType),
          zone,
          labels: { 'eks.amazonaws.com/nodegroup': ng.name, 'eks.amazonaws.com/capacityType': 'ON_DEMAND' },
        }),
      );
    }
  });
  if (cluster.autoMode && nodegroups.length === 0) {
    for (let i = 0; i < 2; i++) {
      const ip = `10.0.96.${10 + i}`;
      const zone = `${cluster.region}${ZONES[i % ZONES.length]}`;
      out.push(
        nodeObject(cluster, {
          name: hexId(`${cluster.arn}/auto/${i}`),
          ip,
          os: 'linux',
          arch: 'amd64',
          instanceType: 'c6a.large',
          osImage: 'Bottlerocket (EKS Auto) 2024.10.16',
          zone,
          labels: { [COMPUTE_TYPE]: 'auto', 'eks.amazonaws.com/nodeclass': 'default', 'karpenter.sh/nodepool': 'general-purpose' },
        }),
      );
    }
  }
  return out;
}

/** The micro-VM node EKS registers for one Fargate pod. */
export function fargateNode(cluster: ClusterState, seq: number, profile: string): JsonObject {
  const ip = `10.0.${192 + Math.floor(seq / 240)}.${10 + (seq % 240)}`;
  return nodeObject(cluster, {
    name: `fargate-ip-${ip.replace(/\./g, '-')}.${dnsSuffix(cluster.region)}`,
    ip,
    os: 'linux',
    arch: 'amd64',
    instanceType: 'fargate',
    osImage: 'Amazon Linux 2',
    zone: `${cluster.region}${ZONES[seq % ZONES.length]}`,
    labels: { [COMPUTE_TYPE]: 'fargate', 'eks.amazonaws.com/fargate-profile': profile },
    taints: [{ key: COMPUTE_TYPE, value: 'fargate', effect: 'NoSchedule' }],
  });
}

export function nodeLabels(node: JsonObject): Record<string, string> {
  return strMap(getPath(node, 'metadata.labels'));
}

export function isFargateNode(node: JsonObject): boolean {
  return nodeLabels(node)[COMPUTE_TYPE] === 'fargate';
}

export function isWindowsNode(node: JsonObject): boolean {
  return nodeLabels(node)['kubernetes.io/os'] === 'windows';
}

export function nodeIp(node: JsonObject): string {
  const addrs = getPath(node, 'status.addresses');
  if (Array.isArray(addrs)) {
    for (const a of addrs) if (isObj(a) && a.type === 'InternalIP' && typeof a.address === 'string') return a.address;
  }
  return '';
}

/**
 * Whether a pod with this nodeSelector may run on `node`. A selector that does not name an OS
 * means Linux: EKS Windows nodes are reserved for pods that ask for them.
 */
export function nodeSelectorAllows(nodeSelector: Record<string, string>, node: JsonObject): boolean {
  if (isFargateNode(node)) return false;
  const labels = nodeLabels(node);
  const wanted = { 'kubernetes.io/os': 'linux', ...nodeSelector };
  return Object.entries(wanted).every(([k, v]) => labels[k] === v);
}
