// The narrow interface between the reconcile loop and the probe machinery. The controller decides
// WHEN a run happens and records it; a ProbeStage decides HOW: it launches probe pods for a run,
// reports their state, and removes them. Every method is idempotent and keyed by the run id, so a
// restarted operator adopts a run in flight instead of starting a second one.
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import type { NetworkCheck } from '../api/types.generated.ts';
import type { ResolvedSpec } from '../api/defaults.ts';
import type { CapturePoint, CaptureTarget } from '../capture/model.ts';
import type { NodeInspectionPlan } from './node-inspection.ts';

/** What the controller found in the API before a run: who probes, and what is probed. */
export interface ResolvedTargets {
  /** Pods to probe from (pod sources); empty for newPod and node sources. */
  sourcePods: V1Pod[];
  /** The node for a node source. */
  sourceNode?: string;
  destinationService?: V1Service;
  destinationPods: V1Pod[];
}

export interface RunRequest {
  check: NetworkCheck;
  spec: ResolvedSpec;
  runId: string;
  targets: ResolvedTargets;
  /** Nodes to inspect next to the probe (--node-diagnostics); none when absent. */
  nodeInspection?: NodeInspectionPlan;
}

/** What the run's node inspection pods (node-inspection.ts) said so far. */
export interface NodeInspectionObservation {
  /** Finished inspections: documents with a node section, from the operator's own pods. */
  outputs: ProbeOutput[];
  /** Nodes whose inspection still runs. */
  pending: string[];
  /** Why a node was not inspected (pod refused, failed, stuck), one sentence each. */
  failed: string[];
  /** When the run's probe containers finished (ms): inspections are waited for a grace after that. */
  probesFinishedAt?: number;
}

export type RunObservation =
  /** No probe pod of this run exists (never started, or already cleaned up). */
  | { state: 'NotFound' }
  | { state: 'Running'; pods: string[]; detail: string }
  /** The probe could not run: reason is ProbeFailed or ProbeOutputInvalid, message quotes the evidence. */
  | { state: 'Failed'; pods: string[]; reason: string; message: string }
  /** Every probe pod finished; outputs are their parsed results, one per pod. */
  | { state: 'Completed'; pods: string[]; outputs: ProbeOutput[]; nodeInspection?: NodeInspectionObservation };

export interface ProbeOutput {
  pod: string;
  node?: string;
  /** The probe program's JSON document (operator/probe/result.ts), already validated. */
  result: unknown;
}

/** A capture point's pcap as the probe stage read it back from a finished run. */
export interface CollectedCapture {
  point: CapturePoint;
  /** The pod whose network namespace was captured. */
  pod: string;
  /** What the analysis should count as the target's traffic at this point. */
  target?: CaptureTarget;
  pcap?: Uint8Array;
  /** Why there is no pcap (tcpdump failed, the log had none...). */
  error?: string;
}

export interface ProbeStage {
  /** Creates the run's probe pods (AlreadyExists is success). Returns their names. */
  start(request: RunRequest): Promise<string[]>;
  /** With a plan, inspection pods for nodes learnt since start (a new pod's) are created too. */
  observe(check: NetworkCheck, runId: string, nodeInspection?: NodeInspectionPlan): Promise<RunObservation>;
  /** The run's packet captures (spec.capture), read from its finished pods; called before cleanup. */
  collectCaptures?(check: NetworkCheck, spec: ResolvedSpec, runId: string): Promise<CollectedCapture[]>;
  /** Deletes the run's probe pods; missing pods are fine. */
  cleanup(check: NetworkCheck, runId: string): Promise<void>;
  /** Deletes the node probe pods of a check that no longer exists (no owner collects them). */
  forget?(namespace: string, name: string): Promise<void>;
}

/** The API refused a probe pod (quota, PodSecurity, invalid image name...): the run ends as ProbeFailed. */
export class ProbeStartError extends Error {
  readonly reason = 'ProbeFailed';
}
