// One test case per check of a suite, as the reports (JUnit, TAP, JSON) need it.
import type { NetworkCheck } from '../../operator/api/types.generated.ts';

export interface CaseResult {
  /** The suite entry's name. */
  name: string;
  namespace: string;
  /** The NetworkCheck that ran (its generated name). */
  check?: string;
  source?: string;
  destination?: string;
  protocol?: string;
  result: 'Healthy' | 'Unhealthy' | 'Error';
  failedLayer?: string;
  reason?: string;
  summary?: string;
  durationMs: number;
}

export interface SuiteResult {
  name: string;
  startedAt: Date;
  durationMs: number;
  cases: CaseResult[];
}

export function caseFromCheck(name: string, check: NetworkCheck, durationMs: number): CaseResult {
  const status = check.status ?? {};
  const result = status.result === 'Healthy' || status.result === 'Unhealthy' ? status.result : 'Error';
  return {
    name,
    namespace: check.metadata?.namespace ?? '',
    ...(check.metadata?.name ? { check: check.metadata.name } : {}),
    ...(status.target?.source ? { source: status.target.source } : {}),
    ...(status.target?.destination ? { destination: status.target.destination } : {}),
    protocol: check.spec.protocol ?? 'TCP',
    result,
    ...(status.failedLayer ? { failedLayer: status.failedLayer } : {}),
    ...(status.reason ? { reason: status.reason } : {}),
    ...(status.summary ? { summary: status.summary } : {}),
    durationMs,
  };
}

export const failures = (suite: SuiteResult) => suite.cases.filter((c) => c.result === 'Unhealthy').length;
export const errors = (suite: SuiteResult) => suite.cases.filter((c) => c.result === 'Error').length;
