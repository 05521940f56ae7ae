// The ladder: its rungs in the order they are worked through (../shared/failure-modes.md), and the
// analysis that runs them. Adding a layer is one module (its analysis, its condition) and one line here.
//
// Pure: the same evidence and probe outputs always give the same analysis and conditions, so recorded
// evidence replays exactly.
import { condition, type DesiredCondition } from '../../api/conditions.ts';
import type { Analysis, AnalysisBase, DiagnosisOptions, LayerAnalyses, LayerFinding } from '../analysis.ts';
import { buildContext } from '../context.ts';
import type { Evidence } from '../evidence.ts';
import type { DiagnosisInput } from '../verdict.ts';
import { cniLayer } from './cni.ts';
import { dnsLayer } from './dns.ts';
import { endpointsLayer } from './endpoints.ts';
import { mtuLayer } from './mtu.ts';
import { nodeLayer } from './node.ts';
import { northSouthLayer } from './north-south.ts';
import { podLayer } from './pod.ts';
import { policyLayer } from './policy.ts';
import { serviceLayer } from './service.ts';
import { sourceLayer } from './source.ts';

export const LAYERS = [
  sourceLayer,
  dnsLayer,
  endpointsLayer,
  serviceLayer,
  podLayer,
  policyLayer,
  nodeLayer,
  cniLayer,
  mtuLayer,
  northSouthLayer,
] as const;

export type LayerName = (typeof LAYERS)[number]['name'];

/** The layer names, for code that names one: Layer.DNS. */
export const Layer = Object.fromEntries(LAYERS.map((layer) => [layer.name, layer.name])) as { readonly [N in LayerName]: N };

/** The rungs in order. */
export const LADDER: readonly LayerName[] = LAYERS.map((layer) => layer.name);

/** One condition per layer, positive polarity: True means the layer works. */
export const LayerCondition = Object.fromEntries(LAYERS.map((layer) => [layer.name, layer.condition])) as { readonly [N in LayerName]: string };

/** Runs every layer over the shared context: the analyses, then each layer's finding. */
export function analyze(evidence: Evidence, input: DiagnosisInput, options: DiagnosisOptions = {}): Analysis {
  const context = buildContext(evidence, input, options);
  const analyses = Object.fromEntries(LAYERS.map((layer) => [layer.key, layer.analyse(context)])) as unknown as LayerAnalyses;
  const base: AnalysisBase = { ...context, ...analyses };
  return { ...base, findings: LAYERS.map((layer) => layer.finding(base)) };
}

/** Conditions for the findings (observedGeneration from the check). */
export function findingsToConditions(findings: readonly LayerFinding[], generation: number): DesiredCondition[] {
  return findings.map((f) => condition(LayerCondition[f.layer as LayerName], f.status, f.reason, f.message, generation));
}
