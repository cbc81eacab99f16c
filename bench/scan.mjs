// Scan benchmark: `podid scan --all-contexts -o json` against `podid sandbox` on a generated
// fleet (3 clusters x 200 ServiceAccounts, 1,200 pods by default), with per-request latency to
// make call counts and parallelism matter. Prints wall time, the scan process's CPU time (steadier
// than wall time on a busy machine) and the calls the scan made.
// BENCH_CLUSTERS, BENCH_SAS, BENCH_LATENCY_MS, BENCH_RUNS tune it. A benchmark, not a test.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { fleetWorld } from './fleet-world.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin/podid.js');
const clusters = Number(process.env.BENCH_CLUSTERS ?? 3);
const sas = Number(process.env.BENCH_SAS ?? 200);
const latencyMs = Number(process.env.BENCH_LATENCY_MS ?? 5);
const runs = Number(process.env.BENCH_RUNS ?? 3);

const dir = mkdtempSync(join(tmpdir(), 'podid-bench-'));
const worldFile = join(dir, 'world.yaml');
writeFileSync(worldFile, fleetWorld({ clusters, serviceAccounts: sas, latencyMs }));

const sandbox = spawn(process.execPath, [bin, 'sandbox', '--world', worldFile, '--quiet', '--kubeconfig-out', join(dir, 'kubeconfig'), '--env-out', join(dir, 'env')], { stdio: ['ignore', 'pipe', 'inherit'] });
const endpoint = await new Promise((resolve, reject) => {
  sandbox.once('exit', (code) => reject(new Error(`sandbox exited ${code}`)));
  createInterface({ input: sandbox.stdout }).on('line', (l) => l.startsWith('ready ') && resolve(/endpoint=(\S+)/.exec(l)[1]));
});
const env = { ...process.env, NO_COLOR: '1' };
// Reports the scan process's own CPU time on stderr as it exits (user + system, milliseconds).
const cpuProbe = `data:text/javascript,process.on('exit',()=>{const u=process.cpuUsage();process.stderr.write('\\nbench-cpu-ms '+Math.round((u.user+u.system)/1000)+'\\n')})`;
for (const line of readFileSync(join(dir, 'env'), 'utf8').split('\n')) {
  const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
  if (m) env[m[1]] = m[2];
}

try {
  const times = [];
  const cpu = [];
  let calls = [];
  for (let i = 0; i < runs; i++) {
    await fetch(`${endpoint}/_sandbox/calls`, { method: 'DELETE' });
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, ['--import', cpuProbe, bin, 'scan', '--all-contexts', '-o', 'json'], { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0) throw new Error(`scan exited ${r.status}: ${r.stderr}`);
    const m = /bench-cpu-ms (\d+)/.exec(r.stderr);
    if (m) cpu.push(Number(m[1]));
    calls = await (await fetch(`${endpoint}/_sandbox/calls`)).json();
  }
  times.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const byService = {};
  for (const c of calls) byService[c.service] = (byService[c.service] ?? 0) + 1;
  console.log(`fleet: ${clusters} clusters x ${sas} service accounts, ${latencyMs} ms latency per request`);
  console.log(`podid scan --all-contexts -o json: median ${times[Math.floor(times.length / 2)].toFixed(0)} ms over ${runs} runs (min ${times[0].toFixed(0)} ms); scan CPU median ${cpu[Math.floor(cpu.length / 2)] ?? '?'} ms`);
  console.log(`calls per scan: ${calls.length} (${Object.entries(byService).map(([k, v]) => `${k} ${v}`).join(', ')}); mutating: ${calls.filter((c) => c.mutating).length}`);
} finally {
  sandbox.kill('SIGTERM');
}
