/**
 * What a newcomer meets first: help that ends with examples and shows defaults as typed,
 * `podid version`, one-line errors for an empty kubeconfig, no SDK warning for AWS_PROFILE with
 * keys in the environment, and a demo that ends with what to run next. The built CLI in-process
 * (helpers/podid.ts); the binary for the SDK warning (a process's stderr) and the demo.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/core/errors.js';
import { ROOT, runPodid, runProcess, type RunResult, type SandboxEndpoint } from '../helpers/cli.js';
import { podid } from '../helpers/podid.js';
import { sandboxServer } from '../helpers/sandbox.js';

const dir = mkdtempSync(join(tmpdir(), 'podid-polish-'));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** `npm run demo` (scripts/demo.mjs) as a process, with a bounded wait (its rollouts take a while on a loaded machine). */
function runDemo(): Promise<RunResult> {
  return runProcess(process.execPath, ['scripts/demo.mjs'], { what: 'the demo', cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, timeoutMs: 150_000 });
}

// The demo is mostly waiting (its sandbox's rollouts): it starts first, the other tests run
// meanwhile, and its own test (last) awaits it.
let demo: ReturnType<typeof runDemo>;
beforeAll(() => {
  demo = runDemo();
  demo.catch(() => undefined);
});
afterAll(async () => {
  await demo?.catch(() => undefined);
});

/** The commands `podid --help` (and, for a command with subcommands, its own help) lists. */
async function commandsListed(prefix: string[]): Promise<string[][]> {
  const r = await podid([...prefix, '--help']);
  const section = r.stdout.slice(r.stdout.indexOf('\nCommands:\n'), r.stdout.indexOf('\nExamples:\n'));
  const names = [...section.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]!).filter((n) => n !== 'help');
  const out: string[][] = [];
  for (const name of names) {
    const sub = [...prefix, name];
    out.push(sub, ...(await podid([...sub, '--help'])).stdout.includes('\nCommands:\n') ? await commandsListed(sub) : []);
  }
  return out;
}

describe('help', () => {
  it('every command, subcommands included, ends its help with examples and shows defaults unquoted', async () => {
    const commands = [[], ...(await commandsListed([]))];
    expect(commands.map((c) => c.join(' '))).toEqual(expect.arrayContaining(['scan', 'migrate', 'finalize', 'rollback', 'runs', 'runs show', 'sandbox', 'version']));
    for (const command of commands) {
      const r = await podid([...command, '--help']);
      expect(r.code, command.join(' ')).toBe(0);
      const examples = r.stdout.lastIndexOf('\nExamples:\n');
      expect(examples, `podid ${command.join(' ')} --help:\n${r.stdout}`).toBeGreaterThan(0);
      expect(r.stdout.slice(examples), command.join(' ')).toMatch(/\n {2}\$ podid /);
      expect(r.stdout, command.join(' ')).not.toMatch(/default: "/);
      expect(r.stdout, command.join(' ')).not.toMatch(/choices: "/);
    }
  });

  it('podid with no command prints the help on stderr and exits 2 (usage); podid help and --help print it on stdout, exit 0', async () => {
    const bare = await podid([]);
    expect(bare.code).toBe(ExitCode.usage);
    expect(bare.stdout).toBe('');
    expect(bare.stderr).toMatch(/^Usage: podid \[options\] \[command\]\n[\s\S]*\nExamples:\n/);
    for (const args of [['help'], ['--help']]) {
      const r = await podid(args);
      expect(r.code, args[0]).toBe(0);
      expect(r.stdout, args[0]).toBe(bare.stderr);
    }
  });

  it('shows defaults and choices as a user types them', async () => {
    const scan = await podid(['scan', '--help']);
    expect(scan.stdout.replace(/\s+/g, ' ')).toContain('(choices: irsa, blocked, warnings, never, default: never)');
    expect(scan.stdout.replace(/\s+/g, ' ')).toContain('(default: 2048)');
    const migrate = await podid(['migrate', '--help']);
    expect(migrate.stdout.replace(/\s+/g, ' ')).toContain('(choices: text, table, json, yaml, default: text)');
  });

  it('the top-level description names what is built, in the order of a migration', async () => {
    const r = await podid(['--help']);
    const description = r.stdout.split('\n\n')[1]!.replace(/\s+/g, ' ');
    expect(description).toMatch(/scan .*plan .*dry run.* apply .*finalize .*roll back.*gate CI.*sandbox/);
  });
});

describe('version', () => {
  it('podid version and podid --version print the package version', async () => {
    const [a, b] = await Promise.all([podid(['version']), podid(['--version'])]);
    expect(a.stdout).toBe(`${VERSION}\n`);
    expect(b.stdout).toBe(`${VERSION}\n`);
  });
});

describe('an empty kubeconfig', () => {
  it.each([['empty', ''], ['blank lines and a comment', '\n# nothing yet\n\n']])('(%s) is a one-line usage error', async (_name, text) => {
    const file = join(dir, `kubeconfig-${_name.replace(/\W+/g, '-')}`);
    writeFileSync(file, text);
    const r = await podid(['scan'], { env: { KUBECONFIG: file } });
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toBe(`podid: the kubeconfig ${file} is empty: no clusters, users or contexts — run aws eks update-kubeconfig --name CLUSTER --region REGION, or pass another file with --kubeconfig\n`);
  });

  it('a kubeconfig that is a list is refused in one line, without a TypeError', async () => {
    const file = join(dir, 'kubeconfig-list');
    writeFileSync(file, '- clusters\n');
    const r = await podid(['scan', '--kubeconfig', file]);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr).toContain('expected a mapping with clusters, users and contexts, found a list');
    expect(r.stderr).not.toMatch(/Cannot read properties|TypeError/);
  });
});

describe('against the demo world', () => {
  let sb: SandboxEndpoint;
  beforeAll(async () => {
    sb = await sandboxServer({ file: join(ROOT, 'examples/world.yaml') });
  });
  afterAll(async () => {
    await sb?.stop();
  });

  it('AWS_PROFILE with access keys in the environment (the binary): the profile wins, nothing on stderr (no SDK warning)', async () => {
    const config = join(dir, 'aws-config');
    writeFileSync(config, '[profile sandbox]\naws_access_key_id = AKIDFROMPROFILE\naws_secret_access_key = sandbox\n');
    const r = await runPodid(['scan', '--all-contexts', '-o', 'json'], { env: { ...sb.clientEnv, AWS_PROFILE: 'sandbox', AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none') } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('an AWS_PROFILE that gives no credentials is named in one line', async () => {
    const r = await podid(['scan', '--all-contexts'], { env: { ...sb.clientEnv, AWS_PROFILE: 'no-such-profile', AWS_CONFIG_FILE: join(dir, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none') } });
    expect(r.code).toBe(ExitCode.usage);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('AWS_PROFILE=no-such-profile: no credentials from this profile');
  });

  it('plural forms agree with their counts', async () => {
    const r = await podid(['scan', '--all-contexts'], { env: sb.clientEnv });
    expect(r.stdout).toContain('(1 workload references it)');
    expect(r.stdout).not.toMatch(/\b1 (workloads|service accounts|add-ons|roles|associations)\b/);
  });
});

describe('npm run demo', () => {
  it('runs scan and migrate against the sandbox and ends with what to run next', async () => {
    const r = await demo;
    expect(r.code, r.stderr).toBe(0);
    const next = r.stdout.lastIndexOf('What to run next:');
    expect(next).toBeGreaterThan(0);
    expect(r.stdout.slice(next)).toMatch(/podid\.js sandbox --world examples\/world\.yaml/);
    expect(r.stdout.slice(next)).toMatch(/--fail-on irsa/);
    // The apply verified the migrated service accounts, and a second apply found nothing to do.
    expect(r.stdout).toMatch(/Result: \d+ migrated, /);
    expect(r.stdout).toContain('No changes.');
  }, 180_000);
});

describe('--debug', () => {
  it('adds the error code and the stack after the one line; without it, the one line alone', async () => {
    const missing = join(dir, 'no-such-kubeconfig');
    const plain = await podid(['scan', '--kubeconfig', missing]);
    expect(plain.code).toBe(ExitCode.usage);
    expect(plain.stderr.split('\n')).toHaveLength(2);
    const debug = await podid(['scan', '--kubeconfig', missing, '--debug']);
    expect(debug.code).toBe(ExitCode.usage);
    const [first, second, ...stack] = debug.stderr.split('\n');
    expect(`${first}\n`).toBe(plain.stderr);
    expect(second).toBe('podid: error code KUBECONFIG_NOT_FOUND (exit 2; docs/errors.md)');
    expect(stack.join('\n')).toMatch(/^UsageError: [^\n]*\n\s+at /);
  });
});

describe('podid runs over a directory with a damaged journal', () => {
  it('says which file it left out and why, on stderr, instead of a bare "No runs"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'podid-runs-'));
    writeFileSync(join(dir, 'run-1.jsonl'), 'not json\n');
    const r = await podid(['runs', '--journal-dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`No runs in ${dir}.\n`);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^podid: ${join(dir, 'run-1.jsonl').replace(/[.]/g, '\\.')} is not a journal podid can read \\(.+\\); left out$`))]);
  });

  it('a --journal-dir that does not exist is said to be missing (a typo), not just empty', async () => {
    const dir = join(tmpdir(), 'podid-runs-typo-does-not-exist');
    const r = await podid(['runs', '--journal-dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`No runs: ${dir} does not exist (runs are journaled there, or in the --journal-dir they were given).\n`);
  });
});
