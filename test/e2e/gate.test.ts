/**
 * The CI gate end to end: `podid scan --manifests` (offline) and live scans with `--fail-on`
 * and a `.podid.yaml` allowlist. The gate's exit code, on manifests read from the process's
 * stdin (a pipe), through the built binary; the other inputs (what stdin holds included),
 * allowlists and formats through the built CLI in-process (helpers/podid.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Inventory } from '../../src/core/scan/inventory.js';
import { ExitCode } from '../../src/core/errors.js';
import { BIN, ROOT, runPodid, type SandboxEndpoint } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';
import { sandboxServer } from '../helpers/sandbox.js';

const FIXTURES = join(ROOT, 'test/fixtures/manifests');
const dir = mkdtempSync(join(tmpdir(), 'podid-gate-'));
const HAS_SCRIPT = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * Runs podid with stdin on a pseudo-terminal (util-linux `script`): once podid has written
 * `prompt`, types `typed` and ends the input with Ctrl-D. Resolves with everything the terminal
 * showed and the exit code.
 */
function typeOnTerminal(args: string[], prompt: string, typed: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let typedYet = false;
    // Catches a hang only (podid waiting for input it was never told about).
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`podid said nothing in time:\n${output}`));
    }, 60_000);
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (!typedYet && output.includes(prompt)) {
        typedYet = true;
        child.stdin.write(typed.endsWith('\n') ? typed : `${typed}\n`);
        child.stdin.write('\x04');
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
const API_SA = readFileSync(join(FIXTURES, 'repo/apps/api/service-account.yaml'), 'utf8');
// Exempts everything: only an input error can fail the gate under it.
writeFileSync(join(dir, 'exempt-all.yaml'), 'version: 1\nallowlist:\n  - reason: everything\n    expires: 2999-01-01\n');

describe('podid scan --manifests', () => {
  it('finds IRSA annotations in a directory tree with file and line, offline', async () => {
    const r = await podid(['scan', '--manifests', join(FIXTURES, 'repo/apps'), '-o', 'json'], { env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', KUBECONFIG: '/nonexistent' } });
    expect(r.code).toBe(0);
    const inv = JSON.parse(r.stdout) as Inventory;
    expect(inv.source).toBe('manifests');
    const api = inv.serviceAccounts.find((s) => s.namespace === 'shop' && s.name === 'api')!;
    expect(api.location).toEqual({ file: expect.stringMatching(/apps\/api\/service-account\.yaml$/), line: 8 });
    expect(api.findings.map((f) => f.code)).toContain('IRSA_ANNOTATION');
  });

  it('reads multi-document YAML from stdin', async () => {
    const r = await podid(['scan', '--manifests', '-', '-o', 'json'], { input: API_SA });
    expect(r.code, r.stderr).toBe(0);
    const inv = JSON.parse(r.stdout) as Inventory;
    expect(inv.serviceAccounts.map((s) => [s.name, s.location?.file, s.location?.line])).toEqual([['api', '<stdin>', 8]]);
    expect(inv.serviceAccounts[0]!.workloads.map((w) => `${w.kind}/${w.name}`)).toEqual(['Deployment/api']);
  });

  // Needs util-linux `script` for a pseudo-terminal: shown as skipped where it is missing.
  it.skipIf(!HAS_SCRIPT)('at a terminal, says it reads stdin and how to end it; piped, says nothing (the binary)', async () => {
    const hint = 'podid: reading manifests from stdin (end with Ctrl-D)';
    const tty = await typeOnTerminal(['scan', '--manifests', '-', '--fail-on', 'irsa'], hint, API_SA);
    expect(tty.code, tty.output).toBe(ExitCode.gateFailed);
    expect(tty.output).toContain('shop/api');
    const piped = await runPodid(['scan', '--manifests', '-', '--fail-on', 'irsa'], { input: API_SA });
    expect(piped.code).toBe(ExitCode.gateFailed);
    expect(piped.stderr).not.toContain('reading manifests');
  });

  it('--fail-on irsa (the binary) exits 3 and says why on stderr; --fail-on never exits 0', async () => {
    const fail = await runPodid(['scan', '--manifests', '-', '--fail-on', 'irsa'], { input: API_SA });
    expect(fail.code).toBe(ExitCode.gateFailed);
    expect(fail.stderr).toContain('gate failed (--fail-on irsa)');
    expect(fail.stderr).toContain('shop/api');
    const pass = await podid(['scan', '--manifests', '-', '--fail-on', 'never'], { input: API_SA });
    expect(pass.code).toBe(0);
  });

  it('a raw kustomize overlay that adds IRSA in a patch, a patch file or commonAnnotations fails --fail-on irsa (the binary), with each line', async () => {
    const repo = join(FIXTURES, 'kustomize-irsa');
    const r = await runPodid(['scan', '--manifests', '.', '--fail-on', 'irsa'], { cwd: repo });
    expect(r.code).toBe(ExitCode.gateFailed);
    const reasons = r.stderr.split('\n').filter((l) => l.includes('IRSA annotation in'));
    expect(reasons).toEqual([
      "  overlays/prod/extra/Kustomization:3: IRSA annotation in a kustomization's commonAnnotations",
      '  overlays/prod/irsa-patch.yaml:1: IRSA annotation in a JSON patch',
      '  overlays/prod/kustomization.yaml:7: IRSA annotation in a kustomize patch',
      '  overlays/prod/kustomization.yaml:20: IRSA annotation in a kustomize patch',
    ]);
    // overlays/clean only removes the annotation (a JSON patch remove, a strategic merge null): nothing of it is reported.
    const json = await runPodid(['scan', '--manifests', '.', '-o', 'json'], { cwd: repo });
    const inv = JSON.parse(json.stdout) as Inventory;
    expect((inv.inputFindings ?? []).map((f) => `${f.code} ${f.location?.file}:${f.location?.line}`)).toEqual([
      'IRSA_ANNOTATION overlays/prod/extra/Kustomization:3',
      'IRSA_ANNOTATION overlays/prod/irsa-patch.yaml:1',
      'IRSA_ANNOTATION overlays/prod/kustomization.yaml:7',
      'IRSA_ANNOTATION overlays/prod/kustomization.yaml:20',
    ]);
  });

  it('an allowlist entry with a reason exempts a service account until it expires', async () => {
    const ok = join(dir, 'ok.yaml');
    writeFileSync(ok, 'version: 1\nallowlist:\n  - namespace: shop\n    serviceAccount: api\n    reason: vendor chart, tracked in PLAT-123\n    expires: 2999-01-01\n');
    const exempt = await podid(['scan', '--manifests', '-', '--fail-on', 'irsa', '--config', ok], { input: API_SA });
    expect(exempt.code).toBe(0);
    const expired = join(dir, 'expired.yaml');
    writeFileSync(expired, 'version: 1\nallowlist:\n  - namespace: shop\n    serviceAccount: api\n    reason: vendor chart\n    expires: 2020-01-01\n');
    const r = await podid(['scan', '--manifests', '-', '--fail-on', 'irsa', '--config', expired, '-o', 'json'], { input: API_SA });
    expect(r.code).toBe(ExitCode.gateFailed);
    const inv = JSON.parse(r.stdout) as Inventory;
    expect(inv.serviceAccounts[0]!.findings.map((f) => f.code)).toContain('ALLOWLIST_EXPIRED');
  });

  it('an invalid .podid.yaml or a missing path is a one-line usage error', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'version: 1\nallowlist:\n  - namespace: shop\n    reason: x\n    expires: tomorrow\n');
    const r = await podid(['scan', '--manifests', '-', '--config', bad], { input: API_SA });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/allowlist\[0\]\.expires/);
    const missing = await podid(['scan', '--manifests', join(dir, 'nope')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('SARIF carries the file and line of each annotation', async () => {
    const r = await podid(['scan', '--manifests', '-', '-o', 'sarif'], { input: API_SA });
    const sarif = JSON.parse(r.stdout) as { runs: { results: { ruleId: string; locations: { physicalLocation?: { artifactLocation: { uri: string }; region: { startLine: number } } }[] }[] }[] };
    const res = sarif.runs[0]!.results.find((x) => x.ruleId === 'IRSA_ANNOTATION')!;
    expect(res.locations[0]!.physicalLocation?.region.startLine).toBe(8);
  });

  it('SARIF paths are relative to the repository root, also when podid runs in a subdirectory or is given absolute paths', async () => {
    const repo = join(dir, 'repo-root');
    mkdirSync(join(repo, '.git'), { recursive: true });
    mkdirSync(join(repo, 'k8s'), { recursive: true });
    writeFileSync(join(repo, 'k8s', 'sa.yaml'), API_SA);
    type Sarif = { runs: { results: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[] };
    const uris = (stdout: string) => (JSON.parse(stdout) as Sarif).runs[0]!.results.map((x) => x.locations[0]!.physicalLocation.artifactLocation.uri);
    // A CI step with working-directory: k8s. GitHub reads "sa.yaml" as the root's sa.yaml.
    const sub = await podid(['scan', '--manifests', '.', '-o', 'sarif'], { cwd: join(repo, 'k8s') });
    expect(new Set(uris(sub.stdout))).toEqual(new Set(['k8s/sa.yaml']));
    // An absolute path: no file:// URI naming the runner's workspace.
    const abs = await podid(['scan', '--manifests', join(repo, 'k8s'), '-o', 'sarif'], { cwd: repo });
    expect(new Set(uris(abs.stdout))).toEqual(new Set(['k8s/sa.yaml']));
  });

  it('JUnit under --fail-on irsa fails the service account the gate failed on (the test report agrees with exit 3)', async () => {
    const r = await podid(['scan', '--manifests', '-', '--fail-on', 'irsa', '-o', 'junit'], { input: API_SA });
    expect(r.code).toBe(ExitCode.gateFailed);
    expect(r.stdout).toMatch(/<testsuites [^>]*failures="1"/);
    expect(r.stdout).toContain('message="--fail-on irsa: still on IRSA');
    const never = await podid(['scan', '--manifests', '-', '-o', 'junit'], { input: API_SA });
    expect(never.code).toBe(0);
    expect(never.stdout).toMatch(/<testsuites [^>]*failures="0"/);
  });

  it('SARIF gives every result an artifact location (upload-sarif rejects the whole file otherwise), an expired entry included', async () => {
    const expired = join(dir, 'expired-nothing.yaml');
    writeFileSync(expired, 'version: 1\nallowlist:\n  - namespace: nothing-here\n    reason: old\n    expires: 2020-01-01\n');
    const r = await podid(['scan', '--manifests', '-', '-o', 'sarif', '--config', expired], { input: API_SA });
    const sarif = JSON.parse(r.stdout) as { runs: { results: { ruleId: string; locations: { physicalLocation?: { artifactLocation: { uri: string }; region: { startLine: number } } }[] }[] }[] };
    const results = sarif.runs[0]!.results;
    expect(results.map((x) => x.ruleId)).toContain('ALLOWLIST_EXPIRED');
    for (const x of results) expect(x.locations[0]!.physicalLocation?.artifactLocation.uri).toEqual(expect.any(String));
  });
});

describe('the gate cannot pass by accident', () => {
  const utf16 = (text: string, endian: 'le' | 'be', bom = true) => {
    const le = Buffer.from(text, 'utf16le');
    const body = endian === 'le' ? le : Buffer.from(le.map((_, i) => le[i ^ 1]!));
    return bom ? Buffer.concat([Buffer.from(endian === 'le' ? [0xff, 0xfe] : [0xfe, 0xff]), body]) : body;
  };
  const gate = (args: string[], input?: string) => podid(['scan', '--fail-on', 'irsa', ...args], input === undefined ? {} : { input });
  const oneLine = (stderr: string) => stderr.split('\n').filter((l) => l !== '').length;

  it.each([
    ['UTF-8 with a BOM', () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(API_SA)])],
    ['UTF-16 LE with a BOM', () => utf16(API_SA, 'le')],
    ['UTF-16 BE with a BOM', () => utf16(API_SA, 'be')],
  ])('decodes a manifest in %s and fails --fail-on irsa on its annotation', async (_name, bytes) => {
    const file = join(dir, `sa-${_name.replace(/\W+/g, '-')}.yaml`);
    writeFileSync(file, bytes());
    const r = await gate(['--manifests', file, '-o', 'json']);
    expect(r.code).toBe(ExitCode.gateFailed);
    const inv = JSON.parse(r.stdout) as Inventory;
    expect(inv.serviceAccounts.map((s) => [s.name, s.location?.line])).toEqual([['api', 8]]);
  });

  it('refuses UTF-16 without a BOM and binary files as MANIFEST_NOT_TEXT, failing the gate', async () => {
    const file = join(dir, 'nobom.yaml');
    writeFileSync(file, utf16(API_SA, 'le', false));
    const bin = join(dir, 'image.yaml');
    writeFileSync(bin, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0xd8]));
    const r = await gate(['--manifests', file, bin, '-o', 'json']);
    expect(r.code).toBe(ExitCode.gateFailed);
    const inv = JSON.parse(r.stdout) as Inventory;
    expect(inv.inputFindings?.map((f) => [f.code, f.location?.file])).toEqual([['MANIFEST_NOT_TEXT', file], ['MANIFEST_NOT_TEXT', bin]]);
    expect(r.stderr).toContain('MANIFEST_NOT_TEXT (the scan is incomplete)');
  });

  it('refuses UTF-32 and text that still has NUL characters after its BOM as MANIFEST_NOT_TEXT, saying why', async () => {
    const utf32 = (text: string, endian: 'le' | 'be') => {
      const out = Buffer.alloc((text.length + 1) * 4);
      [0xfeff, ...[...text].map((c) => c.codePointAt(0)!)].forEach((cp, i) => (endian === 'le' ? out.writeUInt32LE(cp, i * 4) : out.writeUInt32BE(cp, i * 4)));
      return out;
    };
    const cases: [string, Buffer, string][] = [
      ['utf32le.yaml', utf32(API_SA, 'le'), 'it starts with a UTF-32 LE byte-order mark: UTF-32 is not supported'],
      ['utf32be.yaml', utf32(API_SA, 'be'), 'it starts with a UTF-32 BE byte-order mark: UTF-32 is not supported'],
      // UTF-16 (no mark of its own) saved behind a UTF-8 byte-order mark: valid UTF-8, full of NULs.
      ['utf8bom-utf16.yaml', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf16(API_SA, 'le', false)]), 'decoded as UTF-8 (by its byte-order mark), its text contains NUL characters: not text'],
      ['utf8bom-utf16bom.yaml', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf16(API_SA, 'le')]), 'after its UTF-8 byte-order mark, it is not valid UTF-8'],
    ];
    for (const [name, bytes, why] of cases) {
      const file = join(dir, name);
      writeFileSync(file, bytes);
      const r = await gate(['--manifests', file, '-o', 'json']);
      expect(r.code, name).toBe(ExitCode.gateFailed);
      const inv = JSON.parse(r.stdout) as Inventory;
      expect(inv.inputFindings?.map((f) => [f.code, f.location?.file, f.location?.line]), name).toEqual([['MANIFEST_NOT_TEXT', file, 1]]);
      expect(inv.inputFindings?.[0]?.message, name).toContain(why);
    }
  });

  it('an empty stdin, an empty file and a directory with no YAML fail the gate with MANIFEST_INPUT_EMPTY', async () => {
    const empty = join(dir, 'empty.yaml');
    writeFileSync(empty, '');
    const noYaml = mkdtempSync(join(dir, 'no-yaml-'));
    writeFileSync(join(noYaml, 'README.md'), '# charts\n');
    for (const args of [['--manifests', '-'], ['--manifests', empty], ['--manifests', noYaml]]) {
      const r = await gate([...args, '-o', 'json'], '');
      expect(r.code, args.join(' ')).toBe(ExitCode.gateFailed);
      const inv = JSON.parse(r.stdout) as Inventory;
      expect(inv.inputFindings?.map((f) => f.code)).toEqual(['MANIFEST_INPUT_EMPTY']);
      expect(inv.inputFindings?.[0]?.message).toContain(args[1] === '-' ? '<stdin>' : args[1]);
    }
    // With something to scan beside it, the empty argument still fails the gate.
    const r = await gate(['--manifests', join(FIXTURES, 'repo/apps/api'), noYaml, '--config', join(dir, 'exempt-all.yaml')]);
    expect(r.code).toBe(ExitCode.gateFailed);
    expect(r.stderr).toContain('MANIFEST_INPUT_EMPTY');
  });

  it('-n or --service-account naming nothing in the files is a typo: one line, exit 2, as a live scan', async () => {
    const hint = 'podid scan --manifests without -n or --service-account reports every IRSA service account in them';
    for (const [args, message] of [
      [['-n', 'typo', '--fail-on', 'irsa'], '-n typo: no namespace typo (no object in it, no Namespace object names it) in the manifests'],
      [['--service-account', 'shop/typo', '--fail-on', 'irsa'], '--service-account shop/typo: no ServiceAccount shop/typo in the manifests'],
      [['--service-account', 'shop/typo', '-o', 'json'], '--service-account shop/typo: no ServiceAccount shop/typo in the manifests'],
      [['-n', 'payments', '--service-account', 'shop/api'], '-n payments --service-account shop/api: no ServiceAccount in the manifests matches them all'],
    ] as const) {
      const r = await podid(['scan', '--manifests', '-', ...args], { input: API_SA });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^podid: /)]);
      expect(r.stderr).toContain(`podid: ${message}`);
      expect(r.stderr).toContain(hint);
    }
  });

  it('a namespace or ServiceAccount that is in the files passes or fails the gate on what it holds', async () => {
    // A Namespace object names it; an object is in it; a ServiceAccount without IRSA: "no IRSA left" there.
    const files = [
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: empty\n',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: config\n',
      'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: plain\n  namespace: web\n',
    ].join('---\n');
    for (const args of [['-n', 'empty'], ['-n', 'config'], ['-n', 'web'], ['--service-account', 'web/plain']]) {
      const r = await podid(['scan', '--manifests', '-', ...args, '--fail-on', 'irsa'], { input: `${files}---\n${API_SA}` });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain('0 service accounts');
    }
    // The selected IRSA service account still fails the gate.
    const api = await podid(['scan', '--manifests', '-', '-n', 'shop', '--service-account', 'shop/api', '--fail-on', 'irsa'], { input: API_SA });
    expect(api.code, api.stderr).toBe(ExitCode.gateFailed);
    // An input podid could not read may hold it: its own finding fails the gate instead.
    const broken = await podid(['scan', '--manifests', '-', '-n', 'typo', '--fail-on', 'irsa'], { input: 'a: [\n' });
    expect(broken.code, broken.stderr).toBe(ExitCode.gateFailed);
    expect(broken.stderr).toContain('MANIFEST_PARSE_ERROR');
    expect(broken.stderr).not.toContain('no namespace typo');
  });

  it('a typo in -n or --service-account is refused even with unrendered templates among the files, whose names it may be in: the hint says to render them', async () => {
    const chart = join(FIXTURES, 'repo/charts/mychart/templates/serviceaccount.yaml');
    for (const args of [['-n', 'paymnets'], ['--service-account', 'shop/apii']]) {
      const r = await podid(['scan', '--manifests', '-', chart, ...args, '--fail-on', 'irsa'], { input: API_SA });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^podid: /)]);
      expect(r.stderr).toMatch(/the manifests hold an unrendered template \(\S*serviceaccount\.yaml\) whose names podid cannot read: render them \(helm template/);
    }
    // What is in the rendered files is judged as before.
    const api = await podid(['scan', '--manifests', '-', chart, '-n', 'shop', '--fail-on', 'irsa'], { input: API_SA });
    expect(api.code, api.stderr).toBe(ExitCode.gateFailed);
  });

  it('an IRSA annotation in an unrendered Helm template fails --fail-on irsa, with its line', async () => {
    const r = await gate(['--manifests', join(FIXTURES, 'repo/charts/mychart/templates/serviceaccount.yaml')]);
    expect(r.code).toBe(ExitCode.gateFailed);
    expect(r.stderr).toMatch(/serviceaccount\.yaml:7: IRSA annotation in an unrendered template/);
    expect(r.stdout).toContain('IRSA_ANNOTATION');
  });

  it('a duplicate key fails the gate with its line, and a role-arn under either key is IRSA', async () => {
    // `annotations` twice: kubectl keeps the second (sigs.k8s.io/yaml is not strict) and would
    // drop the IRSA annotation without a word.
    const file = join(dir, 'duplicate-key.yaml');
    writeFileSync(file, [
      'apiVersion: v1', 'kind: ServiceAccount', 'metadata:', '  name: app', '  namespace: shop', '  annotations:',
      '    eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/x', '  annotations: {a: b}',
      '---', API_SA,
    ].join('\n'));
    const r = await gate(['--manifests', file, '-o', 'json']);
    expect(r.code).toBe(ExitCode.gateFailed);
    const inv = JSON.parse(r.stdout) as Inventory;
    expect(inv.inputFindings?.map((f) => [f.code, f.location?.line])).toEqual([['MANIFEST_DUPLICATE_KEY', 8], ['IRSA_ANNOTATION', 7]]);
    expect(inv.inputFindings?.[0]?.message).toContain('key "annotations" appears twice in one mapping (first at line 6)');
    expect(inv.inputFindings?.[1]?.message).toContain('shop/app of a document with a duplicate key');
    // The file's other documents are still read.
    expect(inv.serviceAccounts.map((s) => s.name)).toEqual(['api']);
    expect(r.stderr).toContain(`${file}:7: IRSA annotation in a document with a duplicate key`);
    expect(r.stderr).toContain(`${file}:8: error MANIFEST_DUPLICATE_KEY (the scan is incomplete)`);
    // Without the annotation, the duplicate alone still fails the gate.
    writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  name: d\n');
    const plain = await gate(['--manifests', file]);
    expect(plain.code).toBe(ExitCode.gateFailed);
    expect(plain.stderr).toContain(`${file}:5: error MANIFEST_DUPLICATE_KEY`);
  });

  it('a duplicate key in a List still reports its items, as kubectl reads them (the last key wins)', async () => {
    const file = join(dir, 'duplicate-key-list.yaml');
    writeFileSync(file, [
      'apiVersion: v1', 'kind: List', 'items:',
      '- apiVersion: v1', '  kind: ServiceAccount', '  metadata:', '    name: cart', '    namespace: shop', '    annotations:',
      '      eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/old', // 10: dropped by the key on line 11
      '      eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/cart',
      '- apiVersion: v1', '  kind: ServiceAccount', '  metadata:', '    name: pay', '    namespace: shop', '    labels: {a: b}', '    labels: {c: d}',
      '    annotations:', '      eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/pay', // 20
      '- apiVersion: apps/v1', '  kind: Deployment', '  metadata:', '    name: cart', '    namespace: shop', '  spec:', '    template:', '      spec:', '        serviceAccountName: cart',
      '',
    ].join('\n'));
    const r = await gate(['--manifests', file, '-o', 'json']);
    expect(r.code).toBe(ExitCode.gateFailed);
    const inv = JSON.parse(r.stdout) as Inventory;
    expect(inv.serviceAccounts.map((s) => [s.name, s.roleArn, s.location?.line, s.workloads.map((w) => w.name)])).toEqual([
      ['cart', 'arn:aws:iam::111122223333:role/cart', 11, ['cart']],
      ['pay', 'arn:aws:iam::111122223333:role/pay', 20, []],
    ]);
    // The error stays (at the document's first duplicate); only the annotation the last key
    // drops is an input finding of its own.
    expect(inv.inputFindings?.map((f) => [f.code, f.location?.line])).toEqual([['MANIFEST_DUPLICATE_KEY', 11], ['IRSA_ANNOTATION', 10]]);
    expect(inv.inputFindings?.[1]?.message).toContain('shop/cart of a document with a duplicate key');
  });

  it('an IRSA annotation in a document that does not parse fails --fail-on irsa, with its line', async () => {
    const file = join(dir, 'unparsable-irsa.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: x\n  annotations:\n    eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/x\n  labels: [a\n---\n' + API_SA);
    const r = await gate(['--manifests', file, '-o', 'json']);
    expect(r.code).toBe(ExitCode.gateFailed);
    const inv = JSON.parse(r.stdout) as Inventory;
    expect(inv.inputFindings?.map((f) => [f.code, f.location?.line])).toEqual([['MANIFEST_PARSE_ERROR', 8], ['IRSA_ANNOTATION', 6]]);
    expect(inv.serviceAccounts.map((s) => s.name)).toEqual(['api']);
    expect(r.stderr).toContain(`${file}:6: IRSA annotation in a document that does not parse`);
  });

  it('objects kubectl refuses fail the gate as MANIFEST_PARSE_ERROR with file:line, and a role-arn in them is IRSA', async () => {
    const cases: [string, string[], [string, number][], string][] = [
      // A List whose items are a mapping: kubectl refuses it, so its ServiceAccount is applied by nobody.
      ['list-items-mapping.yaml', ['apiVersion: v1', 'kind: List', 'items:', '  sa:', '    apiVersion: v1', '    kind: ServiceAccount', '    metadata:', '      name: api',
        '      annotations:', '        eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/api'],
      [['MANIFEST_PARSE_ERROR', 3], ['IRSA_ANNOTATION', 10]], 'List: items is a mapping, not a list, so Kubernetes refuses the List'],
      // annotations written as a list.
      ['annotations-list.yaml', ['apiVersion: v1', 'kind: ServiceAccount', 'metadata:', '  name: api', '  namespace: shop', '  annotations:',
        '    - eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/api'],
      [['MANIFEST_PARSE_ERROR', 6], ['IRSA_ANNOTATION', 7]], 'ServiceAccount api: metadata.annotations is a list, not a mapping, so Kubernetes refuses the object'],
      ['list-items-number.yaml', ['apiVersion: v1', 'kind: List', 'items: 5'], [['MANIFEST_PARSE_ERROR', 3]], 'List: items is a number (5), not a list'],
    ];
    for (const [name, lines, findings, message] of cases) {
      const file = join(dir, name);
      writeFileSync(file, lines.join('\n') + '\n');
      const r = await gate(['--manifests', file, '-o', 'json']);
      expect(r.code, name).toBe(ExitCode.gateFailed);
      const inv = JSON.parse(r.stdout) as Inventory;
      expect(inv.serviceAccounts, name).toEqual([]);
      expect(inv.inputFindings?.map((f) => [f.code, f.location?.line]), name).toEqual(findings);
      expect(inv.inputFindings?.[0]?.message).toContain(`${file}:${findings[0]![1]}: ${message}`);
      if (findings.length > 1) expect(r.stderr).toContain(`${file}:${findings[1]![1]}: IRSA annotation in an object Kubernetes refuses`);
      // Every gate fails on them, not only irsa.
      expect((await podid(['scan', '--manifests', file, '--fail-on', 'blocked'])).code, name).toBe(ExitCode.gateFailed);
    }
    // Still read: a List with items: [] or none, and a ServiceAccount with annotations: {} or none.
    const fine = join(dir, 'fine-lists.yaml');
    writeFileSync(fine, ['apiVersion: v1\nkind: List\nitems: []', 'apiVersion: v1\nkind: List\nitems:', 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n  annotations: {}', 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: b\n  annotations:'].join('\n---\n') + '\n');
    const ok = await gate(['--manifests', fine, '-o', 'json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect((JSON.parse(ok.stdout) as Inventory).inputFindings).toBeUndefined();
  });

  it('a chart template whose if/else branches write a key twice stays an unrendered template', async () => {
    const file = join(dir, 'templated-twice.yaml');
    writeFileSync(file, [
      'apiVersion: v1', 'kind: ServiceAccount', 'metadata:', '  name: "{{ .Release.Name }}"', '  annotations:',
      '    eks.amazonaws.com/role-arn: "{{ .Values.roleArn }}"', '  annotations:', '    team: "{{ .Values.team }}"', '',
    ].join('\n'));
    const r = await podid(['scan', '--manifests', file, '-o', 'json', '--fail-on', 'irsa']);
    expect(r.code).toBe(ExitCode.gateFailed);
    const inv = JSON.parse(r.stdout) as Inventory;
    expect(inv.inputFindings?.map((f) => [f.code, f.location?.line])).toEqual([['MANIFEST_UNRENDERED_TEMPLATE', 4], ['IRSA_ANNOTATION', 6]]);
  });

  it('a bad glob in the config is a one-line usage error naming the file and the entry', async () => {
    const cfg = join(dir, 'bad-glob.yaml');
    writeFileSync(cfg, 'version: 1\nallowlist:\n  - namespace: "team-[ab"\n    reason: x\n    expires: 2999-01-01\n');
    const r = await gate(['--manifests', '-', '--config', cfg], API_SA);
    expect(r.code).toBe(ExitCode.usage);
    expect(oneLine(r.stderr)).toBe(1);
    expect(r.stderr).toContain(`${cfg}: allowlist[0].namespace: invalid glob "team-[ab"`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('reads a .podid.yaml in UTF-16 by its byte-order mark, and refuses one that is not text in one line naming it', async () => {
    const cfgDir = mkdtempSync(join(dir, 'utf16-config-'));
    // An allowlist exempting shop/api, as PowerShell's `>` writes it: UTF-16 LE with a BOM.
    writeFileSync(join(cfgDir, '.podid.yaml'), utf16('version: 1\r\nallowlist:\r\n  - namespace: shop\r\n    reason: vendor chart\r\n    expires: 2999-01-01\r\n', 'le'));
    const exempt = await podid(['scan', '--manifests', '-', '--fail-on', 'irsa'], { input: API_SA, cwd: cfgDir });
    expect(exempt.code, exempt.stderr).toBe(0);
    const be = join(cfgDir, 'be.yaml');
    writeFileSync(be, utf16('version: 1\nallowlist:\n  - namespace: shop\n    reason: vendor chart\n    expires: 2999-01-01\n', 'be'));
    expect((await gate(['--manifests', '-', '--config', be], API_SA)).code).toBe(0);
    const noBom = join(cfgDir, 'nobom.yaml');
    writeFileSync(noBom, utf16('version: 1\n', 'le', false));
    const r = await gate(['--manifests', '-', '--config', noBom], API_SA);
    expect(r.code).toBe(ExitCode.usage);
    expect(oneLine(r.stderr)).toBe(1);
    expect(r.stderr).toContain(`${noBom}: not text: it contains NUL bytes: binary, or UTF-16 without a byte-order mark`);
    expect(r.stderr).not.toContain('expected a mapping');
  });

  it('allowlist findings name the config file actually used', async () => {
    const cfgDir = mkdtempSync(join(dir, 'cwd-'));
    writeFileSync(join(cfgDir, '.podid.yaml'), 'version: 1\nallowlist:\n  - namespace: shop\n    reason: old\n    expires: 2020-01-01\n');
    const implicit = await podid(['scan', '--manifests', '-', '-o', 'json'], { input: API_SA, cwd: cfgDir });
    const expired = (r: { stdout: string }) => (JSON.parse(r.stdout) as Inventory).serviceAccounts[0]!.findings.find((f) => f.code === 'ALLOWLIST_EXPIRED')!;
    expect(expired(implicit).message).toMatch(/^\.podid\.yaml allowlist\[0\] \{namespace: shop\}/);
    const explicit = await podid(['scan', '--manifests', '-', '-o', 'json', '--config', join(dir, 'expired.yaml')], { input: API_SA });
    expect(expired(explicit).message).toContain(`${join(dir, 'expired.yaml')} allowlist[0]`);
    expect(expired(explicit).fix).toContain(join(dir, 'expired.yaml'));
  });
});

describe('podid scan --fail-on against a live fleet', () => {
  let sb: SandboxEndpoint;
  beforeAll(async () => {
    sb = await sandboxServer({ file: join(ROOT, 'examples/world.yaml') });
  });
  afterAll(async () => {
    await sb?.stop();
  });

  it('blocked fails (exit 3) while prod has Fargate and Windows workloads', async () => {
    const r = await podid(['scan', '--context', 'arn:aws:eks:us-east-1:111122223333:cluster/prod', '--fail-on', 'blocked'], { env: sb.clientEnv });
    expect(r.code).toBe(ExitCode.gateFailed);
    expect(r.stderr).toMatch(/batch\/etl/);
    expect(r.stdout).toContain('service accounts'); // the report is still printed
  });

  it('allow-listing the errors that block lets the blocked gate pass', async () => {
    const cfg = join(dir, 'fleet.yaml');
    writeFileSync(cfg, [
      'version: 1',
      'allowlist:',
      '  - cluster: "*prod"',
      '    namespace: batch',
      '    codes: [WORKLOAD_ON_FARGATE]',
      '    reason: Fargate stays on IRSA',
      '    expires: 2999-12-31',
      '  - cluster: "*prod"',
      '    namespace: windows',
      '    codes: [WORKLOAD_ON_WINDOWS]',
      '    reason: Windows stays on IRSA',
      '    expires: 2999-12-31',
    ].join('\n'));
    const r = await podid(['scan', '--context', 'arn:aws:eks:us-east-1:111122223333:cluster/prod', '--fail-on', 'blocked', '--config', cfg], { env: sb.clientEnv });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
