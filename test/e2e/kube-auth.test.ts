/**
 * The kubeconfig's credentials on the scan path, as a user sees them: the built CLI in-process
 * against the sandbox over HTTP, with kubeconfigs derived from the sandbox's. A server whose
 * scheme is `HTTP://` (upper case) without insecure-skip-tls-verify, or insecure-skip-tls-verify
 * with a CA, is a one-line usage error naming the cluster entry (no token goes out). An exec
 * plugin (a fake `aws` written here, found on the run's PATH) that hangs, fails or is missing
 * is one line naming the plugin, exit 6, and in a fleet run only its cluster's finding; one
 * that answers runs once for the whole scan.
 *
 * apply's writes (migrate --apply, rollback) go the same way: a plugin that hangs when apply's
 * port asks for credentials is killed after --request-timeout (one line, exit 6); the plugin
 * runs in the run's directory with the run's environment; and a token the API server rejects
 * (401: an `aws eks get-token` token past its 15 minutes, which the sandbox refuses as EKS does)
 * is replaced by running the plugin again, and the request sent once more.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Inventory } from '../../src/core/scan/inventory.js';
import { ROOT, type SandboxEndpoint } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';
import { sandboxServer } from '../helpers/sandbox.js';
import { journalDir, podIdentity, smallWorld, state } from './apply-helpers.js';

const PROD = 'arn:aws:eks:us-east-1:111122223333:cluster/prod';
const STAGING = 'arn:aws:eks:us-east-1:111122223333:cluster/staging';

interface Kc {
  clusters: { name: string; cluster: Record<string, unknown> }[];
  users: { name: string; user: Record<string, unknown> }[];
  [k: string]: unknown;
}

let sb: SandboxEndpoint;
let dir: string;
let n = 0;

beforeAll(async () => {
  sb = await sandboxServer({ file: join(ROOT, 'examples/world.yaml') });
  dir = mkdtempSync(join(tmpdir(), 'podid-kube-auth-'));
}, 60_000);

afterAll(async () => {
  await sb?.stop();
});

/** The sandbox's kubeconfig, changed by `edit`, written to a new file. */
function kubeconfig(edit: (kc: Kc) => void): string {
  const kc = parse(readFileSync(sb.kubeconfig, 'utf8')) as Kc;
  edit(kc);
  const file = join(dir, `kubeconfig-${++n}`);
  writeFileSync(file, stringify(kc));
  return file;
}

/** A directory holding a fake `aws` (sh) with `body`, each run logged to `log`. */
function fakeAws(body: string): { bin: string; log: string } {
  const bin = join(dir, `bin-${++n}`);
  mkdirSync(bin);
  const log = join(bin, 'runs.log');
  writeFileSync(join(bin, 'aws'), `#!/bin/sh\necho "$*" >> ${log}\n${body}\n`);
  chmodSync(join(bin, 'aws'), 0o755);
  return { bin, log };
}

const runs = (log: string): number => {
  try {
    return readFileSync(log, 'utf8').trim().split('\n').length;
  } catch {
    return 0;
  }
};

/** The prod user runs `aws eks get-token` (as aws eks update-kubeconfig writes it). */
function execProd(kc: Kc): void {
  kc.users.find((u) => u.name === PROD)!.user = {
    exec: {
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      command: 'aws',
      args: ['eks', 'get-token', '--cluster-name', 'prod', '--region', 'us-east-1'],
      interactiveMode: 'IfAvailable',
      installHint: 'Install the AWS CLI: see its user guide',
    },
  };
}

const withPath = (bin: string) => ({ ...sb.clientEnv, PATH: `${bin}${delimiter}${process.env['PATH'] ?? ''}` });

describe('the cluster entry decides the transport', () => {
  it('refuses HTTP:// (any case) without insecure-skip-tls-verify: one usage line naming the entry', async () => {
    const file = kubeconfig((kc) => {
      const c = kc.clusters.find((x) => x.name === PROD)!.cluster;
      c['server'] = String(c['server']).replace(/^http:/, 'HTTP:');
      delete c['insecure-skip-tls-verify'];
    });
    const r = await podid(['scan', '--kubeconfig', file, '--context', PROD], { env: sb.clientEnv });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`kubeconfig cluster "${PROD}"`);
    expect(r.stderr).toContain('plain HTTP');
  });

  it('refuses insecure-skip-tls-verify with a certificate-authority (client-go)', async () => {
    writeFileSync(join(dir, 'ca.crt'), 'not read\n');
    const file = kubeconfig((kc) => {
      kc.clusters.find((x) => x.name === PROD)!.cluster['certificate-authority'] = 'ca.crt';
    });
    const r = await podid(['scan', '--kubeconfig', file, '--context', PROD], { env: sb.clientEnv });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`kubeconfig cluster "${PROD}" sets both insecure-skip-tls-verify and certificate-authority`);
  });
});

describe('exec credential plugins', () => {
  it('one that answers runs once for the whole scan, with the run environment (PATH)', async () => {
    const aws = fakeAws(`echo '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"sandbox-token-prod"}}'`);
    const file = kubeconfig(execProd);
    const r = await podid(['scan', '--kubeconfig', file, '--context', PROD, '-o', 'json'], { env: withPath(aws.bin) });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as Inventory).clusters[0]!.arn).toBe(PROD);
    expect(runs(aws.log)).toBe(1);
  });

  it('one that fails is one line with its exit code and first stderr line; run once (not retried)', async () => {
    const aws = fakeAws(`printf '\\nAn error occurred (ExpiredTokenException) when calling the AssumeRole operation: The security token included in the request is expired\\n' >&2; exit 255`);
    const file = kubeconfig(execProd);
    const r = await podid(['scan', '--kubeconfig', file, '--context', PROD], { env: withPath(aws.bin) });
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(
      'exec plugin "aws" failed with exit code 255: An error occurred (ExpiredTokenException) when calling the AssumeRole operation: The security token included in the request is expired',
    );
    expect(r.stderr).toContain('aws sso login');
    expect(runs(aws.log)).toBe(1);
  });

  it('one missing from PATH is named, with the kubeconfig installHint', async () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    const file = kubeconfig(execProd);
    const r = await podid(['scan', '--kubeconfig', file, '--context', PROD], { env: { ...sb.clientEnv, PATH: empty } });
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('exec plugin "aws" not found on PATH — Install the AWS CLI: see its user guide');
  });

  it('one that hangs is killed after --request-timeout; in a fleet only its cluster fails', async () => {
    const aws = fakeAws('exec sleep 1000');
    const file = kubeconfig(execProd);
    const alone = await podid(['scan', '--kubeconfig', file, '--context', PROD, '--request-timeout', '1s'], { env: withPath(aws.bin) });
    expect(alone.code, alone.stderr).toBe(6);
    expect(alone.stderr.trim().split('\n')).toHaveLength(1);
    expect(alone.stderr).toContain('exec plugin "aws" did not answer within 1 s');

    const fleet = await podid(['scan', '--kubeconfig', file, '--context', PROD, '--context', STAGING, '--request-timeout', '1s', '-o', 'json'], { env: withPath(aws.bin) });
    expect(fleet.code, fleet.stderr).toBe(5);
    const inv = JSON.parse(fleet.stdout) as Inventory;
    const prod = inv.clusters.find((c) => c.context === PROD)!;
    expect(prod.scanned).toBe(false);
    expect(prod.findings.map((f) => f.code)).toEqual(['CLUSTER_ACCESS_DENIED']);
    expect(prod.findings[0]!.message).toContain('exec plugin "aws" did not answer within 1 s');
    expect(inv.clusters.find((c) => c.context === STAGING)!.scanned).not.toBe(false);
  });
});

/**
 * A fake `aws` whose Nth run (1-based, counted in `log`) does what `byRun(N)` gives (sh); the
 * default prints a current EKS token.
 */
function fakeAwsByRun(byRun: Record<number, string>): { bin: string; log: string } {
  const cases = Object.entries(byRun)
    .map(([k, body]) => `  ${k}) ${body} ;;`)
    .join('\n');
  return fakeAws(`n=$(wc -l < "$(dirname "$0")/runs.log")\ncase $n in\n${cases}\n  *) ${EKS_TOKEN('$(date -u +%Y%m%dT%H%M%SZ)')} ;;\nesac`);
}

/**
 * sh printing an ExecCredential with an EKS token (as `aws eks get-token` prints it) whose
 * X-Amz-Date is `date` (sh, expanded when it runs).
 */
const EKS_TOKEN = (date: string) =>
  `url="https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=${date}&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=0"; ` +
  `printf '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"k8s-aws-v1.%s"}}' "$(printf %s "$url" | base64 | tr '+/' '-_' | tr -d '=\n')"`;

describe("apply's writes use the same credentials", () => {
  let asb: SandboxEndpoint;
  beforeAll(async () => {
    asb = await sandboxServer(smallWorld());
  }, 60_000);
  afterAll(async () => {
    await asb?.stop();
  });

  /** The apply sandbox's kubeconfig with the prod user running `aws eks get-token`. */
  function applyKubeconfig(): string {
    const kc = parse(readFileSync(asb.kubeconfig, 'utf8')) as Kc;
    execProd(kc);
    const file = join(dir, `kubeconfig-${++n}`);
    writeFileSync(file, stringify(kc));
    return file;
  }

  const env = (bin: string, kubeconfig: string, extra: NodeJS.ProcessEnv = {}) => ({ ...asb.clientEnv, PATH: `${bin}${delimiter}${process.env['PATH'] ?? ''}`, KUBECONFIG: kubeconfig, ...extra });
  const unauthenticated = async () => ((await (await fetch(`${asb.endpoint}/_sandbox/calls`)).json()) as { operation: string }[]).filter((c) => c.operation === 'unauthenticated').length;

  it('migrate --apply --plan: a plugin that hangs for the writes is killed after --request-timeout, one line, exit 6', async () => {
    // The plan is made with a plugin that answers; the apply of the saved plan reads nothing
    // before its writes, so its one run of the plugin is the writes' own, and that run hangs.
    const planFile = join(dir, `plan-${++n}.json`);
    const planned = await podid(['migrate', '--dry-run', '--all-contexts', '--out', planFile], { env: env(fakeAws(EKS_TOKEN('$(date -u +%Y%m%dT%H%M%SZ)')).bin, applyKubeconfig()) });
    expect(planned.code, planned.stderr).toBe(0);
    const aws = fakeAws('exec sleep 1000');
    const r = await podid(['migrate', '--apply', '--yes', '--plan', planFile, '--propagation-wait', '0', '--request-timeout', '1s', '--journal-dir', journalDir()], { env: env(aws.bin, applyKubeconfig()), timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(6);
    const errors = r.stderr.split('\n').filter((l) => l.includes('KUBE_CREDENTIALS_UNAVAILABLE') || l.includes('did not answer'));
    expect(errors, r.stderr).toHaveLength(1);
    expect(errors[0]).toContain(`cannot get the credentials of context "${PROD}"`);
    expect(errors[0]).toContain('exec plugin "aws" did not answer within 1 s');
    expect(runs(aws.log)).toBe(1);
  });

  /** The journal of the migration below, which the rollback test after it undoes. */
  const journal = journalDir();

  it("the plugin runs once, with the run's directory and environment, for the scan and the writes", async () => {
    const aws = fakeAws(`echo "$(pwd) $PODID_TEST_MARK" >> "$(dirname "$0")/seen.log"\n${EKS_TOKEN('$(date -u +%Y%m%dT%H%M%SZ)')}`);
    const cwd = mkdtempSync(join(dir, 'cwd-'));
    const r = await podid(['migrate', '--apply', '--yes', '--all-contexts', '--propagation-wait', '0', '--rollout-timeout', '20s', '--journal-dir', journal, '-o', 'json'], {
      env: env(aws.bin, applyKubeconfig(), { PODID_TEST_MARK: 'the-run' }),
      cwd,
    });
    expect(r.code, r.stderr).toBe(0);
    const seen = readFileSync(join(aws.bin, 'seen.log'), 'utf8').trim().split('\n');
    // One run serves the scan and the writes: the run loads its kubeconfig once, and the
    // credential is kept per kubeconfig (it had run once per phase).
    expect(seen).toEqual([`${cwd} the-run`]);
    const pods = (await state(asb)).clusters[0]!.objects.filter((o) => o.kind === 'Pod' && o.metadata.namespace === 'shop');
    expect(pods.length).toBeGreaterThan(0);
    expect(pods.map(podIdentity)).toEqual(pods.map(() => 'pod-identity'));
  });

  it('rollback (of the migration above): a token rejected with 401 is renewed by running the plugin again, and the request sent once more', async () => {
    // rollback's first credentials: a token signed an hour ago (EKS refuses it after 15 minutes).
    const aws = fakeAwsByRun({ 1: EKS_TOKEN('$(date -u -d "-1 hour" +%Y%m%dT%H%M%SZ)') });
    const before = await unauthenticated();
    const r = await podid(['rollback', '--apply', '--yes', '--journal-dir', journal, '--propagation-wait', '0', '--rollout-timeout', '20s', '-o', 'json'], { env: env(aws.bin, applyKubeconfig()) });
    expect(r.code, r.stderr).toBe(0);
    // Requests in flight together may each meet the stale token: they share one new run of the plugin.
    expect(await unauthenticated()).toBeGreaterThan(before);
    expect(runs(aws.log)).toBe(2);
    const pods = (await state(asb)).clusters[0]!.objects.filter((o) => o.kind === 'Pod' && o.metadata.namespace === 'shop');
    expect(pods.map(podIdentity)).toEqual(pods.map(() => 'irsa'));
  });

  it('a second 401 is KUBE_UNAUTHORIZED, exit 6: the plugin ran twice', async () => {
    const stale = EKS_TOKEN('20000101T000000Z');
    const aws = fakeAwsByRun({ 1: stale, 2: stale });
    const r = await podid(['scan', '--context', PROD], { env: env(aws.bin, applyKubeconfig()) });
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`Kubernetes rejected the credentials of context "${PROD}"`);
    expect(runs(aws.log)).toBe(2);
  });
});
