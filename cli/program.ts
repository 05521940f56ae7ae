// The command line: commander defines the commands and flags, parses them and writes the usage
// errors; this file wires each command to its implementation. kubectl's conventions: --kubeconfig,
// --context and -n/--namespace are accepted before or after the command (kubectl passes a plugin
// everything after its name), -A lists every namespace.
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseExpect, parseProtocol, parseTimeout } from './adhoc.ts';
import { UsageError, type ExitCodeValue } from './errors.ts';
import type { Io } from './io.ts';
import { parseDestination, parseSource, FROM_FORMS, TO_FORMS } from './target.ts';

export const VERSION = '0.1.0';

export interface Commands {
  run(flags: Record<string, unknown>, io: Io): Promise<ExitCodeValue>;
  get(name: string | undefined, flags: Record<string, unknown>, io: Io): Promise<ExitCodeValue>;
  describe(name: string, flags: Record<string, unknown>, io: Io): Promise<ExitCodeValue>;
  test(flags: Record<string, unknown>, io: Io): Promise<ExitCodeValue>;
  pcap(name: string, flags: Record<string, unknown>, io: Io): Promise<ExitCodeValue>;
}

/** A value parser for commander: a UsageError becomes commander's "option '--x' argument ... is invalid". */
function parser<T>(parse: (value: string) => T): (value: string) => T {
  return (value: string) => {
    try {
      return parse(value);
    } catch (err) {
      if (err instanceof UsageError) throw new InvalidArgumentError(err.detail);
      throw err;
    }
  };
}

function connectionOptions(command: Command): Command {
  return command
    .option('--kubeconfig <file>', 'path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
    .option('--context <name>', 'the kubeconfig context to use')
    .option('-n, --namespace <namespace>', 'the namespace (default: the context\'s, else "default")');
}

const FORMATS = ['junit', 'tap', 'json'];

/** Where the actions leave the command's exit code. */
export interface Outcome { code: ExitCodeValue }

function runCommandSpec(program: Command, commands: Commands, io: Io, outcome: Outcome): void {
  connectionOptions(program.command('run'))
    .description('run one ad-hoc check now, show its progress and the path drawn, then delete it')
    .addOption(new Option('--from <source>', `where to probe from: ${FROM_FORMS}`).argParser(parser((v) => parseSource(v))))
    .addOption(new Option('-l, --selector <labels>', 'probe from a pod with these labels (like --from -l app=web)').argParser(parser((v) => parseSource(`-l ${v}`, '--selector'))).conflicts('from'))
    .addOption(new Option('--to <destination>', `what to connect to: ${TO_FORMS}`).argParser(parser((v) => parseDestination(v))).makeOptionMandatory())
    .addOption(new Option('--protocol <protocol>', 'TCP, UDP, HTTP, HTTPS, ICMP or DNS (default: TCP with a port, HTTP with --path)').argParser(parser((v) => parseProtocol(v))))
    .option('--path <path>', 'the HTTP path to request (implies HTTP)')
    .addOption(new Option('--expect <expectation>', 'reachable (default) or blocked: assert that a NetworkPolicy blocks the path').argParser(parser((v) => parseExpect(v))))
    .option('--capture', 'capture packets at the source while probing (kept with --keep: kubectl netcheck pcap)')
    .addOption(new Option('--timeout <duration>', 'limit of each probe step, 1s-60s').argParser(parser((v) => parseTimeout(v))))
    .option('--keep', 'keep the NetworkCheck (and its capture) after the run')
    .action(async (_: unknown, command: Command) => {
      const flags = command.optsWithGlobals();
      const source = flags.from ?? flags.selector;
      if (!source) throw new UsageError('--from', `required: ${FROM_FORMS}`);
      outcome.code = await commands.run({ ...flags, source, destination: flags.to }, io);
    });
}

function otherCommands(program: Command, commands: Commands, io: Io, outcome: Outcome): void {
  const done = (code: ExitCodeValue) => { outcome.code = code; };
  connectionOptions(program.command('get'))
    .description('list NetworkChecks: result, failing layer and reason, the history as a sparkline, the next run')
    .argument('[name]', 'one check')
    .option('-A, --all-namespaces', 'list checks in every namespace')
    .option('-l, --selector <labels>', 'only checks with these labels (e.g. netcheck.dev/ad-hoc=true)')
    .action(async (name: string | undefined, _: unknown, command: Command) => done(await commands.get(name, command.optsWithGlobals(), io)));
  connectionOptions(program.command('describe'))
    .description('one check as a tree of layers, its path, the history and the next run')
    .argument('<name>', 'the NetworkCheck')
    .action(async (name: string, _: unknown, command: Command) => done(await commands.describe(name, command.optsWithGlobals(), io)));
  connectionOptions(program.command('test'))
    .description('run a suite of checks concurrently and report for CI; exits 1 when any check fails')
    .requiredOption('-f, --filename <file>', 'the suite: NetworkCheck YAML documents, or a compact list of from/to entries')
    .addOption(new Option('-o, --output <format>', 'junit, tap or json').choices(FORMATS).default('junit'))
    .addOption(new Option('--concurrency <n>', 'checks at once').argParser(parser((v) => positive('--concurrency', v))).default(8))
    .option('--keep', 'keep the NetworkChecks after the run')
    .action(async (_: unknown, command: Command) => done(await commands.test(command.optsWithGlobals(), io)));
  connectionOptions(program.command('pcap'))
    .description('write the latest kept packet capture of a check to a file (Wireshark, tcpdump -r)')
    .argument('<name>', 'the NetworkCheck')
    .option('-o, --output <file>', 'where to write the pcap ("-" for stdout; default: NAME.pcap)')
    .addOption(new Option('--point <point>', 'which capture point').choices(['source', 'destination']).default('source'))
    .action(async (name: string, _: unknown, command: Command) => done(await commands.pcap(name, command.optsWithGlobals(), io)));
}

function positive(flag: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 64) throw new UsageError(flag, `"${value}" is not a number from 1 to 64`);
  return Number(value);
}

/** The program; `io.err` receives commander's own usage errors. */
export function buildProgram(commands: Commands, io: Io, outcome: Outcome): Command {
  const program = new Command('kubectl netcheck')
    .description('Ad-hoc network checks with the packet path drawn, and NetworkCheck results for CI (netcheck-operator).')
    .version(VERSION)
    .option('--no-color', 'never colour the output (also: NO_COLOR=1; colour is only used on a terminal)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.out(text.replace(/\n$/, '')), writeErr: (text) => io.err(text.replace(/\n$/, '')) });
  connectionOptions(program);
  runCommandSpec(program, commands, io, outcome);
  otherCommands(program, commands, io, outcome);
  return program;
}

/** kubectl users write `--from -l app=web`: join the selector into --from's value. */
export function joinSelectorArguments(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--from' && argv[i + 1] === '-l' && argv[i + 2] !== undefined) { out.push('--from', `-l ${argv[i + 2]}`); i += 2; } else out.push(argv[i]);
  }
  return out;
}

