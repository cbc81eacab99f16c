/**
 * Which controller, if any, owns a ServiceAccount's annotations and re-applies them: a change
 * made on the cluster (removing `eks.amazonaws.com/role-arn` after the move) is reverted at its
 * next reconcile, so the change belongs where the controller reads it. Pure; the rules use only
 * the markers each controller documents on the objects it manages:
 *
 * - Crossplane's package manager creates each provider's ServiceAccount, owned by the
 *   ProviderRevision (pkg.crossplane.io), from its DeploymentRuntimeConfig
 *   (`spec.serviceAccountTemplate.metadata.annotations`), and reconciles it back;
 * - Argo CD tracks what it applied with the `argocd.argoproj.io/tracking-id` annotation (or the
 *   `argocd.argoproj.io/instance` label) and re-applies Git with self-heal;
 * - Flux labels what it applies `kustomize.toolkit.fluxcd.io/name` / `helm.toolkit.fluxcd.io/name`
 *   and reconciles on its interval;
 * - Helm labels chart objects `app.kubernetes.io/managed-by: Helm` (annotation
 *   `meta.helm.sh/release-name`): the next `helm upgrade` re-applies the values, which is how
 *   Karpenter, the AWS Load Balancer Controller and the ACK controllers are installed;
 * - eksctl labels the service accounts of `eksctl create iamserviceaccount`
 *   `app.kubernetes.io/managed-by: eksctl` and owns them through CloudFormation.
 *
 * Sources: Crossplane's package-runtime design ("the Crossplane package manager installs your
 * provider by creating a Kubernetes Deployment, along with ... a ServiceAccount",
 * github.com/crossplane/crossplane design/one-pager-package-runtime-config.md); Argo CD's
 * resource tracking (argo-cd.readthedocs.io user-guide/resource_tracking: the
 * `argocd.argoproj.io/tracking-id` annotation, or a tracking label); Flux's Kustomization
 * (fluxcd.io/flux/components/kustomize/kustomizations: applies on every `.spec.interval`, and
 * labels what it manages `kustomize.toolkit.fluxcd.io/*`); Kubernetes' well-known labels
 * (`app.kubernetes.io/managed-by`, kubernetes.io/docs/reference/labels-annotations-taints).
 */
export interface ObjectMarkers {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly owners: readonly { readonly apiVersion: string; readonly kind: string; readonly name: string }[];
}

export interface Manager {
  /** Who: `Crossplane (ProviderRevision provider-aws-iam-...)`, `Argo CD`, `Helm (release karpenter)`. */
  readonly manager: string;
  /** Where it takes the annotation from. */
  readonly source: string;
}

export function managedBy(m: ObjectMarkers): Manager | null {
  const crossplane = m.owners.find((o) => o.apiVersion.startsWith('pkg.crossplane.io/'));
  if (crossplane !== undefined) {
    return { manager: `Crossplane (${crossplane.kind} ${crossplane.name})`, source: "the provider's DeploymentRuntimeConfig (spec.serviceAccountTemplate)" };
  }
  if (m.annotations['argocd.argoproj.io/tracking-id'] !== undefined || m.labels['argocd.argoproj.io/instance'] !== undefined) {
    const app = (m.annotations['argocd.argoproj.io/tracking-id'] ?? m.labels['argocd.argoproj.io/instance'] ?? '').split(':')[0];
    return { manager: `Argo CD${app ? ` (application ${app})` : ''}`, source: 'the Git repository of the application' };
  }
  const flux = m.labels['kustomize.toolkit.fluxcd.io/name'] ?? m.labels['helm.toolkit.fluxcd.io/name'];
  if (flux !== undefined) return { manager: `Flux (${flux})`, source: 'the Git repository or HelmRelease values it applies' };
  const managedByLabel = m.labels['app.kubernetes.io/managed-by'];
  if (managedByLabel === 'eksctl') return { manager: 'eksctl', source: 'its iamserviceaccount CloudFormation stack (eksctl delete iamserviceaccount / the cluster config file)' };
  const release = m.annotations['meta.helm.sh/release-name'];
  if (managedByLabel === 'Helm' || release !== undefined) {
    return { manager: `Helm${release ? ` (release ${release})` : ''}`, source: 'the chart values (serviceAccount.annotations) at the next helm upgrade' };
  }
  // kustomize marks nothing by default; these are its opt-in markers (the managed-by label many
  // bases set, and the origin annotation of `buildMetadata: [originAnnotations]`).
  const origin = m.annotations['config.kubernetes.io/origin'];
  if (managedByLabel === 'kustomize' || origin !== undefined) {
    return { manager: 'kustomize', source: 'the kustomization it is built from (the next kubectl apply -k or GitOps sync)' };
  }
  return null;
}
