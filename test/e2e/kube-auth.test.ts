/**
 * The kubeconfig's credentials on the scan path, as a user sees them: the built CLI in-process
 * against the sandbox over HTTP, with kubeconfigs derived from the sandbox's. A server whose
 * scheme is `HTTP://` (upper case) without insecure-skip-tls-verify, or insecure-skip-tls-verify
 * with a CA, is a one-line usage error naming the cluster entry (no token goes out).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, type SandboxEndpoint } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';
import { sandboxServer } from '../helpers/sandbox.js';

const PROD = 'arn:aws:eks:us-east-1:111122223333:cluster/prod';

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
