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
import { child, isObj, objList, share, strMap } from './util.js';

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
  // Pods alike (one template, one ServiceAccount) get the same lists: computed once per key (memo).
  const skipKey = [...skip].join(',');

  if (state.visibleAssociation(cluster, namespace, saName) !== undefined) {
    const tokenFile = tokenPath(POD_IDENTITY_DIR, POD_IDENTITY_TOKEN);
    addVolume(spec, `${POD_IDENTITY_TOKEN}|${lifetime}`, () => ({
      name: POD_IDENTITY_TOKEN,
      projected: {
        defaultMode: 420,
        sources: [{ serviceAccountToken: { audience: 'pods.eks.amazonaws.com', expirationSeconds: lifetime, path: POD_IDENTITY_TOKEN } }],
      },
    }));
    mutateContainers(spec, `pod-identity|${skipKey}|${cluster.region}|${regionalSts}|${tokenFile}`, skip, common, [
      { name: 'AWS_CONTAINER_CREDENTIALS_FULL_URI', value: POD_IDENTITY_URI },
      { name: 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', value: tokenFile },
    ], { name: POD_IDENTITY_TOKEN, mountPath: POD_IDENTITY_DIR, readOnly: true });
    return 'pod-identity';
  }

  const roleArn = saAnnotations[ROLE_ARN_ANNOTATION];
  if (roleArn && cluster.oidcIssuer) {
    const audience = saAnnotations[AUDIENCE_ANNOTATION] ?? 'sts.amazonaws.com';
    const tokenFile = tokenPath(IRSA_DIR, 'token');
    addVolume(spec, `${IRSA_VOLUME}|${lifetime}|${audience}`, () => ({
      name: IRSA_VOLUME,
      projected: {
        defaultMode: 420,
        sources: [{ serviceAccountToken: { audience, expirationSeconds: lifetime, path: 'token' } }],
      },
    }));
    mutateContainers(spec, `irsa|${skipKey}|${cluster.region}|${regionalSts}|${tokenFile}|${roleArn}`, skip, common, [
      { name: 'AWS_ROLE_ARN', value: roleArn },
      { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: tokenFile },
    ], { name: IRSA_VOLUME, mountPath: IRSA_DIR, readOnly: true });
    return 'irsa';
  }
  return 'none';
}

/**
 * Webhook results per input list and change: the pods of one template and ServiceAccount get the
 * same containers and volumes, so they share one frozen copy (see `share`). Inputs are never
 * changed: a template's lists are shared too.
 */
const results = new WeakMap<object, Map<string, JsonObject[]>>();
/** The key for a pod without volumes. */
const NO_VOLUMES = {};

function memo(input: object, key: string, make: () => JsonObject[]): JsonObject[] {
  let byKey = results.get(input);
  if (!byKey) results.set(input, (byKey = new Map()));
  let out = byKey.get(key);
  if (!out) {
    if (byKey.size >= 16) byKey.clear();
    byKey.set(key, (out = share(make())));
  }
  return out;
}

/** Add the token volume (made by `volume`, described by `key`) unless a volume of its name exists. */
function addVolume(spec: JsonObject, key: string, volume: () => JsonObject): void {
  const input = Array.isArray(spec.volumes) ? spec.volumes : NO_VOLUMES;
  spec.volumes = memo(input, key, () => {
    const v = volume();
    const volumes = objList(spec.volumes);
    if (!volumes.some((x) => x.name === v.name)) volumes.push(v);
    return volumes;
  });
}

/**
 * Add env and mount to every container not skipped (`key` describes all the other arguments), as upstream's addEnvToContainer: the
 * credential pair only when the container sets neither of its variables; both region variables
 * only when it sets neither; the regional STS variable when asked for and not set; the mount
 * when no mount of that volume exists.
 */
function mutateContainers(
  spec: JsonObject,
  key: string,
  skip: Set<string>,
  common: { region: string; regionalSts: boolean },
  credentials: { name: string; value: string }[],
  mount: JsonObject,
): void {
  for (const field of ['initContainers', 'containers']) {
    const list = spec[field];
    if (!Array.isArray(list)) continue;
    spec[field] = memo(list, key, () =>
      list.map((c: unknown) => {
        if (!isObj(c) || skip.has(String(c.name))) return c as JsonObject;
        const cur = objList(c.env);
        const has = (n: string) => cur.some((x) => x.name === n);
        if (common.regionalSts && !has('AWS_STS_REGIONAL_ENDPOINTS')) cur.push({ name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' });
        if (!has('AWS_REGION') && !has('AWS_DEFAULT_REGION')) cur.push({ name: 'AWS_DEFAULT_REGION', value: common.region }, { name: 'AWS_REGION', value: common.region });
        if (!credentials.some((e) => has(e.name))) for (const e of credentials) cur.push({ ...e });
        const mounts = objList(c.volumeMounts);
        if (!mounts.some((m) => m.name === mount.name)) mounts.push({ ...mount });
        return { ...c, env: cur, volumeMounts: mounts };
      }),
    );
  }
}
