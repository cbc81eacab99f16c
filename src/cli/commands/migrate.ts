/**
 * `podid migrate --dry-run`: scan (read-only), plan (pure), show the plan for review, and save it
 * (`--out`) or export it to Terraform (`--emit terraform FILE`). Makes no mutating call.
 * `podid migrate --apply` is in apply.ts.
 */
import { writeFileSync } from 'node:fs';
import { ExitCode, UsageError } from '../../core/errors.js';
import { readEnv } from '../env.js';
import type { MigrationPlan } from '../../core/plan/model.js';
import { createIo, type Io } from '../io.js';
import { positiveInt, setUpLiveScan, type TargetFlags } from '../live-scan.js';
import { eventsTo } from '../progress.js';

export interface MigrateCliOptions extends TargetFlags {
  dryRun?: boolean;
  apply?: boolean;
  /** --apply: a saved plan to execute instead of planning now. */
  plan?: string;
  yes?: boolean;
  propagationWait?: string;
  rolloutTimeout?: string;
  requestTimeout?: string;
  failFast?: boolean;
  journalDir?: string;
  output: 'text' | 'json';
  out?: string;
  emit?: string[];
  installAgent?: boolean;
  restart: boolean;
  maxConcurrentRollouts: string;
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

/** Scan (read-only) and plan (pure): what --dry-run shows and --apply executes. */
export async function makePlan(opts: MigrateCliOptions, io: Io): Promise<MigrationPlan> {
  const maxConcurrentRollouts = positiveInt('--max-concurrent-rollouts', opts.maxConcurrentRollouts, 5);
  const roles = (opts.role ?? []).map((r) => checkRoleFlag('--role', r));
  const crossAccountSourceRole = opts.crossAccountSourceRole ? checkRoleFlag('--cross-account-source-role', opts.crossAccountSourceRole) : null;
  try {
    const { options, ports } = await setUpLiveScan(opts, readEnv(), new Date());
    const app = await import('../../app/plan.js');
    const { plan } = await app.plan({ scan: options, installAgent: Boolean(opts.installAgent), restart: opts.restart, maxConcurrentRollouts, crossAccountSourceRole, roles }, ports, eventsTo(io));
    return plan;
  } finally {
    io.done();
  }
}

export async function runMigrate(opts: MigrateCliOptions): Promise<number> {
  if (opts.plan !== undefined) throw new UsageError('BAD_FLAGS', '--plan FILE is read by --apply only', 'podid migrate --apply --plan plan.json');
  const emit = parseEmit(opts.emit);
  const io = await createIo({ ...(opts.color === false ? { color: false } : {}) });
  const plan = await makePlan(opts, io);

  const { renderPlan, renderPlanJson } = await import('../../render/plan.js');
  if (opts.out) writeOut(opts.out, renderPlanJson(plan), '--out');
  if (emit) {
    const { renderTerraform } = await import('../../render/terraform.js');
    writeOut(emit.terraform, renderTerraform(plan), '--emit terraform');
  }
  io.out(opts.output === 'json' ? renderPlanJson(plan) : renderPlan(plan, { palette: io.palette }));
  if (opts.out && opts.output !== 'json') io.warn(`Saved the plan to ${opts.out}.`);
  if (emit && opts.output !== 'json') io.warn(`Wrote Terraform to ${emit.terraform}.`);
  return ExitCode.ok;
}

function writeOut(path: string, content: string, flag: string): void {
  try {
    writeFileSync(path, content.endsWith('\n') ? content : `${content}\n`);
  } catch (err) {
    throw new UsageError('WRITE_FAILED', `${flag} ${path}: cannot write (${(err as NodeJS.ErrnoException).code ?? String(err)})`, 'choose a writable path');
  }
}
