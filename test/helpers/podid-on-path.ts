/**
 * `podid` on a shell's PATH that runs in this test process: each command a script runs is
 * forwarded (its arguments, environment, working directory and stdin) to `podid()`
 * (helpers/podid.ts) and answered with its stdout, stderr and exit code. A script (docs'
 * runbook) then runs every command as written, through bash, without a Node start and an SDK
 * load per command. `podid sandbox` is long-running and stopped by a signal, so it runs as the
 * built binary, a process of its own, as a user starts it.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from './cli.js';
import { podid } from './podid.js';

interface Forwarded {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  stdin: string;
}

/** What the `podid` on PATH runs: sends its command to the test process, prints the answer, exits with its code. */
const CLIENT = `
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
const stdin = process.stdin.isTTY ? '' : readFileSync(0).toString('base64');
const body = JSON.stringify({ argv: process.argv.slice(2), env: process.env, cwd: process.cwd(), stdin });
const req = request(process.env.PODID_ON_PATH_URL, { method: 'POST' }, (res) => {
  const chunks = [];
  res.on('data', (c) => chunks.push(c));
  res.on('end', () => {
    const text = Buffer.concat(chunks).toString();
    if (res.statusCode !== 200) { process.stderr.write(\`podid (forwarded): \${text}\\n\`); process.exitCode = 70; return; }
    const r = JSON.parse(text);
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    process.exitCode = r.code;
  });
});
req.end(body);
`;

/** A directory holding `podid` to put first on PATH, and the environment variable it needs; close() stops the forwarding. */
export async function podidOnPath(): Promise<{ bin: string; env: Record<string, string>; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const f = JSON.parse(Buffer.concat(chunks).toString()) as Forwarded;
      const { PODID_ON_PATH_URL: _url, ...env } = f.env;
      // Exactly the shell's environment: what the test process has and the shell has not is unset.
      const exact: NodeJS.ProcessEnv = { ...Object.fromEntries(Object.keys(process.env).map((k) => [k, undefined])), ...env };
      podid(f.argv, { env: exact, cwd: f.cwd, input: Buffer.from(f.stdin, 'base64') }).then(
        (r) => {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ code: r.code, stdout: r.stdout, stderr: r.stderr }));
        },
        (err: unknown) => {
          res.statusCode = 500;
          res.end(err instanceof Error ? err.message : String(err));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const bin = mkdtempSync(join(tmpdir(), 'podid-on-path-'));
  writeFileSync(join(bin, 'client.mjs'), CLIENT);
  writeFileSync(
    join(bin, 'podid'),
    `#!/bin/sh\nif [ "$1" = sandbox ]; then exec "${process.execPath}" "${BIN}" "$@"; fi\nexec "${process.execPath}" "${join(bin, 'client.mjs')}" "$@"\n`,
  );
  chmodSync(join(bin, 'podid'), 0o755);
  return {
    bin,
    env: { PODID_ON_PATH_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` },
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}
