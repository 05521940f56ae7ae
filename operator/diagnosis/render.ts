// The verdict a diagnosis hands the controller: the chain's root cause and the ladder's conditions.
// The one place where the decision meets the ladder: the layers report what they saw, and the layer
// the root cause names carries that cause (its evidence first, then what the layer saw besides).
import { Result } from '../api/conditions.ts';
import { clip } from '../util/text.ts';
import type { Analysis, LayerFinding } from './analysis.ts';
import { summaryText, type RootCause } from './causes/chain.ts';
import { findingsToConditions } from './layers/index.ts';
import { pathOfRun } from './path/index.ts';
import { LayerReason, PROBE_LAYER } from './reasons.ts';
import { renderReproduce } from './reproduce.ts';
import { MAX_CONDITION_MESSAGE } from './text.ts';
import type { Verdict } from './verdict.ts';

const PROBE_FAILED_MESSAGE = 'Not evaluated: the probe could not test the path (status.summary says why).';

/** The finding of the layer that explains a failure, rewritten as that cause. */
function explainedFinding(finding: LayerFinding, rootCause: RootCause): LayerFinding {
  // Warnings already sit on their layer; only a failure rewrites the layer that explains it.
  const failed = rootCause.severity === 'failure' || rootCause.severity === 'error';
  if (finding.layer !== rootCause.layer || finding.reason === rootCause.reason || !failed) return finding;
  // The layer's own evidence follows the cause, without repeating what the summary already says.
  const sentences = finding.message.split(/(?<=\.)\s+/);
  const extra = sentences.filter((part) => !rootCause.summary.includes(part.replace(/\.$/, ''))).join(' ');
  const message = clip(extra ? `${rootCause.summary} ${extra}` : rootCause.summary, MAX_CONDITION_MESSAGE);
  return { ...finding, status: 'False', reason: rootCause.reason, message };
}

/** The layer findings as the verdict shows them: every layer Unknown when the probe could not run. */
export function layerFindings(analysis: Analysis, rootCause: RootCause): LayerFinding[] {
  if (rootCause.layer === PROBE_LAYER)
    return analysis.findings.map((f) => ({ ...f, status: 'Unknown', reason: LayerReason.ProbeFailed, message: PROBE_FAILED_MESSAGE }));
  return analysis.findings.map((finding) => explainedFinding(finding, rootCause));
}

export function renderVerdict(analysis: Analysis, rootCause: RootCause): Verdict {
  const result = rootCause.severity === 'error' ? Result.Error : rootCause.severity === 'failure' ? Result.Unhealthy : Result.Healthy;
  const failed = result !== Result.Healthy;
  const findings = layerFindings(analysis, rootCause);
  return {
    result,
    ...(failed && rootCause.layer ? { failedLayer: rootCause.layer } : {}),
    reason: rootCause.reason,
    summary: summaryText(rootCause),
    layers: findingsToConditions(findings, analysis.generation),
    reproduce: failed || rootCause.severity === 'warning' ? renderReproduce(rootCause.reproduce) : [],
    path: pathOfRun(analysis, rootCause, findings),
  };
}
