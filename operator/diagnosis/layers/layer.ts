// What a rung of the ladder is: a name (status.failedLayer), a condition type (positive polarity: True
// means the layer works), an analysis of the shared context, and a finding that renders the analysis
// as the layer's condition. Layers report what they saw; the cause chain (../causes/) decides which
// layer explains a failure.
import { clip } from '../../util/text.ts';
import type { AnalysisBase, Context, LayerAnalyses, LayerFinding } from '../analysis.ts';
import { MAX_CONDITION_MESSAGE } from '../text.ts';

export interface LadderLayer<Name extends string = string, Key extends keyof LayerAnalyses = keyof LayerAnalyses> {
  /** status.failedLayer and the finding's layer: part of the API, stable once released. */
  readonly name: Name;
  /** The condition type in status.conditions: part of the API, stable once released. */
  readonly condition: string;
  /** Where the layer's analysis sits in the Analysis. */
  readonly key: Key;
  analyse(context: Context): LayerAnalyses[Key];
  finding(analysis: AnalysisBase): LayerFinding;
}

/** Keeps the literal name, so that the ladder's names are a type. */
export function defineLayer<const Name extends string, Key extends keyof LayerAnalyses>(layer: LadderLayer<Name, Key>): LadderLayer<Name, Key> {
  return layer;
}

export function finding(layer: string, status: LayerFinding['status'], reason: string, message: string): LayerFinding {
  return { layer, status, reason, message: clip(message, MAX_CONDITION_MESSAGE) };
}
