// The analysis and planning phase alone, in-process, on a fleet snapshot read once: what
// `podid scan -o json` (analyzeFleet without planning facts) and `podid migrate --dry-run -o json`
// (analyzeFleet with them, then planMigration) spend after the collection. A benchmark, not a test.
//
//   node bench/analysis.mjs capture --out FILE [--association-every N] [--sas N] [--pods N] [--roles N] [--clusters N]
//       generates a world (bench/generate-world.mjs), serves it with the built `podid sandbox`
//       (no latency), collects it with podid's own collector and writes the FleetSnapshot as JSON;
//       with --cli DIR also writes what the built CLI prints for scan and migrate --dry-run -o json.
//   node bench/analysis.mjs run --snapshot FILE [--runs N] [--phase scan|migrate|both] [--golden DIR] [--src DIR]
//       times the phase on the snapshot, each run in a process of its own (cold, as in the CLI):
//       CPU (process.cpuUsage), bytes allocated and GC pauses (--trace-gc); medians. --golden
//       writes the rendered scan and plan JSON (timestamps fixed) to DIR for a byte comparison;
//       --src bundles another copy of src/ (a baseline) instead of this one.
//
// The core modules are bundled from src/ with esbuild (packages left external) into
// node_modules/.cache, so the bench measures the sources as they are, without `npm run build`.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { generateWorld } from './generate-world.mjs';
import { bin, root, startSandbox } from './lib/sandbox.mjs';

const NOW = new Date('2026-01-01T00:00:00Z');
/** podid's version, as the built CLI prints it (the golden files compare with its output). */
const TOOL_VERSION = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

/** Bundles `code` (an entry importing from SRC/...) and imports it. */
async function bundle(name, code, src) {
  const outdir = join(root, 'node_modules/.cache/podid-analysis-bench');
  mkdirSync(outdir, { recursive: true });
  const outfile = join(outdir, `${name}-${process.pid}.mjs`);
  await build({
    stdin: { contents: code.replaceAll('SRC', src), resolveDir: root, loader: 'ts' },
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    packages: 'external',
    logLevel: 'warning',
    define: { __PODID_VERSION__: JSON.stringify(TOOL_VERSION) },
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  return import(outfile);
}

const [command, ...rest] = process.argv.slice(2);
const { values: args } = parseArgs({
  args: rest,
  options: {
    out: { type: 'string' },
    cli: { type: 'string' },
    snapshot: { type: 'string' },
    src: { type: 'string' },
    golden: { type: 'string' },
    runs: { type: 'string', default: '3' },
    phase: { type: 'string', default: 'both' },
    'association-every': { type: 'string', default: '4' },
    clusters: { type: 'string', default: '4' },
    sas: { type: 'string', default: '10000' },
    pods: { type: 'string', default: '100000' },
    roles: { type: 'string', default: '3000' },
  },
});
const src = resolve(args.src ?? join(root, 'src'));

if (command === 'capture') await capture();
else if (command === 'run') await run();
else {
  process.stderr.write('usage: node bench/analysis.mjs capture --out FILE [...] | run --snapshot FILE [...]\n');
  process.exit(2);
}

async function capture() {
  const world = {
    ...generateWorld({
      clusters: Number(args.clusters),
      serviceAccounts: Number(args.sas),
      pods: Number(args.pods),
      roles: Number(args.roles),
      associationEvery: Number(args['association-every']),
    }),
    latencyMs: 0,
    rolloutDelayMs: 0,
    associationPropagationMs: 0,
  };
  const sandbox = await startSandbox(world, { prefix: 'podid-analysis-' });
  try {
    const m = await bundle(
      'capture',
      `export { setUpLiveScan } from 'SRC/cli/live-scan.ts'; export { collectFleet } from 'SRC/core/scan/collect.ts';`,
      src,
    );
    // The AWS SDK reads its endpoint and keys from process.env.
    Object.assign(process.env, sandbox.env);
    const ctx = { env: sandbox.env, cwd: process.cwd(), stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
    const { options, ports } = await m.setUpLiveScan({ allContexts: true, trustPolicyLimit: '2048', concurrency: '8' }, ctx, NOW);
    const snapshot = await m.collectFleet(options.targets, ports, {
      trustPolicyLimit: options.trustPolicyLimit,
      namespaces: [],
      serviceAccounts: [],
      concurrency: options.concurrency,
      onEvent: () => {},
    });
    writeFileSync(args.out, JSON.stringify(snapshot));
    process.stderr.write(`wrote ${args.out}\n`);
    if (args.cli) {
      mkdirSync(args.cli, { recursive: true });
      for (const [file, cliArgs] of [
        ['scan.json', ['scan', '--all-contexts', '-o', 'json']],
        ['migrate.json', ['migrate', '--all-contexts', '--dry-run', '-o', 'json']],
      ]) {
        const r = spawnSync(process.execPath, [bin, ...cliArgs], { env: sandbox.env, maxBuffer: 1 << 30, encoding: 'utf8' });
        writeFileSync(join(args.cli, file), stripTimes(r.stdout));
        process.stderr.write(`${cliArgs.join(' ')}: exit ${r.status}, ${r.stdout.length} bytes\n`);
      }
    }
  } finally {
    await sandbox.stop();
  }
}

/** The run's timestamps, the only bytes that differ between two runs on the same world. */
function stripTimes(text) {
  return text.replace(/"(generatedAt|createdAt|scannedAt|expiresAt)": ?"[^"]*"/g, '"$1":"-"');
}

async function run() {
  const runs = Number(args.runs);
  const selected = args.phase === 'both' ? ['scan', 'migrate'] : [args.phase];
  const child = process.env.PODID_ANALYSIS_CHILD === '1';
  if (!child && !args.golden) return measureInChild(selected, runs);
  const m = await bundle(
    'run',
    `export { analyzeFleet } from 'SRC/core/scan/analyze.ts';
     export { planMigration } from 'SRC/core/plan/plan.ts';
     export { applyAllowlist } from 'SRC/core/gate.ts';
     export { renderJsonChunks } from 'SRC/render/json.ts';
     export { renderPlanJsonChunks } from 'SRC/render/plan.ts';`,
    src,
  );
  const snapshot = JSON.parse(readFileSync(args.snapshot, 'utf8'));
  const contexts = snapshot.clusters.map((c) => c.context).filter((c) => c !== null);
  const planOptions = {
    installAgent: false,
    restart: true,
    maxConcurrentRollouts: 5,
    crossAccountSourceRole: null,
    selection: { contexts, namespaces: [], serviceAccounts: [], roles: [] },
    trustPolicyLimit: snapshot.trustPolicyLimit,
  };
  const phases = {
    scan: () => m.analyzeFleet(snapshot, { now: NOW, toolVersion: TOOL_VERSION, planning: false }),
    migrate: () => {
      const inventory = m.analyzeFleet(snapshot, { now: NOW, toolVersion: TOOL_VERSION });
      return m.planMigration({ inventory, options: planOptions, now: NOW, toolVersion: TOOL_VERSION });
    },
  };
  if (args.golden) {
    mkdirSync(args.golden, { recursive: true });
    const inv = m.applyAllowlist(phases.scan(), [], NOW);
    writeFileSync(join(args.golden, 'scan.json'), stripTimes([...m.renderJsonChunks(inv)].join('')));
    writeFileSync(join(args.golden, 'migrate.json'), stripTimes([...m.renderPlanJsonChunks(phases.migrate())].join('')));
  }
  if (!child) return measureInChild(selected, runs);
  for (const name of selected) {
    for (let i = 0; i < runs; i++) {
      globalThis.gc();
      writeSync(1, `@@start ${name} ${process.memoryUsage().heapUsed}\n`);
      const before = process.cpuUsage();
      const main0 = mainThreadMs();
      const t0 = performance.now();
      let result = phases[name]();
      const wall = performance.now() - t0;
      const main = mainThreadMs() - main0;
      const cpu = process.cpuUsage(before);
      writeSync(1, `@@end ${process.memoryUsage().heapUsed} ${(cpu.user + cpu.system) / 1000} ${wall} ${main}\n`);
      result = null;
    }
  }
}

/**
 * The main thread's CPU time (ms, 10 ms ticks) from /proc, NaN elsewhere: the process's CPU time
 * also counts V8's background threads (compilers, concurrent marking), which a busy machine
 * makes vary from run to run.
 */
function mainThreadMs() {
  try {
    const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}

/**
 * Runs the phases in a child with --trace-gc, whose lines (V8 prints them on stdout, in order
 * with ours) give each run's collections: their pause time, and the bytes allocated (what each
 * collection found in the heap less what the previous one left, plus the growth after the last).
 */
function measureInChild(selected, runs) {
  // One process per run and phase: each run is as cold as the CLI's (JIT, and the memos the
  // analysis keeps by input or by the snapshot's objects start empty), and one phase's memos
  // cannot serve the other.
  let stdout = '';
  for (const phase of selected) {
    for (let i = 0; i < runs; i++) {
      const argv = process.argv.slice(1).filter((a, k, all) => a !== '--golden' && all[k - 1] !== '--golden' && a !== '--phase' && all[k - 1] !== '--phase' && a !== '--runs' && all[k - 1] !== '--runs');
      const r = spawnSync(process.execPath, ['--trace-gc', '--expose-gc', ...argv, '--phase', phase, '--runs', '1'], {
        env: { ...process.env, PODID_ANALYSIS_CHILD: '1' },
        encoding: 'utf8',
        maxBuffer: 1 << 28,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      if (r.status !== 0) throw new Error(`child exited ${r.status}`);
      stdout += r.stdout;
    }
  }
  const MB = 2 ** 20;
  const byPhase = {};
  let cur = null;
  for (const line of stdout.split('\n')) {
    let m;
    if ((m = /^@@start (\S+) (\d+)/.exec(line))) {
      cur = { name: m[1], last: Number(m[2]) / MB, alloc: 0, gcMs: 0, gcs: 0 };
    } else if ((m = /^@@end (\d+) (\S+) (\S+) (\S+)/.exec(line)) && cur) {
      cur.alloc += Math.max(0, Number(m[1]) / MB - cur.last);
      (byPhase[cur.name] ??= []).push({ cpu: Number(m[2]), wall: Number(m[3]), main: Number(m[4]), mb: cur.alloc, gcMs: cur.gcMs, gcs: cur.gcs });
      cur = null;
    } else if (cur && (m = /: (Scavenge|Mark-Compact|Mark-sweep|Minor Mark-Compact|Minor Mark-Sweep)\S*(?: \([^)]*\))? ([\d.]+) \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB, ([\d.]+) \/ ([\d.]+) ms/.exec(line))) {
      cur.alloc += Math.max(0, Number(m[2]) - cur.last);
      cur.last = Number(m[3]);
      cur.gcMs += Number(m[4]);
      cur.gcs++;
    }
  }
  const f = (n) => n.toFixed(0).padStart(5);
  for (const [name, samples] of Object.entries(byPhase)) {
    const med = (k) => {
      const v = samples.map((s) => s[k]).sort((a, b) => a - b);
      return v[Math.floor(v.length / 2)];
    };
    // The least CPU too: on a shared machine, noise only ever adds time.
    const least = Math.min(...samples.map((s) => s.cpu));
    process.stdout.write(
      `${name.padEnd(8)} median of ${samples.length} cold runs: cpu ${f(med('cpu'))} ms (least ${f(least)}), main thread ${f(med('main'))} ms, wall ${f(med('wall'))} ms, alloc ${f(med('mb'))} MB, gc ${f(med('gcMs'))} ms in ${f(med('gcs'))} collections\n`,
    );
  }
}
