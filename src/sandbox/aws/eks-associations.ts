/**
 * EKS Pod Identity association operations. One association per namespace/service account
 * (ResourceInUseException for a second), at most 1,000 per cluster, role ARNs validated as role
 * ARNs. Associations owned by an add-on (`ownerArn`) are managed through UpdateAddon/DeleteAddon;
 * the association API refuses to change them.
 */
import type { AssociationState, ClusterState, SandboxState } from '../state.js';
import { IdempotencyTokens } from './eks-idempotency.js';
import { checkPodIdentityRole } from './eks-role-check.js';
import {
  EksError, byKey, checkKubeNames, checkRoleArn, epoch, invalidParameter, optBoolean, optString, optStringMap, paginate,
  reqString, type JsonBody,
} from './eks-wire.js';

/** EKS's per-cluster quota ("Pod Identity associations per cluster"), not adjustable. */
export const MAX_ASSOCIATIONS_PER_CLUSTER = 1000;

export class AssociationOperations {
  /** Session policies (`policy`), which AssociationState does not carry. */
  private readonly policies = new WeakMap<AssociationState, string>();
  private readonly tokens = new IdempotencyTokens();
  /**
   * Namespace/SA pairs whose association was deleted, until when they stay unusable
   * (`associationReuseDelayMs`): EKS removes an association asynchronously, and a create for the
   * same service account in the meantime is ResourceInUseException.
   */
  private readonly releasing = new Map<string, { until: number; associationId: string }>();

  constructor(private readonly state: SandboxState) {}

  private now(): Date {
    return new Date(this.state.clock.now());
  }

  render(a: AssociationState): JsonBody {
    const policy = this.policies.get(a);
    return {
      clusterName: a.clusterName,
      namespace: a.namespace,
      serviceAccount: a.serviceAccount,
      roleArn: a.roleArn,
      associationArn: a.associationArn,
      associationId: a.associationId,
      tags: a.tags,
      createdAt: epoch(a.createdAt),
      modifiedAt: epoch(a.modifiedAt),
      ...(a.ownerArn ? { ownerArn: a.ownerArn } : {}),
      disableSessionTags: a.disableSessionTags,
      ...(a.targetRoleArn ? { targetRoleArn: a.targetRoleArn } : {}),
      ...(a.externalId ? { externalId: a.externalId } : {}),
      ...(policy !== undefined ? { policy } : {}),
    };
  }

  private find(cluster: ClusterState, associationId: string): AssociationState {
    const a = cluster.associations.find((x) => x.associationId === associationId);
    if (!a) {
      throw new EksError('ResourceNotFoundException', `No Pod Identity Association found for id: ${associationId}.`, { clusterName: cluster.name });
    }
    return a;
  }

  list(cluster: ClusterState, query: URLSearchParams): JsonBody {
    const namespace = query.get('namespace');
    const serviceAccount = query.get('serviceAccount');
    const key = (a: AssociationState) => `${a.namespace}\u0000${a.serviceAccount}\u0000${a.associationId}`;
    const matching = cluster.associations
      .filter((a) => (!namespace || a.namespace === namespace) && (!serviceAccount || a.serviceAccount === serviceAccount))
      .sort(byKey(key));
    const page = paginate(matching, key, query, `ListPodIdentityAssociations/${cluster.arn}/${namespace ?? ''}/${serviceAccount ?? ''}`);
    return {
      associations: page.items.map((a) => ({
        clusterName: a.clusterName,
        namespace: a.namespace,
        serviceAccount: a.serviceAccount,
        associationArn: a.associationArn,
        associationId: a.associationId,
        ...(a.ownerArn ? { ownerArn: a.ownerArn } : {}),
      })),
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    };
  }

  describe(cluster: ClusterState, associationId: string): JsonBody {
    return { association: this.render(this.find(cluster, associationId)) };
  }

  create(cluster: ClusterState, body: JsonBody): JsonBody {
    return this.tokens.run(`create/${cluster.arn}`, body, { clusterName: cluster.name }, () => this.doCreate(cluster, body));
  }

  private doCreate(cluster: ClusterState, body: JsonBody): JsonBody {
    const namespace = reqString(body, 'namespace');
    const serviceAccount = reqString(body, 'serviceAccount');
    const roleArn = reqString(body, 'roleArn');
    checkKubeNames(namespace, serviceAccount);
    checkRoleArn(roleArn, 'roleArn');
    const targetRoleArn = optString(body, 'targetRoleArn') || null;
    if (targetRoleArn) checkRoleArn(targetRoleArn, 'targetRoleArn');
    const disableSessionTags = optBoolean(body, 'disableSessionTags') ?? false;
    const tags = optStringMap(body, 'tags') ?? {};
    const policy = optString(body, 'policy');
    checkPodIdentityRole(this.state, cluster.account, roleArn, { clusterName: cluster.name });

    const existing = cluster.associations.find((a) => a.namespace === namespace && a.serviceAccount === serviceAccount);
    if (existing) {
      throw new EksError('ResourceInUseException', `Association already exists: ${existing.associationId}`, { clusterName: cluster.name });
    }
    const released = this.releasing.get(`${cluster.arn}/${namespace}/${serviceAccount}`);
    if (released && released.until > this.state.clock.now()) {
      // The deleted association is still being removed.
      throw new EksError('ResourceInUseException', `Association already exists: ${released.associationId}`, { clusterName: cluster.name });
    }
    if (cluster.associations.length >= MAX_ASSOCIATIONS_PER_CLUSTER) {
      throw new EksError(
        'ResourceLimitExceededException',
        `Cluster ${cluster.name} already has the maximum number of pod identity associations (${MAX_ASSOCIATIONS_PER_CLUSTER}).`,
        { clusterName: cluster.name },
      );
    }
    const a = this.state.newAssociation(cluster, { namespace, serviceAccount, roleArn, targetRoleArn, disableSessionTags }, this.now());
    a.tags = tags;
    if (policy !== undefined) this.policies.set(a, policy);
    cluster.associations.push(a);
    return { association: this.render(a) };
  }

  update(cluster: ClusterState, associationId: string, body: JsonBody): JsonBody {
    return this.tokens.run(`update/${cluster.arn}/${associationId}`, body, { clusterName: cluster.name }, () => this.doUpdate(cluster, associationId, body));
  }

  private doUpdate(cluster: ClusterState, associationId: string, body: JsonBody): JsonBody {
    const a = this.find(cluster, associationId);
    const roleArn = optString(body, 'roleArn');
    const targetRoleArn = optString(body, 'targetRoleArn');
    const disableSessionTags = optBoolean(body, 'disableSessionTags');
    const policy = optString(body, 'policy');
    if (roleArn === undefined && targetRoleArn === undefined && disableSessionTags === undefined && policy === undefined) {
      throw invalidParameter('At least one of roleArn, targetRoleArn, disableSessionTags or policy must be provided.', { clusterName: cluster.name });
    }
    if (a.ownerArn) throw ownedByAddon(cluster, a, 'updated');
    if (roleArn !== undefined) {
      checkRoleArn(roleArn, 'roleArn');
      checkPodIdentityRole(this.state, cluster.account, roleArn, { clusterName: cluster.name });
    }
    // An empty targetRoleArn removes the target role (and with it the external ID).
    if (targetRoleArn) checkRoleArn(targetRoleArn, 'targetRoleArn');

    if (roleArn !== undefined) a.roleArn = roleArn;
    if (targetRoleArn !== undefined) {
      const next = targetRoleArn === '' ? null : targetRoleArn;
      if (next && !a.targetRoleArn) a.externalId = crypto.randomUUID();
      if (!next) a.externalId = null;
      a.targetRoleArn = next;
    }
    if (disableSessionTags !== undefined) a.disableSessionTags = disableSessionTags;
    if (policy !== undefined) {
      if (policy === '') this.policies.delete(a);
      else this.policies.set(a, policy);
    }
    a.modifiedAt = this.now();
    return { association: this.render(a) };
  }

  delete(cluster: ClusterState, associationId: string): JsonBody {
    const a = this.find(cluster, associationId);
    if (a.ownerArn) throw ownedByAddon(cluster, a, 'deleted');
    cluster.associations = cluster.associations.filter((x) => x !== a);
    const delay = this.state.settings.associationReuseDelayMs;
    if (delay > 0) {
      this.releasing.set(`${cluster.arn}/${a.namespace}/${a.serviceAccount}`, { until: this.state.clock.now() + delay, associationId: a.associationId });
    }
    return { association: this.render(a) };
  }
}

function ownedByAddon(cluster: ClusterState, a: AssociationState, verb: string): EksError {
  return new EksError(
    'InvalidRequestException',
    `Pod identity association ${a.associationId} is owned by add-on ${a.ownerArn} and can only be ${verb} through the add-on (UpdateAddon or DeleteAddon).`,
    { clusterName: cluster.name },
  );
}
