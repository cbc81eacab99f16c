/**
 * The kubeconfig's credentials on the scan path, as a user sees them: the built CLI in-process
 * against the sandbox over HTTP, with kubeconfigs derived from the sandbox's. A server whose
 * scheme is `HTTP://` (upper case) without insecure-skip-tls-verify, or insecure-skip-tls-verify
 * with a CA, is a one-line usage error naming the cluster entry (no token goes out). An exec
 * plugin (a fake `aws` written here, found on the run's PATH) that hangs, fails or is missing
 * is one line naming the plugin, exit 6, and in a fleet run only its cluster's finding; one
 * that answers runs once for the whole scan.
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
