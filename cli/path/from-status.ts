// The drawn path of a finished run (model.ts), from the check's status: status.path as the operator
// writes it (the hops with their addresses and results, the root cause marked), or, from operators
// that write none, the hops pieced together from the condition messages (from-messages.ts). Either
// way the evidence under the root-cause hop is what the failing layer's condition says beyond the
// root cause itself.
import { LayerCondition } from '../../operator/diagnosis/index.ts';
import type { NetworkCheck } from '../../operator/api/types.generated.ts';
import { hopsFromMessages } from './from-messages.ts';
import { layerCondition, type LayerName } from './layers.ts';
import type { NetworkPath } from './model.ts';

/** status.summary is "<evidence>. Fix: <what to change>" (operator/diagnosis: summaryText). */
export function splitSummary(summary: string | undefined): { cause: string; fix?: string } {
  const text = summary ?? '';
  const at = text.search(/\s*Fix: /);
  if (at < 0) return { cause: text };
  return { cause: text.slice(0, at).trim(), fix: text.slice(at).replace(/^\s*Fix:\s*/, '').trim() };
}

/** Sentences (and ;-clauses) of a condition message; "NXDOMAIN" or "resolv.conf" after a dot start none. */
const sentences = (text: string) => text.split(/(?<=[a-z0-9)\]][.;])\s+(?=[A-Z][a-z]|DNS |\()/).map((s) => s.trim().replace(/;$/, '.')).filter(Boolean);

/**
 * The evidence under the root-cause hop: what the failing layer's condition says beyond the root
 * cause itself (printed below the path), else the cause's first sentence.
 */
function evidenceOf(check: NetworkCheck): string[] {
  const failed = check.status?.failedLayer;
  const condition = failed && failed in LayerCondition ? layerCondition(check, failed as LayerName) : undefined;
  const { cause } = splitSummary(check.status?.summary);
  const extra = sentences(splitSummary(condition?.message).cause).filter((sentence) => !cause.includes(sentence.replace(/[.;]$/, '')));
  return (extra.length > 0 ? extra : sentences(cause).slice(0, 1)).slice(0, 6);
}

/** The drawn path of a finished run. */
export function pathFromStatus(check: NetworkCheck): NetworkPath {
  const { failedLayer, reason, result, path } = check.status ?? {};
  const stored = path?.hops?.length ? path.hops : undefined;
  return {
    hops: stored ?? hopsFromMessages(check),
    evidence: result === 'Healthy' ? [] : evidenceOf(check),
    ...(failedLayer ? { failedLayer } : {}),
    ...(reason ? { reason } : {}),
    ...(stored && path?.hopsOmitted ? { hopsOmitted: path.hopsOmitted } : {}),
  };
}
