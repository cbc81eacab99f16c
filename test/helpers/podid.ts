/**
 * Run podid for an end-to-end test: `podid()` runs the built binary (bin/podid.js) as a
 * subprocess (helpers/cli.ts runPodid), against a real sandbox over HTTP with the unmodified
 * AWS SDK and Kubernetes clients, and answers its exit code, stdout and stderr.
 *
 * One case runs in-process instead: a run given its own `stdout` stream (one that fails every
 * write as a full disk does), through the built CLI's `runCli(argv, ctx)` (dist/podid.js, the
 * code bin/podid.js runs), with its own environment, working directory and streams. The AWS SDK
 * reads its own variables from process.env, so such a run makes process.env equal its
 * environment for its duration, and in-process runs are serialised. Anything written to the
 * process's own streams or console during such a run is appended to the run's output.
 */
import { Readable, Writable } from 'node:stream';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, runPodid, type RunResult } from './cli.js';

type Cli = typeof import('../../src/cli/main.js');

let cli: Promise<Cli> | undefined;
/** The built CLI, loaded once per test worker (an import of dist/ is native: vitest.config.ts). */
function loadCli(): Promise<Cli> {
  cli ??= import(pathToFileURL(join(ROOT, 'dist', 'podid.js')).href) as Promise<Cli>;
  return cli;
}

/** The environment every run starts from, as runPodid gives a subprocess. */
const BASE_ENV: Readonly<NodeJS.ProcessEnv> = { ...process.env };

let queue: Promise<unknown> = Promise.resolve();

export interface InProcessOptions {
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  cwd?: string;
  /** Fails the test when the run takes longer (default 60 s); it catches hangs only. */
  timeoutMs?: number;
  /** The run's stdout stream instead of the one that collects `stdout` (e.g. one that fails as a full disk does). */
  stdout?: NodeJS.WritableStream;
}

/**
 * Run `podid ARGS` as the end-to-end tests do: the built binary (bin/podid.js) as a subprocess,
 * through runPodid. Only a run given its own `stdout` stream (one that fails as a full disk
 * does) runs in-process, since a stream cannot be handed to a process; the binary on a real full
 * device (/dev/full) has its own test in stdout.test.ts.
 */
export function podid(args: string[], opts: InProcessOptions = {}): Promise<RunResult> {
  if (opts.stdout === undefined) {
    const { stdout: _unused, ...rest } = opts;
    return runPodid(args, rest);
  }
  return podidInProcess(args, opts);
}

/** Run `podid ARGS` in-process; same options and result as runPodid. One run at a time. */
function podidInProcess(args: string[], opts: InProcessOptions): Promise<RunResult> {
  if (opts.env?.['PODID_TEST_KILL_AFTER_MUTATIONS'] !== undefined) {
    throw new Error('PODID_TEST_KILL_AFTER_MUTATIONS SIGKILLs the process it runs in: use runPodid (a subprocess)');
  }
  const run = queue.then(() => runOnce(args, opts));
  queue = run.catch(() => undefined);
  return run;
}

async function runOnce(args: string[], opts: InProcessOptions): Promise<RunResult> {
  const { runCli } = await loadCli();
  const env: NodeJS.ProcessEnv = { ...BASE_ENV, NO_COLOR: '1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...opts.env };
  let stdout = '';
  let stderr = '';
  const sink = (to: 'out' | 'err') =>
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        if (to === 'out') stdout += chunk.toString();
        else stderr += chunk.toString();
        done();
      },
    });
  const stdin = Readable.from(opts.input === undefined ? [] : [Buffer.from(opts.input)]);

  const restoreEnv = swapEnv(env);
  const restoreStreams = captureStrays((text) => (stdout += text), (text) => (stderr += text));
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const code = await Promise.race([
      runCli(args, { env, cwd: opts.cwd ?? ROOT, stdin, stdout: opts.stdout ?? sink('out'), stderr: sink('err') }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`podid ${args.join(' ')} (in-process) did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`)), timeoutMs);
      }),
    ]);
    return { code, signal: null, stdout, stderr };
  } finally {
    clearTimeout(timer);
    restoreStreams();
    restoreEnv();
  }
}

/** Makes process.env hold exactly `env` (in place: modules holding process.env see it too); returns the undo. */
function swapEnv(env: NodeJS.ProcessEnv): () => void {
  const saved = { ...process.env };
  const replace = (with_: NodeJS.ProcessEnv) => {
    for (const key of Object.keys(process.env)) delete process.env[key];
    for (const [key, value] of Object.entries(with_)) if (value !== undefined) process.env[key] = value;
  };
  replace(env);
  return () => replace(saved);
}

/** Routes writes to the process's own streams and console into the run's output; returns the undo. */
function captureStrays(out: (text: string) => void, err: (text: string) => void): () => void {
  const { stdout, stderr } = process;
  const writeOut = stdout.write;
  const writeErr = stderr.write;
  const text = (chunk: unknown) => (typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString());
  stdout.write = ((chunk: unknown) => (out(text(chunk)), true)) as typeof stdout.write;
  stderr.write = ((chunk: unknown) => (err(text(chunk)), true)) as typeof stderr.write;
  const methods = ['log', 'info', 'debug', 'warn', 'error', 'trace'] as const;
  const saved = methods.map((m) => console[m]);
  const line = (parts: unknown[]) => `${parts.map((p) => (typeof p === 'string' ? p : String(p))).join(' ')}\n`;
  for (const m of methods) console[m] = (...parts: unknown[]) => (m === 'log' || m === 'info' || m === 'debug' ? out : err)(line(parts));
  const warning = (w: Error) => err(`(node) ${w.name}: ${w.message}\n`);
  process.on('warning', warning);
  return () => {
    stdout.write = writeOut;
    stderr.write = writeErr;
    methods.forEach((m, i) => (console[m] = saved[i]!));
    process.removeListener('warning', warning);
  };
}
