/**
 * The composition root of the CLI. Each command is three lines: parse options, lazily import
 * the command module, call it. Nothing heavy (AWS SDK, Kubernetes client, sandbox) is imported
 * here, so `podid --help` and `podid --version` stay fast.
 */
import { Command, CommanderError, Option } from 'commander';
import { ExitCode, exitCodeOf, formatError, PodidError } from '../core/errors.js';
import { VERSION } from './version.js';

// The AWS SDK warns about Node 20 on every client; podid supports Node >= 20.19, so keep stderr clean.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

const debug = process.argv.includes('--debug');

function fail(err: unknown): never {
  process.stderr.write(`podid: ${formatError(err)}\n`);
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  else if (!(err instanceof PodidError)) process.stderr.write('podid: run again with --debug for the stack trace\n');
  process.exit(exitCodeOf(err));
}

export function buildProgram(): Command {
  const program = new Command('podid')
    .description('Move Amazon EKS workloads from IRSA to EKS Pod Identity: scan, plan, apply, verify, roll back.')
    .version(VERSION, '-V, --version')
    .option('--debug', 'print stack traces for errors')
    .option('--no-color', 'disable colours (NO_COLOR is honoured too)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s.startsWith('error:') ? `podid: ${s}` : s) });

  program
    .command('sandbox')
    .description('serve a loopback emulator of EKS, IAM, STS and Kubernetes from a world file')
    .requiredOption('--world <file>', 'world file (YAML or JSON; - for stdin), see docs/sandbox.md')
    .option('--port <n>', 'port on 127.0.0.1 (0 picks a free one)', '0')
    .option('--kubeconfig-out <path>', 'write a kubeconfig with one context per cluster')
    .option('--env-out <path>', 'write an env file (AWS_ENDPOINT_URL, AWS_REGION, keys, KUBECONFIG)')
    .addOption(new Option('--quiet', 'print only the ready line'))
    .action(async (opts) => {
      const { runSandbox } = await import('./commands/sandbox.js');
      await runSandbox(opts);
    });

  return program;
}

async function main(): Promise<void> {
  const program = buildProgram();
  process.on('SIGINT', () => process.exit(ExitCode.interrupted));
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
        process.exit(ExitCode.ok);
      }
      process.exit(ExitCode.usage);
    }
    fail(err);
  }
}

await main();
