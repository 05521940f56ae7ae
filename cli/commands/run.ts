// kubectl netcheck run: one ad-hoc check from the command line. Creates the NetworkCheck, follows it
// by watch with live progress, prints the verdict with the path drawn, and deletes the check unless
// --keep. Exit code: 0 Healthy, 1 Unhealthy, 2 Error (or stalled, or no answer in time).
import type { NetworkCheck } from '../../operator/api/types.generated.ts';
import { adHocCheck, buildSpec, type CheckOptions } from '../adhoc.ts';
import { ExitCode, type ExitCodeValue } from '../errors.ts';
import { followCheck, waitSeconds } from '../follow.ts';
import type { Io } from '../io.ts';
import { Checks, loadKubeConfig, namespaceOf, type ConnectionFlags } from '../kube.ts';
import { makeProgress } from '../progress.ts';
import { renderVerdict } from '../render/verdict.ts';

export interface RunFlags extends ConnectionFlags, CheckOptions {
  keep?: boolean;
}

export function exitCodeOf(check: NetworkCheck): ExitCodeValue {
  const result = check.status?.result;
  return result === 'Healthy' ? ExitCode.Healthy : result === 'Unhealthy' ? ExitCode.Unhealthy : ExitCode.Error;
}

/** Deletes the check once, on the way out or on Ctrl-C. */
function cleanup(checks: Checks, check: NetworkCheck, keep: boolean | undefined): () => Promise<void> {
  let done = false;
  return async () => {
    if (done || keep) return;
    done = true;
    await checks.delete(check.metadata!.namespace!, check.metadata!.name!);
  };
}

export async function runCommand(flags: RunFlags, io: Io): Promise<ExitCodeValue> {
  const spec = buildSpec(flags);
  const kc = loadKubeConfig(flags);
  const checks = new Checks(kc);
  const created = await checks.create(adHocCheck(namespaceOf(kc, flags), spec));
  const { namespace, name } = created.metadata as { namespace: string; name: string };
  const remove = cleanup(checks, created, flags.keep);
  const onSignal = () => { void remove().finally(() => process.exit(130)); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    io.out(io.style.c.dim(`networkcheck ${namespace}/${name} created`));
    const progress = await makeProgress(io.style, (line) => io.out(line));
    let outcome;
    try {
      outcome = await followCheck(checks, created, (check) => progress.update(check), waitSeconds(spec.timeoutSeconds));
    } finally {
      await progress.finish(outcome?.check);
    }
    io.out('');
    if (outcome.kind === 'stalled') {
      io.err(`networkcheck ${namespace}/${name} stalled: ${outcome.reason}: ${outcome.message}`);
      return ExitCode.Error;
    }
    for (const line of renderVerdict(outcome.check, io.style)) io.out(line);
    if (flags.keep) io.out(io.style.c.dim(`\nKept: kubectl netcheck describe ${name} -n ${namespace}${outcome.check.status?.capture?.state === 'Kept' ? `; kubectl netcheck pcap ${name} -n ${namespace}` : ''}`));
    return exitCodeOf(outcome.check);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await remove();
  }
}
