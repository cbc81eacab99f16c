/** Start the sandbox in-process from a world given as YAML text or an object. */
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { loadWorldFile, parseWorld } from '../../src/sandbox/world.js';
import type { Clock } from '../../src/sandbox/state.js';
import type { World } from '../../src/sandbox/world-types.js';
import type { SandboxEndpoint } from './cli.js';

export const SANDBOX_CREDENTIALS = { accessKeyId: 'AKIDSANDBOXEXAMPLE', secretAccessKey: 'sandbox' };

/** A world given as an object goes as JSON, which parseWorld reads natively (YAML took ~6 ms a world). */
export async function sandboxFrom(world: string | object, clock?: Clock, port?: number): Promise<Sandbox> {
  const text = typeof world === 'string' ? world : JSON.stringify(world);
  return startSandbox({ world: parseWorld(text, 'test-world.yaml'), ...(clock ? { clock } : {}), ...(port !== undefined ? { port } : {}) });
}

const worldFiles = new Map<string, Promise<World>>();

/**
 * A world file, read and parsed once per test worker (examples/world.yaml: 20-40 ms of YAML a
 * parse, and dozens of sandboxes a run start from it; loadWorldFile itself is tested in
 * test/sandbox/world.test.ts and through `podid sandbox --world`); each sandbox gets its own copy.
 */
async function worldFile(file: string): Promise<World> {
  const key = `${file}\0${statSync(file).mtimeMs}`;
  let world = worldFiles.get(key);
  if (world === undefined) worldFiles.set(key, (world = loadWorldFile(file)));
  return structuredClone(await world);
}

/**
 * The sandbox in this test process, served over HTTP on a loopback port exactly as `podid
 * sandbox` serves it, with its kubeconfig and env file written to a temporary directory: what
 * a test needs to run podid (in-process or as the binary) against it, without a sandbox process
 * to start. `world`: YAML text, an object, or `{ file }` (a world file, e.g. examples/world.yaml);
 * `clock`: the sandbox's time (default the system clock); `port`: the loopback port (default any
 * free one), for a world whose apiServerUrl names it.
 */
export async function sandboxServer(world: string | object | { file: string }, clock?: Clock, port?: number): Promise<SandboxEndpoint & { sandbox: Sandbox }> {
  const file = typeof world === 'object' && typeof (world as { file?: unknown }).file === 'string' ? (world as { file: string }).file : undefined;
  const sandbox = file !== undefined ? await startSandbox({ world: await worldFile(file), ...(clock ? { clock } : {}), ...(port !== undefined ? { port } : {}) }) : await sandboxFrom(world, clock, port);
  const dir = mkdtempSync(join(tmpdir(), 'podid-test-sandbox-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const env = join(dir, 'env');
  writeFileSync(kubeconfig, sandbox.kubeconfig(), { mode: 0o600 });
  writeFileSync(env, sandbox.envFile(kubeconfig), { mode: 0o600 });
  return {
    sandbox,
    endpoint: sandbox.endpoint,
    kubeconfig,
    env,
    clientEnv: {
      AWS_ENDPOINT_URL: sandbox.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: SANDBOX_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: SANDBOX_CREDENTIALS.secretAccessKey,
      KUBECONFIG: kubeconfig,
    },
    stop: () => sandbox.close(),
  };
}

/** SDK client config for a sandbox. */
export function awsConfig(sandbox: Sandbox, region = 'us-east-1') {
  return { region, endpoint: sandbox.endpoint, credentials: SANDBOX_CREDENTIALS, maxAttempts: 1 };
}

/** A manual clock for rollout / propagation timing. */
export class ManualClock implements Clock {
  constructor(private t = Date.parse('2026-11-27T12:00:00Z')) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/**
 * Real time until fastForward(factor), then `factor` times faster: a sandbox rollout that takes
 * minutes (rolloutDelayMs) while a test interrupts it passes in a moment once it may finish.
 */
export class FastForwardClock implements Clock {
  private base = 0;
  private since = 0;
  private factor = 1;
  now(): number {
    return this.factor === 1 ? Date.now() : this.base + (Date.now() - this.since) * this.factor;
  }
  fastForward(factor: number): void {
    this.base = this.now();
    this.since = Date.now();
    this.factor = factor;
  }
}
