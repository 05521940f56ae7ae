// Pod Security: which level a check's probe pods need, and whether the namespace they are created
// in admits it. Decided before any pod exists, from the namespace's enforce label, so that a check
// that needs a capability the namespace forbids is Stalled with the reason instead of leaving a
// refused or pending pod behind a "Running" check.
//
// The levels (https://kubernetes.io/docs/concepts/security/pod-security-standards/):
//   restricted  every probe pod except the two below: non-root, no capabilities, RuntimeDefault
//               seccomp; ICMP through the safe sysctl net.ipv4.ping_group_range;
//   privileged  packet capture: tcpdump needs NET_RAW (which baseline does not allow either) as
//               root, plus SETUID/SETGID for its user switch; node probes: hostNetwork, NET_ADMIN.
import type { V1Namespace } from '@kubernetes/client-node';
import type { ResolvedSpec } from '../api/defaults.ts';
import type { Refusal } from './policy.ts';
import { CAPTURE_ROOT_CAPABILITIES } from './security.ts';

export const ENFORCE_LABEL = 'pod-security.kubernetes.io/enforce';
export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';
const RANK: Record<PodSecurityLevel, number> = { privileged: 0, baseline: 1, restricted: 2 };

export const PodSecurityReason = {
  CaptureForbiddenByPodSecurity: 'CaptureForbiddenByPodSecurity',
  NodeProbeForbiddenByPodSecurity: 'NodeProbeForbiddenByPodSecurity',
} as const;

/**
 * The level a namespace enforces. No label: the cluster's default, privileged unless the admin
 * configured another one (which this operator cannot read; admission then has the last word). A
 * label value that is not a level is enforced as restricted by Pod Security admission, so here too.
 */
export function enforcedLevel(namespace: V1Namespace | undefined): PodSecurityLevel {
  const value = namespace?.metadata?.labels?.[ENFORCE_LABEL];
  if (value === undefined) return 'privileged';
  return value in RANK ? (value as PodSecurityLevel) : 'restricted';
}

export function admits(enforced: PodSecurityLevel, needed: PodSecurityLevel): boolean {
  return RANK[needed] >= RANK[enforced];
}

/**
 * Pure: why Pod Security admission would refuse this check's pods, or undefined. `checkNamespace`
 * holds tenant probe pods, ephemeral probes and destination captures; node probes run in the
 * operator's namespace.
 */
export function podSecurityRefusal(spec: ResolvedSpec, checkNamespace: V1Namespace | undefined, operatorNamespace: V1Namespace | undefined): Refusal | undefined {
  if (spec.source.node) {
    const level = enforcedLevel(operatorNamespace);
    if (!admits(level, 'privileged')) {
      const name = operatorNamespace?.metadata?.name ?? 'the operator namespace';
      return {
        reason: PodSecurityReason.NodeProbeForbiddenByPodSecurity,
        message: `spec.source.node: node probes run in namespace ${name}, which enforces Pod Security "${level}" (${ENFORCE_LABEL}); a node probe needs hostNetwork and the NET_ADMIN and NET_RAW capabilities, which only "privileged" allows. Ask a cluster admin to label ${name} ${ENFORCE_LABEL}=privileged, or probe from a pod.`,
      };
    }
  }
  if ((spec.capture?.when ?? 'Never') === 'Never') return undefined;
  // A node capture runs in the node probe (checked above); every other capture in the check's namespace.
  if (spec.source.node && !spec.capture?.destination) return undefined;
  const level = enforcedLevel(checkNamespace);
  if (admits(level, 'privileged')) return undefined;
  const name = checkNamespace?.metadata?.name ?? '';
  return {
    reason: PodSecurityReason.CaptureForbiddenByPodSecurity,
    message: `spec.capture: namespace ${name} enforces Pod Security "${level}" (${ENFORCE_LABEL}), which forbids the ${CAPTURE_ROOT_CAPABILITIES[0]} capability tcpdump needs (as root, with ${CAPTURE_ROOT_CAPABILITIES.slice(1).join(' and ')} for its user switch); only "privileged" allows it. Set spec.capture.when: Never to probe without a capture, or ask a cluster admin to label ${name} ${ENFORCE_LABEL}=privileged.`,
  };
}
