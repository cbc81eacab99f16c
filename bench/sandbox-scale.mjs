// Sandbox scale benchmark (issue 9): a generated world (default 4 clusters, 10,000 ServiceAccounts,
// 100,000 pods, 3,000 roles, a third shared) served by the built `podid sandbox`. Measures the
// time from spawn to the first answered Kubernetes request (target: 15 s on two cores) and a full
// paginated list of one cluster's pods (25,000 by default; target: well under a second), the first
// time and again: parsed as a client would, and read as bytes only (what the sandbox takes to
// answer, without the client's JSON.parse). Then one write (a Deployment's template changed) in
// that cluster: the request, with the controllers' pass it causes. The sandbox's CPU time is given
// with each (steadier than wall time on a shared machine).
// BENCH_PODS, BENCH_SAS, BENCH_ROLES, BENCH_CLUSTERS, BENCH_PAGE tune it; BENCH_CPU_PROF=DIR
// profiles the sandbox (node --cpu-prof); BENCH_WRITE=1 (or ="title") appends the result to
// bench/RESULTS.md. A benchmark, not a test.
import { appendFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { generateWorld, worldSize } from './generate-world.mjs';
import { root, startSandbox } from './lib/sandbox.mjs';

const opts = {
  clusters: Number(process.env.BENCH_CLUSTERS ?? 4),
  serviceAccounts: Number(process.env.BENCH_SAS ?? 10_000),
  pods: Number(process.env.BENCH_PODS ?? 100_000),
  roles: Number(process.env.BENCH_ROLES ?? 3_000),
};
const page = Number(process.env.BENCH_PAGE ?? 500);

const load = loadavg();
const out = [];
const say = (line) => {
  console.log(line);
  out.push(line);
};
const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
// The generated world is not kept: this process is the client, and a 100,000-pod object graph in
// its heap would slow its own garbage collection during the timed lists.
const { size, sandbox } = await (async () => {
  const world = generateWorld(opts);
  const size = worldSize(world);
  console.log(`world: ${size.clusters} clusters, ${size.serviceAccounts} ServiceAccounts, ${size.pods} pods, ${size.roles} roles`);
  return { size, sandbox: await startSandbox(world, { prefix: 'podid-scale-', nodeFlags: prof }) };
})();
const t0 = sandbox.startedAt;
const tReady = sandbox.readyAt;
// CPU the sandbox spent to get ready (all its threads, GC included): steadier than wall time on a busy machine.
const cpuSeconds = () => sandbox.cpuSeconds();
const cpuReady = cpuSeconds();
const server = sandbox.servers[0];
const headers = { authorization: `Bearer ${sandbox.token}` };

try {
  const first = await fetch(`${server}/api/v1/namespaces/team-0/pods?limit=1`, { headers });
  if (!first.ok) throw new Error(`first request: HTTP ${first.status}`);
  await first.text();
  const tFirst = performance.now();
  say(`ready line after      ${((tReady - t0) / 1000).toFixed(2)} s`);
  say(`first request after   ${((tFirst - t0) / 1000).toFixed(2)} s (target <= 15 s) ${tFirst - t0 <= 15_000 ? 'OK' : 'OVER'}`);
  if (cpuReady !== undefined) say(`sandbox CPU to ready  ${cpuReady.toFixed(2)} s (user + system, every thread)`);

  const fullList = async (parse, resource = 'pods') => {
    const cpu0 = cpuSeconds();
    const t1 = performance.now();
    let cont = '';
    let items = 0;
    let pages = 0;
    do {
      const res = await fetch(`${server}${resource === 'pods' ? '/api/v1/pods' : `/apis/apps/v1/${resource}`}?limit=${page}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`, { headers });
      if (!res.ok) throw new Error(`list: HTTP ${res.status} ${await res.text()}`);
      if (parse) {
        const body = await res.json();
        items += body.items.length;
        cont = body.metadata.continue ?? '';
      } else {
        // Bytes only: the continue token from the head; the total from the first page's
        // remainingItemCount (a full page plus the rest), or the one page parsed.
        const bytes = Buffer.from(await res.arrayBuffer());
        const head = bytes.subarray(0, 1000).toString('latin1');
        cont = /"continue":"([^"]+)"/.exec(head)?.[1] ?? '';
        if (pages === 0) items = cont ? page + Number(/"remainingItemCount":(\d+)/.exec(head)?.[1]) : JSON.parse(bytes.toString('utf8')).items.length;
      }
      pages++;
    } while (cont);
    const ms = performance.now() - t1;
    const cpu = cpuSeconds();
    return { ms, items, pages, cpu: cpu !== undefined && cpu0 !== undefined ? cpu - cpu0 : undefined };
  };
  // This process warms its own HTTP client first (a list of the cluster's Deployments), so the
  // first pod list times the sandbox, not the client's first requests.
  const warm = await fullList(false, 'deployments');
  say(`warm-up: full list of ${warm.items} Deployments, ${warm.ms.toFixed(0)} ms`);
  // The sandbox encodes a list's objects the first time, keeps their bytes the second, copies them
  // after: the first list is read as bytes (the sandbox's answer), the second and later both ways.
  const runs = [['first', false], ['second', true], ['third', false], ['fourth', true], ['fifth', false]];
  for (const [nth, parse] of runs) {
    const r = await fullList(parse);
    say(`full list (limit ${page}), ${nth} time, ${parse ? 'parsed by the client' : 'bytes only'}: ${r.items} pods in ${r.pages} pages, ${r.ms.toFixed(0)} ms${r.ms < 1000 ? '' : ' OVER'}${r.cpu !== undefined ? `, sandbox CPU ${r.cpu.toFixed(2)} s` : ''}`);
  }

  // One write in the same cluster, as an executor makes them: a Deployment's template changes.
  const cpuW = cpuSeconds();
  const tW = performance.now();
  const patch = await fetch(`${server}/apis/apps/v1/namespaces/team-3/deployments/svc-3`, {
    method: 'PATCH',
    headers: { ...headers, 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify({ spec: { template: { metadata: { annotations: { 'bench/restartedAt': new Date().toISOString() } } } } }),
  });
  if (!patch.ok) throw new Error(`patch: HTTP ${patch.status} ${await patch.text()}`);
  await patch.text();
  const wMs = performance.now() - tW;
  const cpuAfterW = cpuSeconds();
  say(`one Deployment patched (its rollout started): ${wMs.toFixed(0)} ms${cpuW !== undefined && cpuAfterW !== undefined ? `, sandbox CPU ${(cpuAfterW - cpuW).toFixed(2)} s` : ''}`);

  const loadAfter = loadavg();
  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average ${load.map((x) => x.toFixed(2)).join(' ')} before and ${loadAfter.map((x) => x.toFixed(2)).join(' ')} after`;
  say(`machine: ${machine}`);
  if (process.env.BENCH_WRITE) {
    const title = process.env.BENCH_WRITE === '1' ? `run of ${new Date().toISOString()}` : process.env.BENCH_WRITE;
    const world = `world: ${size.clusters} clusters, ${size.serviceAccounts} ServiceAccounts, ${size.pods} pods, ${size.roles} roles`;
    appendFileSync(join(root, 'bench/RESULTS.md'), `\n### sandbox-scale: ${title}\n\n\`\`\`\n${[world, ...out].join('\n')}\n\`\`\`\n`);
  }
} finally {
  await sandbox.stop();
}
