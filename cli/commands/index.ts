// The commands behind the command line (program.ts), by name.
import type { ExitCodeValue } from '../errors.ts';
import type { Io } from '../io.ts';
import type { Commands } from '../program.ts';
import { describeCommand, getCommand, pcapCommand, type GetFlags, type PcapFlags } from './inspect.ts';
import { runCommand, type RunFlags } from './run.ts';
import { testCommand, type TestFlags } from './test.ts';

export const commands: Commands = {
  run: (flags, io: Io): Promise<ExitCodeValue> => runCommand(flags as unknown as RunFlags, io),
  get: (name, flags, io) => getCommand(name, flags as GetFlags, io),
  describe: (name, flags, io) => describeCommand(name, flags, io),
  test: (flags, io) => testCommand(flags as unknown as TestFlags, io),
  pcap: (name, flags, io) => pcapCommand(name, flags as PcapFlags, io),
};
