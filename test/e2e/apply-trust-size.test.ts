/**
 * A role whose trust policy is close to IAM's "Role trust policy length" quota (2,048
 * characters by default, without whitespace; raisable to 8,192: IAM User Guide, "IAM and AWS
 * STS quotas"), so that the Pod Identity statement would push it over:
 *
 * - the dry run blocks the role's ServiceAccounts (TRUST_POLICY_TOO_LARGE, with both lengths
 *   and the limit) and plans the rest;
 * - a plan made with a --trust-policy-limit above the real quota is refused by IAM
 *   (LimitExceeded, "Cannot exceed quota for ACLSizePerRole", as the sandbox answers): that role
 *   fails with a line naming the quota (not "throttled"), sent once, its trust unchanged and no
 *   association or restart for it; the other role migrates (exit 5).
 *
 * The sandbox runs in the test process; podid runs in-process (helpers/podid.ts).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clearSandboxCalls, sandboxCalls } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';
import { sandboxServer } from '../helpers/sandbox.js';
import { ACCOUNT, journalDir, result, smallWorld, state } from './apply-helpers.js';

/** smallWorld, with role shop's trust padded to `length` characters (IAM's count) by a Deny statement that matches nobody. */
function crowdedWorld(): object {
  const world = smallWorld() as { iam: { roles: { name: string; assumeRolePolicyDocument: { Statement: object[] } }[] } };
  const shop = world.iam.roles.find((r) => r.name === 'shop')!;
  shop.assumeRolePolicyDocument.Statement.push({ Sid: 'Pad', Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:PrincipalTag/pad': 'x'.repeat(1150) } } });
  return world;
}

describe('a trust policy the Pod Identity statement would push over the IAM quota', () => {
  it('is blocked by the dry run with both lengths and the limit; a plan made with a higher --trust-policy-limit fails that role at IAM before any other change of it (exit 5)', async () => {
    const sb = await sandboxServer(crowdedWorld());
    try {
      const dir = journalDir();
      const dry = await podid(['migrate', '--dry-run', '--all-contexts', '-o', 'json'], { env: sb.clientEnv });
      expect(dry.code, dry.stderr).toBe(0);
      const plan = JSON.parse(dry.stdout) as { steps: { kind: string; roleArn?: string }[]; blocked: { target: { name?: string }; reasons: { code: string; message: string }[] }[] };
      expect(plan.steps.filter((s) => s.kind === 'update-trust').map((s) => s.roleArn)).toEqual([`arn:aws:iam::${ACCOUNT}:role/cni`]);
      const blocked = plan.blocked.filter((b) => b.reasons.some((r) => r.code === 'TRUST_POLICY_TOO_LARGE'));
      expect(blocked.map((b) => b.target.name).sort()).toEqual(['cart', 'orders']);
      expect(blocked[0]!.reasons[0]!.message).toMatch(/role\/shop would grow from 18\d\d to 22\d\d characters with the Pod Identity statement, over the limit of 2048/);

      // Someone believes the quota was raised: the plan writes the statement, IAM refuses it.
      const planFile = join(dir, 'plan.json');
      const raised = await podid(['migrate', '--dry-run', '--all-contexts', '--trust-policy-limit', '4096', '--out', planFile], { env: sb.clientEnv });
      expect(raised.code, raised.stderr).toBe(0);
      const shopBefore = (await state(sb)).iam.roles.find((r) => r.name === 'shop')!.assumeRolePolicyDocument;
      await clearSandboxCalls(sb);
      const r = await podid(['migrate', '--apply', '--yes', '--plan', planFile, '--propagation-wait', '0', '--rollout-timeout', '20s', '-o', 'json', '--journal-dir', dir], { env: sb.clientEnv, timeoutMs: 60_000 });
      expect(r.code, r.stderr).toBe(5);
      const res = result(r);
      expect(Object.fromEntries(res.serviceAccounts.map((s) => [s.serviceAccount, s.outcome]))).toEqual({ 'aws-node': 'migrated', cart: 'failed', orders: 'failed' });
      const trust = res.steps.find((s) => s.kind === 'update-trust' && s.target.endsWith(':role/shop'))!;
      expect(trust.status).toBe('failed');
      expect(trust.message).toContain('iam:UpdateAssumeRolePolicy was refused by an AWS quota: LimitExceededException: Cannot exceed quota for ACLSizePerRole: 2048');
      expect(trust.message).toContain('--trust-policy-limit');
      expect(trust.message).not.toMatch(/throttl/i);
      const calls = await sandboxCalls(sb);
      expect(calls.filter((c) => c.operation === 'UpdateAssumeRolePolicy').map((c) => c.status).sort()).toEqual([200, 409]);
      // Nothing of role shop changed: its trust, no association, no restart of its workloads.
      const s = await state(sb);
      expect(s.iam.roles.find((x) => x.name === 'shop')!.assumeRolePolicyDocument).toEqual(shopBefore);
      expect(s.clusters[0]!.podIdentityAssociations.map((a) => a.serviceAccount)).toEqual(['aws-node']);
      expect(res.steps.filter((x) => x.kind === 'create-association').map((x) => x.status)).toEqual(['skipped', 'skipped']);
    } finally {
      await sb.stop();
    }
  }, 90_000);
});
