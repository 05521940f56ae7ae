// What a run may not do to the pods it touches, decided from the observed source pods and the
// namespace's Services before the run starts (pure). A probe must never:
//   - act inside a pod that shares the node's namespaces (via: Ephemeral into a hostNetwork or
//     hostPID pod would be a node probe that bypasses the node-source permission);
//   - pile ephemeral containers into a pod (Kubernetes never removes them, and each one keeps the
//     probe program in the pod object, which etcd caps at 1.5 MiB);
//   - receive a Service's traffic: a clone carries its source's labels, so every Service selecting
//     them selects the clone. Its readiness gate keeps it out of ready endpoints, but a Service with
//     publishNotReadyAddresses serves not-ready pods too (its DNS lists them), so a clone there is refused.
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import type { ResolvedSpec } from '../api/defaults.ts';
import type { Refusal } from './policy.ts';

/** The name prefix of every ephemeral container this operator adds. */
export const EPHEMERAL_CONTAINER_PREFIX = 'netcheck-';

export const GuardReason = {
  EphemeralIntoHostNamespace: 'EphemeralIntoHostNamespace',
  TooManyEphemeralContainers: 'TooManyEphemeralContainers',
  CloneServedByService: 'CloneServedByService',
} as const;

/** How many ephemeral containers this operator already added to a pod. */
export function netcheckEphemeralCount(pod: V1Pod): number {
  return (pod.spec?.ephemeralContainers ?? []).filter((c) => c.name.startsWith(EPHEMERAL_CONTAINER_PREFIX)).length;
}

/** The labels a clone of the source gets (the pod builder applies the same rule). */
export type CloneLabels = (source: V1Pod) => Record<string, string>;

export interface GuardInput {
  spec: ResolvedSpec;
  namespace: string;
  sourcePods: V1Pod[];
  /** The Services of the check's namespace. */
  services: V1Service[];
  cloneLabels: CloneLabels;
  /** At most this many netcheck ephemeral containers (probes and captures) per pod (ProbePolicy). */
  maxEphemeralPerPod: number;
}

export function runGuardRefusal(input: GuardInput): Refusal | undefined {
  const { spec } = input;
  if (spec.source.via === 'Ephemeral' && input.sourcePods.length > 0) return ephemeralRefusal(input.sourcePods, input.maxEphemeralPerPod);
  if (spec.source.node) return undefined;
  const labelSets = spec.source.newPod
    ? [{ of: 'the new probe pod', labels: spec.source.newPod.labels ?? {} }]
    : input.sourcePods.map((pod) => ({ of: `the clone of pod ${input.namespace}/${pod.metadata?.name}`, labels: input.cloneLabels(pod) }));
  for (const { of, labels } of labelSets) {
    const service = input.services.find((s) => s.spec?.publishNotReadyAddresses && selects(s, labels));
    if (!service) continue;
    const instead = spec.source.newPod ? 'give spec.source.newPod.labels that this Service does not select' : 'use spec.source.via: Ephemeral (the probe runs inside the source pod), or a newPod source with labels this Service does not select';
    return {
      reason: GuardReason.CloneServedByService,
      message: `spec.source: Service ${input.namespace}/${service.metadata?.name} selects ${of} and has publishNotReadyAddresses: true, so it would serve the probe pod to its clients even though the probe is never ready; ${instead}.`,
    };
  }
  return undefined;
}

function ephemeralRefusal(pods: V1Pod[], max: number): Refusal | undefined {
  for (const pod of pods) {
    const name = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    const shared = [pod.spec?.hostNetwork && 'hostNetwork', pod.spec?.hostPID && 'hostPID', pod.spec?.hostIPC && 'hostIPC'].filter(Boolean);
    if (shared.length) {
      return {
        reason: GuardReason.EphemeralIntoHostNamespace,
        message: `spec.source.via: pod ${name} shares the node's namespaces (${shared.join(', ')}); an ephemeral probe there would act on the node itself. Use via: Clone, or a node source from a namespace allowed to probe nodes.`,
      };
    }
    const count = netcheckEphemeralCount(pod);
    if (count >= max) {
      return {
        reason: GuardReason.TooManyEphemeralContainers,
        message: `spec.source.via: pod ${name} already holds ${count} ephemeral containers from this operator (at most ${max}); Kubernetes never removes them and each keeps the probe program in the pod object. Recreate the pod, or use via: Clone.`,
      };
    }
  }
  return undefined;
}

function selects(service: V1Service, labels: Record<string, string>): boolean {
  const selector = service.spec?.selector;
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}
