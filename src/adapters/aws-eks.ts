/**
 * The EKS port of one region over an EKSClient: every list walks all pages (the SDK's
 * paginators), every answer is mapped to the slim snapshot shape at once. Read-only: only List
 * and Describe commands.
 */
import type { Addon, EKSClient } from '@aws-sdk/client-eks';
import type { AssociationSnapshot, FargateProfileSnapshot, NodegroupSnapshot } from '../core/scan/snapshot.js';
import { allItems, callMapped } from './aws-call.js';
import { mapAwsError } from './aws-errors.js';
import type { AddonPodIdentityConfiguration, AssociationSummary, EksAddonInfo, EksClusterInfo, EksPort } from '../core/ports.js';

type EksSdk = typeof import('@aws-sdk/client-eks');

/** DescribeAddon's add-on in podid's shape (the scan's and apply's). */
export function addonInfo(a: Addon, name: string): EksAddonInfo {
  return {
    name: a.addonName ?? name,
    version: a.addonVersion ?? '',
    status: a.status ?? '',
    arn: a.addonArn ?? '',
    serviceAccountRoleArn: a.serviceAccountRoleArn ?? null,
    podIdentityAssociations: a.podIdentityAssociations ?? [],
  };
}

export function createEksPort(sdk: EksSdk, client: EKSClient, region: string): EksPort {
  const fallbackEndpoint = `https://eks.${region}.amazonaws.com`;

  const call = callMapped((err, action) => mapAwsError(err, action, fallbackEndpoint));

  return {
    listClusters: () => call('eks:ListClusters', () => allItems(sdk.paginateListClusters({ client }, {}), (p) => p.clusters)),

    describeCluster: (name) =>
      call('eks:DescribeCluster', async (): Promise<EksClusterInfo> => {
        const out = await client.send(new sdk.DescribeClusterCommand({ name }));
        const c = out.cluster ?? {};
        return {
          name: c.name ?? name,
          arn: c.arn ?? '',
          version: c.version ?? '',
          platformVersion: c.platformVersion ?? '',
          status: c.status ?? '',
          endpoint: c.endpoint ?? '',
          oidcIssuer: c.identity?.oidc?.issuer ?? null,
          autoMode: c.computeConfig?.enabled === true,
        };
      }),

    listAddons: (cluster) => call('eks:ListAddons', () => allItems(sdk.paginateListAddons({ client }, { clusterName: cluster }), (p) => p.addons)),

    describeAddon: (cluster, addon) =>
      call('eks:DescribeAddon', async (): Promise<EksAddonInfo> => {
        const out = await client.send(new sdk.DescribeAddonCommand({ clusterName: cluster, addonName: addon }));
        return addonInfo(out.addon ?? {}, addon);
      }),

    describeAddonConfiguration: (addon, version) =>
      call('eks:DescribeAddonConfiguration', async (): Promise<AddonPodIdentityConfiguration[] | null> => {
        const out = await client.send(new sdk.DescribeAddonConfigurationCommand({ addonName: addon, addonVersion: version }));
        const configs = out.podIdentityConfiguration ?? [];
        if (configs.length === 0) return null;
        return configs.map((p) => ({ serviceAccount: p.serviceAccount ?? '', recommendedManagedPolicies: p.recommendedManagedPolicies ?? [] }));
      }),

    listNodegroups: (cluster) => call('eks:ListNodegroups', () => allItems(sdk.paginateListNodegroups({ client }, { clusterName: cluster }), (p) => p.nodegroups)),

    describeNodegroup: (cluster, nodegroup) =>
      call('eks:DescribeNodegroup', async (): Promise<NodegroupSnapshot> => {
        const out = await client.send(new sdk.DescribeNodegroupCommand({ clusterName: cluster, nodegroupName: nodegroup }));
        const n = out.nodegroup ?? {};
        return { name: n.nodegroupName ?? nodegroup, nodeRole: n.nodeRole ?? '', amiType: n.amiType ?? '', status: n.status ?? '' };
      }),

    listFargateProfiles: (cluster) => call('eks:ListFargateProfiles', () => allItems(sdk.paginateListFargateProfiles({ client }, { clusterName: cluster }), (p) => p.fargateProfileNames)),

    describeFargateProfile: (cluster, profile) =>
      call('eks:DescribeFargateProfile', async (): Promise<FargateProfileSnapshot> => {
        const out = await client.send(new sdk.DescribeFargateProfileCommand({ clusterName: cluster, fargateProfileName: profile }));
        const p = out.fargateProfile ?? {};
        return {
          name: p.fargateProfileName ?? profile,
          selectors: (p.selectors ?? []).map((s) => ({ namespace: s.namespace ?? '', labels: { ...(s.labels ?? {}) } })),
        };
      }),

    listPodIdentityAssociations: (cluster) =>
      call('eks:ListPodIdentityAssociations', async (): Promise<AssociationSummary[]> => {
        // 100 is the largest page EKS serves.
        const all = await allItems(sdk.paginateListPodIdentityAssociations({ client, pageSize: 100 }, { clusterName: cluster }), (p) => p.associations);
        return all.map((a) => ({
          associationId: a.associationId ?? '',
          associationArn: a.associationArn ?? '',
          namespace: a.namespace ?? '',
          serviceAccount: a.serviceAccount ?? '',
          ownerArn: a.ownerArn ?? null,
        }));
      }),

    describePodIdentityAssociation: (cluster, associationId) =>
      call('eks:DescribePodIdentityAssociation', async (): Promise<AssociationSnapshot> => {
        const out = await client.send(new sdk.DescribePodIdentityAssociationCommand({ clusterName: cluster, associationId }));
        const a = out.association ?? {};
        return {
          associationId: a.associationId ?? associationId,
          associationArn: a.associationArn ?? '',
          namespace: a.namespace ?? '',
          serviceAccount: a.serviceAccount ?? '',
          roleArn: a.roleArn ?? '',
          targetRoleArn: a.targetRoleArn ?? null,
          disableSessionTags: a.disableSessionTags === true,
          ownerArn: a.ownerArn ?? null,
        };
      }),
  };
}
