// Fleet-scale benchmark (issue 10, point 9): `podid scan -o json` and `podid migrate --dry-run -o json`
// over every context of a generated fleet (default 4 clusters, 10,000 ServiceAccounts, 100,000
// pods, 3,000 roles, a third shared across clusters; bench/generate-world.mjs) served by the
// built `podid sandbox` with 5 ms of latency per request. For each command it reports wall time,
// the podid process's CPU time and peak RSS, the sandbox's CPU time serving it (the two share the
// machine's cores), and its API calls against the minimum the world requires, computed here (see
// minimumCalls). With BENCH_WRITE=1 it appends the result to bench/RESULTS.md with the machine.
// BENCH_CPU_PROF=DIR / BENCH_HEAP_PROF=DIR profile the podid process. BENCH_CLUSTERS, BENCH_SAS,
// BENCH_PODS, BENCH_ROLES, BENCH_ASSOCIATION_EVERY (0, or --no-associations: none), BENCH_LATENCY_MS, BENCH_RUNS tune it. A benchmark, not a test.
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { generateWorld, worldSize } from './generate-world.mjs';
import { bin, root, startSandbox } from './lib/sandbox.mjs';

const opts = {
  clusters: Number(process.env.BENCH_CLUSTERS ?? 4),
  serviceAccounts: Number(process.env.BENCH_SAS ?? 10_000),
  pods: Number(process.env.BENCH_PODS ?? 100_000),
  roles: Number(process.env.BENCH_ROLES ?? 3_000),
  // `--no-associations`: the fleet issue 10 was measured on (no ServiceAccount has an association).
  associationEvery: process.argv.includes('--no-associations') ? 0 : Number(process.env.BENCH_ASSOCIATION_EVERY ?? 4),
};
const latencyMs = Number(process.env.BENCH_LATENCY_MS ?? 5);
const runs = Number(process.env.BENCH_RUNS ?? 3);

// The page sizes podid asks for, which the sandbox (like a real API server and IAM/EKS) honours:
// Kubernetes limit=500 (kubectl's chunk size), IAM GetAccountAuthorizationDetails MaxItems=1000
// (its largest page), EKS ListPodIdentityAssociations maxResults=100 (its largest page); other
// EKS lists fit one page.
const KUBE_PAGE = 500;
const ROLE_LISTING_PAGE = 1000;
const ASSOCIATIONS_PAGE = 100;
/** The Kubernetes lists a scan reads, cluster-wide. */
const KUBE_KINDS = [
  ['serviceaccounts', '/api/v1/serviceaccounts'],
  ['pods', '/api/v1/pods'],
  ['nodes', '/api/v1/nodes'],
  ['deployments', '/apis/apps/v1/deployments'],
  ['replicasets', '/apis/apps/v1/replicasets'],
  ['statefulsets', '/apis/apps/v1/statefulsets'],
  ['daemonsets', '/apis/apps/v1/daemonsets'],
  ['jobs', '/apis/batch/v1/jobs'],
  ['cronjobs', '/apis/batch/v1/cronjobs'],
];

const world = { ...generateWorld(opts), latencyMs, rolloutDelayMs: 0, associationPropagationMs: 0 };
const size = worldSize(world);
const sandbox = await startSandbox(world, { prefix: 'podid-fleet-' });
const { endpoint, env } = sandbox;

/**
 * The fewest calls a full read of this world takes: per cluster one paginated list per Kubernetes
 * kind (objects counted on the loaded sandbox, controller-made ReplicaSets, pods and add-on
 * DaemonSets included), DescribeCluster, ListAddons + one DescribeAddon per add-on,
 * ListNodegroups + one DescribeNodegroup each, ListFargateProfiles (+ describes),
 * ListPodIdentityAssociations pages + one DescribePodIdentityAssociation per association whose
 * ServiceAccount carries an IRSA annotation (the list does not give the role); the pages of one
 * listing of the account's roles (GetAccountAuthorizationDetails, which gives each role's trust
 * policy and permissions boundary; ListRoles would take as many pages but without boundaries,
 * and GetRole per referenced role would take 3,000 calls here); the node roles' policies; one
 * GetCallerIdentity.
 */
async function minimumCalls() {
  const headers = { authorization: `Bearer ${sandbox.token}` };
  const pages = (n, size) => Math.max(1, Math.ceil(n / size));
  const min = { sts: 1, eks: 0, iam: pages(world.iam.roles.length, ROLE_LISTING_PAGE), k8s: 0 };
  const objects = {};
  for (const server of sandbox.servers) {
    for (const [kind, path] of KUBE_KINDS) {
      let n = 0;
      let cont = '';
      do {
        const res = await fetch(`${server}${path}?limit=${KUBE_PAGE}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`, { headers });
        const body = await res.json();
        if (!res.ok) throw new Error(`count ${kind}: HTTP ${res.status} ${body.message}`);
        n += body.items.length;
        cont = body.metadata.continue ?? '';
      } while (cont);
      objects[kind] = (objects[kind] ?? 0) + n;
      min.k8s += pages(n, KUBE_PAGE);
    }
  }
  for (const c of world.clusters) {
    const annotated = new Set(c.objects.filter((o) => o.kind === 'ServiceAccount' && o.metadata.annotations?.['eks.amazonaws.com/role-arn']).map((o) => `${o.metadata.namespace}/${o.metadata.name}`));
    const assoc = c.podIdentityAssociations ?? [];
    min.eks += 1 + 1 + (c.addons ?? []).length + 1 + (c.nodegroups ?? []).length + 1 + (c.fargateProfiles ?? []).length;
    min.eks += pages(assoc.length, ASSOCIATIONS_PAGE) + assoc.filter((a) => annotated.has(`${a.namespace}/${a.serviceAccount}`)).length;
  }
  // The node roles' permissions (does the agent's node role allow eks-auth:AssumeRoleForPodIdentity?):
  // ListAttachedRolePolicies, ListRolePolicies, and GetPolicy + GetPolicyVersion per managed policy.
  const nodeRoles = new Set(world.clusters.flatMap((c) => (c.nodegroups ?? []).map((n) => n.nodeRole)));
  for (const arn of nodeRoles) {
    const role = world.iam.roles.find((r) => arn.endsWith(`:role/${r.name}`));
    min.iam += 2 + 2 * (role?.attachedPolicies?.length ?? 0) + Object.keys(role?.inlinePolicies ?? {}).length;
  }
  return { min, objects };
}

// Reports the podid process's CPU time, peak RSS and its main thread's CPU time on stderr as it
// exits. The main thread's time (Linux: /proc/self/task/PID/stat, else -1) is the run's critical
// path and moves less with the machine's load than wall time does: V8's worker threads (compiling,
// collecting) and the sandbox take the other core.
const probe = `data:text/javascript,import{readFileSync}from'node:fs';process.on('exit',()=>{const u=process.resourceUsage();let m=-1;try{const t=readFileSync('/proc/self/task/'+process.pid+'/stat','utf8');const s=t.slice(t.lastIndexOf(')')+2).split(' ');m=(Number(s[11])+Number(s[12]))*10}catch{}process.stderr.write('\\nbench-usage '+Math.round((u.userCPUTime+u.systemCPUTime)/1000)+' '+u.maxRSS+' '+m+'\\n')})`;
const profFlags = [
  ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
  ...(process.env.BENCH_HEAP_PROF ? ['--heap-prof', `--heap-prof-dir=${process.env.BENCH_HEAP_PROF}`] : []),
];

function runPodid(args) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [...profFlags, '--import', probe, bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = 0;
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b.length));
    child.stderr.on('data', (b) => (stderr += b));
    child.once('error', reject);
    child.once('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const m = /bench-usage (\d+) (\d+) (-?\d+)/.exec(stderr);
      const mainMs = m ? Number(m[3]) : -1;
      resolve({ code, ms, cpuMs: m ? Number(m[1]) : NaN, rssMb: m ? Number(m[2]) / 1024 : NaN, mainMs: mainMs >= 0 ? mainMs : NaN, stdout, stderr });
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * The floor (bench/lib/floor.mjs): the world's DescribePodIdentityAssociation calls through the
 * AWS SDK alone, and its Kubernetes list pages read as bytes, each in a fresh process with no
 * podid work: CPU that no change inside podid's own code can remove.
 */
function floor(mode) {
  const annotated = world.clusters.flatMap((c) => {
    const sas = new Set(c.objects.filter((o) => o.kind === 'ServiceAccount' && o.metadata.annotations?.['eks.amazonaws.com/role-arn']).map((o) => `${o.metadata.namespace}/${o.metadata.name}`));
    return (c.podIdentityAssociations ?? []).filter((a) => sas.has(`${a.namespace}/${a.serviceAccount}`)).map((a) => `${c.name}/${a.namespace}/${a.serviceAccount}`);
  });
  const floorEnv = {
    ...env,
    BENCH_FLOOR_CLUSTERS: JSON.stringify(world.clusters.map((c) => c.name)),
    BENCH_FLOOR_WANTED: JSON.stringify(annotated),
    BENCH_FLOOR_TOKEN: sandbox.token,
    BENCH_FLOOR_SERVERS: JSON.stringify(sandbox.servers),
    BENCH_FLOOR_PATHS: JSON.stringify(KUBE_KINDS.map(([, path]) => path)),
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bench/lib/floor.mjs'), mode], { env: floorEnv, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`floor ${mode} exited ${code}`))));
  });
}

async function measure(label, args, okCodes) {
  const wall = [];
  const cpu = [];
  const main = [];
  const rss = [];
  let calls = [];
  const sandboxCpu = [];
  for (let i = 0; i < runs; i++) {
    await fetch(`${endpoint}/_sandbox/calls`, { method: 'DELETE' });
    const cpu0 = sandbox.cpuSeconds();
    const r = await runPodid(args);
    const cpu1 = sandbox.cpuSeconds();
    if (cpu0 !== undefined && cpu1 !== undefined) sandboxCpu.push((cpu1 - cpu0) * 1000);
    if (!okCodes.includes(r.code)) throw new Error(`${label} exited ${r.code}: ${r.stderr.slice(-2000)}`);
    if (r.stdout === 0) throw new Error(`${label} printed nothing`);
    wall.push(r.ms);
    cpu.push(r.cpuMs);
    main.push(r.mainMs);
    rss.push(r.rssMb);
    calls = await (await fetch(`${endpoint}/_sandbox/calls`)).json();
  }
  const by = { sts: 0, eks: 0, iam: 0, k8s: 0 };
  const ops = {};
  for (const c of calls) {
    const svc = c.service.startsWith('k8s:') ? 'k8s' : c.service;
    by[svc] = (by[svc] ?? 0) + 1;
    const key = `${svc}:${c.operation}`;
    ops[key] = (ops[key] ?? 0) + 1;
  }
  const mutating = calls.filter((c) => c.mutating).length;
  if (mutating > 0) throw new Error(`${label} made ${mutating} mutating calls`);
  return { label, wallMs: median(wall), wallMin: Math.min(...wall), cpuMs: median(cpu), mainMs: median(main), sandboxCpuMs: sandboxCpu.length ? median(sandboxCpu) : NaN, rssMb: Math.max(...rss), calls: calls.length, by, ops };
}

try {
  const { min, objects } = await minimumCalls();
  const minTotal = min.sts + min.eks + min.iam + min.k8s;
  const load = loadavg();
  const results = [
    // 0: no findings at the fail-on level; scan exits 0 (the gate is not asked for here).
    await measure('podid scan --all-contexts -o json', ['scan', '--all-contexts', '-o', 'json'], [0]),
    await measure('podid migrate --all-contexts --dry-run -o json', ['migrate', '--all-contexts', '--dry-run', '-o', 'json'], [0]),
  ];
  const floors = { aws: [], kube: [] };
  for (let i = 0; i < runs; i++) for (const mode of ['aws', 'kube']) floors[mode].push(await floor(mode));
  const floorOf = (mode) => ({ calls: floors[mode][0].calls, cpuMs: median(floors[mode].map((f) => f.cpuMs)), wallMs: median(floors[mode].map((f) => f.wallMs)) });
  const awsFloor = floorOf('aws');
  const kubeFloor = floorOf('kube');
  const loadAfter = loadavg();
  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average ${load.map((x) => x.toFixed(2)).join(' ')} before and ${loadAfter.map((x) => x.toFixed(2)).join(' ')} after (a machine shared with other jobs: wall times vary with their load)`;
  const lines = [
    `world: ${size.clusters} clusters, ${size.serviceAccounts} ServiceAccounts, ${size.pods} pods, ${size.roles} roles (a third shared), ${world.clusters.reduce((n, c) => n + (c.podIdentityAssociations?.length ?? 0), 0)} Pod Identity associations, ${latencyMs} ms latency per request`,
    `objects listed: ${Object.entries(objects).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `minimum calls: ${minTotal} (k8s ${min.k8s} at limit=${KUBE_PAGE}, eks ${min.eks}, iam ${min.iam}, sts ${min.sts})`,
    `machine: ${machine}`,
    '',
    '| command | wall (median of ' + runs + ') | CPU (main thread) | sandbox CPU | peak RSS | calls | vs minimum |',
    '|---|---|---|---|---|---|---|',
    ...results.map((r) => `| \`${r.label}\` | ${(r.wallMs / 1000).toFixed(2)} s (min ${(r.wallMin / 1000).toFixed(2)} s) | ${(r.cpuMs / 1000).toFixed(2)} s (${Number.isNaN(r.mainMs) ? 'n/a' : `${(r.mainMs / 1000).toFixed(2)} s`}) | ${Number.isNaN(r.sandboxCpuMs) ? 'n/a' : `${(r.sandboxCpuMs / 1000).toFixed(2)} s`} | ${r.rssMb.toFixed(0)} MB | ${r.calls} (k8s ${r.by.k8s}, eks ${r.by.eks}, iam ${r.by.iam}, sts ${r.by.sts}) | ${(r.calls / minTotal).toFixed(2)}x |`),
    '',
    `floor (bench/lib/floor.mjs, median of ${runs}, no podid code): ${awsFloor.calls} DescribePodIdentityAssociation through the AWS SDK alone, 8 in flight: ${(awsFloor.cpuMs / 1000).toFixed(2)} s CPU (${awsFloor.calls > 0 ? `${(awsFloor.cpuMs / awsFloor.calls).toFixed(2)} ms a call` : 'none to make'}), ${(awsFloor.wallMs / 1000).toFixed(2)} s wall; ${kubeFloor.calls} Kubernetes list pages read as bytes (gzip-decompressed as served): ${(kubeFloor.cpuMs / 1000).toFixed(2)} s CPU, ${(kubeFloor.wallMs / 1000).toFixed(2)} s wall`,
  ];
  console.log(lines.join('\n'));
  if (process.env.BENCH_VERBOSE) for (const r of results) console.log(r.label, r.ops);
  if (process.env.BENCH_WRITE) {
    const title = process.env.BENCH_WRITE === '1' ? `run of ${new Date().toISOString()}` : process.env.BENCH_WRITE;
    appendFileSync(join(root, 'bench/RESULTS.md'), `\n### ${title}\n\n${lines.join('\n')}\n`);
  }
} finally {
  await sandbox.stop();
}
