/**
 * The EKS port of one region over an EKSClient: every list walks all pages, every answer is
 * mapped to the slim snapshot shape at once. Read-only: only List and Describe commands.
 */
import type { EKSClient } from '@aws-sdk/client-eks';
import type { AssociationSnapshot, FargateProfileSnapshot, NodegroupSnapshot } from '../core/scan/snapshot.js';
import { mapAwsError } from './aws-errors.js';
import type { AddonPodIdentityConfiguration, AssociationSummary, EksAddonInfo, EksClusterInfo, EksPort } from '../core/ports.js';

type EksSdk = typeof import('@aws-sdk/client-eks');

export function createEksPort(sdk: EksSdk, client: EKSClient, region: string): EksPort {
  const fallbackEndpoint = `https://eks.${region}.amazonaws.com`;

  async function call<T>(action: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw mapAwsError(err, action, fallbackEndpoint);
    }
  }

  /** Walks a nextToken chain. */
  async function allPages<T>(action: string, page: (nextToken: string | undefined) => Promise<{ items: T[]; nextToken: string | undefined }>): Promise<T[]> {
    return call(action, async () => {
      const all: T[] = [];
      let token: string | undefined;
      do {
        const out = await page(token);
        all.push(...out.items);
        token = out.nextToken;
      } while (token);
      return all;
    });
  }

  return {
    listClusters: () =>
      allPages('eks:ListClusters', async (nextToken) => {
        const out = await client.send(new sdk.ListClustersCommand({ nextToken }));
        return { items: out.clusters ?? [], nextToken: out.nextToken };
      }),

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

    listAddons: (cluster) =>
      allPages('eks:ListAddons', async (nextToken) => {
        const out = await client.send(new sdk.ListAddonsCommand({ clusterName: cluster, nextToken }));
        return { items: out.addons ?? [], nextToken: out.nextToken };
      }),

    describeAddon: (cluster, addon) =>
      call('eks:DescribeAddon', async (): Promise<EksAddonInfo> => {
        const out = await client.send(new sdk.DescribeAddonCommand({ clusterName: cluster, addonName: addon }));
        const a = out.addon ?? {};
        return {
          name: a.addonName ?? addon,
          version: a.addonVersion ?? '',
          status: a.status ?? '',
          arn: a.addonArn ?? '',
          serviceAccountRoleArn: a.serviceAccountRoleArn ?? null,
          podIdentityAssociations: a.podIdentityAssociations ?? [],
        };
      }),

    describeAddonConfiguration: (addon, version) =>
      call('eks:DescribeAddonConfiguration', async (): Promise<AddonPodIdentityConfiguration[] | null> => {
        const out = await client.send(new sdk.DescribeAddonConfigurationCommand({ addonName: addon, addonVersion: version }));
        const configs = out.podIdentityConfiguration ?? [];
        if (configs.length === 0) return null;
        return configs.map((p) => ({ serviceAccount: p.serviceAccount ?? '', recommendedManagedPolicies: p.recommendedManagedPolicies ?? [] }));
      }),

    listNodegroups: (cluster) =>
      allPages('eks:ListNodegroups', async (nextToken) => {
        const out = await client.send(new sdk.ListNodegroupsCommand({ clusterName: cluster, nextToken }));
        return { items: out.nodegroups ?? [], nextToken: out.nextToken };
      }),

    describeNodegroup: (cluster, nodegroup) =>
      call('eks:DescribeNodegroup', async (): Promise<NodegroupSnapshot> => {
        const out = await client.send(new sdk.DescribeNodegroupCommand({ clusterName: cluster, nodegroupName: nodegroup }));
        const n = out.nodegroup ?? {};
        return { name: n.nodegroupName ?? nodegroup, nodeRole: n.nodeRole ?? '', amiType: n.amiType ?? '', status: n.status ?? '' };
      }),

    listFargateProfiles: (cluster) =>
      allPages('eks:ListFargateProfiles', async (nextToken) => {
        const out = await client.send(new sdk.ListFargateProfilesCommand({ clusterName: cluster, nextToken }));
        return { items: out.fargateProfileNames ?? [], nextToken: out.nextToken };
      }),

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
      allPages('eks:ListPodIdentityAssociations', async (nextToken): Promise<{ items: AssociationSummary[]; nextToken: string | undefined }> => {
        const out = await client.send(new sdk.ListPodIdentityAssociationsCommand({ clusterName: cluster, nextToken, maxResults: 100 }));
        const items = (out.associations ?? []).map((a) => ({
          associationId: a.associationId ?? '',
          associationArn: a.associationArn ?? '',
          namespace: a.namespace ?? '',
          serviceAccount: a.serviceAccount ?? '',
          ownerArn: a.ownerArn ?? null,
        }));
        return { items, nextToken: out.nextToken };
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
