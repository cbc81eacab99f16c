/** Start the sandbox in-process from a world given as YAML text or an object. */
import { stringify } from 'yaml';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { parseWorld } from '../../src/sandbox/world.js';
import type { Clock } from '../../src/sandbox/state.js';

export const SANDBOX_CREDENTIALS = { accessKeyId: 'AKIDSANDBOXEXAMPLE', secretAccessKey: 'sandbox' };

export async function sandboxFrom(world: string | object, clock?: Clock): Promise<Sandbox> {
  const text = typeof world === 'string' ? world : stringify(world);
  return startSandbox(clock ? { world: parseWorld(text, 'test-world.yaml'), clock } : { world: parseWorld(text, 'test-world.yaml') });
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
