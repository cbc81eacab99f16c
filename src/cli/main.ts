/**
 * The composition root of the CLI. Each command is three lines: parse options, lazily import
 * the command module, call it. Nothing heavy (AWS SDK, Kubernetes client, sandbox) is imported
 * here, so `podid --help` and `podid --version` stay fast.
 *
 * `runCli(argv, ctx)` runs one command line against a CliContext (environment, working
 * directory, streams) and returns the exit code; `main()` is the thin shell that passes it the
 * real process's and exits with the code. bin/podid.js calls `main()`; tests call `runCli`
 * in-process (test/helpers/podid.ts). Importing this module has no side effect.
 */
import { Command, CommanderError, Option } from 'commander';
import { ExitCode, exitCodeOf, formatError, PodidError, UsageError } from '../core/errors.js';
import type { CliContext } from './context.js';
import { colorWanted, flushStdout, offerOutFlag, watchStdout } from './io.js';
import { DEFAULT_TRUST_POLICY_LIMIT } from '../core/policy/serialize.js';
import type { FailOn } from '../core/gate.js';
import { VERSION } from './version.js';
import { outputOption } from './output.js';

/** How a run ended: its exit code, and whether it ended on an error (the shell then exits at once). */
export interface CliOutcome {
  readonly code: number;
  /**
   * The run ended on an error (thrown, or a usage error from the parser): requests still in
   * flight (other clusters of a fleet, retries) are abandoned, so the process exits at once
   * instead of waiting for them to time out.
   */
  readonly failed: boolean;
}

/**
 * Runs one podid command line (`argv` without the node and script paths) and returns its exit
 * code. Output goes to ctx.stdout and ctx.stderr; nothing here reads the process's environment,
 * working directory or streams.
 *
 * The AWS SDK is the exception podid cannot pass its environment to: it reads AWS_ENDPOINT_URL*,
 * the credential variables, AWS_PROFILE and AWS_CONFIG_FILE from process.env itself, at many
 * places (endpoint, region and credential providers, the shared-config loader). podid does not
 * re-implement that chain from ctx.env (it would drift from the SDK's precedence rules, which
 * users rely on as the AWS CLI's); instead a host that runs podid in-process with another
 * environment makes process.env equal ctx.env for the duration of the run, one run at a time
 * (test/helpers/podid.ts does). The real process passes process.env, so the two always agree.
 * A kubeconfig exec credential plugin (aws eks get-token) runs with ctx.env and ctx.cwd
 * (loadRunKubeconfig, Kubeconfig.plugin) for the scan's reads and apply's, rollback's and
 * finalize's writes alike (both go through adapters/kube-http.ts and kube-auth.ts).
 */
export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number> {
  return (await runCliOutcome(argv, ctx)).code;
}

export async function runCliOutcome(argv: readonly string[], ctx: CliContext): Promise<CliOutcome> {
  let code: number = ExitCode.ok;
  const program = buildProgram(ctx, (c) => {
    code = c;
  });
  watchStdout(ctx.stdout).outFlag = false;
  program.hook('preAction', (_program, action) => {
    if (action.options.some((o) => o.long === '--out')) offerOutFlag(ctx.stdout);
  });
  const unknownTopic = unknownHelpTopic(program, argv);
  if (unknownTopic !== null) {
    // commander would print the whole help on stderr without a word about the name: say it, as
    // `podid nope` does, in one line (the same usage exit).
    ctx.stderr.write(`podid: error: unknown command '${unknownTopic}' (${commandList(program)}; run podid --help for usage)\n`);
    return { code: ExitCode.usage, failed: true };
  }
  // `podid help help`: the help of help is the help (commander would print it on stderr, exit 2).
  const args = argv.filter((a) => !a.startsWith('-')).slice(0, 2).join(' ') === 'help help' ? argv.filter((a, i) => !(a === 'help' && i === argv.lastIndexOf('help'))) : argv;
  try {
    await program.parseAsync([...args], { from: 'user' });
    const failure = await flushStdout(ctx.stdout);
    if (failure) throw failure;
    return { code, failed: false };
  } catch (err) {
    if (err instanceof CommanderError) {
      // `podid` alone: the help went to stderr, and a script that forgot the command gets a usage exit.
      if (err.code === 'commander.help' && err.exitCode !== 0) return { code: ExitCode.usage, failed: true };
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
        // Help and --version are output too: `podid --help > /dev/full` fails like any other write.
        const failure = await flushStdout(ctx.stdout);
        if (failure) {
          ctx.stderr.write(`podid: ${formatError(failure)}\n`);
          return { code: exitCodeOf(failure), failed: true };
        }
        return { code: ExitCode.ok, failed: false };
      }
      await flushStdout(ctx.stdout);
      return { code: ExitCode.usage, failed: true };
    }
    ctx.stderr.write(`podid: ${formatError(err)}\n`);
    if (argv.includes('--debug') && err instanceof PodidError) ctx.stderr.write(`podid: error code ${err.code} (exit ${exitCodeOf(err)}; docs/errors.md)\n`);
    if (argv.includes('--debug') && err instanceof Error && err.stack) ctx.stderr.write(`${err.stack}\n`);
    else if (!(err instanceof PodidError)) ctx.stderr.write('podid: run again with --debug for the stack trace\n');
    // What the run wrote to stdout before the error (a review, part of a document) reaches its
    // reader before main() exits; a failure to write it is not reported over the error itself.
    await flushStdout(ctx.stdout);
    return { code: exitCodeOf(err), failed: true };
  }
}

/**
 * `podid help NAME` where NAME is no command: NAME, else null. The global options before the
 * command take no value, so the first two operands are `help` and the topic.
 */
function unknownHelpTopic(program: Command, argv: readonly string[]): string | null {
  const operands = argv.filter((a) => !a.startsWith('-'));
  if (argv.includes('--') || operands[0] !== 'help' || operands[1] === undefined) return null;
  const topic = operands[1];
  const known = program.commands.some((c) => c.name() === topic || c.aliases().includes(topic)) || topic === 'help';
  return known ? null : topic;
}

/** `commands: scan, migrate, ...`: the top-level commands, for a line about an unknown one. */
function commandList(program: Command): string {
  return `commands: ${[...program.commands.map((c) => c.name()), 'help'].join(', ')}`;
}

/** The command tree; each action hands its exit code to `exit`. */
export function buildProgram(ctx: CliContext, exit: (code: number) => void): Command {
  const program = new Command('podid')
    .description('Move Amazon EKS workloads from IRSA to EKS Pod Identity: scan a fleet or manifests (read-only), plan the move (dry run) and apply it (journaled), finalize or roll back, gate CI, rehearse against a local sandbox.')
    .version(VERSION, '-V, --version')
    .configureHelp({ optionDescription })
    .option('--debug', 'print stack traces for errors')
    .option('--no-color', 'disable colours (NO_COLOR is honoured too)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
      // A usage error in one line, with the way to the usage (README: exit 2, one line).
      outputError: (s, write) => {
        const line = s.trimEnd();
        const unknown = /^error: unknown command '/.test(line) ? `${commandList(program)}; ` : '';
        write(`podid: ${line} (${unknown}run ${unknown ? 'podid' : 'with'} --help for usage)\n`);
      },
      // commander's defaults, from the run's streams: the terminal's width, else 80.
      getOutHelpWidth: () => (ctx.stdout.isTTY ? ctx.stdout.columns : undefined) ?? 80,
      getErrHelpWidth: () => (ctx.stderr.isTTY ? ctx.stderr.columns : undefined) ?? 80,
      getOutHasColors: () => colorWanted({}, ctx.env, Boolean(ctx.stdout.isTTY)),
      getErrHasColors: () => colorWanted({}, ctx.env, Boolean(ctx.stderr.isTTY)),
    })
    .addHelpText('after', examples([
      ['podid scan --all-contexts', 'every cluster of the kubeconfig, read-only'],
      ['podid migrate --dry-run --all-contexts --out plan.json', 'plan the move and keep the plan'],
      ['helm template app ./chart | podid scan --manifests - --fail-on irsa', 'a CI gate, no cluster needed'],
      ['podid sandbox --world examples/world.yaml', 'a local fleet to try it on (npm run demo)'],
    ], 'Run podid COMMAND --help for the flags of a command. Docs: README.md and docs/.'));

  program
    .command('version')
    .description('print the podid version (as --version does)')
    .addHelpText('after', examples([['podid version', 'prints e.g. 0.1.0']]))
    .action(() => {
      ctx.stdout.write(`${VERSION}\n`);
    });

  program
    .command('sandbox')
    .description('serve a loopback emulator of EKS, IAM, STS and Kubernetes from a world file')
    .requiredOption('--world <file>', 'world file (YAML or JSON; - for stdin), see docs/sandbox.md')
    .option('--port <n>', 'port on 127.0.0.1 (0 picks a free one)', '0')
    .option('--kubeconfig-out <path>', 'write a kubeconfig with one context per cluster')
    .option('--env-out <path>', 'write an env file (AWS_ENDPOINT_URL, AWS_REGION, keys, KUBECONFIG)')
    .option('--force', 'replace --kubeconfig-out and --env-out files that already exist')
    .addOption(new Option('--quiet', 'print only the ready line'))
    .addHelpText('after', examples([
      ['podid sandbox --world examples/world.yaml', 'serve the demo fleet; files in a temporary directory'],
      ['podid sandbox --world examples/world.yaml --port 4566 --kubeconfig-out /tmp/podid.kubeconfig --env-out /tmp/podid.env', ''],
      ['set -a; . /tmp/podid.env; set +a; aws eks list-clusters', 'then any AWS SDK, CLI or kubectl talks to it'],
    ]))
    .action(async (opts) => {
      const { runSandbox } = await import('./commands/sandbox.js');
      await runSandbox(opts, ctx);
    });

  const scan = program
    .command('scan')
    .description('inventory IRSA service accounts and judge whether they can move to Pod Identity (read-only)');
  addTargetOptions(scan)
    .option('--manifests <path...>', 'scan Kubernetes manifests offline (files, directories, - for stdin) instead of clusters')
    .addOption(new Option('-o, --output <format>', 'output format (table is an alias of text)').choices(['text', 'table', 'json', 'yaml', 'sarif', 'junit', 'markdown']).default('text'))
    .addOption(new Option('--fail-on <what>', 'exit 3 when findings match: any IRSA left, blocked SAs, any warning, or never').choices(['irsa', 'blocked', 'warnings', 'never'] satisfies FailOn[]).default('never'))
    .option('--config <path>', 'podid config with the allowlist (default: .podid.yaml when present)')
    .addHelpText('after', examples([
      ['podid scan', 'the current kubeconfig context'],
      ['podid scan --all-contexts -o json > inventory.json', 'the fleet, for scripts (also yaml, sarif, junit, markdown)'],
      ['podid scan --context prod -n shop --service-account shop/cart', 'narrow to a namespace and a service account'],
      ['podid scan --manifests k8s/ --fail-on irsa -o sarif > podid.sarif', 'GitOps repository gate, offline'],
      ['podid scan --all-contexts --fail-on blocked -o markdown', 'nightly fleet gate (allowlist: .podid.yaml)'],
    ]))
    .action(async (opts, cmd: Command) => {
      const { runScan } = await import('./commands/scan.js');
      exit(await runScan({ ...opts, color: cmd.optsWithGlobals()['color'] }, ctx));
    });

  const migrate = program
    .command('migrate')
    .description('plan the move to Pod Identity (--dry-run, the default) or apply it (--apply): dual trust, associations, add-on updates, restarts, verification');
  addTargetOptions(migrate)
    .option('--dry-run', 'plan and show the changes without making any (the default)')
    .option('--apply', 'make the changes: journal first, then trust, associations, add-ons, restarts, verification (see docs/apply.md)')
    .option('--plan <file>', 'with --apply: execute this saved plan (checked, and refused step by step where stale) instead of planning now')
    .option('-y, --yes', 'with --apply: do not ask for confirmation (required without a terminal)')
    .addOption(outputOption('how to print the plan (the review, or the plan document), or with --apply the run result'))
    .option('--out <file>', 'save the plan document (JSON) for review and a later apply; - for stdout')
    .option('--emit <format-and-file...>', 'also write the plan for another tool: --emit terraform FILE (- for stdout)')
    .option('--install-agent', 'plan the eks-pod-identity-agent add-on where it is missing')
    .option('--no-restart', 'do not plan workload restarts (restart them yourself)')
    .option('--max-concurrent-rollouts <n>', 'workloads restarted at once per cluster', '5')
    .option('--cross-account-source-role <arn>', 'role of the cluster account to chain to roles in other accounts (targetRoleArn)')
    .option('--role <arn>', 'only service accounts using this role (repeatable)', collect)
    .option('--propagation-wait <duration>', 'with --apply: wait this long after associations are created before restarting (they are eventually consistent)', '15s')
    .option('--rollout-timeout <duration>', 'with --apply: a rollout with no progress for this long is stuck (failed)', '5m')
    .option('--fail-fast', 'with --apply: stop starting new steps after the first failure')
    .option('--verify-probe <image>', 'with --apply: also run a short-lived pod of this image (with the AWS CLI) under each verified ServiceAccount that calls aws sts get-caller-identity, and check the role it obtains (docs/apply.md)')
    .option('--journal-dir <dir>', 'with --apply: where run journals and locks are kept (default: $XDG_STATE_HOME/podid/runs or ~/.local/state/podid/runs)')
    .addHelpText('after', examples([
      ['podid migrate --dry-run', 'plan for the current context and review it'],
      ['podid migrate --dry-run --all-contexts --install-agent --out plan.json', 'the fleet, agent included, plan kept'],
      ['podid migrate --dry-run --role arn:aws:iam::111122223333:role/cart', 'only what uses one role'],
      ['podid migrate --dry-run --emit terraform pod-identity.tf', 'export the plan to Terraform'],
      ['podid migrate --dry-run -o json | jq .summary', 'the plan document for scripts (also -o yaml, --out -)'],
      ['podid migrate --apply --plan plan.json', 'apply the reviewed plan (asks for confirmation; docs/apply.md)'],
      ['podid migrate --apply -n shop --yes -o json', 'plan and apply one namespace in CI; the run result as JSON'],
    ]))
    .action(async (opts, cmd: Command) => {
      const options = { ...opts, color: cmd.optsWithGlobals()['color'], maxConcurrentRolloutsGiven: cmd.getOptionValueSource('maxConcurrentRollouts') === 'cli' };
      if (!opts.apply) refuseApplyOnlyFlags(cmd);
      if (opts.apply) {
        const { runApply } = await import('./commands/apply.js');
        exit(await runApply(options, ctx));
      } else {
        const { runMigrate } = await import('./commands/migrate.js');
        exit(await runMigrate(options, ctx));
      }
    });

  const journalDirHelp = 'where run journals and locks are kept (default: $XDG_STATE_HOME/podid/runs or ~/.local/state/podid/runs)';
  const runs = program
    .command('runs')
    .description('list the runs journaled in the journal directory (apply, rollback, finalize): id, time, clusters, outcomes, status')
    .option('--journal-dir <dir>', journalDirHelp)
    .addOption(outputOption('output format: the runs, or json (or yaml) for scripts'))
    .addHelpText('after', examples([
      ['podid runs', 'every journaled run, newest first'],
      ['podid runs --journal-dir ci-runs -o json', 'the runs of another journal directory, for scripts'],
      ['podid runs show RUN_ID', 'one run\'s steps and ServiceAccount outcomes'],
    ]))
    .action(async (opts, cmd: Command) => {
      const { runRuns } = await import('./commands/runs.js');
      exit(await runRuns(undefined, { ...opts, color: cmd.optsWithGlobals()['color'] }, ctx));
    });
  runs
    .command('show')
    .description('show one run: its steps and the outcome of every ServiceAccount')
    .argument('<run-id>', 'a run id from podid runs')
    .option('--journal-dir <dir>', journalDirHelp)
    .addOption(outputOption('output format (json: the summary and every journal record)'))
    .addHelpText('after', examples([
      ['podid runs show RUN_ID', 'its steps, and the outcome of every ServiceAccount'],
      ['podid runs show RUN_ID -o json | jq \'.records | length\'', 'the summary and every journal record'],
    ]))
    .action(async (id: string, opts, cmd: Command) => {
      const { runRuns } = await import('./commands/runs.js');
      // `runs` has the same options: commander gives them to it wherever they stand on the line
      // (`runs show ID -o json`), so a value this command did not get from the line is the parent's.
      const parent = cmd.parent?.opts() ?? {};
      const own = (name: string): boolean => cmd.getOptionValueSource(name) === 'cli';
      const output = (own('output') ? opts.output : parent['output']) as string;
      exit(await runRuns(id, { ...opts, output, journalDir: opts.journalDir ?? parent['journalDir'], color: cmd.optsWithGlobals()['color'] }, ctx));
    });

  const finalize = program
    .command('finalize')
    .description('phase two: remove IRSA (the role-arn annotation and this cluster\'s OIDC grant) from ServiceAccounts whose every pod runs on Pod Identity (see docs/rollback.md)');
  addTargetOptions(finalize)
    .option('--dry-run', 'show what would be removed; change nothing')
    .option('--apply', 'remove it: verify every pod again, journal, then trust policies and annotations')
    .option('-y, --yes', 'with --apply: do not ask for confirmation (required without a terminal)')
    .option('--delete-oidc-provider', 'also delete each cluster\'s IAM OIDC provider once no role of its account refers to it (every role is read, with the trust policies this finalize writes); this breaks IRSA for every ServiceAccount of the cluster. Asked as a second question on a terminal; with --yes, this flag itself is the consent. Journaled: podid rollback creates it again')
    .option('--journal-dir <dir>', journalDirHelp)
    .addOption(outputOption('text, or json (the finalize plan with --dry-run, the result with --apply)'))
    .addHelpText('after', examples([
      ['podid finalize --dry-run --all-contexts -n shop', 'review what IRSA would be removed'],
      ['podid finalize --apply --all-contexts -n shop --yes', 'remove it (journaled; podid rollback undoes it)'],
      ['podid finalize --dry-run --all-contexts --delete-oidc-provider', 'also show whether each cluster\'s OIDC provider is still trusted, and by which roles'],
      ['podid finalize --apply --all-contexts --delete-oidc-provider --yes', 'and delete the providers nothing trusts any more (the flag is the consent)'],
    ]))
    .action(async (opts, cmd: Command) => {
      const { runFinalize } = await import('./commands/finalize.js');
      exit(await runFinalize({ ...opts, color: cmd.optsWithGlobals()['color'] }, ctx));
    });

  program
    .command('rollback')
    .description('undo one run (migrate --apply or finalize) exactly, from its journal: --dry-run to review, --apply to undo (see docs/rollback.md)')
    .argument('[run-id]', 'the run to undo (default: the newest apply or finalize run not yet rolled back; see podid runs)')
    .option('--dry-run', 'show what would be undone; change nothing')
    .option('--apply', 'undo it: journal first, associations and add-ons, restarts back to IRSA, verification, then trust policies')
    .option('-y, --yes', 'with --apply: do not ask for confirmation (required without a terminal)')
    .option('--journal-dir <dir>', journalDirHelp)
    .option('--kubeconfig <path>', 'kubeconfig file with the contexts the run used (default: $KUBECONFIG, then ~/.kube/config)')
    .option('--region <region>', 'AWS region (default: the run\'s clusters\')')
    .option('--profile <name>', 'AWS profile from the shared config files')
    .option('--propagation-wait <duration>', 'wait this long after deleting associations before restarting', '15s')
    .option('--rollout-timeout <duration>', 'a rollout with no progress for this long is stuck (failed)', '5m')
    .option('--request-timeout <duration>', REQUEST_TIMEOUT_HELP, '30s')
    .option('--max-concurrent-rollouts <n>', 'workloads restarted at once', '5')
    .option('--concurrency <n>', 'steps in flight at once', '8')
    .addOption(outputOption('text, or json (the rollback plan with --dry-run, the result with --apply)'))
    .addHelpText('after', examples([
      ['podid rollback --dry-run', 'what undoing the newest apply or finalize run would change'],
      ['podid rollback RUN_ID --apply', 'undo that run (asks for confirmation; journaled as a run of its own)'],
      ['podid rollback --apply --yes -o json', 'in CI: undo the newest run; the result as JSON'],
    ]))
    .action(async (id: string | undefined, opts, cmd: Command) => {
      const { runRollback } = await import('./commands/rollback.js');
      exit(await runRollback(id, { ...opts, color: cmd.optsWithGlobals()['color'] }, ctx));
    });

  return program;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

const REQUEST_TIMEOUT_HELP = "longest wait for any one AWS or Kubernetes request (kubectl's flag: 30s, 1m, 500ms, a bare number of seconds; 0 for none)";

/** An `Examples:` block for the end of a command's help: the command, then what it does. */
function examples(rows: readonly (readonly [string, string])[], footer?: string): string {
  const lines = rows.flatMap(([command, what]) => (what === '' ? [`  $ ${command}`] : [`  $ ${command}`, `      ${what}`]));
  return `\nExamples:\n${lines.join('\n')}\n${footer === undefined ? '' : `\n${footer}\n`}`;
}

/**
 * commander's option description, with defaults and choices shown as a user types them:
 * `(default: 5)`, `(choices: irsa, blocked)`, not JSON-quoted strings.
 */
function optionDescription(option: Option): string {
  const extra: string[] = [];
  if (option.argChoices) extra.push(`choices: ${option.argChoices.join(', ')}`);
  const showDefault = option.defaultValue !== undefined && (option.required || option.optional || (option.isBoolean() && typeof option.defaultValue === 'boolean'));
  if (showDefault) extra.push(`default: ${option.defaultValueDescription ?? (Array.isArray(option.defaultValue) ? option.defaultValue.join(', ') : String(option.defaultValue))}`);
  return extra.length === 0 ? option.description : `${option.description} (${extra.join(', ')})`;
}

/**
 * Flags that change only how --apply runs: given to a dry run they would be silently ignored, and
 * a reviewer would believe e.g. a probe or a longer rollout timeout had been taken into account.
 * (`--plan` is refused by runMigrate with its own hint; `-y` is harmless and scripts pass it to both.)
 */
const APPLY_ONLY_FLAGS = [
  ['propagationWait', '--propagation-wait'],
  ['rolloutTimeout', '--rollout-timeout'],
  ['failFast', '--fail-fast'],
  ['verifyProbe', '--verify-probe'],
  ['journalDir', '--journal-dir'],
] as const;

function refuseApplyOnlyFlags(cmd: Command): void {
  const given = APPLY_ONLY_FLAGS.find(([key]) => cmd.getOptionValueSource(key) === 'cli');
  if (given) throw new UsageError('APPLY_FLAGS_CONFLICT', `${given[1]} takes effect only with --apply, and this is a dry run`, `drop ${given[1]}, or run podid migrate --apply ${given[1]} ...`);
}

/** kubectl's and the AWS CLI's conventions for choosing what to look at, shared by scan and migrate. */
function addTargetOptions(cmd: Command): Command {
  return cmd
    .option('--context <name>', 'kubeconfig context (repeatable; default: the current context)', collect)
    .option('--all-contexts', 'every context in the kubeconfig')
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
    .option('--cluster <name>', 'EKS cluster name behind the context (when the context does not say)')
    .option('--region <region>', 'AWS region (default: from the context, then AWS_REGION, then AWS_DEFAULT_REGION)')
    .option('--profile <name>', 'AWS profile from the shared config files')
    .option('-n, --namespace <ns>', 'only this namespace (repeatable)', collect)
    .option('-A, --all-namespaces', 'every namespace (the default; as in kubectl, it overrides -n)')
    .option('--service-account <ns/name>', 'only this ServiceAccount (repeatable)', collect)
    .option('--trust-policy-limit <n>', "IAM's role trust policy length quota, counted without whitespace", String(DEFAULT_TRUST_POLICY_LIMIT))
    .option('--concurrency <n>', 'AWS calls in flight at once, and Kubernetes requests in flight at once', '8')
    .option('--request-timeout <duration>', REQUEST_TIMEOUT_HELP, '30s');
}

/**
 * The shell around runCli for the real process: its argv, environment, working directory and
 * streams; SIGINT exits 130 (the changing commands install their own handler while they run).
 * A run that ended on an error (thrown, or a usage error), or with any code but 0 (a partial
 * fleet result, a refused step, a gate that matched), exits at once once its stdout is flushed
 * (runCliOutcome flushes it on every path):
 * requests it abandoned (a slow cluster's lists, retries) would otherwise keep the process alive
 * until their --request-timeout. A run that succeeded ends when its output is flushed.
 */
export async function main(): Promise<void> {
  // The AWS SDK warns about Node 20 on every client; podid supports Node >= 20.19, so keep stderr clean.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  process.on('SIGINT', () => process.exit(ExitCode.interrupted));
  const { code, failed } = await runCliOutcome(process.argv.slice(2), { env: process.env, cwd: process.cwd(), stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
  if (failed || code !== ExitCode.ok) process.exit(code);
  process.exitCode = code;
}
