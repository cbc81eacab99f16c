/**
 * `podid sandbox --world FILE`: serve the emulator in the foreground until SIGINT/SIGTERM.
 * Prints one `ready ...` line on stdout once listening, so scripts can wait for it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../core/errors.js';
import { loadWorldFile, parseWorld, WorldError } from '../../sandbox/world.js';
import { startSandbox } from '../../sandbox/server.js';
import { pathIn, readStdin, type CliContext } from '../context.js';
import { checkDistinctOutputs, writeOutputs } from '../files.js';
import { createIo } from '../io.js';

export interface SandboxCliOptions {
  world: string;
  port: string;
  kubeconfigOut?: string;
  envOut?: string;
  force?: boolean;
  quiet?: boolean;
}

export function parsePort(raw: string): number {
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) {
    throw new UsageError('BAD_PORT', `--port ${raw}: expected a port number from 0 to 65535`, 'use --port 0 to pick a free port');
  }
  return port;
}

export async function runSandbox(opts: SandboxCliOptions, ctx: CliContext): Promise<void> {
  const port = parsePort(opts.port);
  if (opts.kubeconfigOut !== undefined && opts.envOut !== undefined) {
    checkDistinctOutputs([{ flag: '--kubeconfig-out', path: opts.kubeconfigOut }, { flag: '--env-out', path: opts.envOut }], ctx.cwd);
  }
  const world = opts.world === '-' ? parseWorld((await readStdin(ctx, 'the world')).toString('utf8'), '<stdin>') : await loadWorldFile(pathIn(ctx, opts.world), opts.world);
  let sandbox;
  try {
    sandbox = await startSandbox({ world, port });
  } catch (err) {
    // Objects Kubernetes refuses are found while loading them: name the world file as the schema does.
    if (err instanceof WorldError) throw new WorldError(`${opts.world === '-' ? '<stdin>' : opts.world}: ${err.message}`, err.hint);
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new UsageError('PORT_IN_USE', `--port ${port}: the port is already in use on 127.0.0.1`, 'pick another port, or --port 0 for a free one');
    }
    throw err;
  }
  // A temporary directory for the files not named on the command line, removed on exit.
  const dir = opts.kubeconfigOut && opts.envOut ? undefined : mkdtempSync(join(tmpdir(), 'podid-sandbox-'));
  const removeDir = () => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  };
  const kubeconfigPath = pathIn(ctx, opts.kubeconfigOut ?? join(dir!, 'kubeconfig'));
  const envPath = pathIn(ctx, opts.envOut ?? join(dir!, 'env'));
  try {
    // Both files or neither; a file named on the command line is never replaced without --force.
    writeOutputs([
      { flag: '--kubeconfig-out', path: kubeconfigPath, content: sandbox.kubeconfig(), mode: 0o600, noClobber: opts.kubeconfigOut !== undefined },
      { flag: '--env-out', path: envPath, content: sandbox.envFile(kubeconfigPath), mode: 0o600, noClobber: opts.envOut !== undefined },
    ], { force: Boolean(opts.force) });
  } catch (err) {
    removeDir();
    await sandbox.close();
    throw err;
  }
  // Also on an exit podid did not plan (an uncaught error): the directory must not pile up in /tmp.
  process.once('exit', removeDir);

  const io = await createIo({}, ctx);
  if (!opts.quiet) {
    const s = sandbox.state;
    io.warn(`podid sandbox: world ${opts.world}`);
    for (const c of s.clusters) {
      // The API server the kubeconfig and DescribeCluster give: the world's apiServerUrl if it sets one.
      const api = s.apiServer(c);
      const served = `${sandbox.endpoint}${c.kubePath}`;
      io.warn(`  cluster ${c.arn}  Kubernetes ${c.version} (${c.platformVersion})  api ${api}${api === served ? '' : ` (the world's apiServerUrl; served here at ${served})`}`);
    }
    io.warn(`  ${s.roles.length} IAM roles, ${s.oidcProviders.length} OIDC providers`);
    io.warn(`  state: ${sandbox.endpoint}/_sandbox/state   calls: ${sandbox.endpoint}/_sandbox/calls`);
    io.warn(`  use it: set -a; . ${envPath}; set +a`);
  }
  // The signal handlers go in before the ready line: a script that stops the sandbox as soon as
  // it reads `ready` must find them installed (Node's default for SIGTERM is to die at once).
  const stopped = new Promise<void>((done) => {
    const stop = () => {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      void sandbox.close().then(() => {
        removeDir();
        done();
      });
    };
    process.removeAllListeners('SIGINT');
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  io.out(`ready endpoint=${sandbox.endpoint} kubeconfig=${kubeconfigPath} env=${envPath}`);
  await stopped;
}
