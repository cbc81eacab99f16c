/**
 * `podid` on a shell's PATH that runs in this test process: each command a script runs is
 * forwarded (its arguments, environment, working directory and stdin) to `podid()`
 * (helpers/podid.ts) and answered with its stdout, stderr and exit code. A script (docs'
 * runbook) then runs every command as written, through bash, without a Node start and an SDK
 * load per command. `podid sandbox` is long-running and stopped by a signal, so it runs as the
 * built binary, a process of its own, as a user starts it.
 *
 * The `podid` on PATH is a bash script, so a command costs no Node start either: it writes the
 * command to a directory of its own (argv and environment NUL-separated, the working directory,
 * stdin when an argument is `-`), names that directory on a loopback connection (bash's
 * /dev/tcp), and reads back the exit code; this process leaves stdout and stderr in the same
 * directory.
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BIN } from './cli.js';
import { podid } from './podid.js';

const shim = (port: number) => `#!/bin/bash
if [ "$1" = sandbox ]; then exec "${process.execPath}" "${BIN}" "$@"; fi
call=$(mktemp -d "\${TMPDIR:-/tmp}/podid-call-XXXXXX") || exit 70
printf '%s\\0' "$@" > "$call/argv"
env -0 > "$call/env"
pwd -P > "$call/cwd"
: > "$call/stdin"
# podid reads stdin only for an argument - (--manifests -, --plan -): forward it then.
for a in "$@"; do case "$a" in -|*=-) cat > "$call/stdin"; break ;; esac; done
exec 3<>/dev/tcp/127.0.0.1/${port}
printf '%s\\n' "$call" >&3
read -r code <&3
exec 3<&-
cat "$call/stdout"
cat "$call/stderr" >&2
rm -rf "$call"
exit "\${code:-70}"
`;

/** Runs the command a shim left in `call`, and leaves its stdout and stderr there; resolves to the exit code. */
async function answer(call: string): Promise<number> {
  const nul = (file: string) => readFileSync(join(call, file), 'utf8').split('\0').slice(0, -1);
  const argv = nul('argv');
  const env = Object.fromEntries(nul('env').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  // Exactly the shell's environment: what the test process has and the shell has not is unset.
  const exact: NodeJS.ProcessEnv = { ...Object.fromEntries(Object.keys(process.env).map((k) => [k, undefined])), ...env };
  const cwd = readFileSync(join(call, 'cwd'), 'utf8').replace(/\n$/, '');
  try {
    const r = await podid(argv, { env: exact, cwd, input: readFileSync(join(call, 'stdin')) });
    writeFileSync(join(call, 'stdout'), r.stdout);
    writeFileSync(join(call, 'stderr'), r.stderr);
    return r.code ?? 70;
  } catch (err) {
    writeFileSync(join(call, 'stdout'), '');
    writeFileSync(join(call, 'stderr'), `podid (forwarded): ${err instanceof Error ? err.message : String(err)}\n`);
    return 70;
  }
}

/** A directory holding `podid` to put first on PATH; close() stops the forwarding. */
export async function podidOnPath(): Promise<{ bin: string; close(): Promise<void> }> {
  const server = createServer((socket: Socket) => {
    createInterface({ input: socket }).once('line', (call) => {
      void answer(call).then((code) => socket.end(`${code}\n`));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const bin = mkdtempSync(join(tmpdir(), 'podid-on-path-'));
  writeFileSync(join(bin, 'podid'), shim((server.address() as AddressInfo).port));
  chmodSync(join(bin, 'podid'), 0o755);
  return {
    bin,
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}
