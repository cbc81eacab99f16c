/**
 * `podid runs show` and `podid rollback` judge a journal with the same check (adapters/journal-fs.ts
 * runRecordProblem): a run record with a field of the wrong type is refused by both (exit 2,
 * nothing changed), and a copied journal (its run id is not its file name) is left out of
 * `podid runs`, named, instead of listing the run twice.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clearSandboxCalls, sandboxCalls } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';
import { sandboxServer } from '../helpers/sandbox.js';
import { apply, essentialState, journalDir, result, smallWorld } from './apply-helpers.js';

describe('podid rollback of a journal podid runs cannot show', () => {
  it('refuses a run record with a bad field as runs show does (exit 2, nothing changed); a copied journal is left out of podid runs, named', async () => {
    const sb = await sandboxServer(smallWorld({ withAddon: false }));
    try {
      const dir = journalDir();
      const r = await apply(sb, ['-o', 'json', '--journal-dir', dir]);
      expect(r.code, r.stderr).toBe(0);
      const a = result(r).runId!;
      const path = join(dir, `${a}.jsonl`);
      copyFileSync(path, join(dir, 'copy.jsonl'));
      const runs = await podid(['runs', '--journal-dir', dir]);
      expect(runs.stdout.split(a)).toHaveLength(2);
      expect(runs.stderr).toBe(`podid: ${join(dir, 'copy.jsonl')} is not a journal podid can read (its run id "${a}" is not its file name (a copied or renamed journal)); left out\n`);

      const lines = readFileSync(path, 'utf8').split('\n');
      lines[0] = JSON.stringify({ ...JSON.parse(lines[0]!), clusters: 42 });
      writeFileSync(path, lines.join('\n'));
      const show = await podid(['runs', 'show', a, '--journal-dir', dir]);
      expect(show.code).toBe(2);
      const after = await essentialState(sb);
      await clearSandboxCalls(sb);
      const rb = await podid(['rollback', a, '--apply', '--yes', '--journal-dir', dir], { env: sb.clientEnv, timeoutMs: 60_000 });
      expect(rb.code).toBe(2);
      expect(rb.stderr).toBe(show.stderr);
      expect(rb.stderr).toBe(`podid: ${path}: its run record's clusters is not a list of cluster ARNs — pass the id of a run listed by podid runs\n`);
      expect((await sandboxCalls(sb)).filter((c) => c.mutating)).toEqual([]);
      expect(await essentialState(sb)).toEqual(after);
    } finally {
      await sb.stop();
    }
  }, 90_000);
});

