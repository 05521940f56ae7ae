// What a diagnosis hands back to the controller: the check's result and the per-layer conditions.
import type { DesiredCondition, ResultName } from '../api/conditions.ts';
import type { ResolvedSpec } from '../api/defaults.ts';
import type { NetworkCheck, NetworkPath } from '../api/types.generated.ts';
import type { ProbeOutput, ResolvedTargets } from '../probe/stage.ts';

export interface Verdict {
  result: Extract<ResultName, 'Healthy' | 'Unhealthy' | 'Error'>;
  failedLayer?: string;
  reason: string;
  summary: string;
  /** One condition per diagnosis layer (not Ready/Reconciling/Stalled: the controller owns those). */
  layers: DesiredCondition[];
  reproduce: string[];
  /** The packet path hop by hop (status.path); absent when no diagnosis ran. */
  path?: NetworkPath;
}

export interface DiagnosisInput {
  check: NetworkCheck;
  spec: ResolvedSpec;
  targets: ResolvedTargets;
  outputs: ProbeOutput[];
  /** Why nodes of the path were not inspected (--node-diagnostics), for the Node layer. */
  nodeInspection?: { notes: string[] };
}

/** Pure: evidence in, verdict out. The evidence collector gathers the API side beforehand. */
export type Diagnose = (input: DiagnosisInput) => Verdict | Promise<Verdict>;
