// What a cause is, what a rule of the chain is, and the wording the rules share.
import type { Analysis, PodOutcome, ServiceAttempt, Vantage } from '../analysis.ts';
import type { LayerName } from '../layers/index.ts';
import type { NodeIssue } from '../layers/node.ts';
import type { PROBE_LAYER } from '../reasons.ts';
import type { Argv } from '../reproduce.ts';
import { describeConnect, describeHttp } from '../text.ts';
import { hostPort } from '../../util/text.ts';
import type { Symptoms } from './symptoms.ts';

export type Severity = 'ok' | 'warning' | 'failure' | 'error';

export interface RootCause {
  /** The layer that explains the result; undefined for a plain Healthy result. */
  readonly layer?: LayerName | typeof PROBE_LAYER;
  readonly reason: string;
  /** ok / warning: Healthy; failure: Unhealthy; error: Error (could not evaluate). */
  readonly severity: Severity;
  /** One sentence with the evidence. */
  readonly summary: string;
  /** One sentence: what to change, derived from the evidence that decided the cause. */
  readonly fix?: string;
  /** Commands (argv) that repeat the failing step by hand; rendered with shellJoin. */
  readonly reproduce: Argv[];
}

/** What a rule reads: the analysis, the symptoms computed once from it, and the chain's own answer for a failure. */
export interface RuleContext {
  readonly a: Analysis;
  readonly s: Symptoms;
  /** The cause the expect: Reachable rules give for the failure (what an expect: Blocked check blocks by accident). */
  readonly explain: () => RootCause | undefined;
}

/** One rule of the chain: it decides its causes when its evidence is there, and passes otherwise. */
export interface Rule {
  readonly name: string;
  /** The reasons this rule decides; every reason has exactly one owning rule. */
  readonly owns: readonly string[];
  readonly decide: (context: RuleContext) => RootCause | undefined;
}

export function rule(name: string, owns: readonly string[], decide: Rule['decide']): Rule {
  return { name, owns, decide };
}

export function cause(
  layer: RootCause['layer'],
  reason: string,
  severity: Severity,
  summary: string,
  fix: string | undefined,
  reproduce: Argv[],
): RootCause {
  return { layer, reason, severity, summary, fix, reproduce };
}

/** "pod shop/web on node node-1", the first vantage, or the source pod. */
export function sourceText(a: Analysis): string {
  return a.vantages[0]?.label ?? (a.repro.sourcePod ? `pod ${a.namespace}/${a.repro.sourcePod}` : 'the source');
}

export function sourceNodeOf(a: Analysis, vantage?: Vantage): string | undefined {
  return (vantage ?? a.vantages[0])?.node ?? a.source.node ?? a.source.pods[0]?.spec?.nodeName;
}

export function serviceName(a: Analysis): string {
  return a.endpoints.service?.metadata?.name ?? a.input.spec.destination.service ?? '';
}

/** "backend-1 10.244.1.21:8080 on node node-1 timed out after 5001 ms (no answer to SYN)". */
export function outcomeShort(a: Analysis, outcome: PodOutcome): string {
  const name = outcome.pod?.metadata?.name ? `${outcome.pod.metadata.name} ` : '';
  const node = outcome.node ? ` on node ${outcome.node}` : '';
  return `${name}${hostPort(outcome.ip, outcome.port)}${node} ${describeConnect(outcome.status, outcome.ms, outcome.err, a.transport)}`;
}

/** "10.96.12.7:8080 timed out after 5001 ms (no answer to SYN)", with the HTTP result when it connected. */
export function attemptShort(a: Analysis, attempt: ServiceAttempt): string {
  if (attempt.skipped) return `was not attempted (${attempt.skipped.err ?? 'no address'})`;
  const parts: string[] = [];
  const connect = attempt.connect;
  if (connect) parts.push(`${hostPort(connect.ip, connect.port)} ${describeConnect(connect.status, connect.ms, connect.err, a.transport)}`);
  if (attempt.http && (!connect || connect.status === 'ok')) parts.push(describeHttp(attempt.http));
  return parts.join(', ');
}

/** The issue on the given node, else the first one. */
export function issueOn(issues: readonly NodeIssue[], node: string | undefined): NodeIssue | undefined {
  return issues.find((issue) => !node || issue.node === node) ?? issues[0];
}
