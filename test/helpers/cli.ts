/** Run the built `podid` binary as a user would: a subprocess, with a bounded wait. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/podid.js', import.meta.url));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runPodid(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string | Buffer; timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
  return runProcess(process.execPath, [BIN, ...args], {
    what: `podid ${args.join(' ')}`,
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: '1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...opts.env },
    input: opts.input ?? '',
    timeoutMs: opts.timeoutMs ?? 60_000,
  });
}

/**
 * Any process (podid, the demo script, bash running the runbook) with its output collected and a
 * bounded wait: past `timeoutMs` it is SIGKILLed and the test fails naming `what` and its output.
 * `input`: written to its stdin, which is then closed; without it, stdin is /dev/null.
 */
export function runProcess(command: string, args: readonly string[], opts: { what: string; cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number; input?: string | Buffer }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${opts.what} did not finish within ${opts.timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** A running sandbox, in this process (helpers/sandbox.ts) or as `podid sandbox` (below). */
export interface SandboxEndpoint {
  endpoint: string;
  /** Paths of its kubeconfig and env file. */
  kubeconfig: string;
  env: string;
  /** Environment that points AWS SDKs and the Kubernetes client at this sandbox. */
  clientEnv: NodeJS.ProcessEnv;
  stop(): Promise<unknown>;
}

export interface SandboxProcess extends SandboxEndpoint {
  child: ChildProcess;
  /** What it printed on stderr so far (the banner, unless --quiet). */
  stderr(): string;
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start `podid sandbox` as a subprocess and wait for its `ready` line. */
export function startSandboxProcess(args: string[], timeoutMs = 60_000): Promise<SandboxProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'sandbox', ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sandbox printed no ready line within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    const early = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`sandbox exited with ${code} before ready; stderr: ${stderr}`));
    };
    child.once('exit', early);
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('ready ')) return;
      clearTimeout(timer);
      const kv = Object.fromEntries(line.slice('ready '.length).split(' ').map((p) => p.split('=') as [string, string]));
      child.removeListener('exit', early);
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
        child.once('exit', (code, signal) => res({ code, signal })),
      );
      resolve({
        child,
        stderr: () => stderr,
        endpoint: kv['endpoint']!,
        kubeconfig: kv['kubeconfig']!,
        env: kv['env']!,
        clientEnv: {
          AWS_ENDPOINT_URL: kv['endpoint']!,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'AKIDSANDBOXEXAMPLE',
          AWS_SECRET_ACCESS_KEY: 'sandbox',
          KUBECONFIG: kv['kubeconfig']!,
        },
        stop: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          return exited;
        },
      });
    });
  });
}

export interface CallRecord { service: string; operation: string; mutating: boolean; status: number }

export async function sandboxCalls(sb: { endpoint: string }): Promise<CallRecord[]> {
  return (await (await fetch(`${sb.endpoint}/_sandbox/calls`)).json()) as CallRecord[];
}

export async function clearSandboxCalls(sb: { endpoint: string }): Promise<void> {
  await fetch(`${sb.endpoint}/_sandbox/calls`, { method: 'DELETE' });
}
