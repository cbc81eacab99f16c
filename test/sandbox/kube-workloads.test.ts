import { describe, expect, it } from 'vitest';
import type { ClusterState } from '../../src/sandbox/state.js';
import type { JsonObject } from '../../src/sandbox/world-types.js';
import { ACCOUNT, AGENT_ADDON, FakeClock, cluster, deployment, envOf, harness, items, serviceAccount, world, type Harness } from './kube-world.js';

const role = (n: string) => `arn:aws:iam::${ACCOUNT}:role/${n}`;
const meta = (o: JsonObject) => o.metadata as JsonObject;
const status = (o: JsonObject) => (o.status ?? {}) as JsonObject;
const assoc = (namespace: string, sa: string) => ({ namespace, serviceAccount: sa, roleArn: role(sa), targetRoleArn: null, disableSessionTags: false });

function pods(h: Harness, ns: string, selector: string): JsonObject[] {
  return items(h.call('GET', `/api/v1/namespaces/${ns}/pods`, { query: { labelSelector: selector } }).body);
}

function associate(h: Harness, c: ClusterState, ns: string, sa: string): void {
  c.associations.push(h.state.newAssociation(c, assoc(ns, sa), new Date(h.clock.now())));
}

const restart = (at: string) => ({ spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at } } } } });

describe('the Pod Identity webhook at pod creation (as upstream amazon-eks-pod-identity-webhook)', () => {
  const PI_ENV = {
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_REGION: 'us-east-1',
    AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.23/v1/credentials',
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token',
  };

  it('injects Pod Identity by association alone, agent or not, and it wins over IRSA', () => {
    for (const addons of [[AGENT_ADDON], []]) {
      const h = harness(world([cluster({
        addons,
        podIdentityAssociations: [assoc('shop', 'cart')],
        objects: [serviceAccount('shop', 'cart', role('cart')), deployment('shop', 'cart', 'cart', 2)],
      })]));
      const ps = pods(h, 'shop', 'app=cart');
      expect(ps).toHaveLength(2);
      for (const p of ps) {
        expect(envOf(p)).toEqual(PI_ENV);
        const volumes = (p.spec as JsonObject).volumes as JsonObject[];
        expect(volumes.map((v) => v.name)).toEqual(['eks-pod-identity-token']);
        expect(volumes[0]).toMatchObject({ projected: { sources: [{ serviceAccountToken: { audience: 'pods.eks.amazonaws.com', expirationSeconds: 86400, path: 'eks-pod-identity-token' } }] } });
        expect(status(p).phase).toBe('Running');
        expect(String((p.spec as JsonObject).nodeName)).toMatch(/^ip-10-0-1-\d+\.ec2\.internal$/);
        expect(meta(p).ownerReferences).toMatchObject([{ kind: 'ReplicaSet', controller: true }]);
      }
    }
  });

  it('injects IRSA for an annotated SA without an association; regional STS only when the SA asks', () => {
    const sa = serviceAccount('shop', 'cart', role('cart'));
    const regional = { ...sa, metadata: { name: 'regional', namespace: 'shop', annotations: { 'eks.amazonaws.com/role-arn': role('cart'), 'eks.amazonaws.com/sts-regional-endpoints': 'true', 'eks.amazonaws.com/token-expiration': '100' } } };
    const h = harness(world([cluster({
      addons: [AGENT_ADDON],
      objects: [deployment('shop', 'cart', 'cart', 1), sa, regional, deployment('shop', 'reg', 'regional', 1)],
    })]));
    const [p] = pods(h, 'shop', 'app=cart');
    expect(envOf(p as JsonObject)).toEqual({
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_REGION: 'us-east-1',
      AWS_ROLE_ARN: role('cart'),
      AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token',
    });
    expect(((p as JsonObject).spec as JsonObject).volumes).toMatchObject([{ name: 'aws-iam-token' }]);
    const [r] = pods(h, 'shop', 'app=reg');
    expect(envOf(r as JsonObject)).toMatchObject({ AWS_STS_REGIONAL_ENDPOINTS: 'regional', AWS_ROLE_ARN: role('cart') });
    // The token lifetime has upstream's floor of 600 seconds.
    expect(((r as JsonObject).spec as JsonObject).volumes).toMatchObject([{ projected: { sources: [{ serviceAccountToken: { expirationSeconds: 600 } }] } }]);
  });

  it('injects nothing without an OIDC issuer or annotation, and keeps variables the pod sets itself', () => {
    const h = harness(world([cluster({
      oidcIssuer: null,
      objects: [serviceAccount('shop', 'cart', role('cart')), deployment('shop', 'cart', 'cart', 1)],
    })]));
    expect(envOf(pods(h, 'shop', 'app=cart')[0] as JsonObject)).toEqual({});
    const h2 = harness(world([cluster({ objects: [serviceAccount('shop', 'cart', role('cart'))] })]));
    const created = h2.call('POST', '/api/v1/namespaces/shop/pods', {
      body: { metadata: { name: 'p' }, spec: { serviceAccountName: 'cart', containers: [{ name: 'c', image: 'x', env: [{ name: 'AWS_REGION', value: 'eu-west-1' }] }] } },
    });
    expect(created.status).toBe(201);
    // A container that sets one region variable gets neither from the webhook.
    expect(envOf(created.body)).toEqual({ AWS_REGION: 'eu-west-1', AWS_ROLE_ARN: role('cart'), AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token' });
  });

  it('refuses pods whose ServiceAccount does not exist, as the ServiceAccount admission plugin does', () => {
    const h = harness(world([cluster({ objects: [serviceAccount('shop', 'cart')] })]));
    const refused = h.call('POST', '/api/v1/namespaces/shop/pods', { body: { metadata: { name: 'p' }, spec: { serviceAccountName: 'ghost', containers: [{ name: 'c', image: 'x' }] } } });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({
      kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403,
      message: 'pods "p" is forbidden: error looking up service account shop/ghost: serviceaccount "ghost" not found',
      details: { name: 'p', kind: 'pods' },
    });
  });

  it('gives Fargate pods the Pod Identity env too (they cannot use it: no agent on Fargate), each on its own fargate node', () => {
    const h = harness(world([cluster({
      addons: [AGENT_ADDON],
      fargateProfiles: [{ name: 'fp-batch', selectors: [{ namespace: 'batch' }], podExecutionRoleArn: null }],
      podIdentityAssociations: [assoc('batch', 'worker')],
      objects: [serviceAccount('batch', 'worker', role('worker')), deployment('batch', 'worker', 'worker', 2), serviceAccount('batch', 'irsa', role('irsa')), deployment('batch', 'irsa', 'irsa', 1)],
    })]));
    const ps = pods(h, 'batch', 'app=worker');
    expect(ps).toHaveLength(2);
    const nodes = items(h.call('GET', '/api/v1/nodes', { query: { labelSelector: 'eks.amazonaws.com/compute-type=fargate' } }).body);
    expect(nodes).toHaveLength(3);
    for (const p of ps) {
      expect(envOf(p)).toEqual(PI_ENV);
      expect(String((p.spec as JsonObject).nodeName)).toMatch(/^fargate-ip-/);
    }
    expect(envOf(pods(h, 'batch', 'app=irsa')[0] as JsonObject).AWS_ROLE_ARN).toBe(role('irsa'));
    // Agent pods run on EC2 Linux nodes only, never on Fargate.
    expect(pods(h, 'kube-system', 'app.kubernetes.io/name=eks-pod-identity-agent')).toHaveLength(3);
    // The Fargate node goes with its pod, once the pod has terminated.
    const victim = ps[0] as JsonObject;
    const deleted = h.call('DELETE', `/api/v1/namespaces/batch/pods/${String(meta(victim).name)}`);
    expect(meta(deleted.body).deletionTimestamp).toBe('2025-01-01T00:00:30Z');
    h.clock.advance(30_000);
    const after = items(h.call('GET', '/api/v1/nodes', { query: { labelSelector: 'eks.amazonaws.com/compute-type=fargate' } }).body);
    expect(after).toHaveLength(3); // the replacement pod got a new node
    expect(after.map((n) => meta(n).name)).not.toContain((victim.spec as JsonObject).nodeName);
  });

  it('gives Windows pods the Windows token path', () => {
    const h = harness(world([cluster({
      addons: [AGENT_ADDON],
      nodegroups: [
        { name: 'ng-linux', nodeRole: role('node'), amiType: 'AL2023_x86_64_STANDARD', nodes: 2 },
        { name: 'ng-win', nodeRole: role('node'), amiType: 'WINDOWS_CORE_2022_x86_64', nodes: 1 },
      ],
      podIdentityAssociations: [assoc('shop', 'legacy')],
      objects: [
        serviceAccount('shop', 'legacy', role('legacy')),
        serviceAccount('shop', 'old', role('old')),
        { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'win', namespace: 'shop' }, spec: { serviceAccountName: 'legacy', nodeSelector: { 'kubernetes.io/os': 'windows' }, containers: [{ name: 'c', image: 'iis' }] } },
        { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'win-irsa', namespace: 'shop' }, spec: { serviceAccountName: 'old', nodeSelector: { 'beta.kubernetes.io/os': 'windows', 'kubernetes.io/os': 'windows' }, containers: [{ name: 'c', image: 'iis' }] } },
        { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'lin', namespace: 'shop' }, spec: { serviceAccountName: 'legacy', containers: [{ name: 'c', image: 'nginx' }] } },
      ],
    })]));
    const win = h.call('GET', '/api/v1/namespaces/shop/pods/win').body;
    expect(String((win.spec as JsonObject).nodeName)).toBe('ip-10-0-2-10.ec2.internal');
    expect(envOf(win)).toMatchObject({
      AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.23/v1/credentials',
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: 'C:\\var\\run\\secrets\\pods.eks.amazonaws.com\\serviceaccount\\eks-pod-identity-token',
    });
    expect(envOf(h.call('GET', '/api/v1/namespaces/shop/pods/win-irsa').body).AWS_WEB_IDENTITY_TOKEN_FILE).toBe('C:\\var\\run\\secrets\\eks.amazonaws.com\\serviceaccount\\token');
    expect(envOf(h.call('GET', '/api/v1/namespaces/shop/pods/lin').body)).toEqual(PI_ENV);
    const winNode = h.call('GET', '/api/v1/nodes/ip-10-0-2-10.ec2.internal').body;
    expect(meta(winNode).labels).toMatchObject({ 'kubernetes.io/os': 'windows', 'eks.amazonaws.com/nodegroup': 'ng-win', 'kubernetes.io/arch': 'amd64' });
    // The agent DaemonSet skips the Windows node.
    expect(pods(h, 'kube-system', 'app.kubernetes.io/name=eks-pod-identity-agent')).toHaveLength(2);
  });

  it('sets env only at creation: an association made later changes nothing until pods are replaced', () => {
    const h = harness(world([cluster({
      addons: [AGENT_ADDON],
      objects: [serviceAccount('shop', 'cart', role('cart')), deployment('shop', 'cart', 'cart', 2)],
    })], { associationPropagationMs: 5000 }));
    const c = h.state.clusters[0] as ClusterState;
    const before = pods(h, 'shop', 'app=cart');
    associate(h, c, 'shop', 'cart');
    const same = pods(h, 'shop', 'app=cart');
    expect(same.map((p) => meta(p).uid)).toEqual(before.map((p) => meta(p).uid));
    expect(same.every((p) => envOf(p).AWS_ROLE_ARN === role('cart'))).toBe(true);
    const live = () => pods(h, 'shop', 'app=cart').filter((p) => meta(p).deletionTimestamp === undefined);
    // Before the association propagates, a restart still gets IRSA.
    h.call('PATCH', '/apis/apps/v1/namespaces/shop/deployments/cart', { contentType: 'application/strategic-merge-patch+json', body: restart('t1') });
    expect(live().every((p) => envOf(p).AWS_ROLE_ARN === role('cart'))).toBe(true);
    h.clock.advance(5000);
    h.call('PATCH', '/apis/apps/v1/namespaces/shop/deployments/cart', { contentType: 'application/strategic-merge-patch+json', body: restart('t2') });
    const after = live();
    expect(after).toHaveLength(2);
    expect(after.every((p) => envOf(p).AWS_CONTAINER_CREDENTIALS_FULL_URI === 'http://169.254.170.23/v1/credentials' && envOf(p).AWS_ROLE_ARN === undefined)).toBe(true);
  });
});

describe('rollouts', () => {
  const DELAY = 10_000;
  function rolloutHarness(): { h: Harness; c: ClusterState } {
    const h = harness(world([cluster({
      addons: [AGENT_ADDON],
      nodegroups: [
        { name: 'ng-linux', nodeRole: role('node'), amiType: 'AL2023_x86_64_STANDARD', nodes: 3 },
        { name: 'ng-win', nodeRole: role('node'), amiType: 'WINDOWS_FULL_2022_x86_64', nodes: 1 },
      ],
      objects: [
        serviceAccount('shop', 'cart', role('cart')),
        deployment('shop', 'cart', 'cart', 2),
        {
          apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'shop' },
          spec: { replicas: 2, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: { serviceAccountName: 'cart', containers: [{ name: 'db', image: 'pg' }] } } },
        },
        {
          apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'logs', namespace: 'shop' },
          spec: { selector: { matchLabels: { app: 'logs' } }, template: { metadata: { labels: { app: 'logs' } }, spec: { serviceAccountName: 'cart', containers: [{ name: 'fluent', image: 'fluent-bit' }] } } },
        },
      ],
    })], { rolloutDelayMs: DELAY }), new FakeClock());
    return { h, c: h.state.clusters[0] as ClusterState };
  }

  it('starts settled: workloads ready and fully observed', () => {
    const { h } = rolloutHarness();
    const d = h.call('GET', '/apis/apps/v1/namespaces/shop/deployments/cart').body;
    expect(status(d)).toMatchObject({ observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 });
    const ds = h.call('GET', '/apis/apps/v1/namespaces/shop/daemonsets/logs').body;
    expect(status(ds)).toMatchObject({ desiredNumberScheduled: 3, numberReady: 3, updatedNumberScheduled: 3, observedGeneration: 1 });
    const sts = h.call('GET', '/apis/apps/v1/namespaces/shop/statefulsets/db').body;
    expect(status(sts)).toMatchObject({ replicas: 2, readyReplicas: 2, updatedReplicas: 2, observedGeneration: 1 });
    expect(status(sts).currentRevision).toBe(status(sts).updateRevision);
    expect(pods(h, 'shop', 'app=db').map((p) => meta(p).name)).toEqual(['db-0', 'db-1']);
  });

  it('rolls a Deployment within maxSurge/maxUnavailable; old pods pass through Terminating', () => {
    const { h, c } = rolloutHarness();
    const path = '/apis/apps/v1/namespaces/shop/deployments/cart';
    const old = pods(h, 'shop', 'app=cart');
    associate(h, c, 'shop', 'cart');
    const patched = h.call('PATCH', path, { contentType: 'application/strategic-merge-patch+json', body: restart('2025-01-01T00:00:00Z') });
    expect(meta(patched.body).generation).toBe(2);
    const isNew = (p: JsonObject) => !old.some((o) => meta(o).uid === meta(p).uid);
    const terminating = (p: JsonObject) => meta(p).deletionTimestamp !== undefined;

    // Defaults for 2 replicas: maxSurge 25% -> 1 (rounded up), maxUnavailable 25% -> 0 (rounded down).
    let d = h.call('GET', path).body;
    expect(status(d)).toMatchObject({ observedGeneration: 2, replicas: 3, updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2 });
    expect((meta(d).annotations as JsonObject)['deployment.kubernetes.io/revision']).toBe('2');
    let now = pods(h, 'shop', 'app=cart');
    expect(now).toHaveLength(3);
    const first = now.filter(isNew);
    expect(first).toHaveLength(1);
    expect(status(first[0] as JsonObject).phase).toBe('Pending');
    expect(envOf(first[0] as JsonObject).AWS_CONTAINER_CREDENTIALS_FULL_URI).toBeDefined();

    h.clock.advance(DELAY);
    d = h.call('GET', path).body;
    expect(status(d)).toMatchObject({ observedGeneration: 2, replicas: 3, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 });
    now = pods(h, 'shop', 'app=cart');
    expect(now.filter((p) => !isNew(p) && terminating(p))).toHaveLength(1);
    expect(now.filter(isNew)).toHaveLength(2);

    h.clock.advance(DELAY);
    d = h.call('GET', path).body;
    expect(status(d)).toMatchObject({ observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 });
    expect((status(d).conditions as JsonObject[]).map((x) => [x.type, x.status, x.reason])).toEqual([
      ['Available', 'True', 'MinimumReplicasAvailable'],
      ['Progressing', 'True', 'NewReplicaSetAvailable'],
    ]);
    now = pods(h, 'shop', 'app=cart');
    expect(now.filter((p) => !isNew(p)).every(terminating)).toBe(true);
    // Old pods are gone once their grace period (30 s) has passed.
    h.clock.advance(30_000);
    const after = pods(h, 'shop', 'app=cart');
    expect(after).toHaveLength(2);
    expect(after.every((p) => isNew(p) && status(p).phase === 'Running')).toBe(true);
    const rses = items(h.call('GET', '/apis/apps/v1/namespaces/shop/replicasets').body);
    expect(rses.map((r) => (r.spec as JsonObject).replicas).sort()).toEqual([0, 2]);
    expect(rses.map((r) => (meta(r).annotations as JsonObject)['deployment.kubernetes.io/revision']).sort()).toEqual(['1', '2']);
  });

  it('rolls a StatefulSet from the highest ordinal, one at a time: same names, new uids', () => {
    const { h, c } = rolloutHarness();
    const path = '/apis/apps/v1/namespaces/shop/statefulsets/db';
    const old = pods(h, 'shop', 'app=db');
    const rev0 = status(h.call('GET', path).body).currentRevision;
    associate(h, c, 'shop', 'cart');
    h.call('PATCH', path, { contentType: 'application/merge-patch+json', body: restart('x') });
    const mid = status(h.call('GET', path).body);
    expect(mid).toMatchObject({ observedGeneration: 2, currentRevision: rev0, replicas: 1 });
    expect(mid.updatedReplicas ?? 0).toBe(0);
    expect(mid.updateRevision).not.toBe(rev0);
    // db-1 terminates first; db-0 is untouched.
    const byName = () => Object.fromEntries(pods(h, 'shop', 'app=db').map((p) => [String(meta(p).name), p]));
    expect(meta(byName()['db-1'] as JsonObject).deletionTimestamp).toBeDefined();
    expect(meta(byName()['db-0'] as JsonObject).uid).toBe(meta(old[0] as JsonObject).uid);
    h.clock.advance(30_000); // db-1's grace period: it is re-created on the new revision
    expect(meta(byName()['db-1'] as JsonObject).uid).not.toBe(meta(old[1] as JsonObject).uid);
    expect(status(h.call('GET', path).body)).toMatchObject({ updatedReplicas: 1, currentRevision: rev0 });
    h.clock.advance(DELAY); // db-1 ready: db-0 goes next
    expect(meta(byName()['db-0'] as JsonObject).deletionTimestamp).toBeDefined();
    h.clock.advance(30_000);
    h.call('GET', path); // the controllers act when asked: db-0 is re-created now
    h.clock.advance(DELAY);
    const done = status(h.call('GET', path).body);
    expect(done).toMatchObject({ observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 2, currentRevision: mid.updateRevision });
    const now = pods(h, 'shop', 'app=db');
    expect(now.map((p) => meta(p).name)).toEqual(['db-0', 'db-1']);
    expect(now.every((p, i) => meta(p).uid !== meta(old[i] as JsonObject).uid)).toBe(true);
    expect(now.every((p) => envOf(p).AWS_CONTAINER_CREDENTIALS_FULL_URI !== undefined)).toBe(true);
  });

  it('rolls a DaemonSet on Linux nodes only, maxUnavailable (1) node at a time', () => {
    const { h } = rolloutHarness();
    const path = '/apis/apps/v1/namespaces/shop/daemonsets/logs';
    const old = pods(h, 'shop', 'app=logs');
    expect(old).toHaveLength(3);
    expect(old.every((p) => String((p.spec as JsonObject).nodeName).startsWith('ip-10-0-1-'))).toBe(true);
    const live = () => pods(h, 'shop', 'app=logs').filter((p) => meta(p).deletionTimestamp === undefined);
    h.call('PATCH', path, { contentType: 'application/merge-patch+json', body: restart('x') });
    expect(status(h.call('GET', path).body)).toMatchObject({ observedGeneration: 2, desiredNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 1, numberUnavailable: 1 });
    for (let step = 2; step <= 3; step++) {
      h.clock.advance(DELAY);
      expect(status(h.call('GET', path).body)).toMatchObject({ updatedNumberScheduled: step, numberReady: 2 });
    }
    h.clock.advance(DELAY);
    expect(status(h.call('GET', path).body)).toMatchObject({ observedGeneration: 2, updatedNumberScheduled: 3, numberReady: 3, numberAvailable: 3 });
    const now = live();
    expect(now).toHaveLength(3);
    expect(now.some((p) => old.some((o) => meta(o).uid === meta(p).uid))).toBe(false);
  });
});

describe('jobs and nodes', () => {
  it('runs Jobs, keeps finished Jobs\' pods Succeeded, and refuses template changes', () => {
    const job = (name: string, extra: JsonObject = {}) => ({
      apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: 'batch' },
      spec: { parallelism: 2, completions: 4, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'j', image: 'job' }] } } },
      ...extra,
    });
    const h = harness(world([cluster({
      objects: [
        job('running'),
        job('finished', { status: { succeeded: 4 } }),
        { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'nightly', namespace: 'batch' }, spec: { schedule: '0 0 * * *', jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: 'x' }] } } } } } },
      ],
    })]));
    expect(pods(h, 'batch', 'job-name=running').map((p) => status(p).phase)).toEqual(['Running', 'Running']);
    const finished = pods(h, 'batch', 'job-name=finished');
    expect(finished).toHaveLength(4);
    expect(finished.every((p) => status(p).phase === 'Succeeded')).toBe(true);
    expect(status(h.call('GET', '/apis/batch/v1/namespaces/batch/jobs/running').body)).toMatchObject({ active: 2 });
    const patch = h.call('PATCH', '/apis/batch/v1/namespaces/batch/jobs/running', { contentType: 'application/merge-patch+json', body: restart('x') });
    expect(patch.status).toBe(422);
    expect(items(h.call('GET', '/apis/batch/v1/cronjobs').body)).toHaveLength(1);
    expect(pods(h, 'batch', '').filter((p) => String(meta(p).name).startsWith('nightly'))).toEqual([]);
  });

  it('registers node group nodes with EKS labels, and Auto Mode nodes when there are no groups', () => {
    const h = harness(world([cluster({ nodegroups: [{ name: 'ng-arm', nodeRole: role('node'), amiType: 'AL2023_ARM_64_STANDARD', nodes: 2 }] })]));
    const nodes = items(h.call('GET', '/api/v1/nodes').body);
    expect(nodes.map((n) => meta(n).name)).toEqual(['ip-10-0-1-10.ec2.internal', 'ip-10-0-1-11.ec2.internal']);
    expect(meta(nodes[0] as JsonObject).labels).toMatchObject({
      'eks.amazonaws.com/nodegroup': 'ng-arm', 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'arm64', 'node.kubernetes.io/instance-type': 'm6g.large',
    });
    const auto = harness(world([cluster({ autoMode: true, nodegroups: [], region: 'eu-west-1', objects: [serviceAccount('shop', 'cart'), deployment('shop', 'cart', 'cart', 1)] })]));
    const autoNodes = items(auto.call('GET', '/api/v1/nodes').body);
    expect(autoNodes).toHaveLength(2);
    expect(autoNodes.every((n) => (meta(n).labels as JsonObject)['eks.amazonaws.com/compute-type'] === 'auto')).toBe(true);
    // Auto Mode has the agent built in: no DaemonSet.
    expect(items(auto.call('GET', '/apis/apps/v1/daemonsets').body)).toEqual([]);
    expect(pods(auto, 'shop', 'app=cart')).toHaveLength(1);
  });
});

describe('the Pod Identity agent', () => {
  it('follows the add-on: created with hostNetwork on Linux nodes, ready after the delay, deleted with the add-on', () => {
    const h = harness(world([cluster()], { rolloutDelayMs: 3000 }));
    const c = h.state.clusters[0] as ClusterState;
    const path = '/apis/apps/v1/namespaces/kube-system/daemonsets/eks-pod-identity-agent';
    expect(h.call('GET', path).status).toBe(404);
    c.addons.set('eks-pod-identity-agent', { ...AGENT_ADDON, arn: 'arn:x', createdAt: new Date(), modifiedAt: new Date() });
    h.kube.syncAgent();
    const ds = h.call('GET', path).body;
    expect(meta(ds).labels).toMatchObject({ 'app.kubernetes.io/name': 'eks-pod-identity-agent' });
    expect((((ds.spec as JsonObject).template as JsonObject).spec as JsonObject).hostNetwork).toBe(true);
    expect(status(ds)).toMatchObject({ desiredNumberScheduled: 3 });
    expect(status(ds).numberReady).toBe(0);
    h.clock.advance(3000);
    expect(status(h.call('GET', path).body)).toMatchObject({ desiredNumberScheduled: 3, numberReady: 3, numberAvailable: 3, observedGeneration: 1 });
    const agentPods = pods(h, 'kube-system', 'app.kubernetes.io/name=eks-pod-identity-agent');
    expect(agentPods).toHaveLength(3);
    expect(agentPods.every((p) => status(p).podIP === status(p).hostIP)).toBe(true);
    c.addons.delete('eks-pod-identity-agent');
    h.kube.syncAgent();
    expect(h.call('GET', path).status).toBe(404);
    // The garbage collector deletes the agent pods gracefully: Terminating for 30 s, then gone.
    const leaving = pods(h, 'kube-system', 'app.kubernetes.io/name=eks-pod-identity-agent');
    expect(leaving).toHaveLength(3);
    expect(leaving.every((p) => meta(p).deletionTimestamp !== undefined)).toBe(true);
    h.clock.advance(30_000);
    expect(pods(h, 'kube-system', 'app.kubernetes.io/name=eks-pod-identity-agent')).toEqual([]);
  });
});
