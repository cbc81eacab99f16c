import { readFileSync } from 'node:fs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../../src/core/errors.js';
import { loadWorldFile, parseWorld, WorldError } from '../../src/sandbox/world.js';
import type { JsonObject, World } from '../../src/sandbox/world-types.js';

const FULL = join(import.meta.dirname, '../fixtures/worlds/full.yaml');
const PROD_OIDC = 'oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE';
const STAGING_OIDC = 'oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE5F2A9C1B7D3E8F04A6EXAMPLE';
const ROLE = (name: string, account = '111122223333') => `arn:aws:iam::${account}:role/${name}`;
const AWS_POLICY = (name: string) => `arn:aws:iam::aws:policy/${name}`;

/** The IRSA trust policy the fixture writes for most roles (sub and aud, StringEquals). */
function irsaTrust(issuer: string, sub: string): JsonObject {
  return {
    Version: '2012-10-17',
    Statement: [{
      Effect: 'Allow',
      Principal: { Federated: `arn:aws:iam::111122223333:oidc-provider/${issuer}` },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { [`${issuer}:sub`]: sub, [`${issuer}:aud`]: 'sts.amazonaws.com' } },
    }],
  };
}

function serviceTrust(service: string, actions: string | string[] = 'sts:AssumeRole'): JsonObject {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: actions }] };
}

function problem(text: string): WorldError {
  try {
    parseWorld(text, 'world.yaml');
  } catch (err) {
    if (err instanceof WorldError) return err;
    throw err;
  }
  throw new Error('expected the world to be rejected');
}

/** A valid world's head; tests append the part they are about. */
const HEAD = 'account: "111122223333"\nregion: us-east-1\n';
const PROD = `${HEAD}clusters:\n  - { name: prod, version: "1.29", platformVersion: eks.8 }\n`;

describe('the full fixture world', () => {
  const raw = parseYaml(readFileSync(FULL, 'utf8')) as { clusters: { objects: JsonObject[] }[] };

  it('loads every field of the contract into the expected World', async () => {
    const expected: World = {
      account: '111122223333',
      region: 'us-east-1',
      partition: 'aws',
      latencyMs: 1,
      rolloutDelayMs: 20,
      associationPropagationMs: 10,
      iamPropagationMs: 15,
      addonTransitionMs: 25,
      associationReuseDelayMs: 35,
      clusters: [
        {
          name: 'prod', account: '111122223333', region: 'us-east-1', version: '1.29', platformVersion: 'eks.8',
          oidcIssuer: `https://${PROD_OIDC}`, autoMode: false, status: 'ACTIVE',
          addons: [
            { name: 'eks-pod-identity-agent', version: 'v1.3.4-eksbuild.1', status: 'ACTIVE', serviceAccountRoleArn: null, podIdentityConfiguration: null },
            {
              name: 'vpc-cni', version: 'v1.18.3-eksbuild.1', status: 'ACTIVE', serviceAccountRoleArn: ROLE('vpc-cni-irsa'),
              podIdentityConfiguration: [{ serviceAccount: 'aws-node', recommendedManagedPolicies: [AWS_POLICY('AmazonEKS_CNI_Policy')] }],
            },
            {
              name: 'aws-ebs-csi-driver', version: 'v1.35.0-eksbuild.1', status: 'DEGRADED', serviceAccountRoleArn: ROLE('ebs-csi-irsa'),
              podIdentityConfiguration: [{ serviceAccount: 'ebs-csi-controller-sa', recommendedManagedPolicies: [AWS_POLICY('service-role/AmazonEBSCSIDriverPolicy')] }],
            },
          ],
          nodegroups: [
            { name: 'ng-linux', nodeRole: ROLE('eks-node'), amiType: 'AL2023_x86_64_STANDARD', nodes: 2 },
            { name: 'ng-windows', nodeRole: ROLE('eks-node'), amiType: 'WINDOWS_CORE_2022_x86_64', nodes: 1 },
          ],
          fargateProfiles: [
            { name: 'fp-batch', selectors: [{ namespace: 'batch', labels: { compute: 'fargate' } }], podExecutionRoleArn: ROLE('eks-fargate-pods') },
          ],
          podIdentityAssociations: [{
            namespace: 'shop', serviceAccount: 'orders', roleArn: ROLE('orders'), targetRoleArn: ROLE('orders-target', '444455556666'),
            disableSessionTags: true, associationId: 'a-0rders0example012', ownerArn: null,
          }],
          // Manifests are free-form: they pass through exactly as written.
          objects: raw.clusters[0]!.objects,
          stuckWorkloads: [], missingImages: [],
        },
        {
          name: 'staging', account: '111122223333', region: 'us-west-2', version: '1.30', platformVersion: 'eks.3',
          oidcIssuer: `https://${STAGING_OIDC}`, autoMode: true, status: 'ACTIVE',
          addons: [], nodegroups: [], fargateProfiles: [], podIdentityAssociations: [],
          objects: raw.clusters[1]!.objects,
          stuckWorkloads: [], missingImages: [],
        },
      ],
      iam: {
        trustPolicyLimit: 2048,
        roles: [
          {
            name: 'cart', path: '/', account: '111122223333', assumeRolePolicyDocument: irsaTrust(PROD_OIDC, 'system:serviceaccount:shop:cart'),
            attachedPolicies: [AWS_POLICY('AmazonS3ReadOnlyAccess')],
            inlinePolicies: {
              'cart-table': {
                Version: '2012-10-17',
                Statement: [{ Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: 'arn:aws:dynamodb:us-east-1:111122223333:table/cart' }],
              },
            },
            tags: { team: 'shop' },
          },
          {
            name: 'cart-staging', path: '/workloads/', account: '111122223333',
            // Given as a JSON string in the file, decoded here.
            assumeRolePolicyDocument: irsaTrust(STAGING_OIDC, 'system:serviceaccount:shop:cart'),
            attachedPolicies: [AWS_POLICY('AmazonS3ReadOnlyAccess')], inlinePolicies: {}, tags: { team: 'shop', env: 'staging' },
          },
          {
            name: 'orders', path: '/', account: '111122223333', assumeRolePolicyDocument: serviceTrust('pods.eks.amazonaws.com', ['sts:AssumeRole', 'sts:TagSession']),
            attachedPolicies: [], inlinePolicies: {}, tags: {},
          },
          {
            name: 'orders-target', path: '/', account: '444455556666',
            assumeRolePolicyDocument: {
              Version: '2012-10-17',
              Statement: [{ Effect: 'Allow', Principal: { AWS: ROLE('orders') }, Action: ['sts:AssumeRole', 'sts:TagSession'] }],
            },
            attachedPolicies: [], inlinePolicies: {}, tags: {},
          },
          {
            name: 'log-shipper', path: '/', account: '111122223333',
            assumeRolePolicyDocument: {
              Version: '2012-10-17',
              Statement: [{
                Effect: 'Allow', Principal: { Federated: `arn:aws:iam::111122223333:oidc-provider/${PROD_OIDC}` }, Action: 'sts:AssumeRoleWithWebIdentity',
                Condition: { StringLike: { [`${PROD_OIDC}:sub`]: 'system:serviceaccount:logging:*' }, StringEquals: { [`${PROD_OIDC}:aud`]: 'sts.amazonaws.com' } },
              }],
            },
            attachedPolicies: [], inlinePolicies: {}, tags: {},
          },
          {
            name: 'reporter', path: '/', account: '111122223333',
            assumeRolePolicyDocument: {
              Version: '2012-10-17',
              Statement: [{
                Effect: 'Allow', Principal: { Federated: `arn:aws:iam::111122223333:oidc-provider/${PROD_OIDC}` }, Action: 'sts:AssumeRoleWithWebIdentity',
                Condition: { StringEquals: { [`${PROD_OIDC}:sub`]: 'system:serviceaccount:batch:reporter' } },
              }],
            },
            attachedPolicies: [], inlinePolicies: {}, tags: {},
          },
          {
            name: 'ledger', path: '/', account: '111122223333', assumeRolePolicyDocument: irsaTrust(STAGING_OIDC, 'system:serviceaccount:finance:ledger'),
            attachedPolicies: [], inlinePolicies: {}, tags: {},
          },
          {
            name: 'vpc-cni-irsa', path: '/', account: '111122223333', assumeRolePolicyDocument: irsaTrust(PROD_OIDC, 'system:serviceaccount:kube-system:aws-node'),
            attachedPolicies: [AWS_POLICY('AmazonEKS_CNI_Policy')], inlinePolicies: {}, tags: {},
          },
          {
            name: 'ebs-csi-irsa', path: '/', account: '111122223333', assumeRolePolicyDocument: irsaTrust(PROD_OIDC, 'system:serviceaccount:kube-system:ebs-csi-controller-sa'),
            attachedPolicies: [AWS_POLICY('service-role/AmazonEBSCSIDriverPolicy')], inlinePolicies: {}, tags: {},
          },
          {
            name: 'eks-node', path: '/', account: '111122223333', assumeRolePolicyDocument: serviceTrust('ec2.amazonaws.com'),
            attachedPolicies: [
              AWS_POLICY('AmazonEKSWorkerNodePolicy'), AWS_POLICY('AmazonEKS_CNI_Policy'), AWS_POLICY('AmazonEC2ContainerRegistryReadOnly'),
              'arn:aws:iam::111122223333:policy/node-extra',
            ],
            inlinePolicies: {}, tags: {},
          },
          {
            name: 'eks-fargate-pods', path: '/', account: '111122223333', assumeRolePolicyDocument: serviceTrust('eks-fargate-pods.amazonaws.com'),
            attachedPolicies: [], inlinePolicies: {}, tags: {},
          },
        ],
        policies: [{
          arn: 'arn:aws:iam::111122223333:policy/node-extra',
          document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['ssm:GetParameter'], Resource: '*' }] },
        }],
        openIdConnectProviders: [
          { url: `https://${PROD_OIDC}`, clientIds: ['sts.amazonaws.com'], account: '111122223333' },
          { url: `https://${STAGING_OIDC}`, clientIds: ['sts.amazonaws.com'], account: '111122223333' },
        ],
      },
      caller: {
        arn: 'arn:aws:iam::111122223333:user/ci',
        allow: ['eks:*', 'iam:Get*', 'iam:List*', 'iam:UpdateAssumeRolePolicy', 'iam:TagRole', 'iam:PassRole', 'sts:GetCallerIdentity'],
      },
      faults: [{ target: 'iam:UpdateAssumeRolePolicy', error: 'throttle', after: 0, times: 1, when: 'before' }],
    };

    expect(await loadWorldFile(FULL)).toEqual(expected);
  });

  it('keeps the manifests it was given (names, namespaces, specs)', async () => {
    const world = await loadWorldFile(FULL);
    const names = world.clusters[1]!.objects.map((o) => `${String(o['kind'])}/${String((o['metadata'] as JsonObject)['name'])}`);
    expect(names).toEqual(['ServiceAccount/cart', 'Deployment/cart', 'ServiceAccount/ledger', 'StatefulSet/ledger']);
    expect(world.clusters[0]!.objects).toHaveLength(11);
  });

  it('reloads from JSON (a state dump) to the same World', async () => {
    const world = await loadWorldFile(FULL);
    expect(parseWorld(JSON.stringify(world), 'state.json')).toEqual(world);
  });
});

describe('defaults', () => {
  it('fills every default of a minimal world', () => {
    const world = parseWorld(`${HEAD}clusters:
  - name: prod
    version: "1.29"
    platformVersion: eks.8
    addons: [{ name: vpc-cni, version: v1.18.3-eksbuild.1 }]
    nodegroups: [{ name: ng, nodeRole: "arn:aws:iam::111122223333:role/node" }]
    fargateProfiles: [{ name: fp, selectors: [{ namespace: batch }] }]
    podIdentityAssociations: [{ namespace: shop, serviceAccount: cart, roleArn: "arn:aws:iam::111122223333:role/cart" }]
  - { name: dev, region: eu-west-1, account: "444455556666", version: "1.31", platformVersion: eks.1 }
iam:
  roles: [{ name: cart, assumeRolePolicyDocument: { Version: "2012-10-17", Statement: [] } }]
  openIdConnectProviders: [{ url: "https://oidc.eks.us-east-1.amazonaws.com/id/X" }]
faults: [{ target: "k8s:patch:deployments", error: reset }]
`, 'world.yaml');

    expect(world).toEqual({
      account: '111122223333', region: 'us-east-1', partition: 'aws', latencyMs: 0, rolloutDelayMs: 0, associationPropagationMs: 0, iamPropagationMs: 0, addonTransitionMs: 0, associationReuseDelayMs: 0,
      clusters: [
        {
          name: 'prod', account: '111122223333', region: 'us-east-1', version: '1.29', platformVersion: 'eks.8', oidcIssuer: null, autoMode: false, status: 'ACTIVE',
          addons: [{ name: 'vpc-cni', version: 'v1.18.3-eksbuild.1', status: 'ACTIVE', serviceAccountRoleArn: null, podIdentityConfiguration: null }],
          nodegroups: [{ name: 'ng', nodeRole: 'arn:aws:iam::111122223333:role/node', amiType: 'AL2023_x86_64_STANDARD', nodes: 1 }],
          fargateProfiles: [{ name: 'fp', selectors: [{ namespace: 'batch' }], podExecutionRoleArn: null }],
          podIdentityAssociations: [{ namespace: 'shop', serviceAccount: 'cart', roleArn: 'arn:aws:iam::111122223333:role/cart', targetRoleArn: null, disableSessionTags: false }],
          objects: [],
          stuckWorkloads: [], missingImages: [],
        },
        {
          name: 'dev', account: '444455556666', region: 'eu-west-1', version: '1.31', platformVersion: 'eks.1', oidcIssuer: null, autoMode: false, status: 'ACTIVE',
          addons: [], nodegroups: [], fargateProfiles: [], podIdentityAssociations: [], objects: [], stuckWorkloads: [], missingImages: [],
        },
      ],
      iam: {
        trustPolicyLimit: 2048,
        roles: [{ name: 'cart', path: '/', account: '111122223333', assumeRolePolicyDocument: { Version: '2012-10-17', Statement: [] }, attachedPolicies: [], inlinePolicies: {}, tags: {} }],
        policies: [],
        openIdConnectProviders: [{ url: 'https://oidc.eks.us-east-1.amazonaws.com/id/X', clientIds: ['sts.amazonaws.com'], account: '111122223333' }],
      },
      caller: null,
      faults: [{ target: 'k8s:patch:deployments', error: 'reset', after: 0, times: 1, when: 'before' }],
    } satisfies World);
  });

  it('treats iam as optional and add-on recommendedManagedPolicies as []', () => {
    const world = parseWorld(`${HEAD}clusters:
  - name: prod
    version: "1.29"
    platformVersion: eks.8
    addons: [{ name: aws-ebs-csi-driver, version: v1.35.0-eksbuild.1, podIdentityConfiguration: [{ serviceAccount: ebs-csi-controller-sa }] }]
`, 'world.yaml');
    expect(world.iam).toEqual({ trustPolicyLimit: 2048, roles: [], policies: [], openIdConnectProviders: [] });
    expect(world.clusters[0]!.addons[0]!.podIdentityConfiguration).toEqual([{ serviceAccount: 'ebs-csi-controller-sa', recommendedManagedPolicies: [] }]);
  });

  it('lets roles share settings through YAML anchors and merge keys', () => {
    const world = parseWorld(`${PROD}iam:
  roles:
    - &shop { name: cart, path: /shop/, tags: { team: shop }, assumeRolePolicyDocument: {} }
    - { <<: *shop, name: orders }
`, 'world.yaml');
    expect(world.iam.roles.map((r) => [r.name, r.path, r.tags])).toEqual([['cart', '/shop/', { team: 'shop' }], ['orders', '/shop/', { team: 'shop' }]]);
  });

  it('does not share default objects between worlds', () => {
    const a = parseWorld(PROD, 'a.yaml');
    a.clusters[0]!.addons.push({ name: 'x', version: 'v1', status: 'ACTIVE', serviceAccountRoleArn: null, podIdentityConfiguration: null });
    a.iam.roles.push({ name: 'r', path: '/', account: '111122223333', assumeRolePolicyDocument: {}, attachedPolicies: [], inlinePolicies: {}, tags: {} });
    const b = parseWorld(PROD, 'b.yaml');
    expect(b.clusters[0]!.addons).toEqual([]);
    expect(b.iam.roles).toEqual([]);
  });

  it('accepts and drops the read-back fields GET /_sandbox/state emits, keeping association ids and owners', () => {
    const world = parseWorld(`${HEAD}clusters:
  - name: prod
    version: "1.29"
    platformVersion: eks.8
    arn: arn:aws:eks:us-east-1:111122223333:cluster/prod
    endpoint: https://127.0.0.1:4567/k8s/prod
    podIdentityAssociations:
      - namespace: kube-system
        serviceAccount: aws-node
        roleArn: arn:aws:iam::111122223333:role/cni
        associationId: a-abcdefghij0123456
        associationArn: arn:aws:eks:us-east-1:111122223333:podidentityassociation/prod/a-abcdefghij0123456
        ownerArn: arn:aws:eks:us-east-1:111122223333:addon/prod/vpc-cni/1234
iam:
  roles: [{ name: cni, arn: "arn:aws:iam::111122223333:role/cni", assumeRolePolicyDocument: {} }]
`, 'state.yaml');
    const cluster = world.clusters[0]!;
    expect(cluster).not.toHaveProperty('arn');
    expect(cluster).not.toHaveProperty('endpoint');
    expect(cluster.podIdentityAssociations).toEqual([{
      namespace: 'kube-system', serviceAccount: 'aws-node', roleArn: 'arn:aws:iam::111122223333:role/cni', targetRoleArn: null, disableSessionTags: false,
      associationId: 'a-abcdefghij0123456', ownerArn: 'arn:aws:eks:us-east-1:111122223333:addon/prod/vpc-cni/1234',
    }]);
    expect(world.iam.roles[0]).not.toHaveProperty('arn');
  });
});

describe('errors', () => {
  it('are UsageErrors with code WORLD_INVALID, exit usage and a hint', () => {
    const err = problem(`${PROD}foo: 1\n`);
    expect(err).toBeInstanceOf(UsageError);
    expect(err.code).toBe('WORLD_INVALID');
    expect(err.exit).toBe('usage');
    expect(err.hint).toBe('see docs/sandbox.md for the world-file fields');
    expect(err.message).not.toContain('\n');
  });

  it.each([
    ['an unknown top-level key', `${PROD}foo: 1\n`,
      'world.yaml: foo: unknown field (allowed: account, region, partition, latencyMs, rolloutDelayMs, associationPropagationMs, iamPropagationMs, addonTransitionMs, associationReuseDelayMs, clusters, iam, caller, faults)'],
    ['an unknown key in an add-on', `${HEAD}clusters:\n  - name: prod\n    version: "1.29"\n    platformVersion: eks.8\n    addons: [{ name: vpc-cni, version: v1, stauts: ACTIVE }]\n`,
      'world.yaml: clusters[0].addons[0].stauts: unknown field (allowed: name, version, status, serviceAccountRoleArn, podIdentityConfiguration)'],
    ['an unknown key in the caller', `${PROD}caller: { arn: "arn:aws:iam::111122223333:user/ci", allow: ["*"], deny: [] }\n`,
      'world.yaml: caller.deny: unknown field (allowed: arn, allow)'],
    ['a string where a number belongs', `${PROD}latencyMs: fast\n`, 'world.yaml: latencyMs: expected a number (got "fast")'],
    ['a negative delay', `${PROD}rolloutDelayMs: -5\n`, 'world.yaml: rolloutDelayMs: expected a number of at least 0 (got the number -5)'],
    ['a fractional delay', `${PROD}latencyMs: 2.5\n`, 'world.yaml: latencyMs: expected a whole number (got the number 2.5)'],
    ['a string where a boolean belongs', `${HEAD}clusters:\n  - { name: prod, version: "1.29", platformVersion: eks.8, autoMode: "yes" }\n`,
      'world.yaml: clusters[0].autoMode: expected true or false (got "yes")'],
    ['an object where a list belongs', `${HEAD}clusters: { name: prod }\n`, 'world.yaml: clusters: expected a list (got an object)'],
    ['an empty value', `${HEAD}clusters:\n`, 'world.yaml: clusters: expected a list (got null, an empty value)'],
    ['an empty cluster list', `${HEAD}clusters: []\n`, 'world.yaml: clusters: expected at least 1 entry'],
    ['a bad partition', `${PROD}partition: aws-eu\n`, 'world.yaml: partition: expected one of aws, aws-cn, aws-us-gov (got "aws-eu")'],
    ['a bad fault kind', `${PROD}faults: [{ target: "iam:GetRole", error: crash }]\n`,
      'world.yaml: faults[0].error: expected one of throttle, server-error, reset, timeout (got "crash")'],
    ['a bad fault target', `${PROD}faults: [{ target: "iam.GetRole", error: throttle }]\n`,
      'world.yaml: faults[0].target: expected service:Operation (iam:UpdateAssumeRolePolicy) or k8s:<verb>:<resource> (k8s:patch:deployments; * matches any part) (got "iam.GetRole")'],
    ['a fault that never fires', `${PROD}faults: [{ target: "k8s:get:pods", error: timeout, times: 0 }]\n`,
      'world.yaml: faults[0].times: expected a number of at least 1 (got the number 0)'],
    ['a role path without the trailing slash', `${PROD}iam: { roles: [{ name: r, path: /svc, assumeRolePolicyDocument: {} }] }\n`,
      'world.yaml: iam.roles[0].path: expected an IAM path that starts and ends with / (like /service/) (got "/svc")'],
    ['a caller allow entry that is not a string', `${PROD}caller: { arn: "arn:aws:iam::111122223333:user/ci", allow: [eks:Describe*, 7] }\n`,
      'world.yaml: caller.allow[1]: expected an action pattern like eks:Describe* or * (got the number 7); quote it as "7" (unquoted, YAML reads it as a number)'],
    ['a tag value that is not a string', `${PROD}iam: { roles: [{ name: r, assumeRolePolicyDocument: {}, tags: { cost-center: 42 } }] }\n`,
      'world.yaml: iam.roles[0].tags.cost-center: expected a string (got the number 42); quote it as "42" (unquoted, YAML reads it as a number)'],
    ['a manifest without a name', `${HEAD}clusters:\n  - name: prod\n    version: "1.29"\n    platformVersion: eks.8\n    objects: [{ apiVersion: v1, kind: ServiceAccount, metadata: { namespace: shop } }]\n`,
      'world.yaml: clusters[0].objects[0].metadata.name: required field is missing'],
    ['a manifest without metadata', `${HEAD}clusters:\n  - name: prod\n    version: "1.29"\n    platformVersion: eks.8\n    objects: [{ apiVersion: v1, kind: Namespace }]\n`,
      'world.yaml: clusters[0].objects[0].metadata: required field is missing'],
    ['a Fargate profile without selectors', `${HEAD}clusters:\n  - name: prod\n    version: "1.29"\n    platformVersion: eks.8\n    fargateProfiles: [{ name: fp }]\n`,
      'world.yaml: clusters[0].fargateProfiles[0].selectors: required field is missing'],
  ])('rejects %s', (_what, text, message) => {
    expect(problem(text).message).toBe(message);
  });

  it('names the path and the allowed values of a bad enum deep in the file', () => {
    const text = `${HEAD}clusters:
  - { name: prod, version: "1.29", platformVersion: eks.8 }
  - name: dev
    version: "1.29"
    platformVersion: eks.8
    addons:
      - name: eks-pod-identity-agent
        version: v1.3.4-eksbuild.1
        status: RUNNING
`;
    expect(problem(text).message).toBe(
      'world.yaml: clusters[1].addons[0].status: expected one of ACTIVE, CREATING, DEGRADED, DELETING, DELETE_FAILED, UPDATING, UPDATE_FAILED, CREATE_FAILED (got "RUNNING")',
    );
  });

  it('reports missing required fields', () => {
    expect(problem('region: us-east-1\nclusters:\n  - { name: prod, version: "1.29", platformVersion: eks.8 }\n').message)
      .toBe('world.yaml: account: required field is missing');
    expect(problem(`${HEAD}clusters:\n  - { name: prod, version: "1.29" }\n`).message)
      .toBe('world.yaml: clusters[0].platformVersion: required field is missing');
    expect(problem(`${PROD}iam: { roles: [{ name: r }] }\n`).message)
      .toBe('world.yaml: iam.roles[0].assumeRolePolicyDocument: required field is missing');
  });

  it('tells the user to quote a numeric account, showing the digits as written', () => {
    expect(problem('account: 012345678901\nregion: us-east-1\nclusters:\n  - { name: prod, version: "1.29", platformVersion: eks.8 }\n').message).toBe(
      'world.yaml: account: expected a 12-digit account ID (got the number 12345678901); quote it as "012345678901" (unquoted, YAML reads it as a number, turning 012345678901 into 12345678901)',
    );
    expect(problem(`${HEAD}clusters:\n  - { name: prod, account: 111122223333, version: "1.29", platformVersion: eks.8 }\n`).message).toBe(
      'world.yaml: clusters[0].account: expected a 12-digit account ID (got the number 111122223333); quote it as "111122223333" (unquoted, YAML reads it as a number)',
    );
  });

  it('tells the user to quote a numeric Kubernetes version', () => {
    expect(problem(`${HEAD}clusters:\n  - { name: prod, version: 1.30, platformVersion: eks.8 }\n`).message).toBe(
      'world.yaml: clusters[0].version: expected a Kubernetes version string like "1.29" (got the number 1.3); quote it as "1.30" (unquoted, YAML reads it as a number, turning 1.30 into 1.3)',
    );
  });

  it('rejects a malformed account string', () => {
    expect(problem('account: "1234"\nregion: us-east-1\nclusters:\n  - { name: prod, version: "1.29", platformVersion: eks.8 }\n').message)
      .toBe('world.yaml: account: expected a 12-digit account ID (got "1234")');
  });

  it('reports YAML syntax errors with line and column', () => {
    const err = problem(`${HEAD}clusters:\n  - name: prod\n   version: "1.29"\n`);
    expect(err.message).toMatch(/^world\.yaml: line 5, column \d+: Sequence item without - indicator$/);
    expect(err.hint).toMatch(/YAML syntax/);
    expect(problem(`${HEAD}region: us-west-2\n`).message).toBe('world.yaml: line 3, column 1: Map keys must be unique');
    expect(problem(`${PROD}---\n${PROD}`).message).toBe('world.yaml: line 5, column 1: a second YAML document starts here (---); a world file holds one');
  });

  it('reports a policy document string that is not JSON at its path', () => {
    const text = `${PROD}iam:\n  roles:\n    - name: r\n      assumeRolePolicyDocument: '{"Version": "2012-10-17", "Statement": [}'\n`;
    expect(problem(text).message).toMatch(/^world\.yaml: iam\.roles\[0\]\.assumeRolePolicyDocument: invalid JSON in the policy document string: .+$/);
    expect(problem(`${PROD}iam: { roles: [{ name: r, assumeRolePolicyDocument: '[1]' }] }\n`).message).toBe(
      'world.yaml: iam.roles[0].assumeRolePolicyDocument: expected a policy document object or a JSON string of one (got a list)',
    );
    expect(problem(`${PROD}iam: { policies: [{ arn: "arn:aws:iam::111122223333:policy/p", document: 'nope' }] }\n`).message)
      .toMatch(/^world\.yaml: iam\.policies\[0\]\.document: invalid JSON in the policy document string: /);
  });

  it('rejects an empty file and a file that is not a mapping', () => {
    expect(problem('# nothing yet\n').message).toBe('world.yaml: the world file is empty (it needs at least account, region and clusters)');
    expect(problem('- a\n- b\n').message).toBe('world.yaml: expected an object (got a list)');
  });

  describe('duplicates', () => {
    it('rejects two clusters with one name in the same account and region, not in different regions', () => {
      expect(problem(`${PROD}  - { name: prod, version: "1.30", platformVersion: eks.3 }\n`).message)
        .toBe('world.yaml: clusters[1].name: duplicate cluster name "prod" in account 111122223333, region us-east-1 (first at clusters[0])');
      expect(parseWorld(`${PROD}  - { name: prod, region: us-west-2, version: "1.30", platformVersion: eks.3 }\n`, 'w').clusters).toHaveLength(2);
    });

    it('rejects role names that differ only in case within an account, not across accounts', () => {
      const roles = (second: string) => `${PROD}iam:\n  roles:\n    - { name: Cart, assumeRolePolicyDocument: {} }\n    - { name: cart, ${second}assumeRolePolicyDocument: {} }\n`;
      expect(problem(roles('')).message)
        .toBe('world.yaml: iam.roles[1].name: duplicate role name "cart" in account 111122223333, ignoring case as IAM does (first at iam.roles[0])');
      expect(parseWorld(roles('account: "444455556666", '), 'w').iam.roles).toHaveLength(2);
    });

    it('rejects duplicate add-ons and two associations for one service account', () => {
      const cluster = (body: string) => `${HEAD}clusters:\n  - name: prod\n    version: "1.29"\n    platformVersion: eks.8\n${body}`;
      expect(problem(cluster('    addons: [{ name: vpc-cni, version: v1 }, { name: vpc-cni, version: v2 }]\n')).message)
        .toBe('world.yaml: clusters[0].addons[1].name: duplicate add-on "vpc-cni" in cluster prod (first at clusters[0].addons[0])');
      const assoc = '{ namespace: shop, serviceAccount: cart, roleArn: "arn:aws:iam::111122223333:role/cart" }';
      expect(problem(cluster(`    podIdentityAssociations: [${assoc}, ${assoc}]\n`)).message)
        .toBe('world.yaml: clusters[0].podIdentityAssociations[1].serviceAccount: duplicate association for service account shop/cart in cluster prod (first at clusters[0].podIdentityAssociations[0])');
    });

    it('rejects the same Kubernetes object twice, counting a missing namespace as default', () => {
      const text = `${HEAD}clusters:\n  - name: prod\n    version: "1.29"\n    platformVersion: eks.8\n    objects:\n`
        + '      - { apiVersion: v1, kind: ServiceAccount, metadata: { name: app } }\n'
        + '      - { apiVersion: v1, kind: ServiceAccount, metadata: { name: app, namespace: default } }\n';
      expect(problem(text).message)
        .toBe('world.yaml: clusters[0].objects[1].metadata.name: duplicate object ServiceAccount default/app in cluster prod (first at clusters[0].objects[0])');
    });
  });

  it('rejects a caller from another account than the top level', () => {
    expect(problem(`${PROD}caller: { arn: "arn:aws:iam::444455556666:user/ci", allow: ["*"] }\n`).message).toBe(
      "world.yaml: caller.arn: the caller's account 444455556666 differs from the top-level account 111122223333; the top-level account is the caller's",
    );
  });

  it('reports at most three problems, in file order, on one line', () => {
    const text = 'account: 111122223333\nregion: us-east-1\npartition: aws-eu\nlatencyMs: -1\nrolloutDelayMs: x\nclusters: []\n';
    const { message } = problem(text);
    expect(message).toBe(
      'world.yaml: account: expected a 12-digit account ID (got the number 111122223333); quote it as "111122223333" (unquoted, YAML reads it as a number); '
      + 'partition: expected one of aws, aws-cn, aws-us-gov (got "aws-eu"); latencyMs: expected a number of at least 0 (got the number -1) (and 2 more)',
    );
  });
});

describe('loadWorldFile', () => {
  it('names a missing file and says how to fix it', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'podid-world-')), 'nope.yaml');
    const err = await loadWorldFile(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorldError);
    expect((err as WorldError).message).toBe(`${path}: cannot read the world file: no such file`);
    expect((err as WorldError).hint).toMatch(/--world/);
  });

  it('names the file in validation errors', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'podid-world-')), 'w.json');
    writeFileSync(path, JSON.stringify({ account: '111122223333', region: 'us-east-1', clusters: [{ name: 'p', version: '1.29', platformVersion: 'eks.8', addons: [{ name: 'a', version: 'v1', status: 'RUNNING' }] }] }));
    await expect(loadWorldFile(path)).rejects.toThrow(`${path}: clusters[0].addons[0].status: expected one of`);
  });
});
