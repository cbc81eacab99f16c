import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { execClusterRef, kubeconfigFromString, kubeconfigPaths, resolveTargets } from '../../src/adapters/kubeconfig.js';
import { UsageError } from '../../src/core/errors.js';

const PROD_ARN = 'arn:aws:eks:us-east-1:111122223333:cluster/prod';

/** A kubeconfig as `aws eks update-kubeconfig` writes it, plus an alias and a non-EKS context. */
function kubeconfig(current = PROD_ARN): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': current,
    clusters: [
      { name: PROD_ARN, cluster: { server: 'https://ABC.gr7.us-east-1.eks.amazonaws.com' } },
      { name: 'staging-cluster', cluster: { server: 'https://DEF.yl4.eu-west-1.eks.amazonaws.com' } },
      { name: 'iam-auth-cluster', cluster: { server: 'https://GHI.sk1.us-west-2.eks.amazonaws.com' } },
      { name: 'kind-local', cluster: { server: 'https://127.0.0.1:6443' } },
    ],
    users: [
      { name: PROD_ARN, user: { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: 'aws', args: ['--region', 'us-east-1', 'eks', 'get-token', '--cluster-name', 'prod', '--output', 'json'] } } },
      { name: 'staging-user', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: '/usr/local/bin/aws', args: ['eks', 'get-token', '--cluster-id=staging', '--region=eu-west-1'] } } },
      {
        name: 'iam-auth-user',
        user: { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: 'aws-iam-authenticator', args: ['token', '-i', 'legacy'], env: [{ name: 'AWS_REGION', value: 'us-west-2' }] } },
      },
      { name: 'kind-user', user: { token: 'abc' } },
    ],
    contexts: [
      { name: PROD_ARN, context: { cluster: PROD_ARN, user: PROD_ARN } },
      // `update-kubeconfig --alias prod`: the context is renamed, the cluster entry keeps the ARN.
      { name: 'prod-alias', context: { cluster: PROD_ARN, user: PROD_ARN } },
      { name: 'staging', context: { cluster: 'staging-cluster', user: 'staging-user' } },
      { name: 'legacy', context: { cluster: 'iam-auth-cluster', user: 'iam-auth-user' } },
      { name: 'kind', context: { cluster: 'kind-local', user: 'kind-user' } },
    ],
  });
}

async function targets(opts: Parameters<typeof resolveTargets>[1], current?: string) {
  return resolveTargets(await kubeconfigFromString(kubeconfig(current)), opts);
}

async function usageError(run: () => Promise<unknown>): Promise<UsageError> {
  const err = await run().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UsageError);
  return err as UsageError;
}

describe('resolveTargets', () => {
  it('defaults to the current context and reads the cluster from its ARN name', async () => {
    expect(await targets({})).toEqual([
      { context: PROD_ARN, server: 'https://ABC.gr7.us-east-1.eks.amazonaws.com', clusterName: 'prod', region: 'us-east-1', account: '111122223333', via: 'context-arn' },
    ]);
  });

  it('reads the ARN of the cluster entry when the context has an alias', async () => {
    expect(await targets({ contexts: ['prod-alias'] })).toEqual([expect.objectContaining({ context: 'prod-alias', clusterName: 'prod', region: 'us-east-1', via: 'cluster-arn' })]);
  });

  it.each([
    ['staging', { clusterName: 'staging', region: 'eu-west-1', via: 'exec-args' }],
    ['legacy', { clusterName: 'legacy', region: 'us-west-2', via: 'exec-args' }],
  ])('reads exec args of context %s', async (context, expected) => {
    expect(await targets({ contexts: [context] })).toEqual([expect.objectContaining({ context, account: null, ...expected })]);
  });

  it('--cluster/--region override for one context', async () => {
    expect(await targets({ contexts: ['kind'], cluster: 'dev', region: 'ap-south-1' })).toEqual([
      expect.objectContaining({ context: 'kind', server: 'https://127.0.0.1:6443', clusterName: 'dev', region: 'ap-south-1', via: 'flags' }),
    ]);
    expect(await targets({ contexts: ['staging'], region: 'eu-central-1' })).toEqual([expect.objectContaining({ clusterName: 'staging', region: 'eu-central-1' })]);
  });

  it('--cluster with several contexts is refused', async () => {
    const err = await usageError(() => targets({ contexts: [PROD_ARN, 'staging'], cluster: 'x', region: 'us-east-1' }));
    expect(err.code).toBe('TARGET_FLAGS_CONFLICT');
  });

  it('--region with several contexts only fills in missing regions', async () => {
    const result = await targets({ contexts: [PROD_ARN, 'staging'], region: 'ap-south-1' });
    expect(result.map((t) => t.region)).toEqual(['us-east-1', 'eu-west-1']);
  });

  it('an unknown context lists the available ones', async () => {
    const err = await usageError(() => targets({ contexts: ['nope'] }));
    expect(err.code).toBe('CONTEXT_UNKNOWN');
    expect(err.message).toContain('"nope"');
    expect(err.hint).toContain('staging');
    expect(err.hint).toContain(PROD_ARN);
  });

  it('a context whose cluster cannot be found says how to fix it', async () => {
    const err = await usageError(() => targets({ contexts: ['kind'] }));
    expect(err.code).toBe('CONTEXT_CLUSTER_UNKNOWN');
    expect(err.hint).toContain('--cluster NAME --region REGION');
    // --all-contexts includes it, so it fails the same way rather than silently skipping a cluster.
    expect((await usageError(() => targets({ allContexts: true }))).code).toBe('CONTEXT_CLUSTER_UNKNOWN');
  });

  it('--all-contexts and --context together are refused', async () => {
    expect((await usageError(() => targets({ allContexts: true, contexts: ['staging'] }))).code).toBe('TARGET_FLAGS_CONFLICT');
  });

  it('deduplicates a repeated --context', async () => {
    expect(await targets({ contexts: ['staging', 'staging'] })).toHaveLength(1);
  });

  it('no current context asks for --context', async () => {
    const err = await usageError(() => targets({}, ''));
    expect(err.code).toBe('CONTEXT_NONE');
  });
});

describe('execClusterRef', () => {
  it.each([
    [{ command: 'aws', args: ['eks', 'get-token', '--cluster-name', 'a', '--region', 'r-1'] }, { tool: 'aws eks get-token', cluster: 'a', region: 'r-1' }],
    [{ command: 'aws.exe', args: ['eks', 'get-token', '--cluster-id', 'b'], env: [{ name: 'AWS_DEFAULT_REGION', value: 'r-2' }] }, { tool: 'aws eks get-token', cluster: 'b', region: 'r-2' }],
    [{ command: 'aws-iam-authenticator', args: ['token', '--cluster-id', 'c'] }, { tool: 'aws-iam-authenticator', cluster: 'c', region: undefined }],
    [{ command: 'aws', args: ['sts', 'get-caller-identity'] }, undefined],
    [{ command: 'gke-gcloud-auth-plugin' }, undefined],
    [undefined, undefined],
  ])('%j', (exec, expected) => {
    expect(execClusterRef(exec)).toEqual(expected);
  });
});

describe('kubeconfigPaths', () => {
  it('prefers --kubeconfig, then KUBECONFIG (a path list), then ~/.kube/config', () => {
    expect(kubeconfigPaths('/x', { KUBECONFIG: '/a' }, '/home/u')).toEqual(['/x']);
    expect(kubeconfigPaths(undefined, { KUBECONFIG: '/a:/b:' }, '/home/u')).toEqual(['/a', '/b']);
    expect(kubeconfigPaths(undefined, {}, '/home/u')).toEqual(['/home/u/.kube/config']);
  });
});

describe('loadKubeconfig', () => {
  it('merges KUBECONFIG files the kubectl way (first definition and first current-context win)', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join, delimiter } = await import('node:path');
    const { loadKubeconfig } = await import('../../src/adapters/kubeconfig.js');
    const dir = mkdtempSync(join(tmpdir(), 'podid-kc-'));
    const file = (name: string, server: string, current: string) => {
      const path = join(dir, name);
      writeFileSync(path, stringify({ apiVersion: 'v1', kind: 'Config', 'current-context': current, clusters: [{ name: 'c', cluster: { server } }, { name: `only-${name}`, cluster: { server } }], users: [{ name: 'u', user: { token: 't' } }], contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }] }));
      return path;
    };
    const a = file('a', 'https://first', 'c');
    const b = file('b', 'https://second', 'other');
    const kc = await loadKubeconfig(undefined, { KUBECONFIG: [a, join(dir, 'missing'), b].join(delimiter) }, dir);
    expect(kc.getCurrentContext()).toBe('c');
    expect(kc.getCluster('c')?.server).toBe('https://first');
    expect(kc.getClusters().map((c) => c.name).sort()).toEqual(['c', 'only-a', 'only-b']);
    const err = await loadKubeconfig(join(dir, 'nope'), {}, dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).code).toBe('KUBECONFIG_NOT_FOUND');
  });

  it('refuses clusters, users or contexts that are not a list (kubectl does; client-node would read none): one line naming the file and the field', async () => {
    const { loadKubeconfig } = await import('../../src/adapters/kubeconfig.js');
    const dir = mkdtempSync(join(tmpdir(), 'podid-kc-'));
    for (const [field, value, found] of [['clusters', 5, 'a number'], ['users', 'x', 'a string'], ['contexts', { a: 1 }, 'a mapping']] as const) {
      const path = join(dir, `${field}.yaml`);
      writeFileSync(path, stringify({ apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [], [field]: value }));
      const err = await loadKubeconfig(path, {}, dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).code).toBe('KUBECONFIG_INVALID');
      expect((err as UsageError).message).toBe(`cannot read kubeconfig ${path}: ${field} must be a list, found ${found}`);
    }
  });
});

describe('loadKubeconfig reads files as @kubernetes/client-node does', () => {
  const files: [string, string][] = [
    ['an EKS kubeconfig with exec users', kubeconfig()],
    [
      'relative certificate paths, a trailing slash, inline data, impersonation, basic auth',
      stringify({
        'current-context': 'a',
        clusters: [{ name: 'a', cluster: { server: 'https://a.example/', 'certificate-authority': 'certs/ca.crt', 'tls-server-name': 'kube', 'insecure-skip-tls-verify': true } }, { name: 'b', cluster: { server: 'https://b', 'certificate-authority-data': 'Q0E=', 'proxy-url': 'socks5://p:1080' } }],
        users: [{ name: 'u', user: { 'client-certificate': 'certs/c.crt', 'client-key': '/abs/c.key', as: 'bob', username: 'ada', password: 'pw' } }, { name: 'v' }, { name: 'w', user: { 'auth-provider': { name: 'oidc', config: { 'id-token': 'x' } } } }],
        contexts: [{ name: 'a', context: { cluster: 'a', user: 'u', namespace: 'ns' } }, { name: 'b', context: { cluster: 'b' } }],
      }),
    ],
    ['merge keys', 'clusters:\n- name: a\n  cluster: &c { server: "https://a" }\n- name: b\n  cluster:\n    <<: *c\n    tls-server-name: b\ncontexts: []\nusers: []\n'],
    ['a cluster without a server', stringify({ clusters: [{ name: 'a', cluster: {} }], contexts: [], users: [] })],
    ['a context without a cluster', stringify({ clusters: [], contexts: [{ name: 'a', context: { user: 'u' } }], users: [] })],
    ['a user without a name', stringify({ clusters: [], contexts: [], users: [{ user: { token: 't' } }] })],
    ['unparseable YAML', 'clusters: [\n  - {'],
    ['a custom tag', 'clusters: !custom []\ncontexts: []\nusers: []\n'],
  ];

  it.each(files)('%s', async (_name, text) => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { loadKubeconfig } = await import('../../src/adapters/kubeconfig.js');
    const { KubeConfig } = await import('@kubernetes/client-node');
    const dir = mkdtempSync(join(tmpdir(), 'podid-kc-'));
    const path = join(dir, 'config');
    writeFileSync(path, text);
    const theirs = (() => {
      try {
        const kc = new KubeConfig();
        kc.loadFromFile(path);
        return { clusters: kc.clusters, users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext || '' };
      } catch (err) {
        return `cannot read kubeconfig ${path}: ${(err as Error).message.split('\n')[0]!.trim()}`;
      }
    })();
    const ours = await loadKubeconfig(path, {}, dir).then(
      (kc) => ({ clusters: kc.clusters, users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext }),
      (err: unknown) => (err as UsageError).message,
    );
    expect(ours).toEqual(theirs);
  });
});
