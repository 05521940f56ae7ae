#!/usr/bin/env node
// The executable: `node cli/bin.ts ...` in a checkout, and the entry of the bundle behind the npm
// bin and the single-file executable (cli/build/). Everything else is in main.ts, which tests import.
import { ExitCode } from './errors.ts';
import { main, processIo } from './main.ts';

const args = process.argv.slice(2);
main(args, processIo(args)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`error: ${String(err)}\n`); process.exitCode = ExitCode.Error; },
);
