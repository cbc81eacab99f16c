/**
 * `podid migrate --dry-run --cross-account-source-role`: a service account whose IRSA role is in
 * another account moves to Pod Identity by role chaining. The association names a same-account
 * source role (whose trust podid edits) and targets the other account's role. The scan must
 * read the source role for the planner to judge it. Then `--apply` of such plans: the blocked
 * SA untouched, the chained association created and the SA left `needs-restart` with the real
 * externalId to put in the target's trust, and a plan edited to name the other account's role
 * directly refused. The built CLI in-process (helpers/podid.ts) against the sandbox on a small
 * world, over HTTP.
 *
 * AWS: "The EKS Pod Identity role must be in your EKS cluster's account due to IAM PassRole
 * requirements, while the Target IAM Role can be in any AWS account" (EKS user guide, "Access AWS
 * Resources using EKS Pod Identity Target IAM Roles", pod-id-assign-target-role.html; the
 * targetRoleArn and externalId of CreatePodIdentityAssociation, EKS API reference, 2025-06-11).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreateAssociationStep, MigrationPlan, UpdateTrustStep } from '../../src/core/plan/model.js';
import { clearSandboxCalls, sandboxCalls, type SandboxEndpoint } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';
import { sandboxServer } from '../helpers/sandbox.js';
import { journalDir, podIdentity, result, state } from './apply-helpers.js';

const ACCOUNT = '111122223333';
const ISSUER = 'oidc.eks.us-east-1.amazonaws.com/id/C0FFEE0000000000000000000000C0DE';
const PROD = `arn:aws:eks:us-east-1:${ACCOUNT}:cluster/prod`;
const SOURCE = `arn:aws:iam::${ACCOUNT}:role/exporter-source`;
const TARGET = 'arn:aws:iam::444455556666:role/data-lake-writer';
const READER = `arn:aws:iam::${ACCOUNT}:role/reader`;
const EXTERNAL_ID = `<externalId of the pod identity association data/exporter on cluster prod (us-east-1, account ${ACCOUNT}), known once it is created>`;
const irsaTrust = (sub: string) => ({
  Version: '2012-10-17',
  Statement: [{
    Effect: 'Allow',
    Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER}` },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: { StringEquals: { [`${ISSUER}:sub`]: sub, [`${ISSUER}:aud`]: 'sts.amazonaws.com' } },
  }],
});

const podIdentityOnly = (namespace: string, serviceAccount: string) => ({
  Version: '2012-10-17',
  Statement: [{
    Effect: 'Allow',
    Principal: { Service: 'pods.eks.amazonaws.com' },
    Action: ['sts:AssumeRole', 'sts:TagSession'],
    Condition: {
      StringEquals: {
        'aws:SourceAccount': ACCOUNT,
        'aws:RequestTag/eks-cluster-arn': PROD,
        'aws:RequestTag/kubernetes-namespace': namespace,
        'aws:RequestTag/kubernetes-service-account': serviceAccount,
      },
    },
  }],
});

const WORLD = {
  account: ACCOUNT,
  region: 'us-east-1',
  partition: 'aws',
  latencyMs: 0,
  clusters: [{
    name: 'prod',
    version: '1.30',
    platformVersion: 'eks.9',
    oidcIssuer: `https://${ISSUER}`,
    addons: [{ name: 'eks-pod-identity-agent', version: 'v1.3.4-eksbuild.1' }],
    nodegroups: [{ name: 'ng', nodeRole: `arn:aws:iam::${ACCOUNT}:role/prod-node`, amiType: 'AL2023_x86_64_STANDARD', nodes: 2 }],
    objects: [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'exporter', namespace: 'data', annotations: { 'eks.amazonaws.com/role-arn': TARGET } } },
      // An ordinary IRSA service account: its role must never serve as a cross-account source.
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader', namespace: 'reports', annotations: { 'eks.amazonaws.com/role-arn': READER } } },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'exporter', namespace: 'data' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'exporter' } },
          template: { metadata: { labels: { app: 'exporter' } }, spec: { serviceAccountName: 'exporter', containers: [{ name: 'app', image: 'example/exporter:0.9.1' }] } },
        },
      },
    ],
  }],
  iam: {
    openIdConnectProviders: [{ url: `https://${ISSUER}`, clientIds: ['sts.amazonaws.com'] }],
    roles: [
      {
        name: 'prod-node',
        assumeRolePolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
        attachedPolicies: ['arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy'],
      },
      // The same-account hop, as the EKS user guide makes it: only pods.eks.amazonaws.com may
      // assume it (here for another chained service account); podid adds the exporter.
      { name: 'exporter-source', assumeRolePolicyDocument: podIdentityOnly('archive', 'uploader') },
      // A source role an OIDC provider may also assume: whoever holds its credentials could chain.
      { name: 'open-source', assumeRolePolicyDocument: { Version: '2012-10-17', Statement: [...podIdentityOnly('archive', 'uploader').Statement, ...irsaTrust('system:serviceaccount:batch:loader').Statement] } },
      { name: 'reader', assumeRolePolicyDocument: irsaTrust('system:serviceaccount:reports:reader') },
      // The other account's role (not readable as the caller).
      { name: 'data-lake-writer', account: '444455556666', assumeRolePolicyDocument: irsaTrust('system:serviceaccount:data:exporter') },
    ],
  },
};

let sb: SandboxEndpoint;

beforeAll(async () => {
  sb = await sandboxServer(WORLD);
});
afterAll(async () => {
  await sb?.stop();
});

async function plan(...args: string[]): Promise<MigrationPlan> {
  const r = await podid(['migrate', '--dry-run', '--all-contexts', ...args, '-o', 'json'], { env: sb.clientEnv });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as MigrationPlan;
}

const blockedCodes = (p: MigrationPlan) =>
  p.blocked.filter((b) => b.target.kind === 'service-account' && b.target.namespace === 'data' && b.target.name === 'exporter').flatMap((b) => b.reasons.map((r) => r.code));

describe('migrate --dry-run with a cross-account role', () => {
  it('without --cross-account-source-role: blocked, CROSS_ACCOUNT_SOURCE_ROLE_REQUIRED', async () => {
    const p = await plan();
    expect(blockedCodes(p)).toContain('CROSS_ACCOUNT_SOURCE_ROLE_REQUIRED');
    expect(p.steps.filter((s) => s.kind === 'create-association' && s.namespace === 'data')).toEqual([]);
  });

  it('with --cross-account-source-role: chains through the source role and updates its trust', async () => {
    const p = await plan('--cross-account-source-role', SOURCE);
    expect(p.blocked).toEqual([]);
    expect(p.options.crossAccountSourceRole).toBe(SOURCE);

    const assoc = p.steps.find((s): s is CreateAssociationStep => s.kind === 'create-association');
    expect(assoc).toMatchObject({ cluster: PROD, namespace: 'data', serviceAccount: 'exporter', roleArn: SOURCE, targetRoleArn: TARGET, annotationRoleArn: TARGET });
    expect(assoc!.crossAccount).not.toBeNull();
    // What the other account must do, for review: the target trusts the source, only with this
    // association's externalId; the source may assume the target.
    expect(assoc!.crossAccount!.targetTrustStatement).toEqual({
      Sid: 'PodidRoleChainingSource',
      Effect: 'Allow',
      Principal: { AWS: SOURCE },
      Action: ['sts:AssumeRole', 'sts:TagSession'],
      Condition: { StringEquals: { 'sts:ExternalId': EXTERNAL_ID } },
    });
    expect(assoc!.crossAccount!.externalIdPlaceholder).toBe(EXTERNAL_ID);
    expect(JSON.stringify(assoc!.crossAccount!.sourcePermissionStatement)).toContain(TARGET);

    const trust = p.steps.filter((s): s is UpdateTrustStep => s.kind === 'update-trust' && s.roleArn === SOURCE);
    expect(trust).toHaveLength(1);
    expect(trust[0]!.clusters).toEqual([PROD]);
    // The source role admits exactly the exporter, beside the service account it already served.
    expect(trust[0]).toMatchObject({ basis: 'cross-account-source', subjects: [{ cluster: PROD, namespace: 'data', serviceAccount: 'exporter' }], added: [1] });
    expect((trust[0]!.after['Statement'] as unknown[])[0]).toEqual((trust[0]!.before['Statement'] as unknown[])[0]);
    expect(assoc!.dependsOn).toContain(trust[0]!.id);
    expect(assoc!.phases).toBe('two-phase');
    // The exporter is not restarted by podid: the target trust must be applied by hand first.
    const restarted = p.steps.flatMap((s) => (s.kind === 'restart-batch' ? s.workloads.map((w) => `${w.namespace}/${w.name}`) : []));
    expect(restarted).not.toContain('data/exporter');
    const manual = p.manual.find((m) => m.namespace === 'data' && m.name === 'exporter');
    expect(manual).toMatchObject({ kind: 'Deployment', serviceAccount: 'exporter' });
    expect(manual!.advice).toContain('externalId');
    expect(manual!.advice).toContain('kubectl -n data rollout restart deployment/exporter');
  });

  it('the review tells how to fill in the externalId, and the Terraform references the association\'s external_id', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'podid-xacct-'));
    const tf = join(dir, 'plan.tf');
    const r = await podid(['migrate', '--dry-run', '--all-contexts', '--cross-account-source-role', SOURCE, '--emit', 'terraform', tf, '--no-color'], { env: sb.clientEnv });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`"sts:ExternalId": "${EXTERNAL_ID}"`);
    expect(r.stdout).toContain('aws eks list-pod-identity-associations --cluster-name prod --region us-east-1 --namespace data --service-account exporter');
    expect(r.stdout).toMatch(/\? deploy\/exporter in data on prod/);
    expect(r.stdout).toContain('two-phase: podid does not change account 444455556666');
    expect(r.stdout).toContain('every new pod of this service account (a scale-up, a rescheduled pod, the next rollout) gets no credentials until step 2 is done');
    const text = readFileSync(tf, 'utf8');
    expect(text).toContain('values   = [aws_eks_pod_identity_association.prod_data_exporter.external_id]');
    expect(text).toContain('version = ">= 6.2.0"');
  });

  it('refuses a source role that anything but pods.eks.amazonaws.com may assume (CROSS_ACCOUNT_SOURCE_ROLE_OPEN)', async () => {
    const p = await plan('--cross-account-source-role', `arn:aws:iam::${ACCOUNT}:role/open-source`);
    expect(blockedCodes(p)).toEqual(['CROSS_ACCOUNT_SOURCE_ROLE_OPEN']);
    expect(p.steps.filter((s) => s.kind === 'create-association' && s.namespace === 'data')).toEqual([]);
  });

  it('refuses a source role that a service account already uses (CROSS_ACCOUNT_SOURCE_ROLE_SHARED)', async () => {
    const p = await plan('--cross-account-source-role', READER);
    expect(blockedCodes(p)).toEqual(['CROSS_ACCOUNT_SOURCE_ROLE_SHARED']);
    const reason = p.blocked.flatMap((b) => b.reasons).find((r) => r.code === 'CROSS_ACCOUNT_SOURCE_ROLE_SHARED')!;
    expect(reason.message).toContain('service account reports/reader on prod (IRSA annotation)');
    expect(p.steps.filter((s): s is CreateAssociationStep => s.kind === 'create-association' && s.targetRoleArn !== null)).toEqual([]);
  });

  it('a source role that does not exist is read, and reported as missing (not "not read")', async () => {
    const p = await plan('--cross-account-source-role', `arn:aws:iam::${ACCOUNT}:role/no-such-role`);
    expect(blockedCodes(p)).toContain('CROSS_ACCOUNT_SOURCE_ROLE_UNUSABLE');
    const reason = p.blocked.flatMap((b) => b.reasons).find((r) => r.code === 'CROSS_ACCOUNT_SOURCE_ROLE_UNUSABLE')!;
    expect(reason.message).toContain('does not exist');
    expect(reason.message).not.toContain('did not read');
  });
});

describe('migrate --apply with a cross-account role', () => {
  let asb: SandboxEndpoint;
  const dir = journalDir();
  beforeAll(async () => {
    asb = await sandboxServer(WORLD);
  });
  afterAll(async () => {
    await asb?.stop();
  });
  const savePlan = async (name: string, ...args: string[]) => {
    const file = join(dir, name);
    const r = await podid(['migrate', '--dry-run', '--all-contexts', ...args, '--out', file], { env: asb.clientEnv });
    expect(r.code, r.stderr).toBe(0);
    return file;
  };
  const applyPlan = (file: string, ...args: string[]) => podid(['migrate', '--apply', '--yes', '--plan', file, '--propagation-wait', '0', '--journal-dir', dir, ...args], { env: asb.clientEnv, timeoutMs: 60_000 });
  const exporterAssociations = async () => (await state(asb)).clusters[0]!.podIdentityAssociations.filter((a) => a.namespace === 'data' && a.serviceAccount === 'exporter');

  it('a plan that blocked it (no --cross-account-source-role): applied, the SA untouched', async () => {
    const file = await savePlan('blocked.json');
    await clearSandboxCalls(asb);
    const r = await applyPlan(file, '-o', 'json');
    expect(r.code, r.stderr).toBe(0);
    expect(result(r).serviceAccounts.map((s) => `${s.namespace}/${s.serviceAccount}`)).toEqual(['reports/reader']);
    expect(result(r).blocked).toBe(1);
    expect(await exporterAssociations()).toEqual([]);
    const touched = (await sandboxCalls(asb)).filter((c) => c.mutating).map((c) => c.operation);
    expect(touched.sort()).toEqual(['CreatePodIdentityAssociation', 'UpdateAssumeRolePolicy']);
  });

  it('a plan edited to associate the other account\'s role directly is refused before any change', async () => {
    const file = await savePlan('chained.json', '--cross-account-source-role', SOURCE);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as MigrationPlan;
    const assoc = doc.steps.find((s): s is CreateAssociationStep => s.kind === 'create-association' && s.namespace === 'data')!;
    assoc.roleArn = TARGET;
    assoc.targetRoleArn = null;
    const edited = join(dir, 'edited.json');
    writeFileSync(edited, JSON.stringify(doc));
    await clearSandboxCalls(asb);
    const r = await applyPlan(edited);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^podid: .*data\/exporter.*(role|account)/m);
    expect((await sandboxCalls(asb)).filter((c) => c.mutating)).toEqual([]);
  });

  it('chains through the source role, leaves the workload alone, and names the real externalId the target must require', async () => {
    const file = join(dir, 'chained.json');
    await clearSandboxCalls(asb);
    const before = (await state(asb)).clusters[0]!.objects.filter((o) => o.kind === 'Pod' && o.metadata.namespace === 'data').map((p) => p.metadata.name);
    const r = await applyPlan(file, '-o', 'json');
    expect(r.code, r.stderr).toBe(0);
    const [assoc] = await exporterAssociations();
    expect(assoc).toMatchObject({ roleArn: SOURCE, targetRoleArn: TARGET });
    const externalId = (assoc as unknown as { externalId: string }).externalId;
    expect(externalId).toMatch(/^[0-9a-f-]{36}$/);
    const sa = result(r).serviceAccounts.find((s) => s.namespace === 'data')!;
    expect(sa.outcome).toBe('needs-restart');
    // The reason says what breaks meanwhile, and gives the value to write.
    expect(sa.reason).toContain(`sts:ExternalId ${externalId}`);
    expect(sa.reason).toContain('every new pod of this service account');
    expect(sa.reason).toContain(`admits ${SOURCE}`);
    // Nothing in the other account, no restart: one trust update (the source role) and the association.
    const mutating = (await sandboxCalls(asb)).filter((c) => c.mutating).map((c) => c.operation);
    expect(mutating.sort()).toEqual(['CreatePodIdentityAssociation', 'UpdateAssumeRolePolicy']);
    const s = await state(asb);
    const pods = s.clusters[0]!.objects.filter((o) => o.kind === 'Pod' && o.metadata.namespace === 'data');
    expect(pods.map((p) => p.metadata.name)).toEqual(before);
    expect(pods.map((p) => podIdentity(p))).toEqual(['irsa']);
    // The target role's trust is as it was: podid never writes another account.
    const target = s.iam.roles.find((x) => x.arn === TARGET)!;
    expect(target.assumeRolePolicyDocument).toEqual(irsaTrust('system:serviceaccount:data:exporter'));
    // The association's step names the target role it chains to: in the result and the line on stderr.
    const step = result(r).steps.find((x) => x.kind === 'create-association' && x.target.startsWith('data/exporter '))!;
    expect(step.message).toBe(`created association ${assoc!.associationId} data/exporter -> ${SOURCE} -> target role ${TARGET}`);
    expect(r.stderr).toContain(`+ create-association done  data/exporter on ${step.target.slice('data/exporter on '.length)}: created association ${assoc!.associationId} data/exporter -> ${SOURCE} -> target role ${TARGET}\n`);
    // Applied again: found in place, named with its target role, and not this run's to delete.
    const again = await applyPlan(file, '-o', 'json');
    expect(again.code, again.stderr).toBe(0);
    expect(result(again).steps.find((x) => x.kind === 'create-association' && x.target.startsWith('data/exporter '))).toMatchObject({
      status: 'already-done',
      message: `association ${assoc!.associationId} already names ${SOURCE} -> target role ${TARGET}; podid did not create it in this run, so rolling this run back (podid rollback) deletes it only if an earlier podid run journaled creating it`,
    });
  });
});
