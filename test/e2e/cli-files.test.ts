/**
 * Selections that match nothing, output files (stdout, atomic sets, no clobbering), temporary
 * directories and invalid Kubernetes names in a world (the temporary directory `podid sandbox`
 * removes when it stops: cli.test.ts, with its SIGTERM). Every bad input gets one line on stderr,
 * the documented exit code and no stack trace. The built CLI in-process (helpers/podid.ts)
 * against the sandbox over HTTP; `podid sandbox` as a process where it serves (--force).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { MigrationPlan } from '../../src/core/plan/model.js';
import { ExitCode } from '../../src/core/errors.js';
import { ROOT, startSandboxProcess, type RunResult, type SandboxEndpoint } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';
import { sandboxServer } from '../helpers/sandbox.js';

const dir = mkdtempSync(join(tmpdir(), 'podid-files-'));
const ROLE = 'arn:aws:iam::111122223333:role/cart';

/** One line on stderr, no stack trace. */
function expectOneLine(r: RunResult, code: number, text: string | RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(typeof text === 'string' ? new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : text);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('against the demo world', () => {
  let sb: SandboxEndpoint;
  beforeAll(async () => {
    sb = await sandboxServer({ file: join(ROOT, 'examples/world.yaml') });
  });
  afterAll(async () => {
    await sb?.stop();
  });
  const migrate = (args: string[]) => podid(['migrate', '--dry-run', '--all-contexts', ...args], { env: sb.clientEnv, timeoutMs: 30_000 });

  describe('migrate --dry-run with a selection that matches nothing', () => {
    it.each([
      [['--role', 'arn:aws:iam::111122223333:role/no-such-role'], '--role arn:aws:iam::111122223333:role/no-such-role: no IRSA service account or add-on uses this role'],
      [['-n', 'no-such-namespace'], '-n no-such-namespace: no IRSA service account or add-on in namespace no-such-namespace'],
      [['--service-account', 'shop/no-such-sa'], '--service-account shop/no-such-sa: no IRSA service account shop/no-such-sa'],
      [['-n', 'shop', '--service-account', 'payments/ledger'], '-n shop --service-account payments/ledger: no IRSA service account or add-on in the 2 scanned clusters matches them all'],
      [['--service-account', 'shop/cart', '--role', 'arn:aws:iam::111122223333:role/orders'], 'among those -n/--service-account select'],
    ])('%j says so and exits 2', async (args, message) => {
      const r = await migrate(args);
      expectOneLine(r, ExitCode.usage, message);
      expect(r.stdout).not.toContain('Everything selected');
    });

    it('a selection that matches only migrated service accounts still says "no changes"', async () => {
      const r = await migrate(['--service-account', 'shop/checkout']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('No changes.');
    });
  });

  describe('outputs', () => {
    it('--out - writes the plan document to stdout and the review to stderr', async () => {
      const r = await migrate(['--role', ROLE, '--out', '-']);
      expect(r.code, r.stderr).toBe(0);
      const plan = JSON.parse(r.stdout) as MigrationPlan;
      expect(plan.steps.length).toBeGreaterThan(0);
      expect(r.stderr).toContain('Plan:');
      expect(existsSync(join(ROOT, '-'))).toBe(false);
    });

    it('-o yaml prints the plan document as YAML, the same as -o json', async () => {
      const [y, j] = await Promise.all([migrate(['--role', ROLE, '-o', 'yaml']), migrate(['--role', ROLE, '-o', 'json'])]);
      expect(y.code).toBe(0);
      const fromYaml = parse(y.stdout) as MigrationPlan;
      const fromJson = JSON.parse(j.stdout) as MigrationPlan;
      expect(fromYaml.steps).toEqual(fromJson.steps);
      expect(fromYaml.summary).toEqual(fromJson.summary);
    });

    it('--emit terraform - writes Terraform to stdout', async () => {
      const r = await migrate(['--role', ROLE, '--emit', 'terraform', '-']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/resource "aws_eks_pod_identity_association"/);
      expect(r.stderr).toContain('Plan:');
    });

    it('two outputs on stdout are a usage error before any scan', async () => {
      expectOneLine(await migrate(['--out', '-', '--emit', 'terraform', '-']), ExitCode.usage, '--out - and --emit terraform - both write to stdout');
      expectOneLine(await migrate(['-o', 'yaml', '--out', '-']), ExitCode.usage, '-o yaml and --out - both write to stdout');
    });

    it('a failing --emit leaves no plan file, and an existing one untouched', async () => {
      const out = join(dir, 'plan.json');
      const r = await migrate(['--role', ROLE, '--out', out, '--emit', 'terraform', join(dir, 'missing-dir', 'plan.tf')]);
      expectOneLine(r, ExitCode.usage, `--emit terraform ${join(dir, 'missing-dir', 'plan.tf')}: cannot write (its directory does not exist)`);
      expect(existsSync(out)).toBe(false);
      writeFileSync(out, 'the previous plan\n');
      await migrate(['--role', ROLE, '--out', out, '--emit', 'terraform', join(dir, 'missing-dir', 'plan.tf')]);
      expect(readFileSync(out, 'utf8')).toBe('the previous plan\n');
      expect((await import('node:fs')).readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });

    it('refuses --out and --emit naming the same file, writing neither', async () => {
      const same = join(dir, 'same.out');
      const r = await migrate(['--role', ROLE, '--out', same, '--emit', 'terraform', same]);
      expectOneLine(r, ExitCode.usage, '--out and --emit terraform name the same file');
      expect(existsSync(same)).toBe(false);
    });

    it('writes both files when both can be written', async () => {
      const out = join(dir, 'both.json');
      const tf = join(dir, 'both.tf');
      const r = await migrate(['--role', ROLE, '--out', out, '--emit', 'terraform', tf]);
      expect(r.code, r.stderr).toBe(0);
      expect((JSON.parse(readFileSync(out, 'utf8')) as MigrationPlan).steps.length).toBeGreaterThan(0);
      expect(readFileSync(tf, 'utf8')).toContain('aws_eks_pod_identity_association');
    });
  });
});

describe('podid sandbox files', () => {
  it('refuses --kubeconfig-out and --env-out naming the same file (exit 2, one line), --force or not', async () => {
    const same = join(dir, 'same-file');
    const r = await podid(['sandbox', '--world', 'examples/world.yaml', '--kubeconfig-out', same, '--env-out', join(dir, '.', 'same-file'), '--force', '--quiet'], { timeoutMs: 30_000 });
    expectOneLine(r, ExitCode.usage, `--kubeconfig-out and --env-out name the same file`);
    expect(existsSync(same)).toBe(false);
  });

  it('refuses to overwrite --kubeconfig-out or --env-out unless --force', async () => {
    const kubeconfig = join(dir, 'existing.kubeconfig');
    const env = join(dir, 'fresh.env');
    writeFileSync(kubeconfig, 'mine\n');
    const r = await podid(['sandbox', '--world', 'examples/world.yaml', '--kubeconfig-out', kubeconfig, '--env-out', env, '--quiet']);
    expectOneLine(r, ExitCode.usage, `--kubeconfig-out ${kubeconfig}: the file already exists — pass --force to replace it`);
    expect(readFileSync(kubeconfig, 'utf8')).toBe('mine\n');
    expect(existsSync(env)).toBe(false);
    const forced = await startSandboxProcess(['--world', 'examples/world.yaml', '--kubeconfig-out', kubeconfig, '--env-out', env, '--force', '--quiet']);
    try {
      expect(readFileSync(kubeconfig, 'utf8')).toContain('apiVersion: v1');
    } finally {
      await forced.stop();
    }
  });

  it('an invalid Kubernetes name in a world file is a world error naming the path (exit 2)', async () => {
    const world = join(dir, 'bad-name.yaml');
    writeFileSync(world, readFileSync('examples/world.yaml', 'utf8').replace('name: cart, namespace: shop', 'name: Cart_SA, namespace: shop'));
    expect(readFileSync(world, 'utf8')).toContain('Cart_SA');
    const r = await podid(['sandbox', '--world', world, '--quiet']);
    expectOneLine(r, ExitCode.usage, /clusters\[0\]\.objects\[\d+\]\.metadata\.name: expected a Kubernetes name .* \(got "Cart_SA"\)/);
  });

  it('an object Kubernetes refuses is a world error naming the object (exit 2)', async () => {
    const world = join(dir, 'bad-object.yaml');
    writeFileSync(world, [
      'account: "111122223333"', 'region: us-east-1', 'clusters:', '  - name: prod', '    version: "1.30"', '    platformVersion: eks.9', '    objects:',
      '      - apiVersion: apps/v1', '        kind: Deployment', '        metadata: { name: web, namespace: shop }', '        spec: { template: { spec: { containers: [{ name: c, image: x }] } } }', '',
    ].join('\n'));
    const r = await podid(['sandbox', '--world', world, '--quiet']);
    expectOneLine(r, ExitCode.usage, `${world}: cluster prod: objects[0] (Deployment shop/web)`);
  });

  it('an object of a shape Kubernetes refuses (env not a list, spec not an object, negative replicas) is a world error naming the object and the field (exit 2)', async () => {
    const head = ['account: "111122223333"', 'region: us-east-1', 'clusters:', '  - name: prod', '    version: "1.30"', '    platformVersion: eks.9', '    objects:'];
    const cases: [string, string[], string][] = [
      ['env', ['      - apiVersion: v1', '        kind: Pod', '        metadata: { name: p, namespace: shop }', '        spec: { containers: [{ name: c, image: x, env: 7 }] }'], '(Pod shop/p): Pod "p" is invalid: spec.containers[0].env: Invalid value: 7: must be a list of {name, value} objects'],
      ['spec', ['      - apiVersion: v1', '        kind: Pod', '        metadata: { name: p, namespace: shop }', '        spec: 5'], '(Pod shop/p): Pod "p" is invalid: spec: Invalid value: 5: must be an object'],
      ['replicas', ['      - apiVersion: apps/v1', '        kind: Deployment', '        metadata: { name: web, namespace: shop }', '        spec: { replicas: -1, selector: { matchLabels: { app: web } }, template: { metadata: { labels: { app: web } }, spec: { containers: [{ name: c, image: x }] } } }'], '(Deployment shop/web): Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0'],
    ];
    for (const [name, object, message] of cases) {
      const world = join(dir, `bad-shape-${name}.yaml`);
      writeFileSync(world, [...head, ...object, ''].join('\n'));
      const r = await podid(['sandbox', '--world', world, '--quiet'], { timeoutMs: 30_000 });
      expectOneLine(r, ExitCode.usage, `${world}: cluster prod: objects[0] ${message}`);
    }
  });
});
