/**
 * `podid runs` and `podid rollback` end to end against the sandbox over HTTP (in the test
 * process): the built CLI in-process (helpers/podid.ts), and the binary as a process of its own
 * for one run of each command (runs, rollback --dry-run: their exit through bin/podid.js) and for
 * runs the kill-after-k hook SIGKILLs. Rollback must return the world exactly to its state before the
 * run, and pods to IRSA, as the sandbox's credential probe sees them.
 */
import { join } from 'node:path';
import { IAMClient, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearSandboxCalls, runPodid, sandboxCalls, type SandboxEndpoint } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';
import { sandboxServer } from '../helpers/sandbox.js';
import { apply, applyBinary, essentialState, journalDir, readJournal, result, smallWorld, state } from './apply-helpers.js';

const ROLLBACK = (dir: string, args: string[]) => ['rollback', '--apply', '--yes', '--journal-dir', dir, '--propagation-wait', '0', '--rollout-timeout', '20s', ...args];

/** `podid rollback --apply --yes` in-process. */
function rollback(sb: SandboxEndpoint, dir: string, args: string[] = []) {
  return podid(ROLLBACK(dir, args), { env: sb.clientEnv, timeoutMs: 60_000 });
}

/** The same through the built binary (a process the kill-after-k hook may SIGKILL). */
function rollbackBinary(sb: SandboxEndpoint, dir: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) {
  return runPodid(ROLLBACK(dir, args), { env: { ...sb.clientEnv, ...env }, timeoutMs: 60_000 });
}

/** Every shop pod, as the sandbox's credential probe judges it. */
async function probe(sb: SandboxEndpoint): Promise<Record<string, string>> {
  const s = await state(sb);
  const pods = s.clusters[0]!.objects.filter((o) => o.kind === 'Pod' && o.metadata.namespace === 'shop');
  const out: Record<string, string> = {};
  for (const p of pods) {
    const r = (await (await fetch(`${sb.endpoint}/_sandbox/credentials?cluster=prod&namespace=shop&pod=${p.metadata.name}`)).json()) as { ok: boolean; mechanism: string; effectiveRoleArn: string };
    out[p.metadata.name] = `${r.ok ? 'ok' : 'denied'} ${r.mechanism} ${r.effectiveRoleArn}`;
  }
  return out;
}

/** Add-ons with their IRSA role and the associations they own. */
async function addons(sb: SandboxEndpoint): Promise<string[]> {
  const s = (await (await fetch(`${sb.endpoint}/_sandbox/state`)).json()) as { clusters: { addons: { name: string; serviceAccountRoleArn: string | null; podIdentityAssociations?: unknown[] }[] }[] };
  return s.clusters[0]!.addons.map((a) => `${a.name} role=${a.serviceAccountRoleArn ?? ''} associations=${JSON.stringify(a.podIdentityAssociations ?? [])}`).sort();
}

describe('podid rollback after a full apply', () => {
  let sb: SandboxEndpoint;
  const dir = journalDir();
  let before: object;
  let addonsBefore: string[];
  let runId: string;

  beforeAll(async () => {
    sb = await sandboxServer(smallWorld());
    before = await essentialState(sb);
    addonsBefore = await addons(sb);
    const r = await apply(sb, ['-o', 'json', '--journal-dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    runId = result(r).runId!;
    expect(Object.values(await probe(sb)).every((v) => v.includes('pod-identity'))).toBe(true);
  }, 60_000);
  afterAll(async () => {
    await sb?.stop();
  });

  it('podid runs (the binary) lists the run with its outcomes; runs show (in-process) prints its steps; an unknown run exits 2', async () => {
    const list = await runPodid(['runs', '--journal-dir', dir], { env: sb.clientEnv });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^${runId}\\s+apply\\s+\\S+\\s+prod\\s+3 migrated\\s+succeeded$`, 'm'));
    const json = JSON.parse((await podid(['runs', '--journal-dir', dir, '-o', 'json'])).stdout) as { runs: { runId: string; outcomes: Record<string, number>; changes: number }[] };
    expect(json.runs[0]).toMatchObject({ runId, outcomes: { migrated: 3 }, changes: 7 });
    const show = await podid(['runs', 'show', runId, '--journal-dir', dir]);
    expect(show.stdout).toContain('+ create-association done  shop/cart');
    expect(show.stdout).toContain(`Undo it: podid rollback ${runId} --dry-run, then --apply.`);
    // -o json wherever it stands on the line (commander hands it to `runs`, the parent).
    for (const args of [['runs', 'show', runId, '--journal-dir', dir, '-o', 'json'], ['runs', 'show', '-o', 'json', runId, '--journal-dir', dir], ['runs', '-o', 'json', 'show', runId, '--journal-dir', dir]]) {
      const detail = await podid(args);
      expect(detail.code, detail.stderr).toBe(0);
      const doc = JSON.parse(detail.stdout) as { kind: string; run: { runId: string }; records: { type: string }[] };
      expect({ kind: doc.kind, runId: doc.run.runId }, args.join(' ')).toEqual({ kind: 'podid-run', runId });
      expect(doc.records.length).toBeGreaterThan(0);
    }
    const missing = await podid(['runs', 'show', 'nope', '--journal-dir', dir]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^podid: no run nope in .* — list the runs with podid runs/m);
  });

  it('--dry-run (the binary) shows what would be undone and changes nothing; --apply without a terminal or --yes exits 2', async () => {
    await clearSandboxCalls(sb);
    const r = await runPodid(['rollback', '--dry-run', '--journal-dir', dir], { env: sb.clientEnv });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Rollback of apply run ${runId}`);
    expect(r.stdout).toMatch(/- association shop\/cart -> arn:aws:iam::111122223333:role\/shop on prod/);
    expect(r.stdout).toMatch(/-\s+"Service": "pods.eks.amazonaws.com"/);
    expect((await sandboxCalls(sb)).filter((c) => c.mutating)).toEqual([]);
    const noTty = await podid(['rollback', '--apply', '--journal-dir', dir], { env: sb.clientEnv });
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toMatch(/no terminal to confirm on — review it \(podid rollback --dry-run\), then pass --yes/);
    expect((await sandboxCalls(sb)).filter((c) => c.mutating)).toEqual([]);
  });

  it('-o takes the same names as scan and migrate: yaml is the json document in YAML, table the text', async () => {
    const { parse: parseYaml } = await import('yaml');
    const commands = [
      ['runs', '--journal-dir', dir],
      ['runs', 'show', runId, '--journal-dir', dir],
      ['rollback', '--dry-run', '--journal-dir', dir],
      ['finalize', '--dry-run', '--all-contexts', '--journal-dir', dir],
    ];
    for (const args of commands) {
      const [json, yaml, text, table] = await Promise.all(['json', 'yaml', 'text', 'table'].map((o) => podid([...args, '-o', o], { env: sb.clientEnv, timeoutMs: 60_000 })));
      for (const r of [json, yaml, text, table]) expect(r!.code, `${args.join(' ')}: ${r!.stderr}`).toBe(0);
      expect(parseYaml(yaml!.stdout), args.join(' ')).toEqual(JSON.parse(json!.stdout));
      expect(yaml!.stdout.trimStart().startsWith('{'), args.join(' ')).toBe(false);
      expect(table!.stdout, args.join(' ')).toBe(text!.stdout);
    }
  }, 90_000);

  it('--apply returns trust, associations, add-ons and pods exactly to their state before the run; pods obtain their role through IRSA again', async () => {
    const r = await rollback(sb, dir, ['-o', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as { status: string; rollbackOf: string; serviceAccounts: { serviceAccount: string; outcome: string }[] };
    expect(res.rollbackOf).toBe(runId);
    expect(res.serviceAccounts.map((s) => `${s.serviceAccount}:${s.outcome}`).sort()).toEqual(['aws-node:restored', 'cart:restored', 'orders:restored']);
    // Structural equality of the decoded trust policies, associations, add-ons, pod identities.
    expect(await essentialState(sb)).toEqual(before);
    expect(await addons(sb)).toEqual(addonsBefore);
    const probed = await probe(sb);
    expect(Object.keys(probed)).toHaveLength(3);
    for (const v of Object.values(probed)) expect(v).toBe('ok irsa arn:aws:iam::111122223333:role/shop');
  });

  it('is journaled, listed as undoing the run, and a second rollback is refused: one line, exit 2, nothing changed', async () => {
    const list = await podid(['runs', '--journal-dir', dir]);
    expect(list.stdout).toMatch(new RegExp(`rollback .* 3 restored\\s+succeeded; undoes ${runId}`));
    expect(list.stdout).toMatch(/apply .* rolled back by /);
    await clearSandboxCalls(sb);
    const rolledBackBy = (JSON.parse((await podid(['runs', '--journal-dir', dir, '-o', 'json'])).stdout) as { runs: { runId: string; rolledBackBy: string[] }[] }).runs.find((x) => x.runId === runId)!.rolledBackBy[0]!;
    for (const mode of [['--dry-run'], ['--apply', '--yes']]) {
      const again = await podid(['rollback', runId, ...mode, '--journal-dir', dir], { env: sb.clientEnv });
      expect(again.code, again.stderr).toBe(2);
      expect(again.stdout).toBe('');
      expect(again.stderr).toBe(`podid: run ${runId} was already rolled back by ${rolledBackBy} (succeeded); nothing of it is left to undo, and what is in place now is not its to remove — list the runs with podid runs\n`);
    }
    expect((await sandboxCalls(sb)).filter((c) => c.mutating)).toEqual([]);
    // Nothing is left to roll back by default.
    const none = await podid(['rollback', '--dry-run', '--journal-dir', dir]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no apply or finalize run left to roll back');
    // A rollback is not itself rolled back: one line, exit 2 (ROLLBACK_OF_ROLLBACK).
    const runsJson = JSON.parse((await podid(['runs', '--journal-dir', dir, '-o', 'json'])).stdout) as { runs: { runId: string; command: string }[] };
    const rollbackId = runsJson.runs.find((x) => x.command === 'rollback')!.runId;
    const twice = await podid(['rollback', rollbackId, '--dry-run', '--journal-dir', dir]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toBe(`podid: run ${rollbackId} is itself a rollback; podid does not roll back a rollback — apply the migration again (podid migrate --apply), or finalize it\n`);
  });
});

describe('podid rollback after a run killed mid-way (the binary, SIGKILLed)', () => {
  it.each([2, 5])('restores what a run killed after %i mutating calls had done', async (k) => {
    const sb = await sandboxServer(smallWorld());
    try {
      const before = await essentialState(sb);
      const dir = journalDir();
      const killed = await applyBinary(sb, ['-o', 'json', '--journal-dir', dir, '--concurrency', '1', '--max-concurrent-rollouts', '1'], { env: { PODID_TEST_KILL_AFTER_MUTATIONS: String(k) } });
      expect(killed.signal).toBe('SIGKILL');
      expect(await essentialState(sb)).not.toEqual(before);
      const runs = await podid(['runs', '--journal-dir', dir]);
      expect(runs.stdout).toMatch(/apply .* unfinished \(killed, or still running\)/);
      const r = await rollback(sb, dir);
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(await essentialState(sb)).toEqual(before);
      for (const v of Object.values(await probe(sb))) expect(v).toBe('ok irsa arn:aws:iam::111122223333:role/shop');
    } finally {
      await sb.stop();
    }
  }, 60_000);

  it('a rollback killed mid-way finishes when run again', async () => {
    const sb = await sandboxServer(smallWorld());
    try {
      const before = await essentialState(sb);
      const dir = journalDir();
      const r = await apply(sb, ['-o', 'json', '--journal-dir', dir]);
      expect(r.code, r.stderr).toBe(0);
      const killed = await rollbackBinary(sb, dir, ['--concurrency', '1', '--max-concurrent-rollouts', '1'], { PODID_TEST_KILL_AFTER_MUTATIONS: '3' });
      expect(killed.signal).toBe('SIGKILL');
      const again = await rollback(sb, dir, [result(r).runId!]);
      expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
      expect(await essentialState(sb)).toEqual(before);
    } finally {
      await sb.stop();
    }
  }, 60_000);
});

describe('podid rollback when someone changed a role after the run', () => {
  it('refuses that role with the three-way difference (exit 4) and restores the rest', async () => {
    const sb = await sandboxServer(smallWorld());
    try {
      const before = (await state(sb)).iam.roles.find((x) => x.name === 'cni')!.assumeRolePolicyDocument;
      const dir = journalDir();
      const r = await apply(sb, ['-o', 'json', '--journal-dir', dir]);
      expect(r.code, r.stderr).toBe(0);
      const written = (await state(sb)).iam.roles.find((x) => x.name === 'shop')!.assumeRolePolicyDocument;
      const edited = { ...written, Statement: [...written.Statement, { Sid: 'AddedByPlatformTeam', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
      const iam = new IAMClient({ region: 'us-east-1', endpoint: sb.endpoint, credentials: { accessKeyId: 'AKIDSANDBOXEXAMPLE', secretAccessKey: 'sandbox' } });
      await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'shop', PolicyDocument: JSON.stringify(edited) }));

      const rb = await rollback(sb, dir);
      expect(rb.code, rb.stderr).toBe(4);
      expect(rb.stdout).toMatch(/! restore-trust drifted {2}arn:aws:iam::111122223333:role\/shop: refused: the trust policy was changed after the run/);
      // The difference: what someone added since the run, and what a rollback would have written.
      expect(rb.stdout).toContain('changed after the run (what the run wrote -> what it is now):');
      expect(rb.stdout).toMatch(/\+\s+"Sid": "AddedByPlatformTeam"/);
      expect(rb.stdout).toMatch(/-\s+"Sid": "PodidPodIdentity"/);
      const s = await state(sb);
      expect(s.iam.roles.find((x) => x.name === 'shop')!.assumeRolePolicyDocument).toEqual(edited);
      expect(s.iam.roles.find((x) => x.name === 'cni')!.assumeRolePolicyDocument).toEqual(before);
      expect(s.clusters[0]!.podIdentityAssociations).toEqual([]);
      const journal = readJournal(JSON.parse((await podid(['runs', '--journal-dir', dir, '-o', 'json'])).stdout).runs[0].journal);
      expect(journal.at(-1)).toMatchObject({ record: 'finished', status: 'refused', exitCode: 4 });
    } finally {
      await sb.stop();
    }
  }, 60_000);
});

describe('podid rollback of a run that refused a ServiceAccount as drifted', () => {
  it('verifies only what the run changed: a ServiceAccount it left untouched is not judged (exit 0, not 5 for ever)', async () => {
    const sb = await sandboxServer(smallWorld({ stuck: true, withAddon: false }));
    try {
      const dir = journalDir();
      const planFile = join(dir, 'plan.json');
      const dry = await podid(['migrate', '--dry-run', '--all-contexts', '--out', planFile], { env: sb.clientEnv });
      expect(dry.code, dry.stderr).toBe(0);
      // After the review, someone narrows role loader's IRSA trust: the plan is stale for batch/loader.
      const loader = (await state(sb)).iam.roles.find((x) => x.name === 'loader')!.assumeRolePolicyDocument as { Statement: { Condition: { StringEquals: Record<string, unknown> } }[] };
      const stmt = loader.Statement[0]!;
      const subKey = Object.keys(stmt.Condition.StringEquals).find((k) => k.endsWith(':sub'))!;
      stmt.Condition.StringEquals[subKey] = ['system:serviceaccount:batch:other'];
      const iam = new IAMClient({ region: 'us-east-1', endpoint: sb.endpoint, credentials: { accessKeyId: 'AKIDSANDBOXEXAMPLE', secretAccessKey: 'sandbox' } });
      await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'loader', PolicyDocument: JSON.stringify(loader) }));

      const r = await podid(['migrate', '--apply', '--yes', '--plan', planFile, '--propagation-wait', '0', '--rollout-timeout', '20s', '-o', 'json', '--journal-dir', dir], { env: sb.clientEnv, timeoutMs: 60_000 });
      expect(r.code, r.stderr).toBe(4);
      expect(result(r).serviceAccounts.find((s) => s.serviceAccount === 'loader')!.outcome).toBe('drifted');

      const rb = await rollback(sb, dir, ['-o', 'json']);
      expect(rb.code, rb.stdout + rb.stderr).toBe(0);
      const doc = JSON.parse(rb.stdout) as { serviceAccounts: { serviceAccount: string; outcome: string }[] };
      expect(doc.serviceAccounts.map((s) => `${s.serviceAccount}:${s.outcome}`).sort()).toEqual(['cart:restored', 'orders:restored']);
      // Rolled back: not rolled back again (exit 2, ALREADY_ROLLED_BACK), nothing sent.
      await clearSandboxCalls(sb);
      const again = await rollback(sb, dir, [result(r).runId ?? '', '-o', 'json']);
      expect(again.code, again.stdout + again.stderr).toBe(2);
      expect(again.stderr).toContain('was already rolled back by');
      expect((await sandboxCalls(sb)).filter((c) => c.mutating)).toEqual([]);
    } finally {
      await sb.stop();
    }
  }, 90_000);
});
