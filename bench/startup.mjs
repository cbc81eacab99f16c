// Start-up benchmark: `podid --help` and `podid --version` against `node -e 0`, side by side.
// Target (issue 2): podid --help within 1.5x of a bare node start. A benchmark, not a test.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/podid.js', import.meta.url));
const runs = Number(process.env.BENCH_RUNS ?? 20);

function time(args) {
  const samples = [];
  for (let i = 0; i < runs + 2; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { stdio: 'ignore' });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
    if (i >= 2) samples.push(ms); // two warm-up runs
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(samples.length / 2)], p90: samples[Math.floor(samples.length * 0.9)] };
}

// Interleave so machine noise hits both sides alike.
const base = time(['-e', '0']);
const help = time([bin, '--help']);
const version = time([bin, '--version']);
const ratio = help.median / base.median;
const fmt = (r) => `median ${r.median.toFixed(1)} ms, p90 ${r.p90.toFixed(1)} ms`;
console.log(`node -e 0        ${fmt(base)}`);
console.log(`podid --help     ${fmt(help)}`);
console.log(`podid --version  ${fmt(version)}`);
console.log(`ratio --help / node: ${ratio.toFixed(2)}x (target <= 1.5x) ${ratio <= 1.5 ? 'OK' : 'OVER'}`);
process.exitCode = ratio <= 1.5 ? 0 : 1;
