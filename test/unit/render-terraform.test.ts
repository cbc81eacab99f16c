import { parse } from '@cdktf/hcl2json';
import { describe, expect, it } from 'vitest';
import type { CreateAssociationStep, MigrationPlan } from '../../src/core/plan/model.js';
import { hclString, renderTerraform, tfIdentifier } from '../../src/render/terraform.js';
import {
  ACCOUNT, CART_ROLE, ORDERS_ROLE, OTHER, PAYMENTS_EXTERNAL_ID, PAYMENTS_ROLE, PROD, SOURCE_ROLE, STAGING, emptyPlan, fullPlan, samePlacesPlan,
} from './fixtures/plan.js';

type Parsed = {
  resource?: Record<string, Record<string, Record<string, unknown>[]>>;
  data?: Record<string, Record<string, { statement: Record<string, unknown>[] }[]>>;
};

async function hcl(text: string): Promise<Parsed> {
  return (await parse('plan.tf', text)) as Parsed;
}

/** Terraform's JSON syntax keeps template escapes: `$${` and `%%{` stand for literal `${` and `%{`. */
function literal(s: string): string {
  return s.replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{');
}

function association(plan: MigrationPlan, over: Partial<CreateAssociationStep>): CreateAssociationStep {
  const base = plan.steps.find((s): s is CreateAssociationStep => s.kind === 'create-association');
  if (!base) throw new Error('fixture has no association');
  return { ...base, ...over };
}

describe('renderTerraform', () => {
  it('writes associations, the agent add-on and the new trust statements as valid HCL', async () => {
    const parsed = await hcl(renderTerraform(fullPlan()));
    // prod and staging are in two regions: every EKS resource names its region's provider.
    const us = '${aws.us_east_1_111122223333}';
    const eu = '${aws.eu_west_1_111122223333}';
    const cartTrust = ['${data.aws_iam_policy_document.cart_pod_identity_trust}'];
    const ordersTrust = ['${data.aws_iam_policy_document.orders_pod_identity_trust_extended_1}'];
    expect(parsed.resource?.['aws_eks_pod_identity_association']).toEqual({
      // Each association depends on its role's trust change.
      prod_shop_cart: [{ provider: us, cluster_name: 'prod', namespace: 'shop', service_account: 'cart', role_arn: CART_ROLE, depends_on: cartTrust }],
      staging_shop_cart: [{ provider: eu, cluster_name: 'staging', namespace: 'shop', service_account: 'cart', role_arn: CART_ROLE, depends_on: cartTrust }],
      staging_shop_orders: [{ provider: eu, cluster_name: 'staging', namespace: 'shop', service_account: 'orders', role_arn: ORDERS_ROLE, depends_on: ordersTrust }],
      prod_shop_payments: [{ provider: us, cluster_name: 'prod', namespace: 'shop', service_account: 'payments', role_arn: SOURCE_ROLE, target_role_arn: PAYMENTS_ROLE }],
    });
    // Only the agent is a real add-on resource; the vpc-cni update is a hint in comments.
    expect(parsed.resource?.['aws_eks_addon']).toEqual({
      staging_eks_pod_identity_agent: [{ provider: eu, cluster_name: 'staging', addon_name: 'eks-pod-identity-agent' }],
    });
    const docs = parsed.data?.['aws_iam_policy_document'] ?? {};
    expect(Object.keys(docs).sort()).toEqual([
      'cart_pod_identity_trust', 'orders_pod_identity_trust_extended_1', 'prod_shop_payments_source_permission', 'prod_shop_payments_target_trust',
    ]);
    expect(docs['cart_pod_identity_trust']).toEqual([{
      statement: [{
        sid: 'PodidPodIdentity',
        effect: 'Allow',
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        principals: [{ type: 'Service', identifiers: ['pods.eks.amazonaws.com'] }],
        condition: [
          { test: 'StringEquals', variable: 'aws:SourceAccount', values: [ACCOUNT] },
          { test: 'StringEquals', variable: 'aws:RequestTag/eks-cluster-arn', values: [STAGING, PROD] },
          { test: 'StringEquals', variable: 'aws:RequestTag/kubernetes-namespace', values: ['shop'] },
          { test: 'StringEquals', variable: 'aws:RequestTag/kubernetes-service-account', values: ['cart'] },
        ],
      }],
    }]);
    // The extended statement keeps its own sid, so override_policy_documents replaces it.
    expect(docs['orders_pod_identity_trust_extended_1']?.[0]?.statement[0]?.['sid']).toBe('PodIdentityProd');
    // The aws provider floor: target_role_arn and external_id arrived in 6.2.0.
    expect((parsed as { terraform?: unknown }).terraform).toEqual([{ required_providers: [{ aws: { source: 'hashicorp/aws', version: '>= 6.2.0' } }] }]);
    expect(docs['prod_shop_payments_source_permission']?.[0]?.statement[0]?.['resources']).toEqual([PAYMENTS_ROLE]);
    expect(docs['prod_shop_payments_target_trust']?.[0]?.statement[0]?.['principals']).toEqual([{ type: 'AWS', identifiers: [SOURCE_ROLE] }]);
  });

  it("references the association's external_id in the target trust, so Terraform creates the association first", async () => {
    const text = renderTerraform(fullPlan());
    const parsed = await hcl(text);
    const trust = parsed.data?.['aws_iam_policy_document']?.['prod_shop_payments_target_trust']?.[0]?.statement[0];
    expect(trust?.['condition']).toEqual([{ test: 'StringEquals', variable: 'sts:ExternalId', values: ['${aws_eks_pod_identity_association.prod_shop_payments.external_id}'] }]);
    expect(text).toContain('# Two-phase: the externalId exists only once aws_eks_pod_identity_association.prod_shop_payments is created');
    // The placeholder never reaches a policy value.
    expect(text).not.toContain(PAYMENTS_EXTERNAL_ID);
  });

  it('asks for the provider that has aws_eks_pod_identity_association when no association chains', async () => {
    const plan = fullPlan();
    const parsed = await hcl(renderTerraform({ ...plan, steps: plan.steps.filter((s) => s.kind !== 'create-association' || s.targetRoleArn === null) }));
    expect((parsed as { terraform?: unknown }).terraform).toEqual([{ required_providers: [{ aws: { source: 'hashicorp/aws', version: '>= 5.29.0' } }] }]);
  });

  it('keeps the default provider for a plan in one region and account', async () => {
    const plan = fullPlan();
    const prodOnly: MigrationPlan = {
      ...plan,
      clusters: plan.clusters.filter((c) => c.arn === PROD),
      steps: plan.steps.filter((s) => s.kind === 'create-association' && s.cluster === PROD),
    };
    const text = renderTerraform(prodOnly);
    expect(text).not.toMatch(/^\s+provider\s+=/m);
    expect(text).not.toContain('aliased');
    const parsed = await hcl(text);
    expect(parsed.resource?.['aws_eks_pod_identity_association']?.['prod_shop_cart']).toEqual([{ cluster_name: 'prod', namespace: 'shop', service_account: 'cart', role_arn: CART_ROLE }]);
  });

  it('names a provider per region and account, and tells same-named clusters apart', async () => {
    const text = renderTerraform(samePlacesPlan());
    expect(text).toContain(
      '#   aws.eu_west_1_111122223333  (region eu-west-1, account 111122223333)\n' +
        '#   aws.us_east_1_111122223333  (region us-east-1, account 111122223333)\n' +
        `#   aws.us_east_1_${OTHER}  (region us-east-1, account ${OTHER})\n`,
    );
    const parsed = await hcl(text);
    const resources = parsed.resource?.['aws_eks_pod_identity_association'] ?? {};
    expect(Object.fromEntries(Object.entries(resources).map(([name, [r]]) => [name, [r?.['provider'], r?.['cluster_name']]]))).toEqual({
      prod_eu_west_1_shop_cart: ['${aws.eu_west_1_111122223333}', 'prod'],
      prod_us_east_1_111122223333_shop_cart: ['${aws.us_east_1_111122223333}', 'prod'],
      [`prod_us_east_1_${OTHER}_shop_cart`]: [`\${aws.us_east_1_${OTHER}}`, 'prod'],
    });
  });

  it('names the role each trust statement belongs to and how to merge it', () => {
    const text = renderTerraform(fullPlan());
    expect(text).toContain(
      `# Role cart (${CART_ROLE}): the Pod Identity statement podid adds to its trust policy,\n` +
        "# admitting exactly shop/cart on staging, shop/cart on prod (each admitted by the role's IRSA trust today).\n" +
        '# Merge into the role\'s assume_role_policy: list data.aws_iam_policy_document.cart_pod_identity_trust.json in source_policy_documents\n' +
        '# of the aws_iam_policy_document that builds the trust policy (keep every existing statement).\n' +
        'data "aws_iam_policy_document" "cart_pod_identity_trust" {\n',
    );
    expect(text).toContain('# It replaces the existing statement "PodIdentityProd": list data.aws_iam_policy_document.orders_pod_identity_trust_extended_1.json in override_policy_documents');
  });

  it('starts with a header saying podid generated it and does not apply it', () => {
    const text = renderTerraform(fullPlan());
    expect(text.startsWith('# Generated by podid 0.4.0 from the migration plan created 2025-06-01T12:00:00.000Z.\n')).toBe(true);
    expect(text).toContain('# podid does not apply or track this file.');
  });

  it('hints the add-on update, restarts, blocked and manual items in comments', () => {
    const text = renderTerraform(fullPlan());
    expect(text).toContain(
      '#   pod_identity_association {\n#     service_account = "aws-node"\n#     role_arn        = "arn:aws:iam::111122223333:role/vpc-cni-irsa"\n#   }\n',
    );
    expect(text).toContain('#   kubectl --context prod-admin -n shop rollout restart statefulset/cart-db\n');
    expect(text).toContain('# Blocked, not included: service account shop/legacy on prod: TRUST_POLICY_TOO_LARGE\n');
    expect(text).toContain('# Manual: Pod shop/debug on prod: Delete and recreate the Pod after the association exists.\n');
  });

  it('escapes quotes, backslashes, newlines and template sequences', async () => {
    const plan = fullPlan();
    const tricky = 'a"b\\c\nd ${aws:PrincipalTag/kubernetes-namespace} %{if x} $${y}';
    const step = association(plan, {
      roleArn: SOURCE_ROLE,
      targetRoleArn: PAYMENTS_ROLE,
      crossAccount: {
        targetTrustStatement: {
          Effect: 'Allow', Principal: { AWS: SOURCE_ROLE }, Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'aws:PrincipalTag/kubernetes-namespace': tricky }, Bool: { 'aws:SecureTransport': true } },
        },
        sourcePermissionStatement: { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: PAYMENTS_ROLE },
        externalIdPlaceholder: PAYMENTS_EXTERNAL_ID,
      },
    });
    const text = renderTerraform({ ...plan, steps: [step] });
    expect(text).toContain('values   = ["a\\"b\\\\c\\nd $${aws:PrincipalTag/kubernetes-namespace} %%{if x} $$${y}"]');
    const parsed = await hcl(text);
    const doc = parsed.data?.['aws_iam_policy_document']?.['prod_shop_cart_target_trust']?.[0]?.statement[0];
    const conditions = doc?.['condition'] as { values: string[] }[];
    expect(conditions.map((c) => c.values.map(literal))).toEqual([[tricky], ['true']]);
    // A statement without Sid gets no sid attribute rather than an empty one.
    expect(doc?.['sid']).toBeUndefined();
  });

  it('quotes strings so nothing is interpolated', () => {
    expect(hclString('${var.x}')).toBe('"$${var.x}"');
    expect(hclString('%{ if true }')).toBe('"%%{ if true }"');
    expect(hclString('$$')).toBe('"$$"');
    expect(hclString('tab\there\u0001')).toBe('"tab\\there\\u0001"');
  });

  it('makes resource names valid and unique, independent of order', async () => {
    const plan = fullPlan();
    const a = association(plan, { cluster: PROD, namespace: 'a-b', serviceAccount: 'c', id: 'assoc:1' });
    const b = association(plan, { cluster: PROD, namespace: 'a', serviceAccount: 'b-c', id: 'assoc:2' });
    const names = async (steps: CreateAssociationStep[]) => {
      const parsed = await hcl(renderTerraform({ ...plan, steps }));
      const resources = parsed.resource?.['aws_eks_pod_identity_association'] ?? {};
      return Object.fromEntries(Object.entries(resources).map(([name, [r]]) => [`${String(r?.['namespace'])}/${String(r?.['service_account'])}`, name]));
    };
    const forward = await names([a, b]);
    expect(forward['a-b/c']).toMatch(/^prod_a_b_c_[0-9a-f]{8}$/);
    expect(forward['a/b-c']).toMatch(/^prod_a_b_c_[0-9a-f]{8}$/);
    expect(forward['a-b/c']).not.toBe(forward['a/b-c']);
    expect(await names([b, a])).toEqual(forward);
    expect(tfIdentifier('1st.cluster')).toBe('_1st_cluster');
  });

  it('names the clusters a partial scan could not read, which the file does not cover', async () => {
    const finding = { code: 'CLUSTER_UNREACHABLE' as const, severity: 'error' as const, message: 'context x was not scanned', fix: 'check the network' };
    const plan = { ...fullPlan(), unscanned: [{ context: 'arn:aws:eks:us-east-1:111122223333:cluster/dead', name: 'dead', region: 'us-east-1', reasons: [finding] }, { context: 'kind-local', name: 'kind-local', region: '', reasons: [{ ...finding, code: 'NOT_AN_EKS_CONTEXT' as const }] }] };
    const text = renderTerraform(plan);
    expect(text).toContain('# Not scanned, not in this file: dead (context arn:aws:eks:us-east-1:111122223333:cluster/dead): CLUSTER_UNREACHABLE.\n# Not scanned, not in this file: context kind-local: NOT_AN_EKS_CONTEXT.\n');
    expect(await hcl(text)).toEqual(await hcl(renderTerraform(fullPlan())));
    expect(renderTerraform(fullPlan())).not.toContain('Not scanned');
  });

  it('parses for an empty plan and says there is nothing to do', async () => {
    const text = renderTerraform(emptyPlan());
    expect(text).toContain('# No changes: the plan has no steps.\n');
    expect(await hcl(text)).toEqual({});
  });

  it('is total: a statement its blocks cannot hold goes in source_policy_documents as JSON, and the file still parses', async () => {
    const plan = fullPlan();
    const odd = { Effect: 'Allow', Principal: { AWS: SOURCE_ROLE }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': PAYMENTS_EXTERNAL_ID } }, Bogus: 1 };
    const step = association(plan, {
      targetRoleArn: PAYMENTS_ROLE,
      crossAccount: { targetTrustStatement: odd, sourcePermissionStatement: { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: PAYMENTS_ROLE }, externalIdPlaceholder: PAYMENTS_EXTERNAL_ID },
    });
    const text = renderTerraform({ ...plan, steps: [step] });
    const doc = (await hcl(text)).data?.['aws_iam_policy_document']?.[`${tfIdentifier(`prod_${step.namespace}_${step.serviceAccount}`)}_target_trust`]?.[0] as Record<string, unknown> | undefined;
    expect(doc?.['statement']).toBeUndefined();
    const [json] = doc?.['source_policy_documents'] as string[];
    expect(JSON.parse(literal(json ?? ''))).toEqual({ Version: '2012-10-17', Statement: [odd] });
    // The expressible statement of the same association is still a statement block.
    expect(text).toContain('_source_permission" {\n  statement {');
  });

  it('is total: a trust step naming a statement its policy lacks gets a comment, and nothing depends on an unwritten document', async () => {
    const plan = fullPlan();
    const steps = plan.steps.map((s) => (s.kind === 'update-trust' && s.extended.length > 0 ? { ...s, extended: [...s.extended, 99] } : s));
    const text = renderTerraform({ ...plan, steps });
    expect(text).toMatch(/# Role orders \(.*\): the plan has no statement 99 in its new trust policy; nothing written for it \(plan again\)\./);
    expect(text).not.toContain('_extended_99');
    expect(Object.keys((await hcl(text)).data?.['aws_iam_policy_document'] ?? {})).toContain('orders_pod_identity_trust_extended_1');
  });

  it('is deterministic', () => {
    expect(renderTerraform(fullPlan())).toBe(renderTerraform(fullPlan()));
  });
});
