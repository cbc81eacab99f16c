/**
 * `podid migrate --dry-run`: scan (read-only), plan (pure), show the plan for review, and save it
 * (`--out`) or export it to Terraform (`--emit terraform FILE`). Makes no mutating call.
 * `podid migrate --apply` is in apply.ts; it plans through makePlan.
 */
import { inFormat } from '../output.js';
import { ExitCode, UsageError } from '../../core/errors.js';
import { unmatchedSelection } from '../../core/selection.js';
import { plainPalette } from '../../render/palette.js';
import type { CliContext } from '../context.js';
import { writeOutputs, withNewline, type OutputFile } from '../files.js';
import type { MigrationPlan } from '../../core/plan/model.js';
import type { Inventory } from '../../core/scan/inventory.js';
import { createIo, type Io } from '../io.js';
import { positiveInt, setUpLiveScan, type TargetFlags } from '../live-scan.js';
import { OBJECTS_PER_SERVICE_ACCOUNT, releaseMemory } from '../memory.js';
import { eventsTo, reportPartial, warnSelectionUnscanned } from '../progress.js';

export interface MigrateCliOptions extends TargetFlags {
  dryRun?: boolean;
  apply?: boolean;
  /** --apply: a saved plan to execute instead of planning now. */
  plan?: string;
  yes?: boolean;
  propagationWait?: string;
  rolloutTimeout?: string;
  verifyProbe?: string;
  failFast?: boolean;
  journalDir?: string;
  output: 'text' | 'table' | 'json' | 'yaml';
  out?: string;
  emit?: string[];
  installAgent?: boolean;
  restart: boolean;
  maxConcurrentRollouts: string;
  /** --max-concurrent-rollouts was on the command line (not its default): it overrides a --plan's. */
  maxConcurrentRolloutsGiven?: boolean;
  crossAccountSourceRole?: string;
  role?: string[];
  color?: boolean;
}

export function parseEmit(values: readonly string[] | undefined): { terraform: string } | undefined {
  if (!values) return undefined;
  if (values.length !== 2 || values[0] !== 'terraform' || !values[1]) {
    throw new UsageError('BAD_FLAG_VALUE', `--emit ${values.join(' ')}: expected --emit terraform FILE`, 'for example --emit terraform pod-identity.tf');
  }
  return { terraform: values[1] };
}

const ROLE_ARN = /^arn:aws(-cn|-us-gov|-iso[a-z-]*)?:iam::\d{12}:role\/.+$/;

export function checkRoleFlag(flag: string, value: string): string {
  if (!ROLE_ARN.test(value)) {
    throw new UsageError('BAD_FLAG_VALUE', `${flag} ${value}: expected an IAM role ARN`, `for example ${flag} arn:aws:iam::111122223333:role/name`);
  }
  return value;
}

/**
 * Scan (read-only) and plan (pure): what --dry-run shows and --apply executes. A selection flag
 * that matches nothing is a usage error: a typo must not read as "already migrated". When some
 * clusters could not be scanned it may match there: said on stderr, and the result is partial.
 */
export async function makePlan(opts: MigrateCliOptions, io: Io, ctx: CliContext): Promise<{ plan: MigrationPlan; inventory: Inventory; partial: boolean }> {
  const maxConcurrentRollouts = positiveInt('--max-concurrent-rollouts', opts.maxConcurrentRollouts, 5);
  const roles = (opts.role ?? []).map((r) => checkRoleFlag('--role', r));
  const crossAccountSourceRole = opts.crossAccountSourceRole ? checkRoleFlag('--cross-account-source-role', opts.crossAccountSourceRole) : null;
  let result;
  let scope: { namespaces: readonly string[]; serviceAccounts: readonly string[] };
  try {
    const { options, ports } = await setUpLiveScan(opts, ctx, new Date());
    scope = options;
    const app = await import('../../app/plan.js');
    result = await app.plan({ scan: options, installAgent: Boolean(opts.installAgent), restart: opts.restart, maxConcurrentRollouts, crossAccountSourceRole, roles }, ports, eventsTo(io));
  } finally {
    io.done();
  }
  const { plan, inventory, partial } = result;
  const unmatched = unmatchedSelection(inventory, { namespaces: scope.namespaces, serviceAccounts: scope.serviceAccounts, roles });
  // What the selection names may be on a cluster that could not be read: not a usage error, a
  // partial result (exit 5), and the (empty) plan still says which clusters it does not cover.
  if (unmatched !== null) warnSelectionUnscanned(io, inventory, unmatched);
  return { plan, inventory, partial };
}

export async function runMigrate(opts: MigrateCliOptions, ctx: CliContext): Promise<number> {
  if (opts.plan !== undefined) throw new UsageError('APPLY_FLAGS_CONFLICT', '--plan FILE is read by --apply only', 'podid migrate --apply --plan plan.json');
  const emit = parseEmit(opts.emit);
  const routes = outputRoutes(opts.output, opts.out, emit?.terraform);
  const io = await createIo({ ...(opts.color === false ? { color: false } : {}) }, ctx);
  const { plan, inventory, partial } = await makePlan(opts, io, ctx);
  // The planner's garbage, before the plan is rendered (cli/memory.ts).
  releaseMemory(inventory.serviceAccounts.length * OBJECTS_PER_SERVICE_ACCOUNT);

  const { renderPlan, renderPlanJson, renderPlanJsonChunks } = await import('../../render/plan.js');
  const documentText = (format: 'json' | 'yaml') => inFormat(format, renderPlanJson(plan));
  const files: OutputFile[] = [];
  if (opts.out !== undefined && opts.out !== '-') files.push({ flag: '--out', path: opts.out, content: withNewline(renderPlanJson(plan)) });
  let terraform: string | undefined;
  if (emit) {
    const { renderTerraform } = await import('../../render/terraform.js');
    terraform = withNewline(renderTerraform(plan));
    if (emit.terraform !== '-') files.push({ flag: '--emit terraform', path: emit.terraform, content: terraform });
  }
  // Every file or none: a failing --emit leaves no plan file behind it, and no output on stdout.
  writeOutputs(files, { cwd: ctx.cwd });

  const review = () => renderPlan(plan, { palette: routes.stdout === 'review' ? io.palette : plainPalette });
  if (routes.stdout === 'review') io.out(review());
  else if (routes.stdout === 'terraform') io.out(terraform!);
  // The plan document piece by piece: a fleet's plan is MB of JSON.
  else if (routes.stdout === 'json') await io.outChunks(renderPlanJsonChunks(plan));
  else io.out(await documentText(routes.stdout));
  // The review goes to stderr when stdout carries a document a pipe reads (--out -, --emit terraform -).
  if (routes.reviewOnStderr) io.warn(review());
  const human = routes.stdout === 'review' || routes.reviewOnStderr;
  if (human && opts.out !== undefined && opts.out !== '-') io.warn(`Saved the plan to ${opts.out}.`);
  if (human && emit && emit.terraform !== '-') io.warn(`Wrote Terraform to ${emit.terraform}.`);
  if (partial) {
    reportPartial(io, inventory);
    return ExitCode.partial;
  }
  return ExitCode.ok;
}

interface OutputRoutes {
  /** What stdout carries: the review text, the plan document (JSON or YAML), or Terraform. */
  readonly stdout: 'review' | 'json' | 'yaml' | 'terraform';
  readonly reviewOnStderr: boolean;
}

/**
 * `-o`, `--out -` and `--emit terraform -` all claim stdout: one of them may, checked before the
 * scan. `--out -` with `-o json` is the same document, printed once.
 */
export function outputRoutes(output: MigrateCliOptions['output'], out: string | undefined, emitTo: string | undefined): OutputRoutes {
  const format = output === 'table' ? 'text' : output;
  const claims: string[] = [];
  if (format !== 'text') claims.push(`-o ${format}`);
  if (out === '-' && format !== 'json') claims.push('--out -');
  if (emitTo === '-') claims.push('--emit terraform -');
  if (claims.length > 1) {
    throw new UsageError('STDOUT_CONFLICT', `${claims.join(' and ')} both write to stdout`, 'send one of them to a file');
  }
  if (emitTo === '-') return { stdout: 'terraform', reviewOnStderr: true };
  if (out === '-') return { stdout: 'json', reviewOnStderr: format === 'text' };
  return { stdout: format === 'text' ? 'review' : format, reviewOnStderr: false };
}


