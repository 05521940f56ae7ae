// The diagnosis entry points.
//
//   createDiagnose(kubeConfig | reader) -> Diagnose: the controller's hook. Reads the API evidence
//     (evidence.ts, read-only), then runs the pure part. Never throws: an unexpected error becomes an
//     Error verdict with reason DiagnosisFailed, so a bug here cannot wedge a run.
//   diagnoseFromEvidence(evidence, input) -> Verdict: the pure part (the ladder, layers/, then the
//     cause chain, causes/); feed it recorded evidence to replay a diagnosis.
import type { KubeConfig } from '@kubernetes/client-node';
import { condition, Result } from '../api/conditions.ts';
import { clip } from '../util/text.ts';
import type { Analysis, DiagnosisOptions } from './analysis.ts';
import { determineRootCause } from './causes/chain.ts';
import { collectEvidence, kubeEvidenceReader, type CollectOptions, type Evidence, type EvidenceReader } from './evidence.ts';
import { analyze, LADDER, LayerCondition } from './layers/index.ts';
import { Cause } from './reasons.ts';
import { renderVerdict } from './render.ts';
import type { Diagnose, DiagnosisInput, Verdict } from './verdict.ts';

export type { Evidence, EvidenceReader } from './evidence.ts';
export type { Analysis, DiagnosisOptions } from './analysis.ts';
export type { RootCause } from './causes/chain.ts';
export { collectEvidence, kubeEvidenceReader, EVIDENCE_RBAC_RULES } from './evidence.ts';
export { Cause, HealthyReason, LayerReason, PROBE_LAYER } from './reasons.ts';
export { Layer, LayerCondition, LADDER } from './layers/index.ts';
export { shellJoin, shellQuote } from './reproduce.ts';
export { markCause, rootCauseHops, splitPaths, warningHops, type PathOutcome } from './path/index.ts';

export interface CreateDiagnoseOptions extends DiagnosisOptions, CollectOptions {}

export function verdictFromAnalysis(analysis: Analysis): Verdict {
  return renderVerdict(analysis, determineRootCause(analysis));
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
