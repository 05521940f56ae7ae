// Whether a finished run's verdict waits for its node inspection, and which outputs it is diagnosed
// from (--node-diagnostics, operator/probe/node-inspection.ts). The inspection pods start with the
// probe, so they are usually done first; when they are not:
//   - OnFailure: the verdict without the node view is computed first, and a Healthy one is final at
//     once (the healthy path never waits, and never reads the nodes); a failing one waits;
//   - Always: every verdict waits;
// for at most NODE_INSPECTION_GRACE_MS after the probe finished. A node that was not inspected in
// time, or whose pod failed or was refused, is named in the Node layer; it never fails the run.
import type { Diagnose, DiagnosisInput, Verdict } from '../diagnosis/verdict.ts';
import { NODE_INSPECTION_GRACE_MS, type NodeDiagnosticsMode, type NodeInspectionDecision } from '../probe/node-inspection.ts';
import type { NodeInspectionObservation } from '../probe/stage.ts';

export type NodeView = { kind: 'wait'; detail: string } | { kind: 'verdict'; verdict: Verdict };

export interface NodeViewInput {
  diagnose: Diagnose;
  /** The diagnosis input from the run's probe outputs alone. */
  base: DiagnosisInput;
  mode: NodeDiagnosticsMode;
  decision: NodeInspectionDecision;
  inspection?: NodeInspectionObservation;
  runStartMs: number;
  nowMs: number;
}

export const NodeViewNote = {
  OnlyOnFailure: 'the nodes are read only for a failing check (--node-diagnostics=OnFailure)',
  NotInTime: (node: string) => `node ${node} was not inspected: its inspection did not finish within ${NODE_INSPECTION_GRACE_MS / 1000} s of the probe`,
} as const;

export async function diagnoseWithNodeView(input: NodeViewInput): Promise<NodeView> {
  const { diagnose, base, decision, inspection } = input;
  if (decision.kind === 'skipped') return verdict(await diagnose(withNotes(base, [decision.note])));
  if (decision.kind === 'off' || !inspection) return verdict(await diagnose(base));
  if (input.mode === 'OnFailure') {
    const podView = await diagnose(withNotes(base, [NodeViewNote.OnlyOnFailure]));
    if (podView.result === 'Healthy') return verdict(podView);
  }
  const waitUntil = (inspection.probesFinishedAt ?? input.runStartMs) + NODE_INSPECTION_GRACE_MS;
  if (inspection.pending.length > 0 && input.nowMs < waitUntil) {
    return { kind: 'wait', detail: `waiting for the node inspection of ${inspection.pending.join(', ')}` };
  }
  const notes = [...inspection.failed, ...inspection.pending.map(NodeViewNote.NotInTime)];
  return verdict(await diagnose(withNotes({ ...base, outputs: [...base.outputs, ...inspection.outputs] }, notes)));
}

function withNotes(input: DiagnosisInput, notes: string[]): DiagnosisInput {
  return notes.length ? { ...input, nodeInspection: { notes } } : input;
}

function verdict(value: Verdict): NodeView {
  return { kind: 'verdict', verdict: value };
}
