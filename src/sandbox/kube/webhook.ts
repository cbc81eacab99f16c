/**
 * The two EKS mutating webhooks, run once when a pod is created (never on later updates):
 * the Pod Identity webhook (association for the pod's namespace/SA, agent installed) and the
 * IRSA webhook (SA annotated `eks.amazonaws.com/role-arn`). Pod Identity wins when both apply;
 * Fargate and Windows pods never get Pod Identity. Values: docs/sandbox.md.
 */
import type { ClusterState, SandboxState } from '../state.js';
import type { JsonObject } from '../world-types.js';
import { child, isObj, objList, strMap } from './util.js';

export { ROLE_ARN_ANNOTATION } from '../../core/annotations.js';
import { ROLE_ARN_ANNOTATION } from '../../core/annotations.js';
const AUDIENCE_ANNOTATION = 'eks.amazonaws.com/audience';
const EXPIRATION_ANNOTATION = 'eks.amazonaws.com/token-expiration';
const SKIP_CONTAINERS_ANNOTATION = 'eks.amazonaws.com/skip-containers';

export const POD_IDENTITY_URI = 'http://169.254.170.23/v1/credentials';
const POD_IDENTITY_DIR = '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount';
const POD_IDENTITY_TOKEN = 'eks-pod-identity-token';
const IRSA_DIR = '/var/run/secrets/eks.amazonaws.com/serviceaccount';
const IRSA_VOLUME = 'aws-iam-token';

export interface PodPlacement {
  fargate: boolean;
  windows: boolean;
}

export type Injected = 'pod-identity' | 'irsa' | 'none';

/** Mutate `pod` (a new pod, before it is stored) as the EKS webhooks would. */
export function injectCredentials(
  state: SandboxState,
  cluster: ClusterState,
  pod: JsonObject,
  serviceAccount: JsonObject | undefined,
  placement: PodPlacement,
): Injected {
  const meta = isObj(pod.metadata) ? pod.metadata : {};
  const spec = child(pod, 'spec');
  const namespace = String(meta.namespace ?? 'default');
  const saName = String(spec.serviceAccountName ?? 'default');
  const region = cluster.region;
  const regionEnv = [
    { name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' },
    { name: 'AWS_DEFAULT_REGION', value: region },
    { name: 'AWS_REGION', value: region },
  ];
  const skip = new Set(
    (strMap(meta.annotations)[SKIP_CONTAINERS_ANNOTATION] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

  const podIdentity =
    !placement.fargate &&
    !placement.windows &&
    state.podIdentityActive(cluster) &&
    state.visibleAssociation(cluster, namespace, saName) !== undefined;
  if (podIdentity) {
    addVolume(spec, {
      name: POD_IDENTITY_TOKEN,
      projected: {
        defaultMode: 420,
        sources: [{ serviceAccountToken: { audience: 'pods.eks.amazonaws.com', expirationSeconds: 86400, path: POD_IDENTITY_TOKEN } }],
      },
    });
    mutateContainers(spec, skip, [
      ...regionEnv,
      { name: 'AWS_CONTAINER_CREDENTIALS_FULL_URI', value: POD_IDENTITY_URI },
      { name: 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', value: `${POD_IDENTITY_DIR}/${POD_IDENTITY_TOKEN}` },
    ], { name: POD_IDENTITY_TOKEN, mountPath: POD_IDENTITY_DIR, readOnly: true });
    return 'pod-identity';
  }

  const saAnnotations = strMap(isObj(serviceAccount?.metadata) ? serviceAccount.metadata.annotations : undefined);
  const roleArn = saAnnotations[ROLE_ARN_ANNOTATION];
  if (roleArn && cluster.oidcIssuer) {
    const expiration = Number(saAnnotations[EXPIRATION_ANNOTATION] ?? 86400);
    addVolume(spec, {
      name: IRSA_VOLUME,
      projected: {
        defaultMode: 420,
        sources: [
          {
            serviceAccountToken: {
              audience: saAnnotations[AUDIENCE_ANNOTATION] ?? 'sts.amazonaws.com',
              expirationSeconds: Number.isInteger(expiration) && expiration >= 3600 ? expiration : 86400,
              path: 'token',
            },
          },
        ],
      },
    });
    mutateContainers(spec, skip, [
      ...regionEnv,
      { name: 'AWS_ROLE_ARN', value: roleArn },
      { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: `${IRSA_DIR}/token` },
    ], { name: IRSA_VOLUME, mountPath: IRSA_DIR, readOnly: true });
    return 'irsa';
  }
  return 'none';
}

function addVolume(spec: JsonObject, volume: JsonObject): void {
  const volumes = objList(spec.volumes);
  if (!volumes.some((v) => v.name === volume.name)) volumes.push(volume);
  spec.volumes = volumes;
}

/** Add env and mount to every container not skipped; variables the pod already sets are kept, as the webhooks do. */
function mutateContainers(spec: JsonObject, skip: Set<string>, env: { name: string; value: string }[], mount: JsonObject): void {
  for (const field of ['initContainers', 'containers']) {
    if (!Array.isArray(spec[field])) continue;
    for (const c of objList(spec[field])) {
      if (skip.has(String(c.name))) continue;
      const cur = objList(c.env);
      for (const e of env) if (!cur.some((x) => x.name === e.name)) cur.push({ ...e });
      c.env = cur;
      const mounts = objList(c.volumeMounts);
      if (!mounts.some((m) => m.mountPath === mount.mountPath)) mounts.push({ ...mount });
      c.volumeMounts = mounts;
    }
  }
}
