/**
 * `podid scan`: inventory and migration readiness, live (kubeconfig contexts + AWS) or offline
 * from manifests, rendered in one of the output formats, and a CI gate (`--fail-on`, with the
 * `.podid.yaml` allowlist).
 */
import { ExitCode, UsageError } from '../../core/errors.js';
import { DEFAULT_TRUST_POLICY_LIMIT } from '../../core/policy/serialize.js';
import type { FailOn } from '../../core/gate.js';
import type { Inventory } from '../../core/scan/inventory.js';
import type { ScanFormat } from '../../render/scan.js';
import { readStdin, type CliContext } from '../context.js';
import { createIo, type Io } from '../io.js';
import { checkNamespaceFlags, checkServiceAccountFlags, positiveInt, setUpLiveScan, type TargetFlags } from '../live-scan.js';
import { OBJECTS_PER_SERVICE_ACCOUNT, releaseMemory } from '../memory.js';
import { eventsTo, reportPartial, warnSelectionUnscanned } from '../progress.js';
import { VERSION } from '../version.js';

export interface ScanCliOptions extends TargetFlags {
  /** `text` is the table (the name `podid migrate -o` uses for its human output too). */
  output: ScanFormat | 'text';
  failOn: FailOn;
  manifests?: string[];
  config?: string;
  color?: boolean;
}

export async function runScan(opts: ScanCliOptions, ctx: CliContext): Promise<number> {
  const io = await createIo({ ...(opts.color === false ? { color: false } : {}) }, ctx);
  const now = new Date();
  // The allowlist is read first: a bad .podid.yaml should fail before any API call.
  const { loadConfig } = await import('../../adapters/config-file.js');
  const config = await loadConfig(opts.config, ctx.cwd);

  const app = await import('../../app/scan.js');
  let scanned: Inventory;
  let partial = false;
  let unmatched: UsageError | null = null;
  try {
    if (opts.manifests?.length) {
      ({ inventory: scanned, unmatched } = await scanManifests(opts, now, ctx));
    } else {
      const { options, ports } = await setUpLiveScan(opts, ctx, now);
      ({ inventory: scanned, partial, unmatched } = await app.scanReport(options, ports, eventsTo(io)));
    }
  } finally {
    io.done();
  }
  // -n or --service-account naming nothing (on the clusters, or in the manifests) is a typo, as in
  // migrate and finalize: a usage error (exit 2), never "no findings" for the gate to pass on. In a fleet run where some clusters
  // could not be scanned it may be there: said on stderr, and the result is partial (exit 5).
  if (unmatched !== null) warnSelectionUnscanned(io, scanned, unmatched);
  const { inventory, gate } = app.gate(scanned, { allowlist: config.allowlist, failOn: opts.failOn }, now);
  // The analysis' garbage, before the report is rendered (cli/memory.ts).
  releaseMemory(inventory.serviceAccounts.length * OBJECTS_PER_SERVICE_ACCOUNT);

  if (opts.output === 'json') {
    // Written piece by piece: a fleet's inventory is tens of MB of JSON.
    const { renderJsonChunks } = await import('../../render/json.js');
    await io.outChunks(renderJsonChunks(inventory));
  } else {
    const { renderScan } = await import('../../render/scan.js');
    // SARIF manifest paths relative to the repository root, as code scanning reads them.
    const root = opts.output === 'sarif' && opts.manifests?.length ? (await import('../../adapters/repo-root.js')).findRepoRoot(ctx.cwd) : null;
    const sarif = { toolVersion: VERSION, ...(root === null ? {} : { base: { cwd: ctx.cwd, root } }) };
    // JUnit fails the testcases the gate failed on, so the CI test report agrees with the exit code.
    const junit = { gate: { failOn: opts.failOn, matched: gate.matched } };
    io.out(renderScan(inventory, opts.output === 'text' ? 'table' : opts.output, { palette: io.palette, sarif, junit }));
  }

  if (gate.failed) {
    reportGate(io, opts.failOn, gate.reasons);
    return ExitCode.gateFailed;
  }
  if (partial) {
    reportPartial(io, inventory);
    return ExitCode.partial;
  }
  return ExitCode.ok;
}

async function scanManifests(opts: ScanCliOptions, now: Date, ctx: CliContext): Promise<{ inventory: Inventory; unmatched: UsageError | null }> {
  const live = (['context', 'allContexts', 'kubeconfig', 'region', 'profile'] as const).filter((k) => opts[k] !== undefined && opts[k] !== false);
  if (live.length > 0) {
    const flag = `--${live[0]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    throw new UsageError('TARGET_FLAGS_CONFLICT', `--manifests scans files offline and cannot be combined with ${flag}`, 'drop one of them: scan the files, or the clusters');
  }
  const options = {
    paths: opts.manifests ?? [],
    now,
    toolVersion: VERSION,
    namespaces: opts.allNamespaces ? [] : checkNamespaceFlags(opts.namespace ?? []),
    serviceAccounts: checkServiceAccountFlags(opts.serviceAccount ?? []),
    trustPolicyLimit: positiveInt('--trust-policy-limit', opts.trustPolicyLimit, DEFAULT_TRUST_POLICY_LIMIT),
    ...(opts.cluster ? { cluster: opts.cluster } : {}),
  };
  const { readManifests } = await import('../../adapters/manifests.js');
  const { scanManifests: scanFiles } = await import('../../app/scan.js');
  return scanFiles(options, { manifests: { read: (paths) => readManifests(paths, { cwd: ctx.cwd, stdin: () => readStdin(ctx, 'manifests') }) } });
}

function reportGate(io: Io, failOn: FailOn, reasons: readonly string[]): void {
  const shown = reasons.slice(0, 20);
  io.warn(`podid: gate failed (--fail-on ${failOn}): ${reasons.length} finding${reasons.length === 1 ? '' : 's'} matched`);
  for (const r of shown) io.warn(`  ${r}`);
  if (reasons.length > shown.length) io.warn(`  ... and ${reasons.length - shown.length} more`);
}
