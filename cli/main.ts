// kubectl-netcheck: the kubectl plugin of netcheck-operator (kubectl finds it on PATH as
// `kubectl-netcheck` and runs it for `kubectl netcheck ...`). This entry point decides colour and
// live redraws from the terminal and the environment, runs the command line, and turns every error
// into a message and an exit code: 0 Healthy, 1 Unhealthy, 2 an error or a bad argument.
import { CommanderError } from 'commander';
import { commands } from './commands/index.ts';
import { CommandError, ExitCode, UsageError, type ExitCodeValue } from './errors.ts';
import type { Io } from './io.ts';
import { buildProgram, joinSelectorArguments, type Outcome } from './program.ts';
import { colorWanted, makeStyle } from './style.ts';

const CLEAN_EXITS = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

export function processIo(argv: readonly string[]): Io {
  const noColorFlag = argv.includes('--no-color');
  // listr2 colours with util.styleText, which follows NO_COLOR: make --no-color mean the same to it.
  if (noColorFlag) process.env.NO_COLOR = '1';
  const isTTY = Boolean(process.stdout.isTTY);
  const color = colorWanted({ isTTY, env: process.env, noColorFlag });
  return {
    style: makeStyle(color, isTTY && process.env.TERM !== 'dumb'),
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    raw: (data) => process.stdout.write(data),
    now: () => new Date(),
  };
}

export async function main(argv: readonly string[], io: Io): Promise<ExitCodeValue> {
  const outcome: Outcome = { code: ExitCode.Healthy };
  const program = buildProgram(commands, io, outcome);
  try {
    await program.parseAsync(joinSelectorArguments(argv), { from: 'user' });
    return outcome.code;
  } catch (err) {
    // commander already wrote its usage error (it names the flag); help and --version are no error.
    if (err instanceof CommanderError) return CLEAN_EXITS.has(err.code) ? ExitCode.Healthy : ExitCode.Error;
    if (err instanceof UsageError) { io.err(`error: ${err.message}`); return ExitCode.Error; }
    if (err instanceof CommandError) { io.err(`error: ${err.message}`); return err.exitCode; }
    io.err(`error: ${err instanceof Error ? err.message : String(err)}`);
    return ExitCode.Error;
  }
}
