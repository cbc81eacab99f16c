/**
 * `--verify-probe IMAGE`: after an SA's verification, podid runs a short-lived pod under the SA
 * that calls `aws sts get-caller-identity`, reads the caller ARN from its log and compares it with
 * the role the SA must now obtain (the target role for a cross-account association). The pod is
 * always deleted, also when it fails or the wait times out. Ports and clock are passed in.
 */
import { randomBytes } from 'node:crypto';
import type { JsonObject } from '../json.js';
import type { Clock, KubeApplyPort } from './ports.js';

export const PROBE_COMMAND = ['aws', 'sts', 'get-caller-identity', '--output', 'json'];

export interface ProbeOutcome {
  ok: boolean;
  pod: string;
  /** The caller ARN the pod printed, when it printed one. */
  arn: string | null;
  /** One sentence: what the probe found. */
  message: string;
}

/** `podid-verify-<sa>-<5 hex>`, within the 63 characters of a DNS label. */
export function probePodName(serviceAccount: string, random: () => string = () => randomBytes(3).toString('hex').slice(0, 5)): string {
  const sa = serviceAccount.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63 - 'podid-verify--'.length - 5).replace(/-+$/, '');
  return `podid-verify-${sa}-${random()}`;
}

export function probePodManifest(namespace: string, serviceAccount: string, name: string, image: string): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'podid', 'app.kubernetes.io/name': 'podid-verify-probe' },
      annotations: { 'podid.dev/verify-probe': `${namespace}/${serviceAccount}` },
    },
    spec: {
      serviceAccountName: serviceAccount,
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'probe', image, command: PROBE_COMMAND }],
    },
  };
}

/** The ARN in `aws sts get-caller-identity --output json`'s answer, or null when the text is not that answer. */
export function parseCallerIdentity(log: string): { arn: string; account: string } | null {
  const start = log.indexOf('{');
  if (start === -1) return null;
  try {
    const doc = JSON.parse(log.slice(start, log.lastIndexOf('}') + 1)) as { Arn?: unknown; Account?: unknown };
    if (typeof doc.Arn !== 'string') return null;
    return { arn: doc.Arn, account: typeof doc.Account === 'string' ? doc.Account : (doc.Arn.split(':')[4] ?? '') };
  } catch {
    return null;
  }
}

/**
 * Whether a caller ARN is a session of the role: `arn:PARTITION:sts::ACCOUNT:assumed-role/NAME/SESSION`
 * for `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME` (the assumed-role ARN carries the name without the path).
 * STS AssumedRoleUser.Arn (STS API reference) points to the IAM user guide's "IAM identifiers"
 * (reference_identifiers.html) for this form.
 */
export function isSessionOf(callerArn: string, roleArn: string): boolean {
  const caller = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(callerArn);
  const role = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
  if (!caller || !role) return false;
  return caller[1] === role[1] && caller[2] === role[2] && caller[3] === role[3];
}

export interface ProbeInput {
  kube: KubeApplyPort;
  clock: Clock;
  namespace: string;
  serviceAccount: string;
  image: string;
  /** The role the pod's credentials must be for. */
  expectedRoleArn: string;
  timeoutMs: number;
  pollMs: number;
  signal?: AbortSignal;
  name?: string;
}

export async function runProbe(input: ProbeInput): Promise<ProbeOutcome> {
  const { kube, namespace } = input;
  const name = input.name ?? probePodName(input.serviceAccount);
  if (!kube.createPod || !kube.getPodRun || !kube.readPodLog || !kube.deletePod) {
    return { ok: false, pod: name, arn: null, message: 'this Kubernetes client cannot run a verification probe pod' };
  }
  const { createPod, getPodRun, readPodLog, deletePod } = { createPod: kube.createPod.bind(kube), getPodRun: kube.getPodRun.bind(kube), readPodLog: kube.readPodLog.bind(kube), deletePod: kube.deletePod.bind(kube) };
  let outcome: ProbeOutcome;
  try {
    outcome = await watch();
  } catch (err) {
    outcome = { ok: false, pod: name, arn: null, message: `probe pod ${name}: ${err instanceof Error ? err.message : String(err)}` };
  }
  // Always removed, whatever happened (also after a failed create, whose request may have committed).
  try {
    await deletePod(namespace, name);
  } catch (err) {
    outcome = { ...outcome, message: `${outcome.message}; deleting probe pod ${name} failed: ${err instanceof Error ? err.message : String(err)} (delete it: kubectl -n ${namespace} delete pod ${name})` };
  }
  return outcome;

  async function watch(): Promise<ProbeOutcome> {
    await createPod(namespace, probePodManifest(namespace, input.serviceAccount, name, input.image));
    const deadline = input.clock.now() + input.timeoutMs;
    let run = await getPodRun(namespace, name);
    while (run !== null && run.phase !== 'Succeeded' && run.phase !== 'Failed') {
      if (input.signal?.aborted) return { ok: false, pod: name, arn: null, message: `probe pod ${name} interrupted` };
      if (input.clock.now() >= deadline) {
        return { ok: false, pod: name, arn: null, message: `probe pod ${name} did not finish within ${Math.round(input.timeoutMs / 1000)}s (phase ${run.phase}${run.waitingReason ? `, ${run.waitingReason}` : ''})` };
      }
      await input.clock.sleep(input.pollMs, input.signal);
      run = await getPodRun(namespace, name);
    }
    if (run === null) return { ok: false, pod: name, arn: null, message: `probe pod ${name} disappeared before it finished` };
    const log = await readPodLog(namespace, name);
    const parsed = parseCallerIdentity(log);
    if (run.phase === 'Failed' || parsed === null) {
      const text = log.trim().split('\n').filter((l) => l.trim() !== '').slice(-2).join(' ').slice(0, 400);
      return { ok: false, pod: name, arn: null, message: `probe pod ${name} ${run.phase === 'Failed' ? `failed${run.exitCode !== null ? ` (exit code ${run.exitCode})` : ''}` : 'printed no caller identity'}: ${text || '(empty log)'}` };
    }
    if (!isSessionOf(parsed.arn, input.expectedRoleArn)) {
      return { ok: false, pod: name, arn: parsed.arn, message: `probe pod ${name} obtained ${parsed.arn}, not a session of ${input.expectedRoleArn}` };
    }
    return { ok: true, pod: name, arn: parsed.arn, message: `probe pod ${name} obtained ${parsed.arn}` };
  }
}
