// Which pods a podSelector or workload source probes from (pure): the running ones, by name, one
// per node with spread: EveryNode; and label selector matching that never throws.
import type { V1LabelSelector, V1Pod } from '@kubernetes/client-node';
import { Reason } from '../api/conditions.ts';
import { isProbePod, type ResolvedSpec } from '../api/defaults.ts';
import { matchesLabelSelector } from '../diagnosis/labels.ts';

export type SourceSelection = { kind: 'ok'; pods: V1Pod[] } | { kind: 'stalled'; reason: string; message: string };

/** The source pods of a podSelector or workload source, or why the check is stalled. */
export function selectSourcePods(pods: V1Pod[], namespace: string, spec: ResolvedSpec): SourceSelection {
  const source = spec.source;
  const all = pods.filter((pod) => !isProbePod(pod));
  let candidates: V1Pod[];
  let what: string;
  if (source.podSelector) {
    candidates = all.filter((pod) => selectorMatches(source.podSelector!, pod.metadata?.labels ?? {}));
    what = `pods matching ${JSON.stringify(source.podSelector)} in namespace ${namespace}`;
  } else {
    const workload = source.workload!;
    candidates = all.filter((pod) => ownedByWorkload(pod, workload.kind, workload.name));
    what = `pods of ${workload.kind} ${namespace}/${workload.name}`;
  }
  if (candidates.length === 0) {
    return { kind: 'stalled', reason: Reason.SourceNotFound, message: `spec.source: found no ${what}.` };
  }
  const running = candidates.filter((pod) => pod.status?.phase === 'Running' && pod.status?.podIP)
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  if (running.length === 0) {
    return { kind: 'stalled', reason: Reason.SourceNotReady, message: `spec.source: none of the ${candidates.length} ${what} is Running.` };
  }
  if (source.spread !== 'EveryNode') return { kind: 'ok', pods: [running[0]!] };
  const byNode = new Map<string, V1Pod>();
  for (const pod of running) if (!byNode.has(pod.spec?.nodeName ?? '')) byNode.set(pod.spec?.nodeName ?? '', pod);
  return { kind: 'ok', pods: [...byNode.values()] };
}

function ownedByWorkload(pod: V1Pod, kind: string, name: string): boolean {
  const owners = pod.metadata?.ownerReferences ?? [];
  if (kind === 'Deployment') {
    // Deployment -> ReplicaSet <name>-<hash> -> pod; the hash is the pod's pod-template-hash label.
    const hash = pod.metadata?.labels?.['pod-template-hash'];
    return owners.some((o) => o.kind === 'ReplicaSet' && hash !== undefined && o.name === `${name}-${hash}`);
  }
  return owners.some((o) => o.kind === kind && o.name === name);
}

/** Whether labels satisfy a selector; a malformed selector (the schema prevents most) selects nothing. */
export function selectorMatches(selector: V1LabelSelector, labels: Record<string, string>): boolean {
  try { return matchesLabelSelector(selector, labels); } catch { return false; }
}
