/**
 * `podid sandbox --world FILE`: serve the emulator in the foreground until SIGINT/SIGTERM.
 * Prints one `ready ...` line on stdout once listening, so scripts can wait for it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../../core/errors.js';
import { loadWorldFile, parseWorld } from '../../sandbox/world.js';
import { startSandbox } from '../../sandbox/server.js';
import { createIo } from '../io.js';

export interface SandboxCliOptions {
  world: string;
  port: string;
  kubeconfigOut?: string;
  envOut?: string;
  quiet?: boolean;
}

export function parsePort(raw: string): number {
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) {
    throw new UsageError('BAD_PORT', `--port ${raw}: expected a port number from 0 to 65535`, 'use --port 0 to pick a free port');
  }
  return port;
}

export async function runSandbox(opts: SandboxCliOptions): Promise<void> {
  const port = parsePort(opts.port);
  const world = opts.world === '-' ? parseWorld(await readStdin(), '<stdin>') : await loadWorldFile(opts.world);
  let sandbox;
  try {
    sandbox = await startSandbox({ world, port });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new UsageError('PORT_IN_USE', `--port ${port}: the port is already in use on 127.0.0.1`, 'pick another port, or --port 0 for a free one');
    }
    throw err;
  }
  const dir = opts.kubeconfigOut && opts.envOut ? undefined : mkdtempSync(join(tmpdir(), 'podid-sandbox-'));
  const kubeconfigPath = resolve(opts.kubeconfigOut ?? join(dir!, 'kubeconfig'));
  const envPath = resolve(opts.envOut ?? join(dir!, 'env'));
  writeOut(kubeconfigPath, sandbox.kubeconfig(), '--kubeconfig-out');
  writeOut(envPath, sandbox.envFile(kubeconfigPath), '--env-out');

  const io = await createIo({});
  if (!opts.quiet) {
    const s = sandbox.state;
    io.warn(`podid sandbox: world ${opts.world}`);
    for (const c of s.clusters) {
      io.warn(`  cluster ${c.arn}  Kubernetes ${c.version} (${c.platformVersion})  api ${sandbox.endpoint}${c.kubePath}`);
    }
    io.warn(`  ${s.roles.length} IAM roles, ${s.oidcProviders.length} OIDC providers`);
    io.warn(`  state: ${sandbox.endpoint}/_sandbox/state   calls: ${sandbox.endpoint}/_sandbox/calls`);
    io.warn(`  use it: set -a; . ${envPath}; set +a`);
  }
  io.out(`ready endpoint=${sandbox.endpoint} kubeconfig=${kubeconfigPath} env=${envPath}`);

  await new Promise<void>((done) => {
    const stop = () => {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      void sandbox.close().then(done);
    };
    process.removeAllListeners('SIGINT');
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function writeOut(path: string, content: string, flag: string): void {
  try {
    writeFileSync(path, content, { mode: 0o600 });
  } catch (err) {
    throw new UsageError('WRITE_FAILED', `${flag} ${path}: cannot write (${(err as NodeJS.ErrnoException).code ?? String(err)})`, 'choose a writable path');
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
