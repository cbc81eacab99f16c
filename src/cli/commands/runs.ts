/** `podid runs` and `podid runs show ID`: what the journal directory holds. Read-only. */
import { existsSync } from 'node:fs';
import { ExitCode, UsageError } from '../../core/errors.js';
import { journalDirOf } from '../confirm.js';
import type { CliContext } from '../context.js';
import { createIo } from '../io.js';
import { documentFormat, inFormat, type OutputFormat } from '../output.js';

export interface RunsCliOptions {
  journalDir?: string;
  output: OutputFormat;
  color?: boolean;
}

export async function runRuns(id: string | undefined, opts: RunsCliOptions, ctx: CliContext): Promise<number> {
  const dir = journalDirOf(opts.journalDir, ctx);
  const io = await createIo({ ...(opts.color === false ? { color: false } : {}) }, ctx);
  const [{ listRuns, readRun }, render] = await Promise.all([import('../../adapters/journal-fs.js'), import('../../render/runs.js')]);
  // Only the listing warns: `runs show ID` names the problem of the one it reads.
  const runs = listRuns(dir, id === undefined ? (path, reason) => io.warn(`podid: ${path} is not a journal podid can read (${reason}); left out`) : undefined);
  const format = documentFormat(opts.output);
  if (id === undefined) {
    io.out(format !== 'text' ? await inFormat(format, render.renderRunsJson(runs, dir)) : render.renderRuns(runs, { palette: io.palette, dir, dirMissing: runs.length === 0 && !existsSync(dir) }));
    return ExitCode.ok;
  }
  const { records } = readRun(dir, id);
  const summary = runs.find((r) => r.runId === id);
  if (summary === undefined) throw new UsageError('JOURNAL_INVALID', `the journal of run ${id} in ${dir} cannot be summarised`, 'check the file; its first line must be the run record');
  io.out(format !== 'text' ? await inFormat(format, render.renderRunDetailJson(summary, records)) : render.renderRunDetail(summary, records, { palette: io.palette, runs }));
  return ExitCode.ok;
}
