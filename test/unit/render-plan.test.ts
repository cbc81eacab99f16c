import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import type { MigrationPlan, UpdateTrustStep } from '../../src/core/plan/model.js';
import { unifiedDiff } from '../../src/render/diff.js';
import { chalkPalette, plainPalette } from '../../src/render/palette.js';
import { renderPlan, renderPlanJson } from '../../src/render/plan.js';
import { CART_ADDED_STATEMENT, emptyPlan, fullPlan, samePlacesPlan } from './fixtures/plan.js';

const ANSI = /\u001b\[[0-9;]*m/;
const plain = { palette: plainPalette };
const colour = { palette: chalkPalette(new Chalk({ level: 1 })) };

const FULL = `podid migration plan, created 2025-06-01T12:00:00.000Z by podid 0.4.0
  caller     arn:aws:sts::111122223333:assumed-role/platform-admin/alice (account 111122223333)
  clusters   prod (arn:aws:eks:us-east-1:111122223333:cluster/prod, context prod-admin)
             staging (arn:aws:eks:eu-west-1:111122223333:cluster/staging)
  options    install-agent yes, restart yes, at most 2 rollouts at a time per cluster, trust policy limit 2048
             cross-account source role arn:aws:iam::111122223333:role/podid-xacct-source
  selection  namespaces shop, logging, kube-system

Symbols: + create, ~ update in place, ! blocked, ? manual

Agent add-ons (CreateAddon)
  + agent add-on eks-pod-identity-agent on staging (the default version for the cluster)

Trust policies (UpdateAssumeRolePolicy)
  ~ role cart (arn:aws:iam::111122223333:role/cart)  trust policy: +1 statement (pods.eks.amazonaws.com for prod, staging)
      @@ -27,5 +27,27 @@
               }
             }
           },
      +    {
      +      "Sid": "PodidPodIdentity",
      +      "Effect": "Allow",
      +      "Principal": {
      +        "Service": "pods.eks.amazonaws.com"
      +      },
      +      "Action": [
      +        "sts:AssumeRole",
      +        "sts:TagSession"
      +      ],
      +      "Condition": {
      +        "StringEquals": {
      +          "aws:SourceAccount": "111122223333"
      +        },
      +        "ArnEquals": {
      +          "aws:SourceArn": [
      +            "arn:aws:eks:us-east-1:111122223333:cluster/prod",
      +            "arn:aws:eks:eu-west-1:111122223333:cluster/staging"
      +          ]
      +        }
      +      }
      +    }
         ]
       }
      length 785 -> 1124 of 2048 (IAM, without whitespace)
  ~ role orders (arn:aws:iam::111122223333:role/orders)  trust policy: ~1 statement (pods.eks.amazonaws.com, adds staging)
      @@ -29,7 +29,10 @@
                 "aws:SourceAccount": "111122223333"
               },
               "ArnEquals": {
      -          "aws:SourceArn": "arn:aws:eks:us-east-1:111122223333:cluster/prod"
      +          "aws:SourceArn": [
      +            "arn:aws:eks:us-east-1:111122223333:cluster/prod",
      +            "arn:aws:eks:eu-west-1:111122223333:cluster/staging"
      +          ]
               }
             }
           }
      length 701 -> 756 of 2048 (IAM, without whitespace)

Pod identity associations (CreatePodIdentityAssociation)
  + association  prod     shop/cart -> role/cart
  + association  staging  shop/cart -> role/cart
  + association  staging  shop/orders -> role/orders
  + association  prod     shop/payments -> role/podid-xacct-source -> arn:aws:iam::444455556666:role/payments
      podid does not change account 444455556666, and does not restart these workloads (see Manual). After the association exists:
      1. read its externalId: aws eks list-pod-identity-associations --cluster-name prod --region us-east-1 --namespace shop --service-account payments,
         then aws eks describe-pod-identity-association --association-id ID (its externalId field)
      2. add to the trust policy of arn:aws:iam::444455556666:role/payments, with that externalId in place of the placeholder:
        {
          "Sid": "PodidRoleChainingSource",
          "Effect": "Allow",
          "Principal": {
            "AWS": "arn:aws:iam::111122223333:role/podid-xacct-source"
          },
          "Action": [
            "sts:AssumeRole",
            "sts:TagSession"
          ],
          "Condition": {
            "StringEquals": {
              "sts:ExternalId": "<externalId of the pod identity association shop/payments on cluster prod (us-east-1, account 111122223333), known once it is created>"
            }
          }
        }
      3. add to a permission policy of arn:aws:iam::111122223333:role/podid-xacct-source:
        {
          "Sid": "PodidRoleChainingTarget",
          "Effect": "Allow",
          "Action": [
            "sts:AssumeRole",
            "sts:TagSession"
          ],
          "Resource": "arn:aws:iam::444455556666:role/payments"
        }
      4. restart the workloads of this service account (kubectl rollout restart)

Add-ons (UpdateAddon)
  ~ add-on vpc-cni on prod: serviceAccountRoleArn -> podIdentityAssociations [aws-node -> role/vpc-cni-irsa]
      version v1.18.3-eksbuild.1; serviceAccountRoleArn role/vpc-cni-irsa is no longer used; EKS restarts the add-on's pods

Restarts (rollout restart, in batches)
  prod
    batch 1: deploy/cart, sts/cart-db in shop
      after the association of shop/cart
    batch 2: deploy/cart-worker in shop
      after the association of shop/cart
  staging
    batch 1: deploy/cart, ds/orders-agent in shop
      after the associations of shop/cart, shop/orders

Blocked: not in this plan
  ! service account shop/legacy on prod (role/legacy)
      error TRUST_POLICY_TOO_LARGE  The trust policy would be 2101 of 2048 characters.
            fix: Ask for a higher "Role trust policy length" quota (L-C07B4B0D), or remove unused statements.
  ! add-on aws-ebs-csi-driver on prod
      error ADDON_VERSION_UNSUPPORTED  aws-ebs-csi-driver v1.20.0-eksbuild.1 does not support Pod Identity.
            fix: Upgrade the add-on first.

Manual: podid will not restart these
  ? pod/debug in shop on prod (service account cart)
      Delete and recreate the Pod after the association exists.
  ? sts/payments-ledger in shop on prod (service account payments)
      after the association exists, add the target trust statement with its externalId to arn:aws:iam::444455556666:role/payments (in account 444455556666), then run: kubectl -n shop rollout restart statefulset/payments-ledger
  ? cronjob/reports in batch on prod (service account reports)
      Nothing to do: the next run gets Pod Identity.

Agents: 1 eks-pod-identity-agent add-on to install
Plan: 2 roles to update, 4 associations to create, 1 add-on to update, 5 workloads to restart, 2 blocked
Manual: 3 workloads to restart or recreate yourself (see above)
`;

const EMPTY = `podid migration plan, created 2025-06-01T12:00:00.000Z by podid 0.4.0
  caller     arn:aws:sts::111122223333:assumed-role/platform-admin/alice (account 111122223333)
  clusters   prod (arn:aws:eks:us-east-1:111122223333:cluster/prod, context prod-admin)
             staging (arn:aws:eks:eu-west-1:111122223333:cluster/staging)
  options    install-agent yes, restart yes, at most 2 rollouts at a time per cluster, trust policy limit 2048

No changes. Everything selected already uses EKS Pod Identity.
`;

function trustStep(plan: MigrationPlan, roleName: string): UpdateTrustStep {
  const step = plan.steps.find((s): s is UpdateTrustStep => s.kind === 'update-trust' && s.roleName === roleName);
  if (!step) throw new Error(`no trust step for ${roleName}`);
  return step;
}

/** The lines of one role's diff in the plain review: from its `~ role` line to its length line. */
function diffOf(text: string, roleName: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`  ~ role ${roleName} `));
  const end = lines.findIndex((l, i) => i > start && l.trimStart().startsWith('length '));
  return lines.slice(start + 1, end).map((l) => l.slice(6));
}

describe('renderPlan', () => {
  it('renders every step kind, blocked and manual items exactly', () => {
    expect(renderPlan(fullPlan(), plain)).toBe(FULL);
  });

  it('says "No changes." for a plan without steps', () => {
    expect(renderPlan(emptyPlan(), plain)).toBe(EMPTY);
  });

  it('lists blocked items and says why nothing changes when everything is blocked', () => {
    const plan = { ...emptyPlan(), blocked: fullPlan().blocked, summary: { ...emptyPlan().summary, blocked: 2 } };
    const text = renderPlan(plan, plain);
    expect(text).toContain('  ! add-on aws-ebs-csi-driver on prod\n      error ADDON_VERSION_UNSUPPORTED');
    expect(text.endsWith('No changes. 2 blocked: resolve them and plan again.\n')).toBe(true);
    expect(text).not.toContain('Plan:');
  });

  it('tells clusters of the same name apart by region, and account when the region is shared too', () => {
    const text = renderPlan(samePlacesPlan(), plain);
    expect(text).toContain(
      '  + association  prod (eu-west-1)                shop/cart -> role/cart\n' +
        '  + association  prod (us-east-1, 111122223333)  shop/cart -> role/cart\n' +
        '  + association  prod (us-east-1, 444455556666)  shop/cart -> role/cart\n',
    );
    // A unique name stays short.
    expect(renderPlan(fullPlan(), plain)).toContain('  + association  prod     shop/cart -> role/cart\n');
  });

  it('leaves restarts to the user with --no-restart', () => {
    const base = fullPlan();
    const plan = { ...base, options: { ...base.options, restart: false }, steps: base.steps.filter((s) => s.kind !== 'restart-batch') };
    const text = renderPlan(plan, plain);
    expect(text).toContain('restart no (--no-restart)');
    expect(text).toContain('Restarts (rollout restart, in batches)\n  none (--no-restart): restart the workloads');
    expect(text).not.toContain('batch 1:');
  });

  it('colours only with a colour palette', () => {
    const coloured = renderPlan(fullPlan(), colour);
    expect(coloured).toMatch(ANSI);
    expect(renderPlan(fullPlan(), plain)).not.toMatch(ANSI);
    // Same text once the colour is gone.
    expect(coloured.replace(/\u001b\[[0-9;]*m/g, '')).toBe(FULL);
    // Added lines green (32), context dim (2), removed red (31).
    expect(coloured).toContain('\u001b[32m+      "Sid": "PodidPodIdentity",\u001b[39m');
    expect(coloured).toContain('      \u001b[2m   ]\u001b[22m');
    expect(coloured).toContain('\u001b[31m-          "aws:SourceArn": "arn:aws:eks:us-east-1:111122223333:cluster/prod"\u001b[39m');
  });

  it('shows exactly the added statement as + lines, nothing removed', () => {
    const lines = diffOf(renderPlan(fullPlan(), plain), 'cart');
    expect(lines.filter((l) => l.startsWith('-'))).toEqual([]);
    const added = lines.filter((l) => l.startsWith('+')).map((l) => l.slice(1));
    expect(JSON.parse(added.join('\n'))).toEqual(CART_ADDED_STATEMENT);
    // The previous statement's new trailing comma is syntax, shown as context.
    expect(lines).toContain('     },');
  });

  it('shows an extended statement as its one changed value', () => {
    const lines = diffOf(renderPlan(fullPlan(), plain), 'orders');
    expect(lines.filter((l) => /^[+-]/.test(l))).toEqual([
      '-          "aws:SourceArn": "arn:aws:eks:us-east-1:111122223333:cluster/prod"',
      '+          "aws:SourceArn": [',
      '+            "arn:aws:eks:us-east-1:111122223333:cluster/prod",',
      '+            "arn:aws:eks:eu-west-1:111122223333:cluster/staging"',
      '+          ]',
    ]);
  });

  it('prints the trust policies as canonical two-space JSON, keeping key order', () => {
    const plan = fullPlan();
    const step = trustStep(plan, 'cart');
    const text = renderPlan({ ...plan, steps: [step] }, { palette: plainPalette, diffContext: 1000 });
    const after = diffOf(text, 'cart').slice(1).filter((l) => !l.startsWith('-')).map((l) => l.slice(1)).join('\n');
    expect(after).toBe(JSON.stringify(step.after, null, 2));
  });

  it('marks a trust policy close to the limit', () => {
    const plan = fullPlan();
    const step = { ...trustStep(plan, 'cart'), lengthAfter: 1900 };
    const text = renderPlan({ ...plan, steps: [step] }, colour);
    expect(text).toContain('\u001b[33mlength 785 -> 1900 of 2048 (IAM, without whitespace)\u001b[39m');
  });

  it('keeps control characters from the outside world out of the terminal', () => {
    const plan = fullPlan();
    const step = { ...trustStep(plan, 'cart'), roleName: 'cart\u001b[2J\nrm' };
    const text = renderPlan({ ...plan, steps: [step] }, plain);
    expect(text).not.toMatch(/\u001b/);
    expect(text).toContain('  ~ role cart?[2J rm (arn:aws:iam::111122223333:role/cart)');
  });

  it('is deterministic and does not change the plan', () => {
    const plan = fullPlan();
    const copy = structuredClone(plan);
    expect(renderPlan(plan, plain)).toBe(renderPlan(plan, plain));
    expect(plan).toEqual(copy);
  });
});

describe('renderPlanJson', () => {
  it('is the plan document as two-space JSON that round-trips', () => {
    const plan = fullPlan();
    const text = renderPlanJson(plan);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toContain('\n  "kind": "podid-migration-plan",\n  "schemaVersion": 1,');
    expect(JSON.parse(text)).toEqual(plan);
  });
});

describe('unifiedDiff', () => {
  const p = { palette: plainPalette };

  it('is empty for equal texts and for texts differing only in trailing commas', () => {
    expect(unifiedDiff('{\n  "a": 1\n}', '{\n  "a": 1\n}', p)).toEqual([]);
    expect(unifiedDiff('[\n  1\n]', '[\n  1,\n]', p)).toEqual([]);
  });

  it('keeps indentation significant', () => {
    expect(unifiedDiff('a\n b', 'a\nb', p)).toEqual(['@@ -1,2 +1,2 @@', ' a', '- b', '+b']);
  });

  it('splits distant changes into hunks with GNU line numbers', () => {
    const before = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'].join('\n');
    const after = ['1', 'x', '2', '3', '4', '5', '6', '7', '8', '9'].join('\n');
    expect(unifiedDiff(before, after, { ...p, context: 1 })).toEqual(['@@ -1,2 +1,3 @@', ' 1', '+x', ' 2', '@@ -9,2 +10,1 @@', ' 9', '-10']);
  });

  it('numbers an insertion into an empty text from line 0', () => {
    expect(unifiedDiff('', 'a\nb\n', p)).toEqual(['@@ -0,0 +1,2 @@', '+a', '+b']);
  });
});
