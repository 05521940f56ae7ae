// The diagnosis entry points.
//
//   createDiagnose(kubeConfig | reader) -> Diagnose: the controller's hook. Reads the API evidence
//     (evidence.ts, read-only), then runs the pure part. Never throws: an unexpected error becomes an
//     Error verdict with reason DiagnosisFailed, so a bug here cannot wedge a run.
//   diagnoseFromEvidence(evidence, input) -> Verdict: the pure part (ladder.ts + rootcause.ts); feed it
//     recorded evidence to replay a diagnosis.
import type { KubeConfig } from '@kubernetes/client-node';
import { condition, Result } from '../api/conditions.ts';
import { collectEvidence, kubeEvidenceReader, type CollectOptions, type Evidence, type EvidenceReader } from './evidence.ts';
import type { Analysis, DiagnosisOptions, LayerFinding } from './analysis.ts';
import { analyze, findingsToConditions, LADDER, LayerCondition } from './layers/index.ts';
import { Cause, LayerReason, PROBE_LAYER } from './reasons.ts';
import { renderReproduce } from './reproduce.ts';
import { determineRootCause, summaryText, type RootCause } from './causes/chain.ts';
import { clip } from '../util/text.ts';
import { MAX_CONDITION_MESSAGE } from './text.ts';
import type { Diagnose, DiagnosisInput, Verdict } from './verdict.ts';

export type { Evidence, EvidenceReader } from './evidence.ts';
export type { Analysis, DiagnosisOptions } from './analysis.ts';
export type { RootCause } from './causes/chain.ts';
export { collectEvidence, kubeEvidenceReader, EVIDENCE_RBAC_RULES } from './evidence.ts';
export { Cause, HealthyReason, LayerReason, PROBE_LAYER } from './reasons.ts';
export { Layer, LayerCondition, LADDER } from './layers/index.ts';
export { shellJoin, shellQuote } from './reproduce.ts';

export interface CreateDiagnoseOptions extends DiagnosisOptions, CollectOptions {}

/** The layer conditions with the root cause written onto the layer that explains it. */
function layersWithCause(findings: readonly LayerFinding[], rootCause: RootCause): LayerFinding[] {
  return findings.map((finding) => {
    // Warnings already sit on their layer; only a failure rewrites the layer that explains it.
    if (finding.layer !== rootCause.layer || finding.reason === rootCause.reason) return finding;
    if (rootCause.severity !== 'failure' && rootCause.severity !== 'error') return finding;
    // The layer's own evidence follows the cause, without repeating what the summary already says.
    const extra = finding.message.split(/(?<=\.)\s+/).filter((part) => !rootCause.summary.includes(part.replace(/\.$/, ''))).join(' ');
    return { ...finding, status: 'False' as const, reason: rootCause.reason, message: clip(extra ? `${rootCause.summary} ${extra}` : rootCause.summary, MAX_CONDITION_MESSAGE) };
  });
}

export function verdictFromAnalysis(analysis: Analysis): Verdict {
  const rootCause = determineRootCause(analysis);
  const result = rootCause.severity === 'error' ? Result.Error : rootCause.severity === 'failure' ? Result.Unhealthy : Result.Healthy;
  const failed = result !== Result.Healthy;
  const findings =
    rootCause.layer === PROBE_LAYER
      ? analysis.findings.map((f) => ({ ...f, status: 'Unknown' as const, reason: LayerReason.ProbeFailed, message: 'Not evaluated: the probe could not test the path (status.summary says why).' }))
      : layersWithCause(analysis.findings, rootCause);
  return {
    result,
    ...(failed && rootCause.layer ? { failedLayer: rootCause.layer } : {}),
    reason: rootCause.reason,
    summary: summaryText(rootCause),
    layers: findingsToConditions(findings, analysis.generation),
    reproduce: failed || rootCause.severity === 'warning' ? renderReproduce(rootCause.reproduce) : [],
  };
}

/** Pure: evidence and probe outputs in, verdict out. */
export function diagnoseFromEvidence(evidence: Evidence, input: DiagnosisInput, options: DiagnosisOptions = {}): Verdict {
  return verdictFromAnalysis(analyze(evidence, input, options));
}

function diagnosisFailed(input: DiagnosisInput, error: unknown): Verdict {
  const generation = input.check.metadata?.generation ?? 0;
  const message = clip(`The diagnosis itself failed: ${error instanceof Error ? error.message : String(error)}`, 1000);
  return {
    result: Result.Error,
    reason: Cause.DiagnosisFailed,
    summary: message,
    layers: LADDER.map((layer) => condition(LayerCondition[layer], 'Unknown', Cause.DiagnosisFailed, message, generation)),
    reproduce: [],
  };
}

function isReader(value: KubeConfig | EvidenceReader): value is EvidenceReader {
  return typeof (value as EvidenceReader).listNetworkPolicies === 'function';
}

/** The controller's Diagnose: collects the API evidence, then runs the ladder and the root-cause engine. */
export function createDiagnose(source: KubeConfig | EvidenceReader, options: CreateDiagnoseOptions = {}): Diagnose {
  const reader = isReader(source) ? source : kubeEvidenceReader(source);
  return async (input: DiagnosisInput): Promise<Verdict> => {
    try {
      const evidence = await collectEvidence(reader, input, options);
      return diagnoseFromEvidence(evidence, input, options);
    } catch (error) {
      return diagnosisFailed(input, error);
    }
  };
}
