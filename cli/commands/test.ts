// kubectl netcheck test -f suite.yaml: runs every check of a suite at once (up to --concurrency),
// each as its own ad-hoc NetworkCheck, and writes one report (JUnit by default) to stdout. Exit code:
// 0 when every check is Healthy, 1 when any is Unhealthy, 2 when any errored (or the suite is bad).
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { adHocCheck } from '../adhoc.ts';
import { CommandError, ExitCode, UsageError, type ExitCodeValue } from '../errors.ts';
import { followCheck, waitSeconds } from '../follow.ts';
import type { Io } from '../io.ts';
import { Checks, loadKubeConfig, namespaceOf, type ConnectionFlags } from '../kube.ts';
import { renderJUnit } from '../report/junit.ts';
import { caseFromCheck, errors, failures, type CaseResult, type SuiteResult } from '../report/results.ts';
import { renderJson, renderTap } from '../report/tap.ts';
import { parseSuite, type SuiteEntry } from '../suite.ts';

export interface TestFlags extends ConnectionFlags {
  filename: string;
  output?: 'junit' | 'tap' | 'json';
  concurrency?: number;
  keep?: boolean;
}

function readSuite(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new UsageError('--filename', `cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Runs one entry to its verdict; an API error or a stall is that case's Error, not the suite's. */
async function runEntry(checks: Checks, entry: SuiteEntry, namespace: string, keep: boolean | undefined): Promise<CaseResult> {
  const started = Date.now();
  const check = adHocCheck(entry.namespace ?? namespace, entry.spec);
  const failed = (summary: string): CaseResult => ({ name: entry.name, namespace: check.metadata!.namespace!, result: 'Error', reason: 'CheckFailed', summary, durationMs: Date.now() - started });
  let created;
  try {
    created = await checks.create(check);
  } catch (err) {
    return failed(err instanceof Error ? err.message : String(err));
  }
  try {
    const outcome = await followCheck(checks, created, () => {}, waitSeconds(entry.spec.timeoutSeconds));
    if (outcome.kind === 'stalled') return { ...caseFromCheck(entry.name, outcome.check, Date.now() - started), result: 'Error', reason: outcome.reason, summary: outcome.message };
    return caseFromCheck(entry.name, outcome.check, outcome.check.status?.lastRun?.durationMs ?? Date.now() - started);
  } catch (err) {
    return { ...failed(err instanceof Error ? err.message : String(err)), check: created.metadata?.name };
  } finally {
    if (!keep) await checks.delete(created.metadata!.namespace!, created.metadata!.name!).catch(() => undefined);
  }
}

/** At most `limit` promises in flight; results in input order. */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => { while (next < items.length) { const index = next++; results[index] = await work(items[index]); } };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const RENDERERS = { junit: renderJUnit, tap: renderTap, json: renderJson } as const;

export async function testCommand(flags: TestFlags, io: Io): Promise<ExitCodeValue> {
  const entries = parseSuite(readSuite(flags.filename), flags.filename);
  const kc = loadKubeConfig(flags);
  const checks = new Checks(kc);
  const namespace = namespaceOf(kc, flags);
  const startedAt = io.now();
  const cases = await mapConcurrent(entries, flags.concurrency ?? 8, (entry) => runEntry(checks, entry, namespace, flags.keep));
  const suite: SuiteResult = { name: basename(flags.filename), startedAt, durationMs: io.now().getTime() - startedAt.getTime(), cases };
  const render = RENDERERS[flags.output ?? 'junit'];
  if (!render) throw new CommandError(`unknown output format ${flags.output}`);
  io.raw(Buffer.from(render(suite)));
  io.err(`${cases.length} checks: ${cases.length - failures(suite) - errors(suite)} passed, ${failures(suite)} failed, ${errors(suite)} errored`);
  return errors(suite) > 0 ? ExitCode.Error : failures(suite) > 0 ? ExitCode.Unhealthy : ExitCode.Healthy;
}
