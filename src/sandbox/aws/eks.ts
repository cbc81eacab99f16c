/**
 * The sandbox's Amazon EKS (REST-JSON, as EKSClient speaks it). Routes are the SDK's http
 * bindings (`GET /clusters/{name}`, `POST /clusters/{clusterName}/addons/{addonName}/update`,
 * ...); clusters are looked up by name in the request's SigV4 region. Add-on and association
 * operations live in eks-addons.ts and eks-associations.ts, wire helpers in eks-wire.ts.
 */
import type { ClusterState, SandboxState } from '../state.js';
import { stableUuid } from '../state.js';
import type { NodegroupSpec } from '../world-types.js';
import type { AwsRequest, AwsServiceError, AwsServiceModule, HttpReply, RoutedOperation } from './common.js';
import { AddonOperations } from './eks-addons.js';
import { AssociationOperations } from './eks-associations.js';
import { AddonCatalog } from './eks-catalog.js';
import { EksError, byKey, epoch, jsonReply, paginate, parseJsonBody, renderEksError, type JsonBody } from './eks-wire.js';

interface Context {
  req: AwsRequest;
  params: Record<string, string>;
  /** The cluster named by the `name`/`clusterName` label, or ResourceNotFoundException. */
  cluster(): ClusterState;
  body(): JsonBody;
}

interface Route {
  method: string;
  segments: string[];
  operation: string;
  run(ctx: Context): JsonBody;
}

export function createEksService(state: SandboxState): AwsServiceModule {
  const catalog = new AddonCatalog(state);
  const addons = new AddonOperations(state, catalog);
  const associations = new AssociationOperations(state);

  const r = (method: string, path: string, operation: string, run: (ctx: Context) => JsonBody): Route => ({
    method, segments: path.split('/').filter(Boolean), operation, run,
  });

  const routes: Route[] = [
    r('GET', '/clusters', 'ListClusters', ({ req }) => {
      const clusters = state.clusters.filter((c) => c.region === req.region).sort(byKey((c) => c.name));
      const page = paginate(clusters, (c) => c.name, req.query, `ListClusters/${req.region}`);
      return { clusters: page.items.map((c) => c.name), ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
    }),
    r('GET', '/clusters/{name}', 'DescribeCluster', (ctx) => ({ cluster: renderCluster(state, ctx.cluster()) })),
    r('GET', '/clusters/{name}/updates/{updateId}', 'DescribeUpdate', (ctx) =>
      addons.describeUpdate(ctx.cluster(), ctx.params['updateId']!, ctx.req.query)),

    r('GET', '/clusters/{clusterName}/addons', 'ListAddons', (ctx) => addons.list(ctx.cluster(), ctx.req.query)),
    r('POST', '/clusters/{clusterName}/addons', 'CreateAddon', (ctx) => addons.create(ctx.cluster(), ctx.body())),
    r('GET', '/clusters/{clusterName}/addons/{addonName}', 'DescribeAddon', (ctx) =>
      addons.describe(ctx.cluster(), ctx.params['addonName']!)),
    r('POST', '/clusters/{clusterName}/addons/{addonName}/update', 'UpdateAddon', (ctx) =>
      addons.update(ctx.cluster(), ctx.params['addonName']!, ctx.body())),
    r('DELETE', '/clusters/{clusterName}/addons/{addonName}', 'DeleteAddon', (ctx) =>
      addons.delete(ctx.cluster(), ctx.params['addonName']!)),
    r('GET', '/addons/configuration-schemas', 'DescribeAddonConfiguration', ({ req }) => catalog.describeAddonConfiguration(req.query)),
    r('GET', '/addons/supported-versions', 'DescribeAddonVersions', ({ req }) => catalog.describeAddonVersions(req.query)),

    r('GET', '/clusters/{clusterName}/node-groups', 'ListNodegroups', (ctx) => {
      const cluster = ctx.cluster();
      const names = cluster.nodegroups.map((n) => n.name).sort();
      const page = paginate(names, (n) => n, ctx.req.query, `ListNodegroups/${cluster.arn}`);
      return { nodegroups: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
    }),
    r('GET', '/clusters/{clusterName}/node-groups/{nodegroupName}', 'DescribeNodegroup', (ctx) => {
      const cluster = ctx.cluster();
      const name = ctx.params['nodegroupName']!;
      const ng = cluster.nodegroups.find((n) => n.name === name);
      if (!ng) {
        throw new EksError('ResourceNotFoundException', `No node group found for name: ${name}.`, { clusterName: cluster.name, nodegroupName: name });
      }
      return { nodegroup: renderNodegroup(cluster, ng) };
    }),
    r('GET', '/clusters/{clusterName}/fargate-profiles', 'ListFargateProfiles', (ctx) => {
      const cluster = ctx.cluster();
      const names = cluster.fargateProfiles.map((f) => f.name).sort();
      const page = paginate(names, (n) => n, ctx.req.query, `ListFargateProfiles/${cluster.arn}`);
      return { fargateProfileNames: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
    }),
    r('GET', '/clusters/{clusterName}/fargate-profiles/{fargateProfileName}', 'DescribeFargateProfile', (ctx) => {
      const cluster = ctx.cluster();
      const name = ctx.params['fargateProfileName']!;
      const fp = cluster.fargateProfiles.find((f) => f.name === name);
      if (!fp) {
        throw new EksError('ResourceNotFoundException', `No Fargate Profile found with name: ${name}.`, {
          clusterName: cluster.name, fargateProfileName: name,
        });
      }
      return {
        fargateProfile: {
          fargateProfileName: fp.name,
          fargateProfileArn: childArn(cluster, 'fargateprofile', fp.name),
          clusterName: cluster.name,
          createdAt: epoch(cluster.createdAt),
          ...(fp.podExecutionRoleArn ? { podExecutionRoleArn: fp.podExecutionRoleArn } : {}),
          subnets: [],
          selectors: fp.selectors.map((s) => ({ namespace: s.namespace, ...(s.labels ? { labels: s.labels } : {}) })),
          status: 'ACTIVE',
          tags: {},
          health: { issues: [] },
        },
      };
    }),

    r('GET', '/clusters/{clusterName}/pod-identity-associations', 'ListPodIdentityAssociations', (ctx) =>
      associations.list(ctx.cluster(), ctx.req.query)),
    r('POST', '/clusters/{clusterName}/pod-identity-associations', 'CreatePodIdentityAssociation', (ctx) =>
      associations.create(ctx.cluster(), ctx.body())),
    r('GET', '/clusters/{clusterName}/pod-identity-associations/{associationId}', 'DescribePodIdentityAssociation', (ctx) =>
      associations.describe(ctx.cluster(), ctx.params['associationId']!)),
    r('POST', '/clusters/{clusterName}/pod-identity-associations/{associationId}', 'UpdatePodIdentityAssociation', (ctx) =>
      associations.update(ctx.cluster(), ctx.params['associationId']!, ctx.body())),
    r('DELETE', '/clusters/{clusterName}/pod-identity-associations/{associationId}', 'DeletePodIdentityAssociation', (ctx) =>
      associations.delete(ctx.cluster(), ctx.params['associationId']!)),
  ];

  return {
    route(req: AwsRequest): RoutedOperation {
      const segments = req.path.split('/').filter(Boolean);
      for (const route of routes) {
        if (route.method !== req.method.toUpperCase()) continue;
        const params = match(route.segments, segments);
        if (!params) continue;
        return {
          operation: route.operation,
          mutating: /^(Create|Update|Delete)/.test(route.operation),
          run: (): HttpReply => jsonReply(route.run(context(state, req, params))),
        };
      }
      throw new EksError('UnknownOperationException', `The sandbox's EKS has no operation for ${req.method} ${req.path}.`);
    },
    renderError(err: AwsServiceError): HttpReply {
      return renderEksError(err);
    },
  };
}

function context(state: SandboxState, req: AwsRequest, params: Record<string, string>): Context {
  return {
    req,
    params,
    cluster() {
      const name = params['name'] ?? params['clusterName'] ?? '';
      const cluster = state.findCluster(name, req.region);
      if (!cluster) throw new EksError('ResourceNotFoundException', `No cluster found for name: ${name}.`, { clusterName: name });
      return cluster;
    },
    body: () => parseJsonBody(req.body),
  };
}

/** Label values of `pattern` in `segments` (percent-decoded), or undefined when they differ. */
function match(pattern: string[], segments: string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const s = segments[i]!;
    if (p.startsWith('{')) {
      try {
        params[p.slice(1, -1)] = decodeURIComponent(s);
      } catch {
        return undefined;
      }
    } else if (p !== s) {
      return undefined;
    }
  }
  return params;
}

function childArn(cluster: ClusterState, kind: string, name: string): string {
  // EKS ends these ARNs in a uuid of the object; derived from the cluster, kind and name here, so
  // every node group and Fargate profile has its own and repeated runs over one world agree.
  const id = stableUuid(`${cluster.arn}/${kind}/${name}`);
  return `arn:${cluster.partition}:eks:${cluster.region}:${cluster.account}:${kind}/${cluster.name}/${name}/${id}`;
}

function renderCluster(state: SandboxState, c: ClusterState): JsonBody {
  const iamArn = (name: string) => `arn:${c.partition}:iam::${c.account}:role/${name}`;
  return {
    name: c.name,
    arn: c.arn,
    createdAt: epoch(c.createdAt),
    version: c.version,
    // Must equal the kubeconfig `server` the sandbox writes for this cluster.
    endpoint: state.apiServer(c),
    roleArn: iamArn(c.autoMode ? 'AmazonEKSAutoClusterRole' : 'AmazonEKSClusterRole'),
    resourcesVpcConfig: { subnetIds: [], securityGroupIds: [], endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'] },
    kubernetesNetworkConfig: { serviceIpv4Cidr: '10.100.0.0/16', ipFamily: 'ipv4', elasticLoadBalancing: { enabled: c.autoMode } },
    logging: { clusterLogging: [{ types: ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'], enabled: false }] },
    ...(c.oidcIssuer ? { identity: { oidc: { issuer: c.oidcIssuer } } } : {}),
    status: c.status,
    certificateAuthority: { data: Buffer.from(`sandbox certificate authority for ${c.arn}\n`).toString('base64') },
    platformVersion: c.platformVersion,
    tags: {},
    health: { issues: [] },
    accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' },
    upgradePolicy: { supportType: 'STANDARD' },
    computeConfig: c.autoMode
      ? { enabled: true, nodePools: ['general-purpose', 'system'], nodeRoleArn: iamArn('AmazonEKSAutoNodeRole') }
      : { enabled: false },
    storageConfig: { blockStorage: { enabled: c.autoMode } },
  };
}

function renderNodegroup(c: ClusterState, ng: NodegroupSpec): JsonBody {
  const arm = /ARM|_ARM_|arm64/i.test(ng.amiType);
  return {
    nodegroupName: ng.name,
    nodegroupArn: childArn(c, 'nodegroup', ng.name),
    clusterName: c.name,
    version: c.version,
    createdAt: epoch(c.createdAt),
    modifiedAt: epoch(c.createdAt),
    status: 'ACTIVE',
    capacityType: 'ON_DEMAND',
    scalingConfig: { minSize: ng.nodes, maxSize: Math.max(ng.nodes, 1), desiredSize: ng.nodes },
    instanceTypes: [arm ? 'm7g.large' : 'm5.large'],
    subnets: [],
    amiType: ng.amiType,
    nodeRole: ng.nodeRole,
    labels: {},
    resources: { autoScalingGroups: [{ name: `eks-${ng.name}-${stableUuid(`${c.arn}/nodegroup/${ng.name}`)}` }] },
    diskSize: 20,
    health: { issues: [] },
    updateConfig: { maxUnavailable: 1 },
    tags: {},
  };
}
