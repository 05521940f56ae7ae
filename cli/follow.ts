// Following one check by watch until its run has an answer: the run's completion for the check's
// current generation, or Stalled (the operator cannot start the run: a missing source, a forbidden
// node source...), or a deadline past the operator's own run deadline (so a missing operator ends
// with a message rather than a hang).
import type { NetworkCheck } from '../operator/api/types.generated.ts';
import { probeRunBudgetSeconds } from '../operator/probe/result.ts';
import { CommandError } from './errors.ts';
import type { Checks } from './kube.ts';

/** How long past the probe budget the plugin waits: the operator's own grace (30 s) plus a margin for scheduling. */
const WAIT_MARGIN_SECONDS = 60;

export type Outcome =
  | { kind: 'finished'; check: NetworkCheck }
  | { kind: 'stalled'; check: NetworkCheck; reason: string; message: string };

export function outcomeOf(check: NetworkCheck): Outcome | undefined {
  const generation = check.metadata?.generation;
  const run = check.status?.lastRun;
  if (run?.completionTime && (generation === undefined || run.generation === generation)) return { kind: 'finished', check };
  const stalled = check.status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True' && c.observedGeneration === generation);
  if (stalled) return { kind: 'stalled', check, reason: stalled.reason, message: stalled.message };
  return undefined;
}

export function waitSeconds(timeoutSeconds: number | undefined): number {
  return probeRunBudgetSeconds(timeoutSeconds ?? 5) + WAIT_MARGIN_SECONDS;
}

/** Watches `created` until it has an outcome; `onChange` sees every version (for progress). */
export async function followCheck(checks: Checks, created: NetworkCheck, onChange: (check: NetworkCheck) => void, limitSeconds: number): Promise<Outcome> {
  const namespace = created.metadata!.namespace!;
  const name = created.metadata!.name!;
  let outcome: Outcome | undefined;
  let latest = created;
  const consider = (check: NetworkCheck) => { latest = check; onChange(check); outcome = outcomeOf(check); return outcome !== undefined; };
  if (consider(created)) return outcome!;
  const watch = checks.follow(namespace, name, created.metadata?.resourceVersion, consider);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CommandError(
      `networkcheck ${namespace}/${name} has no result after ${limitSeconds} s (${latest.status?.result ?? 'no status yet'}): is the operator running and watching namespace ${namespace}?`)), limitSeconds * 1000);
  });
  try {
    await Promise.race([watch.done, deadline]);
  } finally {
    clearTimeout(timer);
    watch.stop();
  }
  return outcome!;
}
