/**
 * The EKS Pod Identity webhook (upstream: aws/amazon-eks-pod-identity-webhook,
 * pkg/handler/handler.go), run once when a pod is created (never on later updates):
 * - Container credentials (EKS Pod Identity) take precedence: chosen by the pod's
 *   namespace/ServiceAccount association alone (`ContainerCredentialsConfig.Get(namespace, sa)`),
 *   whether or not the agent runs, and on every compute type. The AWS guide says the same: "If a
 *   pod uses a service account that has an association, Amazon EKS sets environment variables in
 *   the containers of the pod" (docs.aws.amazon.com/eks/latest/userguide/pod-identities.html).
 *   Whether such a pod can get credentials (agent on its node, Fargate and Windows unsupported,
 *   node role, trust) is the credential model's answer, not the webhook's.
 * - Otherwise IRSA, for a ServiceAccount annotated `eks.amazonaws.com/role-arn`.
 * - A pod whose nodeSelector asks for Windows (`kubernetes.io/os` or `beta.kubernetes.io/os`)
 *   gets the token path as a Windows path (`C:\var\run\secrets\...`), as upstream converts it.
 * - `AWS_STS_REGIONAL_ENDPOINTS=regional` only when the ServiceAccount's
 *   `eks.amazonaws.com/sts-regional-endpoints` annotation is true; AWS_REGION and
 *   AWS_DEFAULT_REGION only when the container sets neither.
 * Values: docs/sandbox.md.
 */
import type { ClusterState, SandboxState } from '../state.js';
import type { JsonObject } from '../world-types.js';
import { child, isObj, objList, strMap } from './util.js';

export { ROLE_ARN_ANNOTATION } from '../../core/annotations.js';
import { ROLE_ARN_ANNOTATION } from '../../core/annotations.js';
const AUDIENCE_ANNOTATION = 'eks.amazonaws.com/audience';
const EXPIRATION_ANNOTATION = 'eks.amazonaws.com/token-expiration';
const REGIONAL_STS_ANNOTATION = 'eks.amazonaws.com/sts-regional-endpoints';
const SKIP_CONTAINERS_ANNOTATION = 'eks.amazonaws.com/skip-containers';

export const POD_IDENTITY_URI = 'http://169.254.170.23/v1/credentials';
const POD_IDENTITY_DIR = '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount';
const POD_IDENTITY_TOKEN = 'eks-pod-identity-token';
const IRSA_DIR = '/var/run/secrets/eks.amazonaws.com/serviceaccount';
const IRSA_VOLUME = 'aws-iam-token';
/** Upstream's default and minimum projected-token lifetimes (pkg: MinTokenExpiration). */
const DEFAULT_EXPIRATION = 86400;
const MIN_EXPIRATION = 600;

export type Injected = 'pod-identity' | 'irsa' | 'none';

/** strconv.ParseBool, as upstream reads boolean annotations. */
function parseBool(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

function expiration(v: string | undefined, fallback: number): number {
  if (v === undefined || !/^-?\d+$/.test(v)) return fallback;
  return Math.max(MIN_EXPIRATION, Number(v));
}

/** Mutate `pod` (a new pod, before it is stored) as the EKS Pod Identity webhook would. */
export function injectCredentials(state: SandboxState, cluster: ClusterState, pod: JsonObject, serviceAccount: JsonObject | undefined): Injected {
  const meta = isObj(pod.metadata) ? pod.metadata : {};
  const spec = child(pod, 'spec');
  const namespace = String(meta.namespace ?? 'default');
  const saName = String(spec.serviceAccountName ?? 'default');
  const podAnnotations = strMap(meta.annotations);
  const saAnnotations = strMap(isObj(serviceAccount?.metadata) ? serviceAccount.metadata.annotations : undefined);
  const skip = new Set(
    (podAnnotations[SKIP_CONTAINERS_ANNOTATION] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const selector = strMap(spec.nodeSelector);
  const windows = selector['kubernetes.io/os'] === 'windows' || selector['beta.kubernetes.io/os'] === 'windows';
  const tokenPath = (dir: string, file: string) => (windows ? `C:${`${dir}/${file}`.replace(/\//g, '\\')}` : `${dir}/${file}`);
  const regionalSts = parseBool(saAnnotations[REGIONAL_STS_ANNOTATION]) === true;
  // Token lifetime: pod annotation > ServiceAccount annotation > default.
  const lifetime = expiration(podAnnotations[EXPIRATION_ANNOTATION], expiration(saAnnotations[EXPIRATION_ANNOTATION], DEFAULT_EXPIRATION));
  const common = { region: cluster.region, regionalSts };

  if (state.visibleAssociation(cluster, namespace, saName) !== undefined) {
    addVolume(spec, {
      name: POD_IDENTITY_TOKEN,
      projected: {
        defaultMode: 420,
        sources: [{ serviceAccountToken: { audience: 'pods.eks.amazonaws.com', expirationSeconds: lifetime, path: POD_IDENTITY_TOKEN } }],
      },
    });
    mutateContainers(spec, skip, common, [
      { name: 'AWS_CONTAINER_CREDENTIALS_FULL_URI', value: POD_IDENTITY_URI },
      { name: 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', value: tokenPath(POD_IDENTITY_DIR, POD_IDENTITY_TOKEN) },
    ], { name: POD_IDENTITY_TOKEN, mountPath: POD_IDENTITY_DIR, readOnly: true });
    return 'pod-identity';
  }

  const roleArn = saAnnotations[ROLE_ARN_ANNOTATION];
  if (roleArn && cluster.oidcIssuer) {
    addVolume(spec, {
      name: IRSA_VOLUME,
      projected: {
        defaultMode: 420,
        sources: [{ serviceAccountToken: { audience: saAnnotations[AUDIENCE_ANNOTATION] ?? 'sts.amazonaws.com', expirationSeconds: lifetime, path: 'token' } }],
      },
    });
    mutateContainers(spec, skip, common, [
      { name: 'AWS_ROLE_ARN', value: roleArn },
      { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: tokenPath(IRSA_DIR, 'token') },
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

/**
 * Add env and mount to every container not skipped, as upstream's addEnvToContainer: the
 * credential pair only when the container sets neither of its variables; both region variables
 * only when it sets neither; the regional STS variable when asked for and not set; the mount
 * when no mount of that volume exists.
 */
function mutateContainers(
  spec: JsonObject,
  skip: Set<string>,
  common: { region: string; regionalSts: boolean },
  credentials: { name: string; value: string }[],
  mount: JsonObject,
): void {
  for (const field of ['initContainers', 'containers']) {
    if (!Array.isArray(spec[field])) continue;
    for (const c of objList(spec[field])) {
      if (skip.has(String(c.name))) continue;
      const cur = objList(c.env);
      const has = (n: string) => cur.some((x) => x.name === n);
      if (common.regionalSts && !has('AWS_STS_REGIONAL_ENDPOINTS')) cur.push({ name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' });
      if (!has('AWS_REGION') && !has('AWS_DEFAULT_REGION')) cur.push({ name: 'AWS_DEFAULT_REGION', value: common.region }, { name: 'AWS_REGION', value: common.region });
      if (!credentials.some((e) => has(e.name))) for (const e of credentials) cur.push({ ...e });
      c.env = cur;
      const mounts = objList(c.volumeMounts);
      if (!mounts.some((m) => m.name === mount.name)) mounts.push({ ...mount });
      c.volumeMounts = mounts;
    }
  }
}
