// The setup the fleet benchmarks share: a generated world written to a temporary directory,
// served by the built `podid sandbox`, with the env file and kubeconfig it writes read back, the
// sandbox's CPU time readable at any point, and everything removed on stop. Not a test helper
// (test/helpers/ has those): benchmarks only.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const bin = join(root, 'bin/podid.js');

/**
 * Writes `world` (an object, dropped by the caller afterwards if it is large) and starts the
 * sandbox on it. `nodeFlags` go before the script (e.g. --cpu-prof). Resolves once its ready
 * line is printed.
 */
export async function startSandbox(world, { prefix = 'podid-bench-', nodeFlags = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const worldFile = join(dir, 'world.json');
  writeFileSync(worldFile, JSON.stringify(world));
  const t0 = performance.now();
  const child = spawn(process.execPath, [...nodeFlags, bin, 'sandbox', '--world', worldFile, '--quiet', '--kubeconfig-out', join(dir, 'kubeconfig'), '--env-out', join(dir, 'env')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let endpoint;
  try {
    endpoint = await new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`sandbox exited ${code}`)));
      createInterface({ input: child.stdout }).on('line', (l) => l.startsWith('ready ') && resolve(/endpoint=(\S+)/.exec(l)[1]));
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const readyAt = performance.now();
  const kubeconfig = readFileSync(join(dir, 'kubeconfig'), 'utf8');
  /** The environment a client of this sandbox runs with (AWS_ENDPOINT_URL, keys, KUBECONFIG, ...). */
  const env = { ...process.env, NO_COLOR: '1' };
  for (const line of readFileSync(join(dir, 'env'), 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2];
  }
  return {
    dir,
    endpoint,
    env,
    kubeconfig,
    /** performance.now() when the sandbox was spawned, and when it printed its ready line. */
    startedAt: t0,
    readyAt,
    pid: child.pid,
    /** Each context's API server URL and the bearer token the sandbox's kubeconfig uses. */
    servers: [...kubeconfig.matchAll(/server: (\S+)/g)].map((m) => m[1]),
    token: /token: (\S+)/.exec(kubeconfig)[1],
    /** CPU seconds the sandbox has used so far (user + system, every thread), from /proc; undefined elsewhere. */
    cpuSeconds() {
      try {
        const f = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
        return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks (100 Hz)
      } catch {
        return undefined;
      }
    },
    async stop() {
      child.kill('SIGINT');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
