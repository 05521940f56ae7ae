// The layer conditions of a check, by ladder layer: what every reader of status starts from.
import type { Condition, NetworkCheck } from '../../operator/api/types.generated.ts';
import { LayerCondition, LayerReason } from '../../operator/diagnosis/index.ts';

/** A rung of the diagnosis ladder (operator/diagnosis: Layer). */
export type LayerName = keyof typeof LayerCondition;

export function layerCondition(check: NetworkCheck, layer: LayerName): Condition | undefined {
  return check.status?.conditions?.find((c) => c.type === LayerCondition[layer]);
}

/** A layer the diagnosis evaluated or tried to (not NotApplicable to this check). */
export function applicable(condition: Condition | undefined): condition is Condition {
  return condition !== undefined && condition.reason !== LayerReason.NotApplicable;
}
