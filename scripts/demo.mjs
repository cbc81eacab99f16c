// `npm run demo`: start `podid sandbox` on examples/world.yaml (no AWS account needed), then run
// podid against it exactly as a user would against a real fleet: the sandbox's env file points
// the AWS SDK (AWS_ENDPOINT_URL, dummy keys) and the Kubernetes client (KUBECONFIG) at it.
// It scans, plans, applies the saved plan (journal in a temporary directory) with verification,
// then applies again to show that a second run has nothing left to do. Each command runs in this
// process through runCli, what bin/podid.js runs for its command line (one Node start and one
// load of the AWS SDK for the four commands, not one each).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

const sandbox = spawn(process.execPath, ['bin/podid.js', 'sandbox', '--world', 'examples/world.yaml', '--quiet'], {
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

// The environment a user gets from `set -a; . ENV_FILE; set +a`: the AWS SDK reads it from
// process.env, podid from the context runCli is given.
for (const line of readFileSync(ready.env, 'utf8').split('\n')) {
  const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
  if (m) process.env[m[1]] = m[2].replace(/^'(.*)'$/, '$1');
}
// As bin/podid.js: the SDK's Node 20 warning off (podid supports Node >= 20.19).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { runCli } = await import(new URL('../dist/podid.js', import.meta.url).href);

async function run(args) {
  console.log(`\n$ podid ${args.join(' ')}`);
  return runCli(args, { env: process.env, cwd: root, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
}

const work = mkdtempSync(join(tmpdir(), 'podid-demo-'));
const planFile = join(work, 'plan.json');
const journalDir = join(work, 'runs');
let failed = false;
try {
  console.log('$ podid sandbox --world examples/world.yaml');
  console.log(`ready endpoint=${ready.endpoint}   (set -a; . ${ready.env}; set +a  to use it yourself)`);
  failed ||= (await run(['scan', '--all-contexts'])) !== 0;
  failed ||= (await run(['migrate', '--dry-run', '--all-contexts', '--out', planFile])) !== 0;
  // Apply the reviewed plan; the demo world's webhook sees a new association after 1 s.
  failed ||= (await run(['migrate', '--apply', '--plan', planFile, '--yes', '--propagation-wait', '1s', '--journal-dir', journalDir])) !== 0;
  // A second run finds nothing left to do.
  failed ||= (await run(['migrate', '--apply', '--all-contexts', '--yes', '--journal-dir', journalDir])) !== 0;
} finally {
  sandbox.kill('SIGTERM');
  // The sandbox removes its temporary directory (kubeconfig, env file) when it exits.
  await new Promise((resolve) => (sandbox.exitCode !== null ? resolve() : sandbox.once('exit', resolve)));
  rmSync(work, { recursive: true, force: true });
}
if (!failed) {
  console.log(`
What to run next:
  # keep a sandbox running (in another terminal) and point your shell at it
  node bin/podid.js sandbox --world examples/world.yaml --kubeconfig-out /tmp/podid.kubeconfig --env-out /tmp/podid.env
  set -a; . /tmp/podid.env; set +a
  # the inventory for machines (also yaml, sarif, junit, markdown)
  node bin/podid.js scan --all-contexts -o json
  # plan with the agent installed, keep the plan, export it to Terraform
  node bin/podid.js migrate --dry-run --all-contexts --install-agent --out plan.json --emit terraform pod-identity.tf
  # the CI gate over manifests, no cluster needed
  helm template my-release my-chart | node bin/podid.js scan --manifests - --fail-on irsa
Against your own fleet: the same commands with your kubeconfig and AWS credentials (README.md, docs/ci.md).`);
}
process.exitCode = failed ? 1 : 0;
