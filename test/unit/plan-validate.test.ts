/**
 * Saved plans (`--out plan.json`, read back by `migrate --apply`) and step fingerprints: a plan
 * round-trips through JSON unchanged, and every way a file can be wrong gives a one-line
 * UsageError naming the place.
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { canonicalJson, fingerprintAddon, fingerprintAgent, fingerprintAssociationInput, fingerprintOf, fingerprintTrust } from '../../src/core/plan/fingerprint.js';
import type { MigrationPlan, PlanOptions } from '../../src/core/plan/model.js';
import { planMigration } from '../../src/core/plan/plan.js';
import { checkPlanIntegrity, formatPath, parsePlanDocument } from '../../src/core/plan/validate.js';
import { analyzeFleet } from '../../src/core/scan/analyze.js';
import { OTHER_ACCOUNT, baseFleet, foundRole, pod, policy, prod, roleArn, workload } from './analyze-snapshot.js';
import { addPodIdentityTrust, parsePolicy, policyLength, policyToJson, roleAccess } from '../../src/core/policy/index.js';

const NOW = new Date('2025-06-01T12:00:00Z');
const SOURCE = roleArn('chain-source');

/** A plan with every part filled: trust, a chained association, restarts, manual items and a blocked item. */
function richPlan(): MigrationPlan {
  const s = baseFleet();
  const c = prod(s);
  const remote = roleArn('remote', OTHER_ACCOUNT);
  c.kube.serviceAccounts.push({ namespace: 'data', name: 'etl', uid: 'sa-etl', resourceVersion: '4', annotations: { 'eks.amazonaws.com/role-arn': remote } });
  c.kube.workloads.push(workload('CronJob', 'data', 'nightly', 'etl'));
  c.kube.pods.push(pod('data', 'bare', 'etl', 'irsa'));
  c.kube.serviceAccounts.push({ namespace: 'data', name: 'gone', uid: 'sa-gone', resourceVersion: '1', annotations: { 'eks.amazonaws.com/role-arn': roleArn('missing') } });
  s.roles[remote] = { arn: remote, state: 'unreadable', trustPolicy: null, error: 'AccessDenied' };
  s.roles[roleArn('missing')] = { arn: roleArn('missing'), state: 'missing', trustPolicy: null, error: 'NoSuchEntity' };
  // A dedicated source role: only pods.eks.amazonaws.com may assume it.
  s.roles[SOURCE] = foundRole(SOURCE, policy({ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'], Condition: { StringEquals: { 'aws:RequestTag/kubernetes-namespace': 'none' } } }));
  const options: PlanOptions = {
    installAgent: false,
    restart: true,
    maxConcurrentRollouts: 1,
    crossAccountSourceRole: SOURCE,
    selection: { contexts: ['prod'], namespaces: [], serviceAccounts: [], roles: [] },
    trustPolicyLimit: 2048,
  };
  return planMigration({ inventory: analyzeFleet(s, { now: NOW }), options, now: NOW, toolVersion: '1.2.3' });
}

function failure(text: string): UsageError {
  try {
    parsePlanDocument(text, 'plan.json');
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('parsePlanDocument accepted the document');
}

function edited(edit: (doc: Record<string, unknown> & { steps: Record<string, unknown>[] }) => void): string {
  const doc = JSON.parse(JSON.stringify(richPlan())) as Record<string, unknown> & { steps: Record<string, unknown>[] };
  edit(doc);
  return JSON.stringify(doc);
}

describe('parsePlanDocument', () => {
  it('round-trips a plan: JSON.stringify, parse, deep equal', () => {
    const plan = richPlan();
    expect(plan.steps.map((s) => s.kind)).toEqual(['update-trust', 'update-trust', 'create-association', 'create-association', 'restart-batch']);
    expect(plan.blocked).toHaveLength(1);
    expect(plan.manual.length).toBeGreaterThan(0);
    expect(parsePlanDocument(JSON.stringify(plan), 'plan.json')).toEqual(plan);
    expect(parsePlanDocument(JSON.stringify(plan, null, 2), 'plan.json')).toEqual(plan);
  });

  it('keeps the clusters a partial scan could not read, and loads a plan saved before `unscanned` existed as if it were empty', () => {
    const plan = richPlan();
    const partial = { ...plan, unscanned: [{ context: 'kind-local', name: 'kind-local', region: '', reasons: [{ code: 'NOT_AN_EKS_CONTEXT' as const, severity: 'error' as const, message: 'context kind-local was not scanned', fix: 'pass --cluster' }] }] };
    expect(parsePlanDocument(JSON.stringify(partial), 'plan.json')).toEqual(partial);
    const { unscanned: _, ...older } = plan;
    expect(parsePlanDocument(JSON.stringify(older), 'plan.json')).toEqual({ ...older, unscanned: [] });
    const e = failure(JSON.stringify({ ...partial, unscanned: [{ context: 'x', name: 'x', region: '', reasons: [], extra: 1 }] }));
    expect(e.message).toContain('unscanned[0]');
  });

  it('rejects text that is not JSON', () => {
    const e = failure('{"kind": ');
    expect(e.code).toBe('PLAN_INVALID');
    expect(e.message).toMatch(/^plan\.json: not valid JSON: /);
  });

  it('rejects a document of another kind', () => {
    const e = failure(JSON.stringify({ schemaVersion: 1, clusters: [] }));
    expect(e.code).toBe('PLAN_WRONG_KIND');
    expect(e.message).toContain('kind is missing');
    expect(failure(JSON.stringify([1])).message).toBe('plan.json: (document): expected a JSON object');
  });

  it('tells to upgrade podid for a newer schema version, and to plan again for an older one', () => {
    const e = failure(edited((d) => (d['schemaVersion'] = 3)));
    expect(e.code).toBe('PLAN_TOO_NEW');
    expect(e.message).toContain('schemaVersion 3');
    expect(e.hint).toMatch(/upgrade podid/);
    const old = failure(edited((d) => (d['schemaVersion'] = 1)));
    expect(old.code).toBe('PLAN_TOO_OLD');
    expect(old.hint).toMatch(/make a new plan/);
  });

  it('names the path of a missing or mistyped field, on one line', () => {
    const missing = failure(edited((d) => delete d.steps[0]?.['fingerprint']));
    expect(missing.code).toBe('PLAN_INVALID');
    expect(missing.message).toMatch(/^plan\.json: steps\[0\]\.fingerprint: /);
    expect(missing.message).not.toContain('\n');

    const typed = failure(edited((d) => ((d['options'] as Record<string, unknown>)['maxConcurrentRollouts'] = 'two')));
    expect(typed.message).toMatch(/^plan\.json: options\.maxConcurrentRollouts: /);

    const fp = failure(edited((d) => (d.steps[1]!['fingerprint'] = 'abc')));
    expect(fp.message).toBe('plan.json: steps[1].fingerprint: expected a sha256 hex fingerprint (64 lowercase hex digits)');
  });

  it('rejects unknown keys and unknown step kinds', () => {
    const extra = failure(edited((d) => (d.steps[2]!['overwrite'] = true)));
    expect(extra.message).toMatch(/^plan\.json: steps\[2\]: .*overwrite/);
    const kind = failure(edited((d) => (d.steps[0]!['kind'] = 'delete-role')));
    expect(kind.message).toMatch(/^plan\.json: steps\[0\]\.kind: unknown step kind; expected one of install-agent, update-trust/);
  });

  it('counts further problems in the same line', () => {
    const e = failure(edited((d) => {
      delete d['toolVersion'];
      delete d['caller'];
    }));
    expect(e.message).toMatch(/\(and 1 more problem\)$/);
  });

  it('checks that steps depend only on earlier steps, and ids are unique', () => {
    const dangling = failure(edited((d) => (d.steps[0]!['dependsOn'] = ['assoc:nowhere'])));
    expect(dangling.message).toBe('plan.json: steps[0].dependsOn[0]: "assoc:nowhere" is not an earlier step of the plan');
    const dup = failure(edited((d) => (d.steps[1]!['id'] = d.steps[0]!['id'])));
    expect(dup.message).toMatch(/^plan\.json: steps\[1\]\.id: duplicate step id/);
  });

  describe('refuses steps whose derived parts are not what podid derives', () => {
    type Doc = Record<string, unknown> & { steps: Record<string, unknown>[] };
    const trustIndex = (d: Doc) => d.steps.findIndex((s) => s['kind'] === 'update-trust' && String(s['roleArn']).endsWith('role/cart'));
    const afterStatements = (d: Doc) => (d.steps[trustIndex(d)]!['after'] as { Statement: Record<string, unknown>[] }).Statement;

    it('an update-trust after widened by hand (principal, conditions)', () => {
      const widened = failure(edited((d) => {
        const added = afterStatements(d).at(-1)!;
        added['Principal'] = '*';
      }));
      expect(widened.code).toBe('PLAN_INVALID');
      expect(widened.message).toMatch(/^plan\.json: steps\[\d\]: update-trust "trust:arn:aws:iam::111122223333:role\/cart": after is not podid's change of before/);
      expect(widened.message).not.toContain('\n');

      const unconditioned = failure(edited((d) => delete afterStatements(d).at(-1)!['Condition']));
      expect(unconditioned.message).toContain("after is not podid's change of before");
    });

    it('an update-trust after that changes another statement, or drops one', () => {
      const other = failure(edited((d) => {
        const irsa = afterStatements(d)[0]!;
        irsa['Action'] = ['sts:AssumeRoleWithWebIdentity', 'sts:AssumeRole'];
      }));
      expect(other.message).toContain("after is not podid's change of before");
      const dropped = failure(edited((d) => afterStatements(d).shift()));
      expect(dropped.message).toContain("after is not podid's change of before");
    });

    it('a fingerprint that is not the fingerprint of before', () => {
      const e = failure(edited((d) => (d.steps[trustIndex(d)]!['fingerprint'] = 'f'.repeat(64))));
      expect(e.message).toMatch(/steps\[\d\]: update-trust .*: fingerprint is not the fingerprint of before$/);
    });

    it('wrong added indexes, or clusters that are not the subjects\' clusters of the plan and the role\'s account', () => {
      expect(failure(edited((d) => (d.steps[trustIndex(d)]!['added'] = [0]))).message).toContain('added and extended must be [1] and []');
      expect(failure(edited((d) => (d.steps[trustIndex(d)]!['clusters'] = ['arn:aws:eks:us-east-1:111122223333:cluster/other']))).message).toContain('is not one of the plan');
      expect(failure(edited((d) => (d.steps[trustIndex(d)]!['clusters'] = ['arn:aws:eks:us-east-1:444455556666:cluster/prod']))).message).toContain("not the role's account 111122223333");
    });

    it('a subject the IRSA trust never admitted, even with after and access made to match (the no-widening proof)', () => {
      const e = failure(edited((d) => {
        const step = d.steps[trustIndex(d)]!;
        const subjects = step['subjects'] as { cluster: string; namespace: string; serviceAccount: string }[];
        subjects.push({ cluster: subjects[0]!.cluster, namespace: 'shop', serviceAccount: 'intruder' });
        const before = parsePolicy(step['before'] as Record<string, unknown>);
        const result = addPodIdentityTrust(before, { partition: 'aws', clusterAccount: '111122223333', subjects });
        step['after'] = policyToJson(result.policy);
        step['access'] = { before: roleAccess(before), after: roleAccess(result.policy) };
        step['lengthAfter'] = policyLength(result.policy);
      }));
      expect(e.message).toMatch(/update-trust "trust:.*role\/cart": after would widen who can assume the role: statement 1 admits shop\/intruder on arn:aws:eks:us-east-1:111122223333:cluster\/prod, which the trust policy did not admit through IRSA$/);
    });

    it('who can assume the role (access) edited by hand', () => {
      const e = failure(edited((d) => {
        const access = d.steps[trustIndex(d)]!['access'] as { after: { other: unknown[] } };
        access.after.other = [];
        ((access as unknown as { before: { irsa: unknown[] } }).before.irsa) = [];
      }));
      expect(e.message).toContain('access (who can assume the role before and after) does not recompute from before and after');
    });

    it('an association whose role is not the annotated role, or that skips its trust step', () => {
      const assoc = (d: Doc) => d.steps.find((s) => s['kind'] === 'create-association' && s['targetRoleArn'] === null)!;
      const role = failure(edited((d) => (assoc(d)['roleArn'] = 'arn:aws:iam::111122223333:role/admin')));
      expect(role.message).toMatch(/create-association "assoc:.*\/shop\/cart": roleArn arn:aws:iam::111122223333:role\/admin is not the annotated role/);
      const dep = failure(edited((d) => (assoc(d)['dependsOn'] = [])));
      expect(dep.message).toMatch(/create-association .*: it must depend on trust:/);
      const phases = failure(edited((d) => (assoc(d)['phases'] = 'two-phase')));
      expect(phases.message).toContain('phases must be single');
    });

    it('a cross-account target trust edited by hand (the externalId condition dropped)', () => {
      const e = failure(edited((d) => {
        const step = d.steps.find((s) => s['kind'] === 'create-association' && s['targetRoleArn'] !== null)!;
        delete ((step['crossAccount'] as Record<string, Record<string, unknown>>)['targetTrustStatement']!)['Condition'];
      }));
      expect(e.message).toMatch(/create-association "assoc:.*\/data\/etl": crossAccount is not podid's role-chaining statements/);
    });

    describe('a restart batch restarts only workloads of ServiceAccounts the plan migrates', () => {
      type Workload = { kind: string; namespace: string; name: string; serviceAccounts: string[] };
      const batch = (d: Doc) => d.steps.find((s) => s['kind'] === 'restart-batch')!;
      const workloads = (d: Doc) => batch(d)['workloads'] as Workload[];

      it('the planned batch restarts shop/cart for its association', () => {
        const plan = richPlan();
        const step = plan.steps.find((s) => s.kind === 'restart-batch')!;
        expect(step.kind === 'restart-batch' && step.workloads).toEqual([{ kind: 'Deployment', namespace: 'shop', name: 'cart', serviceAccounts: ['cart'] }]);
      });

      it('a workload added with no ServiceAccount', () => {
        const e = failure(edited((d) => workloads(d).push({ kind: 'Deployment', namespace: 'shop', name: 'intruder', serviceAccounts: [] })));
        expect(e.code).toBe('PLAN_INVALID');
        expect(e.message).toMatch(/^plan\.json: steps\[\d\]: restart-batch "restart:.*\/1": workloads\[1\] Deployment\/shop\/intruder names no ServiceAccount; podid restarts a workload only for a ServiceAccount the plan migrates$/);
      });

      it('a workload added for a ServiceAccount the plan blocks', () => {
        const e = failure(edited((d) => workloads(d).push({ kind: 'Deployment', namespace: 'data', name: 'loader', serviceAccounts: ['gone'] })));
        expect(e.message).toMatch(/workloads\[1\] Deployment\/data\/loader is restarted for data\/gone, a ServiceAccount the plan blocks$/);
      });

      it('a workload added for a cross-account ServiceAccount, or one in the manual list', () => {
        const chained = failure(edited((d) => workloads(d).push({ kind: 'Deployment', namespace: 'data', name: 'etl', serviceAccounts: ['etl'] })));
        expect(chained.message).toMatch(/workloads\[1\] Deployment\/data\/etl is restarted for data\/etl, whose association is cross-account: podid never restarts those/);
        const manual = failure(edited((d) => {
          const m = (d['manual'] as { kind: string; namespace: string; name: string; serviceAccount: string }[])[0]!;
          m.kind = 'Deployment';
          workloads(d).push({ kind: 'Deployment', namespace: m.namespace, name: m.name, serviceAccounts: [m.serviceAccount] });
        }));
        expect(manual.message).toMatch(/is in the plan's manual list for data\/etl, which podid does not restart$/);
      });

      it('a workload added for a ServiceAccount outside the plan\'s selection (-n, --service-account)', () => {
        const ns = failure(edited((d) => {
          (d['options'] as { selection: { namespaces: string[] } }).selection.namespaces = ['shop'];
          workloads(d).push({ kind: 'Deployment', namespace: 'billing', name: 'invoices', serviceAccounts: ['invoices'] });
        }));
        expect(ns.message).toMatch(/workloads\[1\] Deployment\/billing\/invoices is restarted for billing\/invoices, outside the plan's selection \(-n shop\)$/);
        const sa = failure(edited((d) => {
          (d['options'] as { selection: { serviceAccounts: string[] } }).selection.serviceAccounts = ['shop/cart'];
          workloads(d).push({ kind: 'Deployment', namespace: 'shop', name: 'orders', serviceAccounts: ['orders'] });
        }));
        expect(sa.message).toContain('is restarted for shop/orders, outside the plan\'s selection (--service-account shop/cart)');
      });

      it('a batch that does not wait for the association it puts into effect', () => {
        const e = failure(edited((d) => (batch(d)['dependsOn'] = [])));
        expect(e.message).toMatch(/workloads\[0\] Deployment\/shop\/cart is restarted for shop\/cart, so the batch must depend on assoc:.*\/shop\/cart$/);
      });

      it('a workload restarted twice', () => {
        const e = failure(edited((d) => workloads(d).push({ ...workloads(d)[0]! })));
        expect(e.message).toMatch(/workloads\[1\] Deployment\/shop\/cart is restarted by restart:.*\/1 already$/);
      });
    });

    it('checkPlanIntegrity accepts what the planner makes', () => {
      expect(() => checkPlanIntegrity(richPlan())).not.toThrow();
    });
  });

  it('formats paths the way users read them', () => {
    expect(formatPath([])).toBe('(document)');
    expect(formatPath(['steps', 3, 'before', 'Statement', 0])).toBe('steps[3].before.Statement[0]');
    expect(formatPath(['before', 'Condition', 'aws:SourceArn'])).toBe('before.Condition["aws:SourceArn"]');
  });
});

describe('fingerprints', () => {
  it('are sha256 hex of canonical JSON: key order does not matter, array order does', () => {
    expect(canonicalJson({ b: 1, a: [2, { d: null, c: 'x' }] })).toBe('{"a":[2,{"c":"x","d":null}],"b":1}');
    expect(fingerprintOf({ a: 1, b: 2 })).toBe(fingerprintOf({ b: 2, a: 1 }));
    expect(fingerprintOf([1, 2])).not.toBe(fingerprintOf([2, 1]));
    expect(fingerprintOf({})).toMatch(/^[0-9a-f]{64}$/);
  });

  it('change when the input a step depends on changes', () => {
    const doc = { Version: '2012-10-17', Statement: [{ Effect: 'Allow' }] };
    expect(fingerprintTrust(doc)).not.toBe(fingerprintTrust({ ...doc, Statement: [{ Effect: 'Deny' }] }));
    const sa = { saUid: 'u1', saResourceVersion: '5' };
    expect(fingerprintAssociationInput({ association: null, ...sa })).not.toBe(
      fingerprintAssociationInput({ association: { associationId: 'a-1', roleArn: roleArn('x'), targetRoleArn: null }, ...sa }),
    );
    expect(fingerprintAssociationInput({ association: null, ...sa })).not.toBe(fingerprintAssociationInput({ association: null, saUid: 'u2', saResourceVersion: '5' }));
    const addon = { version: 'v1', serviceAccountRoleArn: roleArn('cni'), podIdentityAssociations: ['b', 'a'] };
    expect(fingerprintAddon(addon)).toBe(fingerprintAddon({ ...addon, podIdentityAssociations: ['a', 'b'] }));
    expect(fingerprintAddon(addon)).not.toBe(fingerprintAddon({ ...addon, version: 'v2' }));
    expect(fingerprintAgent(null)).not.toBe(fingerprintAgent({ version: 'v1', status: 'ACTIVE' }));
  });
});
