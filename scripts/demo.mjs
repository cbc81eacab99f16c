// `npm run demo`: start `podid sandbox` on examples/world.yaml (no AWS account needed), then run
// podid against it exactly as a user would against a real fleet: the sandbox's env file points
// the AWS SDK (AWS_ENDPOINT_URL, dummy keys) and the Kubernetes client (KUBECONFIG) at it.
// It scans, plans, applies the saved plan (journal in a temporary directory) with verification,
// then applies again to show that a second run has nothing left to do.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = 'bin/podid.js';

const sandbox = spawn(process.execPath, [bin, 'sandbox', '--world', 'examples/world.yaml', '--quiet'], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
});
const ready = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('sandbox did not print its ready line within 20s')), 20_000);
  sandbox.once('exit', (code) => reject(new Error(`sandbox exited early with code ${code}`)));
  createInterface({ input: sandbox.stdout }).on('line', (line) => {
    if (line.startsWith('ready ')) {
      clearTimeout(timer);
      resolve(Object.fromEntries(line.slice(6).split(' ').map((kv) => kv.split('='))));
    }
  });
});

const env = { ...process.env };
for (const line of readFileSync(ready.env, 'utf8').split('\n')) {
  const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
  if (m) env[m[1]] = m[2].replace(/^'(.*)'$/, '$1');
}

function run(args) {
  console.log(`\n$ podid ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, env, stdio: 'inherit' });
  return r.status;
}

const work = mkdtempSync(join(tmpdir(), 'podid-demo-'));
const planFile = join(work, 'plan.json');
const journalDir = join(work, 'runs');
let failed = false;
try {
  console.log('$ podid sandbox --world examples/world.yaml');
  console.log(`ready endpoint=${ready.endpoint}   (set -a; . ${ready.env}; set +a  to use it yourself)`);
  failed ||= run(['scan', '--all-contexts']) !== 0;
  failed ||= run(['migrate', '--dry-run', '--all-contexts', '--out', planFile]) !== 0;
  // The demo world's webhook sees a new association after 1 s (associationPropagationMs).
  failed ||= run(['migrate', '--apply', '--plan', planFile, '--yes', '--propagation-wait', '1s', '--journal-dir', journalDir]) !== 0;
  failed ||= run(['migrate', '--apply', '--all-contexts', '--yes', '--journal-dir', journalDir]) !== 0;
} finally {
  sandbox.kill('SIGTERM');
}
process.exitCode = failed ? 1 : 0;
